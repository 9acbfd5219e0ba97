//! Finite-difference checking of derivatives, for users' own tests.
//!
//! A generated derivative is exact up to rounding; a finite difference is an independent estimate.
//! [`check_gradient`] compares a gradient with the fourth-order central difference
//! `(8[f(x+h) − f(x−h)] − [f(x+2h) − f(x−2h)]) / 12h` coordinate by coordinate and, on failure, names the
//! worst coordinate with the analytic value, the numeric value and the relative error.
//! [`check_jvp`] does the same for a directional derivative.

use core::fmt;

/// Step and tolerances of a finite-difference check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CheckOptions {
    /// Relative step: coordinate `i` is perturbed by `step · max(1, |xᵢ|)`.
    pub step: f64,
    /// Relative tolerance: a coordinate passes if `|analytic − numeric| ≤ atol + rtol · max(|analytic|, |numeric|)`.
    pub rtol: f64,
    /// Absolute tolerance, for derivatives near zero.
    pub atol: f64,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self { step: 1e-3, rtol: 1e-6, atol: 1e-8 }
    }
}

/// What a passing check measured.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckReport {
    /// Largest relative error `|a − n| / max(|a|, |n|, atol)` over the coordinates.
    pub max_rel_error: f64,
    /// The coordinate where it occurred (0 for a directional derivative).
    pub worst_index: usize,
    /// The finite-difference estimate, one entry per coordinate.
    pub numeric: Vec<f64>,
}

/// Why a check failed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum CheckError {
    /// The gradient (or tangent) does not have the length of `x`.
    DimensionMismatch {
        /// `x.len()`.
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// `f`, `x` or the analytic derivative is not finite where it was evaluated.
    NonFinite {
        /// What was not finite.
        what: &'static str,
        /// The coordinate.
        index: usize,
        /// The value found.
        value: f64,
    },
    /// The analytic and numeric derivatives disagree beyond the tolerance.
    Mismatch {
        /// The worst coordinate.
        index: usize,
        /// The derivative being checked.
        analytic: f64,
        /// The finite-difference estimate.
        numeric: f64,
        /// `|analytic − numeric| / max(|analytic|, |numeric|)`.
        rel_error: f64,
        /// How many coordinates failed.
        failing: usize,
    },
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DimensionMismatch { expected, found } => {
                write!(f, "derivative has length {found}, expected {expected} (the length of x)")
            }
            Self::NonFinite { what, index, value } => {
                write!(f, "{what} is not finite at coordinate {index}: {value}")
            }
            Self::Mismatch { index, analytic, numeric, rel_error, failing } => write!(
                f,
                "derivative disagrees with finite differences at coordinate {index}: analytic {analytic:e}, \
                 numeric {numeric:e}, relative error {rel_error:.3e} ({failing} coordinate(s) fail)"
            ),
        }
    }
}

impl std::error::Error for CheckError {}

fn central_difference(f: &mut dyn FnMut(f64) -> f64, x: f64, h: f64) -> f64 {
    let d1 = f(x + h) - f(x - h);
    let d2 = f(x + 2.0 * h) - f(x - 2.0 * h);
    (8.0 * d1 - d2) / (12.0 * h)
}

fn compare(analytic: &[f64], numeric: Vec<f64>, opts: &CheckOptions) -> Result<CheckReport, CheckError> {
    let mut worst = (0usize, 0.0f64);
    let mut failing = 0;
    let mut worst_failure: Option<(usize, f64)> = None;
    for (i, (&a, &n)) in analytic.iter().zip(&numeric).enumerate() {
        if !a.is_finite() {
            return Err(CheckError::NonFinite { what: "the analytic derivative", index: i, value: a });
        }
        if !n.is_finite() {
            return Err(CheckError::NonFinite { what: "the finite difference", index: i, value: n });
        }
        let scale = a.abs().max(n.abs());
        let rel = (a - n).abs() / scale.max(opts.atol);
        if rel > worst.1 {
            worst = (i, rel);
        }
        if (a - n).abs() > opts.atol + opts.rtol * scale {
            failing += 1;
            if worst_failure.is_none_or(|(_, r)| rel > r) {
                worst_failure = Some((i, rel));
            }
        }
    }
    if let Some((index, rel_error)) = worst_failure {
        return Err(CheckError::Mismatch {
            index,
            analytic: analytic[index],
            numeric: numeric[index],
            rel_error,
            failing,
        });
    }
    Ok(CheckReport { max_rel_error: worst.1, worst_index: worst.0, numeric })
}

