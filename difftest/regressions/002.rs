// f_hvp with a tuple component computed by a float method of a constant: mismatched types.
use adjoint::differentiable;

#[differentiable]
fn tuple_method_const(x: &[f64]) -> f64 {
    let t: (f64, f64) = (0.5_f64.sin(), x[0]);
    t.1
}

fn main() {
    println!("{:?}", tuple_method_const_hvp(&[1.0], &[1.0]));
}
