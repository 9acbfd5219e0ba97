//! Every name the generated code introduces, in one place.
//!
//! User variables keep their names where they can (renamed apart with a `__k` suffix when shadowed);
//! their tangents are `x_dot` and their cotangents `x_bar`, JAX's vocabulary. Everything else the
//! transformation invents starts with a double underscore (`__t3`, `__tape2`), which user variables are
//! renamed away from, so no generated name can capture a user's.

use proc_macro2::{Ident, Span};
use quote::format_ident;

pub fn dot(name: &Ident) -> Ident {
    format_ident!("{}_dot", name)
}
pub fn bar(name: &Ident) -> Ident {
    format_ident!("{}_bar", name)
}
pub fn temp(k: usize) -> Ident {
    Ident::new(&format!("__t{k}"), Span::call_site())
}
/// A name for the `k`-th piece of bookkeeping of kind `what` (saves, tapes, conditions, counters).
pub fn aux(what: &str, k: usize) -> Ident {
    Ident::new(&format!("__{what}{k}"), Span::call_site())
}
/// The output cotangent parameter of a VJP.
pub fn output_bar() -> Ident {
    Ident::new("__z_bar", Span::call_site())
}
pub fn jvp_fn(f: &Ident) -> Ident {
    format_ident!("{}_jvp", f)
}
pub fn vjp_fn(f: &Ident) -> Ident {
    format_ident!("{}_vjp", f)
}
pub fn grad_fn(f: &Ident) -> Ident {
    format_ident!("{}_grad", f)
}
pub fn grad_into_fn(f: &Ident) -> Ident {
    format_ident!("{}_grad_into", f)
}
/// The hidden forward-mode entry point with one optional tangent per parameter, used by callers.
pub fn jvp_internal(f: &Ident) -> Ident {
    format_ident!("__adjoint_jvp_{}", f)
}
/// The hidden reverse-mode entry point with one optional cotangent per parameter, used by callers.
pub fn vjp_internal(f: &Ident) -> Ident {
    format_ident!("__adjoint_vjp_{}", f)
}
/// The hidden primal of a function on dual numbers, used by the dual code of callers.
pub fn dual_internal(f: &Ident) -> Ident {
    format_ident!("__adjoint_dual_{}", f)
}
/// The hidden reverse-mode entry point on dual numbers (forward-over-reverse), behind `f_hvp`.
pub fn vjp2_internal(f: &Ident) -> Ident {
    format_ident!("__adjoint_vjp2_{}", f)
}
/// Whether a user's variable name must be renamed so generated names cannot collide with it.
pub fn reserved(name: &str) -> bool {
    name.starts_with("__") || name.ends_with("_dot") || name.ends_with("_bar")
}

/// Tokens as a user would write them (`Vec<f64>`, not `Vec < f64 >`), for messages.
pub fn pretty<T: quote::ToTokens>(tokens: &T) -> String {
    let mut s = tokens.to_token_stream().to_string();
    for (from, to) in [
        (" < ", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" :: ", "::"),
        (":: ", "::"),
        ("& ", "&"),
        (" ,", ","),
        (" ;", ";"),
        ("[ ", "["),
        (" ]", "]"),
        ("( ", "("),
        (" )", ")"),
    ] {
        s = s.replace(from, to);
    }
    s
}
