//! Objectives for optimisers and log densities for samplers, built from generated functions in one line.
//!
//! Gradient-based optimisers (gradient descent, L-BFGS, Newton-CG) ask for the value `f(x)` and the
//! gradient `∇f(x)` at points they choose; gradient-based samplers (HMC, NUTS, MALA) ask for a log
//! density `log p(x)` and its gradient. Both see the parameters as a flat `&[f64]` and want the gradient
//! written into a buffer they own, so a step allocates nothing. [`Objective`] is the interface for the
//! first, [`LogDensity`] for the second, and four adaptors implement them for a `#[differentiable]`
//! function and its generated `_grad_into`, plus whatever data they are called with:
//!
//! | | flat `&[f64]` parameter | structured parameter (`Tangent`: nalgebra, `#[derive(Tangent)]` structs) |
//! |---|---|---|
//! | [`Objective`] | [`FnObjective`] | [`TangentObjective`] |
//! | [`LogDensity`] | [`FnLogDensity`] | [`TangentLogDensity`] |
//!
//! The physics: a loss is a potential energy `U(x)` and an optimiser follows the force `−∇U` downhill;
//! a sampler draws from the Boltzmann distribution `p(x) ∝ exp(−U(x))`, so `log p = −U` up to a
//! constant, and Hamiltonian Monte Carlo moves a particle in the potential `U`. [`NegLogDensity`] turns a
//! log density into the objective `−log p` (maximum a posteriori estimation by minimisation), and
//! [`Boltzmann`] turns an objective into the log density `−U` (sampling around a minimum).
//!
//! ```
//! use adjoint::differentiable;
//! use adjoint::objective::{FnObjective, Objective};
//!
//! /// Data the loss is evaluated on; not differentiated.
//! pub struct Data {
//!     pub t: Vec<f64>,
//!     pub y: Vec<f64>,
//! }
//!
//! /// Squared error of the line `y = x₀ t + x₁`.
//! #[differentiable(wrt(x))]
//! fn loss(x: &[f64], data: &Data) -> f64 {
//!     let mut s = 0.0;
//!     for i in 0..data.t.len() {
//!         let r = x[0] * data.t[i] + x[1] - data.y[i];
//!         s += r * r;
//!     }
//!     s
//! }
//!
//! let data = Data { t: vec![0.0, 1.0, 2.0, 3.0], y: vec![1.0, 3.0, 5.0, 7.0] };
//! let objective = FnObjective::new(2, data, loss, loss_grad_into); // the one line
//!
//! // Gradient descent, with one buffer for the whole run.
//! let (mut x, mut g) = (vec![0.0; objective.dim()], vec![0.0; objective.dim()]);
//! for _ in 0..2000 {
//!     objective.value_and_gradient(&x, &mut g)?;
//!     for (xi, gi) in x.iter_mut().zip(&g) {
//!         *xi -= 0.02 * gi;
//!     }
//! }
//! assert!((x[0] - 2.0).abs() < 1e-6 && (x[1] - 1.0).abs() < 1e-6);
//!
//! // Wrong dimensions are errors that say what was expected, not panics.
//! let err = objective.value(&[1.0, 2.0, 3.0]).unwrap_err();
//! assert_eq!(err.to_string(), "dimension mismatch: x has length 3, expected 2");
//! # Ok::<(), adjoint::objective::ObjectiveError>(())
//! ```
//!
//! # The contract
//!
//! Every method of both traits, in every implementation in this module:
//!
//! - checks `x.len()` and `grad.len()` against [`dim`](Objective::dim) before evaluating anything, and
//!   returns [`ObjectiveError::DimensionMismatch`] (saying what had which length, and what was expected)
//!   if they differ. Never a panic: the lengths come from the caller of a library, often at run time.
//! - returns [`ObjectiveError::NonFinite`] for a non-finite component of `x`, without evaluating: a NaN
//!   position means the caller's iteration has already failed, and the function must not be blamed.
//! - treats one infinity as a legitimate value: an objective may be `+∞` and a log density `−∞` where
//!   `x` is outside the domain (an infinite potential wall, zero probability). Samplers reject such a
//!   proposal (Stan and nuts-rs treat it as a divergence), and an optimiser's line search backtracks from
//!   it (`+∞` is never a sufficient decrease). The gradient there is meaningless (the generated one is
//!   often NaN), so the buffer is set to zero. Do not start an optimiser at such a point: a zero gradient
//!   looks converged.
//! - returns [`ObjectiveError::NonFiniteValue`] for a NaN value or the other infinity (an objective
//!   unbounded below, a log density that cannot be normalised), and [`ObjectiveError::NonFinite`] for a
//!   non-finite gradient component at a finite value.
//! - on `Ok`, has written every component of the gradient (finite at a finite value); on `Err`, the
//!   buffer is untouched if the error is about the input, and unspecified otherwise.
//!
//! [`ObjectiveError::is_recoverable`] says, like nuts-rs's `LogpError`, whether a caller may carry on:
//! non-finite values are recoverable (reject the proposal, shorten the step); a dimension mismatch is a
//! bug in the program and is not.
//!
//! # Design
//!
//! - **Two traits, not one with a sign convention.** The sign is in the type, so a loss cannot be handed
//!   to a sampler by mistake; [`NegLogDensity`] and [`Boltzmann`] convert explicitly.
//! - **`&self`, like argmin's `CostFunction` and `Gradient`** (nuts-rs's `CpuLogpFunc::logp` takes
//!   `&mut self`): one objective can be shared by the chains of a sampler or the threads of a
//!   multi-start optimiser. The flat adaptors are `Sync` when their data and functions are; the
//!   structured ones too (their scratch space is behind a `Mutex`, see below).
//! - **One concrete error type**, not an associated type: the traits stay object safe
//!   (`Box<dyn Objective>`), the sign adaptors compose without converting errors, and what a caller
//!   needs from an error is its message and whether it is recoverable. [`ObjectiveError::Failed`] carries
//!   the failures of hand-written implementations (an ODE solver that did not converge).
//!   `ObjectiveError` is `Send + Sync + 'static`, so `?` turns it into an `anyhow::Error` (argmin).
//! - **Data is a field of the adaptor**, passed by reference to the functions, so the generated
//!   functions are passed by name (`FnObjective::new(2, data, loss, loss_grad_into)`) and the objective
//!   owns its data (no borrow to outlive, `Send` to a worker thread). Two closures capturing the same
//!   owned data would need it twice. Functions of a different shape take closures: `()` as data and
//!   `|x, _| f(x)`, or a tuple `(a, b)` and `|x, (a, b)| f(x, a, b)`. The data of a generated function
//!   must be the type the function borrows: for `fn f(x: &[f64], c: &[f64])` that is `[f64]`, which
//!   cannot be stored, so pass `Vec<f64>` and `|x, c: &Vec<f64>| f(x, c)`.
//! - **The gradient buffer is zeroed before the gradient function runs**, so it may overwrite it
//!   (`_grad_into`) or accumulate into it (`_vjp` with `z̄ = 1`), and no stale component survives.
//! - **Structured parameters** are unflattened with [`Tangent::unflatten`] and the gradient flattened
//!   with [`Tangent::flatten_into`], in the order the `Tangent` implementation fixes. The gradient and its
//!   flat copy live in scratch space allocated once and reused (a `Mutex` taken with `try_lock`: a
//!   concurrent or re-entrant call allocates its own scratch instead of waiting or panicking). Each call
//!   still allocates what `unflatten` allocates (one allocation per heap-backed field) because the trait
//!   has no in-place unflatten yet, and copies the point in and the gradient out. For a parameter vector
//!   so large and a function so cheap that these copies matter, use a flat `&[f64]` parameter.
//! - **What the checks cost**: two vectorised passes, over `x` before and over the gradient after the
//!   call. Measured on the generated Rosenbrock gradient, the cheapest gradient per component there is,
//!   [`FnObjective`] takes about 1.1× the time of calling `_grad_into` directly at n = 10³ and 10⁵, and
//!   proportionally less on functions that do more work per component. A hot loop that wants none of the checks calls `_grad_into` itself.
//! - **Hessian-vector products** live in a separate trait,
//!   [`SecondOrderObjective`](crate::optim::SecondOrderObjective) (with the adaptor
//!   [`FnSecondOrder`](crate::optim::FnSecondOrder) for generated `f_hvp` functions), so that first-order
//!   implementations need not provide them.

use core::fmt;
use std::sync::{Arc, Mutex, TryLockError};

use crate::tangent::Tangent;

// ---------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------

/// Why an [`Objective`] or a [`LogDensity`] could not be evaluated.
///
/// ```
/// use adjoint::objective::{FnObjective, Objective, ObjectiveError};
///
/// let f = FnObjective::new(2, (), |x, _| x[0] * x[1], |x, _, g| {
///     g[0] = x[1];
///     g[1] = x[0];
///     x[0] * x[1]
/// });
/// let err = f.value_and_gradient(&[1.0, 2.0], &mut [0.0; 3]).unwrap_err();
/// assert_eq!(err, ObjectiveError::DimensionMismatch { what: "gradient buffer", expected: 2, found: 3 });
/// assert_eq!(err.to_string(), "dimension mismatch: gradient buffer has length 3, expected 2");
/// assert!(!err.is_recoverable());
///
/// let err = f.value(&[f64::NAN, 2.0]).unwrap_err();
/// assert!(matches!(err, ObjectiveError::NonFinite { what: "x", index: 0, .. }));
/// assert!(err.is_recoverable());
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ObjectiveError {
    /// A buffer or parameter does not have the dimension of the objective. Not recoverable.
    DimensionMismatch {
        /// What has the wrong length: `"x"`, `"gradient buffer"`, `"flattened gradient"`, `"parameter"`.
        what: &'static str,
        /// The dimension of the objective.
        expected: usize,
        /// The length found.
        found: usize,
    },
    /// A component of the point or of the gradient is NaN or infinite. Recoverable.
    NonFinite {
        /// `"x"` (the point, not evaluated) or `"gradient"` (at a finite value).
        what: &'static str,
        /// The component.
        index: usize,
        /// The value found.
        value: f64,
    },
    /// The value is NaN, or the infinity that is not allowed: `−∞` for an objective, `+∞` for a log
    /// density. Recoverable.
    NonFiniteValue {
        /// `"objective"` or `"log density"`.
        what: &'static str,
        /// The value found.
        value: f64,
    },
    /// A hand-written implementation failed for its own reason.
    Failed {
        /// What went wrong.
        message: String,
        /// Whether the caller may carry on (reject the point, shorten the step) rather than stop.
        recoverable: bool,
    },
}

