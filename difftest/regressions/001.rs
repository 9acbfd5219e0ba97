//! Reduced by hand from a unit the differential tester found (before the shrinker existed):
//! f_hvp of a function whose result does not depend on its inputs: mismatched types (Dual<f64> vs f64).
#![allow(warnings, clippy::all, clippy::pedantic)]

#[rustfmt::skip]
mod generated {
use adjoint::differentiable;
use adjoint_difftest::checker_rt as check;

#[differentiable]
fn inactive_result(a: f64, b: f64) -> f64 {
    let v: f64 = 0.5_f64;
    v.sin()
}

pub fn check_into(c: &mut check::Checker) {
    c.check("inactive_result", 2, &check::Forms { f: &|p| inactive_result(p[0], p[1]), grad: &|p| { let (v, (ga, gb)) = inactive_result_grad(p[0], p[1]); (v, vec![ga, gb]) }, jvp: &|p, d| inactive_result_jvp(p[0], d[0], p[1], d[1]), vjp: &|p, z, b| { let (b0, b1) = b.split_at_mut(1); inactive_result_vjp(p[0], p[1], z, &mut b0[0], &mut b1[0]) }, grad_into: &|p, b| { let (b0, b1) = b.split_at_mut(1); inactive_result_grad_into(p[0], p[1], &mut b0[0], &mut b1[0]) }, hvp: &|p, d| { let (v, (ga, gb), (ha, hb)) = inactive_result_hvp(p[0], d[0], p[1], d[1]); (v, vec![ga, gb], vec![ha, hb]) } });
}
}

#[test]
fn passes_the_checks() {
    adjoint_difftest::assert_passes(generated::check_into);
}
