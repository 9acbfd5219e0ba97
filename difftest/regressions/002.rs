//! Reduced by hand from a unit the differential tester found (before the shrinker existed):
//! f_hvp with a tuple component computed by a float method of a constant: mismatched types.
#![allow(warnings, clippy::all, clippy::pedantic)]

#[rustfmt::skip]
mod generated {
use adjoint::differentiable;
use adjoint_difftest::checker_rt as check;

#[differentiable]
fn tuple_method_const(x: &[f64]) -> f64 {
    let t: (f64, f64) = (0.5_f64.sin(), x[0]);
    t.1
}

pub fn check_into(c: &mut check::Checker) {
    c.check("tuple_method_const", 1, &check::Forms { f: &|x| tuple_method_const(x), grad: &|x| tuple_method_const_grad(x), jvp: &|x, v| tuple_method_const_jvp(x, v), vjp: &|x, z, b| tuple_method_const_vjp(x, z, b), grad_into: &|x, b| tuple_method_const_grad_into(x, b), hvp: &check::no_hvp });
}
}

#[test]
fn passes_the_checks() {
    adjoint_difftest::assert_passes(generated::check_into);
}
