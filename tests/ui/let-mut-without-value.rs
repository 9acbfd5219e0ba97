use adjoint::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let mut y;
    y = x * x;
    if y > 1.0 {
        y = 1.0;
    }
    y
}

fn main() {}
