use adjoint::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let r = 0..3;
    x * r.len() as f64
}

fn main() {}