fn check_point(x: &[f64]) -> Result<(), CheckError> {
    match x.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(CheckError::NonFinite { what: "x", index, value: x[index] }),
        None => Ok(()),
    }
}

/// Checks `grad` against finite differences of `f` at `x`.
///
/// ```
/// use adjoint::{check_gradient, differentiable, CheckOptions};
///
/// #[differentiable]
/// fn energy(x: &[f64]) -> f64 {
///     let mut e = 0.0;
///     for i in 0..x.len() {
///         e += x[i].sin() * x[i];
///     }
///     e
/// }
/// let x = [0.3, -1.2, 2.5];
/// let (_, grad) = energy_grad(&x);
/// let report = check_gradient(energy, &x, &grad, CheckOptions::default()).unwrap();
/// assert!(report.max_rel_error < 1e-8);
///
/// // A wrong gradient is reported with its worst coordinate.
/// let wrong = [grad[0], grad[1] + 0.1, grad[2]];
/// let err = check_gradient(energy, &x, &wrong, CheckOptions::default()).unwrap_err();
/// assert!(err.to_string().contains("coordinate 1"));
/// ```
pub fn check_gradient(
    f: impl Fn(&[f64]) -> f64,
    x: &[f64],
    grad: &[f64],
    opts: CheckOptions,
) -> Result<CheckReport, CheckError> {
    if grad.len() != x.len() {
        return Err(CheckError::DimensionMismatch { expected: x.len(), found: grad.len() });
    }
    check_point(x)?;
    let mut probe = x.to_vec();
    let numeric = (0..x.len())
        .map(|i| {
            let h = opts.step * x[i].abs().max(1.0);
            let d = central_difference(
                &mut |xi| {
                    probe[i] = xi;
                    f(&probe)
                },
                x[i],
                h,
            );
            probe[i] = x[i];
            d
        })
        .collect();
    compare(grad, numeric, &opts)
}

/// Checks a directional derivative `slope = ∇f(x)·v` against a finite difference along `v`.
///
/// ```
/// use adjoint::{check_jvp, differentiable, CheckOptions};
///
/// #[differentiable]
/// fn norm2(x: &[f64]) -> f64 {
///     let mut s = 0.0;
///     for xi in x.iter() {
///         s += xi * xi;
///     }
///     s.sqrt()
/// }
/// let (x, v) = ([3.0, 4.0], [1.0, 1.0]);
/// let (_, slope) = norm2_jvp(&x, &v);
/// check_jvp(norm2, &x, &v, slope, CheckOptions::default()).unwrap();
/// ```
pub fn check_jvp(
    f: impl Fn(&[f64]) -> f64,
    x: &[f64],
    v: &[f64],
    slope: f64,
    opts: CheckOptions,
) -> Result<CheckReport, CheckError> {
    if v.len() != x.len() {
        return Err(CheckError::DimensionMismatch { expected: x.len(), found: v.len() });
    }
    check_point(x)?;
    check_point(v)?;
    let scale = x.iter().fold(1.0f64, |m, xi| m.max(xi.abs()));
    let vnorm = v.iter().map(|vi| vi * vi).sum::<f64>().sqrt().max(f64::MIN_POSITIVE);
    let h = opts.step * scale / vnorm;
    let mut probe = x.to_vec();
    let numeric = central_difference(
        &mut |t| {
            for ((p, xi), vi) in probe.iter_mut().zip(x).zip(v) {
                *p = xi + t * vi;
            }
            f(&probe)
        },
        0.0,
        h,
    );
    compare(&[slope], vec![numeric], &opts)
}
