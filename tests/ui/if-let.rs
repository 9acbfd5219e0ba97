use adjoint::differentiable;

#[differentiable(wrt(x))]
fn f(x: f64, bias: Option<f64>) -> f64 {
    let mut y = x * x;
    if let Some(b) = bias {
        y += b;
    }
    y
}

fn main() {}
