//! Reduced by hand from a unit the differential tester found (before the shrinker existed):
//! A call with a constant argument initialising an annotated `let`: mismatched types (even without f_hvp).
//! `g(x[0], 0.5)` as the tail, or `let v = g(x[0], 0.5);`, compile.
#![allow(warnings, clippy::all, clippy::pedantic)]

#[rustfmt::skip]
mod generated {
use adjoint::differentiable;
use adjoint_difftest::checker_rt as check;

#[differentiable]
fn g(a: f64, b: f64) -> f64 {
    a * b
}

#[differentiable]
fn let_lit(x: &[f64]) -> f64 {
    let v: f64 = g(x[0], 0.5);
    v
}

pub fn check_into(c: &mut check::Checker) {
    c.check("g", 2, &check::Forms { f: &|p| g(p[0], p[1]), grad: &|p| { let (v, (ga, gb)) = g_grad(p[0], p[1]); (v, vec![ga, gb]) }, jvp: &|p, d| g_jvp(p[0], d[0], p[1], d[1]), vjp: &|p, z, b| { let (b0, b1) = b.split_at_mut(1); g_vjp(p[0], p[1], z, &mut b0[0], &mut b1[0]) }, grad_into: &|p, b| { let (b0, b1) = b.split_at_mut(1); g_grad_into(p[0], p[1], &mut b0[0], &mut b1[0]) }, hvp: &|p, d| { let (v, (ga, gb), (ha, hb)) = g_hvp(p[0], d[0], p[1], d[1]); (v, vec![ga, gb], vec![ha, hb]) } });
    c.check("let_lit", 1, &check::Forms { f: &|x| let_lit(x), grad: &|x| let_lit_grad(x), jvp: &|x, v| let_lit_jvp(x, v), vjp: &|x, z, b| let_lit_vjp(x, z, b), grad_into: &|x, b| let_lit_grad_into(x, b), hvp: &|x, v| let_lit_hvp(x, v) });
}
}

#[test]
fn passes_the_checks() {
    adjoint_difftest::assert_passes(generated::check_into);
}
