//! The curvature of a loss landscape from exact Hessian-vector products, without forming the Hessian.
//!
//! Near a point `x`, a loss is a quadratic bowl `f(x + d) ≈ f(x) + ∇f·d + ½ dᵀHd`, and the Hessian `H`
//! says how curved the bowl is in each direction: along an eigenvector `uᵢ` of `H` the slope changes at
//! the rate `λᵢ`. Gradient descent has to take steps shorter than `2/λ_max` to stay stable in the
//! steepest direction, and at that step size it moves along the flattest one by only a fraction
//! `λ_min/λ_max = 1/κ` of the way per step. The condition number `κ = λ_max/λ_min` is therefore the
//! number of steps gradient descent needs per digit of accuracy, and a long narrow valley (`κ ≫ 1`) is
//! where it zig-zags from wall to wall. Newton's method takes the step `−H⁻¹∇f`, which divides the
//! displacement along each eigenvector by its own `λᵢ`: it turns the valley into a round bowl (`κ = 1`)
//! and undoes the zig-zag, at the price of solving with `H` (by conjugate gradients, again from
//! Hessian-vector products). A negative eigenvalue means `x` is a saddle, not a minimum.
//!
//! Every algorithm here sees `H` only through products `v ↦ Hv`, which reverse-mode differentiation of
//! the gradient computes exactly, at a few times the cost of a gradient, and in `O(n)` memory. So they
//! run on models far too large to form `H` (`n²` numbers) or to factor it (`n³` operations):
//!
//! | question | function | Hessian-vector products |
//! |---|---|---|
//! | largest `|λ|` (the stable step size `2/λ_max`) | [`power_iteration`] | tens to thousands |
//! | largest / smallest `k` eigenvalues, Ritz vectors | [`lanczos`] | tens to hundreds |
//! | `λ_min`, `λ_max` and `κ` | [`extreme_eigenvalues`], [`condition_number`] | tens to hundreds |
//! | `tr H` (the mean curvature) | [`hutchinson_trace`] | one per probe |
//! | the whole spectrum, as a density | [`spectral_density`] | probes × Lanczos steps |
//! | `H` as a matrix (small `n`) | [`dense_hessian`] | `n` |
//! | the Jacobian of a vector-valued function | [`jacobian`], [`jacobian_forward`], [`jacobian_reverse`] | `min(m, n)` |
//!
//! The operator is anything implementing [`LinearOperator`]: the Hessian of a `#[differentiable]`
//! function at a point ([`HessianAt::from_hvp_into`] with the generated `f_hvp_into`, or
//! [`HessianAt::new`] with any function `(x, v, out)`), the Hessian of an optimiser's
//! [`SecondOrderObjective`](crate::optim::SecondOrderObjective) ([`ObjectiveHessian`]), a closure
//! ([`FnOperator`]), or a dense nalgebra matrix (for tests and small problems).
//!
//! ```
//! use adjoint::curvature::{condition_number, extreme_eigenvalues, HessianAt, LanczosSettings};
//! use adjoint::differentiable;
//!
//! /// Rosenbrock's banana valley, minimum at (1, 1).
//! #[differentiable]
//! fn rosenbrock(x: &[f64]) -> f64 {
//!     let a = 1.0 - x[0];
//!     let b = x[1] - x[0] * x[0];
//!     a * a + 100.0 * b * b
//! }
//!
//! // At the minimum the valley is 2508 times steeper across than along:
//! // gradient descent needs thousands of steps there, Newton's method a handful.
//! let hessian = HessianAt::from_hvp_into(vec![1.0, 1.0], rosenbrock_hvp_into);
//! let settings = LanczosSettings::default();
//! let kappa = condition_number(&hessian, &settings)?;
//! assert!((kappa - 2508.0).abs() < 0.5, "{kappa}");
//!
//! // At (0, 1) the Hessian has a negative eigenvalue: a saddle, and κ is an error saying so.
//! let saddle = HessianAt::from_hvp_into(vec![0.0, 1.0], rosenbrock_hvp_into);
//! let extremes = extreme_eigenvalues(&saddle, &settings)?;
//! assert!((extremes.min + 398.0).abs() < 1e-9 && (extremes.max - 200.0).abs() < 1e-9);
//! let err = condition_number(&saddle, &settings).unwrap_err();
//! assert!(err.to_string().contains("indefinite"), "{err}");
//! # Ok::<(), adjoint::curvature::CurvatureError>(())
//! ```
//!
//! # Conventions
//!
//! - **Settings** are structs with public fields and a [`Default`] (like nuts-rs's settings), so
//!   `LanczosSettings { seed: 7, ..Default::default() }` works; their `with_*` setters validate the
//!   value and return a `Result` (like argmin's builders). Every algorithm validates its settings again
//!   before starting, so a field set directly to a nonsensical value is an error, not a panic.
//! - **Seeds**: random start vectors and probes come from a small generator seeded by the `seed`
//!   field, so a run is reproducible across platforms and versions of this crate's dependencies.
//! - **Errors** are [`CurvatureError`]s that say what was expected and what was found. Nothing here
//!   panics on user input: wrong lengths, a NaN from the operator, an operator of dimension 0,
//!   settings out of range, and an iteration that did not converge are all errors.
//! - **Symmetry**: the eigenvalue and density algorithms assume the operator is symmetric, as a
//!   Hessian is; on a non-symmetric operator their results mean nothing. [`dense_hessian`] reports how
//!   far from symmetric the operator is.
//!
//! # References
//!
//! - C. Lanczos, *An iteration method for the solution of the eigenvalue problem of linear differential
//!   and integral operators*, J. Res. Nat. Bur. Standards 45 (1950).
//! - C. C. Paige, *The computation of eigenvalues and eigenvectors of very large sparse matrices*, PhD
//!   thesis, University of London (1971); *Accuracy and effectiveness of the Lanczos algorithm for the
//!   symmetric eigenproblem*, Linear Algebra Appl. 34 (1980).
//! - G. H. Golub and C. F. Van Loan, *Matrix Computations*, 4th ed., Johns Hopkins (2013), §10.1
//!   (the Lanczos iteration) and §8.2 (the power method).
//! - Y. Saad, *Numerical Methods for Large Eigenvalue Problems*, 2nd ed., SIAM (2011).
//! - M. F. Hutchinson, *A stochastic estimator of the trace of the influence matrix for Laplacian
//!   smoothing splines*, Commun. Stat. Simul. Comput. 19 (1990).
//! - S. Ubaru, J. Chen and Y. Saad, *Fast estimation of tr(f(A)) via stochastic Lanczos quadrature*,
//!   SIAM J. Matrix Anal. Appl. 38 (2017).
//! - B. Ghorbani, S. Krishnan and Y. Xiao, *An investigation into neural net optimization via Hessian
//!   eigenvalue density*, ICML (2019).

