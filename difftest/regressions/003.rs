//! Reduced by hand from a unit the differential tester found (before the shrinker existed):
//! An if-expression with a constant branch inside a condition: `if` and `else` have incompatible types.
#![allow(warnings, clippy::all, clippy::pedantic)]

#[rustfmt::skip]
mod generated {
use adjoint::differentiable;
use adjoint_difftest::checker_rt as check;

#[differentiable]
fn if_expr_in_cond(x: &[f64]) -> f64 {
    let mut s: f64 = x[1];
    if (if x[0] > 0.0_f64 { x[1] } else { 0.4_f64 }) > 0.9_f64 {
        s += 1.0;
    }
    s
}

pub fn check_into(c: &mut check::Checker) {
    c.check("if_expr_in_cond", 2, &check::Forms { f: &|x| if_expr_in_cond(x), grad: &|x| if_expr_in_cond_grad(x), jvp: &|x, v| if_expr_in_cond_jvp(x, v), vjp: &|x, z, b| if_expr_in_cond_vjp(x, z, b), grad_into: &|x, b| if_expr_in_cond_grad_into(x, b), hvp: &|x, v| if_expr_in_cond_hvp(x, v) });
}
}

#[test]
fn passes_the_checks() {
    adjoint_difftest::assert_passes(generated::check_into);
}
