//! Assembling the output: the user's function unchanged, the hidden uniform entry points
//! (`__adjoint_jvp_f`, `__adjoint_vjp_f`, one optional tangent or cotangent per parameter, which is what
//! calls from other differentiable functions use), and the public API with its documentation:
//! `f_jvp`, `f_vjp`, and for scalar results `f_grad` and `f_grad_into`.

use crate::adjoint::{dualize_type, Adjoint};
use crate::analyse::{analyse, Analysis, ParamFacts};
use crate::args::{self, Args};
use crate::ctxt::Ctxt;
use crate::fallback;
use crate::forward::Forward;
use crate::ir::{Display, Operand, Origin};
use crate::lower::lower;
use crate::names::{self, bar, dot};
use crate::normalize::normalize;
use crate::primal::{import_rt, rt, rt_path};
use crate::signature::{self, Param, RetKind, Signature};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, ToTokens};

pub fn differentiable(attr: TokenStream, item: TokenStream) -> TokenStream {
    let func: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let e = e.to_compile_error();
            return quote!(#e #item);
        }
    };
    // Every stage runs even after an earlier one failed, so that all errors are reported at once.
    let cx = Ctxt::default();
    let args = args::parse(attr).unwrap_or_else(|e| {
        cx.syn_error(e);
        Args::default()
    });
    let sig = signature::read(&cx, &func.sig, args.wrt.as_deref());
    let signature_ok = !cx.has_errors();
    let generated = Generated { func: &func, sig: &sig };
    let bodies = match &args {
        Args { custom: Some(c), .. } => Some(generated.custom_bodies(&c.jvp, &c.vjp)),
        _ => generated.transformed_bodies(&cx),
    };
    match (bodies, cx.check()) {
        (Some(bodies), Ok(())) => {
            let out = generated.items(bodies);
            if std::env::var_os("ADJOINT_DEBUG").is_some() {
                // The debugging view: generated code, for `rustfmt`, between markers.
                eprintln!("ADJOINT_BEGIN\n{out}\nADJOINT_END");
            }
            quote!(#func #out)
        }
        (_, Err(e)) => {
            let stubs = signature_ok.then(|| generated.items(Bodies::unreachable(&sig)));
            fallback::emit(&func, e, stubs)
        }
        (None, Ok(())) => unreachable!("no bodies without an error"),
    }
}

/// The bodies of the two hidden entry points, and the names their parameters have inside them.
struct Bodies {
    jvp: TokenStream,
    vjp: TokenStream,
    param_names: Vec<Ident>,
    /// The bodies call user-supplied rules (`custom(..)`), which take every cotangent as a buffer.
    custom: bool,
    /// The dual-number variants (primal and reverse sweep), when the function supports them.
    second_order: Option<SecondOrder>,
    /// Why there are none, for the documentation.
    no_second_order: Option<String>,
}

/// Bodies of `__adjoint_dual_f` (the primal on duals) and `__adjoint_vjp2_f` (the reverse sweep on duals,
/// i.e. forward-over-reverse).
struct SecondOrder {
    primal: TokenStream,
    vjp: TokenStream,
}

impl Bodies {
    fn unreachable(sig: &Signature) -> Self {
        Bodies {
            jvp: fallback::unreachable_body(),
            vjp: fallback::unreachable_body(),
            param_names: sig.params.iter().map(|p| p.ident.clone()).collect(),
            custom: true,
            second_order: None,
            no_second_order: None,
        }
    }
}

struct Generated<'a> {
    func: &'a syn::ItemFn,
    sig: &'a Signature,
}

