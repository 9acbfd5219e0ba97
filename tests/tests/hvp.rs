//! Hessian-vector products generated at compile time (`f_hvp`: the reverse sweep run on dual numbers,
//! forward-over-reverse), checked
//!
//! - against central finite differences of the generated gradient along random directions
//!   (Richardson-extrapolated, with a tolerance scaled by ‖H·v‖ and by the rounding error of the
//!   difference quotient, i.e. by the conditioning of the gradient at that point);
//! - against closed forms: quadratics `½xᵀAx + bᵀx` (H = A), the extended Rosenbrock function
//!   (tridiagonal), separable sums (diagonal, off-diagonal entries exactly zero), products, Horner,
//!   trip-count-dependent loops, branches, and the second derivative of every float method of the rule
//!   table;
//! - by assembling dense Hessians from n HVPs along the basis vectors, compared with a dense
//!   finite-difference Hessian of the gradient and checked for symmetry to ~1e-12;
//! - for `⟨u, H·v⟩ = ⟨v, H·u⟩` and linearity in the direction;
//! - and that the value and gradient `f_hvp` returns are bit-for-bit those of `f` and `f_grad`.
//!
//! The functions cover loops that overwrite their state (a product, recurrences, RK4 and explicit Euler
//! integration), `while` with data-dependent trip counts, `break`/`continue`/early `return`, branches
//! on data, local arrays and vectors written by index, calls to other differentiable functions (inside
//! loops, with literal arguments), `f32`, and several active parameters of every kind.
// The reproducers at the end are regression tests of problems this file found.
#![allow(unexpected_cfgs)]

#[macro_use]
mod common;
mod hvp_common;

use adjoint::differentiable;
use common::{points, points_in, random_vec, rng, POINTS};
use hvp_common::{assert_matrix, basis, check_hvp, matvec, norm_inf, Fns, Matrix, Opts, NEAR, OPTS};
use rand::Rng;
use std::f64::consts::{LN_10, LN_2};

// ===================================================================================================
// The flat view and the checks
// ===================================================================================================

/// `fn f(x: &[f64]) -> f64`.
macro_rules! slice_hvp {
    ($f:ident, $grad:ident, $hvp:ident) => {
        Fns { f: &|x: &[f64]| $f(x), grad: &|x: &[f64]| $grad(x), hvp: &|x: &[f64], v: &[f64]| $hvp(x, v) }
    };
}

/// `fn f(x: f64) -> f64`.
macro_rules! scalar_hvp {
    ($f:ident, $grad:ident, $hvp:ident) => {
        Fns {
            f: &|x: &[f64]| $f(x[0]),
            grad: &|x: &[f64]| {
                let (v, g) = $grad(x[0]);
                (v, vec![g])
            },
            hvp: &|x: &[f64], d: &[f64]| {
                let (v, g, h) = $hvp(x[0], d[0]);
                (v, vec![g], vec![h])
            },
        }
    };
}

/// `fn f(x: f64, y: f64) -> f64` (flat `[x, y]`).
macro_rules! scalar2_hvp {
    ($f:ident, $grad:ident, $hvp:ident) => {
        Fns {
            f: &|x: &[f64]| $f(x[0], x[1]),
            grad: &|x: &[f64]| {
                let (v, (g0, g1)) = $grad(x[0], x[1]);
                (v, vec![g0, g1])
            },
            hvp: &|x: &[f64], d: &[f64]| {
                let (v, (g0, g1), (h0, h1)) = $hvp(x[0], d[0], x[1], d[1]);
                (v, vec![g0, g1], vec![h0, h1])
            },
        }
    };
}

/// `fn f(x: f64, y: f64, z: f64) -> f64` (flat `[x, y, z]`).
macro_rules! scalar3_hvp {
    ($f:ident, $grad:ident, $hvp:ident) => {
        Fns {
            f: &|x: &[f64]| $f(x[0], x[1], x[2]),
            grad: &|x: &[f64]| {
                let (v, (g0, g1, g2)) = $grad(x[0], x[1], x[2]);
                (v, vec![g0, g1, g2])
            },
            hvp: &|x: &[f64], d: &[f64]| {
                let (v, (g0, g1, g2), (h0, h1, h2)) = $hvp(x[0], d[0], x[1], d[1], x[2], d[2]);
                (v, vec![g0, g1, g2], vec![h0, h1, h2])
            },
        }
    };
}

/// [`OPTS`] for functions that use `mul_add`.
const MUL_ADD: Opts = NEAR;

#[track_caller]
fn assert_hv(got: &[f64], want: &[f64], terms: &[f64], rtol: f64, what: &str) {
    for i in 0..got.len() {
        assert!(
            (got[i] - want[i]).abs() <= rtol * terms[i].max(1e-300),
            "{what}: (H·v)[{i}] = {:e} but the closed form gives {:e}",
            got[i],
            want[i]
        );
    }
}

fn cat(parts: &[&[f64]]) -> Vec<f64> {
    parts.concat()
}

// ===================================================================================================
// Closed forms: quadratics, extended Rosenbrock, separable functions
// ===================================================================================================

#[differentiable]
fn rosenbrock(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        let a = 1.0 - x[i];
        let b = x[i + 1] - x[i] * x[i];
        s += a * a + 100.0 * b * b;
    }
    s
}

/// Closed-form Hessian of the extended Rosenbrock function: tridiagonal.
fn rosenbrock_hessian(x: &[f64]) -> Matrix {
    let n = x.len();
    let mut h = vec![vec![0.0; n]; n];
    for i in 0..n - 1 {
        h[i][i] += 2.0 - 400.0 * (x[i + 1] - 3.0 * x[i] * x[i]);
        h[i][i + 1] += -400.0 * x[i];
        h[i + 1][i] += -400.0 * x[i];
        h[i + 1][i + 1] += 200.0;
    }
    h
}

/// Closed-form `H·v` of the extended Rosenbrock function in O(n), and the sums `Σⱼ|Hᵢⱼvⱼ|`.
fn rosenbrock_hv(x: &[f64], v: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = x.len();
    let (mut hv, mut terms) = (vec![0.0; n], vec![0.0; n]);
    for i in 0..n - 1 {
        let d = 2.0 - 400.0 * (x[i + 1] - 3.0 * x[i] * x[i]);
        let o = -400.0 * x[i];
        for (k, t) in [(i, d * v[i]), (i, o * v[i + 1]), (i + 1, o * v[i]), (i + 1, 200.0 * v[i + 1])] {
            hv[k] += t;
            terms[k] += t.abs() + 1e-300;
        }
        // The diagonal entry itself is a difference of terms of size 400·|x[i+1]| and 1200·x[i]².
        terms[i] += 400.0 * (x[i + 1].abs() + 3.0 * x[i] * x[i]) * v[i].abs();
    }
    (hv, terms)
}

#[test]
fn rosenbrock_hvp_matches_closed_form() {
    let x = [1.2, -0.7, 0.4, 2.0];
    let v = [0.3, -1.0, 0.5, 0.25];
    let (value, g, hv) = rosenbrock_hvp(&x, &v);
    assert_eq!(value, rosenbrock(&x));
    assert_eq!(g, rosenbrock_grad(&x).1);
    let h = rosenbrock_hessian(&x);
    let n = x.len();
    for i in 0..n {
        let want: f64 = (0..n).map(|j| h[i][j] * v[j]).sum();
        assert!((hv[i] - want).abs() < 1e-10 * want.abs().max(1.0), "{i}: {} vs {want}", hv[i]);
    }
}

#[test]
fn rosenbrock_dense_hessian_and_finite_differences() {
    let fns = slice_hvp!(rosenbrock, rosenbrock_grad, rosenbrock_hvp);
    for n in [2usize, 3, 6] {
        let pts = points(1000 + n as u64, n, -2.0, 2.0);
        let hs = check_hvp("rosenbrock", &fns, &pts, 1, OPTS);
        for (x, h) in pts.iter().zip(&hs) {
            assert_matrix(h, &rosenbrock_hessian(x), 1e-13, &format!("Rosenbrock n = {n} at {x:?}"));
        }
    }
}

#[test]
fn rosenbrock_large_n_against_the_tridiagonal_closed_form() {
    let mut r = rng(1010);
    for n in [2usize, 10, 1000, 20_000] {
        for _ in 0..3 {
            let x: Vec<f64> = (0..n).map(|_| r.gen_range(-2.0..2.0)).collect();
            let v = random_vec(&mut r, n);
            let (value, g, hv) = rosenbrock_hvp(&x, &v);
            let (f, g_want) = rosenbrock_grad(&x);
            assert_eq!(value, f);
            assert_eq!(value, rosenbrock(&x));
            assert_eq!(g, g_want);
            let (want, terms) = rosenbrock_hv(&x, &v);
            assert_hv(&hv, &want, &terms, 1e-13, &format!("Rosenbrock n = {n}"));
        }
    }
}

/// `½xᵀAx + bᵀx` with `A` (row-major n×n) and `b` as data.
#[differentiable(wrt(x))]
fn quadratic(x: &[f64], a: &[f64], b: &[f64]) -> f64 {
    // (`n` from the data, not from `x`: see `repro::length_of_an_active_slice`.)
    let n = b.len();
    let mut s = 0.0;
    for i in 0..n {
        let mut row = 0.0;
        for j in 0..n {
            row += a[i * n + j] * x[j];
        }
        s += 0.5 * x[i] * row + b[i] * x[i];
    }
    s
}

#[test]
fn quadratic_hessian_is_a() {
    let mut r = rng(1020);
    for n in [1usize, 2, 5, 8] {
        // A symmetric (H = A), then A non-symmetric (H = (A + Aᵀ)/2).
        for symmetric in [true, false] {
            let mut a: Vec<f64> = (0..n * n).map(|_| r.gen_range(-3.0..3.0)).collect();
            if symmetric {
                for i in 0..n {
                    for j in 0..i {
                        a[i * n + j] = a[j * n + i];
                    }
                }
            }
            let b = random_vec(&mut r, n);
            let want: Matrix = (0..n).map(|i| (0..n).map(|j| 0.5 * (a[i * n + j] + a[j * n + i])).collect()).collect();
            let fns = Fns {
                f: &|x| quadratic(x, &a, &b),
                grad: &|x| quadratic_grad(x, &a, &b),
                hvp: &|x, v| quadratic_hvp(x, v, &a, &b),
            };
            let pts = points(1021 + n as u64, n, -2.0, 2.0);
            let hs = check_hvp("quadratic", &fns, &pts, 2, OPTS);
            for h in &hs {
                assert_matrix(h, &want, 1e-15, &format!("½xᵀAx + bᵀx, n = {n}, symmetric A: {symmetric}"));
                if symmetric {
                    // Each entry of H·e_j is a single product a_ij·1: exactly A.
                    for i in 0..n {
                        for j in 0..n {
                            assert_eq!(h[i][j], a[i * n + j], "H[{i}][{j}] of a quadratic with symmetric A");
                        }
                    }
                }
            }
            // H·v is independent of the point.
            let v = random_vec(&mut r, n);
            let (_, _, hv1) = quadratic_hvp(&pts[0], &v, &a, &b);
            let (_, _, hv2) = quadratic_hvp(&pts[1], &v, &a, &b);
            let terms: Vec<f64> = want.iter().map(|row| row.iter().zip(&v).map(|(h, v)| (h * v).abs()).sum()).collect();
            assert_hv(&hv1, &matvec(&want, &v), &terms, 1e-14, "quadratic H·v");
            assert_hv(&hv2, &hv1, &terms, 1e-14, "quadratic H·v at two points");
        }
    }
}

