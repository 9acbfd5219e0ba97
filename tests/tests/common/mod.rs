//! Shared checks for the integration tests.
//!
//! Every generated function is seen through a *flat* view: the active inputs concatenated into one
//! `&[f64]`. A test adapts its function's real signature to that view with small closures (or with the
//! constructors below for the common shapes), and [`check_all`] / [`check_vector`] then verify, at each
//! point:
//! - the primal value returned by every generated form equals the original function's value;
//! - the gradient agrees with a fourth-order central difference ([`adjoint::check_gradient`]);
//! - forward mode agrees with reverse mode (`jvp(x, v) = ∇f(x)·v` for a random `v`) and with a
//!   finite difference along `v` ([`adjoint::check_jvp`]);
//! - `f_grad_into` overwrites its buffers with the gradient, whatever they held before;
//! - `f_vjp` *accumulates* `z̄·∇f` into its buffers.
#![allow(dead_code, unused_macros, clippy::type_complexity)]

use adjoint::{check_gradient, check_jvp, CheckOptions};
use rand::{rngs::StdRng, Rng, SeedableRng};

/// Relative tolerance of the finite-difference comparisons (f64 functions).
pub const FD_RTOL: f64 = 1e-6;
/// Tolerance of comparisons between two exact derivatives (forward vs reverse, closed forms).
pub const EXACT_RTOL: f64 = 1e-10;
/// Number of random points each function is checked at.
pub const POINTS: usize = 5;

/// The deterministic generator every test draws from.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// `count` points with coordinate `i` drawn uniformly from `ranges[i]`.
pub fn points_in(seed: u64, count: usize, ranges: &[(f64, f64)]) -> Vec<Vec<f64>> {
    let mut r = rng(seed);
    (0..count).map(|_| ranges.iter().map(|&(lo, hi)| r.gen_range(lo..hi)).collect()).collect()
}

/// [`POINTS`] points of dimension `dim`, every coordinate drawn uniformly from `lo..hi`.
pub fn points(seed: u64, dim: usize, lo: f64, hi: f64) -> Vec<Vec<f64>> {
    points_in(seed, POINTS, &vec![(lo, hi); dim])
}

/// A random vector with coordinates in `-1..1`.
pub fn random_vec(r: &mut StdRng, dim: usize) -> Vec<f64> {
    (0..dim).map(|_| r.gen_range(-1.0..1.0)).collect()
}

pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "dot of vectors of different lengths");
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `|a − b| ≤ atol + rtol·max(|a|, |b|)`.
pub fn close(a: f64, b: f64, rtol: f64, atol: f64) -> bool {
    (a - b).abs() <= atol + rtol * a.abs().max(b.abs())
}

/// Asserts `a ≈ b` to `rtol` (absolute floor `1e-12`).
#[track_caller]
pub fn assert_close(a: f64, b: f64, rtol: f64, what: &str) {
    assert!(close(a, b, rtol, 1e-12), "{what}: {a:e} vs {b:e} (difference {:e})", (a - b).abs());
}

/// Asserts two vectors agree elementwise to `rtol`.
#[track_caller]
pub fn assert_all_close(a: &[f64], b: &[f64], rtol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths differ");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(close(*x, *y, rtol, 1e-12), "{what}[{i}]: {x:e} vs {y:e}\n  left:  {a:?}\n  right: {b:?}");
    }
}

/// Asserts `⟨a, v⟩ ≈ s`, with the tolerance scaled by `Σ|aᵢvᵢ|` so that cancellation in the sum
/// does not make it fail.
#[track_caller]
pub fn assert_dot(a: &[f64], v: &[f64], s: f64, what: &str) {
    let d = dot(a, v);
    let scale: f64 = a.iter().zip(v).map(|(x, y)| (x * y).abs()).sum::<f64>().max(s.abs());
    assert!((d - s).abs() <= 1e-12 + EXACT_RTOL * scale, "{what}: ⟨·,·⟩ = {d:e} but {s:e} (scale {scale:e})");
}

/// The generated forms of a scalar-valued function, seen through the flat input view.
pub struct Scalar<'a> {
    /// The original function.
    pub f: &'a dyn Fn(&[f64]) -> f64,
    /// `f_grad`: value and flat gradient.
    pub grad: &'a dyn Fn(&[f64]) -> (f64, Vec<f64>),
    /// `f_jvp`: value and directional derivative along the flat tangent.
    pub jvp: &'a dyn Fn(&[f64], &[f64]) -> (f64, f64),
    /// `f_grad_into`: writes the flat gradient into the buffer, returns the value.
    pub grad_into: &'a dyn Fn(&[f64], &mut [f64]) -> f64,
    /// `f_vjp`: adds `z̄·∇f` into the buffer, returns the value.
    pub vjp: &'a dyn Fn(&[f64], f64, &mut [f64]) -> f64,
}

