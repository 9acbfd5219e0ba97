//! `adjoint-macros`: the source transformation behind the `adjoint` crate.
//!
//! `#[differentiable]` reads an annotated function and writes, next to it, its forward-mode (JVP) and
//! reverse-mode (VJP, gradient) derivatives as ordinary Rust code. The pipeline, one module per stage:
//!
//! 1. [`args`] and [`signature`] parse the attribute options and the function's parameters;
//! 2. [`lower`] turns the body into the small three-address [`ir`] (every intermediate named, every
//!    variable renamed apart), rejecting what is outside the supported subset with errors at their spans;
//! 3. [`analyse`] finds the active values (those carrying derivatives) and the values the reverse sweep
//!    needs; [`normalize`] gives the function a single exit for the reverse sweep;
//! 4. [`forward`] emits the tangent code, [`adjoint`] the forward and reverse sweeps, and [`emit`] the
//!    public entry points with their documentation; [`fallback`] is what is emitted when the input is wrong.
//!
//! Users depend on the `adjoint` crate, which re-exports this macro; generated code reaches the runtime
//! only through `::adjoint::__private`.

mod adjoint;
mod analyse;
mod args;
mod ctxt;
mod derive_tangent;
mod emit;
mod fallback;
mod forward;
mod ir;
mod lower;
mod names;
mod normalize;
mod primal;
mod signature;

use proc_macro::TokenStream;

/// Generates the derivatives of a function at compile time.
///
/// For `#[differentiable] fn f(x: &[f64]) -> f64` it writes `f_grad`, `f_grad_into`, `f_jvp` and `f_vjp`
/// next to `f`; see the `adjoint` crate for the full description, the supported language subset and the
/// options `wrt(..)` and `custom(jvp = .., vjp = ..)`.
#[proc_macro_attribute]
pub fn differentiable(attr: TokenStream, item: TokenStream) -> TokenStream {
    emit::differentiable(attr.into(), item.into()).into()
}

/// Makes a struct of parameters a tangent space: `#[derive(Tangent, Clone)] struct Mlp { w: DMatrix<f64>, .. }`.
///
/// Fields may be `f64`, `Vec<f64>`, `[f64; N]`, nalgebra vectors and matrices of `f64`, and other
/// `#[derive(Tangent)]` structs. The struct can then be a differentiated parameter (`wrt(p)`), and its
/// gradient has the same type; see `adjoint::Tangent`.
#[proc_macro_derive(Tangent)]
pub fn derive_tangent(input: TokenStream) -> TokenStream {
    derive_tangent::derive(input.into()).into()
}