/// `Σᵢ cᵢ sin xᵢ + eˣⁱ/cᵢ + xᵢ⁴/4 + ln(1 + xᵢ²)`, `cᵢ = i + 1`: a diagonal Hessian.
#[differentiable]
fn separable(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, xi) in x.iter().enumerate() {
        let c = (i + 1) as f64;
        s += c * xi.sin() + xi.exp() / c + 0.25 * xi.powi(4) + (1.0 + xi * xi).ln();
    }
    s
}

/// A separable function of two scalars: `H_xy = 0`.
#[differentiable]
fn separable2(x: f64, y: f64) -> f64 {
    x.cosh() * 2.0 + y.atan() - y * y * y
}

#[test]
fn separable_functions_have_diagonal_hessians() {
    let fns = slice_hvp!(separable, separable_grad, separable_hvp);
    let pts = points(1030, 5, -1.5, 1.5);
    let hs = check_hvp("separable", &fns, &pts, 3, OPTS);
    for (x, h) in pts.iter().zip(&hs) {
        let n = x.len();
        for i in 0..n {
            for j in 0..n {
                if i != j {
                    assert_eq!(h[i][j], 0.0, "off-diagonal H[{i}][{j}] of a separable function at {x:?}");
                }
            }
            let (xi, c) = (x[i], (i + 1) as f64);
            let want = -c * xi.sin() + xi.exp() / c + 3.0 * xi * xi + (2.0 - 2.0 * xi * xi) / (1.0 + xi * xi).powi(2);
            assert!((h[i][i] - want).abs() <= 1e-13 * want.abs().max(1.0), "H[{i}][{i}] = {} vs {want}", h[i][i]);
        }
        // A direction touching one coordinate changes only that component of the HVP.
        let (_, _, hv) = separable_hvp(x, &basis(n, 2));
        for (i, hvi) in hv.iter().enumerate() {
            assert_eq!(*hvi == 0.0, i != 2, "separable HVP along e_2, component {i}: {hvi}");
        }
    }

    let fns = scalar2_hvp!(separable2, separable2_grad, separable2_hvp);
    let pts = points(1031, 2, -1.5, 1.5);
    let hs = check_hvp("separable2", &fns, &pts, 4, OPTS);
    for (p, h) in pts.iter().zip(&hs) {
        let (x, y) = (p[0], p[1]);
        let want = vec![vec![2.0 * x.cosh(), 0.0], vec![0.0, -2.0 * y / (1.0 + y * y).powi(2) - 6.0 * y]];
        assert_matrix(h, &want, 1e-14, "separable2");
        assert_eq!((h[0][1], h[1][0]), (0.0, 0.0), "H_xy of a separable function");
    }
}

// ===================================================================================================
// Loops that overwrite their state
// ===================================================================================================

#[differentiable]
fn product(x: &[f64]) -> f64 {
    let mut p = 1.0;
    for xi in x.iter() {
        p *= xi;
    }
    p
}

#[test]
fn product_loop_against_closed_form() {
    // H_ij = p / (x_i x_j) for i ≠ j, 0 on the diagonal.
    let mut pts = points(1100, 5, 0.3, 2.0);
    pts.push(vec![-0.5, 1.5, 0.7, -1.2, 0.9]);
    let hs = check_hvp("product", &slice_hvp!(product, product_grad, product_hvp), &pts, 5, OPTS);
    for (x, h) in pts.iter().zip(&hs) {
        let p: f64 = x.iter().product();
        let n = x.len();
        let want: Matrix =
            (0..n).map(|i| (0..n).map(|j| if i == j { 0.0 } else { p / (x[i] * x[j]) }).collect()).collect();
        assert_matrix(h, &want, 1e-14, &format!("product at {x:?}"));
        for i in 0..n {
            assert_eq!(h[i][i], 0.0, "diagonal of the Hessian of a product");
        }
    }
}

/// Horner's rule: `c[0] + c[1] t + c[2] t² + …`; the state `p` is overwritten every iteration.
#[differentiable]
fn horner(c: &[f64], t: f64) -> f64 {
    let mut p = 0.0;
    for i in (0..c.len()).rev() {
        p = p * t + c[i];
    }
    p
}

#[test]
fn horner_recurrence_against_closed_form() {
    // Flat [c_0 … c_{m−1}, t]: H[c_k][t] = k t^(k−1), H[t][t] = Σ k(k−1) c_k t^(k−2), H[c][c] = 0.
    let m = 5;
    let fns = Fns {
        f: &|p| horner(&p[..m], p[m]),
        grad: &|p| {
            let (v, (gc, gt)) = horner_grad(&p[..m], p[m]);
            (v, cat(&[&gc, &[gt]]))
        },
        hvp: &|p, d| {
            let (v, (gc, gt), (hc, ht)) = horner_hvp(&p[..m], &d[..m], p[m], d[m]);
            (v, cat(&[&gc, &[gt]]), cat(&[&hc, &[ht]]))
        },
    };
    let pts = points(1110, m + 1, -1.5, 1.5);
    let hs = check_hvp("horner", &fns, &pts, 6, OPTS);
    for (p, h) in pts.iter().zip(&hs) {
        let t = p[m];
        let mut want = vec![vec![0.0; m + 1]; m + 1];
        for k in 1..m {
            want[k][m] = k as f64 * t.powi(k as i32 - 1);
            want[m][k] = want[k][m];
        }
        want[m][m] = (2..m).map(|k| (k * (k - 1)) as f64 * p[k] * t.powi(k as i32 - 2)).sum();
        assert_matrix(h, &want, 1e-14, &format!("Horner at {p:?}"));
    }
}

/// The logistic map `y ← r·y·(1 − y)`, two active scalars, the state overwritten by a `while` counter.
#[differentiable]
fn logistic_map(r: f64, y0: f64) -> f64 {
    let mut y = y0;
    let mut k = 0;
    while k < 6 {
        y = r * y * (1.0 - y);
        k += 1;
    }
    y
}

/// The recurrence `h ← tanh(w·h + xᵢ)` with an active weight and slice.
#[differentiable]
fn recurrence(w: f64, x: &[f64]) -> f64 {
    let mut h = 0.0;
    for i in 0..x.len() {
        h = (w * h + x[i]).tanh();
    }
    h * h
}

#[test]
fn recurrences_overwriting_their_state() {
    let pts = points_in(1120, POINTS, &[(2.5, 3.0), (0.2, 0.8)]);
    let fns = scalar2_hvp!(logistic_map, logistic_map_grad, logistic_map_hvp);
    check_hvp("logistic_map", &fns, &pts, 7, Opts { h: 1e-4, fd_rtol: 1e-6, ..OPTS });

    let m = 6;
    let fns = Fns {
        f: &|p| recurrence(p[0], &p[1..]),
        grad: &|p| {
            let (v, (gw, gx)) = recurrence_grad(p[0], &p[1..]);
            (v, cat(&[&[gw], &gx]))
        },
        hvp: &|p, d| {
            let (v, (gw, gx), (hw, hx)) = recurrence_hvp(p[0], d[0], &p[1..], &d[1..]);
            (v, cat(&[&[gw], &gx]), cat(&[&[hw], &hx]))
        },
    };
    check_hvp("recurrence", &fns, &points(1121, m + 1, -1.2, 1.2), 8, OPTS);
}

/// A damped pendulum integrated with classical RK4 (40 steps); `p = [θ₀, ω₀, damping, stiffness]`;
/// the terminal energy-like cost.
#[differentiable]
fn pendulum_rk4(p: &[f64]) -> f64 {
    let dt = 0.05;
    let mut th = p[0];
    let mut om = p[1];
    for _ in 0..40 {
        let k1t = om;
        let k1o = -p[3] * th.sin() - p[2] * om;
        let th2 = th + 0.5 * dt * k1t;
        let om2 = om + 0.5 * dt * k1o;
        let k2t = om2;
        let k2o = -p[3] * th2.sin() - p[2] * om2;
        let th3 = th + 0.5 * dt * k2t;
        let om3 = om + 0.5 * dt * k2o;
        let k3t = om3;
        let k3o = -p[3] * th3.sin() - p[2] * om3;
        let th4 = th + dt * k3t;
        let om4 = om + dt * k3o;
        let k4t = om4;
        let k4o = -p[3] * th4.sin() - p[2] * om4;
        th = th + dt / 6.0 * (k1t + 2.0 * k2t + 2.0 * k3t + k4t);
        om = om + dt / 6.0 * (k1o + 2.0 * k2o + 2.0 * k3o + k4o);
    }
    th * th + 0.5 * om * om
}

/// Lotka–Volterra by explicit Euler with a local state array written by index; two scalar rate
/// parameters and the initial state (a slice) active.
#[differentiable]
fn lotka_euler(alpha: f64, beta: f64, x0: &[f64]) -> f64 {
    let mut s = [0.0; 2];
    s[0] = x0[0];
    s[1] = x0[1];
    let dt = 0.02;
    let mut k = 0;
    while k < 50 {
        let prey = s[0];
        let pred = s[1];
        s[0] = prey + dt * (alpha * prey - beta * prey * pred);
        s[1] = pred + dt * (beta * prey * pred - 0.8 * pred);
        k += 1;
    }
    (s[0] - 1.0).powi(2) + s[1] * s[0]
}

/// Explicit Euler for a nonlinear heat equation on a local vector, copied back by index every step.
#[differentiable]
fn heat(u0: &[f64], kappa: f64) -> f64 {
    let mut u = vec![0.0; u0.len()];
    for i in 0..u0.len() {
        u[i] = u0[i];
    }
    let mut next = vec![0.0; u0.len()];
    for _ in 0..15 {
        for i in 0..u0.len() {
            let left = if i == 0 { 0.0 } else { u[i - 1] };
            let right = if i + 1 == u0.len() { 0.0 } else { u[i + 1] };
            next[i] = u[i] + 0.2 * kappa * (left - 2.0 * u[i] + right) - 0.05 * u[i] * u[i] * u[i];
        }
        for i in 0..u0.len() {
            u[i] = next[i];
        }
    }
    let mut s = 0.0;
    for i in 0..u0.len() {
        s += u[i] * u[i] * (i as f64 + 1.0);
    }
    s
}

