//! Found by the differential tester (seed 2, unit 1186), shrunk by
//! `cargo run -p adjoint-difftest -- --seed 2 --shrink 1186`:
//! wrong derivative: g_1186_1 at x = [1.3403941746250245, 1.1237778584798912]: JVP along [-0.9803159781123907, 0.684735628377023] = NaN but ∇f·v = 0e0
#![allow(warnings, clippy::all, clippy::pedantic)]

#[rustfmt::skip]
mod generated {
use adjoint::differentiable;
use adjoint_difftest::checker_rt as check;

#[differentiable]
fn g_1186_0(a: f64, b: f64) -> f64 {
    let mut v6 = b.ln_1p().asinh();
    v6
}

#[differentiable]
fn g_1186_1(a: f64, b: f64) -> f64 {
    let (p1, q2): (f64, f64) = (a, g_1186_0(b, (-1.6_f64)).min(1.0_f64));
    q2
}

#[differentiable]
fn f_1186(x: &[f64]) -> f64 {
    let mut v9 = g_1186_1(1.0_f64, 0.3_f64);
    let mut v29 = x[0];
    v29
}

pub fn check_into(c: &mut check::Checker) {
    c.check("g_1186_0", 2, &check::Forms { f: &|p| g_1186_0(p[0], p[1]), grad: &|p| { let (v, (ga, gb)) = g_1186_0_grad(p[0], p[1]); (v, vec![ga, gb]) }, jvp: &|p, d| g_1186_0_jvp(p[0], d[0], p[1], d[1]), vjp: &|p, z, b| { let (b0, b1) = b.split_at_mut(1); g_1186_0_vjp(p[0], p[1], z, &mut b0[0], &mut b1[0]) }, grad_into: &|p, b| { let (b0, b1) = b.split_at_mut(1); g_1186_0_grad_into(p[0], p[1], &mut b0[0], &mut b1[0]) }, hvp: &|p, d| { let (v, (ga, gb), (ha, hb)) = g_1186_0_hvp(p[0], d[0], p[1], d[1]); (v, vec![ga, gb], vec![ha, hb]) } });
    c.check("g_1186_1", 2, &check::Forms { f: &|p| g_1186_1(p[0], p[1]), grad: &|p| { let (v, (ga, gb)) = g_1186_1_grad(p[0], p[1]); (v, vec![ga, gb]) }, jvp: &|p, d| g_1186_1_jvp(p[0], d[0], p[1], d[1]), vjp: &|p, z, b| { let (b0, b1) = b.split_at_mut(1); g_1186_1_vjp(p[0], p[1], z, &mut b0[0], &mut b1[0]) }, grad_into: &|p, b| { let (b0, b1) = b.split_at_mut(1); g_1186_1_grad_into(p[0], p[1], &mut b0[0], &mut b1[0]) }, hvp: &check::no_hvp });
    c.check("f_1186", 1, &check::Forms { f: &|x| f_1186(x), grad: &|x| f_1186_grad(x), jvp: &|x, v| f_1186_jvp(x, v), vjp: &|x, z, b| f_1186_vjp(x, z, b), grad_into: &|x, b| f_1186_grad_into(x, b), hvp: &check::no_hvp });
}
}

#[test]
fn passes_the_checks() {
    adjoint_difftest::assert_passes(generated::check_into);
}
