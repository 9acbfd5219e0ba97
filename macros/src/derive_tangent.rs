//! `#[derive(Tangent)]`: makes a struct of parameters (scalars, vectors, matrices, nested derived
//! structs) a tangent space, so that it can be a differentiated argument and its own gradient type.
//!
//! Every operation is field by field: zero, accumulation, subtraction, inner product, `axpy`, scaling,
//! and flattening to and from a flat `f64` vector in declaration order (what optimisers and samplers
//! work on).
//!
//! Before: `#[derive(Tangent, Clone)] struct Mlp { w: DMatrix<f64>, b: DVector<f64> }`
//! After: `impl Accumulate for Mlp { fn accumulate(&mut self, o: &Self) { self.w.accumulate(&o.w); self.b.accumulate(&o.b); } .. }`,
//! the same for `Cotangent` and `Tangent`.
//!
//! For second-order code it also declares the struct's dual counterpart, hidden: the same fields with
//! dual numbers (`struct __AdjointDualMlp { w: DMatrix<Dual<f64>>, b: DVector<Dual<f64>> }`), with
//! `Dualize` (`x + ε·v`, field by field) and `SplitDual` (back to value and ε structs), so that `f_hvp`
//! runs the reverse sweep on it and field accesses (`p.w`) read dual fields.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields, Index, Member};

pub fn derive(input: TokenStream) -> TokenStream {
    match expand(input) {
        Ok(t) => t,
        Err(e) => e.to_compile_error(),
    }
}

fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(input)?;
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "#[derive(Tangent)] does not support generic structs; use concrete field types",
        ));
    }
    let fields = match &input.data {
        Data::Struct(s) => &s.fields,
        _ => {
            return Err(syn::Error::new_spanned(
                &input.ident,
                "#[derive(Tangent)] is for structs whose fields are parameters",
            ))
        }
    };
    let members: Vec<Member> = match fields {
        Fields::Named(named) => named.named.iter().map(|f| Member::Named(f.ident.clone().expect("named"))).collect(),
        Fields::Unnamed(unnamed) => (0..unnamed.unnamed.len()).map(|i| Member::Unnamed(Index::from(i))).collect(),
        Fields::Unit => vec![],
    };
    let name = &input.ident;
    let t = quote!(::adjoint::tangent);
    let dual_items = dual_struct(&input, fields, &members);
    let construct = |per_field: &dyn Fn(&Member) -> TokenStream| {
        let values = members.iter().map(per_field);
        match fields {
            Fields::Named(_) => quote!(#name { #(#members: #values),* }),
            Fields::Unnamed(_) => quote!(#name ( #(#values),* )),
            Fields::Unit => quote!(#name),
        }
    };
    let zero = construct(&|m| quote!(#t::Cotangent::zero_like(&self.#m)));
    let unflatten = construct(&|m| {
        quote!({
            let (value, n) = #t::Tangent::unflatten_from(&self.#m, &flat[used..]);
            used += n;
            value
        })
    });
    let cotangent = cotangent_impls(&quote!(#name), &members, &zero);
    Ok(quote! {
        #cotangent

        impl #t::Tangent for #name {
            fn dim(&self) -> usize {
                0 #(+ #t::Tangent::dim(&self.#members))*
            }
            fn dot(&self, other: &Self) -> f64 {
                0.0 #(+ #t::Tangent::dot(&self.#members, &other.#members))*
            }
            fn axpy(&mut self, alpha: f64, other: &Self) {
                #(#t::Tangent::axpy(&mut self.#members, alpha, &other.#members);)*
            }
            fn scale(&mut self, alpha: f64) {
                #(#t::Tangent::scale(&mut self.#members, alpha);)*
            }
            fn flatten_into(&self, out: &mut ::std::vec::Vec<f64>) {
                #(#t::Tangent::flatten_into(&self.#members, out);)*
            }
            fn unflatten_from(&self, flat: &[f64]) -> (Self, usize) {
                let mut used = 0usize;
                let value = #unflatten;
                (value, used)
            }
        }

        #dual_items
    })
}

/// The hidden dual counterpart of the struct and its `Dualize`, `SplitDual`, `Accumulate` and
/// `Cotangent` implementations (see the module documentation).
fn dual_struct(input: &DeriveInput, fields: &Fields, members: &[Member]) -> TokenStream {
    let (name, vis) = (&input.ident, &input.vis);
    let dual = quote::format_ident!("__AdjointDual{}", name);
    let (t, d) = (quote!(::adjoint::tangent), quote!(::adjoint::dual));
    let field_decls = fields.iter().map(|f| {
        let (fv, ty) = (&f.vis, &f.ty);
        match &f.ident {
            Some(id) => quote!(#fv #id: <#ty as #d::Dualize>::Dual),
            None => quote!(#fv <#ty as #d::Dualize>::Dual),
        }
    });
    let decl = match fields {
        Fields::Named(_) => quote!(#vis struct #dual { #(#field_decls),* }),
        Fields::Unnamed(_) => quote!(#vis struct #dual ( #(#field_decls),* );),
        Fields::Unit => quote!(#vis struct #dual;),
    };
    let construct = |ty: &syn::Ident, per_field: &dyn Fn(&Member) -> TokenStream| {
        let values = members.iter().map(per_field);
        match fields {
            Fields::Named(_) => quote!(#ty { #(#members: #values),* }),
            Fields::Unnamed(_) => quote!(#ty ( #(#values),* )),
            Fields::Unit => quote!(#ty),
        }
    };
    let dualize = construct(&dual, &|m| quote!(#d::Dualize::dualize(&self.#m, &v.#m)));
    let zero = construct(&dual, &|m| quote!(#t::Cotangent::zero_like(&self.#m)));
    let re = construct(name, &|m| quote!(#d::SplitDual::split_dual(&self.#m).0));
    let eps = construct(name, &|m| quote!(#d::SplitDual::split_dual(&self.#m).1));
    let cotangent = cotangent_impls(&quote!(#dual), members, &zero);
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #decl

        impl #d::Dualize for #name {
            type Dual = #dual;
            fn dualize(&self, v: &Self) -> #dual {
                #dualize
            }
        }

        impl #d::SplitDual for #dual {
            type Plain = #name;
            type Buffer = #name;
            fn split_dual(&self) -> (#name, #name) {
                (#re, #eps)
            }
            fn split_into(&self, re: &mut #name, eps: &mut #name) {
                #(#d::SplitDual::split_into(&self.#members, &mut re.#members, &mut eps.#members);)*
            }
        }

        impl #d::ValuePart for #dual {
            type Value = #name;
            fn value_part(&self) -> #name {
                #re
            }
        }

        #cotangent
    }
}

/// `Accumulate` and `Cotangent` for a struct (or its dual counterpart), field by field; `zero` constructs
/// the zero-like value.
fn cotangent_impls(ty: &TokenStream, members: &[Member], zero: &TokenStream) -> TokenStream {
    let t = quote!(::adjoint::tangent);
    quote! {
        impl #t::Accumulate for #ty {
            fn accumulate(&mut self, other: &Self) {
                #(#t::Accumulate::accumulate(&mut self.#members, &other.#members);)*
            }
            fn subtract(&mut self, other: &Self) {
                #(#t::Accumulate::subtract(&mut self.#members, &other.#members);)*
            }
            fn set_zero(&mut self) {
                #(#t::Accumulate::set_zero(&mut self.#members);)*
            }
        }

        impl #t::Cotangent for #ty {
            fn zero_like(&self) -> Self {
                #zero
            }
        }
    }
}
