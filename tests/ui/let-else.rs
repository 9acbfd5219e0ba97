use adjoint::differentiable;

#[differentiable(wrt(x))]
fn f(x: f64, bias: Option<f64>) -> f64 {
    let Some(b) = bias else { return x };
    x + b
}

fn main() {}
