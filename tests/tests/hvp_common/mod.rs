//! The second-order checks shared by `hvp.rs` (scalars, slices, arrays) and `hvp_linalg.rs` (nalgebra
//! values, parameter structs): a function's `f`, `f_grad` and `f_hvp` seen through a flat view
//! ([`HvpForms`]), and [`check_hvp`], which at each point checks H·v against Richardson-extrapolated
//! finite differences of the gradient along random directions (tolerance scaled by ‖H·v‖ and by the
//! rounding error of the difference quotient), that `f_hvp`'s value and gradient are `f`'s and
//! `f_grad`'s, symmetry ⟨u, H·w⟩ = ⟨w, H·u⟩ and linearity in the direction, and optionally the dense
//! Hessian assembled from n HVPs against a dense finite-difference Hessian.
#![allow(dead_code, clippy::type_complexity)]

use crate::common::{self, random_vec, rng};
use rand::Rng;

pub type Matrix = Vec<Vec<f64>>;

/// `f`, `f_grad` and `f_hvp` of a scalar function through the flat view: the active inputs concatenated
/// into one `&[f64]`, directions likewise, gradients and HVPs flattened in the same order.
pub trait HvpForms {
    fn value(&self, x: &[f64]) -> f64;
    fn grad(&self, x: &[f64]) -> (f64, Vec<f64>);
    fn hvp(&self, x: &[f64], v: &[f64]) -> (f64, Vec<f64>, Vec<f64>);
}

/// The flat view as borrowed closures.
pub struct Fns<'a> {
    pub f: &'a dyn Fn(&[f64]) -> f64,
    pub grad: &'a dyn Fn(&[f64]) -> (f64, Vec<f64>),
    pub hvp: &'a dyn Fn(&[f64], &[f64]) -> (f64, Vec<f64>, Vec<f64>),
}

impl HvpForms for Fns<'_> {
    fn value(&self, x: &[f64]) -> f64 {
        (self.f)(x)
    }
    fn grad(&self, x: &[f64]) -> (f64, Vec<f64>) {
        (self.grad)(x)
    }
    fn hvp(&self, x: &[f64], v: &[f64]) -> (f64, Vec<f64>, Vec<f64>) {
        (self.hvp)(x, v)
    }
}

/// The flat view as owned closures (built by adapters such as `hvp_linalg.rs`'s `view`).
pub struct OwnedFns<'a> {
    pub f: Box<dyn Fn(&[f64]) -> f64 + 'a>,
    pub grad: Box<dyn Fn(&[f64]) -> (f64, Vec<f64>) + 'a>,
    pub hvp: Box<dyn Fn(&[f64], &[f64]) -> (f64, Vec<f64>, Vec<f64>) + 'a>,
}

impl HvpForms for OwnedFns<'_> {
    fn value(&self, x: &[f64]) -> f64 {
        (self.f)(x)
    }
    fn grad(&self, x: &[f64]) -> (f64, Vec<f64>) {
        (self.grad)(x)
    }
    fn hvp(&self, x: &[f64], v: &[f64]) -> (f64, Vec<f64>, Vec<f64>) {
        (self.hvp)(x, v)
    }
}

/// Options of [`check_hvp`].
#[derive(Clone, Copy, Debug)]
pub struct Opts {
    /// Finite-difference step relative to `max(1, ‖x‖∞) / ‖v‖∞`.
    pub h: f64,
    /// Tolerance of `H·v` against the finite difference, relative to `‖H·v‖∞`; the rounding error of the
    /// difference quotient is added on top.
    pub fd_rtol: f64,
    /// The rounding error of one gradient entry relative to the largest one (ε times a margin for
    /// cancellation inside the gradient computation).
    pub grad_eps: f64,
    /// Random directions per point (on top of the basis vectors of the dense check).
    pub dirs: usize,
    /// Assemble the dense Hessian from n HVPs and compare it with a dense finite-difference Hessian.
    pub dense: bool,
    /// Symmetry (`H = Hᵀ`, `⟨u, Hv⟩ = ⟨v, Hu⟩`) and linearity, relative to the size of the entries.
    pub sym: f64,
    /// Value and gradient of `f_hvp` bit-for-bit those of `f` and `f_grad`. Off for the functions whose
    /// dual code sums in another order than nalgebra's f64 kernels (see `known_failures::not_bitwise_*`):
    /// then to [`ULPS`] relative.
    pub bitwise: bool,
}

pub const OPTS: Opts =
    Opts { h: 1e-3, fd_rtol: 1e-7, grad_eps: 1e3 * f64::EPSILON, dirs: 3, dense: true, sym: 1e-12, bitwise: true };

/// [`OPTS`] for the functions whose `f_hvp` value or gradient differ from `f`/`f_grad` in the last bits.
pub const NEAR: Opts = Opts { bitwise: false, ..OPTS };

/// Value and gradient of `f_hvp` against `f` and `f_grad` when not bitwise: relative to `max(1, |f|)` and
/// `max(1, ‖∇f‖∞)`.
pub const ULPS: f64 = 64.0 * f64::EPSILON;