#[test]
fn integration_loops() {
    let fns = slice_hvp!(pendulum_rk4, pendulum_rk4_grad, pendulum_rk4_hvp);
    let pts = points_in(1130, POINTS, &[(-1.0, 1.0), (-1.0, 1.0), (0.05, 0.5), (0.5, 2.0)]);
    check_hvp("pendulum_rk4", &fns, &pts, 9, OPTS);

    let fns = Fns {
        f: &|p| lotka_euler(p[0], p[1], &p[2..]),
        grad: &|p| {
            let (v, (ga, gb, gx)) = lotka_euler_grad(p[0], p[1], &p[2..]);
            (v, cat(&[&[ga, gb], &gx]))
        },
        hvp: &|p, d| {
            let (v, (ga, gb, gx), (ha, hb, hx)) = lotka_euler_hvp(p[0], d[0], p[1], d[1], &p[2..], &d[2..]);
            (v, cat(&[&[ga, gb], &gx]), cat(&[&[ha, hb], &hx]))
        },
    };
    let pts = points_in(1131, POINTS, &[(0.8, 1.2), (0.3, 0.7), (0.5, 1.5), (0.5, 1.5)]);
    check_hvp("lotka_euler", &fns, &pts, 10, OPTS);

    let m = 5;
    let fns = Fns {
        f: &|p| heat(&p[..m], p[m]),
        grad: &|p| {
            let (v, (gu, gk)) = heat_grad(&p[..m], p[m]);
            (v, cat(&[&gu, &[gk]]))
        },
        hvp: &|p, d| {
            let (v, (gu, gk), (hu, hk)) = heat_hvp(&p[..m], &d[..m], p[m], d[m]);
            (v, cat(&[&gu, &[gk]]), cat(&[&hu, &[hk]]))
        },
    };
    let mut pts = points(1132, m + 1, -1.0, 1.0);
    for p in &mut pts {
        p[m] = 0.5 + 0.3 * p[m]; // κ in (0.2, 0.8): a stable explicit step
    }
    check_hvp("heat", &fns, &pts, 11, OPTS);
}

// ===================================================================================================
// while with data-dependent trip counts
// ===================================================================================================

#[differentiable]
fn grow_until(x: f64) -> f64 {
    let mut y = x;
    let mut k = 0;
    while y < 100.0 {
        y = y * x;
        k += 1;
    }
    y + k as f64
}

#[differentiable]
fn bisect_then_scale(x: f64) -> f64 {
    let mut y = x;
    while y >= 2.0 {
        y *= 0.5;
    }
    y * y
}

#[differentiable]
fn newton_sqrt(a: f64) -> f64 {
    let mut y = 1.0 + a;
    let mut steps = 0;
    loop {
        let next = 0.5 * (y + a / y);
        steps += 1;
        if (next - y).abs() < 1e-13 * a || steps > 100 {
            y = next;
            break;
        }
        y = next;
    }
    y
}

/// Adds weighted squares until the sum passes `limit` (data): the number of terms depends on `x`.
#[differentiable(wrt(x))]
fn accumulate_until(x: &[f64], limit: f64) -> f64 {
    let mut s = 0.0;
    let mut i = 0;
    while i < x.len() && s < limit {
        s += x[i] * x[i] * (i as f64 + 1.0);
        i += 1;
    }
    s * s
}

#[test]
fn while_loops_with_data_dependent_trip_counts() {
    // grow_until: y = x^(k+1) after k steps, so f'' = (k+1)·k·x^(k−1).
    let pts = vec![vec![1.7], vec![2.3], vec![3.9], vec![6.1], vec![12.0], vec![150.0]];
    let hs = check_hvp("grow_until", &scalar_hvp!(grow_until, grow_until_grad, grow_until_hvp), &pts, 12, OPTS);
    for (p, h) in pts.iter().zip(&hs) {
        let x = p[0];
        let (mut y, mut k) = (x, 0);
        while y < 100.0 {
            y *= x;
            k += 1;
        }
        let want = ((k + 1) * k) as f64 * x.powi(k - 1);
        assert!((h[0][0] - want).abs() <= 1e-13 * want.abs().max(1.0), "grow_until'' at {x}: {} vs {want}", h[0][0]);
    }

    // bisect_then_scale: x / 2^k squared, f'' = 2 / 4^k.
    let pts = vec![vec![1.3], vec![3.0], vec![5.5], vec![13.0], vec![100.0]];
    let fns = scalar_hvp!(bisect_then_scale, bisect_then_scale_grad, bisect_then_scale_hvp);
    let hs = check_hvp("bisect_then_scale", &fns, &pts, 13, OPTS);
    for (p, h) in pts.iter().zip(&hs) {
        let (mut y, mut k) = (p[0], 0);
        while y >= 2.0 {
            y *= 0.5;
            k += 1;
        }
        assert_eq!(h[0][0], 2.0 / 4f64.powi(k), "bisect_then_scale'' at {}", p[0]);
    }

    // newton_sqrt: the iteration converges to √a, and so do its first and second derivatives.
    let pts = points(1140, 1, 0.5, 50.0);
    let fns = scalar_hvp!(newton_sqrt, newton_sqrt_grad, newton_sqrt_hvp);
    let hs = check_hvp("newton_sqrt", &fns, &pts, 14, Opts { fd_rtol: 1e-6, ..OPTS });
    for (p, h) in pts.iter().zip(&hs) {
        let want = -0.25 * p[0].powf(-1.5);
        assert!((h[0][0] - want).abs() <= 1e-10 * want.abs(), "(√a)'' at {}: {} vs {want}", p[0], h[0][0]);
    }

    // accumulate_until: with k terms, s = Σ_{i<k} (i+1) xᵢ², f = s².
    for limit in [0.5, 2.0, 100.0] {
        let fns = Fns {
            f: &|x| accumulate_until(x, limit),
            grad: &|x| accumulate_until_grad(x, limit),
            hvp: &|x, v| accumulate_until_hvp(x, v, limit),
        };
        let pts = vec![vec![0.5, -0.7, 0.9, 0.3, -1.1], vec![0.2, 0.1, -0.3, 0.4, 0.6], vec![1.3, 0.8, -0.6, 0.7, 0.5]];
        let hs = check_hvp("accumulate_until", &fns, &pts, 15, OPTS);
        for (x, h) in pts.iter().zip(&hs) {
            let (mut s, mut k) = (0.0, 0);
            while k < x.len() && s < limit {
                s += x[k] * x[k] * (k as f64 + 1.0);
                k += 1;
            }
            let n = x.len();
            let mut want = vec![vec![0.0; n]; n];
            for i in 0..k {
                for j in 0..k {
                    want[i][j] = 8.0 * ((i + 1) * (j + 1)) as f64 * x[i] * x[j];
                }
                want[i][i] += 4.0 * s * (i + 1) as f64;
            }
            assert_matrix(h, &want, 1e-14, &format!("accumulate_until, limit {limit}, at {x:?} ({k} terms)"));
        }
    }
}

// ===================================================================================================
// break, continue, early return
// ===================================================================================================

#[differentiable]
fn skip_and_stop(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut i = 0;
    loop {
        if i >= x.len() {
            break;
        }
        let xi = x[i];
        i += 1;
        if xi < 0.0 {
            continue;
        }
        s = s * xi.sqrt() + xi;
        if s > 6.0 {
            break;
        }
    }
    s
}

#[differentiable]
fn for_with_break_and_continue(x: &[f64]) -> f64 {
    let mut s = 1.0;
    for i in 0..x.len() {
        if i == 1 {
            continue;
        }
        s *= 1.0 + x[i] * x[i];
        if s > 20.0 {
            break;
        }
        s += x[i];
    }
    let mut j = 0;
    while j < x.len() {
        j += 1;
        if x[j - 1] > 1.0 {
            continue;
        }
        s -= x[j - 1] * x[j - 1] * 0.25;
        if j == 4 {
            break;
        }
    }
    s
}

#[differentiable]
fn enumerate_continue_return(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, &xi) in x.iter().enumerate() {
        if s > 2.0 {
            return s * xi;
        }
        if i % 2 == 1 {
            continue;
        }
        s += xi.exp();
    }
    s.sin()
}

#[differentiable]
fn first_large_pair(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let mut j = 0;
        while j < x.len() {
            s += x[i] * x[j] * 0.1;
            if s > 2.0 {
                return s * x[i];
            }
            j += 1;
        }
        s = s.sin();
    }
    s.exp()
}

#[differentiable]
fn early_return(x: f64, y: f64) -> f64 {
    let a = x * y;
    if a > 1.0 {
        return a.ln();
    }
    let b = a + x;
    if b < -1.0 {
        return b * b * y;
    }
    (b * y).sin()
}

#[test]
fn break_continue_and_early_return() {
    let pts = vec![
        vec![0.5, 1.2, -0.3, 0.8, 2.5, 0.4],  // stops at s > 6
        vec![0.2, -0.4, 0.3, 0.6, -0.1, 0.7], // runs to the end
        vec![-1.0, 0.8, 1.5, -0.2, 1.1, 0.9],
    ];
    check_hvp("skip_and_stop", &slice_hvp!(skip_and_stop, skip_and_stop_grad, skip_and_stop_hvp), &pts, 20, OPTS);

    let pts = vec![
        vec![0.5, 0.3, -0.2, 0.8, 0.1, -0.6],
        vec![2.0, 0.9, 3.0, 0.5, 1.2, 0.4],
        vec![-0.4, 1.8, 0.9, -0.3, 0.2, 1.1],
        vec![1.5, 0.2, 1.3, 1.2, 0.7, 0.6],
    ];
    let fns =
        slice_hvp!(for_with_break_and_continue, for_with_break_and_continue_grad, for_with_break_and_continue_hvp);
    check_hvp("for_with_break_and_continue", &fns, &pts, 21, OPTS);

    let pts = vec![vec![0.5, 1.2, -0.3, 0.8], vec![0.5, 0.2, 0.3, 0.8, 0.1], vec![-1.0, 3.0, -0.5, 2.0, 0.4, 1.0]];
    let fns = slice_hvp!(enumerate_continue_return, enumerate_continue_return_grad, enumerate_continue_return_hvp);
    check_hvp("enumerate_continue_return", &fns, &pts, 22, OPTS);

    let pts = vec![
        vec![0.5, 1.0, 2.5, 3.0],  // returns from the inner loop
        vec![0.1, -0.2, 0.3, 0.1], // runs to the end
        vec![1.5, -1.0, 2.0],
    ];
    let fns = slice_hvp!(first_large_pair, first_large_pair_grad, first_large_pair_hvp);
    check_hvp("first_large_pair", &fns, &pts, 23, OPTS);

    let pts = vec![vec![1.5, 1.5], vec![-2.0, 0.2], vec![0.3, 0.4], vec![-0.3, 0.6], vec![2.0, 0.3]];
    let hs =
        check_hvp("early_return", &scalar2_hvp!(early_return, early_return_grad, early_return_hvp), &pts, 24, OPTS);
    for (p, h) in pts.iter().zip(&hs) {
        let (x, y) = (p[0], p[1]);
        let (a, b) = (x * y, x * y + x);
        let want = if a > 1.0 {
            vec![vec![-1.0 / (x * x), 0.0], vec![0.0, -1.0 / (y * y)]]
        } else if b < -1.0 {
            // f = b²y with b = x(y + 1): b_x = y + 1, b_y = x, b_xy = 1.
            let (bx, by) = (y + 1.0, x);
            vec![
                vec![2.0 * bx * bx * y, 2.0 * bx * by * y + 2.0 * b * y + 2.0 * b * bx],
                vec![2.0 * bx * by * y + 2.0 * b * y + 2.0 * b * bx, 2.0 * by * by * y + 4.0 * b * by],
            ]
        } else {
            // f = sin(c), c = b·y = x y² + x y: c_x = y² + y, c_y = 2xy + x, c_xy = 2y + 1, c_yy = 2x.
            let (cx, cy) = (y * y + y, 2.0 * x * y + x);
            let (s, co) = ((b * y).sin(), (b * y).cos());
            vec![
                vec![-s * cx * cx, -s * cx * cy + co * (2.0 * y + 1.0)],
                vec![-s * cx * cy + co * (2.0 * y + 1.0), -s * cy * cy + co * 2.0 * x],
            ]
        };
        assert_matrix(h, &want, 1e-13, &format!("early_return at {p:?}"));
    }
}

