//! Emitting the primal computation of IR expressions and statements, shared by both transforms.

use crate::analyse::Analysis;
use crate::ir::*;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// How generated function bodies name the runtime: an alias they import first (see [`import_rt`]).
pub fn rt() -> TokenStream {
    quote!(__ad)
}

/// The runtime's absolute path, for signatures and the alias.
pub fn rt_path() -> TokenStream {
    quote!(::adjoint::__private)
}

/// The first statement of every generated function body.
pub fn import_rt() -> TokenStream {
    let p = rt_path();
    quote!(use #p as __ad;)
}

pub fn operand(f: &Function, o: &Operand) -> TokenStream {
    match o {
        Operand::Var(v) => {
            let n = f.name(*v);
            quote!(#n)
        }
        Operand::Const(t) => t.clone(),
    }
}

pub fn bin_symbol(op: BinOp) -> TokenStream {
    match op {
        BinOp::Add => quote!(+),
        BinOp::Sub => quote!(-),
        BinOp::Mul => quote!(*),
        BinOp::Div => quote!(/),
        BinOp::Rem => quote!(%),
        BinOp::Bits(s) => s.parse().expect("operator"),
    }
}

pub fn assign_symbol(op: AssignOp) -> TokenStream {
    match op {
        AssignOp::Set => quote!(=),
        AssignOp::Add => quote!(+=),
        AssignOp::Sub => quote!(-=),
        AssignOp::Mul => quote!(*=),
        AssignOp::Div => quote!(/=),
    }
}

/// An argument of a call: borrowed as the user wrote it, or a copy of a variable passed by value (the
/// reverse sweep still needs the variable after the call).
pub fn call_arg(f: &Function, a: &CallArg) -> TokenStream {
    let o = operand(f, &a.operand);
    match &a.operand {
        _ if a.by_ref => quote!(&#o),
        // Method syntax, so that a reference argument is cloned as itself and then coerced to the
        // parameter's type (`&Vec<f64>` for `&[f64]`); `Clone::clone(&o)` would infer `&[f64]` for `o`.
        Operand::Var(_) => quote!((&#o).clone()),
        Operand::Const(_) => o,
    }
}

/// The path of a generated companion of a called function (`g` → `__adjoint_vjp_g`).
pub fn companion(path: &syn::Path, make: fn(&Ident) -> Ident) -> syn::Path {
    let mut p = path.clone();
    if let Some(last) = p.segments.last_mut() {
        last.ident = make(&last.ident);
    }
    p
}

/// An operand in a position where the primal would move it: cloned unless it is known to be `Copy`,
/// because the reverse sweep still reads it afterwards.
pub fn owned(f: &Function, copy: &[bool], o: &Operand) -> TokenStream {
    let t = operand(f, o);
    match o {
        Operand::Var(v) if !copy[*v] => quote!(::core::clone::Clone::clone(&#t)),
        _ => t,
    }
}

/// Vector and matrix methods with a derivative rule (in `adjoint::linalg`).
pub const MATRIX_METHODS: &[&str] = &[
    "transpose",
    "sum",
    "norm",
    "norm_squared",
    "dot",
    "component_mul",
    "component_div",
    "add_scalar",
    "row",
    "column",
];
/// Matrix methods whose matrix argument is passed by reference.
const BORROWED_ARGS: &[&str] = &["dot", "component_mul", "component_div"];
/// Matrix methods returning views, copied out with `clone_owned()`.
const VIEWS: &[&str] = &["row", "column"];

/// Whether an operand is known to be `Copy` (constants are).
pub fn is_copy(copy: &[bool], o: &Operand) -> bool {
    o.var().is_none_or(|v| copy[v])
}

/// An operand as a value, for scalar formulas: a variable holding a reference is dereferenced.
pub fn value(f: &Function, refs: &[bool], o: &Operand) -> TokenStream {
    let t = operand(f, o);
    match o {
        Operand::Var(v) if refs[*v] => quote!((*#t)),
        _ => t,
    }
}

/// An operand as a reference, for rules taking `&A`: a variable that is itself a reference is passed as
/// it is, other values are borrowed.
pub fn by_ref(f: &Function, refs: &[bool], o: &Operand) -> TokenStream {
    let t = operand(f, o);
    match o {
        Operand::Var(v) if refs[*v] => t,
        _ => quote!(&#t),
    }
}

/// `x op y` for operands of any type: plain arithmetic on `Copy` scalars, the borrowed operators or
/// the runtime's product and quotient rules on vectors and matrices (which must not be moved, and whose
/// `*` depends on both shapes).
pub fn binary(
    op: BinOp,
    x: (TokenStream, TokenStream, bool),
    y: (TokenStream, TokenStream, bool),
    active: bool,
) -> TokenStream {
    let ((xv, xr, xc), (yv, yr, yc)) = (x, y);
    let r = rt();
    let s = bin_symbol(op);
    if xc && yc {
        return quote!(#xv #s #yv);
    }
    match op {
        BinOp::Mul if active => quote!(#r::mul(#xr, #yr)),
        BinOp::Div if active => quote!(#r::div(#xr, #yr)),
        // Constants (shapes, indices, data): the operator itself, scalars by value, the rest borrowed.
        _ if !active => {
            let (a, b) = (if xc { xv } else { xr }, if yc { yv } else { yr });
            quote!(#a #s #b)
        }
        _ => quote!(#xr #s #yr),
    }
}

/// The right-hand side of `place op= value` as the primal statement needs it: owned for `=`, borrowed
/// for `+=`/`-=` of vectors and matrices, as it is otherwise.
pub fn assigned(
    f: &Function,
    copy: &[bool],
    refs: &[bool],
    op: AssignOp,
    value: &Operand,
    target: VarId,
) -> TokenStream {
    match op {
        // `v += v` on a non-`Copy` value: the right-hand side is a copy, not a borrow of the target.
        AssignOp::Set => owned(f, copy, value),
        AssignOp::Add | AssignOp::Sub if value.var() == Some(target) => owned(f, copy, value),
        AssignOp::Add | AssignOp::Sub if !is_copy(copy, value) => by_ref(f, refs, value),
        _ => operand(f, value),
    }
}

/// The primal expression defining variable `var`, with every token at the span of the user's expression,
/// so that a type error (a product with no rule, say) points at the user's code.
pub fn defining_expr(f: &Function, an: &Analysis, var: VarId, e: &Expr) -> TokenStream {
    let e = match e {
        Expr::Bin(op, x, y) => {
            let side = |o| (operand(f, o), by_ref(f, &an.by_ref, o), is_copy(&an.copy, o));
            binary(*op, side(x), side(y), an.active[var])
        }
        _ => expr(f, &an.copy, &an.by_ref, e),
    };
    respan(e, f.vars[var].span)
}

fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut t| {
            if let proc_macro2::TokenTree::Group(g) = &t {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                t = proc_macro2::TokenTree::Group(group);
            } else {
                t.set_span(span);
            }
            t
        })
        .collect()
}

pub fn expr(f: &Function, copy: &[bool], refs: &[bool], e: &Expr) -> TokenStream {
    let op = |o| operand(f, o);
    let own = |o| owned(f, copy, o);
    match e {
        Expr::Use(a) => own(a),
        Expr::Copied { operand, method } => {
            let o = op(operand);
            quote!(#o.#method())
        }
        Expr::Neg(a) => {
            let a = if is_copy(copy, a) { op(a) } else { by_ref(f, refs, a) };
            quote!(-#a)
        }
        Expr::Bin(b, x, y) => {
            let side = |o| (op(o), by_ref(f, refs, o), is_copy(copy, o));
            binary(*b, side(x), side(y), true)
        }
        Expr::Method { name, recv, args } => {
            let recv = op(recv);
            let m = name.to_string();
            // Matrix methods take their matrix arguments by reference; row and column views are
            // copied out so that they are values like any other.
            // The other arguments are scalars and integers, by value (a borrowed field `p.b` is dereferenced).
            let args = args.iter().map(|a| {
                if BORROWED_ARGS.contains(&m.as_str()) {
                    by_ref(f, refs, a)
                } else {
                    value(f, refs, a)
                }
            });
            let owned = VIEWS.contains(&m.as_str()).then(|| quote!(.clone_owned()));
            quote!(#recv.#name(#(#args),*)#owned)
        }
        Expr::Map { recv, other, closure } => {
            let (recv, c) = (op(recv), &closure.tokens);
            match other {
                Some(b) => {
                    let b = by_ref(f, refs, b);
                    quote!(#recv.zip_map(#b, #c))
                }
                None => quote!(#recv.map(#c)),
            }
        }
        Expr::FromElement { path, dims, elem } => {
            let (dims, x) = (dims.iter().map(op), op(elem));
            quote!(#path(#(#dims,)* #x))
        }
        Expr::Cast { operand, ty, .. } => {
            let o = op(operand);
            quote!(#o as #ty)
        }
        Expr::Index { base, fields, index } => {
            let (b, i) = (f.name(*base), op(index));
            quote!(#b #(.#fields)* [#i])
        }
        Expr::NamedField { base, field } => {
            let b = op(base);
            quote!(&#b.#field)
        }
        Expr::Call { path, args } => {
            let args = args.iter().map(|a| call_arg(f, a));
            quote!(#path(#(#args),*))
        }
        Expr::Tuple(es) => {
            let es = es.iter().map(own);
            quote!((#(#es,)*))
        }
        Expr::Field(a, k) => {
            let a = op(a);
            let k = syn::Index::from(*k as usize);
            quote!(::core::clone::Clone::clone(&#a.#k))
        }
        Expr::Array { vec, elems } => {
            let es = elems.iter().map(own);
            if *vec {
                quote!(::std::vec![#(#es),*])
            } else {
                quote!([#(#es),*])
            }
        }
        Expr::Repeat { vec, elem, len } => {
            let (e, n) = (op(elem), &len.tokens);
            if *vec {
                quote!(::std::vec![#e; #n])
            } else {
                quote!([#e; #n])
            }
        }
        Expr::Opaque(o) => o.tokens.clone(),
    }
}

/// `let [mut] v[: T]` — the binding part of a `let`.
pub fn binding(f: &Function, var: VarId, ty: &Option<Box<syn::Type>>, force_mut: bool) -> TokenStream {
    let name = f.name(var);
    let m = (f.vars[var].mutable || force_mut).then(|| quote!(mut));
    match ty {
        Some(t) => quote!(let #m #name: #t),
        None => quote!(let #m #name),
    }
}

pub fn place(f: &Function, p: &Place) -> TokenStream {
    match p {
        Place::Var(v) => {
            let n = f.name(*v);
            quote!(#n)
        }
        Place::Index(v, i) => {
            let (n, i) = (f.name(*v), operand(f, i));
            quote!(#n[#i])
        }
    }
}

/// The identifier of a rule's partial-derivative function (`sin` → `d_sin`).
pub fn partial(name: &str) -> Ident {
    format_ident!("d_{}", name)
}