/// Options of [`check_all_with`].
#[derive(Clone, Copy, Debug)]
pub struct Tol {
    /// Finite-difference comparison.
    pub fd: CheckOptions,
    /// Comparisons between exact derivatives (forward vs reverse, grad_into vs grad, vjp vs grad).
    pub exact: f64,
}

impl Default for Tol {
    fn default() -> Self {
        Self { fd: CheckOptions { rtol: FD_RTOL, ..CheckOptions::default() }, exact: EXACT_RTOL }
    }
}

/// [`check_all_with`] with the default tolerances.
#[track_caller]
pub fn check_all(fns: &Scalar, pts: &[Vec<f64>]) -> Vec<Vec<f64>> {
    check_all_with(fns, pts, Tol::default())
}

/// [`check_all`], then compares each gradient with a closed form `expected(x)` to `1e-10`.
#[track_caller]
pub fn check_all_closed(fns: &Scalar, pts: &[Vec<f64>], expected: impl Fn(&[f64]) -> Vec<f64>) {
    let grads = check_all(fns, pts);
    for (x, g) in pts.iter().zip(&grads) {
        assert_all_close(g, &expected(x), 1e-10, &format!("gradient vs closed form at {x:?}"));
    }
}

/// Runs every consistency check of the module doc at each point; returns the gradients.
#[track_caller]
pub fn check_all_with(fns: &Scalar, pts: &[Vec<f64>], tol: Tol) -> Vec<Vec<f64>> {
    assert!(!pts.is_empty(), "no points to check at");
    let mut r = rng(0x5eed ^ pts.len() as u64);
    let mut grads = Vec::new();
    for x in pts {
        let n = x.len();
        let value = (fns.f)(x);
        assert!(value.is_finite(), "f is not finite at {x:?}: {value}");
        let (v_grad, g) = (fns.grad)(x);
        assert_eq!(g.len(), n, "gradient length at {x:?}");
        assert_close(v_grad, value, 1e-13, &format!("value returned by f_grad at {x:?}"));

        // Gradient vs finite differences.
        if let Err(e) = check_gradient(|p| (fns.f)(p), x, &g, tol.fd) {
            panic!("gradient at {x:?} fails the finite-difference check: {e}\n  gradient: {g:?}");
        }

        // Forward mode: JVP = ∇f·v, and = the finite difference along v.
        let v = random_vec(&mut r, n);
        let (v_jvp, slope) = (fns.jvp)(x, &v);
        assert_close(v_jvp, value, 1e-13, &format!("value returned by f_jvp at {x:?}"));
        let d = dot(&g, &v);
        let scale: f64 = g.iter().zip(&v).map(|(a, b)| (a * b).abs()).sum::<f64>().max(slope.abs());
        assert!(
            (slope - d).abs() <= 1e-12 + tol.exact * scale,
            "JVP at {x:?} along {v:?} is {slope:e} but ∇f·v = {d:e}"
        );
        if let Err(e) = check_jvp(|p| (fns.f)(p), x, &v, slope, tol.fd) {
            panic!("JVP at {x:?} along {v:?} fails the finite-difference check: {e}");
        }
        // Basis tangents: each column of the JVP is one gradient entry.
        for i in 0..n {
            let mut e = vec![0.0; n];
            e[i] = 1.0;
            let (_, s) = (fns.jvp)(x, &e);
            assert!(close(s, g[i], tol.exact, 1e-12), "JVP along e_{i} at {x:?} is {s:e} but ∂f/∂x_{i} = {:e}", g[i]);
        }

        // grad_into overwrites whatever the buffer held.
        let mut buf = vec![1234.5; n];
        let v_into = (fns.grad_into)(x, &mut buf);
        assert_close(v_into, value, 1e-13, &format!("value returned by f_grad_into at {x:?}"));
        assert_all_close(&buf, &g, 1e-13, &format!("f_grad_into vs f_grad at {x:?}"));
        // ... also when called twice with the same buffer.
        (fns.grad_into)(x, &mut buf);
        assert_all_close(&buf, &g, 1e-13, &format!("second f_grad_into vs f_grad at {x:?}"));

        // vjp accumulates z̄·∇f on top of what the buffer held.
        let z_bar = r.gen_range(0.5..2.0) * if r.gen_bool(0.5) { 1.0 } else { -1.0 };
        let start = random_vec(&mut r, n);
        let mut acc = start.clone();
        let v_vjp = (fns.vjp)(x, z_bar, &mut acc);
        assert_close(v_vjp, value, 1e-13, &format!("value returned by f_vjp at {x:?}"));
        let expected: Vec<f64> = start.iter().zip(&g).map(|(s, gi)| s + z_bar * gi).collect();
        for i in 0..n {
            assert!(
                close(acc[i], expected[i], tol.exact, 1e-12),
                "f_vjp at {x:?} with z̄ = {z_bar}: buffer[{i}] = {:e}, expected {:e} (start {:e} + z̄·∂f/∂x_{i} {:e})",
                acc[i],
                expected[i],
                start[i],
                g[i]
            );
        }
        grads.push(g);
    }
    grads
}