// ===================================================================================================
// Branches on data
// ===================================================================================================

#[differentiable]
fn branch_statement(x: f64, y: f64) -> f64 {
    let mut r = 0.0;
    if x > y {
        r = x * x * y;
    } else {
        r += (x - y).exp();
        r *= y;
    }
    if x < 0.0 {
        r -= x.sin();
    }
    r
}

#[differentiable]
fn branch_expression(x: f64) -> f64 {
    let y = if x < -1.0 {
        -x * x * x
    } else if x < 0.5 {
        x.sin() * 3.0
    } else if x < 1.5 {
        let t = x.exp();
        t - x * x
    } else {
        x.ln()
    };
    let s = if y > 0.0 { y } else { -y };
    s + if x > 0.0 { x.sqrt() } else { 0.0 }
}

#[differentiable]
fn nested_branches(x: f64, y: f64) -> f64 {
    let mut r = x;
    if x > 0.0 {
        if y > 0.0 {
            r = x * y * y;
        } else {
            r = x / (1.0 - y);
            if x > 1.0 {
                r *= x;
            }
        }
    } else {
        let t = if y > 0.0 { y.exp() } else { y.cos() };
        r = r * t * x;
    }
    r
}

#[differentiable]
fn match_on_comparisons(x: f64, y: f64) -> f64 {
    let quadrant = match (x > 0.0, y > 0.0) {
        (true, true) => 0,
        (false, true) => 1,
        (false, false) => 2,
        (true, false) => 3,
    };
    match quadrant {
        0 => x * y,
        1 => -x * y * y,
        2 => (x + y).exp(),
        _ => x.powi(3) - y,
    }
}

#[differentiable]
fn by_mode(x: f64, mode: usize) -> f64 {
    let y = match mode {
        0 => x * x * x,
        1 | 2 => x.sin() * mode as f64,
        k if k % 2 == 0 => x.exp() * k as f64,
        k => {
            let t = x * k as f64;
            t.cos()
        }
    };
    let mut z = y;
    match mode % 3 {
        0 => z += x * x,
        1 => {
            z *= x;
        }
        _ => {}
    }
    z
}

#[test]
fn branches_on_data() {
    let pts = vec![vec![1.0, 0.5], vec![0.3, 1.2], vec![-1.0, -1.5], vec![-1.2, 0.4], vec![2.0, -1.0]];
    let fns = scalar2_hvp!(branch_statement, branch_statement_grad, branch_statement_hvp);
    let hs = check_hvp("branch_statement", &fns, &pts, 30, OPTS);
    for (p, h) in pts.iter().zip(&hs) {
        let (x, y) = (p[0], p[1]);
        let mut want = if x > y {
            vec![vec![2.0 * y, 2.0 * x], vec![2.0 * x, 0.0]]
        } else {
            // y·e^(x−y)
            let e = (x - y).exp();
            vec![vec![y * e, (1.0 - y) * e], vec![(1.0 - y) * e, (y - 2.0) * e]]
        };
        if x < 0.0 {
            want[0][0] += x.sin();
        }
        assert_matrix(h, &want, 1e-14, &format!("branch_statement at {p:?}"));
    }

    let pts = vec![vec![-2.3], vec![-1.4], vec![-0.6], vec![0.2], vec![0.8], vec![1.3], vec![1.9], vec![3.5]];
    let fns = scalar_hvp!(branch_expression, branch_expression_grad, branch_expression_hvp);
    let hs = check_hvp("branch_expression", &fns, &pts, 31, OPTS);
    for (p, h) in pts.iter().zip(&hs) {
        let x = p[0];
        let (y, d2y) = if x < -1.0 {
            (-x * x * x, -6.0 * x)
        } else if x < 0.5 {
            (x.sin() * 3.0, -3.0 * x.sin())
        } else if x < 1.5 {
            (x.exp() - x * x, x.exp() - 2.0)
        } else {
            (x.ln(), -1.0 / (x * x))
        };
        let want = if y > 0.0 { d2y } else { -d2y } + if x > 0.0 { -0.25 * x.powf(-1.5) } else { 0.0 };
        assert!(
            (h[0][0] - want).abs() <= 1e-14 * want.abs().max(1.0),
            "branch_expression'' at {x}: {} vs {want}",
            h[0][0]
        );
    }

    let pts = vec![vec![0.5, 0.5], vec![0.5, -0.5], vec![1.5, -0.5], vec![-0.5, 0.5], vec![-0.5, -0.5]];
    let fns = scalar2_hvp!(nested_branches, nested_branches_grad, nested_branches_hvp);
    check_hvp("nested_branches", &fns, &pts, 32, OPTS);

    let pts = vec![vec![0.5, 0.7], vec![-0.5, 0.7], vec![-0.5, -0.7], vec![0.5, -0.7], vec![1.3, 2.1]];
    let fns = scalar2_hvp!(match_on_comparisons, match_on_comparisons_grad, match_on_comparisons_hvp);
    let hs = check_hvp("match_on_comparisons", &fns, &pts, 33, OPTS);
    for (p, h) in pts.iter().zip(&hs) {
        let (x, y) = (p[0], p[1]);
        let want = match (x > 0.0, y > 0.0) {
            (true, true) => vec![vec![0.0, 1.0], vec![1.0, 0.0]],
            (false, true) => vec![vec![0.0, -2.0 * y], vec![-2.0 * y, -2.0 * x]],
            (false, false) => vec![vec![(x + y).exp(); 2]; 2],
            (true, false) => vec![vec![6.0 * x, 0.0], vec![0.0, 0.0]],
        };
        assert_matrix(h, &want, 1e-15, &format!("match_on_comparisons at {p:?}"));
    }

    for mode in 0..7usize {
        let fns = Fns {
            f: &|x| by_mode(x[0], mode),
            grad: &|x| {
                let (v, g) = by_mode_grad(x[0], mode);
                (v, vec![g])
            },
            hvp: &|x, d| {
                let (v, g, h) = by_mode_hvp(x[0], d[0], mode);
                (v, vec![g], vec![h])
            },
        };
        check_hvp("by_mode", &fns, &points(1200 + mode as u64, 1, -1.5, 1.5), 34, OPTS);
    }
}

// ===================================================================================================
// Local arrays and vectors written by index
// ===================================================================================================

#[differentiable]
fn local_array(p: [f64; 3]) -> f64 {
    let mut q = [0.0; 3];
    q[0] = p[0] * p[1];
    q[1] = q[0].tanh() + p[2];
    q[2] = q[1] * q[0];
    q[2] += p[0] / (1.0 + p[1] * p[1]);
    q[1] *= q[2];
    q[0] -= q[1] * p[2];
    q[2] - q[1] + q[0] * q[0]
}

#[differentiable]
fn mutated_vec_param(mut v: Vec<f64>) -> f64 {
    for i in 1..v.len() {
        v[i] += v[i - 1] * 0.5;
        v[i - 1] *= v[i];
    }
    let mut s = 0.0;
    for vi in v.iter() {
        s += vi.sin();
    }
    s
}

/// Solves the tridiagonal system `tridiag(−1, dᵢ, −1)·u = 1` (Thomas algorithm, local vectors written by
/// index in a forward and a backward sweep) and returns `Σ uᵢ²`.
#[differentiable]
fn thomas(d: &[f64]) -> f64 {
    let mut c = vec![0.0; d.len()];
    let mut y = vec![0.0; d.len()];
    c[0] = -1.0 / d[0];
    y[0] = 1.0 / d[0];
    for i in 1..d.len() {
        let m = d[i] + c[i - 1];
        c[i] = -1.0 / m;
        y[i] = (1.0 + y[i - 1]) / m;
    }
    let mut u = vec![0.0; d.len()];
    let mut k = 0;
    for i in (0..d.len()).rev() {
        if k == 0 {
            u[i] = y[i];
        } else {
            u[i] = y[i] - c[i] * u[i + 1];
        }
        k += 1;
    }
    let mut s = 0.0;
    for i in 0..d.len() {
        s += u[i] * u[i];
    }
    s
}

/// A running-maximum scan into a local vector, then a weighted sum of it.
#[differentiable]
fn prefix_scan(x: &[f64]) -> f64 {
    let mut acc = vec![0.0; x.len()];
    acc[0] = x[0];
    for i in 1..x.len() {
        acc[i] = acc[i - 1].max(x[i]) * 0.9 + x[i] * x[i - 1] * 0.1;
    }
    let mut s = 0.0;
    for i in 0..x.len() {
        s += acc[i] * acc[i] * (i as f64 + 1.0);
    }
    s
}

#[test]
fn local_arrays_with_indexed_writes() {
    let fns = Fns {
        f: &|p| local_array([p[0], p[1], p[2]]),
        grad: &|p| {
            let (v, g) = local_array_grad([p[0], p[1], p[2]]);
            (v, g.to_vec())
        },
        hvp: &|p, d| {
            let (v, g, h) = local_array_hvp([p[0], p[1], p[2]], [d[0], d[1], d[2]]);
            (v, g.to_vec(), h.to_vec())
        },
    };
    check_hvp("local_array", &fns, &points(1300, 3, -1.5, 1.5), 40, OPTS);

    let fns = Fns {
        f: &|p| mutated_vec_param(p.to_vec()),
        grad: &|p| mutated_vec_param_grad(p.to_vec()),
        hvp: &|p, d| mutated_vec_param_hvp(p.to_vec(), d.to_vec()),
    };
    check_hvp("mutated_vec_param", &fns, &points(1301, 5, -1.5, 1.5), 41, OPTS);

    check_hvp("thomas", &slice_hvp!(thomas, thomas_grad, thomas_hvp), &points(1302, 6, 2.5, 4.0), 42, OPTS);

    // Points without near-ties in the running maximum.
    let pts = vec![vec![0.3, 1.2, -0.5, 0.9, 2.0, 1.1], vec![-1.0, -0.6, 0.4, 0.1, 0.8, -0.2]];
    check_hvp("prefix_scan", &slice_hvp!(prefix_scan, prefix_scan_grad, prefix_scan_hvp), &pts, 43, OPTS);
}

// ===================================================================================================
// Calls to other differentiable functions
// ===================================================================================================

#[differentiable]
fn bump(a: f64, b: f64) -> f64 {
    a * b.sin() + a * a * b
}

#[differentiable]
fn constant_arguments(x: f64, y: f64) -> f64 {
    bump(x, 2.0) + bump(3.0, y) + bump(x * y, x.cos()) + bump(1.5, 0.5)
}

#[differentiable]
fn term(x: f64, i: usize) -> f64 {
    (x * (i + 1) as f64).sin() / (i + 1) as f64
}

#[differentiable]
fn series(x: f64, n: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        s += term(x, i) * x;
    }
    s
}

#[differentiable]
fn level1(x: f64) -> f64 {
    x.exp() - x * x * x
}

#[differentiable]
fn level2(x: f64, y: f64) -> f64 {
    level1(x * y) + level1(y)
}

