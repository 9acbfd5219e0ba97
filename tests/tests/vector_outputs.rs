//! Functions returning `Vec<f64>`, `[f64; N]` and tuples: Jacobians row by row through `f_vjp` and
//! column by column through `f_jvp`, both against finite differences, plus the dot-product test
//! `⟨J·v, w⟩ = ⟨v, Jᵀ·w⟩` and closed forms.

#[macro_use]
mod common;

use adjoint::differentiable;
use common::*;

#[track_caller]
fn assert_jacobian(jac: &[Vec<f64>], expected: &[Vec<f64>], what: &str) {
    assert_eq!(jac.len(), expected.len(), "{what}: number of rows");
    for (k, (row, e)) in jac.iter().zip(expected).enumerate() {
        assert_all_close(row, e, 1e-10, &format!("{what}, row {k}"));
    }
}

// ---------------------------------------------------------------------------------------------------
// Vec<f64>
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn softmax(x: &[f64]) -> Vec<f64> {
    let mut m = x[0];
    for &xi in x.iter() {
        m = m.max(xi);
    }
    let mut e = vec![0.0; x.len()];
    let mut z = 0.0;
    for i in 0..x.len() {
        e[i] = (x[i] - m).exp();
        z += e[i];
    }
    for i in 0..x.len() {
        e[i] /= z;
    }
    e
}

#[test]
fn softmax_jacobian() {
    let pts = points(400, 4, -2.0, 2.0);
    let jacs = check_vector(
        &Vector { f: &|x| softmax(x), jvp: &|x, v| softmax_jvp(x, v), vjp: &|x, w, g| softmax_vjp(x, w.to_vec(), g) },
        &pts,
    );
    for (x, jac) in pts.iter().zip(&jacs) {
        let s = softmax(x);
        let expected: Vec<Vec<f64>> =
            (0..4).map(|k| (0..4).map(|i| s[k] * (if i == k { 1.0 } else { 0.0 } - s[i])).collect()).collect();
        assert_jacobian(jac, &expected, "softmax");
    }
}

#[differentiable]
fn trajectory(p: &[f64]) -> Vec<f64> {
    // A damped oscillator stepped 200 times; every tenth position is an output.
    let (k, c) = (p[0], p[1]);
    let (mut x, mut v) = (1.0, p[2]);
    let mut out = vec![0.0; 20];
    let dt = 0.05;
    for step in 0..200 {
        let a = -k * x - c * v;
        v += dt * a;
        x += dt * v;
        if step % 10 == 9 {
            out[step / 10] = x;
        }
    }
    out
}

#[test]
fn trajectory_outputs_written_inside_a_loop() {
    let pts = points_in(401, 3, &[(0.5, 3.0), (0.05, 0.5), (-1.0, 1.0)]);
    check_vector(
        &Vector {
            f: &|p| trajectory(p),
            jvp: &|p, v| trajectory_jvp(p, v),
            vjp: &|p, w, g| trajectory_vjp(p, w.to_vec(), g),
        },
        &pts,
    );
}

#[differentiable]
fn scale_shift(x: &[f64], s: f64) -> Vec<f64> {
    let mut out = x.to_vec();
    for i in 0..out.len() {
        out[i] = out[i] * s + (i as f64) * s * s;
    }
    out
}

#[test]
fn vec_output_with_scalar_and_slice_inputs() {
    let pts = points(402, 4, -2.0, 2.0);
    let jacs = check_vector(
        &Vector {
            f: &|p| scale_shift(&p[..3], p[3]),
            jvp: &|p, d| scale_shift_jvp(&p[..3], &d[..3], p[3], d[3]),
            vjp: &|p, w, g| {
                let (gx, gs) = g.split_at_mut(3);
                scale_shift_vjp(&p[..3], p[3], w.to_vec(), gx, &mut gs[0])
            },
        },
        &pts,
    );
    for (p, jac) in pts.iter().zip(&jacs) {
        let s = p[3];
        let expected: Vec<Vec<f64>> = (0..3)
            .map(|k| {
                let mut row = vec![0.0; 4];
                row[k] = s;
                row[3] = p[k] + 2.0 * k as f64 * s;
                row
            })
            .collect();
        assert_jacobian(jac, &expected, "scale_shift");
    }
}

