//! Backtracking line search with the Armijo sufficient-decrease condition (Nocedal & Wright,
//! *Numerical Optimization*, 2nd ed., §3.1, Algorithm 3.1).
//!
//! Given a descent direction `p` at `x` (`∇f(x)ᵀp < 0`), try the steps `α = α₀, ρα₀, ρ²α₀, …` and accept
//! the first with
//!
//! ```text
//! f(x + α p) ≤ f(x) + c₁ α ∇f(x)ᵀp,
//! ```
//!
//! a decrease of at least the fraction `c₁` of what the linear model predicts. With `α₀ = 1` and a Newton
//! direction the unit step is accepted near a minimum with a positive definite Hessian (for any
//! `c₁ < ½`, §3.3, Theorem 3.6), so backtracking does not spoil quadratic convergence; far from it,
//! backtracking makes each step decrease `f`.
//!
//! ```
//! use adjoint::objective::FnObjective;
//! use adjoint::optim::line_search::Backtracking;
//!
//! let f = FnObjective::new(1, (), |x, _| x[0].powi(4), |x, _, g| { g[0] = 4.0 * x[0].powi(3); x[0].powi(4) });
//! let (x, g) = ([1.0], [4.0]);
//! let (mut x_new, mut g_new) = ([0.0], [0.0]);
//! // The steepest-descent direction overshoots at α = 1 (to −3) and is halved twice.
//! let accepted = Backtracking::default().search(&f, &x, 1.0, &g, &[-4.0], 1.0, &mut x_new, &mut g_new)?;
//! assert_eq!((accepted.step, accepted.evaluations), (0.25, 3));
//! assert_eq!((x_new, accepted.value, g_new), ([0.0], 0.0, [0.0]));
//! # Ok::<(), adjoint::optim::LineSearchError>(())
//! ```

use core::fmt;

use super::{axpy, dot, OptimError};
use crate::objective::{Objective, ObjectiveError};

/// Settings of the backtracking Armijo line search.
///
/// ```
/// use adjoint::optim::line_search::Backtracking;
///
/// let default = Backtracking::default();
/// assert_eq!((default.c1, default.shrink, default.max_evaluations), (1e-4, 0.5, 60));
/// let patient = Backtracking { max_evaluations: 200, ..Backtracking::default() };
/// assert_eq!(patient.c1, 1e-4);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backtracking {
    /// The sufficient-decrease constant `c₁ ∈ (0, 1)`; `10⁻⁴` by default (Nocedal & Wright's suggestion).
    pub c1: f64,
    /// The factor `ρ ∈ (0, 1)` a rejected step is multiplied by; `0.5` by default.
    pub shrink: f64,
    /// The most trial points evaluated before giving up (at least 1); 60 by default, by which time
    /// `0.5⁵⁹ ≈ 1.7·10⁻¹⁸` of the initial step is below the rounding of any `x` of order one.
    pub max_evaluations: usize,
}

impl Default for Backtracking {
    fn default() -> Self {
        Self { c1: 1e-4, shrink: 0.5, max_evaluations: 60 }
    }
}

/// The step a line search accepted.
///
/// ```
/// use adjoint::objective::FnObjective;
/// use adjoint::optim::line_search::{Accepted, Backtracking};
///
/// let f = FnObjective::new(1, (), |x, _| x[0] * x[0], |x, _, g| { g[0] = 2.0 * x[0]; x[0] * x[0] });
/// let (mut x_new, mut g_new) = ([0.0], [0.0]);
/// let accepted = Backtracking::default().search(&f, &[1.0], 1.0, &[2.0], &[-1.0], 1.0, &mut x_new, &mut g_new)?;
/// assert_eq!(accepted, Accepted { step: 1.0, value: 0.0, evaluations: 1 });
/// # Ok::<(), adjoint::optim::LineSearchError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Accepted {
    /// The step length `α`.
    pub step: f64,
    /// `f(x + α p)`.
    pub value: f64,
    /// Trial points evaluated, the accepted one included.
    pub evaluations: usize,
}

/// Why a line search found no step.
///
/// ```
/// use adjoint::objective::FnObjective;
/// use adjoint::optim::line_search::{Backtracking, LineSearchError};
///
/// let f = FnObjective::new(1, (), |x, _| x[0] * x[0], |x, _, g| { g[0] = 2.0 * x[0]; x[0] * x[0] });
/// let (mut x_new, mut g_new) = ([0.0], [0.0]);
/// // Uphill: +1 at x = 1, where the gradient is 2.
/// let err = Backtracking::default().search(&f, &[1.0], 1.0, &[2.0], &[1.0], 1.0, &mut x_new, &mut g_new).unwrap_err();
/// assert_eq!(err, LineSearchError::NotDescent { slope: 2.0 });
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum LineSearchError {
    /// `∇f(x)ᵀp` is not negative (or not finite): `p` is not a descent direction.
    NotDescent {
        /// `∇f(x)ᵀp`.
        slope: f64,
    },
    /// No trial step satisfied the Armijo condition within `max_evaluations`, or the step became too
    /// short to change `x`.
    NoSufficientDecrease {
        /// Trial points evaluated.
        evaluations: usize,
        /// The last step length tried.
        last_step: f64,
    },
    /// The objective failed with an error that is not recoverable (recoverable ones reject the trial
    /// point), or a buffer has the wrong length.
    Objective(ObjectiveError),
    /// A setting is out of range.
    InvalidSettings(OptimError),
}