#[differentiable]
fn level3(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        s += level2(x[i], x[i + 1]) * 0.5 + level2(0.3, x[i]) * level1(0.25);
    }
    s + level1(0.25)
}

#[differentiable]
fn step(state: f64, input: f64) -> f64 {
    (state * 0.8 + input).tanh()
}

#[differentiable]
fn rnn(x: &[f64]) -> f64 {
    let mut h = 0.0;
    for i in 0..x.len() {
        h = step(h, x[i]);
        h = step(h, 0.1);
    }
    h * h
}

#[differentiable]
fn weighted_sq(x: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += w * x[i] * x[i] + x[i].sin();
    }
    s
}

#[differentiable]
fn scaled(x: &[f64], c: f64) -> Vec<f64> {
    // (Not `x[(i + 1) % x.len()]`: see `repro::callee_indexing_with_the_length`.)
    let mut out = vec![0.0; x.len()];
    for i in 0..x.len() {
        let mut j = i + 1;
        if j == x.len() {
            j = 0;
        }
        out[i] = x[i] * c + x[j] * x[i];
    }
    out
}

#[differentiable]
fn rotate(p: [f64; 2], angle: f64) -> [f64; 2] {
    let (c, s) = (angle.cos(), angle.sin());
    [c * p[0] - s * p[1], s * p[0] + c * p[1]]
}

/// Callees taking the whole slice (in a loop, with a literal scalar), returning vectors and arrays.
#[differentiable]
fn slice_callees(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for k in 0..3 {
        s += weighted_sq(x, 0.5) * x[k] + weighted_sq(x, x[k]);
    }
    let y = scaled(x, 2.0);
    let z = scaled(&y, x[0]);
    let q = rotate([x[1], x[2]], x[3]);
    for i in 0..z.len() {
        s += z[i] * y[i] * 0.01;
    }
    s + q[0] * q[1]
}

#[test]
fn calls_to_differentiable_functions() {
    let pts = points(1400, 2, -1.5, 1.5);
    let fns = scalar2_hvp!(constant_arguments, constant_arguments_grad, constant_arguments_hvp);
    check_hvp("constant_arguments", &fns, &pts, 50, OPTS);

    // series(x, n) = Σ_{k=1..n} x·sin(kx)/k: f'' = Σ 2cos(kx) − k·x·sin(kx).
    for n in [1usize, 4, 9] {
        let fns = Fns {
            f: &|x| series(x[0], n),
            grad: &|x| {
                let (v, g) = series_grad(x[0], n);
                (v, vec![g])
            },
            hvp: &|x, d| {
                let (v, g, h) = series_hvp(x[0], d[0], n);
                (v, vec![g], vec![h])
            },
        };
        let pts = points(1401, 1, -3.0, 3.0);
        let hs = check_hvp("series", &fns, &pts, 51, OPTS);
        for (p, h) in pts.iter().zip(&hs) {
            let x = p[0];
            let want: f64 = (1..=n).map(|k| (k as f64 * x).cos() * 2.0 - k as f64 * x * (k as f64 * x).sin()).sum();
            assert!(
                (h[0][0] - want).abs() <= 1e-13 * want.abs().max(1.0),
                "series'' n = {n} at {x}: {} vs {want}",
                h[0][0]
            );
        }
    }

    check_hvp("level3", &slice_hvp!(level3, level3_grad, level3_hvp), &points(1402, 4, -1.0, 1.0), 52, OPTS);
    check_hvp("rnn", &slice_hvp!(rnn, rnn_grad, rnn_hvp), &points(1403, 6, -2.0, 2.0), 53, OPTS);
    let fns = slice_hvp!(slice_callees, slice_callees_grad, slice_callees_hvp);
    check_hvp("slice_callees", &fns, &points(1404, 4, -1.5, 1.5), 54, OPTS);
}

/// `ln(1 + eˣ)` with custom rules: no second-order code.
#[differentiable(custom(jvp = softplus_tangent, vjp = softplus_adjoint))]
fn softplus(x: f64) -> f64 {
    x.exp().ln_1p()
}

fn softplus_tangent(x: f64, x_dot: f64) -> (f64, f64) {
    (softplus(x), x_dot / (1.0 + (-x).exp()))
}

fn softplus_adjoint(x: f64, z_bar: f64, x_bar: &mut f64) -> f64 {
    *x_bar += z_bar / (1.0 + (-x).exp());
    softplus(x)
}

#[differentiable]
fn calls_custom(x: f64) -> f64 {
    softplus(x * 2.0) * x
}

#[test]
#[should_panic(expected = "has no second-order derivative code")]
fn a_caller_of_custom_rules_panics_with_a_clear_message() {
    // The caller's first-order code works; its HVP reaches the callee's missing dual variant.
    assert!(calls_custom_grad(0.5).1.is_finite());
    calls_custom_hvp(0.5, 1.0);
}

// ===================================================================================================
// Every float method of the rule table
// ===================================================================================================

macro_rules! unary_fns {
    ($($f:ident = |$x:ident| $body:expr;)*) => {$(
        #[differentiable]
        fn $f($x: f64) -> f64 {
            $body
        }
    )*};
}

unary_fns! {
    m_sin = |x| x.sin();
    m_cos = |x| x.cos();
    m_tan = |x| x.tan();
    m_asin = |x| x.asin();
    m_acos = |x| x.acos();
    m_atan = |x| x.atan();
    m_sinh = |x| x.sinh();
    m_cosh = |x| x.cosh();
    m_tanh = |x| x.tanh();
    m_asinh = |x| x.asinh();
    m_acosh = |x| x.acosh();
    m_atanh = |x| x.atanh();
    m_exp = |x| x.exp();
    m_exp2 = |x| x.exp2();
    m_exp_m1 = |x| x.exp_m1();
    m_ln = |x| x.ln();
    m_ln_1p = |x| x.ln_1p();
    m_log2 = |x| x.log2();
    m_log10 = |x| x.log10();
    m_sqrt = |x| x.sqrt();
    m_cbrt = |x| x.cbrt();
    m_recip = |x| x.recip();
    m_abs = |x| x.abs() * x * x;
    m_powi3 = |x| x.powi(3);
    m_powi_neg = |x| x.powi(-2);
    m_powi1 = |x| x.powi(1) * 2.0;
    m_powf = |x| x.powf(2.5);
    m_powf_neg = |x| x.powf(0.5) / (x * x);
    m_powf_base = |x| 2.5f64.powf(x);
    m_max = |x| x.max(0.5) * x;
    m_min = |x| x.min(0.5) * x;
    m_max_rev = |x| 0.5f64.max(x * x);
    m_hypot = |x| x.hypot(2.0);
    m_hypot_rev = |x| 2.0f64.hypot(x);
    m_atan2 = |x| x.atan2(2.0);
    m_atan2_rev = |x| 2.0f64.atan2(x);
    m_mul_add = |x| x.mul_add(x, 1.0);
    m_mul_add_const = |x| x.mul_add(2.0, 3.0) * x;
    m_path = |x| f64::sin(x) * f64::exp(x);
    m_pi = |x| (std::f64::consts::PI * x).cos();
}

