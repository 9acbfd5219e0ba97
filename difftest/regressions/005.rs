// A float method in associated-function form (`f64::log10(e)`) of a differentiated value inside a
// condition: mismatched types (expected f64, found Dual<f64>) in f_hvp.
// Not avoided by the generator: such units are set aside as compile failures.
use adjoint::differentiable;

#[differentiable]
fn assoc_in_cond(a: f64, b: f64) -> f64 {
    let mut s = a;
    if f64::log10(0.5_f64 + b * b) < 1.4_f64 {
        s += b;
    }
    s
}

fn main() {
    println!("{:?}", assoc_in_cond_hvp(1.0, 1.0, 1.0, 1.0));
}