use core::fmt;

use crate::objective::ObjectiveError;

mod dense;
mod density;
mod lanczos;
mod operator;
mod power;
mod trace;
mod tridiagonal;

#[cfg(test)]
mod tests;

pub use dense::{
    dense_hessian, jacobian, jacobian_forward, jacobian_mode, jacobian_reverse, DenseHessian, JacobianMode,
};
pub use density::{spectral_density, SlqSettings, SpectralDensity};
pub use lanczos::{
    condition_number, extreme_eigenvalues, lanczos, Eigenpairs, ExtremeEigenvalues, LanczosSettings, Which,
};
pub use operator::{FnOperator, HessianAt, HessianVectorProduct, HvpInto, LinearOperator, ObjectiveHessian};
pub use power::{power_iteration, PowerResult, PowerSettings};
pub use trace::{hutchinson_trace, HutchinsonSettings, TraceEstimate};

// ---------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------

/// Why a curvature computation failed.
///
/// Every variant's message says what was expected and what was found.
///
/// ```
/// use adjoint::curvature::{CurvatureError, FnOperator, LinearOperator};
///
/// let op = FnOperator::new(3, |v: &[f64], out: &mut [f64]| out.copy_from_slice(v));
/// let err = op.apply(&[1.0, 2.0], &mut [0.0; 3]).unwrap_err();
/// assert_eq!(err, CurvatureError::DimensionMismatch { what: "v", expected: 3, found: 2 });
/// assert_eq!(err.to_string(), "dimension mismatch: v has length 2, expected 3");
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum CurvatureError {
    /// A vector does not have the dimension of the operator.
    DimensionMismatch {
        /// What has the wrong length: `"v"`, `"out"`, `"x"`, `"matrix columns"`, …
        what: &'static str,
        /// The dimension of the operator.
        expected: usize,
        /// The length found.
        found: usize,
    },
    /// The operator has dimension 0, so there are no eigenvalues to estimate.
    EmptyOperator,
    /// A component of a vector is NaN or infinite.
    NonFinite {
        /// `"operator output"` (an application of the operator returned it; `index` is the component),
        /// `"x"` (the point of a [`HessianAt`]), or, when finite products overflow in a sum, `"Lanczos
        /// coefficient"`, `"Rayleigh quotient"` or `"probe value zᵀAz"` (`index` is the iteration or
        /// probe).
        what: &'static str,
        /// The component, iteration or probe.
        index: usize,
        /// The value found.
        value: f64,
    },
    /// An entry of a dense Hessian or Jacobian is NaN or infinite.
    NonFiniteEntry {
        /// `"Hessian"` or `"Jacobian"`.
        matrix: &'static str,
        /// The row of the entry.
        row: usize,
        /// The column of the entry.
        column: usize,
        /// The value found.
        value: f64,
    },
    /// The condition number `κ = λ_max/λ_min` was asked of an operator that is not positive definite:
    /// `λ_min ≤ 0` (indefinite, negative semi-definite), or `λ_min` indistinguishable from 0 at the
    /// accuracy reached (singular).
    NotPositiveDefinite {
        /// The smallest eigenvalue found.
        lambda_min: f64,
        /// The largest eigenvalue found.
        lambda_max: f64,
        /// The bound on the error of `lambda_min` (the residual norm of its Ritz vector).
        uncertainty: f64,
    },
    /// An iteration reached its iteration cap before its residual reached the tolerance.
    NotConverged {
        /// `"power iteration"`, `"Lanczos"`, or `"tridiagonal eigensolver"`.
        algorithm: &'static str,
        /// The iterations (operator applications) made.
        iterations: usize,
        /// The relative residual reached (for several eigenvalues, the worst of them).
        residual: f64,
        /// The relative residual asked for.
        tolerance: f64,
    },
    /// A setting or argument is out of its range.
    InvalidSettings {
        /// The setting: `"tolerance"`, `"max_iterations"`, `"k"`, `"probes"`, …
        setting: &'static str,
        /// The range allowed.
        expected: String,
        /// The value given.
        found: String,
    },
    /// An [`Objective`](crate::objective::Objective) the operator evaluates failed.
    Objective(ObjectiveError),
    /// A hand-written operator failed for its own reason.
    Failed {
        /// What went wrong.
        message: String,
    },
}

