//! What is emitted when the input is wrong: the user's function unchanged, the errors, and (when the
//! signature could be read) the generated entry points with unreachable bodies, so that call sites of
//! `f_grad` and friends do not bury the real error under "cannot find function" errors.

use proc_macro2::TokenStream;
use quote::quote;

pub fn emit(func: &syn::ItemFn, error: syn::Error, stubs: Option<TokenStream>) -> TokenStream {
    let error = error.to_compile_error();
    quote!(#func #error #stubs)
}

/// The body given to every generated function when the transformation failed.
pub fn unreachable_body() -> TokenStream {
    quote!(::core::unreachable!("#[differentiable] failed; see the compile error"))
}
