//! Found by the differential tester (seed 7, unit 132), shrunk by
//! `cargo run -p adjoint-difftest -- --seed 7 --shrink 132`:
//! wrong derivative: f_132 at x = [-1.5183257298255604, 1.8086944188822387, -0.6700335636411907, 0.5667394350047621, 1.7130315763874786, -0.13633310300646206, -1.1431655812730948, 1.9031214515940427, -1.1954546136680713]: gradient[1] = 1.372102191139106e3 but finite differences give 2.8096407286113168e-2 (gradient [-2633.1495927883943, 1372.102191139106, -1822.13168137338, 2417.3640520414883, 1534.1008749514547, -2879.6672436265185, -1827.4864451159906, 1066.7770548771214, 676.9950979799879])
#![allow(warnings, clippy::all, clippy::pedantic)]

#[rustfmt::skip]
mod generated {
use adjoint::differentiable;
use adjoint_difftest::checker_rt as check;
use nalgebra::{DMatrix, DVector};

#[differentiable]
fn f_132(x: &DVector<f64>, m: &DMatrix<f64>) -> f64 {
    let mut vec1: DVector<f64> = (m * x);
    for i6 in 0..=x.len() - 1 {
        let mut vec7: DVector<f64> = (&vec1 + &vec1).component_mul(&vec1);
        vec1[0] += vec7.map(|t| t.sin() * t).sum();
    }
    let mut vec8: DVector<f64> = vec1.component_mul(&vec1).zip_map(&vec1, |p, q| (p - q).atan());
    vec8.sum()
}

pub fn check_into(c: &mut check::Checker) {
    { let lx = |p: &[f64]| DVector::from_column_slice(&p[..3]); let lm = |p: &[f64]| DMatrix::from_column_slice(2, 3, &p[3..]); let store = |b: &mut [f64], bx: &DVector<f64>, bm: &DMatrix<f64>| { b[..3].copy_from_slice(bx.as_slice()); b[3..].copy_from_slice(bm.as_slice()); }; c.check("f_132", 9, &check::Forms { f: &|p| f_132(&lx(p), &lm(p)), grad: &|p| { let (v, (gx, gm)) = f_132_grad(&lx(p), &lm(p)); (v, gx.iter().chain(gm.iter()).copied().collect()) }, jvp: &|p, d| f_132_jvp(&lx(p), &lx(d), &lm(p), &lm(d)), vjp: &|p, z, b| { let (mut bx, mut bm) = (lx(b), lm(b)); let v = f_132_vjp(&lx(p), &lm(p), z, &mut bx, &mut bm); store(b, &bx, &bm); v }, grad_into: &|p, b| { let (mut bx, mut bm) = (lx(b), lm(b)); let v = f_132_grad_into(&lx(p), &lm(p), &mut bx, &mut bm); store(b, &bx, &bm); v }, hvp: &|p, d| { let (v, (gx, gm), (hx, hm)) = f_132_hvp(&lx(p), &lx(d), &lm(p), &lm(d)); (v, gx.iter().chain(gm.iter()).copied().collect(), hx.iter().chain(hm.iter()).copied().collect()) } }); }
}
}

#[test]
fn passes_the_checks() {
    adjoint_difftest::assert_passes(generated::check_into);
}