impl fmt::Display for CurvatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DimensionMismatch { what, expected, found } => {
                write!(f, "dimension mismatch: {what} has length {found}, expected {expected}")
            }
            Self::EmptyOperator => f.write_str("the operator has dimension 0, expected at least 1"),
            Self::NonFinite { what, index, value } => write!(f, "{what} is not finite at index {index}: {value}"),
            Self::NonFiniteEntry { matrix, row, column, value } => {
                write!(f, "{matrix} entry ({row}, {column}) is not finite: {value}")
            }
            Self::NotPositiveDefinite { lambda_min, lambda_max, uncertainty } => {
                let kind = if *lambda_min > 0.0 || lambda_min.abs() <= *uncertainty {
                    "singular to the accuracy reached"
                } else if *lambda_max > *uncertainty {
                    "indefinite"
                } else {
                    "negative semi-definite"
                };
                write!(
                    f,
                    "the condition number λ_max/λ_min needs a positive definite operator, but this one is {kind}: \
                     found λ_min = {} (± {uncertainty:.1e}) and λ_max = {}",
                    significant(*lambda_min),
                    significant(*lambda_max)
                )
            }
            Self::NotConverged { algorithm, iterations, residual, tolerance } => write!(
                f,
                "{algorithm} did not converge in {iterations} iterations: relative residual {residual:.3e}, \
                 expected at most {tolerance:.3e}"
            ),
            Self::InvalidSettings { setting, expected, found } => {
                write!(f, "invalid setting `{setting}`: expected {expected}, found {found}")
            }
            Self::Objective(e) => write!(f, "{e}"),
            Self::Failed { message } => f.write_str(message),
        }
    }
}

