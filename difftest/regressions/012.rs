//! Found by the differential tester (seed 8, unit 8733), shrunk by
//! `cargo run -p adjoint-difftest -- --seed 8 --shrink 8733`:
//! wrong derivative: f_8733 at x = [-0.9348311419641901, -0.6275006842938806, 1.75240011644164, -0.42282455845837363, 0.4980902574273367]: (H·v)[0] = 2.9515133164906765e-1 but finite differences of the gradient give 0e0 (v = [-0.27403282558252195, -0.6211139323596411, -0.39484006682215633, -0.5928679214141361, -0.9161186091222291], H·v = [0.29515133164906765, -0.0, -0.0, -0.0, -0.0])
#![allow(warnings, clippy::all, clippy::pedantic)]

#[rustfmt::skip]
mod generated {
use adjoint::differentiable;
use adjoint_difftest::checker_rt as check;

#[differentiable]
fn g_8733_1(a: f64, b: f64) -> f64 {
    ((a - b) + b)
}

#[differentiable]
fn f_8733(x: &[f64]) -> f64 {
    let t3: (f64, f64) = (x[0].sinh(), x[0]);
    for i4 in 0..=4 {
        if g_8733_1(x[(i4 * 3) % x.len()], (-0.3_f64)) > x[(i4 * 3) % x.len()] { return t3.0; }
    }
    x[0]
}

pub fn check_into(c: &mut check::Checker) {
    c.check("g_8733_1", 2, &check::Forms { f: &|p| g_8733_1(p[0], p[1]), grad: &|p| { let (v, (ga, gb)) = g_8733_1_grad(p[0], p[1]); (v, vec![ga, gb]) }, jvp: &|p, d| g_8733_1_jvp(p[0], d[0], p[1], d[1]), vjp: &|p, z, b| { let (b0, b1) = b.split_at_mut(1); g_8733_1_vjp(p[0], p[1], z, &mut b0[0], &mut b1[0]) }, grad_into: &|p, b| { let (b0, b1) = b.split_at_mut(1); g_8733_1_grad_into(p[0], p[1], &mut b0[0], &mut b1[0]) }, hvp: &|p, d| { let (v, (ga, gb), (ha, hb)) = g_8733_1_hvp(p[0], d[0], p[1], d[1]); (v, vec![ga, gb], vec![ha, hb]) } });
    c.check("f_8733", 5, &check::Forms { f: &|x| f_8733(x), grad: &|x| f_8733_grad(x), jvp: &|x, v| f_8733_jvp(x, v), vjp: &|x, z, b| f_8733_vjp(x, z, b), grad_into: &|x, b| f_8733_grad_into(x, b), hvp: &|x, v| f_8733_hvp(x, v) });
}
}

#[test]
fn passes_the_checks() {
    adjoint_difftest::assert_passes(generated::check_into);
}
