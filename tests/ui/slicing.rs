use adjoint::differentiable;

#[differentiable]
fn f(x: &[f64]) -> f64 {
    let head = &x[1..3];
    head[0]
}

fn main() {}