impl ObjectiveError {
    /// Whether a caller may carry on after this error, treating the point as rejected (a sampler's
    /// divergence, an optimiser's failed step), as opposed to a bug that should stop the run. The same
    /// distinction as nuts-rs's `LogpError::is_recoverable`.
    ///
    /// ```
    /// use adjoint::objective::ObjectiveError;
    ///
    /// let solver = ObjectiveError::Failed { message: "ODE solver did not converge".into(), recoverable: true };
    /// assert!(solver.is_recoverable());
    /// let shape = ObjectiveError::DimensionMismatch { what: "x", expected: 3, found: 2 };
    /// assert!(!shape.is_recoverable());
    /// ```
    pub fn is_recoverable(&self) -> bool {
        match self {
            Self::DimensionMismatch { .. } => false,
            Self::NonFinite { .. } | Self::NonFiniteValue { .. } => true,
            Self::Failed { recoverable, .. } => *recoverable,
        }
    }
}

impl fmt::Display for ObjectiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DimensionMismatch { what, expected, found } => {
                write!(f, "dimension mismatch: {what} has length {found}, expected {expected}")
            }
            Self::NonFinite { what, index, value } => write!(f, "{what} is not finite at index {index}: {value}"),
            Self::NonFiniteValue { what, value } => write!(
                f,
                "the {what} is {value}, but must be finite (or, outside the domain, +inf for an objective \
                 and -inf for a log density)"
            ),
            Self::Failed { message, .. } => f.write_str(message),
        }
    }
}

impl std::error::Error for ObjectiveError {}

// ---------------------------------------------------------------------------------------------------
// Traits
// ---------------------------------------------------------------------------------------------------

/// A function to minimise: its dimension, value, and gradient written into a caller's buffer.
///
/// The interface gradient-based optimisers need, over flat `&[f64]` points. Build one from a generated
/// function with [`FnObjective`] or [`TangentObjective`]; the contract (dimension checks, infinities,
/// errors) is in the [module documentation](self). The trait is object safe.
///
/// ```
/// use adjoint::differentiable;
/// use adjoint::objective::{FnObjective, Objective};
///
/// #[differentiable]
/// fn bowl(x: &[f64]) -> f64 {
///     x[0] * x[0] + 4.0 * x[1] * x[1]
/// }
///
/// let objective: Box<dyn Objective> =
///     Box::new(FnObjective::new(2, (), |x, _| bowl(x), |x, _, g| bowl_grad_into(x, g)));
/// let mut g = [0.0; 2];
/// assert_eq!(objective.value_and_gradient(&[1.0, 1.0], &mut g)?, 5.0);
/// assert_eq!(g, [2.0, 8.0]);
/// # Ok::<(), adjoint::objective::ObjectiveError>(())
/// ```
pub trait Objective {
    /// The number of components of `x`.
    ///
    /// ```
    /// use adjoint::objective::{FnObjective, Objective};
    ///
    /// let f = FnObjective::new(3, (), |x, _| x.iter().sum(), |_, _, g| { g.fill(1.0); 0.0 });
    /// assert_eq!(f.dim(), 3);
    /// ```
    fn dim(&self) -> usize;

    /// The value at `x`: finite, or `+∞` where `x` is outside the domain.
    ///
    /// ```
    /// use adjoint::objective::{FnObjective, Objective};
    ///
    /// let f = FnObjective::new(1, (), |x, _| x[0].sqrt(), |x, _, g| { g[0] = 0.5 / x[0].sqrt(); x[0].sqrt() });
    /// assert_eq!(f.value(&[4.0])?, 2.0);
    /// assert!(f.value(&[-1.0]).is_err()); // NaN
    /// # Ok::<(), adjoint::objective::ObjectiveError>(())
    /// ```
    fn value(&self, x: &[f64]) -> Result<f64, ObjectiveError>;

    /// The value at `x`, with the gradient written into `grad` (every component overwritten).
    ///
    /// ```
    /// use adjoint::objective::{FnObjective, Objective};
    ///
    /// let f = FnObjective::new(2, (), |x, _| x[0] * x[1], |x, _, g| { g[0] = x[1]; g[1] = x[0]; x[0] * x[1] });
    /// let mut g = [f64::NAN; 2];
    /// assert_eq!(f.value_and_gradient(&[2.0, 3.0], &mut g)?, 6.0);
    /// assert_eq!(g, [3.0, 2.0]);
    /// # Ok::<(), adjoint::objective::ObjectiveError>(())
    /// ```
    fn value_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> Result<f64, ObjectiveError>;

    /// The gradient at `x`, in a new vector.
    ///
    /// ```
    /// use adjoint::objective::{FnObjective, Objective};
    ///
    /// let f = FnObjective::new(2, (), |x, _| x[0] * x[1], |x, _, g| { g[0] = x[1]; g[1] = x[0]; x[0] * x[1] });
    /// assert_eq!(f.gradient(&[2.0, 3.0])?, vec![3.0, 2.0]);
    /// # Ok::<(), adjoint::objective::ObjectiveError>(())
    /// ```
    fn gradient(&self, x: &[f64]) -> Result<Vec<f64>, ObjectiveError> {
        let mut grad = vec![0.0; self.dim()];
        self.value_and_gradient(x, &mut grad)?;
        Ok(grad)
    }
}

/// An unnormalised log density to sample from: its dimension, value, and gradient written into a
/// caller's buffer.
///
/// The interface gradient-based samplers (HMC, NUTS, MALA) need, over flat `&[f64]` points, like
/// nuts-rs's `CpuLogpFunc`. Build one from a generated function with [`FnLogDensity`] or
/// [`TangentLogDensity`]; the contract is in the [module documentation](self). `−∞` is a value (outside
/// the support, a rejected proposal), not an error. The trait is object safe.
///
/// ```
/// use adjoint::differentiable;
/// use adjoint::objective::{FnLogDensity, LogDensity};
///
/// /// A standard normal in two dimensions, up to a constant.
/// #[differentiable]
/// fn normal(x: &[f64]) -> f64 {
///     -0.5 * (x[0] * x[0] + x[1] * x[1])
/// }
///
/// let model = FnLogDensity::new(2, (), |x, _| normal(x), |x, _, g| normal_grad_into(x, g));
/// let mut g = [0.0; 2];
/// assert_eq!(model.log_density_and_gradient(&[1.0, -2.0], &mut g)?, -2.5);
/// assert_eq!(g, [-1.0, 2.0]);
/// # Ok::<(), adjoint::objective::ObjectiveError>(())
/// ```
pub trait LogDensity {
    /// The number of components of `x`.
    ///
    /// ```
    /// use adjoint::objective::{FnLogDensity, LogDensity};
    ///
    /// let p = FnLogDensity::new(4, (), |_, _| 0.0, |_, _, _| 0.0);
    /// assert_eq!(p.dim(), 4);
    /// ```
    fn dim(&self) -> usize;

    /// The log density at `x`, up to an additive constant: finite, or `−∞` outside the support.
    ///
    /// ```
    /// use adjoint::objective::{FnLogDensity, LogDensity};
    ///
    /// // An exponential distribution: log p(x) = −x on x ≥ 0.
    /// let exp = FnLogDensity::new(1, (), |x, _| if x[0] < 0.0 { f64::NEG_INFINITY } else { -x[0] },
    ///     |x, _, g| { g[0] = -1.0; if x[0] < 0.0 { f64::NEG_INFINITY } else { -x[0] } });
    /// assert_eq!(exp.log_density(&[2.0])?, -2.0);
    /// assert_eq!(exp.log_density(&[-1.0])?, f64::NEG_INFINITY);
    /// # Ok::<(), adjoint::objective::ObjectiveError>(())
    /// ```
    fn log_density(&self, x: &[f64]) -> Result<f64, ObjectiveError>;

    /// The log density at `x`, with its gradient written into `grad` (every component overwritten; zero
    /// where the log density is `−∞`).
    ///
    /// ```
    /// use adjoint::objective::{FnLogDensity, LogDensity};
    ///
    /// let p = FnLogDensity::new(1, (), |x, _| -x[0] * x[0], |x, _, g| { g[0] = -2.0 * x[0]; -x[0] * x[0] });
    /// let mut g = [0.0];
    /// assert_eq!(p.log_density_and_gradient(&[3.0], &mut g)?, -9.0);
    /// assert_eq!(g, [-6.0]);
    /// # Ok::<(), adjoint::objective::ObjectiveError>(())
    /// ```
    fn log_density_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> Result<f64, ObjectiveError>;

    /// The gradient of the log density (the score) at `x`, in a new vector.
    ///
    /// ```
    /// use adjoint::objective::{FnLogDensity, LogDensity};
    ///
    /// let p = FnLogDensity::new(1, (), |x, _| -x[0] * x[0], |x, _, g| { g[0] = -2.0 * x[0]; -x[0] * x[0] });
    /// assert_eq!(p.grad_log_density(&[3.0])?, vec![-6.0]);
    /// # Ok::<(), adjoint::objective::ObjectiveError>(())
    /// ```
    fn grad_log_density(&self, x: &[f64]) -> Result<Vec<f64>, ObjectiveError> {
        let mut grad = vec![0.0; self.dim()];
        self.log_density_and_gradient(x, &mut grad)?;
        Ok(grad)
    }
}

macro_rules! forward_impls {
    ($($ptr:ty),*) => {$(
        impl<T: Objective + ?Sized> Objective for $ptr {
            fn dim(&self) -> usize {
                (**self).dim()
            }
            fn value(&self, x: &[f64]) -> Result<f64, ObjectiveError> {
                (**self).value(x)
            }
            fn value_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> Result<f64, ObjectiveError> {
                (**self).value_and_gradient(x, grad)
            }
        }
        impl<T: LogDensity + ?Sized> LogDensity for $ptr {
            fn dim(&self) -> usize {
                (**self).dim()
            }
            fn log_density(&self, x: &[f64]) -> Result<f64, ObjectiveError> {
                (**self).log_density(x)
            }
            fn log_density_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> Result<f64, ObjectiveError> {
                (**self).log_density_and_gradient(x, grad)
            }
        }
    )*};
}
forward_impls!(&T, Box<T>, Arc<T>);

// ---------------------------------------------------------------------------------------------------
// The contract, shared by every adaptor
// ---------------------------------------------------------------------------------------------------

/// Which infinity is a value rather than an error.
#[derive(Clone, Copy)]
enum Sense {
    /// An objective: `+∞` outside the domain.
    Minimise,
    /// A log density: `−∞` outside the support.
    LogDensity,
}