/// f32 functions: a larger step, f32 rounding, looser symmetry.
pub const OPTS32: Opts = Opts {
    h: 3e-2,
    fd_rtol: 2e-3,
    grad_eps: 1e2 * f32::EPSILON as f64,
    dirs: 3,
    dense: true,
    sym: 2e-5,
    bitwise: true,
};

pub fn norm_inf(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

pub fn axpy(x: &[f64], t: f64, v: &[f64]) -> Vec<f64> {
    x.iter().zip(v).map(|(a, b)| a + t * b).collect()
}

pub fn basis(n: usize, j: usize) -> Vec<f64> {
    let mut e = vec![0.0; n];
    e[j] = 1.0;
    e
}

pub fn matvec(h: &Matrix, v: &[f64]) -> Vec<f64> {
    h.iter().map(|row| common::dot(row, v)).collect()
}

/// A finite-difference HVP and a bound on its rounding error.
pub struct Fd {
    pub hv: Vec<f64>,
    pub rounding: f64,
}

/// `(∇f(x + t·v) − ∇f(x − t·v)) / 2t` and the largest gradient entry seen.
fn central(fns: &(impl HvpForms + ?Sized), x: &[f64], v: &[f64], t: f64) -> (Vec<f64>, f64) {
    let gp = fns.grad(&axpy(x, t, v)).1;
    let gm = fns.grad(&axpy(x, -t, v)).1;
    let big = norm_inf(&gp).max(norm_inf(&gm));
    (gp.iter().zip(&gm).map(|(p, m)| (p - m) / (2.0 * t)).collect(), big)
}

/// The central difference extrapolated from steps `t` and `2t`, `(4·D(t) − D(2t)) / 3` (truncation error
/// O(t⁴)); its rounding error is below `1.5·grad_eps·max|∇f|/t`.
pub fn fd_hvp(fns: &(impl HvpForms + ?Sized), x: &[f64], v: &[f64], opts: Opts) -> Fd {
    let t = opts.h * norm_inf(x).max(1.0) / norm_inf(v).max(1e-300);
    let (d1, b1) = central(fns, x, v, t);
    let (d2, b2) = central(fns, x, v, 2.0 * t);
    let hv = d1.iter().zip(&d2).map(|(a, b)| (4.0 * a - b) / 3.0).collect();
    Fd { hv, rounding: 1.5 * opts.grad_eps * b1.max(b2) / t }
}

/// Calls `f_hvp` and asserts that its value and gradient are those of `f` and `f_grad`: bit for bit if
/// `bitwise`, else to [`ULPS`]. (`f_grad`'s value is always bit for bit `f`'s.)
#[track_caller]
pub fn hvp_exact(name: &str, fns: &(impl HvpForms + ?Sized), x: &[f64], v: &[f64], bitwise: bool) -> Vec<f64> {
    let (value, g, hv) = fns.hvp(x, v);
    let f = fns.value(x);
    let (f_grad_value, g_want) = fns.grad(x);
    assert_eq!(g.len(), x.len(), "{name}: gradient length");
    assert_eq!(hv.len(), x.len(), "{name}: HVP length");
    assert_eq!(f_grad_value.to_bits(), f.to_bits(), "{name}: f_grad value {f_grad_value:e} but f = {f:e} at {x:?}");
    let (value_tol, grad_tol) =
        if bitwise { (0.0, 0.0) } else { (ULPS * f.abs().max(1.0), ULPS * norm_inf(&g_want).max(1.0)) };
    assert!(
        (value - f).abs() <= value_tol && value.is_finite(),
        "{name}: f_hvp value {value:e} but f = {f:e} at {x:?}"
    );
    for i in 0..x.len() {
        assert!(
            (g[i] - g_want[i]).abs() <= grad_tol,
            "{name}: f_hvp gradient[{i}] = {:e} but f_grad gives {:e} at {x:?}",
            g[i],
            g_want[i]
        );
    }
    hv
}

/// Runs every check of the module doc at each point; returns the dense Hessians (empty if not `dense`).
#[track_caller]
pub fn check_hvp(name: &str, fns: &(impl HvpForms + ?Sized), pts: &[Vec<f64>], seed: u64, opts: Opts) -> Vec<Matrix> {
    assert!(!pts.is_empty(), "{name}: no points");
    let mut r = rng(seed);
    let mut hessians = Vec::new();
    for x in pts {
        let n = x.len();
        assert!(fns.value(x).is_finite(), "{name}: f is not finite at {x:?}");

        // H·v against finite differences of the gradient along random directions.
        let dirs: Vec<Vec<f64>> = (0..opts.dirs.max(2)).map(|_| random_vec(&mut r, n)).collect();
        let mut hvs = Vec::new();
        for v in &dirs {
            let hv = hvp_exact(name, fns, x, v, opts.bitwise);
            let fd = fd_hvp(fns, x, v, opts);
            let scale = norm_inf(&hv).max(norm_inf(&fd.hv));
            for i in 0..n {
                let err = (hv[i] - fd.hv[i]).abs();
                assert!(
                    err <= opts.fd_rtol * scale + fd.rounding,
                    "{name}: (H·v)[{i}] = {:e} but the finite difference gives {:e} (error {err:e}, allowed {:e}) \
                     at x = {x:?}, v = {v:?}\n  H·v: {hv:?}\n  fd:  {:?}",
                    hv[i],
                    fd.hv[i],
                    opts.fd_rtol * scale + fd.rounding,
                    fd.hv
                );
            }
            hvs.push(hv);
        }

        // ⟨u, H·w⟩ = ⟨w, H·u⟩ and H·(a·u + b·w) = a·H·u + b·H·w. Where H·v is a cancellation of terms of
        // size ‖∇f‖/‖x‖ (‖x‖ at x ≠ 0 has H·x = 0), the rounding error is relative to those.
        let curvature = norm_inf(&fns.grad(x).1) / norm_inf(x).max(1e-300);
        let (u, w, hu, hw) = (&dirs[0], &dirs[1], &hvs[0], &hvs[1]);
        let (lhs, rhs) = (common::dot(u, hw), common::dot(w, hu));
        let size = n as f64
            * (norm_inf(u) * norm_inf(hw) + norm_inf(w) * norm_inf(hu) + curvature * norm_inf(u) * norm_inf(w));
        assert!(
            (lhs - rhs).abs() <= opts.sym * size,
            "{name}: ⟨u, H·w⟩ = {lhs:e} but ⟨w, H·u⟩ = {rhs:e} at {x:?} (allowed {:e})",
            opts.sym * size
        );
        let (a, b) = (r.gen_range(0.5..2.0), r.gen_range(-2.0..-0.5));
        let mix: Vec<f64> = u.iter().zip(w).map(|(p, q)| a * p + b * q).collect();
        let hmix = hvp_exact(name, fns, x, &mix, opts.bitwise);
        let lin_scale = n as f64 * (a.abs() * norm_inf(hu) + b.abs() * norm_inf(hw) + curvature * norm_inf(&mix));
        for i in 0..n {
            let want = a * hu[i] + b * hw[i];
            assert!(
                (hmix[i] - want).abs() <= 4.0 * opts.sym * lin_scale,
                "{name}: H·(a·u + b·w)[{i}] = {:e} but a·H·u + b·H·w = {want:e} at {x:?}",
                hmix[i]
            );
        }

        if opts.dense {
            // Column j of H from the HVP along e_j, and from the finite difference along e_j.
            let mut h = vec![vec![0.0; n]; n];
            let mut h_fd = vec![vec![0.0; n]; n];
            let mut rounding = 0.0f64;
            for j in 0..n {
                let e = basis(n, j);
                let col = hvp_exact(name, fns, x, &e, opts.bitwise);
                let fd = fd_hvp(fns, x, &e, opts);
                rounding = rounding.max(fd.rounding);
                for i in 0..n {
                    h[i][j] = col[i];
                    h_fd[i][j] = fd.hv[i];
                }
            }
            let scale = h.iter().flatten().fold(curvature, |m, v| m.max(v.abs()));
            for i in 0..n {
                for j in 0..n {
                    let err = (h[i][j] - h_fd[i][j]).abs();
                    assert!(
                        err <= opts.fd_rtol * scale + rounding,
                        "{name}: H[{i}][{j}] = {:e} (from HVPs) but the finite-difference Hessian has {:e} at {x:?}\n  \
                         H:  {h:?}\n  fd: {h_fd:?}",
                        h[i][j],
                        h_fd[i][j]
                    );
                    let asym = (h[i][j] - h[j][i]).abs();
                    assert!(
                        asym <= opts.sym * scale,
                        "{name}: assembled Hessian not symmetric at {x:?}: H[{i}][{j}] = {:e}, H[{j}][{i}] = {:e} \
                         (difference {asym:e}, max |H| = {scale:e})",
                        h[i][j],
                        h[j][i]
                    );
                }
            }
            // The random-direction HVPs are the assembled Hessian times the direction.
            for (v, hv) in dirs.iter().zip(&hvs) {
                let want = matvec(&h, v);
                for i in 0..n {
                    assert!(
                        (hv[i] - want[i]).abs() <= 4.0 * opts.sym * n as f64 * scale * norm_inf(v),
                        "{name}: H·v[{i}] = {:e} but (assembled H)·v = {:e} at {x:?}",
                        hv[i],
                        want[i]
                    );
                }
            }
            hessians.push(h);
        }
    }
    hessians
}

/// Asserts `got ≈ want` entrywise to `rtol·max|want|`.
#[track_caller]
pub fn assert_matrix(got: &Matrix, want: &Matrix, rtol: f64, what: &str) {
    let scale = want.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
    assert_eq!(got.len(), want.len(), "{what}: dimension");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.len(), w.len(), "{what}: dimension");
        for (j, (a, b)) in g.iter().zip(w).enumerate() {
            assert!(
                (a - b).abs() <= rtol * scale.max(1e-300),
                "{what}: H[{i}][{j}] = {a:e} but the closed form gives {b:e} (max |H| {scale:e})\n  got:  {got:?}\n  want: {want:?}"
            );
        }
    }
}
