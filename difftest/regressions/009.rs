//! Found by the differential tester (seed 2, unit 2227), shrunk by
//! `cargo run -p adjoint-difftest -- --seed 2 --shrink 2227`:
//! wrong derivative: f_2227 at x = [1.3403941746250245, 1.1237778584798912]: gradient[0] = 6.820549172136339e0 but finite differences give 3.820549172136964e0 (gradient [6.820549172136339, 0.0])
#![allow(warnings, clippy::all, clippy::pedantic)]

#[rustfmt::skip]
mod generated {
use adjoint::differentiable;
use adjoint_difftest::checker_rt as check;
use nalgebra::{DMatrix, DVector};

#[differentiable]
fn f_2227(x: &DVector<f64>, m: &DMatrix<f64>) -> f64 {
    let mut v1 = x[0].exp();
    let mut k4: usize = 0;
    loop {
        if k4 >= 1 { break; }
        k4 += 1;
        v1 += 1.0_f64;
    }
    v1
}

pub fn check_into(c: &mut check::Checker) {
    { let lx = |p: &[f64]| DVector::from_column_slice(&p[..1]); let lm = |p: &[f64]| DMatrix::from_column_slice(1, 1, &p[1..]); let store = |b: &mut [f64], bx: &DVector<f64>, bm: &DMatrix<f64>| { b[..1].copy_from_slice(bx.as_slice()); b[1..].copy_from_slice(bm.as_slice()); }; c.check("f_2227", 2, &check::Forms { f: &|p| f_2227(&lx(p), &lm(p)), grad: &|p| { let (v, (gx, gm)) = f_2227_grad(&lx(p), &lm(p)); (v, gx.iter().chain(gm.iter()).copied().collect()) }, jvp: &|p, d| f_2227_jvp(&lx(p), &lx(d), &lm(p), &lm(d)), vjp: &|p, z, b| { let (mut bx, mut bm) = (lx(b), lm(b)); let v = f_2227_vjp(&lx(p), &lm(p), z, &mut bx, &mut bm); store(b, &bx, &bm); v }, grad_into: &|p, b| { let (mut bx, mut bm) = (lx(b), lm(b)); let v = f_2227_grad_into(&lx(p), &lm(p), &mut bx, &mut bm); store(b, &bx, &bm); v }, hvp: &|p, d| { let (v, (gx, gm), (hx, hm)) = f_2227_hvp(&lx(p), &lx(d), &lm(p), &lm(d)); (v, gx.iter().chain(gm.iter()).copied().collect(), hx.iter().chain(hm.iter()).copied().collect()) } }); }
}
}

#[test]
fn passes_the_checks() {
    adjoint_difftest::assert_passes(generated::check_into);
}