impl Generated<'_> {
    fn transformed_bodies(&self, cx: &Ctxt) -> Option<Bodies> {
        let params: Vec<(Ident, bool)> = self.sig.params.iter().map(|p| (p.ident.clone(), p.mutable)).collect();
        let mut function = lower(cx, &params, &self.func.block);
        let facts: Vec<ParamFacts> = self.sig.params.iter().map(|p| p.facts()).collect();
        let param_names: Vec<Ident> =
            function.vars.iter().filter(|v| matches!(v.origin, Origin::Param(_))).map(|v| v.name.clone()).collect();

        // Forward mode runs on the IR as lowered, with its own control flow.
        let forward_an = analyse(cx, &function, &function.body, &facts);
        if cx.has_errors() {
            return None;
        }
        let jvp_body = Forward { f: &function, an: &forward_an }.body(&function.body, &function.tail);

        // Reverse mode runs on the single-exit form.
        let (body, result) = normalize(&mut function, &self.sig.ret_ty);
        if std::env::var_os("ADJOINT_DEBUG").is_some() {
            let lowered = Display { function: &function, body: &function.body, result: function.tail.as_ref() };
            let single_exit = Display { function: &function, body: &body, result: Some(&result) };
            eprintln!("ADJOINT_IR\n{lowered}\nADJOINT_SINGLE_EXIT_IR\n{single_exit}");
        }
        let an = analyse(&Ctxt::default(), &function, &body, &facts);
        let mut ref_bar = vec![false; function.vars.len()];
        for (v, info) in function.vars.iter().enumerate() {
            if let Origin::Param(i) = info.origin {
                ref_bar[v] = self.sig.params[i].active.as_ref().is_some_and(|a| !a.local_bar);
            }
        }
        let adj = Adjoint::new(&function, &an, ref_bar, false);
        let r = rt();
        let z_bar = names::output_bar();
        let value = match &result {
            Operand::Var(v) => {
                let n = function.name(*v);
                quote!(::core::clone::Clone::clone(&#n))
            }
            Operand::Const(t) => t.clone(),
        };
        let seed = match &result {
            Operand::Var(v) if an.active[*v] => {
                let b = bar(function.name(*v));
                let place = if matches!(function.vars[*v].origin, Origin::Param(_)) && !self.local_bar(*v, &function) {
                    quote!(&mut *#b)
                } else {
                    quote!(&mut #b)
                };
                quote!(#r::accumulate(#place, &#z_bar);)
            }
            _ => quote!(),
        };
        let block = adj.top_block(&body, &result, &z_bar, quote!(let __value = #value;), seed.clone());
        let storage = adj.storage();
        let vjp_body = quote!(#storage #block);

        // Second order: the same sweeps on dual numbers, where the function's constructs allow it.
        let no_second_order = self.second_order_blocker(&body, &an);
        let second_order = no_second_order.is_none().then(|| {
            let mut dual = Adjoint::new(&function, &an, adj.ref_bar.clone(), true);
            dual.scalar = self.sig.scalar_type();
            let primal = dual.primal_body(&body, &result);
            let value = quote!(#r::lift(#value));
            let block = dual.top_block(&body, &result, &z_bar, quote!(let __value = #value;), seed.clone());
            let storage = dual.storage();
            SecondOrder { primal, vjp: quote!(#storage #block) }
        });
        let no_second_order = no_second_order.map(str::to_string);
        Some(Bodies { jvp: jvp_body, vjp: vjp_body, param_names, custom: false, second_order, no_second_order })
    }

    /// Why the dual-number variants cannot be generated, if they cannot: a result type that does not name
    /// its float type, a closure naming a float type, a tuple mixing differentiated values and constants,
    /// or a cast of a differentiated value between float types. Parameters of any differentiable type are
    /// fine (floats, slices, arrays, nalgebra matrices, `#[derive(Tangent)]` structs), and so are constant
    /// expressions of differentiated values (conditions, casts to integers, roundings, `no_grad`): dual
    /// code evaluates them on value parts (see `Adjoint::opaque`).
    fn second_order_blocker(&self, body: &[crate::ir::Stmt], an: &Analysis) -> Option<&'static str> {
        use crate::ir::{walk, Expr, Stmt};
        let mut blocker = (!self.sig.plain_ret).then_some("its result type does not name its float type");
        let mut block = |why: &'static str| {
            blocker.get_or_insert(why);
        };
        walk(body, &mut |s| {
            let Stmt::Let { init: Some(e), .. } = s else { return };
            match e {
                // Closures are emitted as written: on duals, a closure naming a float type (`|t: f64|`,
                // `t as f64`) would not compile.
                Expr::Map { closure, .. } if mentions(&closure.tokens, &["as", "f64", "f32"]) => {
                    block("a `map` closure names a float type")
                }
                // A tuple mixing a differentiated value with a constant variable has no one dual type.
                Expr::Tuple(es)
                    if es.iter().any(|o| o.var().is_some_and(|v| an.active[v]))
                        && es.iter().any(|o| o.var().is_some_and(|v| !an.active[v])) =>
                {
                    block("a tuple mixes differentiated values with constants")
                }
                // Casts between f32 and f64 of differentiated values: not on duals yet.
                Expr::Cast { operand, .. } if operand.var().is_some_and(|v| an.active[v]) => {
                    block("a differentiated value is cast between float types")
                }
                _ => {}
            }
        });
        blocker
    }

    fn local_bar(&self, v: usize, f: &crate::ir::Function) -> bool {
        match f.vars[v].origin {
            Origin::Param(i) => self.sig.params[i].active.as_ref().is_some_and(|a| a.local_bar),
            _ => true,
        }
    }

    fn custom_bodies(&self, jvp: &syn::Path, vjp: &syn::Path) -> Bodies {
        let z_bar = names::output_bar();
        let jvp_args = self.sig.params.iter().map(|p| {
            let (n, d) = (&p.ident, dot(&p.ident));
            match p.active {
                Some(_) => quote!(#n, #d),
                None => quote!(#n),
            }
        });
        let primals = self.sig.params.iter().map(|p| &p.ident);
        let bars = self.sig.active().map(|(p, _)| bar(&p.ident));
        Bodies {
            jvp: quote!(#jvp(#(#jvp_args),*)),
            vjp: quote!(#vjp(#(#primals,)* #z_bar, #(#bars),*)),
            param_names: self.sig.params.iter().map(|p| p.ident.clone()).collect(),
            custom: true,
            second_order: None,
            no_second_order: Some("it has custom derivative rules, which are first order".to_string()),
        }
    }

    /// The type of a differentiated parameter (or of its cotangent) in second-order code: floats become duals
    /// (`&[f64]` → `&[Dual<f64>]`); vector, matrix and struct types become their `Dualize::Dual` type
    /// (`DVector<Dual<f64>>`, the struct with dual fields that `#[derive(Tangent)]` declares).
    fn dual_param_type(a: &signature::Active, t: &syn::Type) -> syn::Type {
        if a.plain {
            return dualize_type(t);
        }
        let rp = rt_path();
        match t {
            syn::Type::Reference(r) => {
                let inner = &r.elem;
                let m = &r.mutability;
                syn::parse_quote!(&#m <#inner as #rp::Dualize>::Dual)
            }
            _ => syn::parse_quote!(<#t as #rp::Dualize>::Dual),
        }
    }

    /// Parameters, cotangent slots, prologue and epilogue of a hidden reverse entry point; `dual` gives the
    /// types of the second-order variant (`f64` → `Dual<f64>` in differentiated parameters).
    fn reverse_entry(
        &self,
        names: &[Ident],
        dual: bool,
        is_custom: bool,
    ) -> (Vec<TokenStream>, Vec<TokenStream>, TokenStream, TokenStream) {
        let (r, rp) = (rt(), rt_path());
        let ty_of = |p: &Param, t: &syn::Type| match &p.active {
            Some(a) if dual => Self::dual_param_type(a, t),
            _ => t.clone(),
        };
        let slot_name = |n: &Ident, local: bool| if local { format_ident!("__slot_{}", n) } else { bar(n) };
        let params = self
            .sig
            .params
            .iter()
            .zip(names)
            .map(|(p, n)| {
                let (ty, m) = (ty_of(p, &p.ty), p.mutable.then(|| quote!(mut)));
                quote!(#m #n: #ty)
            })
            .collect();
        let slots = self
            .sig
            .params
            .iter()
            .zip(names)
            .map(|(p, n)| match &p.active {
                Some(a) => {
                    let s = slot_name(n, a.local_bar);
                    let t = &a.bar_target;
                    let t = if dual {
                        Self::dual_param_type(a, &syn::parse_quote!(#t)).into_token_stream()
                    } else {
                        t.clone()
                    };
                    quote!(#s: ::core::option::Option<&mut #t>)
                }
                None => quote!(_: ::core::option::Option<&mut #rp::NoTangent>),
            })
            .collect();
        let mut prologue = TokenStream::new();
        let mut epilogue = TokenStream::new();
        for (p, n) in self.sig.params.iter().zip(names) {
            let Some(a) = &p.active else { continue };
            let zero = format_ident!("__zero_{}", n);
            let b = bar(n);
            let t = &a.bar_target;
            let t = if dual { Self::dual_param_type(a, &syn::parse_quote!(#t)).into_token_stream() } else { t.clone() };
            let owned_zero = if a.by_ref { quote!(#r::zero_owned(#n)) } else { quote!(#r::zero_owned(&#n)) };
            if a.local_bar && !is_custom {
                let s = slot_name(n, true);
                let init = if a.scalar { quote!(#r::bar_zero(&#n)) } else { owned_zero };
                prologue.extend(quote!(let mut #b = #init;));
                epilogue.extend(quote!(if let ::core::option::Option::Some(s) = #s { #r::accumulate(s, &#b); }));
            } else {
                let s = slot_name(n, a.local_bar);
                let init = if a.scalar { quote!(#r::zero_like(&#n)) } else { owned_zero };
                prologue.extend(quote! {
                    let mut #zero;
                    let #b: &mut #t = match #s {
                        ::core::option::Option::Some(b) => b,
                        ::core::option::Option::None => { #zero = #init; &mut #zero }
                    };
                });
                if a.slice {
                    // Equal lengths, checked before anything is written (this also lets the compiler
                    // drop the bounds checks of the reverse sweep).
                    let name = n.to_string();
                    prologue.extend(quote!(#r::check_len(#name, #b.len(), #n.len());));
                }
            }
        }
        (params, slots, prologue, epilogue)
    }

    /// The dual-number entry points (`__adjoint_dual_f`, `__adjoint_vjp2_f`) that callers' second-order
    /// code uses — with bodies that panic when the function has no second-order code — and, when it has,
    /// the public `f_hvp`.
    fn second_order_items(&self, bodies: &Bodies, allow: &TokenStream) -> TokenStream {
        let func = self.func;
        let (vis, f, generics) = (&func.vis, &func.sig.ident, &func.sig.generics);
        let where_clause = &generics.where_clause;
        let (r, import) = (rt(), import_rt());
        let names = &bodies.param_names;
        let dual_ret = dualize_type(&self.sig.ret_ty);
        let z_bar = names::output_bar();
        let (params, slots, prologue, epilogue) = self.reverse_entry(names, true, bodies.custom);
        let (dual_primal, vjp2) = (names::dual_internal(f), names::vjp2_internal(f));
        let name = f.to_string();
        let (primal_body, vjp_body) = match &bodies.second_order {
            Some(so) => {
                let (p, v) = (&so.primal, &so.vjp);
                (quote!(#p), quote!(#prologue #v #epilogue __value))
            }
            None => (quote!(#r::no_second_order(#name)), quote!(#r::no_second_order(#name))),
        };
        let hvp = bodies.second_order.as_ref().filter(|_| matches!(self.sig.ret_kind, RetKind::Scalar)).map(|_| {
            let hvp = format_ident!("{}_hvp", f);
            let actives: Vec<_> = self.sig.active().collect();
            let primal_params = self.sig.params.iter().map(|p| {
                let (n, ty) = (&p.ident, &p.ty);
                let d = dot(n);
                match p.active {
                    Some(_) => quote!(#n: #ty, #d: #ty),
                    None => quote!(#n: #ty),
                }
            });
            // Borrowed slices go through a per-thread pool of dual vectors (no fresh pages per call).
            let pooled = |a: &signature::Active| a.slice && a.by_ref;
            let lifts = actives.iter().map(|(p, a)| {
                let (n, d, dn) = (&p.ident, dot(&p.ident), format_ident!("__dual_{}", p.ident));
                if pooled(a) {
                    quote!(let #dn = #r::dualize_pooled(&#n[..], &#d[..]);)
                } else if a.by_ref {
                    quote!(let #dn = #r::dualize(#n, #d);)
                } else {
                    quote!(let #dn = #r::dualize(&#n, &#d);)
                }
            });
            let bars = actives.iter().map(|(p, a)| {
                let (dn, gb) = (format_ident!("__dual_{}", p.ident), format_ident!("__dual_bar_{}", p.ident));
                if pooled(a) {
                    quote!(let mut #gb = #r::dual_zeros_pooled(#dn.len());)
                } else {
                    quote!(let mut #gb = #r::zero_like(&#dn);)
                }
            });
            let recycles: Vec<TokenStream> = actives
                .iter()
                .filter(|(_, a)| pooled(a))
                .map(|(p, _)| {
                    let (dn, gb) = (format_ident!("__dual_{}", p.ident), format_ident!("__dual_bar_{}", p.ident));
                    quote!(#r::recycle(#dn); #r::recycle(#gb);)
                })
                .collect();
            let call_args = self.sig.params.iter().map(|p| {
                let n = &p.ident;
                match &p.active {
                    Some(a) => {
                        let dn = format_ident!("__dual_{}", n);
                        if a.by_ref {
                            quote!(&#dn)
                        } else {
                            quote!(#dn)
                        }
                    }
                    None => quote!(#n),
                }
            });
            let call_slots = self.sig.params.iter().map(|p| match p.active {
                Some(_) => {
                    let gb = format_ident!("__dual_bar_{}", p.ident);
                    quote!(::core::option::Option::Some(&mut #gb))
                }
                None => quote!(::core::option::Option::None),
            });
            let splits: Vec<(Ident, Ident)> = actives
                .iter()
                .map(|(p, _)| (format_ident!("__grad_{}", p.ident), format_ident!("__hv_{}", p.ident)))
                .collect();
            let split_stmts = actives.iter().zip(&splits).map(|((p, _), (g, h))| {
                let gb = format_ident!("__dual_bar_{}", p.ident);
                quote!(let (#g, #h) = #r::split_dual(&#gb);)
            });
            let grad_tys: Vec<&TokenStream> = actives.iter().map(|(_, a)| &a.grad_ty).collect();
            let (g_names, h_names): (Vec<&Ident>, Vec<&Ident>) = splits.iter().map(|(g, h)| (g, h)).unzip();
            let (grad_ty, grads, hvs) = if actives.len() == 1 {
                let t = grad_tys[0];
                let (g, h) = (g_names[0], h_names[0]);
                (quote!(#t), quote!(#g), quote!(#h))
            } else {
                (quote!((#(#grad_tys),*)), quote!((#(#g_names),*)), quote!((#(#h_names),*)))
            };
            let ret = &self.sig.ret_ty;
            let doc = format!(
                " Second order: the value of [`{f}`], its gradient, and the Hessian-vector product `H·v` along the \
                 direction `x_dot` of each differentiated parameter, exactly (forward-over-reverse: the reverse \
                 sweep run on dual numbers).\n\n Generated by `#[differentiable]`; costs about two gradients."
            );
            let hvp_into = format_ident!("{}_hvp_into", f);
            let buffers = actives.iter().flat_map(|(p, a)| {
                let (g, h, t) = (bar(&p.ident), format_ident!("{}_hv", p.ident), &a.bar_target);
                [quote!(#g: &mut #t), quote!(#h: &mut #t)]
            });
            let writes = actives.iter().map(|(p, _)| {
                let (gb, g, h) =
                    (format_ident!("__dual_bar_{}", p.ident), bar(&p.ident), format_ident!("{}_hv", p.ident));
                quote!(#r::split_dual_into(&#gb, #g, #h);)
            });
            let into_doc = format!(
                " Second order into caller buffers: writes the gradient of [`{f}`] into `x_bar` and the \
                 Hessian-vector product along `x_dot` into `x_hv` (both overwritten) and returns the value.\n\n \
                 Generated by `#[differentiable]`."
            );
            let primal_params: Vec<TokenStream> = primal_params.collect();
            let lifts: Vec<TokenStream> = lifts.collect();
            let bars: Vec<TokenStream> = bars.collect();
            let call_args: Vec<TokenStream> = call_args.collect();
            let call_slots: Vec<TokenStream> = call_slots.collect();
            quote! {
                #[doc = #doc]
                #allow
                #vis fn #hvp #generics (#(#primal_params),*) -> (#ret, #grad_ty, #grad_ty) #where_clause {
                    #import
                    #(#lifts)*
                    #(#bars)*
                    let __value = #vjp2(#(#call_args,)* #r::Dual::constant(1.0), #(#call_slots),*);
                    #(#split_stmts)*
                    #(#recycles)*
                    (__value.re, #grads, #hvs)
                }

                #[doc = #into_doc]
                #[inline]
                #allow
                #vis fn #hvp_into #generics (#(#primal_params,)* #(#buffers),*) -> #ret #where_clause {
                    #import
                    #(#lifts)*
                    #(#bars)*
                    let __value = #vjp2(#(#call_args,)* #r::Dual::constant(1.0), #(#call_slots),*);
                    #(#writes)*
                    #(#recycles)*
                    __value.re
                }
            }
        });
        quote! {
            #[doc(hidden)]
            #allow
            #vis fn #dual_primal #generics (#(#params),*) -> #dual_ret #where_clause {
                #import
                #primal_body
            }

            #[doc(hidden)]
            #[inline]
            #allow
            #vis fn #vjp2 #generics (#(#params,)* #z_bar: #dual_ret, #(#slots),*) -> #dual_ret #where_clause {
                #import
                #vjp_body
            }

            #hvp
        }
    }

    /// The hidden entry points and the public API.
    fn items(&self, bodies: Bodies) -> TokenStream {
        let func = self.func;
        let vis = &func.vis;
        let f = &func.sig.ident;
        let generics = &func.sig.generics;
        let where_clause = &generics.where_clause;
        let ret = &self.sig.ret_ty;
        let r = rt();
        let rp = rt_path();
        let import = import_rt();
        let names = &bodies.param_names;
        // The output cotangent of the public VJP is `z_bar`, unless a parameter's names claim it.
        let taken = |c: &str| self.sig.params.iter().any(|p| p.ident == c || bar(&p.ident) == c);
        let out_bar = ["z_bar", "out_bar", "output_bar"]
            .into_iter()
            .find(|c| !taken(c))
            .map_or_else(|| format_ident!("__output_bar"), |c| format_ident!("{}", c));
        // Keeps the primal `f` from looking unused when only its derivatives are called.
        let use_primal = generics.params.is_empty().then(|| quote!(let _ = #f;));
        let allow = quote!(#[allow(unused, non_snake_case, suspicious_double_ref_op, clippy::all, clippy::pedantic, clippy::nursery)]);

        // ---- hidden forward entry point --------------------------------------------------------
        let jvp_params = self.sig.params.iter().zip(names).map(|(p, n)| {
            let (ty, m) = (&p.ty, p.mutable.then(|| quote!(mut)));
            let d = dot(n);
            match &p.active {
                Some(_) => quote!(#m #n: #ty, #d: ::core::option::Option<#ty>),
                None => quote!(#m #n: #ty, _: ::core::option::Option<#rp::NoTangent>),
            }
        });
        let jvp_prologue = self.sig.params.iter().zip(names).filter_map(|(p, n)| {
            let a = p.active.as_ref()?;
            let (ty, d) = (&p.ty, dot(n));
            let m = p.mutable.then(|| quote!(mut));
            let zero = format_ident!("__zero_{}", n);
            Some(if a.by_ref {
                quote! {
                    let #zero;
                    let #m #d: #ty = match #d {
                        ::core::option::Option::Some(d) => d,
                        ::core::option::Option::None => { #zero = #r::zero_owned(#n); &#zero }
                    };
                }
            } else {
                quote! {
                    let #m #d: #ty = match #d {
                        ::core::option::Option::Some(d) => d,
                        ::core::option::Option::None => #r::zero_like(&#n),
                    };
                }
            })
        });
        let jvp_internal = names::jvp_internal(f);
        let jvp_body = &bodies.jvp;

        // ---- hidden reverse entry points (on floats, and on duals for second order) -------------
        let z_bar = names::output_bar();
        let is_custom = bodies.custom;
        let (vjp_params, vjp_slots, vjp_prologue, vjp_epilogue) = self.reverse_entry(names, false, is_custom);
        let vjp_internal = names::vjp_internal(f);
        let b = &bodies.vjp;
        let vjp_body = if is_custom { quote!(#b) } else { quote!(#b #vjp_epilogue __value) };
        let second_order = self.second_order_items(&bodies, &allow);

        // ---- public API ------------------------------------------------------------------------
        let idents: Vec<&Ident> = self.sig.params.iter().map(|p| &p.ident).collect();
        let primal_params = self.sig.params.iter().map(|p| {
            let (n, ty) = (&p.ident, &p.ty);
            quote!(#n: #ty)
        });
        let primal_params: Vec<TokenStream> = primal_params.collect();
        let active_names: Vec<String> = self.sig.active().map(|(p, _)| format!("`{}`", p.ident)).collect();
        let wrt = active_names.join(", ");

        let jvp_pub = names::jvp_fn(f);
        let pub_jvp_params = self.sig.params.iter().map(|p| {
            let (n, ty) = (&p.ident, &p.ty);
            let d = dot(n);
            match p.active {
                Some(_) => quote!(#n: #ty, #d: #ty),
                None => quote!(#n: #ty),
            }
        });
        let jvp_call_args = self.sig.params.iter().map(|p| {
            let (n, d) = (&p.ident, dot(&p.ident));
            match p.active {
                Some(_) => quote!(#n, ::core::option::Option::Some(#d)),
                None => quote!(#n, ::core::option::Option::None),
            }
        });
        let jvp_doc = format!(
            " Forward mode: the value of [`{f}`] and its directional derivative along the tangents \
             (`x_dot` for each differentiated parameter {wrt}), i.e. `(f(x), ∂f/∂x · x_dot)`.\n\n \
             Generated by `#[differentiable]`; costs about one evaluation of `{f}`."
        );

        let vjp_pub = names::vjp_fn(f);
        let pub_vjp_bars: Vec<TokenStream> = self
            .sig
            .active()
            .map(|(p, a)| {
                let (b, t) = (bar(&p.ident), &a.bar_target);
                quote!(#b: &mut #t)
            })
            .collect();
        let vjp_call_slots: Vec<TokenStream> = self
            .sig
            .params
            .iter()
            .map(|p| match p.active {
                Some(_) => {
                    let b = bar(&p.ident);
                    quote!(::core::option::Option::Some(#b))
                }
                None => quote!(::core::option::Option::None),
            })
            .collect();
        let vjp_doc = format!(
            " Reverse mode, low level: evaluates [`{f}`] and adds `{out_bar} · ∂f/∂x` to the cotangent buffer \
             `x_bar` of each differentiated parameter ({wrt}). Buffers are accumulated into, not \
             overwritten. Returns the value of `{f}`.\n\n Generated by `#[differentiable]`."
        );

        let scalar = matches!(self.sig.ret_kind, RetKind::Scalar);
        let grad_api = scalar.then(|| {
            let grad = names::grad_fn(f);
            let grad_into = names::grad_into_fn(f);
            let actives: Vec<_> = self.sig.active().collect();
            let g_names: Vec<Ident> = actives.iter().map(|(p, _)| format_ident!("__grad_{}", p.ident)).collect();
            let g_inits = actives.iter().zip(&g_names).map(|((p, a), g)| {
                let n = &p.ident;
                let init = if a.scalar {
                    quote!(#r::zero_like(&#n))
                } else if a.by_ref {
                    quote!(#r::zero_owned(#n))
                } else {
                    quote!(#r::zero_owned(&#n))
                };
                quote!(let mut #g = #init;)
            });
            let mut k = 0;
            let g_slots = self.sig.params.iter().map(|p| match p.active {
                Some(_) => {
                    let g = &g_names[k];
                    k += 1;
                    quote!(::core::option::Option::Some(&mut #g))
                }
                None => quote!(::core::option::Option::None),
            });
            let grad_tys: Vec<&TokenStream> = actives.iter().map(|(_, a)| &a.grad_ty).collect();
            let (grad_ty, grad_val) = if actives.len() == 1 {
                let (t, g) = (grad_tys[0], &g_names[0]);
                (quote!(#t), quote!(#g))
            } else {
                (quote!((#(#grad_tys),*)), quote!((#(#g_names),*)))
            };
            let zeroes = actives.iter().map(|(p, _)| {
                let b = bar(&p.ident);
                quote!(#r::Accumulate::set_zero(#b);)
            });
            let no_hvp = match &bodies.no_second_order {
                Some(why) => format!("\n\n No `{f}_hvp` is generated: {why}."),
                None => String::new(),
            };
            let grad_doc = format!(
                " Reverse mode: the value of [`{f}`] and its gradient with respect to {wrt}{}.\n\n Generated \
                 by `#[differentiable]`; costs a small multiple of one evaluation of `{f}`.{no_hvp}",
                if actives.len() > 1 { " (a tuple, in parameter order)" } else { "" }
            );
            let grad_into_doc = format!(
                " Reverse mode into caller buffers: writes the gradient of [`{f}`] with respect to {wrt} into \
                 `x_bar` (overwriting it) and returns the value. Allocates nothing for loop-free functions.\n\n \
                 Generated by `#[differentiable]`."
            );
            let primal_params = &primal_params;
            let pub_vjp_bars = &pub_vjp_bars;
            let vjp_call_slots = &vjp_call_slots;
            quote! {
                #[doc = #grad_doc]
                #[inline]
                #allow
                #vis fn #grad #generics (#(#primal_params),*) -> (#ret, #grad_ty) #where_clause {
                    #import
                    #(#g_inits)*
                    let __value = #vjp_internal(#(#idents,)* 1.0, #(#g_slots),*);
                    (__value, #grad_val)
                }

                #[doc = #grad_into_doc]
                #[inline]
                #allow
                #vis fn #grad_into #generics (#(#primal_params,)* #(#pub_vjp_bars),*) -> #ret #where_clause {
                    #import
                    #(#zeroes)*
                    #vjp_internal(#(#idents,)* 1.0, #(#vjp_call_slots),*)
                }
            }
        });

        quote! {
            #[doc(hidden)]
            #[inline]
            #allow
            #vis fn #jvp_internal #generics (#(#jvp_params),*) -> (#ret, #ret) #where_clause {
                #import
                #use_primal
                #(#jvp_prologue)*
                #jvp_body
            }

            #[doc(hidden)]
            #[inline]
            #allow
            #vis fn #vjp_internal #generics (#(#vjp_params,)* #z_bar: #ret, #(#vjp_slots),*) -> #ret #where_clause {
                #import
                #use_primal
                #vjp_prologue
                #vjp_body
            }

            #[doc = #jvp_doc]
            #[inline]
            #allow
            #vis fn #jvp_pub #generics (#(#pub_jvp_params),*) -> (#ret, #ret) #where_clause {
                #jvp_internal(#(#jvp_call_args),*)
            }

            #[doc = #vjp_doc]
            #[inline]
            #allow
            #vis fn #vjp_pub #generics (#(#primal_params,)* #out_bar: #ret, #(#pub_vjp_bars),*) -> #ret #where_clause {
                #vjp_internal(#(#idents,)* #out_bar, #(#vjp_call_slots),*)
            }

            #grad_api

            #second_order
        }
    }
}

/// Whether tokens contain one of the identifiers (keywords included), at any depth.
fn mentions(tokens: &proc_macro2::TokenStream, idents: &[&str]) -> bool {
    tokens.clone().into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => idents.iter().any(|f| i == f),
        proc_macro2::TokenTree::Group(g) => mentions(&g.stream(), idents),
        _ => false,
    })
}
