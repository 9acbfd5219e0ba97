use adjoint::differentiable;
use nalgebra::DVector;

// A product whose operand types have no derivative rule (a column vector times a column vector).
#[differentiable]
fn f(x: &DVector<f64>) -> f64 {
    let y = x * x;
    y.sum()
}

fn main() {}
