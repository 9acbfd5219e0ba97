use adjoint::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let mut y = x;
    let r = &mut y;
    *r * x
}

fn main() {}
