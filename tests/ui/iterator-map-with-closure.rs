use adjoint::differentiable;

#[differentiable]
fn f(x: &[f64]) -> f64 {
    let squares: Vec<f64> = x.iter().map(|v| v * v).collect();
    squares[0]
}

fn main() {}
