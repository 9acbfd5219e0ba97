//! Found by the differential tester (seed 1, unit 19), shrunk by
//! `cargo run -p adjoint-difftest -- --seed 1 --shrink 19`:
//! does not compile: error[E0596]: cannot borrow `vec18` as mutable, as it is not declared as mutable
#![allow(warnings, clippy::all, clippy::pedantic)]

#[rustfmt::skip]
mod generated {
use adjoint::differentiable;
use adjoint_difftest::checker_rt as check;
use nalgebra::{DMatrix, DVector};

#[differentiable]
fn f_19(x: &DVector<f64>, m: &DMatrix<f64>) -> f64 {
    let mut vec12: DVector<f64> = (m * x);
    let mut vec18: DVector<f64> = vec12.map(|t| t.sin() * t);
    vec18[0] -= x[0];
    x[0]
}

pub fn check_into(c: &mut check::Checker) {
    { let lx = |p: &[f64]| DVector::from_column_slice(&p[..1]); let lm = |p: &[f64]| DMatrix::from_column_slice(1, 1, &p[1..]); let store = |b: &mut [f64], bx: &DVector<f64>, bm: &DMatrix<f64>| { b[..1].copy_from_slice(bx.as_slice()); b[1..].copy_from_slice(bm.as_slice()); }; c.check("f_19", 2, &check::Forms { f: &|p| f_19(&lx(p), &lm(p)), grad: &|p| { let (v, (gx, gm)) = f_19_grad(&lx(p), &lm(p)); (v, gx.iter().chain(gm.iter()).copied().collect()) }, jvp: &|p, d| f_19_jvp(&lx(p), &lx(d), &lm(p), &lm(d)), vjp: &|p, z, b| { let (mut bx, mut bm) = (lx(b), lm(b)); let v = f_19_vjp(&lx(p), &lm(p), z, &mut bx, &mut bm); store(b, &bx, &bm); v }, grad_into: &|p, b| { let (mut bx, mut bm) = (lx(b), lm(b)); let v = f_19_grad_into(&lx(p), &lm(p), &mut bx, &mut bm); store(b, &bx, &bm); v }, hvp: &|p, d| { let (v, (gx, gm), (hx, hm)) = f_19_hvp(&lx(p), &lx(d), &lm(p), &lm(d)); (v, gx.iter().chain(gm.iter()).copied().collect(), hx.iter().chain(hm.iter()).copied().collect()) } }); }
}
}

#[test]
fn passes_the_checks() {
    adjoint_difftest::assert_passes(generated::check_into);
}