/// The [`Scalar`] view of `fn f(x: &[f64]) -> f64`: `slice_fns!(f, f_grad, f_jvp, f_grad_into, f_vjp)`.
/// (The macros are visible in a test file after `#[macro_use] mod common;`.)
macro_rules! slice_fns {
    ($f:ident, $grad:ident, $jvp:ident, $into:ident, $vjp:ident) => {
        $crate::common::Scalar {
            f: &|x: &[f64]| $f(x),
            grad: &|x: &[f64]| $grad(x),
            jvp: &|x: &[f64], v: &[f64]| $jvp(x, v),
            grad_into: &|x: &[f64], g: &mut [f64]| $into(x, g),
            vjp: &|x: &[f64], z: f64, g: &mut [f64]| $vjp(x, z, g),
        }
    };
}

/// The [`Scalar`] view of `fn f(x: f64) -> f64`: `scalar_fns!(f, f_grad, f_jvp, f_grad_into, f_vjp)`.
macro_rules! scalar_fns {
    ($f:ident, $grad:ident, $jvp:ident, $into:ident, $vjp:ident) => {
        $crate::common::Scalar {
            f: &|x: &[f64]| $f(x[0]),
            grad: &|x: &[f64]| {
                let (v, g) = $grad(x[0]);
                (v, vec![g])
            },
            jvp: &|x: &[f64], v: &[f64]| $jvp(x[0], v[0]),
            grad_into: &|x: &[f64], g: &mut [f64]| $into(x[0], &mut g[0]),
            vjp: &|x: &[f64], z: f64, g: &mut [f64]| $vjp(x[0], z, &mut g[0]),
        }
    };
}

/// The [`Scalar`] view of `fn f(x: f64, y: f64) -> f64` (flat input `[x, y]`).
macro_rules! scalar2_fns {
    ($f:ident, $grad:ident, $jvp:ident, $into:ident, $vjp:ident) => {
        $crate::common::Scalar {
            f: &|x: &[f64]| $f(x[0], x[1]),
            grad: &|x: &[f64]| {
                let (v, (g0, g1)) = $grad(x[0], x[1]);
                (v, vec![g0, g1])
            },
            jvp: &|x: &[f64], v: &[f64]| $jvp(x[0], v[0], x[1], v[1]),
            grad_into: &|x: &[f64], g: &mut [f64]| {
                let (mut g0, mut g1) = (f64::NAN, f64::NAN);
                let v = $into(x[0], x[1], &mut g0, &mut g1);
                g[0] = g0;
                g[1] = g1;
                v
            },
            vjp: &|x: &[f64], z: f64, g: &mut [f64]| {
                let (mut g0, mut g1) = (g[0], g[1]);
                let v = $vjp(x[0], x[1], z, &mut g0, &mut g1);
                g[0] = g0;
                g[1] = g1;
                v
            },
        }
    };
}

/// The [`Scalar`] view of `fn f(x: f64, y: f64, z: f64) -> f64` (flat input `[x, y, z]`).
macro_rules! scalar3_fns {
    ($f:ident, $grad:ident, $jvp:ident, $into:ident, $vjp:ident) => {
        $crate::common::Scalar {
            f: &|x: &[f64]| $f(x[0], x[1], x[2]),
            grad: &|x: &[f64]| {
                let (v, (g0, g1, g2)) = $grad(x[0], x[1], x[2]);
                (v, vec![g0, g1, g2])
            },
            jvp: &|x: &[f64], v: &[f64]| $jvp(x[0], v[0], x[1], v[1], x[2], v[2]),
            grad_into: &|x: &[f64], g: &mut [f64]| {
                let (mut g0, mut g1, mut g2) = (f64::NAN, f64::NAN, f64::NAN);
                let v = $into(x[0], x[1], x[2], &mut g0, &mut g1, &mut g2);
                g.copy_from_slice(&[g0, g1, g2]);
                v
            },
            vjp: &|x: &[f64], z: f64, g: &mut [f64]| {
                let (mut g0, mut g1, mut g2) = (g[0], g[1], g[2]);
                let v = $vjp(x[0], x[1], x[2], z, &mut g0, &mut g1, &mut g2);
                g.copy_from_slice(&[g0, g1, g2]);
                v
            },
        }
    };
}

