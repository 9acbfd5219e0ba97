//! Found by the differential tester (seed 2, unit 80), shrunk by
//! `cargo run -p adjoint-difftest -- --seed 2 --shrink 80`:
//! wrong derivative: f_80 at x = [-0.8729855106437334, -1.3924226200256529, 0.03540218317743937, 0.25765417033760585, 0.1126071968392659, -0.44832169710150716]: f_hvp returns the gradient [NaN, NaN, NaN, NaN, NaN, NaN] but f_grad [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
#![allow(warnings, clippy::all, clippy::pedantic)]

#[rustfmt::skip]
mod generated {
use adjoint::differentiable;
use adjoint_difftest::checker_rt as check;
use nalgebra::{DMatrix, DVector};

#[differentiable]
fn f_80(x: &DVector<f64>, m: &DMatrix<f64>) -> f64 {
    (m * x).zip_map(&(m * x), |p, q| (p - q).atan()).norm()
}

pub fn check_into(c: &mut check::Checker) {
    { let lx = |p: &[f64]| DVector::from_column_slice(&p[..3]); let lm = |p: &[f64]| DMatrix::from_column_slice(1, 3, &p[3..]); let store = |b: &mut [f64], bx: &DVector<f64>, bm: &DMatrix<f64>| { b[..3].copy_from_slice(bx.as_slice()); b[3..].copy_from_slice(bm.as_slice()); }; c.check("f_80", 6, &check::Forms { f: &|p| f_80(&lx(p), &lm(p)), grad: &|p| { let (v, (gx, gm)) = f_80_grad(&lx(p), &lm(p)); (v, gx.iter().chain(gm.iter()).copied().collect()) }, jvp: &|p, d| f_80_jvp(&lx(p), &lx(d), &lm(p), &lm(d)), vjp: &|p, z, b| { let (mut bx, mut bm) = (lx(b), lm(b)); let v = f_80_vjp(&lx(p), &lm(p), z, &mut bx, &mut bm); store(b, &bx, &bm); v }, grad_into: &|p, b| { let (mut bx, mut bm) = (lx(b), lm(b)); let v = f_80_grad_into(&lx(p), &lm(p), &mut bx, &mut bm); store(b, &bx, &bm); v }, hvp: &|p, d| { let (v, (gx, gm), (hx, hm)) = f_80_hvp(&lx(p), &lx(d), &lm(p), &lm(d)); (v, gx.iter().chain(gm.iter()).copied().collect(), hx.iter().chain(hm.iter()).copied().collect()) } }); }
}
}

#[test]
fn passes_the_checks() {
    adjoint_difftest::assert_passes(generated::check_into);
}
