//! The function's signature read for differentiation: which parameters are active, the tangent and
//! cotangent types each one gets, and the shape of the result.
//!
//! | parameter        | tangent (JVP) | cotangent slot (VJP)  | gradient   |
//! |------------------|---------------|-----------------------|------------|
//! | `f64` / `f32`    | same          | `&mut f64`            | `f64`      |
//! | `&[f64]`         | `&[f64]`      | `&mut [f64]`          | `Vec<f64>` |
//! | `&Vec<f64>`      | `&Vec<f64>`   | `&mut [f64]`          | `Vec<f64>` |
//! | `Vec<f64>`       | `Vec<f64>`    | `&mut [f64]`          | `Vec<f64>` |
//! | `[f64; N]`       | `[f64; N]`    | `&mut [f64; N]`       | `[f64; N]` |
//! | `&[f64; N]`      | `&[f64; N]`   | `&mut [f64; N]`       | `[f64; N]` |
//!
//! Other parameters (integers, data, anything excluded by `wrt`) are constants: passed through, no
//! tangent.

use crate::ctxt::Ctxt;
use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::{FnArg, Ident, Pat, ReturnType, Type};

pub struct Param {
    pub ident: Ident,
    pub ty: Type,
    pub mutable: bool,
    pub active: Option<Active>,
}

/// How an active parameter's derivatives are typed and stored.
pub struct Active {
    /// The type behind `&mut` in the cotangent slot (`f64`, `[f64]`, `[f64; N]`).
    pub bar_target: TokenStream,
    /// The owned gradient type returned by `f_grad`.
    pub grad_ty: TokenStream,
    /// The primal is a reference (`&[f64]`, `&Vec<f64>`, `&[f64; N]`).
    pub by_ref: bool,
    /// The cotangent is accumulated in a local and added to the slot at the end (scalars, and arrays the
    /// body mutates); otherwise the slot itself is the accumulator.
    pub local_bar: bool,
    /// A scalar (`f64`/`f32`).
    pub scalar: bool,
    /// The cotangent buffer is a slice, whose length must be checked against the primal's.
    pub slice: bool,
    /// Made of `f64`/`f32` directly (scalars, slices, `Vec`s, arrays), as second-order code requires.
    pub plain: bool,
}

pub enum RetKind {
    Scalar,
    Array,
    Tuple,
}

pub struct Signature {
    pub params: Vec<Param>,
    pub ret_ty: Type,
    pub ret_kind: RetKind,
    /// The result's type spells out its float type (`f64`, `Vec<f64>`, `DVector<f64>`, not an alias), so
    /// that second-order code can name its dual counterpart.
    pub plain_ret: bool,
}

fn float_elem(ty: &Type) -> Option<&Ident> {
    match ty {
        Type::Path(p) if p.qself.is_none() => {
            let id = p.path.get_ident()?;
            (id == "f64" || id == "f32").then_some(id)
        }
        Type::Paren(p) => float_elem(&p.elem),
        Type::Group(g) => float_elem(&g.elem),
        _ => None,
    }
}

fn vec_elem(ty: &Type) -> Option<&Ident> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Vec" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    match args.args.first()? {
        syn::GenericArgument::Type(t) if args.args.len() == 1 => float_elem(t),
        _ => None,
    }
}

fn mentions_float(ty: &Type) -> bool {
    ty.to_token_stream().into_iter().any(|t| matches!(&t, proc_macro2::TokenTree::Ident(i) if i == "f64" || i == "f32"))
        || {
            let s = ty.to_token_stream().to_string();
            s.contains("f64") || s.contains("f32")
        }
}

