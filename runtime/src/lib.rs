//! # adjoint — compile-time automatic differentiation for Rust
//!
//! `#[differentiable]` rewrites an annotated function, at compile time, into forward-mode (JVP) and
//! reverse-mode (VJP, gradient) Rust code. This crate is what the generated code runs on: the scalar
//! derivative rules ([`rules`]), the vector-space operations on tangents and cotangents ([`tangent`]),
//! and a finite-difference checker users call in their own tests ([`check`]).
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

pub mod check;
pub mod rules;
pub mod tangent;

pub use adjoint_macros::differentiable;
pub use check::{check_gradient, check_jvp, CheckError, CheckOptions, CheckReport};
pub use rules::Real;
pub use tangent::Cotangent;

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
    pub use crate::rules::*;
    pub use crate::tangent::*;
}
