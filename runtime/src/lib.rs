//! # adjoint — compile-time automatic differentiation for Rust
//!
//! `#[differentiable]` rewrites an annotated function, at compile time, into forward-mode (JVP) and
//! reverse-mode (VJP, gradient) Rust code. This crate is what the generated code runs on: the scalar
//! derivative rules ([`rules`]) and those of nalgebra linear algebra ([`linalg`]), the vector-space
//! operations on tangents and cotangents ([`tangent`], with `#[derive(Tangent)]` for parameter structs),
//! the [`objective`] traits optimisers and samplers consume, and a finite-difference checker users call
//! in their own tests ([`check`]).
//!
//! ```
//! use adjoint::differentiable;
//!
//! #[differentiable]
//! fn rosenbrock(x: &[f64]) -> f64 {
//!     let mut s = 0.0;
//!     for i in 0..x.len() - 1 {
//!         let a = 1.0 - x[i];
//!         let b = x[i + 1] - x[i] * x[i];
//!         s += a * a + 100.0 * b * b;
//!     }
//!     s
//! }
//!
//! let x = [1.5, -0.5, 2.0];
//! let (value, grad) = rosenbrock_grad(&x);
//! assert_eq!(value, rosenbrock(&x));
//! let (_, slope) = rosenbrock_jvp(&x, &[1.0, 0.0, 0.0]);
//! assert!((slope - grad[0]).abs() < 1e-12);
//! ```
//!
//! The generated functions, for `#[differentiable] fn f(x: &[f64]) -> f64`:
//! - `f_grad(x) -> (f64, Vec<f64>)`: value and gradient;
//! - `f_grad_into(x, g: &mut [f64]) -> f64`: the gradient written into a buffer, without allocating;
//! - `f_jvp(x, x_dot) -> (f64, f64)`: value and directional derivative;
//! - `f_vjp(x, z_bar, x_bar: &mut [f64]) -> f64`: the low-level reverse form, accumulating `z_bar · ∂f/∂x`
//!   into `x_bar` (also for functions returning `Vec<f64>` or `[f64; N]`).
//!
//! Options: `#[differentiable(wrt(a, b))]` differentiates only with respect to `a` and `b` (the other
//! parameters are constants of any type); `#[differentiable(custom(jvp = .., vjp = ..))]` uses rules you
//! write yourself instead of transforming the body, for you and for every differentiable caller:
//!
//! ```
//! use adjoint::differentiable;
//!
//! /// `ln(1 + eˣ)`, whose derivative is the logistic function; the rules below are exact and stable.
//! #[differentiable(custom(jvp = softplus_tangent, vjp = softplus_adjoint))]
//! fn softplus(x: f64) -> f64 {
//!     if x > 30.0 { x } else { x.exp().ln_1p() }
//! }
//! fn softplus_tangent(x: f64, x_dot: f64) -> (f64, f64) {
//!     (softplus(x), x_dot / (1.0 + (-x).exp()))
//! }
//! fn softplus_adjoint(x: f64, z_bar: f64, x_bar: &mut f64) -> f64 {
//!     *x_bar += z_bar / (1.0 + (-x).exp());
//!     softplus(x)
//! }
//!
//! #[differentiable]
//! fn loss(w: &[f64]) -> f64 {
//!     let mut total = 0.0;
//!     for wi in w.iter() {
//!         total += softplus(2.0 * wi);
//!     }
//!     total
//! }
//! let (_, g) = loss_grad(&[0.0, 100.0]);
//! assert!((g[0] - 1.0).abs() < 1e-12 && (g[1] - 2.0).abs() < 1e-12);
//! ```

pub mod check;
pub mod curvature;
pub mod dual;
pub mod dual_linalg;
pub mod linalg;
pub mod objective;
pub mod optim;
pub mod rules;
pub mod tangent;

pub use adjoint_macros::{differentiable, Tangent};
pub use check::{check_gradient, check_jvp, CheckError, CheckOptions, CheckReport};
pub use objective::{
    Boltzmann, FnLogDensity, FnObjective, LogDensity, NegLogDensity, Objective, ObjectiveError, TangentLogDensity,
    TangentObjective,
};
pub use optim::{FnSecondOrder, SecondOrderObjective};
pub use rules::Real;
pub use tangent::{Cotangent, Tangent};

/// Stops differentiation: the value of `x`, treated as a constant by `#[differentiable]`.
///
/// Outside differentiated code this is the identity. Inside, the derivative of `no_grad(e)` is zero,
/// like `jax.lax.stop_gradient` or PyTorch's `detach`.
///
/// ```
/// use adjoint::{differentiable, no_grad};
///
/// #[differentiable]
/// fn f(x: f64) -> f64 {
///     x * no_grad(x)
/// }
/// let (value, slope) = f_grad(3.0);
/// assert_eq!((value, slope), (9.0, 3.0));
/// ```
#[inline(always)]
pub fn no_grad<T>(x: T) -> T {
    x
}

/// The one path generated code uses to reach the runtime. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::dual::*;
    pub use crate::linalg::*;
    pub use crate::rules::*;
    pub use crate::tangent::*;
}