#[test]
fn vec_output_vjp_accumulates_and_matches_the_smoke_example() {
    let x = [0.5, 1.2, -0.3, 0.8];
    let mut xb = vec![1.0; 3];
    let mut sb = 0.5;
    scale_shift_vjp(&x[..3], 2.0, vec![1.0, 0.0, 2.0], &mut xb, &mut sb);
    // out = x·s + i·s²: ∂/∂x = s·w, ∂/∂s = Σ wᵢ (xᵢ + 2 i s).
    assert_eq!(xb, vec![1.0 + 2.0, 1.0, 1.0 + 4.0]);
    assert_close(sb, 0.5 + (0.5 + 0.0) + 2.0 * (-0.3 + 2.0 * 2.0 * 2.0), 1e-15, "∂/∂s");
}

// ---------------------------------------------------------------------------------------------------
// [f64; N]
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

#[test]
fn cross_product_jacobian() {
    let a3 = |p: &[f64]| [p[0], p[1], p[2]];
    let b3 = |p: &[f64]| [p[3], p[4], p[5]];
    let pts = points(403, 6, -2.0, 2.0);
    let jacs = check_vector(
        &Vector {
            f: &|p| cross(a3(p), b3(p)).to_vec(),
            jvp: &|p, d| {
                let (v, t) = cross_jvp(a3(p), a3(d), b3(p), b3(d));
                (v.to_vec(), t.to_vec())
            },
            vjp: &|p, w, g| {
                let (mut ga, mut gb) = (a3(g), b3(g));
                let v = cross_vjp(a3(p), b3(p), [w[0], w[1], w[2]], &mut ga, &mut gb);
                g[..3].copy_from_slice(&ga);
                g[3..].copy_from_slice(&gb);
                v.to_vec()
            },
        },
        &pts,
    );
    for (p, jac) in pts.iter().zip(&jacs) {
        // ∂(a×b)/∂a = −[b]ₓ, ∂(a×b)/∂b = [a]ₓ.
        let (a, b) = (a3(p), b3(p));
        let skew = |v: [f64; 3]| [[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]];
        let (sa, sb) = (skew(a), skew(b));
        let expected: Vec<Vec<f64>> =
            (0..3).map(|k| (0..3).map(|i| -sb[k][i]).chain((0..3).map(|i| sa[k][i])).collect()).collect();
        assert_jacobian(jac, &expected, "cross product");
    }
}

#[differentiable]
fn rotate_all(p: [f64; 4], angle: f64) -> [f64; 4] {
    let (c, s) = (angle.cos(), angle.sin());
    let mut out = [0.0; 4];
    for i in (0..4).step_by(2) {
        out[i] = c * p[i] - s * p[i + 1];
        out[i + 1] = s * p[i] + c * p[i + 1];
    }
    out
}

#[test]
fn array_output_built_in_a_loop() {
    let p4 = |p: &[f64]| [p[0], p[1], p[2], p[3]];
    let pts = points(404, 5, -2.0, 2.0);
    check_vector(
        &Vector {
            f: &|p| rotate_all(p4(p), p[4]).to_vec(),
            jvp: &|p, d| {
                let (v, t) = rotate_all_jvp(p4(p), p4(d), p[4], d[4]);
                (v.to_vec(), t.to_vec())
            },
            vjp: &|p, w, g| {
                let mut gp = p4(g);
                let mut ga = g[4];
                let v = rotate_all_vjp(p4(p), p[4], p4(w), &mut gp, &mut ga);
                g[..4].copy_from_slice(&gp);
                g[4] = ga;
                v.to_vec()
            },
        },
        &pts,
    );
}

