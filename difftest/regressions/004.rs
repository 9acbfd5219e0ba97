// A call with a constant argument initialising an annotated `let`: mismatched types (even without f_hvp).
// `g(x[0], 0.5)` as the tail, or `let v = g(x[0], 0.5);`, compile.
use adjoint::differentiable;

#[differentiable]
fn g(a: f64, b: f64) -> f64 {
    a * b
}

#[differentiable]
fn let_lit(x: &[f64]) -> f64 {
    let v: f64 = g(x[0], 0.5);
    v
}

fn main() {
    println!("{:?}", let_lit_grad(&[1.0]));
}