/// Classifies an active parameter's type, or `None` if it cannot carry derivatives.
fn active_kind(ty: &Type, mutable: bool) -> Option<Active> {
    let owned = |bar_target: TokenStream, grad_ty: TokenStream, scalar: bool, slice: bool| Active {
        bar_target,
        grad_ty,
        by_ref: false,
        local_bar: scalar || mutable,
        scalar,
        slice,
        plain: true,
    };
    if let Some(t) = float_elem(ty) {
        return Some(owned(quote!(#t), quote!(#t), true, false));
    }
    if let Some(t) = vec_elem(ty) {
        return Some(owned(quote!([#t]), quote!(::std::vec::Vec<#t>), false, true));
    }
    if let Some(space) = tangent_space(ty) {
        return Some(Active { local_bar: mutable, ..space });
    }
    if let Type::Array(a) = ty {
        let t = float_elem(&a.elem)?;
        let n = &a.len;
        return Some(owned(quote!([#t; #n]), quote!([#t; #n]), false, false));
    }
    if let Type::Reference(r) = ty {
        if r.mutability.is_some() {
            return None;
        }
        if let Some(inner) = tangent_space(&r.elem) {
            return Some(Active { by_ref: true, local_bar: false, ..inner });
        }
        let borrowed = |bar_target, grad_ty, slice| Active {
            bar_target,
            grad_ty,
            by_ref: true,
            local_bar: false,
            scalar: false,
            slice,
            plain: true,
        };
        return match &*r.elem {
            Type::Slice(s) => {
                let t = float_elem(&s.elem)?;
                Some(borrowed(quote!([#t]), quote!(::std::vec::Vec<#t>), true))
            }
            Type::Array(a) => {
                let t = float_elem(&a.elem)?;
                let n = &a.len;
                Some(borrowed(quote!([#t; #n]), quote!([#t; #n]), false))
            }
            inner => {
                let t = vec_elem(inner)?;
                Some(borrowed(quote!([#t]), quote!(::std::vec::Vec<#t>), true))
            }
        };
    }
    None
}

/// A named type other than `Vec` and the floats (nalgebra vectors and matrices, `#[derive(Tangent)]`
/// structs): its own tangent, cotangent and gradient type, through the runtime's `Cotangent` trait.
fn tangent_space(ty: &Type) -> Option<Active> {
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() || float_elem(ty).is_some() || vec_elem(ty).is_some() {
        return None;
    }
    let name = p.path.segments.last()?.ident.to_string();
    let primitive = [
        "usize", "isize", "u8", "u16", "u32", "u64", "u128", "i8", "i16", "i32", "i64", "i128", "bool", "char",
        "String", "str", "Vec", "Option",
    ];
    if primitive.contains(&name.as_str()) {
        return None;
    }
    Some(Active {
        bar_target: quote!(#ty),
        grad_ty: quote!(#ty),
        by_ref: false,
        local_bar: false,
        scalar: false,
        slice: false,
        plain: false,
    })
}

fn plain_ret(ty: &Type) -> bool {
    match ty {
        Type::Array(a) => float_elem(&a.elem).is_some(),
        Type::Tuple(t) => t.elems.iter().all(plain_ret),
        Type::Paren(p) => plain_ret(&p.elem),
        _ => float_elem(ty).is_some() || vec_elem(ty).is_some(),
    }
}

fn ret_kind(ty: &Type) -> Option<RetKind> {
    if float_elem(ty).is_some() {
        return Some(RetKind::Scalar);
    }
    if vec_elem(ty).is_some() || tangent_space(ty).is_some() {
        return Some(RetKind::Array);
    }
    match ty {
        Type::Array(a) if float_elem(&a.elem).is_some() => Some(RetKind::Array),
        Type::Tuple(t) if !t.elems.is_empty() && t.elems.iter().all(|e| ret_kind(e).is_some()) => Some(RetKind::Tuple),
        Type::Paren(p) => ret_kind(&p.elem),
        _ => None,
    }
}

pub fn read(cx: &Ctxt, sig: &syn::Signature, wrt: Option<&[Ident]>) -> Signature {
    if let Some(c) = &sig.constness {
        cx.error_spanned_by(c, "`const fn` cannot be differentiable; remove `const`");
    }
    if let Some(a) = &sig.asyncness {
        cx.error_spanned_by(a, "`async fn` cannot be differentiable; differentiate a synchronous helper instead");
    }
    if let Some(u) = &sig.unsafety {
        cx.error_spanned_by(u, "`unsafe fn` cannot be differentiable; remove `unsafe`");
    }
    if let Some(v) = &sig.variadic {
        cx.error_spanned_by(v, "variadic functions cannot be differentiable");
    }
    if !sig.generics.params.is_empty() {
        let only_consts = sig.generics.params.iter().all(|p| matches!(p, syn::GenericParam::Const(_)));
        if !only_consts {
            cx.error_spanned_by(
                &sig.generics,
                "generic functions are not supported by #[differentiable]; write the function for `f64` \
                 (or `f32`); const generics like `<const N: usize>` are allowed",
            );
        }
    }
    let mut params = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(r) => cx.error_spanned_by(
                r,
                "methods cannot be differentiable; write a free function taking the value as a parameter",
            ),
            FnArg::Typed(pt) => {
                let (ident, mutable) = match &*pt.pat {
                    Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                        (pi.ident.clone(), pi.mutability.is_some())
                    }
                    other => {
                        cx.error_spanned_by(
                            other,
                            "parameter patterns are not supported; bind the parameter to a name",
                        );
                        continue;
                    }
                };
                let wanted = match wrt {
                    Some(names) => names.contains(&ident),
                    None => mentions_float(&pt.ty),
                };
                let active = if wanted {
                    let kind = active_kind(&pt.ty, mutable);
                    if kind.is_none() {
                        let msg = if matches!(&*pt.ty, Type::Reference(r) if r.mutability.is_some()) {
                            "`&mut` parameters cannot be differentiated: return the new value instead, or exclude the \
                             parameter with `wrt(..)`"
                                .to_string()
                        } else {
                            format!(
                                "parameter type `{}` cannot be differentiated; use `f64`, `f32`, `&[f64]`, `Vec<f64>` or \
                                 `[f64; N]`, or exclude it with `wrt(..)`",
                                crate::names::pretty(&*pt.ty)
                            )
                        };
                        cx.error_spanned_by(&pt.ty, msg);
                    }
                    kind
                } else {
                    None
                };
                params.push(Param { ident, ty: (*pt.ty).clone(), mutable, active });
            }
        }
    }
    if let Some(names) = wrt {
        for name in names {
            if !params.iter().any(|p| p.ident == *name) {
                cx.error_spanned_by(name, format!("`wrt` names `{name}`, which is not a parameter of this function"));
            }
        }
    }
    if !cx.has_errors() && params.iter().all(|p| p.active.is_none()) {
        cx.error_spanned_by(
            &sig.ident,
            "this function has no parameter to differentiate with respect to: give it an `f64`, `f32`, `&[f64]`, \
             `Vec<f64>` or `[f64; N]` parameter",
        );
    }
    let ret_ty: Type = match &sig.output {
        ReturnType::Type(_, ty) => (**ty).clone(),
        ReturnType::Default => {
            cx.error_at(sig.paren_token.span.close(), "a differentiable function must return a value, e.g. `-> f64`");
            syn::parse_quote!(f64)
        }
    };
    let ret_kind = match ret_kind(&ret_ty) {
        Some(k) => k,
        None => {
            if !matches!(sig.output, ReturnType::Default) {
                cx.error_spanned_by(
                    &ret_ty,
                    "unsupported return type for #[differentiable]; return `f64`, `f32`, `Vec<f64>`, `[f64; N]`, a \
                     nalgebra vector or matrix, or a tuple of those",
                );
            }
            RetKind::Scalar
        }
    };
    let plain_ret = plain_ret(&ret_ty) || mentions_float(&ret_ty);
    Signature { params, ret_ty, ret_kind, plain_ret }
}

impl Param {
    /// What the analyses need to know about the parameter.
    pub fn facts(&self) -> crate::analyse::ParamFacts {
        let primitive = matches!(&self.ty, Type::Path(p) if p.path.get_ident().is_some_and(|i| {
            ["f64", "f32", "usize", "isize", "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "bool"]
                .iter()
                .any(|t| i == t)
        }));
        let by_ref = matches!(&self.ty, Type::Reference(r) if r.mutability.is_none());
        let slice_ref = matches!(&self.ty, Type::Reference(r) if matches!(&*r.elem, Type::Slice(_)));
        crate::analyse::ParamFacts { active: self.active.is_some(), by_ref, slice_ref, copy: primitive }
    }
}

impl Signature {
    /// The float type of the differentiated parameters (`f32` if any is made of `f32`, else `f64`).
    pub fn scalar_type(&self) -> TokenStream {
        let f32 = self.active().any(|(p, _)| p.ty.to_token_stream().to_string().contains("f32"));
        if f32 {
            quote!(f32)
        } else {
            quote!(f64)
        }
    }

    pub fn active(&self) -> impl Iterator<Item = (&Param, &Active)> {
        self.params.iter().filter_map(|p| p.active.as_ref().map(|a| (p, a)))
    }
}
