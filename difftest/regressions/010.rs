//! Found by the differential tester (seed 2, unit 6958), shrunk by
//! `cargo run -p adjoint-difftest -- --seed 2 --shrink 6958`:
//! does not compile: error: closures are not supported here; write a `for` loop or a #[differentiable] fn
#![allow(warnings, clippy::all, clippy::pedantic)]

#[rustfmt::skip]
mod generated {
use adjoint::differentiable;
use adjoint_difftest::checker_rt as check;
use nalgebra::{DMatrix, DVector};

#[differentiable]
fn f_6958(x: &DVector<f64>, m: &DMatrix<f64>) -> f64 {
    let mut v28 = (m * x).zip_map(&(m * x), |p, q| p * q.tanh()).norm().signum();
    x[0]
}

pub fn check_into(c: &mut check::Checker) {
    { let lx = |p: &[f64]| DVector::from_column_slice(&p[..1]); let lm = |p: &[f64]| DMatrix::from_column_slice(1, 1, &p[1..]); let store = |b: &mut [f64], bx: &DVector<f64>, bm: &DMatrix<f64>| { b[..1].copy_from_slice(bx.as_slice()); b[1..].copy_from_slice(bm.as_slice()); }; c.check("f_6958", 2, &check::Forms { f: &|p| f_6958(&lx(p), &lm(p)), grad: &|p| { let (v, (gx, gm)) = f_6958_grad(&lx(p), &lm(p)); (v, gx.iter().chain(gm.iter()).copied().collect()) }, jvp: &|p, d| f_6958_jvp(&lx(p), &lx(d), &lm(p), &lm(d)), vjp: &|p, z, b| { let (mut bx, mut bm) = (lx(b), lm(b)); let v = f_6958_vjp(&lx(p), &lm(p), z, &mut bx, &mut bm); store(b, &bx, &bm); v }, grad_into: &|p, b| { let (mut bx, mut bm) = (lx(b), lm(b)); let v = f_6958_grad_into(&lx(p), &lm(p), &mut bx, &mut bm); store(b, &bx, &bm); v }, hvp: &|p, d| { let (v, (gx, gm), (hx, hm)) = f_6958_hvp(&lx(p), &lx(d), &lm(p), &lm(d)); (v, gx.iter().chain(gm.iter()).copied().collect(), hx.iter().chain(hm.iter()).copied().collect()) } }); }
}
}

#[test]
fn passes_the_checks() {
    adjoint_difftest::assert_passes(generated::check_into);
}
