// An if-expression with a constant branch inside a condition: `if` and `else` have incompatible types.
use adjoint::differentiable;

#[differentiable]
fn if_expr_in_cond(x: &[f64]) -> f64 {
    let mut s: f64 = x[1];
    if (if x[0] > 0.0_f64 { x[1] } else { 0.4_f64 }) > 0.9_f64 {
        s += 1.0;
    }
    s
}

fn main() {
    println!("{:?}", if_expr_in_cond_hvp(&[1.0, 2.0], &[1.0, 1.0]));
}
