// Found by the differential tester (seed 2, unit 6958), shrunk by
// `cargo run -p adjoint-difftest -- --seed 2 --shrink 6958`:
// does not compile: error: closures are not supported here; write a `for` loop or a #[differentiable] fn
use adjoint::differentiable;
use nalgebra::{DMatrix, DVector};

#[differentiable]
fn f_6958(x: &DVector<f64>, m: &DMatrix<f64>) -> f64 {
    let mut v28 = (m * x).zip_map(&(m * x), |p, q| p * q.tanh()).norm().signum();
    x[0]
}

fn main() {
    let x = DVector::from_fn(1, |i, _| 0.5 - 0.3 * i as f64);
    let m = DMatrix::from_fn(1, 1, |i, j| 0.2 * i as f64 - 0.4 * j as f64 + 0.1);
    println!("{:?}", f_6958_grad(&x, &m));
}