/// The generated forms of a vector-valued function (`Vec<f64>`, `[f64; N]` or a tuple of floats),
/// with its output flattened too.
pub struct Vector<'a> {
    /// The original function, output flattened.
    pub f: &'a dyn Fn(&[f64]) -> Vec<f64>,
    /// `f_jvp`: flat value and flat `J·v`.
    pub jvp: &'a dyn Fn(&[f64], &[f64]) -> (Vec<f64>, Vec<f64>),
    /// `f_vjp`: adds `Jᵀ·w` into the flat buffer, returns the flat value.
    pub vjp: &'a dyn Fn(&[f64], &[f64], &mut [f64]) -> Vec<f64>,
}

/// Checks a vector-valued function at each point:
/// - every row of `J` (from `f_vjp` with a basis cotangent) against finite differences of that output;
/// - every column of `J` (from `f_jvp` with a basis tangent) against the same rows;
/// - `⟨J·v, w⟩ = ⟨v, Jᵀ·w⟩` for random `v`, `w`; `f_vjp` accumulates into its buffer.
///
/// Returns the Jacobians, row-major (`jac[k][i] = ∂f_k/∂x_i`).
#[track_caller]
pub fn check_vector(fns: &Vector, pts: &[Vec<f64>]) -> Vec<Vec<Vec<f64>>> {
    check_vector_with(fns, pts, Tol::default())
}

#[track_caller]
pub fn check_vector_with(fns: &Vector, pts: &[Vec<f64>], tol: Tol) -> Vec<Vec<Vec<f64>>> {
    assert!(!pts.is_empty(), "no points to check at");
    let mut r = rng(0xfeed ^ pts.len() as u64);
    let mut jacs = Vec::new();
    for x in pts {
        let n = x.len();
        let value = (fns.f)(x);
        let m = value.len();
        assert!(value.iter().all(|v| v.is_finite()), "f is not finite at {x:?}: {value:?}");

        // Rows through the VJP with basis cotangents, each checked against finite differences.
        let mut jac = Vec::with_capacity(m);
        for k in 0..m {
            let mut w = vec![0.0; m];
            w[k] = 1.0;
            let mut row = vec![0.0; n];
            let v_vjp = (fns.vjp)(x, &w, &mut row);
            assert_all_close(&v_vjp, &value, 1e-13, &format!("value returned by f_vjp at {x:?}"));
            if let Err(e) = check_gradient(|p| (fns.f)(p)[k], x, &row, tol.fd) {
                panic!("row {k} of the Jacobian (via f_vjp) at {x:?} fails the finite-difference check: {e}\n  row: {row:?}");
            }
            jac.push(row);
        }

        // Columns through the JVP with basis tangents.
        for i in 0..n {
            let mut e = vec![0.0; n];
            e[i] = 1.0;
            let (v_jvp, col) = (fns.jvp)(x, &e);
            assert_all_close(&v_jvp, &value, 1e-13, &format!("value returned by f_jvp at {x:?}"));
            assert_eq!(col.len(), m, "tangent length at {x:?}");
            for k in 0..m {
                assert!(
                    close(col[k], jac[k][i], tol.exact, 1e-12),
                    "∂f_{k}/∂x_{i} at {x:?}: JVP column gives {:e}, VJP row gives {:e}",
                    col[k],
                    jac[k][i]
                );
            }
        }

        // Dot-product test with random directions, and accumulation in the VJP buffer.
        let v = random_vec(&mut r, n);
        let w = random_vec(&mut r, m);
        let (_, jv) = (fns.jvp)(x, &v);
        let start = random_vec(&mut r, n);
        let mut jtw = start.clone();
        (fns.vjp)(x, &w, &mut jtw);
        for i in 0..n {
            jtw[i] -= start[i];
        }
        let lhs = dot(&jv, &w);
        let rhs = dot(&v, &jtw);
        let scale = jv.iter().zip(&w).map(|(a, b)| (a * b).abs()).sum::<f64>().max(1e-300);
        assert!(
            (lhs - rhs).abs() <= 1e-12 + tol.exact * scale,
            "dot-product test at {x:?}: ⟨J·v, w⟩ = {lhs:e} but ⟨v, Jᵀ·w⟩ = {rhs:e}"
        );
        jacs.push(jac);
    }
    jacs
}
