// f_hvp of a function whose result does not depend on its inputs: mismatched types (Dual<f64> vs f64).
use adjoint::differentiable;

#[differentiable]
fn inactive_result(a: f64, b: f64) -> f64 {
    let v: f64 = 0.5_f64;
    v.sin()
}

fn main() {
    println!("{:?}", inactive_result_hvp(1.0, 1.0, 1.0, 1.0));
}