impl fmt::Display for LineSearchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotDescent { slope } => write!(f, "not a descent direction: the directional derivative is {slope}"),
            Self::NoSufficientDecrease { evaluations, last_step } => {
                write!(f, "no sufficient decrease after {evaluations} trial points (last step length {last_step})")
            }
            Self::Objective(e) => e.fmt(f),
            Self::InvalidSettings(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for LineSearchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Objective(e) => Some(e),
            Self::InvalidSettings(e) => Some(e),
            _ => None,
        }
    }
}

impl Backtracking {
    pub(super) fn validate(&self) -> Result<(), OptimError> {
        let open_unit = |v: f64| v > 0.0 && v < 1.0;
        super::check_setting("line_search.c1", self.c1, open_unit(self.c1), "in (0, 1)")?;
        super::check_setting("line_search.shrink", self.shrink, open_unit(self.shrink), "in (0, 1)")?;
        super::check_setting(
            "line_search.max_evaluations",
            self.max_evaluations as f64,
            self.max_evaluations > 0,
            "at least 1",
        )
    }

    /// Searches along `direction` from `x`, where the objective has `value` and gradient `grad`, starting
    /// with the step `initial_step`; writes the accepted point into `x_new` and its gradient into
    /// `grad_new`.
    ///
    /// Each trial point is evaluated with [`Objective::value_and_gradient`], since the gradient is
    /// needed at the accepted one and the first trial is usually accepted. A trial value of `+∞` (outside
    /// the domain) or a recoverable error rejects the trial point like an insufficient decrease. On
    /// error, `x_new` and `grad_new` are unspecified.
    ///
    /// ```
    /// use adjoint::objective::FnObjective;
    /// use adjoint::optim::line_search::Backtracking;
    ///
    /// // f = x − ln x, minimal at 1, and +∞ (outside the domain) for x ≤ 0.
    /// let f = FnObjective::new(1, (),
    ///     |x, _| if x[0] > 0.0 { x[0] - x[0].ln() } else { f64::INFINITY },
    ///     |x, _, g| { g[0] = 1.0 - 1.0 / x[0]; if x[0] > 0.0 { x[0] - x[0].ln() } else { f64::INFINITY } });
    /// let (mut x_new, mut g_new) = ([0.0], [0.0]);
    /// // From x = 4, where the gradient is 0.75, the step 4 along −1 reaches the wall at 0 and is halved.
    /// let value = 4.0 - 4f64.ln();
    /// let accepted = Backtracking::default().search(&f, &[4.0], value, &[0.75], &[-1.0], 4.0, &mut x_new, &mut g_new)?;
    /// assert_eq!((accepted.step, accepted.evaluations), (2.0, 2));
    /// assert_eq!((x_new, g_new), ([2.0], [0.5]));
    /// # Ok::<(), adjoint::optim::LineSearchError>(())
    /// ```
    #[allow(clippy::too_many_arguments)]
    pub fn search<O: Objective + ?Sized>(
        &self,
        objective: &O,
        x: &[f64],
        value: f64,
        grad: &[f64],
        direction: &[f64],
        initial_step: f64,
        x_new: &mut [f64],
        grad_new: &mut [f64],
    ) -> Result<Accepted, LineSearchError> {
        self.validate().map_err(LineSearchError::InvalidSettings)?;
        if !(initial_step > 0.0 && initial_step.is_finite()) {
            return Err(LineSearchError::InvalidSettings(OptimError::InvalidSettings {
                name: "initial_step",
                value: initial_step,
                expected: "positive and finite",
            }));
        }
        let n = objective.dim();
        for (what, len) in [
            ("x", x.len()),
            ("gradient", grad.len()),
            ("direction", direction.len()),
            ("x_new", x_new.len()),
            ("grad_new", grad_new.len()),
        ] {
            if len != n {
                return Err(LineSearchError::Objective(ObjectiveError::DimensionMismatch {
                    what,
                    expected: n,
                    found: len,
                }));
            }
        }
        let slope = dot(grad, direction);
        if !(slope < 0.0 && slope.is_finite() && value.is_finite()) {
            return Err(LineSearchError::NotDescent { slope });
        }
        let mut step = initial_step;
        for evaluations in 1..=self.max_evaluations {
            x_new.copy_from_slice(x);
            axpy(step, direction, x_new);
            if x_new == x {
                // The step no longer changes x: a decrease is no longer possible.
                return Err(LineSearchError::NoSufficientDecrease { evaluations: evaluations - 1, last_step: step });
            }
            match objective.value_and_gradient(x_new, grad_new) {
                Ok(trial) if trial <= value + self.c1 * step * slope => {
                    return Ok(Accepted { step, value: trial, evaluations });
                }
                Ok(_) => {}
                Err(e) if e.is_recoverable() => {}
                Err(e) => return Err(LineSearchError::Objective(e)),
            }
            if evaluations < self.max_evaluations {
                step *= self.shrink;
            }
        }
        Err(LineSearchError::NoSufficientDecrease { evaluations: self.max_evaluations, last_step: step })
    }
}