// ---------------------------------------------------------------------------------------------------
// Tuples
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn to_polar(x: f64, y: f64) -> (f64, f64) {
    let r = (x * x + y * y).sqrt();
    (r, y.atan2(x))
}

#[test]
fn tuple_of_scalars_output() {
    let pts = points_in(405, POINTS, &[(0.2, 2.0), (-2.0, 2.0)]);
    let jacs = check_vector(
        &Vector {
            f: &|p| {
                let (r, t) = to_polar(p[0], p[1]);
                vec![r, t]
            },
            jvp: &|p, d| {
                let ((r, t), (dr, dt)) = to_polar_jvp(p[0], d[0], p[1], d[1]);
                (vec![r, t], vec![dr, dt])
            },
            vjp: &|p, w, g| {
                let (mut gx, mut gy) = (g[0], g[1]);
                let (r, t) = to_polar_vjp(p[0], p[1], (w[0], w[1]), &mut gx, &mut gy);
                g.copy_from_slice(&[gx, gy]);
                vec![r, t]
            },
        },
        &pts,
    );
    for (p, jac) in pts.iter().zip(&jacs) {
        let (x, y) = (p[0], p[1]);
        let r2 = x * x + y * y;
        let r = r2.sqrt();
        assert_jacobian(jac, &[vec![x / r, y / r], vec![-y / r2, x / r2]], "polar");
    }
}

#[differentiable]
fn moments(x: &[f64]) -> (f64, f64, f64) {
    let n = x.len() as f64;
    let mut mean = 0.0;
    for xi in x.iter() {
        mean += xi;
    }
    mean /= n;
    let mut var = 0.0;
    let mut big = x[0];
    for xi in x.iter() {
        var += (xi - mean).powi(2) / n;
        big = big.max(*xi);
    }
    (mean, var, big)
}

#[test]
fn tuple_of_three_statistics() {
    let pts = points(406, 5, -2.0, 2.0);
    let jacs = check_vector(
        &Vector {
            f: &|x| {
                let (a, b, c) = moments(x);
                vec![a, b, c]
            },
            jvp: &|x, v| {
                let ((a, b, c), (da, db, dc)) = moments_jvp(x, v);
                (vec![a, b, c], vec![da, db, dc])
            },
            vjp: &|x, w, g| {
                let (a, b, c) = moments_vjp(x, (w[0], w[1], w[2]), g);
                vec![a, b, c]
            },
        },
        &pts,
    );
    for (x, jac) in pts.iter().zip(&jacs) {
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let argmax = (0..x.len()).fold(0, |m, i| if x[i] > x[m] { i } else { m });
        let expected = vec![
            vec![1.0 / n; x.len()],
            x.iter().map(|xi| 2.0 * (xi - mean) / n).collect(),
            (0..x.len()).map(|i| if i == argmax { 1.0 } else { 0.0 }).collect(),
        ];
        assert_jacobian(jac, &expected, "moments");
    }
}

#[differentiable]
fn array_and_scalar(x: &[f64]) -> ([f64; 4], f64) {
    // (Tuples holding a `Vec<f64>` are covered in regressions.rs.)
    let mut v = [0.0; 4];
    let mut s = 0.0;
    for i in 0..x.len() {
        v[i] = x[i].sin() * s;
        s += x[i] * x[i];
    }
    (v, s.sqrt())
}

#[test]
fn tuple_of_array_and_scalar() {
    let pts = points(407, 4, -2.0, 2.0);
    check_vector(
        &Vector {
            f: &|x| {
                let (v, s) = array_and_scalar(x);
                [&v[..], &[s]].concat()
            },
            jvp: &|x, d| {
                let ((v, s), (dv, ds)) = array_and_scalar_jvp(x, d);
                ([&v[..], &[s]].concat(), [&dv[..], &[ds]].concat())
            },
            vjp: &|x, w, g| {
                let (v, s) = array_and_scalar_vjp(x, ([w[0], w[1], w[2], w[3]], w[4]), g);
                [&v[..], &[s]].concat()
            },
        },
        &pts,
    );
}
