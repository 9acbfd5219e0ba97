use adjoint::differentiable;

#[differentiable]
fn f(x: &[f64]) -> f64 {
    x.to_vec()[0] * 2.0
}

fn main() {}
