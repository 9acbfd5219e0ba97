// Found by the differential tester (seed 1, unit 19), shrunk by
// `cargo run -p adjoint-difftest -- --seed 1 --shrink 19`:
// does not compile: error[E0596]: cannot borrow `vec18` as mutable, as it is not declared as mutable
use adjoint::differentiable;
use nalgebra::{DMatrix, DVector};

#[differentiable]
fn f_19(x: &DVector<f64>, m: &DMatrix<f64>) -> f64 {
    let mut vec12: DVector<f64> = (m * x);
    let mut vec18: DVector<f64> = vec12.map(|t| t.sin() * t);
    vec18[0] -= x[0];
    x[0]
}

fn main() {
    let x = DVector::from_fn(1, |i, _| 0.5 - 0.3 * i as f64);
    let m = DMatrix::from_fn(1, 1, |i, j| 0.2 * i as f64 - 0.4 * j as f64 + 0.1);
    println!("{:?}", f_19_grad(&x, &m));
}