impl Sense {
    fn allowed_infinity(self) -> f64 {
        match self {
            Sense::Minimise => f64::INFINITY,
            Sense::LogDensity => f64::NEG_INFINITY,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Sense::Minimise => "objective",
            Sense::LogDensity => "log density",
        }
    }
}

pub(crate) fn check_len(what: &'static str, expected: usize, found: usize) -> Result<(), ObjectiveError> {
    if expected == found {
        Ok(())
    } else {
        Err(ObjectiveError::DimensionMismatch { what, expected, found })
    }
}

pub(crate) fn check_finite(what: &'static str, v: &[f64]) -> Result<(), ObjectiveError> {
    // A reduction without an early exit, which the compiler vectorises (a `position` search it does not:
    // that cost a quarter of a Rosenbrock gradient); the search runs only on failure.
    if v.iter().fold(false, |bad, c| bad | !c.is_finite()) {
        let index = v.iter().position(|c| !c.is_finite()).unwrap_or(0);
        return Err(ObjectiveError::NonFinite { what, index, value: v[index] });
    }
    Ok(())
}

/// The checks made before evaluating: lengths, then a finite point.
fn check_input(dim: usize, x: &[f64], grad: Option<&[f64]>) -> Result<(), ObjectiveError> {
    check_len("x", dim, x.len())?;
    if let Some(grad) = grad {
        check_len("gradient buffer", dim, grad.len())?;
    }
    check_finite("x", x)
}

fn check_value(value: f64, sense: Sense) -> Result<f64, ObjectiveError> {
    if value.is_finite() || value == sense.allowed_infinity() {
        Ok(value)
    } else {
        Err(ObjectiveError::NonFiniteValue { what: sense.name(), value })
    }
}

/// The checks made after evaluating value and gradient.
fn check_value_and_gradient(value: f64, grad: &mut [f64], sense: Sense) -> Result<f64, ObjectiveError> {
    let value = check_value(value, sense)?;
    if value.is_finite() {
        check_finite("gradient", grad)?;
    } else {
        grad.fill(0.0);
    }
    Ok(value)
}

