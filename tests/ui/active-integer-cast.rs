use adjoint::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let n = x as usize;
    x * n as f64
}

fn main() {}