#[test]
fn every_unary_method_against_its_second_derivative() {
    type Hvp = fn(f64, f64) -> (f64, f64, f64);
    type Cf = fn(f64) -> f64;
    // (name, f, f_grad, f_hvp, f'' closed form, domain)
    let cases: &[(&str, fn(f64) -> f64, fn(f64) -> (f64, f64), Hvp, Cf, (f64, f64))] = &[
        ("sin", m_sin, m_sin_grad, m_sin_hvp, |x| -x.sin(), (-3.0, 3.0)),
        ("cos", m_cos, m_cos_grad, m_cos_hvp, |x| -x.cos(), (-3.0, 3.0)),
        ("tan", m_tan, m_tan_grad, m_tan_hvp, |x| 2.0 * x.tan() * (1.0 + x.tan().powi(2)), (-1.2, 1.2)),
        ("asin", m_asin, m_asin_grad, m_asin_hvp, |x| x / (1.0 - x * x).powf(1.5), (-0.9, 0.9)),
        ("acos", m_acos, m_acos_grad, m_acos_hvp, |x| -x / (1.0 - x * x).powf(1.5), (-0.9, 0.9)),
        ("atan", m_atan, m_atan_grad, m_atan_hvp, |x| -2.0 * x / (1.0 + x * x).powi(2), (-3.0, 3.0)),
        ("sinh", m_sinh, m_sinh_grad, m_sinh_hvp, |x| x.sinh(), (-2.0, 2.0)),
        ("cosh", m_cosh, m_cosh_grad, m_cosh_hvp, |x| x.cosh(), (-2.0, 2.0)),
        ("tanh", m_tanh, m_tanh_grad, m_tanh_hvp, |x| -2.0 * x.tanh() * (1.0 - x.tanh().powi(2)), (-2.0, 2.0)),
        ("asinh", m_asinh, m_asinh_grad, m_asinh_hvp, |x| -x / (1.0 + x * x).powf(1.5), (-3.0, 3.0)),
        ("acosh", m_acosh, m_acosh_grad, m_acosh_hvp, |x| -x / (x * x - 1.0).powf(1.5), (1.1, 4.0)),
        ("atanh", m_atanh, m_atanh_grad, m_atanh_hvp, |x| 2.0 * x / (1.0 - x * x).powi(2), (-0.9, 0.9)),
        ("exp", m_exp, m_exp_grad, m_exp_hvp, |x| x.exp(), (-2.0, 2.0)),
        ("exp2", m_exp2, m_exp2_grad, m_exp2_hvp, |x| LN_2 * LN_2 * x.exp2(), (-2.0, 2.0)),
        ("exp_m1", m_exp_m1, m_exp_m1_grad, m_exp_m1_hvp, |x| x.exp(), (-2.0, 2.0)),
        ("ln", m_ln, m_ln_grad, m_ln_hvp, |x| -1.0 / (x * x), (0.2, 5.0)),
        ("ln_1p", m_ln_1p, m_ln_1p_grad, m_ln_1p_hvp, |x| -1.0 / ((1.0 + x) * (1.0 + x)), (-0.5, 5.0)),
        ("log2", m_log2, m_log2_grad, m_log2_hvp, |x| -1.0 / (x * x * LN_2), (0.2, 5.0)),
        ("log10", m_log10, m_log10_grad, m_log10_hvp, |x| -1.0 / (x * x * LN_10), (0.2, 5.0)),
        ("sqrt", m_sqrt, m_sqrt_grad, m_sqrt_hvp, |x| -0.25 * x.powf(-1.5), (0.2, 5.0)),
        ("cbrt", m_cbrt, m_cbrt_grad, m_cbrt_hvp, |x| -2.0 / 9.0 * x.cbrt() / (x * x), (0.2, 5.0)),
        ("cbrt (x < 0)", m_cbrt, m_cbrt_grad, m_cbrt_hvp, |x| -2.0 / 9.0 * x.cbrt() / (x * x), (-5.0, -0.2)),
        ("recip", m_recip, m_recip_grad, m_recip_hvp, |x| 2.0 / (x * x * x), (0.3, 3.0)),
        ("recip (x < 0)", m_recip, m_recip_grad, m_recip_hvp, |x| 2.0 / (x * x * x), (-3.0, -0.3)),
        ("abs·x²", m_abs, m_abs_grad, m_abs_hvp, |x| 6.0 * x.abs(), (-2.0, 2.0)),
        ("powi(3)", m_powi3, m_powi3_grad, m_powi3_hvp, |x| 6.0 * x, (-2.0, 2.0)),
        ("powi(-2)", m_powi_neg, m_powi_neg_grad, m_powi_neg_hvp, |x| 6.0 / x.powi(4), (0.3, 2.0)),
        ("powi(1)", m_powi1, m_powi1_grad, m_powi1_hvp, |_| 0.0, (-2.0, 2.0)),
        ("powf(2.5)", m_powf, m_powf_grad, m_powf_hvp, |x| 2.5 * 1.5 * x.sqrt(), (0.2, 3.0)),
        ("powf(0.5)/x²", m_powf_neg, m_powf_neg_grad, m_powf_neg_hvp, |x| 15.0 / 4.0 * x.powf(-3.5), (0.2, 3.0)),
        (
            "2.5.powf(x)",
            m_powf_base,
            m_powf_base_grad,
            m_powf_base_hvp,
            |x| 2.5f64.ln().powi(2) * 2.5f64.powf(x),
            (-2.0, 2.0),
        ),
        ("max(x, 0.5)·x", m_max, m_max_grad, m_max_hvp, |x| if x > 0.5 { 2.0 } else { 0.0 }, (-2.0, 2.0)),
        ("min(x, 0.5)·x", m_min, m_min_grad, m_min_hvp, |x| if x < 0.5 { 2.0 } else { 0.0 }, (-2.0, 2.0)),
        ("0.5.max(x²)", m_max_rev, m_max_rev_grad, m_max_rev_hvp, |x| if x * x > 0.5 { 2.0 } else { 0.0 }, (-2.0, 2.0)),
        ("hypot(x, 2)", m_hypot, m_hypot_grad, m_hypot_hvp, |x| 4.0 / (x * x + 4.0).powf(1.5), (-3.0, 3.0)),
        ("2.hypot(x)", m_hypot_rev, m_hypot_rev_grad, m_hypot_rev_hvp, |x| 4.0 / (x * x + 4.0).powf(1.5), (-3.0, 3.0)),
        ("atan2(x, 2)", m_atan2, m_atan2_grad, m_atan2_hvp, |x| -4.0 * x / (x * x + 4.0).powi(2), (-3.0, 3.0)),
        (
            "2.atan2(x)",
            m_atan2_rev,
            m_atan2_rev_grad,
            m_atan2_rev_hvp,
            |x| 4.0 * x / (x * x + 4.0).powi(2),
            (-3.0, 3.0),
        ),
        ("mul_add(x, x, 1)", m_mul_add, m_mul_add_grad, m_mul_add_hvp, |_| 2.0, (-2.0, 2.0)),
        ("mul_add(x, 2, 3)·x", m_mul_add_const, m_mul_add_const_grad, m_mul_add_const_hvp, |_| 4.0, (-2.0, 2.0)),
        ("f64::sin·f64::exp", m_path, m_path_grad, m_path_hvp, |x| 2.0 * x.cos() * x.exp(), (-2.0, 2.0)),
        (
            "cos(πx)",
            m_pi,
            m_pi_grad,
            m_pi_hvp,
            |x| -(std::f64::consts::PI).powi(2) * (std::f64::consts::PI * x).cos(),
            (-2.0, 2.0),
        ),
    ];
    let mut failures = Vec::new();
    for (k, &(name, f, grad, hvp, d2, (lo, hi))) in cases.iter().enumerate() {
        let mut pts = points(1500 + k as u64, 1, lo, hi);
        pts.push(vec![0.5 * (lo + hi) + 0.123 * (hi - lo)]);
        for p in &pts {
            let x = p[0];
            for v in [1.0, -0.75] {
                let (value, g, hv) = hvp(x, v);
                let want = d2(x) * v;
                // mul_add: not fused on duals (see `repro::mul_add_value`), so equal to an ulp or two.
                let ulps = if name.starts_with("mul_add") { 4.0 * f64::EPSILON } else { 0.0 };
                if (value - f(x)).abs() > ulps * value.abs() {
                    failures.push(format!("{name}: f_hvp value {value:e} ≠ f(x) = {:e} at x = {x}", f(x)));
                }
                if (g - grad(x).1).abs() > ulps * g.abs() {
                    failures.push(format!("{name}: f_hvp gradient {g:e} ≠ f_grad {:e} at x = {x}", grad(x).1));
                }
                if (hv - want).abs() > 1e-13 * want.abs().max(1.0) {
                    failures.push(format!("{name}: f''·v = {hv:e} but the closed form gives {want:e} at x = {x}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// Two- and three-argument rules with every argument differentiated.
#[differentiable]
fn b_atan2(y: f64, x: f64) -> f64 {
    y.atan2(x)
}

#[differentiable]
fn b_hypot(x: f64, y: f64) -> f64 {
    x.hypot(y)
}

#[differentiable]
fn b_powf(x: f64, y: f64) -> f64 {
    x.powf(y)
}

#[differentiable]
fn b_max_min(x: f64, y: f64) -> f64 {
    x.max(y).powi(2) + x.min(y).powi(3)
}

#[differentiable]
fn b_mul_add(x: f64, y: f64, z: f64) -> f64 {
    x.mul_add(y, z) * z
}

#[test]
fn binary_methods_against_closed_form_hessians() {
    let pts = vec![vec![0.7, 1.3], vec![-1.1, 0.4], vec![1.0, -0.7], vec![-1.3, -0.2], vec![0.2, 2.0]];
    let hs = check_hvp("atan2", &scalar2_hvp!(b_atan2, b_atan2_grad, b_atan2_hvp), &pts, 60, OPTS);
    for (p, h) in pts.iter().zip(&hs) {
        let (y, x) = (p[0], p[1]);
        let r4 = (x * x + y * y).powi(2);
        let want = vec![vec![-2.0 * x * y / r4, (y * y - x * x) / r4], vec![(y * y - x * x) / r4, 2.0 * x * y / r4]];
        assert_matrix(h, &want, 1e-14, &format!("atan2 at {p:?}"));
    }

    let hs = check_hvp("hypot", &scalar2_hvp!(b_hypot, b_hypot_grad, b_hypot_hvp), &pts, 61, OPTS);
    for (p, h) in pts.iter().zip(&hs) {
        let (x, y) = (p[0], p[1]);
        let r3 = x.hypot(y).powi(3);
        let want = vec![vec![y * y / r3, -x * y / r3], vec![-x * y / r3, x * x / r3]];
        assert_matrix(h, &want, 1e-14, &format!("hypot at {p:?}"));
    }

    let pts = points_in(1600, POINTS, &[(0.3, 3.0), (-2.0, 3.0)]);
    let hs = check_hvp("powf", &scalar2_hvp!(b_powf, b_powf_grad, b_powf_hvp), &pts, 62, OPTS);
    for (p, h) in pts.iter().zip(&hs) {
        let (x, y) = (p[0], p[1]);
        let z = x.powf(y);
        let l = x.ln();
        let fxy = x.powf(y - 1.0) * (1.0 + y * l);
        let want = vec![vec![y * (y - 1.0) * x.powf(y - 2.0), fxy], vec![fxy, z * l * l]];
        assert_matrix(h, &want, 1e-13, &format!("powf at {p:?}"));
    }

    let pts = vec![vec![0.7, 1.3], vec![1.1, 0.4], vec![-1.0, -0.7], vec![-1.3, 0.2]];
    let hs = check_hvp("max_min", &scalar2_hvp!(b_max_min, b_max_min_grad, b_max_min_hvp), &pts, 63, OPTS);
    for (p, h) in pts.iter().zip(&hs) {
        let (x, y) = (p[0], p[1]);
        // x > y: x² + y³; else y² + x³.
        let want =
            if x > y { vec![vec![2.0, 0.0], vec![0.0, 6.0 * y]] } else { vec![vec![6.0 * x, 0.0], vec![0.0, 2.0]] };
        assert_matrix(h, &want, 1e-15, &format!("max/min at {p:?}"));
    }

    let pts = points(1601, 3, -2.0, 2.0);
    let hs = check_hvp("mul_add", &scalar3_hvp!(b_mul_add, b_mul_add_grad, b_mul_add_hvp), &pts, 64, MUL_ADD);
    for (p, h) in pts.iter().zip(&hs) {
        let (x, y, z) = (p[0], p[1], p[2]);
        // (xy + z)·z
        let want = vec![vec![0.0, z, y], vec![z, 0.0, x], vec![y, x, 2.0]];
        assert_matrix(h, &want, 1e-15, &format!("mul_add at {p:?}"));
    }
}

/// Every method of the rule table in one function of three variables, with cross terms.
#[differentiable]
fn all_methods(x: &[f64]) -> f64 {
    let (a, b, c) = (x[0], x[1], x[2]);
    let t1 = (a * b).sin() + (b - c).cos() * a + (0.5 * a * c).tan();
    let t2 = (a * b).asin() + (b * c).acos() * a + (a - b).atan() + c.atan2(a + b);
    let t3 = (a * c).sinh() * b + (b * c).cosh() + (a - c).tanh() * b;
    let t4 = (a + b).asinh() * c + (1.0 + a * b).acosh() + (a * c).atanh();
    let t5 = (a * b).exp() + (b - c).exp2() * a + (a * c).exp_m1();
    let t6 = (a + b).ln() * c + (a * b * c).ln_1p() + (b + c).log2() * a + (a * c + 1.0).log10();
    let t7 = (a * b + c).sqrt() * c + (a + 2.0 * c).cbrt() * b + (a + b * c).recip();
    let t8 = (a + b).powi(3) * c + a.powf(b) + b.powf(1.5) * c + (a - b).abs() * c;
    let t9 = a.max(b) * c + b.min(c) * a + a.hypot(b * c) + a.mul_add(b, c) * c;
    let t10 = f64::sin(a * c) * f64::powi(b, 2) + f64::atan2(a, b) * std::f64::consts::PI;
    t1 + t2 + t3 + t4 + t5 + t6 + t7 + t8 + t9 + t10
}

#[test]
fn all_methods_with_cross_terms() {
    // a, b, c in (0.2, 0.8), kept apart so that max/min/abs do not switch within the step.
    let pts: Vec<Vec<f64>> = points(1700, 3, 0.2, 0.8)
        .into_iter()
        .chain([vec![0.25, 0.5, 0.75], vec![0.7, 0.3, 0.45]])
        .filter(|p| (p[0] - p[1]).abs() > 0.05 && (p[1] - p[2]).abs() > 0.05)
        .collect();
    assert!(pts.len() >= 4);
    check_hvp("all_methods", &slice_hvp!(all_methods, all_methods_grad, all_methods_hvp), &pts, 70, MUL_ADD);
}

// ===================================================================================================
// Several active parameters of every kind
// ===================================================================================================

#[differentiable]
fn zipped(x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for (a, b) in x.iter().zip(y.iter()) {
        s += a * b + (a - b).powi(2) * a;
    }
    for (&a, b) in x.iter().zip(y) {
        s += a.sin() * b;
    }
    s
}

#[differentiable]
fn fixed_array(p: [f64; 3], q: &[f64; 2]) -> f64 {
    p[0] * q[1] * p[1] + (p[1] - q[0]).powi(3) + p[2].exp() * q[0] * q[1]
}

#[differentiable]
fn owned_vec(v: Vec<f64>, w: &Vec<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..v.len() {
        s += v[i].sin() * w[i] + w[i] * w[i] * v[i];
    }
    s
}

#[differentiable]
fn sum_of_cubes<const N: usize>(x: [f64; N]) -> f64 {
    let mut s = 0.0;
    for i in 0..N {
        s += x[i] * x[i] * x[i];
    }
    s
}

#[differentiable]
fn tuples(x: f64, y: f64) -> f64 {
    let (a, b) = (x * y, x + y);
    let t = (a.sin(), b * b, 3.0);
    let (mut c, d, k) = t;
    c += d * t.0;
    let pair: (f64, f64) = (c, k * d);
    pair.0 + pair.1 * t.1
}

#[differentiable]
fn reassign_parameter(mut x: f64, y: f64, z: f64) -> f64 {
    x = x * y;
    x += y.exp() * z;
    x *= x;
    x / z
}

#[test]
fn several_active_parameters() {
    let m = 4;
    let fns = Fns {
        f: &|p| zipped(&p[..m], &p[m..]),
        grad: &|p| {
            let (v, (gx, gy)) = zipped_grad(&p[..m], &p[m..]);
            (v, cat(&[&gx, &gy]))
        },
        hvp: &|p, d| {
            let (v, (gx, gy), (hx, hy)) = zipped_hvp(&p[..m], &d[..m], &p[m..], &d[m..]);
            (v, cat(&[&gx, &gy]), cat(&[&hx, &hy]))
        },
    };
    check_hvp("zipped", &fns, &points(1800, 2 * m, -1.5, 1.5), 80, OPTS);

    let a3 = |p: &[f64]| [p[0], p[1], p[2]];
    let a2 = |p: &[f64]| [p[3], p[4]];
    let fns = Fns {
        f: &|p| fixed_array(a3(p), &a2(p)),
        grad: &|p| {
            let (v, (gp, gq)) = fixed_array_grad(a3(p), &a2(p));
            (v, cat(&[&gp, &gq]))
        },
        hvp: &|p, d| {
            let (v, (gp, gq), (hp, hq)) = fixed_array_hvp(a3(p), a3(d), &a2(p), &a2(d));
            (v, cat(&[&gp, &gq]), cat(&[&hp, &hq]))
        },
    };
    let pts = points(1801, 5, -1.5, 1.5);
    let hs = check_hvp("fixed_array", &fns, &pts, 81, OPTS);
    for (p, h) in pts.iter().zip(&hs) {
        // Flat [p0, p1, p2, q0, q1].
        let e = p[2].exp();
        let d = 6.0 * (p[1] - p[3]);
        let want = vec![
            vec![0.0, p[4], 0.0, 0.0, p[1]],
            vec![p[4], d, 0.0, -d, p[0]],
            vec![0.0, 0.0, e * p[3] * p[4], e * p[4], e * p[3]],
            vec![0.0, -d, e * p[4], d, e],
            vec![p[1], p[0], e * p[3], e, 0.0],
        ];
        assert_matrix(h, &want, 1e-14, &format!("fixed_array at {p:?}"));
    }

    let m = 3;
    let fns = Fns {
        f: &|p| owned_vec(p[..m].to_vec(), &p[m..].to_vec()),
        grad: &|p| {
            let (v, (gv, gw)) = owned_vec_grad(p[..m].to_vec(), &p[m..].to_vec());
            (v, cat(&[&gv, &gw]))
        },
        hvp: &|p, d| {
            let (v, (gv, gw), (hv, hw)) =
                owned_vec_hvp(p[..m].to_vec(), d[..m].to_vec(), &p[m..].to_vec(), &d[m..].to_vec());
            (v, cat(&[&gv, &gw]), cat(&[&hv, &hw]))
        },
    };
    check_hvp("owned_vec", &fns, &points(1802, 2 * m, -1.5, 1.5), 82, OPTS);

    // Const generic length: H = diag(6 xᵢ).
    let x = [1.0, -2.0, 0.5, 3.0];
    let (v, g, hv) = sum_of_cubes_hvp(x, [0.5, 1.0, -1.0, 2.0]);
    assert_eq!(v, sum_of_cubes(x));
    assert_eq!(g, sum_of_cubes_grad(x).1);
    assert_eq!(hv, [3.0, -12.0, -3.0, 36.0]);
    let (_, _, hv2) = sum_of_cubes_hvp([0.1, 0.2], [1.0, 1.0]);
    assert!((hv2[0] - 0.6).abs() < 1e-15 && (hv2[1] - 1.2).abs() < 1e-15, "{hv2:?}");

    check_hvp("tuples", &scalar2_hvp!(tuples, tuples_grad, tuples_hvp), &points(1803, 2, -1.5, 1.5), 83, OPTS);
    let fns = scalar3_hvp!(reassign_parameter, reassign_parameter_grad, reassign_parameter_hvp);
    check_hvp("reassign_parameter", &fns, &points_in(1804, POINTS, &[(-1.5, 1.5), (-1.5, 1.5), (0.5, 2.0)]), 84, OPTS);
}

#[test]
fn buffer_form_matches_the_allocating_form() {
    let mut r = rng(1900);
    for n in [2usize, 7, 50] {
        let x: Vec<f64> = (0..n).map(|_| r.gen_range(-2.0..2.0)).collect();
        let v = random_vec(&mut r, n);
        let (value, g, hv) = rosenbrock_hvp(&x, &v);
        let (mut g_buf, mut hv_buf) = (vec![f64::NAN; n], vec![f64::NAN; n]);
        let value_into = rosenbrock_hvp_into(&x, &v, &mut g_buf, &mut hv_buf);
        assert_eq!(value_into, value);
        assert_eq!(g_buf, g, "gradient written by f_hvp_into");
        assert_eq!(hv_buf, hv, "HVP written by f_hvp_into");
        // Overwritten, not accumulated.
        rosenbrock_hvp_into(&x, &v, &mut g_buf, &mut hv_buf);
        assert_eq!(hv_buf, hv, "second f_hvp_into");
    }
}

// ===================================================================================================
// f32
// ===================================================================================================

#[differentiable]
fn logistic32(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp()) + 0.5f32 * x.sin()
}

#[differentiable]
fn rosenbrock32(x: &[f32]) -> f32 {
    let mut s = 0.0f32;
    for i in 0..x.len() - 1 {
        let a = 1.0 - x[i];
        let b = x[i + 1] - x[i] * x[i];
        s += a * a + 100.0 * b * b;
    }
    s
}

#[differentiable]
fn methods32(x: f32, y: f32) -> f32 {
    let a = x.exp().ln_1p() + y.sqrt() * x.powi(3) - x.powf(y) + y.atan2(x);
    let b = x.hypot(y).tanh() * (std::f32::consts::PI * x).cos() + y.cbrt() + x.mul_add(y, 1.0) * y;
    let c = x.max(y) * y + (2.0 * y).min(x) * x + (x - y).abs() * x + (x * y).ln() + y.recip();
    a + b + c
}

#[differentiable]
fn methods64(x: f64, y: f64) -> f64 {
    let a = x.exp().ln_1p() + y.sqrt() * x.powi(3) - x.powf(y) + y.atan2(x);
    let b = x.hypot(y).tanh() * (std::f64::consts::PI * x).cos() + y.cbrt() + x.mul_add(y, 1.0) * y;
    let c = x.max(y) * y + (2.0 * y).min(x) * x + (x - y).abs() * x + (x * y).ln() + y.recip();
    a + b + c
}

#[differentiable]
fn damped32(x: f32, steps: usize) -> f32 {
    let mut y = x;
    let mut k = 0;
    while k < steps {
        y = y - 0.1 * y.sin() * y + (k as f32) * 0.01;
        k += 1;
    }
    let mut t = 0.0f32;
    while t < y.abs() + 1.0 {
        t += 0.5;
    }
    y * y * t
}

#[differentiable]
fn damped64(x: f64, steps: usize) -> f64 {
    let mut y = x;
    let mut k = 0;
    while k < steps {
        y = y - 0.1 * y.sin() * y + (k as f64) * 0.01;
        k += 1;
    }
    let mut t = 0.0;
    while t < y.abs() + 1.0 {
        t += 0.5;
    }
    y * y * t
}

#[differentiable]
fn call32(x: &[f32]) -> f32 {
    let mut s = 0.0f32;
    for &xi in x.iter() {
        s += logistic32(xi * 2.0) * logistic32(0.5) * xi;
    }
    s
}

fn to32(x: &[f64]) -> Vec<f32> {
    x.iter().map(|&v| v as f32).collect()
}

fn to64(x: &[f32]) -> Vec<f64> {
    x.iter().map(|&v| v as f64).collect()
}

/// f32 HVPs: value and gradient exactly those of `f` and `f_grad` (in f32), and `H·v` against an f64
/// reference at the same (f32-representable) point, to `rtol·‖H·v‖∞`.
#[track_caller]
fn check_hvp32(
    name: &str,
    f: &dyn Fn(&[f32]) -> f32,
    grad: &dyn Fn(&[f32]) -> (f32, Vec<f32>),
    hvp: &dyn Fn(&[f32], &[f32]) -> (f32, Vec<f32>, Vec<f32>),
    reference: &dyn Fn(&[f64], &[f64]) -> Vec<f64>,
    pts: &[Vec<f64>],
    rtol: f64,
) {
    let mut r = rng(0x3232);
    for p in pts {
        let x = to32(p);
        for _ in 0..3 {
            let v = to32(&random_vec(&mut r, p.len()));
            let (value, g, hv) = hvp(&x, &v);
            assert_eq!(value, f(&x), "{name}: f32 value of f_hvp at {x:?}");
            assert_eq!(g, grad(&x).1, "{name}: f32 gradient of f_hvp at {x:?}");
            let want = reference(&to64(&x), &to64(&v));
            let scale = norm_inf(&want);
            for i in 0..x.len() {
                assert!(
                    (hv[i] as f64 - want[i]).abs() <= rtol * scale,
                    "{name}: f32 (H·v)[{i}] = {:e} but the f64 reference gives {:e} at {x:?}",
                    hv[i],
                    want[i]
                );
            }
        }
    }
}

#[test]
fn f32_hvps_against_f64() {
    // logistic32'' = σ(1−σ)(1−2σ) − ½ sin x.
    check_hvp32(
        "logistic32",
        &|x| logistic32(x[0]),
        &|x| {
            let (v, g) = logistic32_grad(x[0]);
            (v, vec![g])
        },
        &|x, d| {
            let (v, g, h) = logistic32_hvp(x[0], d[0]);
            (v, vec![g], vec![h])
        },
        &|x, d| {
            let s = 1.0 / (1.0 + (-x[0]).exp());
            vec![(s * (1.0 - s) * (1.0 - 2.0 * s) - 0.5 * x[0].sin()) * d[0]]
        },
        &points(2000, 1, -3.0, 3.0),
        1e-5,
    );

    check_hvp32(
        "rosenbrock32",
        &|x| rosenbrock32(x),
        &|x| rosenbrock32_grad(x),
        &|x, d| rosenbrock32_hvp(x, d),
        &|x, d| rosenbrock_hvp(x, d).2,
        &points(2001, 6, -1.5, 1.5),
        1e-5,
    );

    let pts = vec![vec![0.5, 1.25], vec![1.5, 0.5], vec![0.75, 0.25], vec![2.0, 1.5], vec![1.25, 2.5]];
    check_hvp32(
        "methods32",
        &|x| methods32(x[0], x[1]),
        &|x| {
            let (v, (a, b)) = methods32_grad(x[0], x[1]);
            (v, vec![a, b])
        },
        &|x, d| {
            let (v, (a, b), (c, e)) = methods32_hvp(x[0], d[0], x[1], d[1]);
            (v, vec![a, b], vec![c, e])
        },
        &|x, d| {
            let (_, _, (c, e)) = methods64_hvp(x[0], d[0], x[1], d[1]);
            vec![c, e]
        },
        &pts,
        1e-4,
    );
    check_hvp("methods64", &scalar2_hvp!(methods64, methods64_grad, methods64_hvp), &pts, 90, MUL_ADD);

    for steps in [0usize, 3, 8] {
        check_hvp32(
            "damped32",
            &|x| damped32(x[0], steps),
            &|x| {
                let (v, g) = damped32_grad(x[0], steps);
                (v, vec![g])
            },
            &|x, d| {
                let (v, g, h) = damped32_hvp(x[0], d[0], steps);
                (v, vec![g], vec![h])
            },
            &|x, d| vec![damped64_hvp(x[0], d[0], steps).2],
            &[vec![0.8], vec![-1.7], vec![2.2]],
            1e-4,
        );
    }

    check_hvp32(
        "call32",
        &|x| call32(x),
        &|x| call32_grad(x),
        &|x, d| call32_hvp(x, d),
        &|x, d| {
            // Σ c·x·L(2x), c = L(0.5), L = logistic32: each term's second derivative is c·(4L′(2x) + 4x·L″(2x)).
            let c = logistic32(0.5) as f64;
            let l2 = |t: f64| {
                let s = 1.0 / (1.0 + (-t).exp());
                (s * (1.0 - s) * (1.0 - 2.0 * s) - 0.5 * t.sin(), s * (1.0 - s) + 0.5 * t.cos())
            };
            x.iter()
                .zip(d)
                .map(|(&xi, &di)| {
                    let (dd, d1) = l2(2.0 * xi);
                    c * (4.0 * d1 + 4.0 * xi * dd) * di
                })
                .collect()
        },
        &points(2002, 4, -2.0, 2.0),
        1e-4,
    );
}

// ===================================================================================================
// Reproducers of problems found here
// ===================================================================================================

/// Former compile failures, now regression tests.
///
/// When the dual variants were first emitted for every function are emitted for every function, a float method whose *other* operand is an
/// inactive float variable (a constant temporary such as the `-0.5` of `powf(-0.5)`, a `let`, a
/// `wrt`-excluded parameter) or whose receiver is one, no longer compiles: the dual reverse sweep calls
/// e.g. `d_powf_x(x: Dual<f64>, e: f64)` or `e.atan2(x: Dual<f64>)` without lifting `e`. Every
/// function in this module compiled before f_hvp (e674332) and fails now, even though nothing asks for
/// its HVP. (Positive literals, `x.powf(2.5)`, `2.5f64.powf(x)`, work.)
mod repro {
    use adjoint::differentiable;

    #[differentiable]
    pub fn negative_literal_exponent(x: f64) -> f64 {
        x.powf(-0.5) // `-0.5` is lowered to a temporary: d_powf_x(Dual, f64)
    }

    #[differentiable]
    pub fn variable_exponent(x: f64) -> f64 {
        let e = 1.5;
        x.powf(e)
    }

    #[differentiable(wrt(x))]
    pub fn parameter_exponent(x: f64, k: f64) -> f64 {
        x.powf(k)
    }

    #[differentiable]
    pub fn negative_literal_second_argument(x: f64) -> f64 {
        x.atan2(-2.0) + x.max(-1.0) + x.min(-1.0)
    }

    #[differentiable]
    pub fn constant_receiver(x: f64) -> f64 {
        let e: f64 = 1.5;
        e.atan2(x) + e.hypot(x) + e.powf(x) + e.max(x) + e.mul_add(x, x)
    }

    #[differentiable(wrt(x))]
    pub fn data_parameter_in_binary_rules(x: f64, k: f64) -> f64 {
        x.atan2(k) + k.atan2(x) + x.max(k) + k.min(x)
    }

    /// Compiles, but has no `f_hvp`: `let n = x.len()` is taken for "a constant computed from a
    /// differentiated value" (an opaque expression reading `x`), which disables second order, although
    /// the same `x.len()` inside a `for` range or a `vec![0.0; x.len()]` is fine.
    #[differentiable]
    pub fn length_of_an_active_slice(x: &[f64]) -> f64 {
        let n = x.len();
        let mut s = 0.0;
        for i in 0..n {
            s += x[i] * x[i];
        }
        s
    }

    #[test]
    fn length_of_an_active_slice_has_an_hvp() {
        let (_, _, hv) = length_of_an_active_slice_hvp(&[1.0, 2.0], &[1.0, 0.0]);
        assert_eq!(hv, vec![2.0, 0.0]);
    }
}

/// Former wrong results at run time, now regression tests.
mod known_failures {
    use adjoint::differentiable;

    /// `x.len()` in an index (`x[(i + 1) % x.len()]`) also disables second order, silently: `cyclic`
    /// gets dual stubs that panic, so its caller's `f_hvp` compiles and panics with "`cyclic` has no
    /// second-order derivative code (custom rules, nalgebra or struct parameters ...)", which names none
    /// of the actual reasons.
    #[differentiable]
    pub fn cyclic(x: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; x.len()];
        for i in 0..x.len() {
            out[i] = x[i] * x[(i + 1) % x.len()];
        }
        out
    }

    #[differentiable]
    pub fn calls_cyclic(x: &[f64]) -> f64 {
        let y = cyclic(x);
        y[0] + y[1]
    }

    #[test]
    fn callee_indexing_with_the_length() {
        // f = x0·x1 + x1·x0 = 2·x0·x1 (n = 2): H = [[0, 2], [2, 0]].
        let (_, _, hv) = calls_cyclic_hvp(&[1.0, 2.0], &[1.0, 0.0]);
        assert_eq!(hv, vec![0.0, 2.0]);
    }

    /// `Dual::mul_add` computes `self * a + b` (two roundings) where `f64::mul_add` rounds once, so the
    /// value of `f_hvp` (and its gradient, where that depends on the value) differs from `f`/`f_grad` by
    /// an ulp.
    #[differentiable]
    pub fn fused(x: f64) -> f64 {
        x.mul_add(x, 1.0)
    }

    #[test]
    fn mul_add_value() {
        let x = -0.6656968892067177;
        assert_eq!(fused_hvp(x, 1.0).0, fused(x)); // 1.4431523482995008 vs 1.443152348299501
    }
}

// ===================================================================================================
// Constants computed from differentiated values: in second-order code they read the values alone
// ===================================================================================================

/// `floor`, an `as usize` index, `signum`: piecewise-constant functions of `x`, whose derivatives are
/// zero away from their jumps; the rest is differentiated through.
#[differentiable]
fn rounded_constants(x: &[f64]) -> f64 {
    let n = x.len();
    let mut s = 0.0;
    for i in 0..n {
        let k = x[i].floor();
        let j = adjoint::no_grad(x[i].abs() * 2.0) as usize % n;
        let sgn = x[i].signum();
        s += (x[i] - k) * (x[i] - k) * x[j] + sgn * x[i].sin();
    }
    s
}

/// A scalar parameter rounded, cast and compared inside conditions and a `while` trip count.
#[differentiable]
fn scalar_conditions(x: f64, y: f64) -> f64 {
    let mut s = x * y;
    if (x * 3.0) as i32 % 2 == 0 {
        s += x.exp() * y;
    } else {
        s -= y.powi(3) * x;
    }
    let mut t = 0.0;
    let mut k = 0;
    while t < y.abs().floor() + 2.0 {
        s += (t + 1.0) * x * x;
        t += 1.0;
        k += 1;
    }
    s + k as f64 * y
}

/// `no_grad` stops derivatives of every order, as JAX's `stop_gradient` does: the gradient of
/// `no_grad(x²)·x` is `x²`, and its Hessian is 0, not the 2x that a finite difference of that gradient
/// sees.
#[differentiable]
fn frozen_square(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let frozen = adjoint::no_grad(x[i] * x[i]);
        s += frozen * x[i] + x[i].sin();
    }
    s
}

#[test]
fn no_grad_stops_every_order() {
    let x = [0.3, -1.2, 2.0];
    let v = [1.0, 0.5, -0.25];
    let (_, g, hv) = frozen_square_hvp(&x, &v);
    for i in 0..3 {
        assert_eq!(g[i], x[i] * x[i] + x[i].cos());
        assert_eq!(hv[i], -x[i].sin() * v[i]);
    }
}

#[differentiable]
fn parabola(x: f64) -> f64 {
    x * x - 1.0
}

/// A condition calling another differentiable function on a differentiated scalar.
#[differentiable]
fn condition_with_call(x: f64, y: f64) -> f64 {
    if parabola(x) > 0.0 {
        x * y.sin()
    } else {
        y * x.cos()
    }
}

#[test]
fn constants_from_differentiated_values() {
    // Points away from the jumps of floor, the cast and signum (the FD step is 1e-3 relative).
    let pts: Vec<Vec<f64>> = points_in(1201, 400, &[(-2.0, 2.0); 4])
        .into_iter()
        .filter(|p| {
            p.iter().all(|x| (x - x.round()).abs() > 0.05 && ((x.abs() * 2.0) - (x.abs() * 2.0).round()).abs() > 0.05)
        })
        .collect();
    let pts = &pts[..POINTS];
    let fns = slice_hvp!(rounded_constants, rounded_constants_grad, rounded_constants_hvp);
    check_hvp("rounded_constants", &fns, pts, 41, OPTS);

    let pts: Vec<Vec<f64>> = points_in(1202, 200, &[(-1.8, 1.8); 2])
        .into_iter()
        .filter(|p| {
            ((p[0] * 3.0) - (p[0] * 3.0).round()).abs() > 0.05 && (p[1].abs() - p[1].abs().round()).abs() > 0.05
        })
        .collect();
    let pts = &pts[..POINTS];
    let fns = scalar2_hvp!(scalar_conditions, scalar_conditions_grad, scalar_conditions_hvp);
    check_hvp("scalar_conditions", &fns, pts, 42, OPTS);

    let pts: Vec<Vec<f64>> =
        points(1203, 2, -2.0, 2.0).into_iter().filter(|p| (p[0] * p[0] - 1.0).abs() > 0.05).collect();
    let fns = scalar2_hvp!(condition_with_call, condition_with_call_grad, condition_with_call_hvp);
    check_hvp("condition_with_call", &fns, &pts, 43, OPTS);
    // Closed form on the branch x² > 1: f = x·sin y, H = [[0, cos y], [cos y, −x sin y]].
    let (x, y) = (1.5, 0.3);
    let (_, _, (h0, h1)) = condition_with_call_hvp(x, 1.0, y, 0.0);
    assert_eq!((h0, h1), (0.0, y.cos()));
}