/// `Objective` or `LogDensity` for an adaptor, forwarding to its `core` (a `FlatCore` or a `TangentCore`)
/// with the trait's [`Sense`]; `$value` and `$value_and_gradient` are the names of the trait's methods.
macro_rules! core_trait_impl {
    (
        impl<$($g:ident),*> $trait:ident($value:ident, $value_and_gradient:ident), Sense::$sense:ident for $ty:ty
        where
            $($bound:tt)*
    ) => {
        impl<$($g),*> $trait for $ty
        where
            $($bound)*
        {
            fn dim(&self) -> usize {
                self.core.dim
            }
            fn $value(&self, x: &[f64]) -> Result<f64, ObjectiveError> {
                self.core.value(x, Sense::$sense)
            }
            fn $value_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> Result<f64, ObjectiveError> {
                self.core.value_and_gradient(x, grad, Sense::$sense)
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------------
// Flat parameters
// ---------------------------------------------------------------------------------------------------

#[derive(Clone)]
struct FlatCore<D, F, G> {
    dim: usize,
    data: D,
    value: F,
    value_and_gradient: G,
}

impl<D, F, G> FlatCore<D, F, G>
where
    F: Fn(&[f64], &D) -> f64,
    G: Fn(&[f64], &D, &mut [f64]) -> f64,
{
    fn value(&self, x: &[f64], sense: Sense) -> Result<f64, ObjectiveError> {
        check_input(self.dim, x, None)?;
        check_value((self.value)(x, &self.data), sense)
    }

    fn value_and_gradient(&self, x: &[f64], grad: &mut [f64], sense: Sense) -> Result<f64, ObjectiveError> {
        check_input(self.dim, x, Some(grad))?;
        grad.fill(0.0);
        let value = (self.value_and_gradient)(x, &self.data, grad);
        check_value_and_gradient(value, grad, sense)
    }
}

impl<D: fmt::Debug, F, G> FlatCore<D, F, G> {
    fn debug(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(name).field("dim", &self.dim).field("data", &self.data).finish_non_exhaustive()
    }
}

/// The impls of a flat adaptor, a struct with a `core: FlatCore<D, F, G>` field: `new` and `data` with
/// the documentation given, the trait named with its [`Sense`] (its two method names are also the names
/// of the function parameters of `new`), and `Debug`.
macro_rules! flat_adaptor {
    (
        $ty:ident: $trait:ident($value:ident, $value_and_gradient:ident), Sense::$sense:ident;
        $(#[$new:meta])* fn new;
        $(#[$data:meta])* fn data;
    ) => {
        impl<D, F, G> $ty<D, F, G>
        where
            F: Fn(&[f64], &D) -> f64,
            G: Fn(&[f64], &D, &mut [f64]) -> f64,
        {
            $(#[$new])*
            pub fn new(dim: usize, data: D, $value: F, $value_and_gradient: G) -> Self {
                Self { core: FlatCore { dim, data, value: $value, value_and_gradient: $value_and_gradient } }
            }
        }

        impl<D, F, G> $ty<D, F, G> {
            $(#[$data])*
            pub fn data(&self) -> &D {
                &self.core.data
            }
        }

        core_trait_impl! {
            impl<D, F, G> $trait($value, $value_and_gradient), Sense::$sense for $ty<D, F, G>
            where
                F: Fn(&[f64], &D) -> f64,
                G: Fn(&[f64], &D, &mut [f64]) -> f64,
        }

        impl<D: fmt::Debug, F, G> fmt::Debug for $ty<D, F, G> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.core.debug(stringify!($ty), f)
            }
        }
    };
}

/// An [`Objective`] over a flat `&[f64]`: a value function and a value-and-gradient function, both
/// called with the point and a reference to `data`.
///
/// The gradient function receives a zeroed buffer of length `dim` and returns the value; it may
/// overwrite the buffer (`f_grad_into`) or accumulate into it (`f_vjp` with `z̄ = 1`).
///
/// ```
/// use adjoint::differentiable;
/// use adjoint::objective::{FnObjective, Objective};
///
/// pub struct Springs {
///     pub rest: Vec<f64>,
/// }
///
/// /// Elastic energy of a chain of springs between consecutive positions.
/// #[differentiable(wrt(x))]
/// fn energy(x: &[f64], s: &Springs) -> f64 {
///     let mut e = 0.0;
///     for i in 0..s.rest.len() {
///         let d = x[i + 1] - x[i] - s.rest[i];
///         e += 0.5 * d * d;
///     }
///     e
/// }
///
/// let chain = FnObjective::new(3, Springs { rest: vec![1.0, 2.0] }, energy, energy_grad_into);
/// let x = [0.0, 1.0, 4.0];
/// let mut g = vec![0.0; 3];
/// let e = chain.value_and_gradient(&x, &mut g)?;
/// assert_eq!((e, &g), (0.5, &vec![0.0, -1.0, 1.0]));
/// assert_eq!((e, g), energy_grad(&x, chain.data())); // exactly what the generated function returns
/// # Ok::<(), adjoint::objective::ObjectiveError>(())
/// ```
#[derive(Clone)]
pub struct FnObjective<D, F, G> {
    core: FlatCore<D, F, G>,
}

flat_adaptor! {
    FnObjective: Objective(value, value_and_gradient), Sense::Minimise;

    /// An objective of dimension `dim` evaluating `value(x, &data)`, and
    /// `value_and_gradient(x, &data, grad)` for the gradient: for a generated function,
    /// `FnObjective::new(dim, data, f, f_grad_into)`.
    ///
    /// ```
    /// use adjoint::differentiable;
    /// use adjoint::objective::{FnObjective, Objective};
    ///
    /// #[differentiable(wrt(x))]
    /// fn scaled(x: &[f64], k: &f64) -> f64 {
    ///     k * (x[0] * x[0] + x[1] * x[1])
    /// }
    /// let f = FnObjective::new(2, 3.0, scaled, scaled_grad_into);
    /// assert_eq!(f.gradient(&[1.0, 2.0])?, vec![6.0, 12.0]);
    ///
    /// // Without data: `()` and closures.
    /// let g = FnObjective::new(2, (), |x, _| scaled(x, &1.0), |x, _, g| scaled_grad_into(x, &1.0, g));
    /// assert_eq!(g.value(&[1.0, 2.0])?, 5.0);
    /// # Ok::<(), adjoint::objective::ObjectiveError>(())
    /// ```
    fn new;

    /// The data the functions are called with.
    ///
    /// ```
    /// use adjoint::objective::FnObjective;
    ///
    /// let f = FnObjective::new(1, vec![1.0, 2.0], |x, c: &Vec<f64>| x[0] * c[0], |_, c: &Vec<f64>, g| { g[0] = c[0]; 0.0 });
    /// assert_eq!(f.data(), &vec![1.0, 2.0]);
    /// ```
    fn data;
}

/// A [`LogDensity`] over a flat `&[f64]`: a log-density function and a value-and-gradient function, both
/// called with the point and a reference to `data`. The counterpart of [`FnObjective`].
///
/// ```
/// use adjoint::differentiable;
/// use adjoint::objective::{FnLogDensity, LogDensity};
///
/// pub struct Observations {
///     pub y: Vec<f64>,
/// }
///
/// /// Log posterior of a normal mean `x[0]` with unit variance and a flat prior.
/// #[differentiable(wrt(x))]
/// fn log_posterior(x: &[f64], obs: &Observations) -> f64 {
///     let mut lp = 0.0;
///     for i in 0..obs.y.len() {
///         let r = obs.y[i] - x[0];
///         lp -= 0.5 * r * r;
///     }
///     lp
/// }
///
/// let model = FnLogDensity::new(1, Observations { y: vec![1.0, 2.0, 3.0] }, log_posterior, log_posterior_grad_into);
/// let mut g = [0.0];
/// model.log_density_and_gradient(&[2.0], &mut g)?;
/// assert_eq!(g, [0.0]); // the posterior mode is the sample mean
/// let x = [0.5];
/// assert_eq!(model.grad_log_density(&x)?, log_posterior_grad(&x, model.data()).1);
/// # Ok::<(), adjoint::objective::ObjectiveError>(())
/// ```
#[derive(Clone)]
pub struct FnLogDensity<D, F, G> {
    core: FlatCore<D, F, G>,
}

flat_adaptor! {
    FnLogDensity: LogDensity(log_density, log_density_and_gradient), Sense::LogDensity;

    /// A log density of dimension `dim` evaluating `log_density(x, &data)`, and
    /// `log_density_and_gradient(x, &data, grad)` for the gradient: for a generated function,
    /// `FnLogDensity::new(dim, data, f, f_grad_into)`.
    ///
    /// ```
    /// use adjoint::differentiable;
    /// use adjoint::objective::{FnLogDensity, LogDensity};
    ///
    /// #[differentiable(wrt(x))]
    /// fn isotropic(x: &[f64], precision: &f64) -> f64 {
    ///     -0.5 * precision * (x[0] * x[0] + x[1] * x[1])
    /// }
    /// let p = FnLogDensity::new(2, 4.0, isotropic, isotropic_grad_into);
    /// assert_eq!(p.grad_log_density(&[1.0, -1.0])?, vec![-4.0, 4.0]);
    /// # Ok::<(), adjoint::objective::ObjectiveError>(())
    /// ```
    fn new;

    /// The data the functions are called with.
    ///
    /// ```
    /// use adjoint::objective::FnLogDensity;
    ///
    /// let p = FnLogDensity::new(1, 2.5, |x, s: &f64| -x[0] * x[0] / s, |_, _, _| 0.0);
    /// assert_eq!(*p.data(), 2.5);
    /// ```
    fn data;
}

// ---------------------------------------------------------------------------------------------------
// Structured parameters
// ---------------------------------------------------------------------------------------------------

/// Reused between calls: the structured gradient and its flattened copy.
struct Scratch<P> {
    grad: P,
    flat: Vec<f64>,
}

impl<P: Tangent> Scratch<P> {
    fn new(template: &P, dim: usize) -> Self {
        Self { grad: template.zero_like(), flat: Vec::with_capacity(dim) }
    }
}

struct TangentCore<P, D, F, G> {
    template: P,
    dim: usize,
    data: D,
    value: F,
    value_and_gradient: G,
    scratch: Mutex<Scratch<P>>,
}

impl<P: Tangent, D, F, G> TangentCore<P, D, F, G> {
    fn new(template: P, data: D, value: F, value_and_gradient: G) -> Self {
        let dim = template.dim();
        let scratch = Mutex::new(Scratch::new(&template, dim));
        Self { template, dim, data, value, value_and_gradient, scratch }
    }

    fn flatten(&self, p: &P) -> Result<Vec<f64>, ObjectiveError> {
        check_len("parameter", self.dim, p.dim())?;
        let mut flat = Vec::with_capacity(self.dim);
        p.flatten_into(&mut flat);
        check_len("parameter", self.dim, flat.len())?;
        Ok(flat)
    }

    fn unflatten(&self, x: &[f64]) -> Result<P, ObjectiveError> {
        check_len("x", self.dim, x.len())?;
        Ok(self.template.unflatten(x))
    }
}

impl<P, D, F, G> TangentCore<P, D, F, G>
where
    P: Tangent,
    F: Fn(&P, &D) -> f64,
    G: Fn(&P, &D, &mut P) -> f64,
{
    fn value(&self, x: &[f64], sense: Sense) -> Result<f64, ObjectiveError> {
        check_input(self.dim, x, None)?;
        let p = self.template.unflatten(x);
        check_value((self.value)(&p, &self.data), sense)
    }

    fn value_and_gradient(&self, x: &[f64], grad: &mut [f64], sense: Sense) -> Result<f64, ObjectiveError> {
        check_input(self.dim, x, Some(grad))?;
        let p = self.template.unflatten(x);
        // The shared scratch if it is free; a fresh one for a concurrent or re-entrant call. After a
        // panic in a user function (a poisoned lock) the scratch may be misshapen, so it is rebuilt.
        let mut guard = match self.scratch.try_lock() {
            Ok(guard) => Some(guard),
            Err(TryLockError::Poisoned(poisoned)) => {
                let mut guard = poisoned.into_inner();
                *guard = Scratch::new(&self.template, self.dim);
                self.scratch.clear_poison();
                Some(guard)
            }
            Err(TryLockError::WouldBlock) => None,
        };
        let mut fresh;
        let scratch = match guard.as_deref_mut() {
            Some(scratch) => scratch,
            None => {
                fresh = Scratch::new(&self.template, self.dim);
                &mut fresh
            }
        };
        scratch.grad.set_zero();
        let value = (self.value_and_gradient)(&p, &self.data, &mut scratch.grad);
        scratch.flat.clear();
        scratch.grad.flatten_into(&mut scratch.flat);
        if scratch.flat.len() != self.dim {
            // The function reshaped the gradient: report it, and start from a well-shaped one next time.
            let found = scratch.flat.len();
            scratch.grad = self.template.zero_like();
            return Err(ObjectiveError::DimensionMismatch { what: "flattened gradient", expected: self.dim, found });
        }
        grad.copy_from_slice(&scratch.flat);
        check_value_and_gradient(value, grad, sense)
    }
}

impl<P: Tangent, D: Clone, F: Clone, G: Clone> Clone for TangentCore<P, D, F, G> {
    fn clone(&self) -> Self {
        Self::new(self.template.clone(), self.data.clone(), self.value.clone(), self.value_and_gradient.clone())
    }
}

impl<P: fmt::Debug, D: fmt::Debug, F, G> TangentCore<P, D, F, G> {
    fn debug(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(name)
            .field("dim", &self.dim)
            .field("template", &self.template)
            .field("data", &self.data)
            .finish_non_exhaustive()
    }
}

/// The impls of a structured adaptor, a struct with a `core: TangentCore<P, D, F, G>` field: `new`,
/// `flatten`, `unflatten`, `template`, `data` and `Clone` with the documentation given, the trait named
/// with its [`Sense`] (its two method names are also the names of the function parameters of `new`), and
/// `Debug`.
macro_rules! tangent_adaptor {
    (
        $ty:ident: $trait:ident($value:ident, $value_and_gradient:ident), Sense::$sense:ident;
        $(#[$new:meta])* fn new;
        $(#[$flatten:meta])* fn flatten;
        $(#[$unflatten:meta])* fn unflatten;
        $(#[$template:meta])* fn template;
        $(#[$data:meta])* fn data;
        $(#[$clone:meta])* fn clone;
    ) => {
        impl<P, D, F, G> $ty<P, D, F, G>
        where
            P: Tangent,
            F: Fn(&P, &D) -> f64,
            G: Fn(&P, &D, &mut P) -> f64,
        {
            $(#[$new])*
            pub fn new(template: P, data: D, $value: F, $value_and_gradient: G) -> Self {
                Self { core: TangentCore::new(template, data, $value, $value_and_gradient) }
            }
        }

        impl<P: Tangent, D, F, G> $ty<P, D, F, G> {
            $(#[$flatten])*
            pub fn flatten(&self, p: &P) -> Result<Vec<f64>, ObjectiveError> {
                self.core.flatten(p)
            }

            $(#[$unflatten])*
            pub fn unflatten(&self, x: &[f64]) -> Result<P, ObjectiveError> {
                self.core.unflatten(x)
            }

            $(#[$template])*
            pub fn template(&self) -> &P {
                &self.core.template
            }

            $(#[$data])*
            pub fn data(&self) -> &D {
                &self.core.data
            }
        }

        core_trait_impl! {
            impl<P, D, F, G> $trait($value, $value_and_gradient), Sense::$sense for $ty<P, D, F, G>
            where
                P: Tangent,
                F: Fn(&P, &D) -> f64,
                G: Fn(&P, &D, &mut P) -> f64,
        }

        impl<P: Tangent, D: Clone, F: Clone, G: Clone> Clone for $ty<P, D, F, G> {
            $(#[$clone])*
            fn clone(&self) -> Self {
                Self { core: self.core.clone() }
            }
        }

        impl<P: fmt::Debug, D: fmt::Debug, F, G> fmt::Debug for $ty<P, D, F, G> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.core.debug(stringify!($ty), f)
            }
        }
    };
}

/// An [`Objective`] over a structured parameter `P` (nalgebra vectors and matrices, `#[derive(Tangent)]`
/// structs, anything implementing [`Tangent`]), seen by the optimiser as its flat components.
///
/// Each call unflattens `x` into a `P` shaped like the template, calls the functions with it and a
/// reference to `data`, and flattens the gradient, a `P` that starts at zero, into the buffer. The order
/// of the components is the one [`Tangent::flatten_into`] fixes; [`flatten`](Self::flatten) and
/// [`unflatten`](Self::unflatten) convert a starting point and a result. The gradient and its flat copy
/// are scratch space reused between calls; the unflattened point is allocated per call (see the
/// [module documentation](self)).
///
/// ```
/// use adjoint::objective::{Objective, TangentObjective};
/// use adjoint::{differentiable, Tangent};
/// use nalgebra::{DMatrix, DVector};
///
/// /// A network with one hidden layer of two units.
/// #[derive(Tangent, Clone, Debug)]
/// pub struct Mlp {
///     pub w1: DMatrix<f64>,
///     pub b1: DVector<f64>,
///     pub w2: DMatrix<f64>,
///     pub b2: DVector<f64>,
/// }
///
/// /// An input and its target; not differentiated.
/// pub struct Example {
///     pub x: DVector<f64>,
///     pub y: DVector<f64>,
/// }
///
/// #[differentiable(wrt(p))]
/// fn loss(p: &Mlp, example: &Example) -> f64 {
///     let h = (&p.w1 * &example.x + &p.b1).map(|v| v.tanh());
///     let out = &p.w2 * h + &p.b2;
///     (out - &example.y).norm_squared()
/// }
///
/// let p0 = Mlp {
///     w1: DMatrix::from_row_slice(2, 3, &[0.1, -0.2, 0.3, 0.4, 0.1, -0.3]),
///     b1: DVector::zeros(2),
///     w2: DMatrix::from_row_slice(1, 2, &[0.5, -0.5]),
///     b2: DVector::zeros(1),
/// };
/// let example = Example { x: DVector::from_vec(vec![1.0, 2.0, 0.5]), y: DVector::from_vec(vec![0.8]) };
/// let objective = TangentObjective::new(p0.clone(), example, loss, loss_grad_into); // the one line
/// assert_eq!(objective.dim(), 6 + 2 + 2 + 1);
///
/// // The flat gradient is the generated one, flattened field by field.
/// let mut x = objective.flatten(&p0)?;
/// let mut g = vec![0.0; objective.dim()];
/// let (value, grad) = loss_grad(&p0, objective.data());
/// assert_eq!(objective.value_and_gradient(&x, &mut g)?, value);
/// assert_eq!(g, objective.flatten(&grad)?);
///
/// // Gradient descent on the flat vector; the result as an `Mlp`.
/// for _ in 0..200 {
///     objective.value_and_gradient(&x, &mut g)?;
///     for (xi, gi) in x.iter_mut().zip(&g) {
///         *xi -= 0.1 * gi;
///     }
/// }
/// let fitted: Mlp = objective.unflatten(&x)?;
/// assert!(loss(&fitted, objective.data()) < 1e-8);
/// # Ok::<(), adjoint::objective::ObjectiveError>(())
/// ```
pub struct TangentObjective<P, D, F, G> {
    core: TangentCore<P, D, F, G>,
}

tangent_adaptor! {
    TangentObjective: Objective(value, value_and_gradient), Sense::Minimise;

    /// An objective over parameters shaped like `template` (its values are not used; its dimension is
    /// the objective's), evaluating `value(&p, &data)`, and `value_and_gradient(&p, &data, &mut g)` for
    /// the gradient: for a generated function, `TangentObjective::new(p0, data, f, f_grad_into)`.
    ///
    /// ```
    /// use adjoint::differentiable;
    /// use adjoint::objective::{Objective, TangentObjective};
    /// use nalgebra::{DMatrix, DVector};
    ///
    /// #[differentiable(wrt(x))]
    /// fn least_squares(x: &DVector<f64>, a: &DMatrix<f64>, b: &DVector<f64>) -> f64 {
    ///     let r = a * x - b;
    ///     r.norm_squared()
    /// }
    /// let (a, b) = (DMatrix::<f64>::identity(2, 2), DVector::from_vec(vec![1.0, 2.0]));
    /// // Two data parameters: a tuple and closures.
    /// let f = TangentObjective::new(
    ///     DVector::zeros(2),
    ///     (a, b),
    ///     |x, (a, b)| least_squares(x, a, b),
    ///     |x, (a, b), g| least_squares_grad_into(x, a, b, g),
    /// );
    /// assert_eq!(f.gradient(&[0.0, 0.0])?, vec![-2.0, -4.0]);
    /// # Ok::<(), adjoint::objective::ObjectiveError>(())
    /// ```
    fn new;

    /// The flat components of `p`, for a starting point. An error if `p` has a different dimension than
    /// the template.
    ///
    /// ```
    /// use adjoint::objective::TangentObjective;
    /// use nalgebra::DMatrix;
    ///
    /// let f = TangentObjective::new(DMatrix::<f64>::zeros(2, 2), (), |w: &DMatrix<f64>, _| w.sum(), |_, _, g| { g.fill(1.0); 0.0 });
    /// let w = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
    /// assert_eq!(f.flatten(&w)?, vec![1.0, 3.0, 2.0, 4.0]); // column-major
    /// assert!(f.flatten(&DMatrix::zeros(3, 3)).is_err());
    /// # Ok::<(), adjoint::objective::ObjectiveError>(())
    /// ```
    fn flatten;

    /// The parameter whose flat components are `x`, for a result. An error if `x` does not have the
    /// objective's dimension.
    ///
    /// ```
    /// use adjoint::objective::TangentObjective;
    /// use nalgebra::DVector;
    ///
    /// let f = TangentObjective::new(DVector::<f64>::zeros(2), (), |v: &DVector<f64>, _| v.sum(), |_, _, g| { g.fill(1.0); 0.0 });
    /// assert_eq!(f.unflatten(&[1.0, 2.0])?, DVector::from_vec(vec![1.0, 2.0]));
    /// assert!(f.unflatten(&[1.0]).is_err());
    /// # Ok::<(), adjoint::objective::ObjectiveError>(())
    /// ```
    fn unflatten;

    /// The template the parameters are shaped like.
    ///
    /// ```
    /// use adjoint::objective::TangentObjective;
    ///
    /// let f = TangentObjective::new([0.0; 3], (), |p: &[f64; 3], _| p[0], |_, _, g| { g[0] = 1.0; 0.0 });
    /// assert_eq!(f.template(), &[0.0; 3]);
    /// ```
    fn template;

    /// The data the functions are called with.
    ///
    /// ```
    /// use adjoint::objective::TangentObjective;
    ///
    /// let f = TangentObjective::new(0.0, 2.0, |p: &f64, k: &f64| k * p, |_, k, g| { *g = *k; 0.0 });
    /// assert_eq!(*f.data(), 2.0);
    /// ```
    fn data;

    /// A copy with its own scratch space, e.g. one per thread.
    fn clone;
}

/// A [`LogDensity`] over a structured parameter `P` implementing [`Tangent`], seen by the sampler as its
/// flat components. The counterpart of [`TangentObjective`], with the same scratch space and the same
/// conversions.
///
/// ```
/// use adjoint::differentiable;
/// use adjoint::objective::{LogDensity, TangentLogDensity};
/// use nalgebra::{DMatrix, DVector};
///
/// /// A correlated Gaussian with precision matrix `q`, up to a constant.
/// #[differentiable(wrt(x))]
/// fn gaussian(x: &DVector<f64>, q: &DMatrix<f64>) -> f64 {
///     let qx = q * x;
///     -0.5 * x.dot(&qx)
/// }
///
/// let q = DMatrix::from_row_slice(2, 2, &[2.0, 0.5, 0.5, 1.0]);
/// let model = TangentLogDensity::new(DVector::zeros(2), q, gaussian, gaussian_grad_into);
/// let mut g = [0.0; 2];
/// let lp = model.log_density_and_gradient(&[1.0, 0.0], &mut g)?;
/// assert_eq!(lp, -1.0);
/// assert!((g[0] + 2.0).abs() < 1e-12 && (g[1] + 0.5).abs() < 1e-12); // −q x
/// # Ok::<(), adjoint::objective::ObjectiveError>(())
/// ```
pub struct TangentLogDensity<P, D, F, G> {
    core: TangentCore<P, D, F, G>,
}

tangent_adaptor! {
    TangentLogDensity: LogDensity(log_density, log_density_and_gradient), Sense::LogDensity;

    /// A log density over parameters shaped like `template`, evaluating `log_density(&p, &data)`, and
    /// `log_density_and_gradient(&p, &data, &mut g)` for the gradient: for a generated function,
    /// `TangentLogDensity::new(p0, data, f, f_grad_into)`.
    ///
    /// ```
    /// use adjoint::objective::{LogDensity, TangentLogDensity};
    ///
    /// // A hand-written gradient works too: log p = −½‖p‖².
    /// let p = TangentLogDensity::new(
    ///     vec![0.0; 3],
    ///     (),
    ///     |p: &Vec<f64>, _| -0.5 * p.iter().map(|v| v * v).sum::<f64>(),
    ///     |p, _, g| {
    ///         for (gi, pi) in g.iter_mut().zip(p) {
    ///             *gi = -pi;
    ///         }
    ///         -0.5 * p.iter().map(|v| v * v).sum::<f64>()
    ///     },
    /// );
    /// assert_eq!(p.grad_log_density(&[1.0, 2.0, 3.0])?, vec![-1.0, -2.0, -3.0]);
    /// # Ok::<(), adjoint::objective::ObjectiveError>(())
    /// ```
    fn new;

    /// The flat components of `p`, for an initial position. An error if `p` has a different dimension
    /// than the template.
    ///
    /// ```
    /// use adjoint::objective::TangentLogDensity;
    ///
    /// let p = TangentLogDensity::new([0.0; 2], (), |p: &[f64; 2], _| -p[0], |_, _, g| { g[0] = -1.0; 0.0 });
    /// assert_eq!(p.flatten(&[3.0, 4.0])?, vec![3.0, 4.0]);
    /// # Ok::<(), adjoint::objective::ObjectiveError>(())
    /// ```
    fn flatten;

    /// The parameter whose flat components are `x`, for a draw. An error if `x` does not have the
    /// dimension of the log density.
    ///
    /// ```
    /// use adjoint::objective::TangentLogDensity;
    ///
    /// let p = TangentLogDensity::new([0.0; 2], (), |p: &[f64; 2], _| -p[0], |_, _, g| { g[0] = -1.0; 0.0 });
    /// assert_eq!(p.unflatten(&[3.0, 4.0])?, [3.0, 4.0]);
    /// assert!(p.unflatten(&[3.0]).is_err());
    /// # Ok::<(), adjoint::objective::ObjectiveError>(())
    /// ```
    fn unflatten;

    /// The template the parameters are shaped like.
    ///
    /// ```
    /// use adjoint::objective::TangentLogDensity;
    ///
    /// let p = TangentLogDensity::new(vec![0.0; 2], (), |p: &Vec<f64>, _| -p[0], |_, _, g| { g[0] = -1.0; 0.0 });
    /// assert_eq!(p.template().len(), 2);
    /// ```
    fn template;

    /// The data the functions are called with.
    ///
    /// ```
    /// use adjoint::objective::TangentLogDensity;
    ///
    /// let p = TangentLogDensity::new(0.0, "model", |p: &f64, _| -p * p, |p, _, g| { *g = -2.0 * p; -p * p });
    /// assert_eq!(*p.data(), "model");
    /// ```
    fn data;

    /// A copy with its own scratch space, e.g. one per chain.
    fn clone;
}

// ---------------------------------------------------------------------------------------------------
// Changing sign
// ---------------------------------------------------------------------------------------------------

/// The objective `U(x) = −log p(x)` of a log density: maximum a posteriori estimation by minimisation.
///
/// `−∞` (outside the support) becomes `+∞` (outside the domain); errors pass through. The result is
/// checked against the [`Objective`] contract again, so a log density that breaks its own contract is
/// caught here.
///
/// ```
/// use adjoint::differentiable;
/// use adjoint::objective::{FnLogDensity, NegLogDensity, Objective};
///
/// #[differentiable]
/// fn log_p(x: &[f64]) -> f64 {
///     -(x[0] - 3.0) * (x[0] - 3.0)
/// }
/// let potential = NegLogDensity(FnLogDensity::new(1, (), |x, _| log_p(x), |x, _, g| log_p_grad_into(x, g)));
/// let mut g = [0.0];
/// assert_eq!(potential.value_and_gradient(&[1.0], &mut g)?, 4.0);
/// assert_eq!(g, [-4.0]); // downhill is towards the mode at 3
/// # Ok::<(), adjoint::objective::ObjectiveError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NegLogDensity<L>(pub L);

impl<L: LogDensity> Objective for NegLogDensity<L> {
    fn dim(&self) -> usize {
        self.0.dim()
    }
    fn value(&self, x: &[f64]) -> Result<f64, ObjectiveError> {
        check_value(-self.0.log_density(x)?, Sense::Minimise)
    }
    fn value_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> Result<f64, ObjectiveError> {
        check_len("gradient buffer", self.0.dim(), grad.len())?;
        let value = -self.0.log_density_and_gradient(x, grad)?;
        grad.iter_mut().for_each(|g| *g = -*g);
        check_value_and_gradient(value, grad, Sense::Minimise)
    }
}

/// The log density `log p(x) = −U(x)` of an objective read as a potential energy: the Boltzmann
/// distribution `p ∝ exp(−U)` at unit temperature, for sampling around a minimum.
///
/// `+∞` (outside the domain) becomes `−∞` (outside the support); errors pass through. The result is
/// checked against the [`LogDensity`] contract again.
///
/// ```
/// use adjoint::differentiable;
/// use adjoint::objective::{Boltzmann, FnObjective, LogDensity};
///
/// /// A harmonic well with spring constant 2.
/// #[differentiable]
/// fn well(x: &[f64]) -> f64 {
///     x[0] * x[0]
/// }
/// let density = Boltzmann(FnObjective::new(1, (), |x, _| well(x), |x, _, g| well_grad_into(x, g)));
/// let mut g = [0.0];
/// assert_eq!(density.log_density_and_gradient(&[0.5], &mut g)?, -0.25);
/// assert_eq!(g, [-1.0]); // the force −∇U
/// # Ok::<(), adjoint::objective::ObjectiveError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Boltzmann<O>(pub O);

impl<O: Objective> LogDensity for Boltzmann<O> {
    fn dim(&self) -> usize {
        self.0.dim()
    }
    fn log_density(&self, x: &[f64]) -> Result<f64, ObjectiveError> {
        check_value(-self.0.value(x)?, Sense::LogDensity)
    }
    fn log_density_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> Result<f64, ObjectiveError> {
        check_len("gradient buffer", self.0.dim(), grad.len())?;
        let value = -self.0.value_and_gradient(x, grad)?;
        grad.iter_mut().for_each(|g| *g = -*g);
        check_value_and_gradient(value, grad, Sense::LogDensity)
    }
}

// The unit tests use hand-written gradients: `#[differentiable]` emits paths through `::adjoint`, which do
// not resolve inside this crate. Agreement with generated functions is tested by the examples above,
// which are compiled as a user's crate.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::tangent::{Accumulate, Cotangent};
    use crate::{check_gradient, CheckOptions};
    use std::cell::Cell;
    use std::sync::atomic::{AtomicBool, Ordering};

    // ---- fixtures ---------------------------------------------------------------------------------

    #[derive(Clone, Debug)]
    struct Data {
        t: Vec<f64>,
        y: Vec<f64>,
    }

    fn data() -> Data {
        Data { t: vec![-1.0, 0.0, 0.5, 2.0, 3.0], y: vec![0.3, 1.1, 0.9, 4.2, 5.5] }
    }

    /// A cubic fit with a softened absolute loss and a small penalty.
    fn fit(x: &[f64], d: &Data) -> f64 {
        fit_accumulate(x, d, &mut [0.0; 4])
    }
    /// `fit`, adding its gradient into `g` (the shape of a generated `_vjp` with `z̄ = 1`).
    fn fit_accumulate(x: &[f64], d: &Data, g: &mut [f64]) -> f64 {
        let mut s = 0.01 * (x[0] * x[0] + x[1] * x[1]);
        g[0] += 0.02 * x[0];
        g[1] += 0.02 * x[1];
        for (&t, &y) in d.t.iter().zip(&d.y) {
            let r = x[0] + x[1] * t + x[2] * t * t + x[3] * t * t * t - y;
            let q = (1.0 + r * r).sqrt();
            s += q - 1.0;
            let dr = r / q;
            let mut tk = 1.0;
            for gk in g.iter_mut() {
                *gk += dr * tk;
                tk *= t;
            }
        }
        s
    }
    /// `fit`, overwriting `g` with its gradient (the shape of a generated `_grad_into`).
    fn fit_grad_into(x: &[f64], d: &Data, g: &mut [f64]) -> f64 {
        g.fill(0.0);
        fit_accumulate(x, d, g)
    }
    fn fit_grad(x: &[f64], d: &Data) -> (f64, Vec<f64>) {
        let mut g = vec![0.0; 4];
        (fit_grad_into(x, d, &mut g), g)
    }

    fn fit_objective() -> impl Objective + Clone {
        FnObjective::new(4, data(), fit, fit_grad_into)
    }

    /// Log density of a normal with mean `x₀` and standard deviation `exp(x₁)` at the observations `y`.
    fn normal_model(x: &[f64], d: &Data) -> f64 {
        normal_model_grad_into(x, d, &mut [0.0; 2])
    }
    fn normal_model_grad_into(x: &[f64], d: &Data, g: &mut [f64]) -> f64 {
        let s = x[1].exp();
        let (mut lp, mut g0, mut g1) = (0.0, 0.0, 0.0);
        for &y in &d.y {
            let z = (y - x[0]) / s;
            lp += -0.5 * z * z - x[1];
            g0 += z / s;
            g1 += z * z - 1.0;
        }
        g[0] = g0;
        g[1] = g1;
        lp
    }

    /// A small two-layer model, with a hand-written `Tangent` whose order is `w`, then `b`, then `c`.
    #[derive(Clone, Debug, PartialEq)]
    struct Mlp {
        w: Vec<f64>,
        b: [f64; 2],
        c: f64,
    }

    impl Accumulate for Mlp {
        fn accumulate(&mut self, other: &Self) {
            self.w.accumulate(&other.w);
            self.b.accumulate(&other.b);
            self.c.accumulate(&other.c);
        }
        fn subtract(&mut self, other: &Self) {
            self.w.subtract(&other.w);
            self.b.subtract(&other.b);
            self.c.subtract(&other.c);
        }
        fn set_zero(&mut self) {
            self.w.set_zero();
            self.b.set_zero();
            self.c.set_zero();
        }
    }
    impl Cotangent for Mlp {
        fn zero_like(&self) -> Self {
            Mlp { w: self.w.zero_like(), b: self.b.zero_like(), c: 0.0 }
        }
    }
    impl Tangent for Mlp {
        fn dim(&self) -> usize {
            self.w.dim() + self.b.dim() + self.c.dim()
        }
        fn dot(&self, other: &Self) -> f64 {
            self.w.dot(&other.w) + self.b.dot(&other.b) + self.c.dot(&other.c)
        }
        fn axpy(&mut self, alpha: f64, other: &Self) {
            self.w.axpy(alpha, &other.w);
            self.b.axpy(alpha, &other.b);
            self.c.axpy(alpha, &other.c);
        }
        fn scale(&mut self, alpha: f64) {
            self.w.scale(alpha);
            self.b.scale(alpha);
            self.c.scale(alpha);
        }
        fn flatten_into(&self, out: &mut Vec<f64>) {
            self.w.flatten_into(out);
            self.b.flatten_into(out);
            self.c.flatten_into(out);
        }
        fn unflatten_from(&self, flat: &[f64]) -> (Self, usize) {
            let (w, n1) = self.w.unflatten_from(flat);
            let (b, n2) = self.b.unflatten_from(&flat[n1..]);
            let (c, n3) = self.c.unflatten_from(&flat[n1 + n2..]);
            (Mlp { w, b, c }, n1 + n2 + n3)
        }
    }

    /// `Σᵢ (c + Σₖ bₖ tanh(w₂ₖ tᵢ + w₂ₖ₊₁) − yᵢ)²`.
    fn mlp_loss(p: &Mlp, d: &Data) -> f64 {
        mlp_loss_grad(p, d, &mut p.zero_like())
    }
    /// `mlp_loss`, adding its gradient into `g`.
    fn mlp_loss_grad(p: &Mlp, d: &Data, g: &mut Mlp) -> f64 {
        let mut s = 0.0;
        for (&t, &y) in d.t.iter().zip(&d.y) {
            let h = [(p.w[0] * t + p.w[1]).tanh(), (p.w[2] * t + p.w[3]).tanh()];
            let r = p.c + p.b[0] * h[0] + p.b[1] * h[1] - y;
            s += r * r;
            g.c += 2.0 * r;
            for (k, &hk) in h.iter().enumerate() {
                g.b[k] += 2.0 * r * hk;
                let dh = 2.0 * r * p.b[k] * (1.0 - hk * hk);
                g.w[2 * k] += dh * t;
                g.w[2 * k + 1] += dh;
            }
        }
        s
    }

    fn mlp() -> Mlp {
        Mlp { w: vec![0.5, -0.2, 1.1, 0.3], b: [0.7, -1.3], c: 0.1 }
    }

    type MlpObjective = TangentObjective<Mlp, Data, fn(&Mlp, &Data) -> f64, fn(&Mlp, &Data, &mut Mlp) -> f64>;

    fn mlp_objective() -> MlpObjective {
        TangentObjective::new(mlp().zero_like(), data(), mlp_loss, mlp_loss_grad)
    }

    /// An objective whose value is `value` everywhere, and whose gradient function writes NaN into the
    /// first component, as generated code does at a singularity.
    fn constant(value: f64) -> impl Objective {
        FnObjective::new(
            2,
            value,
            |_, v| *v,
            |_, v, g| {
                g[0] = f64::NAN;
                g[1] = 1.0;
                *v
            },
        )
    }

    // ---- dimensions -------------------------------------------------------------------------------

    #[test]
    fn a_wrong_x_length_is_an_error_naming_expected_and_found() {
        let f = fit_objective();
        let expected = ObjectiveError::DimensionMismatch { what: "x", expected: 4, found: 3 };
        assert_eq!(f.value(&[1.0, 2.0, 3.0]), Err(expected.clone()));
        let mut g = vec![7.0; 4];
        assert_eq!(f.value_and_gradient(&[1.0, 2.0, 3.0], &mut g), Err(expected.clone()));
        assert_eq!(g, vec![7.0; 4], "the buffer is untouched on an input error");
        assert_eq!(f.gradient(&[0.0; 5]), Err(ObjectiveError::DimensionMismatch { what: "x", expected: 4, found: 5 }));
        assert_eq!(expected.to_string(), "dimension mismatch: x has length 3, expected 4");
        assert!(!expected.is_recoverable());

        let p = FnLogDensity::new(2, data(), normal_model, normal_model_grad_into);
        assert_eq!(p.log_density(&[]), Err(ObjectiveError::DimensionMismatch { what: "x", expected: 2, found: 0 }));
    }

    #[test]
    fn a_wrong_gradient_buffer_length_is_an_error() {
        let f = fit_objective();
        for len in [0, 3, 5] {
            let mut g = vec![7.0; len];
            let err = f.value_and_gradient(&[0.0; 4], &mut g).unwrap_err();
            assert_eq!(err, ObjectiveError::DimensionMismatch { what: "gradient buffer", expected: 4, found: len });
            assert_eq!(err.to_string(), format!("dimension mismatch: gradient buffer has length {len}, expected 4"));
            assert!(g.iter().all(|&v| v == 7.0));
        }
        let p = FnLogDensity::new(2, data(), normal_model, normal_model_grad_into);
        let err = p.log_density_and_gradient(&[0.0; 2], &mut [0.0; 3]).unwrap_err();
        assert_eq!(err, ObjectiveError::DimensionMismatch { what: "gradient buffer", expected: 2, found: 3 });
    }

    #[test]
    fn structured_parameters_check_dimensions_too() {
        let f = mlp_objective();
        assert_eq!(f.dim(), 7);
        assert_eq!(f.value(&[0.0; 6]), Err(ObjectiveError::DimensionMismatch { what: "x", expected: 7, found: 6 }));
        let err = f.value_and_gradient(&[0.0; 7], &mut [0.0; 8]).unwrap_err();
        assert_eq!(err, ObjectiveError::DimensionMismatch { what: "gradient buffer", expected: 7, found: 8 });
        assert_eq!(f.unflatten(&[0.0; 8]), Err(ObjectiveError::DimensionMismatch { what: "x", expected: 7, found: 8 }));
        let wider = Mlp { w: vec![0.0; 6], ..mlp() };
        let err = f.flatten(&wider).unwrap_err();
        assert_eq!(err, ObjectiveError::DimensionMismatch { what: "parameter", expected: 7, found: 9 });
    }

    #[test]
    fn a_gradient_function_that_reshapes_its_buffer_is_caught() {
        let f = TangentObjective::new(
            vec![0.0; 3],
            (),
            |p: &Vec<f64>, _| p.iter().sum(),
            |p, _, g| {
                g.push(1.0);
                p.iter().sum()
            },
        );
        let err = f.value_and_gradient(&[1.0; 3], &mut [0.0; 3]).unwrap_err();
        assert_eq!(err, ObjectiveError::DimensionMismatch { what: "flattened gradient", expected: 3, found: 4 });
        assert!(!err.is_recoverable());
        // The scratch gradient was rebuilt with the template's shape.
        assert_eq!(f.core.scratch.lock().unwrap().grad.len(), 3);
    }

    // ---- non-finite values ------------------------------------------------------------------------

    #[test]
    fn a_non_finite_point_is_rejected_without_evaluating() {
        let calls = Cell::new(0);
        let f = FnObjective::new(
            3,
            (),
            |x, _| {
                calls.set(calls.get() + 1);
                x[0]
            },
            |x, _, g| {
                calls.set(calls.get() + 1);
                g[0] = 1.0;
                x[0]
            },
        );
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let x = [0.0, 1.0, bad];
            let err = f.value(&x).unwrap_err();
            assert!(
                matches!(err, ObjectiveError::NonFinite { what: "x", index: 2, value } if value.to_bits() == bad.to_bits())
            );
            assert!(err.is_recoverable());
            assert!(err.to_string().starts_with("x is not finite at index 2: "), "{err}");
            let mut g = [7.0; 3];
            assert_eq!(f.value_and_gradient(&x, &mut g).unwrap_err().to_string(), err.to_string());
            assert_eq!(g, [7.0; 3]);
        }
        assert_eq!(calls.get(), 0);
        // Structured parameters are checked before unflattening.
        let err = mlp_objective().value(&[0.0, 0.0, f64::NAN, 0.0, 0.0, 0.0, 0.0]).unwrap_err();
        assert!(matches!(err, ObjectiveError::NonFinite { what: "x", index: 2, .. }));
    }

    #[test]
    fn objective_nan_and_minus_infinity_are_errors_plus_infinity_is_a_wall() {
        for bad in [f64::NAN, f64::NEG_INFINITY] {
            let f = constant(bad);
            let err = f.value(&[0.0, 0.0]).unwrap_err();
            assert!(matches!(err, ObjectiveError::NonFiniteValue { what: "objective", .. }), "{err:?}");
            assert!(err.is_recoverable());
            assert!(err.to_string().starts_with(&format!("the objective is {bad}, but must be finite")), "{err}");
            let err2 = f.value_and_gradient(&[0.0, 0.0], &mut [0.0; 2]).unwrap_err();
            assert_eq!(err2.to_string(), err.to_string());
        }
        let wall = constant(f64::INFINITY);
        assert_eq!(wall.value(&[0.0, 0.0]), Ok(f64::INFINITY));
        let mut g = [7.0; 2];
        assert_eq!(wall.value_and_gradient(&[0.0, 0.0], &mut g), Ok(f64::INFINITY));
        assert_eq!(g, [0.0; 2], "no meaningful gradient outside the domain: zero, not NaN");
    }

    #[test]
    fn a_non_finite_gradient_at_a_finite_value_is_an_error() {
        let f = constant(1.5);
        assert_eq!(f.value(&[0.0, 0.0]), Ok(1.5));
        let err = f.value_and_gradient(&[0.0, 0.0], &mut [0.0; 2]).unwrap_err();
        assert!(matches!(err, ObjectiveError::NonFinite { what: "gradient", index: 0, .. }), "{err:?}");
        assert!(err.is_recoverable());
        assert!(err.to_string().starts_with("gradient is not finite at index 0"), "{err}");

        // The derivative of √x₀ at 0 is +∞ at the finite value 0.
        let root = FnObjective::new(
            1,
            (),
            |x, _| x[0].sqrt(),
            |x, _, g| {
                g[0] = 0.5 / x[0].sqrt();
                x[0].sqrt()
            },
        );
        assert_eq!(
            root.gradient(&[0.0]),
            Err(ObjectiveError::NonFinite { what: "gradient", index: 0, value: f64::INFINITY })
        );
        // Outside the domain √ is NaN: an error, not a wall.
        assert!(matches!(root.value(&[-1.0]), Err(ObjectiveError::NonFiniteValue { .. })));
    }

    #[test]
    fn log_density_minus_infinity_is_outside_the_support_plus_infinity_and_nan_are_errors() {
        // A log-normal density, support x₀ > 0. The gradient function returns NaN components outside the
        // support, as generated code does for ln of a negative number; they must not leak out.
        let log_normal = |x: &[f64]| if x[0] <= 0.0 { f64::NEG_INFINITY } else { -x[0].ln() - 0.5 * x[0].ln().powi(2) };
        let p = FnLogDensity::new(
            1,
            (),
            |x, _| log_normal(x),
            |x, _, g| {
                g[0] = -(1.0 + x[0].ln()) / x[0];
                log_normal(x)
            },
        );
        assert_eq!(p.log_density(&[-1.0]), Ok(f64::NEG_INFINITY));
        let mut g = [7.0];
        assert_eq!(p.log_density_and_gradient(&[-1.0], &mut g), Ok(f64::NEG_INFINITY));
        assert_eq!(g, [0.0]);
        assert_eq!(p.log_density_and_gradient(&[2.0], &mut g), Ok(log_normal(&[2.0])));
        check_gradient(|x| p.log_density(x).unwrap(), &[2.0], &g, CheckOptions::default()).unwrap();

        for bad in [f64::INFINITY, f64::NAN] {
            let q = FnLogDensity::new(1, bad, |_, v| *v, |_, v, _| *v);
            let err = q.log_density(&[0.0]).unwrap_err();
            assert!(matches!(err, ObjectiveError::NonFiniteValue { what: "log density", .. }), "{err:?}");
            assert!(err.to_string().starts_with("the log density is"), "{err}");
            assert!(err.is_recoverable());
            assert!(q.grad_log_density(&[0.0]).is_err());
        }
    }

    // ---- agreement with the wrapped functions -----------------------------------------------------

    #[test]
    fn a_flat_objective_returns_what_the_wrapped_functions_return() {
        let d = data();
        let f = fit_objective();
        let mut g = vec![0.0; 4];
        for x in [[0.1, 0.9, 0.2, -0.05], [1.0, -2.0, 0.5, 0.3], [0.0; 4]] {
            let (value, grad) = fit_grad(&x, &d);
            assert_eq!(f.value(&x), Ok(value));
            assert_eq!(f.value(&x), Ok(fit(&x, &d)));
            assert_eq!(f.value_and_gradient(&x, &mut g), Ok(value));
            assert_eq!(g, grad);
            assert_eq!(f.gradient(&x), Ok(grad));
            check_gradient(|x| f.value(x).unwrap(), &x, &g, CheckOptions::default()).unwrap();
        }
    }

    #[test]
    fn an_accumulating_gradient_function_works_because_the_buffer_is_zeroed() {
        let f = FnObjective::new(4, data(), fit, fit_accumulate);
        let x = [0.3, -0.4, 0.2, 0.1];
        let mut g = vec![100.0; 4];
        f.value_and_gradient(&x, &mut g).unwrap();
        f.value_and_gradient(&x, &mut g).unwrap();
        assert_eq!(g, fit_grad(&x, &data()).1);

        // The same for a structured parameter: `mlp_loss_grad` accumulates.
        let m = mlp_objective();
        let x = m.flatten(&mlp()).unwrap();
        let once = m.gradient(&x).unwrap();
        assert_eq!(m.gradient(&x).unwrap(), once);
    }

    #[test]
    fn a_flat_log_density_returns_what_the_wrapped_functions_return() {
        let d = data();
        let p = FnLogDensity::new(2, data(), normal_model, normal_model_grad_into);
        let x = [2.0, 0.4];
        let mut expected = [0.0; 2];
        let lp = normal_model_grad_into(&x, &d, &mut expected);
        let mut g = [0.0; 2];
        assert_eq!(p.log_density(&x), Ok(normal_model(&x, &d)));
        assert_eq!(p.log_density_and_gradient(&x, &mut g), Ok(lp));
        assert_eq!(g, expected);
        assert_eq!(p.grad_log_density(&x), Ok(expected.to_vec()));
        check_gradient(|x| p.log_density(x).unwrap(), &x, &g, CheckOptions::default()).unwrap();
        assert_eq!(p.data().y, d.y);
    }

    // ---- structured parameters --------------------------------------------------------------------

    #[test]
    fn a_struct_parameter_round_trips_and_its_gradient_is_flattened_in_order() {
        let f = mlp_objective();
        let p = mlp();
        let x = f.flatten(&p).unwrap();
        assert_eq!(x, vec![0.5, -0.2, 1.1, 0.3, 0.7, -1.3, 0.1], "fields in the order of flatten_into");
        assert_eq!(f.unflatten(&x), Ok(p.clone()));
        assert_eq!(f.template(), &p.zero_like());
        assert_eq!(f.data().t.len(), 5);

        // The flat gradient is the structured one, flattened.
        let d = data();
        let mut structured = p.zero_like();
        let value = mlp_loss_grad(&p, &d, &mut structured);
        let mut g = vec![f64::NAN; 7];
        assert_eq!(f.value_and_gradient(&x, &mut g), Ok(value));
        let mut expected = Vec::new();
        structured.flatten_into(&mut expected);
        assert_eq!(g, expected);
        assert_eq!(f.value(&x), Ok(mlp_loss(&p, &d)));
        check_gradient(|x| f.value(x).unwrap(), &x, &g, CheckOptions::default()).unwrap();

        // The reused scratch does not carry anything from one call to the next.
        let x2: Vec<f64> = x.iter().map(|v| v * 0.5 - 0.1).collect();
        let (mut g2, mut g2_fresh) = (vec![0.0; 7], vec![0.0; 7]);
        let v2 = f.value_and_gradient(&x2, &mut g2);
        assert_eq!(v2, mlp_objective().value_and_gradient(&x2, &mut g2_fresh));
        assert_eq!(g2, g2_fresh);
    }

    #[test]
    fn a_struct_log_density_drives_gradient_descent_through_neg_log_density() {
        let p = TangentLogDensity::new(
            mlp(),
            data(),
            |p: &Mlp, d: &Data| -mlp_loss(p, d),
            |p, d, g| {
                let v = mlp_loss_grad(p, d, g);
                g.scale(-1.0);
                -v
            },
        );
        assert_eq!(p.dim(), 7);
        assert_eq!(p.template(), &mlp());
        let f = NegLogDensity(&p);
        let mut x = p.flatten(&mlp()).unwrap();
        let mut g = vec![0.0; 7];
        let start = f.value(&x).unwrap();
        for _ in 0..200 {
            f.value_and_gradient(&x, &mut g).unwrap();
            x.iter_mut().zip(&g).for_each(|(xi, gi)| *xi -= 0.01 * gi);
        }
        let end = f.value(&x).unwrap();
        assert!(end < 0.5 * start, "{start} -> {end}");
        let fitted = p.unflatten(&x).unwrap();
        assert_eq!(p.flatten(&fitted), Ok(x));
    }

    #[test]
    fn structured_adaptors_are_sync_and_correct_under_concurrent_calls() {
        fn assert_send_sync<T: Send + Sync>(_: &T) {}
        let f = mlp_objective();
        assert_send_sync(&f);
        let x = f.flatten(&mlp()).unwrap();
        let reference = f.gradient(&x).unwrap();
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    let mut g = vec![0.0; 7];
                    for _ in 0..500 {
                        f.value_and_gradient(&x, &mut g).unwrap();
                        assert_eq!(g, reference);
                    }
                });
            }
        });
        let copy = f.clone();
        assert_eq!(copy.gradient(&x), Ok(reference));
    }

    #[test]
    fn a_re_entrant_call_gets_its_own_scratch() {
        // The gradient function of the outer objective evaluates the inner one, which shares nothing
        // with it, and then the same objective again through a reference captured in the data.
        let inner = mlp_objective();
        let x = inner.flatten(&mlp()).unwrap();
        let reference = inner.gradient(&x).unwrap();
        let outer = TangentObjective::new(
            mlp(),
            &inner,
            |p: &Mlp, o: &&MlpObjective| o.value(&o.flatten(p).unwrap()).unwrap(),
            |p, o, g| {
                let flat = o.flatten(p).unwrap();
                // Hold `o`'s scratch while calling it again: the nested call must not deadlock or panic.
                let _held = o.core.scratch.lock().unwrap();
                let nested = o.gradient(&flat).unwrap();
                *g = o.unflatten(&nested).unwrap();
                o.value(&flat).unwrap()
            },
        );
        assert_eq!(outer.gradient(&x), Ok(reference));
    }

    #[test]
    fn a_poisoned_scratch_is_rebuilt() {
        let panic_now = AtomicBool::new(true);
        let f = TangentObjective::new(
            vec![0.0; 2],
            (),
            |p: &Vec<f64>, _| p[0],
            |p, _, g| {
                if panic_now.swap(false, Ordering::SeqCst) {
                    g.clear();
                    panic!("user function failed");
                }
                g[0] = 1.0;
                p[0]
            },
        );
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f.gradient(&[1.0, 2.0])));
        assert!(unwound.is_err());
        assert_eq!(f.gradient(&[1.0, 2.0]), Ok(vec![1.0, 0.0]));
    }

    // ---- sign changes, trait objects, errors ------------------------------------------------------

    #[test]
    fn neg_log_density_and_boltzmann_negate_and_map_the_walls() {
        let x = [2.0, 0.4];
        let p = FnLogDensity::new(2, data(), normal_model, normal_model_grad_into);
        let lp = p.log_density(&x).unwrap();
        let grad = p.grad_log_density(&x).unwrap();
        let u = NegLogDensity(&p);
        assert_eq!(Objective::dim(&u), 2);
        let mut g = [0.0; 2];
        assert_eq!(u.value_and_gradient(&x, &mut g), Ok(-lp));
        assert_eq!(g, [-grad[0], -grad[1]]);
        assert_eq!(u.value(&x), Ok(-lp));

        // Round trip: Boltzmann(NegLogDensity(p)) is p.
        let back = Boltzmann(u);
        assert_eq!(back.log_density_and_gradient(&x, &mut g), Ok(lp));
        assert_eq!(g.to_vec(), grad);
        assert_eq!(back.log_density(&x), Ok(lp));

        // The walls: a −∞ log density is a +∞ objective and back, with a zero gradient.
        let outside = FnLogDensity::new(
            1,
            (),
            |_, _| f64::NEG_INFINITY,
            |_, _, g| {
                g[0] = f64::NAN;
                f64::NEG_INFINITY
            },
        );
        let mut g1 = [7.0];
        assert_eq!(NegLogDensity(&outside).value_and_gradient(&[0.0], &mut g1), Ok(f64::INFINITY));
        assert_eq!(g1, [0.0]);
        assert_eq!(Boltzmann(NegLogDensity(&outside)).log_density(&[0.0]), Ok(f64::NEG_INFINITY));
        assert_eq!(Boltzmann(constant(f64::INFINITY)).log_density(&[0.0, 0.0]), Ok(f64::NEG_INFINITY));

        // Errors pass through.
        let err = NegLogDensity(&outside).value_and_gradient(&[0.0], &mut [0.0; 2]).unwrap_err();
        assert_eq!(err, ObjectiveError::DimensionMismatch { what: "gradient buffer", expected: 1, found: 2 });
        let err = Boltzmann(constant(f64::NEG_INFINITY)).log_density(&[0.0, 0.0]).unwrap_err();
        assert!(matches!(err, ObjectiveError::NonFiniteValue { what: "objective", .. }));
        let err = Boltzmann(fit_objective()).log_density(&[0.0; 3]).unwrap_err();
        assert_eq!(err, ObjectiveError::DimensionMismatch { what: "x", expected: 4, found: 3 });
    }

    #[test]
    fn sign_adaptors_recheck_the_contract_of_hand_written_implementations() {
        /// Breaks the `LogDensity` contract: returns +∞ with a non-zero gradient.
        struct Broken;
        impl LogDensity for Broken {
            fn dim(&self) -> usize {
                1
            }
            fn log_density(&self, _: &[f64]) -> Result<f64, ObjectiveError> {
                Ok(f64::INFINITY)
            }
            fn log_density_and_gradient(&self, _: &[f64], g: &mut [f64]) -> Result<f64, ObjectiveError> {
                g[0] = 1.0;
                Ok(f64::INFINITY)
            }
        }
        let err = NegLogDensity(Broken).value(&[0.0]).unwrap_err();
        assert_eq!(err, ObjectiveError::NonFiniteValue { what: "objective", value: f64::NEG_INFINITY });
        assert_eq!(NegLogDensity(Broken).gradient(&[0.0]), Err(err));
    }

    #[test]
    fn trait_objects_and_smart_pointers_forward() {
        let boxed: Box<dyn Objective> = Box::new(fit_objective());
        let shared: Arc<dyn LogDensity + Send + Sync> =
            Arc::new(FnLogDensity::new(2, data(), normal_model, normal_model_grad_into));
        let x = [0.1, 0.9, 0.2, -0.05];
        assert_eq!(boxed.gradient(&x), Ok(fit_grad(&x, &data()).1));
        assert_eq!(LogDensity::dim(&Boltzmann(&boxed)), 4);
        assert_eq!(shared.dim(), 2);
        let y = [2.0, 0.4];
        assert_eq!(NegLogDensity(shared.clone()).value(&y), Ok(-normal_model(&y, &data())));
        assert_eq!(Boltzmann(NegLogDensity(shared)).grad_log_density(&y).map(|g| g.len()), Ok(2));
    }

    #[test]
    fn failed_errors_carry_their_message_and_recoverability() {
        let e = ObjectiveError::Failed { message: "solver diverged".into(), recoverable: true };
        assert_eq!(e.to_string(), "solver diverged");
        assert!(e.is_recoverable());
        assert!(!ObjectiveError::Failed { message: String::new(), recoverable: false }.is_recoverable());
        let boxed: Box<dyn std::error::Error + Send + Sync + 'static> = Box::new(e);
        assert_eq!(boxed.to_string(), "solver diverged");
    }

    #[test]
    fn debug_shows_dimension_and_data() {
        let f = FnObjective::new(
            2,
            3.5,
            |x, k: &f64| k * x[0],
            |_, k, g| {
                g[0] = *k;
                0.0
            },
        );
        assert_eq!(format!("{f:?}"), "FnObjective { dim: 2, data: 3.5, .. }");
        let p = TangentLogDensity::new(
            [0.0; 2],
            (),
            |p: &[f64; 2], _| p[0],
            |_, _, g| {
                g[0] = 1.0;
                0.0
            },
        );
        assert_eq!(format!("{p:?}"), "TangentLogDensity { dim: 2, template: [0.0, 0.0], data: (), .. }");
    }
}