impl std::error::Error for CurvatureError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Objective(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ObjectiveError> for CurvatureError {
    /// Wraps the error of an objective evaluated inside an operator, so `?` works there.
    ///
    /// ```
    /// use adjoint::curvature::CurvatureError;
    /// use adjoint::objective::ObjectiveError;
    ///
    /// let e = ObjectiveError::DimensionMismatch { what: "x", expected: 2, found: 3 };
    /// let c: CurvatureError = e.clone().into();
    /// assert_eq!(c, CurvatureError::Objective(e));
    /// assert_eq!(c.to_string(), "dimension mismatch: x has length 3, expected 2");
    /// ```
    fn from(e: ObjectiveError) -> Self {
        Self::Objective(e)
    }
}

// ---------------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------------

/// `x` to 10 significant digits: plain notation between 10⁻⁴ and 10⁷, scientific outside.
fn significant(x: f64) -> String {
    let rounded: f64 = format!("{x:.9e}").parse().unwrap_or(x);
    if rounded == 0.0 || (1e-4..1e7).contains(&rounded.abs()) {
        format!("{rounded}")
    } else {
        format!("{rounded:e}")
    }
}

/// A random unit vector, the start of [`lanczos`] and [`power_iteration`]: uniform components in
/// `[-1, 1)`, drawn again in the (improbable) case that all are zero.
fn random_unit(n: usize, rng: &mut Rng) -> Vec<f64> {
    loop {
        let v: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        let s = norm(&v);
        if s > 0.0 {
            return v.into_iter().map(|c| c / s).collect();
        }
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): small, fast, and the same stream on every platform and for
/// every version of `rand`, so a seed reproduces a run.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5851_F42D_4C95_7F2D)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform on `[−1, 1)`.
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (2.0 / (1u64 << 53) as f64) - 1.0
    }

    /// `±1` with equal probability.
    pub(crate) fn rademacher(&mut self) -> f64 {
        if self.next_u64() >> 63 == 0 {
            1.0
        } else {
            -1.0
        }
    }
}

pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub(crate) fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// `y += alpha · x`.
pub(crate) fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(yi, xi)| *yi += alpha * xi);
}

pub(crate) fn check_len(what: &'static str, expected: usize, found: usize) -> Result<(), CurvatureError> {
    if expected == found {
        Ok(())
    } else {
        Err(CurvatureError::DimensionMismatch { what, expected, found })
    }
}

pub(crate) fn check_finite(what: &'static str, v: &[f64]) -> Result<(), CurvatureError> {
    match v.iter().position(|c| !c.is_finite()) {
        Some(index) => Err(CurvatureError::NonFinite { what, index, value: v[index] }),
        None => Ok(()),
    }
}

/// The operator's dimension, or [`CurvatureError::EmptyOperator`].
pub(crate) fn nonempty_dim<A: LinearOperator + ?Sized>(op: &A) -> Result<usize, CurvatureError> {
    match op.dim() {
        0 => Err(CurvatureError::EmptyOperator),
        n => Ok(n),
    }
}

/// `out = A v`, with a finite result (the check every algorithm relies on).
pub(crate) fn apply_checked<A: LinearOperator + ?Sized>(
    op: &A,
    v: &[f64],
    out: &mut [f64],
) -> Result<(), CurvatureError> {
    op.apply(v, out)?;
    check_finite("operator output", out)
}

pub(crate) fn invalid(setting: &'static str, expected: impl Into<String>, found: impl fmt::Display) -> CurvatureError {
    CurvatureError::InvalidSettings { setting, expected: expected.into(), found: found.to_string() }
}

/// A relative tolerance: finite, in `[ε, 1)`.
pub(crate) fn check_tolerance(tolerance: f64) -> Result<(), CurvatureError> {
    if tolerance.is_finite() && (f64::EPSILON..1.0).contains(&tolerance) {
        Ok(())
    } else {
        Err(invalid("tolerance", "a relative tolerance in [2.2e-16, 1)", tolerance))
    }
}

/// A count that must be at least `min`.
pub(crate) fn check_at_least(setting: &'static str, value: usize, min: usize) -> Result<(), CurvatureError> {
    if value >= min {
        Ok(())
    } else {
        Err(invalid(setting, format!("at least {min}"), value))
    }
}
