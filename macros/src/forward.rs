//! The tangent transform: forward mode, emitting the JVP.
//!
//! Every active value `v` gets a tangent `v_dot` computed right after it; control flow is kept as it is
//! (the derivative follows the branch taken, loops run once). Inactive operands contribute nothing: no
//! code is emitted for their (symbolically zero) tangents.
//!
//! Before: `let b = x[i + 1] - x[i] * x[i];` (as IR: `__t2 = x[__t1]; __t3 = x[i]; __t4 = __t3 * __t3; b = __t2 - __t4`)
//! After:
//! ```text
//! let __t4 = __t3 * __t3;
//! let __t4_dot = __t3_dot * __t3 + __t3 * __t3_dot;
//! let b = __t2 - __t4;
//! let b_dot = __t2_dot - __t4_dot;
//! ```

use crate::analyse::{analyse, expr_active, Analysis, ParamFacts};
use crate::ctxt::Ctxt;
use crate::ir::*;
use crate::names::{dot, jvp_internal};
use crate::primal::{self, rt, MATRIX_METHODS};
use proc_macro2::TokenStream;
use quote::quote;

pub struct Forward<'a> {
    pub f: &'a Function,
    pub an: &'a Analysis,
}

impl Forward<'_> {
    fn dot(&self, o: &Operand) -> Option<TokenStream> {
        match o {
            Operand::Var(v) if self.an.active[*v] => {
                let d = dot(self.f.name(*v));
                Some(quote!(#d))
            }
            _ => None,
        }
    }

    fn op(&self, o: &Operand) -> TokenStream {
        primal::operand(self.f, o)
    }

    /// The tangent of an operand, or a zero shaped like it.
    fn dot_or_zero(&self, o: &Operand) -> TokenStream {
        self.dot(o).unwrap_or_else(|| {
            let (r, v) = (rt(), self.op(o));
            quote!(#r::zero_like(&#v))
        })
    }

    fn pr(&self, o: &Operand) -> TokenStream {
        primal::by_ref(self.f, &self.an.by_ref, o)
    }

    /// `Some(&ȧ)` for an active operand, `None` for a constant one.
    fn opt_dot(&self, o: &Operand) -> TokenStream {
        match self.dot(o) {
            Some(_) => {
                let d = self.dot_ref(o);
                quote!(::core::option::Option::Some(#d))
            }
            None => quote!(::core::option::Option::None),
        }
    }

    /// Tangents of the vector and matrix methods (formulas in `adjoint::linalg`).
    fn matrix_tangent(&self, name: &str, recv: &Operand, args: &[Operand], z: &proc_macro2::Ident) -> TokenStream {
        let r = rt();
        let a = self.pr(recv);
        let arg = args.first();
        match name {
            "transpose" | "sum" => {
                let d = self.dot_ref(recv);
                let m = proc_macro2::Ident::new(name, proc_macro2::Span::call_site());
                quote!((#d).#m())
            }
            "row" | "column" => {
                let (d, i) = (self.dot_ref(recv), self.op(&args[0]));
                let m = proc_macro2::Ident::new(name, proc_macro2::Span::call_site());
                quote!((#d).#m(#i).clone_owned())
            }
            "norm_squared" => {
                let d = self.dot_ref(recv);
                quote!({ let __d = (#a).dot(#d); __d + __d })
            }
            "norm" => {
                let d = self.dot_ref(recv);
                quote!(#r::norm_jvp(#a, &#z, #d))
            }
            "dot" => {
                let b = self.pr(&args[0]);
                let terms = [
                    self.dot(recv).map(|_| {
                        let d = self.dot_ref(recv);
                        quote!((#d).dot(#b))
                    }),
                    self.dot(&args[0]).map(|_| {
                        let d = self.dot_ref(&args[0]);
                        quote!((#a).dot(#d))
                    }),
                ];
                let terms = terms.into_iter().flatten();
                quote!(#(#terms)+*)
            }
            "component_mul" => {
                let (b, ad, bd) = (self.pr(&args[0]), self.opt_dot(recv), self.opt_dot(&args[0]));
                quote!(#r::component_mul_jvp(#a, #ad, #b, #bd))
            }
            "component_div" => {
                let (b, ad, bd) = (self.pr(&args[0]), self.opt_dot(recv), self.opt_dot(&args[0]));
                quote!(#r::component_div_jvp(#b, &#z, #ad, #bd))
            }
            "add_scalar" => {
                let o = arg.expect("a scalar");
                let s = self.dot_or_zero(o);
                // The tangent of a borrowed scalar field is borrowed too.
                let s =
                    if self.dot(o).is_some() && o.var().is_some_and(|v| self.an.by_ref[v]) { quote!((*#s)) } else { s };
                match self.dot(recv) {
                    Some(_) => {
                        let d = self.dot_ref(recv);
                        quote!((#d).add_scalar(#s))
                    }
                    None => quote!(#r::zero_like(#a).add_scalar(#s)),
                }
            }
            _ => unreachable!("matrix method without a tangent rule"),
        }
    }

    fn copy(&self, o: &Operand) -> bool {
        primal::is_copy(&self.an.copy, o)
    }

    /// The tangent of an active operand as a reference (tangents mirror their primal's reference-ness).
    fn dot_ref(&self, o: &Operand) -> TokenStream {
        let d = self.dot(o).expect("active operand");
        match o {
            Operand::Var(v) if self.an.by_ref[*v] => d,
            _ => quote!(&#d),
        }
    }

    /// Tangents of `x op y` on vectors and matrices, through the runtime's rules:
    /// ż = ẋ ± ẏ, ż = ẋ·y + x·ẏ, ż = (ẋ − z·ẏ)/y.
    fn tangent_generic(&self, op: BinOp, x: &Operand, y: &Operand, z: &proc_macro2::Ident) -> TokenStream {
        let r = rt();
        let pr = |o| primal::by_ref(self.f, &self.an.by_ref, o);
        let (xa, ya) = (self.dot(x).is_some(), self.dot(y).is_some());
        let clone = |d: TokenStream| quote!(::core::clone::Clone::clone(#d));
        match (op, xa, ya) {
            (BinOp::Add | BinOp::Sub, true, true) => {
                let (a, c, s) = (self.dot_ref(x), self.dot_ref(y), primal::bin_symbol(op));
                quote!(#a #s #c)
            }
            (BinOp::Add | BinOp::Sub, true, false) => clone(self.dot_ref(x)),
            (BinOp::Add, false, true) => clone(self.dot_ref(y)),
            (BinOp::Sub, false, true) => {
                let c = self.dot_ref(y);
                quote!(-#c)
            }
            (BinOp::Mul, _, _) => {
                let a = xa.then(|| {
                    let (d, yv) = (self.dot_ref(x), pr(y));
                    quote!(#r::mul(#d, #yv))
                });
                let c = ya.then(|| {
                    let (xv, d) = (pr(x), self.dot_ref(y));
                    quote!(#r::mul(#xv, #d))
                });
                let terms = a.into_iter().chain(c);
                quote!(#(#terms)+*)
            }
            (BinOp::Div, _, _) => {
                let yv = pr(y);
                let zy = ya.then(|| {
                    let d = self.dot_ref(y);
                    quote!(#r::mul(&#z, #d))
                });
                match (xa, zy) {
                    (true, Some(zy)) => {
                        let a = self.dot_ref(x);
                        quote!(#r::div(&(#a - &#zy), #yv))
                    }
                    (true, None) => {
                        let a = self.dot_ref(x);
                        quote!(#r::div(#a, #yv))
                    }
                    (false, Some(zy)) => quote!(-#r::div(&#zy, #yv)),
                    (false, None) => unreachable!("inactive quotient"),
                }
            }
            _ => unreachable!("inactive or unsupported binary operation"),
        }
    }

    pub fn body(&self, stmts: &[Stmt], tail: &Option<Operand>) -> TokenStream {
        let body = self.block(stmts);
        let tail = tail.as_ref().map(|t| {
            let (v, d) = (self.op(t), self.dot_or_zero(t));
            quote!((#v, #d))
        });
        quote!(#body #tail)
    }

    fn block(&self, stmts: &[Stmt]) -> TokenStream {
        stmts.iter().map(|s| self.stmt(s)).collect()
    }

    /// `Σ ∂z/∂xᵢ · ẋᵢ` over the active operands, each partial given as tokens.
    fn chain(&self, terms: Vec<(&Operand, TokenStream)>) -> TokenStream {
        let parts: Vec<TokenStream> =
            terms.into_iter().filter_map(|(o, partial)| self.dot(o).map(|d| quote!(#partial * #d))).collect();
        quote!(#(#parts)+*)
    }

    fn tangent(&self, e: &Expr, v: &proc_macro2::Ident) -> TokenStream {
        let r = rt();
        // Scalar formulas read values: a borrowed scalar field is dereferenced.
        let op = |o| primal::value(self.f, &self.an.by_ref, o);
        match e {
            Expr::Use(a) => self.dot_or_zero(a),
            Expr::Copied { operand, method } => {
                let d = self.dot_or_zero(operand);
                quote!(#d.#method())
            }
            Expr::Neg(a) if !self.copy(a) => {
                let d = self.dot_ref(a);
                quote!(-#d)
            }
            Expr::Neg(a) => {
                let d = self.dot_or_zero(a);
                quote!(-#d)
            }
            Expr::Bin(b, x, y) if !(self.copy(x) && self.copy(y)) => self.tangent_generic(*b, x, y, v),
            Expr::Bin(b, x, y) => {
                let (xd, yd) = (self.dot(x), self.dot(y));
                let (xv, yv) = (op(x), op(y));
                match (b, xd, yd) {
                    (BinOp::Add, Some(a), Some(c)) => quote!(#a + #c),
                    (BinOp::Sub, Some(a), Some(c)) => quote!(#a - #c),
                    (BinOp::Add | BinOp::Sub, Some(a), None) => a,
                    (BinOp::Add, None, Some(c)) => c,
                    (BinOp::Sub, None, Some(c)) => quote!(-#c),
                    (BinOp::Mul, Some(a), Some(c)) => quote!(#a * #yv + #xv * #c),
                    (BinOp::Mul, Some(a), None) => quote!(#a * #yv),
                    (BinOp::Mul, None, Some(c)) => quote!(#xv * #c),
                    (BinOp::Div, Some(a), Some(c)) => quote!((#a - #v * #c) / #yv),
                    (BinOp::Div, Some(a), None) => quote!(#a / #yv),
                    (BinOp::Div, None, Some(c)) => quote!(-(#v * #c) / #yv),
                    _ => unreachable!("inactive or unsupported binary operation"),
                }
            }
            Expr::Method { name, recv, args } if MATRIX_METHODS.contains(&name.to_string().as_str()) => {
                self.matrix_tangent(&name.to_string(), recv, args, v)
            }
            Expr::Method { name, recv, args } => {
                let x = op(recv);
                match name.to_string().as_str() {
                    "powi" => {
                        let n = op(&args[0]);
                        self.chain(vec![(recv, quote!(#r::d_powi(#x, #n)))])
                    }
                    "powf" => {
                        let y = op(&args[0]);
                        self.chain(vec![(recv, quote!(#r::d_powf_x(#x, #y))), (&args[0], quote!(#r::d_powf_y(#x, #v)))])
                    }
                    "atan2" => {
                        let a = op(&args[0]);
                        self.chain(vec![
                            (recv, quote!(#r::d_atan2_y(#x, #a))),
                            (&args[0], quote!(#r::d_atan2_x(#x, #a))),
                        ])
                    }
                    "hypot" => {
                        let y = op(&args[0]);
                        self.chain(vec![
                            (recv, quote!(#r::d_hypot_x(#x, #v))),
                            (&args[0], quote!(#r::d_hypot_x(#y, #v))),
                        ])
                    }
                    m @ ("max" | "min") => {
                        let y = op(&args[0]);
                        let d = primal::partial(&format!("{m}_a"));
                        // The tangent of the operand taken, selected rather than weighted by 0 and 1: the
                        // other one may be NaN (`f64::min` ignores a NaN operand, and so must its tangent).
                        let (dx, dy) = (self.dot_or_zero(recv), self.dot_or_zero(&args[0]));
                        quote!(if #r::#d(#x, #y) == 1.0 { #dx } else { #dy })
                    }
                    "mul_add" => {
                        let (a, b) = (op(&args[0]), quote!(1.0));
                        self.chain(vec![(recv, a), (&args[0], x), (&args[1], b)])
                    }
                    unary => {
                        let d = primal::partial(unary);
                        self.chain(vec![(recv, quote!(#r::#d(#x, #v)))])
                    }
                }
            }
            Expr::Cast { operand, ty, .. } => {
                let d = self.dot_or_zero(operand);
                quote!(#d as #ty)
            }
            Expr::Index { base, fields, index } => {
                let (d, i) = (dot(self.f.name(*base)), op(index));
                quote!(#d #(.#fields)* [#i])
            }
            Expr::NamedField { base, field } => {
                let d = self.dot(base).expect("active base");
                quote!(&#d.#field)
            }
            Expr::Tuple(es) => {
                let ds = es.iter().map(|e| self.dot_or_zero(e));
                quote!((#(#ds,)*))
            }
            Expr::Field(a, k) => {
                let d = self.dot_or_zero(a);
                let k = syn::Index::from(*k as usize);
                quote!(#d.#k)
            }
            Expr::Array { vec, elems } => {
                let ds = elems.iter().map(|e| self.dot_or_zero(e));
                if *vec {
                    quote!(::std::vec![#(#ds),*])
                } else {
                    quote!([#(#ds),*])
                }
            }
            Expr::Repeat { vec, elem, len } => {
                let (d, n) = (self.dot_or_zero(elem), &len.tokens);
                if *vec {
                    quote!(::std::vec![#d; #n])
                } else {
                    quote!([#d; #n])
                }
            }
            Expr::Map { recv, other, closure } => {
                let r = rt();
                let jvp = closure_jvp(closure);
                let a = self.pr(recv);
                match other {
                    None => {
                        let d = self.dot_ref(recv);
                        quote!(#r::map_jvp(#a, #d, #jvp))
                    }
                    Some(b) => {
                        let (bv, ad, bd) = (self.pr(b), self.opt_dot(recv), self.opt_dot(b));
                        quote!(#r::zip_map_jvp(#a, #ad, #bv, #bd, #jvp))
                    }
                }
            }
            Expr::FromElement { path, dims, elem } => {
                let (dims, d) = (dims.iter().map(|o| self.op(o)), self.dot_or_zero(elem));
                quote!(#path(#(#dims,)* #d))
            }
            Expr::Call { .. } | Expr::Opaque(_) => unreachable!("handled by the caller"),
        }
    }

    fn stmt(&self, s: &Stmt) -> TokenStream {
        let f = self.f;
        match s {
            Stmt::Let { var, ty, init: None } => {
                let b = primal::binding(f, *var, ty, false);
                if self.an.active[*var] {
                    let d = dot(f.name(*var));
                    let t = ty.as_ref().map(|t| quote!(: #t));
                    quote!(#b; let #d #t;)
                } else {
                    quote!(#b;)
                }
            }
            Stmt::Let { var, ty, init: Some(e) } => {
                let b = primal::binding(f, *var, ty, false);
                let name = f.name(*var);
                let d = dot(name);
                let m = f.vars[*var].mutable.then(|| quote!(mut));
                let t = ty.as_ref().map(|t| quote!(: #t));
                if !self.an.active[*var] {
                    let e = primal::defining_expr(f, self.an, *var, e);
                    return quote!(#b = #e;);
                }
                if let Expr::Call { path, args } = e {
                    if expr_active(e, &self.an.active) {
                        let callee = primal::companion(path, jvp_internal);
                        let args = args.iter().map(|a| {
                            let p = primal::call_arg(f, a);
                            let slot = match self.dot(&a.operand) {
                                Some(d) if a.by_ref => quote!(::core::option::Option::Some(&#d)),
                                Some(d) => quote!(::core::option::Option::Some(::core::clone::Clone::clone(&#d))),
                                None => quote!(::core::option::Option::None),
                            };
                            quote!(#p, #slot)
                        });
                        let pair = ty.as_ref().map(|t| quote!(: (#t, #t)));
                        return quote!(let (#m #name, #m #d) #pair = #callee(#(#args),*););
                    }
                }
                let primal_e = primal::defining_expr(f, self.an, *var, e);
                let tangent = if expr_active(e, &self.an.active) {
                    self.tangent(e, name)
                } else {
                    let r = rt();
                    quote!(#r::zero_like(&#name))
                };
                quote!(#b = #primal_e; let #m #d #t = #tangent;)
            }
            Stmt::Assign { place, op, value, .. } => {
                let p = primal::place(f, place);
                let v = self.op(value);
                let v_owned =
                    primal::assigned(f, &self.an.copy, &self.an.by_ref, *op, value, crate::analyse::place_var(place));
                let sym = primal::assign_symbol(*op);
                let target = crate::analyse::place_var(place);
                if !self.an.active[target] {
                    return quote!(#p #sym #v_owned;);
                }
                let pd = match place {
                    Place::Var(t) => {
                        let d = dot(f.name(*t));
                        quote!(#d)
                    }
                    Place::Index(t, i) => {
                        let (d, i) = (dot(f.name(*t)), self.op(i));
                        quote!(#d[#i])
                    }
                };
                let vd = self.dot(value);
                let r = rt();
                let tangent = match (op, vd) {
                    (AssignOp::Set, Some(d)) => quote!(#pd = ::core::clone::Clone::clone(&#d);),
                    (AssignOp::Set, None) => quote!(#pd = #r::zero_like(&#v);),
                    // `v += v`: the tangent added is a copy of the target's, not a borrow of it.
                    (AssignOp::Add, Some(d)) if value.var() == Some(target) => {
                        quote!(#pd += ::core::clone::Clone::clone(&#d);)
                    }
                    (AssignOp::Sub, Some(d)) if value.var() == Some(target) => {
                        quote!(#pd -= ::core::clone::Clone::clone(&#d);)
                    }
                    (AssignOp::Add, Some(_)) if !self.copy(value) => {
                        let d = self.dot_ref(value);
                        quote!(#pd += #d;)
                    }
                    (AssignOp::Sub, Some(_)) if !self.copy(value) => {
                        let d = self.dot_ref(value);
                        quote!(#pd -= #d;)
                    }
                    (AssignOp::Add, Some(d)) => quote!(#pd += #d;),
                    (AssignOp::Sub, Some(d)) => quote!(#pd -= #d;),
                    (AssignOp::Add | AssignOp::Sub, None) => quote!(),
                    (AssignOp::Mul, Some(d)) => quote!(#pd = #pd * #v + #p * #d;),
                    (AssignOp::Mul, None) => quote!(#pd = #pd * #v;),
                    (AssignOp::Div, Some(d)) => quote!(#pd = (#pd - #p / #v * #d) / #v;),
                    (AssignOp::Div, None) => quote!(#pd = #pd / #v;),
                };
                quote!(#tangent #p #sym #v_owned;)
            }
            Stmt::If { cond, then_branch, else_branch } => {
                let (c, t, e) = (&cond.tokens, self.block(then_branch), self.block(else_branch));
                quote!(if #c { #t } else { #e })
            }
            Stmt::Match { scrutinee, arms } => {
                let s = &scrutinee.tokens;
                let arms = arms.iter().map(|a| {
                    let (p, b) = (&a.pat, self.block(&a.body));
                    let g = a.guard.as_ref().map(|g| {
                        let g = &g.tokens;
                        quote!(if #g)
                    });
                    quote!(#p #g => { #b })
                });
                quote!(match #s { #(#arms)* })
            }
            Stmt::For { var, iter, body, .. } => {
                let (n, it, b) = (f.name(*var), &iter.tokens, self.block(body));
                quote!(for #n in #it { #b })
            }
            Stmt::While { cond, body, .. } => {
                let (c, b) = (&cond.tokens, self.block(body));
                quote!(while #c { #b })
            }
            Stmt::Loop { body, .. } => {
                let b = self.block(body);
                quote!(loop { #b })
            }
            Stmt::Break => quote!(break;),
            Stmt::Continue => quote!(continue;),
            Stmt::Return(o) => {
                let (v, d) = (self.op(o), self.dot_or_zero(o));
                quote!(return (#v, #d);)
            }
        }
    }
}

/// The JVP of a `map`/`zip_map` closure, as a closure `|v, v_dot| -> (value, tangent)` (or
/// `|u, u_dot, v, v_dot|`), made by the forward transform of the closure's body with every parameter
/// active.
pub fn closure_jvp(c: &Closure) -> TokenStream {
    let f = &c.body;
    let facts: Vec<ParamFacts> = f
        .vars
        .iter()
        .filter(|v| matches!(v.origin, Origin::Param(_)))
        .map(|_| ParamFacts { active: true, by_ref: false, slice_ref: false, copy: true })
        .collect();
    let an = analyse(&Ctxt::default(), f, &f.body, &facts);
    let body = Forward { f, an: &an }.body(&f.body, &f.tail);
    let params = f.vars.iter().filter(|v| matches!(v.origin, Origin::Param(_))).map(|v| {
        let (n, d) = (&v.name, dot(&v.name));
        quote!(#n, #d)
    });
    quote!(|#(#params),*| { #body })
}
