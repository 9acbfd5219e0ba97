//! Lowering: the user's function body (syn) to the three-address [`ir`](crate::ir).
//!
//! Each subexpression gets a named intermediate; user variables are renamed apart (`x`, `x__1`, …) so
//! that shadowing and block scoping disappear; `if` and `match` used as values become a variable declared
//! before them and assigned in each branch; iteration over slices (`.iter()`, `.enumerate()`, `.zip(..)`,
//! `.rev()`, `.step_by(k)`) becomes iteration over indices with the elements read at the top of the body.
//! Everything outside the supported subset is reported here, at its span, all at once.
//!
//! Before: `s += a * a + 100.0 * b * b;`
//! After:  `let __t4 = a * a; let __t5 = 100.0 * b; let __t6 = __t5 * b; let __t7 = __t4 + __t6; s += __t7`

use crate::ctxt::Ctxt;
use crate::ir::*;
use crate::names;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use std::collections::{HashMap, HashSet};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;

/// Float methods with a derivative rule.
pub const UNARY_RULES: &[&str] = &[
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "exp", "exp2",
    "exp_m1", "ln", "ln_1p", "log2", "log10", "sqrt", "cbrt", "recip", "abs",
];
pub const BINARY_RULES: &[&str] = &["powi", "powf", "atan2", "hypot", "max", "min", "mul_add"];
/// Methods whose result never carries a derivative (piecewise constant, or not a float).
const ZERO_DERIVATIVE: &[&str] = &[
    "nrows",
    "ncols",
    "shape",
    "floor",
    "ceil",
    "round",
    "round_ties_even",
    "trunc",
    "signum",
    "is_nan",
    "is_finite",
    "is_infinite",
    "is_normal",
    "is_sign_positive",
    "is_sign_negative",
    "len",
    "is_empty",
    "to_bits",
    "total_cmp",
    "partial_cmp",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
];
const COPIES: &[&str] = &["clone", "to_vec", "to_owned", "clone_owned", "into_owned"];
const ITERATOR_METHODS: &[&str] = &[
    "iter",
    "iter_mut",
    "into_iter",
    "map",
    "sum",
    "product",
    "fold",
    "zip",
    "enumerate",
    "filter",
    "collect",
    "for_each",
    "rev",
    "step_by",
    "skip",
    "take",
    "chain",
    "copied",
    "cloned",
    "reduce",
    "windows",
    "chunks",
];

pub fn is_rule(name: &str) -> bool {
    UNARY_RULES.contains(&name) || BINARY_RULES.contains(&name) || crate::primal::MATRIX_METHODS.contains(&name)
}

pub struct Lowerer<'a> {
    cx: &'a Ctxt,
    vars: Vec<VarInfo>,
    scopes: Vec<HashMap<String, VarId>>,
    used: HashSet<String>,
    temps: usize,
}

pub fn lower(cx: &Ctxt, params: &[(Ident, bool)], body: &syn::Block) -> Function {
    let mut l = Lowerer { cx, vars: Vec::new(), scopes: vec![HashMap::new()], used: HashSet::new(), temps: 0 };
    for (i, (ident, mutable)) in params.iter().enumerate() {
        l.declare(ident, *mutable, false, Origin::Param(i));
    }
    let (body, tail) = l.block_stmts(&body.stmts);
    Function { vars: l.vars, body, tail }
}

/// Renames variables inside an expression kept whole, and records which it reads.
struct Renamer<'a, 'b> {
    lowerer: &'a Lowerer<'b>,
    reads: Vec<VarId>,
    closure: Option<Span>,
    /// Renaming a constant expression: closures in it are allowed (they are evaluated, not differentiated).
    constant: bool,
    /// Names bound inside the expression (a closure's parameters), left alone.
    exclude: HashSet<String>,
}

impl VisitMut for Renamer<'_, '_> {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        match e {
            syn::Expr::Path(p) if p.qself.is_none() => {
                if let Some(id) = p.path.get_ident().filter(|id| !self.exclude.contains(&id.to_string())) {
                    if let Some(v) = self.lowerer.lookup(&id.to_string()) {
                        self.reads.push(v);
                        let name = self.lowerer.vars[v].name.clone();
                        let span = id.span();
                        *e = syn::parse_quote_spanned!(span=> #name);
                    }
                }
            }
            // A closure inside a constant expression is plain code: its parameters shadow outer names
            // within its body, and the outer names it captures are renamed like any other read.
            syn::Expr::Closure(c) if self.constant => {
                let mut bound = Vec::new();
                for input in &c.inputs {
                    pattern_names(input, &mut bound);
                }
                let added: Vec<String> = bound.into_iter().filter(|n| self.exclude.insert(n.clone())).collect();
                self.visit_expr_mut(&mut c.body);
                for n in &added {
                    self.exclude.remove(n);
                }
            }
            syn::Expr::Closure(c) => {
                self.closure.get_or_insert(c.span());
            }
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }
}

/// The names a pattern binds (`x`, `(a, mut b)`, `&v`, `x: f64`).
fn pattern_names(pat: &syn::Pat, names: &mut Vec<String>) {
    match pat {
        syn::Pat::Ident(pi) => {
            names.push(pi.ident.to_string());
            if let Some((_, sub)) = &pi.subpat {
                pattern_names(sub, names);
            }
        }
        syn::Pat::Type(pt) => pattern_names(&pt.pat, names),
        syn::Pat::Reference(r) => pattern_names(&r.pat, names),
        syn::Pat::Paren(p) => pattern_names(&p.pat, names),
        syn::Pat::Tuple(t) => t.elems.iter().for_each(|p| pattern_names(p, names)),
        syn::Pat::TupleStruct(t) => t.elems.iter().for_each(|p| pattern_names(p, names)),
        syn::Pat::Slice(s) => s.elems.iter().for_each(|p| pattern_names(p, names)),
        syn::Pat::Struct(s) => s.fields.iter().for_each(|f| pattern_names(&f.pat, names)),
        syn::Pat::Or(o) => o.cases.iter().for_each(|p| pattern_names(p, names)),
        _ => {}
    }
}

fn unsupported(what: &str) -> String {
    format!("{what} is not supported in a #[differentiable] function")
}

impl Lowerer<'_> {
    // ---- names and scopes ------------------------------------------------------------------------

    fn lookup(&self, name: &str) -> Option<VarId> {
        self.scopes.iter().rev().find_map(|s| s.get(name).copied())
    }

    fn declare(&mut self, ident: &Ident, mutable: bool, deferred: bool, origin: Origin) -> VarId {
        let base = ident.to_string();
        // Suffixed names `x__k` cannot collide with generated ones, which never contain `__` after
        // their prefix, so only the plain name is checked against the reserved forms.
        let mut name = base.clone();
        let mut k = 1;
        while (k == 1 && names::reserved(&name)) || self.used.contains(&name) {
            name = format!("{base}__{k}");
            k += 1;
        }
        self.used.insert(name.clone());
        let id = self.vars.len();
        self.vars.push(VarInfo {
            name: Ident::new(&name, ident.span()),
            span: ident.span(),
            mutable,
            deferred,
            origin,
            source: None,
        });
        self.scopes.last_mut().expect("scope").insert(base, id);
        id
    }

    fn temp(&mut self, span: Span) -> VarId {
        self.temps += 1;
        let id = self.vars.len();
        let mut name = names::temp(self.temps);
        name.set_span(span);
        self.vars.push(VarInfo { name, span, mutable: false, deferred: false, origin: Origin::Temp, source: None });
        id
    }

    /// A new intermediate defined by `e`, which computes the user's expression `source`.
    fn define(&mut self, e: Expr, source: &dyn ToTokens, out: &mut Vec<Stmt>) -> Operand {
        let source = source.to_token_stream();
        let span = source.clone().into_iter().next().map_or_else(Span::call_site, |t| t.span());
        let v = self.temp(span);
        self.vars[v].source = Some(source);
        out.push(Stmt::Let { var: v, ty: None, init: Some(e) });
        Operand::Var(v)
    }

    fn opaque(&mut self, e: &syn::Expr) -> Opaque {
        let mut e = e.clone();
        let mut r =
            Renamer { lowerer: self, reads: Vec::new(), closure: None, constant: true, exclude: HashSet::new() };
        r.visit_expr_mut(&mut e);
        let reads = r.reads;
        Opaque { tokens: e.into_token_stream(), reads }
    }

    fn scoped<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        self.scopes.push(HashMap::new());
        let r = f(self);
        self.scopes.pop();
        r
    }

    // ---- blocks and statements -------------------------------------------------------------------

    /// Lowers statements in a new scope; returns them and the value of the tail expression, if any.
    fn block_stmts(&mut self, stmts: &[syn::Stmt]) -> (Vec<Stmt>, Option<Operand>) {
        self.scoped(|l| {
            let mut out = Vec::new();
            let mut tail = None;
            for (i, s) in stmts.iter().enumerate() {
                let last = i + 1 == stmts.len();
                match s {
                    syn::Stmt::Expr(e, None) if last => tail = l.expr_stmt(e, &mut out),
                    _ => l.stmt(s, &mut out),
                }
            }
            (out, tail)
        })
    }

    fn stmt(&mut self, s: &syn::Stmt, out: &mut Vec<Stmt>) {
        match s {
            syn::Stmt::Local(local) => self.local(local, out),
            syn::Stmt::Item(item) => self.cx.error_spanned_by(
                item,
                "items inside a #[differentiable] function are not supported; move them outside the function",
            ),
            syn::Stmt::Macro(m) => self.cx.error_spanned_by(
                &m.mac,
                format!(
                    "macro `{}!` is not supported in a #[differentiable] function; only `vec![..]` is",
                    m.mac.path.to_token_stream().to_string().replace(' ', "")
                ),
            ),
            syn::Stmt::Expr(e, _) => {
                self.expr_stmt(e, out);
            }
        }
    }

    fn local(&mut self, local: &syn::Local, out: &mut Vec<Stmt>) {
        if let Some(diverge) = &local.init.as_ref().and_then(|i| i.diverge.as_ref()) {
            self.cx.error_spanned_by(&diverge.1, "`let ... else` is not supported; use `match`");
            return;
        }
        let (pat, ty) = match &local.pat {
            syn::Pat::Type(pt) => (&*pt.pat, Some((*pt.ty).clone())),
            p => (p, None),
        };
        match &local.init {
            None => {
                let syn::Pat::Ident(pi) = pat else {
                    self.cx.error_spanned_by(pat, "a declaration without a value must bind one name");
                    return;
                };
                if pi.mutability.is_some() {
                    self.cx.error_spanned_by(
                        pi,
                        "`let mut x;` without a value is not supported; give the variable an initial value",
                    );
                }
                let v = self.declare(&pi.ident, false, true, Origin::User);
                out.push(Stmt::Let { var: v, ty: ty.map(Box::new), init: None });
            }
            Some(init) => {
                // A tuple pattern against a tuple expression binds element by element.
                if let (syn::Pat::Tuple(pt), syn::Expr::Tuple(et)) = (pat, &*init.expr) {
                    if pt.elems.len() == et.elems.len() {
                        let values: Vec<Operand> = et.elems.iter().map(|e| self.expr(e, out)).collect();
                        let tys = split_tuple_type(ty, pt.elems.len());
                        for ((p, v), t) in pt.elems.iter().zip(values).zip(tys) {
                            self.bind(p, t, Expr::Use(v), out);
                        }
                        return;
                    }
                }
                let value = self.expr_value(&init.expr, out);
                let first_new = self.vars.len();
                self.bind(pat, ty, value, out);
                if let (syn::Pat::Ident(_), Some(v)) = (pat, self.vars.get_mut(first_new)) {
                    v.source = Some(init.expr.to_token_stream());
                }
            }
        }
    }

    /// Binds a pattern (a name, `_`, or nested tuples of those) to the value of `e`.
    fn bind(&mut self, pat: &syn::Pat, ty: Option<syn::Type>, e: Expr, out: &mut Vec<Stmt>) {
        match pat {
            syn::Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                let v = self.declare(&pi.ident, pi.mutability.is_some(), false, Origin::User);
                out.push(Stmt::Let { var: v, ty: ty.map(Box::new), init: Some(e) });
            }
            syn::Pat::Wild(_) => {
                if let Expr::Call { .. } | Expr::Method { .. } = e {
                    self.define(e, pat, out);
                }
            }
            syn::Pat::Tuple(pt) => {
                let whole = match e {
                    Expr::Use(o) => o,
                    e => self.define(e, pat, out),
                };
                let tys = split_tuple_type(ty, pt.elems.len());
                for (k, (p, t)) in pt.elems.iter().zip(tys).enumerate() {
                    self.bind(p, t, Expr::Field(whole.clone(), k as u32), out);
                }
            }
            syn::Pat::Paren(pp) => self.bind(&pp.pat, ty, e, out),
            other => self.cx.error_spanned_by(
                other,
                "unsupported pattern in `let`; bind a name, `_`, or a tuple of names like `let (a, b) = ...`",
            ),
        }
    }

    /// Lowers an expression in statement position; returns its value if it has one.
    fn expr_stmt(&mut self, e: &syn::Expr, out: &mut Vec<Stmt>) -> Option<Operand> {
        match e {
            syn::Expr::Assign(a) => {
                self.assign(&a.left, AssignOp::Set, &a.right, out);
                None
            }
            syn::Expr::Binary(b) if compound_op(&b.op).is_some() => {
                let (op, bin) = compound_op(&b.op).expect("checked");
                match op {
                    Some(op) => self.assign(&b.left, op, &b.right, out),
                    None => {
                        // `x %= e` and bit operators: `x = x op e`.
                        let lhs = self.expr(&b.left, out);
                        let rhs = self.expr(&b.right, out);
                        let v = self.define(Expr::Bin(bin, lhs, rhs), e, out);
                        self.assign_operand(&b.left, AssignOp::Set, v, out);
                    }
                }
                None
            }
            syn::Expr::ForLoop(f) => {
                self.for_loop(f, out);
                None
            }
            syn::Expr::While(w) => {
                self.no_label(&w.label);
                let cond = self.condition(&w.cond);
                let (body, _) = self.block_stmts(&w.body.stmts);
                out.push(Stmt::While { cond, body, exit: None });
                None
            }
            syn::Expr::Loop(l) => {
                self.no_label(&l.label);
                let (body, _) = self.block_stmts(&l.body.stmts);
                out.push(Stmt::Loop { body, exit: None });
                None
            }
            syn::Expr::Break(b) => {
                if let Some(label) = &b.label {
                    self.cx.error_spanned_by(label, unsupported("`break` with a label"));
                }
                if let Some(value) = &b.expr {
                    self.cx.error_spanned_by(value, "`break` with a value is not supported; assign the value to a variable declared before the loop");
                }
                out.push(Stmt::Break);
                None
            }
            syn::Expr::Continue(c) => {
                if let Some(label) = &c.label {
                    self.cx.error_spanned_by(label, unsupported("`continue` with a label"));
                }
                out.push(Stmt::Continue);
                None
            }
            syn::Expr::Return(r) => {
                let value = match &r.expr {
                    Some(v) => self.expr(v, out),
                    None => {
                        self.cx.error_spanned_by(r, "a differentiable function must return a value");
                        Operand::Const(quote!(()))
                    }
                };
                out.push(Stmt::Return(value));
                None
            }
            syn::Expr::If(_) | syn::Expr::Match(_) | syn::Expr::Block(_) => self.control_value(e, out),
            _ => Some(self.expr(e, out)),
        }
    }

    fn no_label(&self, label: &Option<syn::Label>) {
        if let Some(label) = label {
            self.cx.error_spanned_by(label, unsupported("a loop label"));
        }
    }

    fn condition(&mut self, e: &syn::Expr) -> Opaque {
        if let syn::Expr::Let(l) = e {
            self.cx.error_spanned_by(l, unsupported("`if let` / `while let`") + "; use `match`");
        }
        self.opaque(e)
    }

    fn place(&mut self, target: &syn::Expr, out: &mut Vec<Stmt>) -> Option<Place> {
        match target {
            syn::Expr::Paren(p) => self.place(&p.expr, out),
            syn::Expr::Path(p) if p.path.get_ident().is_some() => {
                let id = p.path.get_ident().expect("ident");
                match self.lookup(&id.to_string()) {
                    Some(v) => Some(Place::Var(v)),
                    None => {
                        self.cx.error_spanned_by(id, format!("assignment to `{id}`, which is not a local variable"));
                        None
                    }
                }
            }
            syn::Expr::Index(ix) => {
                let base = self.index_base(&ix.expr)?;
                let index = self.index_operand(&ix.index, out);
                Some(Place::Index(base, index))
            }
            other => {
                self.cx.error_spanned_by(
                    other,
                    "unsupported assignment target; assign to a variable `x = ..` or an element `x[i] = ..`",
                );
                None
            }
        }
    }

    fn assign(&mut self, left: &syn::Expr, op: AssignOp, right: &syn::Expr, out: &mut Vec<Stmt>) {
        let value = self.expr(right, out);
        self.assign_operand(left, op, value, out);
    }

    fn assign_operand(&mut self, left: &syn::Expr, op: AssignOp, value: Operand, out: &mut Vec<Stmt>) {
        if let Some(place) = self.place(left, out) {
            out.push(Stmt::Assign { place, op, value });
        }
    }

    // ---- loops -----------------------------------------------------------------------------------

    fn for_loop(&mut self, f: &syn::ExprForLoop, out: &mut Vec<Stmt>) {
        self.no_label(&f.label);
        match range_like(&f.expr) {
            Ok(true) => {
                let iter = self.opaque(&f.expr);
                self.scoped(|l| {
                    let var = match &*f.pat {
                        syn::Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                            l.declare(&pi.ident, pi.mutability.is_some(), false, Origin::User)
                        }
                        syn::Pat::Wild(w) => l.temp(w.span()),
                        other => {
                            l.cx.error_spanned_by(other, "a `for` over a range binds one name, e.g. `for i in 0..n`");
                            l.temp(other.span())
                        }
                    };
                    let (body, _) = l.block_stmts(&f.body.stmts);
                    out.push(Stmt::For { var, iter, body, exit: None });
                });
            }
            Ok(false) => self.for_elements(f, out),
            Err(e) => self.cx.syn_error(e),
        }
    }

    /// `for (i, x) in xs.iter().enumerate()` and friends: a loop over indices reading the elements.
    fn for_elements(&mut self, f: &syn::ExprForLoop, out: &mut Vec<Stmt>) {
        let source = match self.element_source(&f.expr) {
            Ok(s) => s,
            Err(e) => return self.cx.syn_error(e),
        };
        let span = f.expr.span();
        let len = &source.len;
        let mut indices = quote_spanned!(span=> (0..#len));
        for adapter in &source.adapters {
            indices = match adapter {
                Adapter::Rev => quote_spanned!(span=> #indices.rev()),
                Adapter::StepBy(k) => quote_spanned!(span=> #indices.step_by(#k)),
            };
        }
        let iter = Opaque { tokens: indices, reads: source.reads.clone() };
        self.scopes.push(HashMap::new());
        let j = self.temp(span);
        let mut body = Vec::new();
        self.bind_element(&f.pat, &source.tree, j, &mut body);
        let (rest, _) = self.block_stmts(&f.body.stmts);
        self.scopes.pop();
        body.extend(rest);
        out.push(Stmt::For { var: j, iter, body, exit: None });
    }

    fn bind_element(&mut self, pat: &syn::Pat, tree: &ElemTree, j: VarId, out: &mut Vec<Stmt>) {
        match (pat, tree) {
            (syn::Pat::Reference(r), _) => self.bind_element(&r.pat, tree, j, out),
            (syn::Pat::Paren(p), _) => self.bind_element(&p.pat, tree, j, out),
            (syn::Pat::Wild(_), _) => {}
            (syn::Pat::Ident(pi), ElemTree::Index) if pi.subpat.is_none() => {
                let v = self.declare(&pi.ident, pi.mutability.is_some(), false, Origin::User);
                out.push(Stmt::Let { var: v, ty: None, init: Some(Expr::Use(Operand::Var(j))) });
            }
            (syn::Pat::Ident(pi), ElemTree::Leaf(base)) if pi.subpat.is_none() => {
                let v = self.declare(&pi.ident, pi.mutability.is_some(), false, Origin::User);
                out.push(Stmt::Let {
                    var: v,
                    ty: None,
                    init: Some(Expr::Index { base: *base, fields: vec![], index: Operand::Var(j) }),
                });
            }
            (syn::Pat::Tuple(pt), ElemTree::Pair(a, b)) if pt.elems.len() == 2 => {
                self.bind_element(&pt.elems[0], a, j, out);
                self.bind_element(&pt.elems[1], b, j, out);
            }
            (p, ElemTree::Pair(..)) => self
                .cx
                .error_spanned_by(p, "destructure the pair the loop yields, e.g. `for (a, b) in x.iter().zip(y)`"),
            (p, _) => {
                self.cx.error_spanned_by(p, "unsupported loop pattern; bind a name, `&name`, or a tuple of those")
            }
        }
    }

    fn element_source(&mut self, e: &syn::Expr) -> syn::Result<Source> {
        match e {
            syn::Expr::Paren(p) => self.element_source(&p.expr),
            syn::Expr::Reference(r) => self.element_source(&r.expr),
            syn::Expr::Path(p) => {
                let id = p.path.get_ident().ok_or_else(|| syn::Error::new_spanned(p, "iterate over a local slice"))?;
                let base = self.lookup(&id.to_string()).ok_or_else(|| {
                    syn::Error::new_spanned(id, format!("cannot iterate over `{id}`: it is not a local variable; loop over its indices, `for i in 0..{id}.len()`"))
                })?;
                let name = &self.vars[base].name;
                Ok(Source {
                    tree: ElemTree::Leaf(base),
                    len: quote_spanned!(id.span()=> #name.len()),
                    reads: vec![base],
                    adapters: vec![],
                })
            }
            syn::Expr::MethodCall(m) => {
                let method = m.method.to_string();
                match method.as_str() {
                    "iter" | "into_iter" | "copied" | "cloned" if m.args.is_empty() => self.element_source(&m.receiver),
                    "enumerate" if m.args.is_empty() => {
                        let inner = self.element_source(&m.receiver)?;
                        if !inner.adapters.is_empty() {
                            return Err(syn::Error::new_spanned(
                                &m.method,
                                "`.enumerate()` after `.rev()` or `.step_by(..)` is not supported; put `.enumerate()` first",
                            ));
                        }
                        Ok(Source { tree: ElemTree::Pair(Box::new(ElemTree::Index), Box::new(inner.tree)), ..inner })
                    }
                    "zip" if m.args.len() == 1 => {
                        let left = self.element_source(&m.receiver)?;
                        let right = self.element_source(&m.args[0])?;
                        if !left.adapters.is_empty() || !right.adapters.is_empty() {
                            return Err(syn::Error::new_spanned(
                                &m.method,
                                "`.zip(..)` of reversed or stepped iterators is not supported; zip first, then `.rev()`",
                            ));
                        }
                        let (a, b) = (left.len, right.len);
                        Ok(Source {
                            tree: ElemTree::Pair(Box::new(left.tree), Box::new(right.tree)),
                            len: quote!(::core::cmp::min(#a, #b)),
                            reads: left.reads.into_iter().chain(right.reads).collect(),
                            adapters: vec![],
                        })
                    }
                    "rev" if m.args.is_empty() => {
                        let mut inner = self.element_source(&m.receiver)?;
                        inner.adapters.push(Adapter::Rev);
                        Ok(inner)
                    }
                    "step_by" if m.args.len() == 1 => {
                        let mut inner = self.element_source(&m.receiver)?;
                        let k = self.opaque(&m.args[0]);
                        inner.reads.extend(k.reads);
                        inner.adapters.push(Adapter::StepBy(k.tokens));
                        Ok(inner)
                    }
                    _ => Err(syn::Error::new_spanned(
                        &m.method,
                        format!(
                            "iterator method `.{method}(..)` is not supported in a `for` header; iterate over a range or \
                             use `.iter()`, `.enumerate()`, `.zip(..)`, `.rev()`, `.step_by(..)`"
                        ),
                    )),
                }
            }
            other => Err(syn::Error::new_spanned(
                other,
                "unsupported `for` iterator; loop over a range (`0..n`) or a slice (`x.iter()`, `x.iter().enumerate()`)",
            )),
        }
    }

    // ---- expressions -----------------------------------------------------------------------------

    /// Lowers an expression to the [`Expr`] computing it (its operands lowered first).
    fn expr_value(&mut self, e: &syn::Expr, out: &mut Vec<Stmt>) -> Expr {
        match e {
            syn::Expr::Paren(p) => self.expr_value(&p.expr, out),
            syn::Expr::Group(g) => self.expr_value(&g.expr, out),
            syn::Expr::Lit(_) | syn::Expr::Path(_) => Expr::Use(self.expr(e, out)),
            syn::Expr::Unary(u) => match u.op {
                syn::UnOp::Neg(_) => Expr::Neg(self.expr(&u.expr, out)),
                syn::UnOp::Deref(_) => Expr::Use(self.expr(&u.expr, out)),
                _ => Expr::Opaque(self.opaque(e)),
            },
            syn::Expr::Reference(r) => {
                if r.mutability.is_some() {
                    self.cx.error_spanned_by(r, unsupported("`&mut` borrowing"));
                }
                Expr::Use(self.expr(&r.expr, out))
            }
            syn::Expr::Binary(b) => {
                use syn::BinOp as B;
                let op = match b.op {
                    B::Add(_) => BinOp::Add,
                    B::Sub(_) => BinOp::Sub,
                    B::Mul(_) => BinOp::Mul,
                    B::Div(_) => BinOp::Div,
                    B::Rem(_) => BinOp::Rem,
                    B::BitAnd(_) => BinOp::Bits("&"),
                    B::BitOr(_) => BinOp::Bits("|"),
                    B::BitXor(_) => BinOp::Bits("^"),
                    B::Shl(_) => BinOp::Bits("<<"),
                    B::Shr(_) => BinOp::Bits(">>"),
                    B::And(_) | B::Or(_) | B::Eq(_) | B::Ne(_) | B::Lt(_) | B::Le(_) | B::Gt(_) | B::Ge(_) => {
                        return Expr::Opaque(self.opaque(e));
                    }
                    _ => {
                        self.cx.error_spanned_by(b, "compound assignment is a statement; it cannot be used as a value");
                        return Expr::Use(Operand::Const(quote!(0.0)));
                    }
                };
                let l = self.expr(&b.left, out);
                let r = self.expr(&b.right, out);
                Expr::Bin(op, l, r)
            }
            syn::Expr::Cast(c) => {
                let to_float = matches!(&*c.ty, syn::Type::Path(p) if p.path.is_ident("f64") || p.path.is_ident("f32"));
                Expr::Cast { operand: self.expr(&c.expr, out), ty: (*c.ty).clone(), to_float }
            }
            syn::Expr::MethodCall(m) => self.method_call(e, m, out),
            syn::Expr::Call(c) => self.call(e, c, out),
            syn::Expr::Index(ix) => {
                if let syn::Expr::Range(r) = &*ix.index {
                    self.cx.error_spanned_by(r, "slicing `x[a..b]` is not supported; index elements `x[i]` in a loop");
                    return Expr::Use(Operand::Const(quote!(0.0)));
                }
                if constant_base(&ix.expr, self) {
                    return Expr::Opaque(self.opaque(e));
                }
                let (base_expr, fields) = field_path(&ix.expr);
                match self.index_base(base_expr) {
                    Some(base) => {
                        let index = self.index_operand(&ix.index, out);
                        Expr::Index { base, fields, index }
                    }
                    None => Expr::Use(Operand::Const(quote!(0.0))),
                }
            }
            syn::Expr::Field(f) => match &f.member {
                syn::Member::Unnamed(i) => Expr::Field(self.expr(&f.base, out), i.index),
                syn::Member::Named(n) => Expr::NamedField { base: self.expr(&f.base, out), field: n.clone() },
            },
            syn::Expr::Tuple(t) => Expr::Tuple(t.elems.iter().map(|e| self.expr(e, out)).collect()),
            syn::Expr::Array(a) => {
                Expr::Array { vec: false, elems: a.elems.iter().map(|e| self.expr(e, out)).collect() }
            }
            syn::Expr::Repeat(r) => {
                let elem = self.expr(&r.expr, out);
                Expr::Repeat { vec: false, elem, len: self.opaque(&r.len) }
            }
            syn::Expr::Macro(m) => self.macro_expr(&m.mac, out),
            syn::Expr::If(_) | syn::Expr::Match(_) | syn::Expr::Block(_) => match self.control_value(e, out) {
                Some(o) => Expr::Use(o),
                None => {
                    self.cx.error_spanned_by(e, "this expression has no value; end its branches with a value");
                    Expr::Use(Operand::Const(quote!(0.0)))
                }
            },
            syn::Expr::Closure(c) => {
                self.cx.error_spanned_by(
                    c,
                    "closures are not supported here; write a `for` loop, or move the code into a #[differentiable] fn",
                );
                Expr::Use(Operand::Const(quote!(0.0)))
            }
            syn::Expr::Range(r) => {
                self.cx.error_spanned_by(r, "a range is only supported as the iterator of a `for` loop");
                Expr::Use(Operand::Const(quote!(0.0)))
            }
            other => {
                let what = match other {
                    syn::Expr::Unsafe(_) => "an `unsafe` block",
                    syn::Expr::Async(_) => "an `async` block",
                    syn::Expr::Await(_) => "`.await`",
                    syn::Expr::Try(_) => "the `?` operator",
                    syn::Expr::Struct(_) => "a struct literal",
                    syn::Expr::Let(_) => "`let` in an expression",
                    syn::Expr::Assign(_) => "assignment as a value",
                    syn::Expr::ForLoop(_) | syn::Expr::While(_) | syn::Expr::Loop(_) => "a loop as a value",
                    _ => "this expression",
                };
                self.cx.error_spanned_by(other, unsupported(what));
                Expr::Use(Operand::Const(quote!(0.0)))
            }
        }
    }

    /// Lowers an expression to an operand (a variable or a constant).
    fn expr(&mut self, e: &syn::Expr, out: &mut Vec<Stmt>) -> Operand {
        match e {
            syn::Expr::Paren(p) => self.expr(&p.expr, out),
            syn::Expr::Group(g) => self.expr(&g.expr, out),
            syn::Expr::Lit(l) => Operand::Const(l.to_token_stream()),
            syn::Expr::Path(p) => match p.path.get_ident().and_then(|id| self.lookup(&id.to_string())) {
                Some(v) => Operand::Var(v),
                None => Operand::Const(p.to_token_stream()),
            },
            syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => self.expr(&u.expr, out),
            syn::Expr::Reference(r) if r.mutability.is_none() => self.expr(&r.expr, out),
            syn::Expr::Return(_) | syn::Expr::Break(_) | syn::Expr::Continue(_) => {
                self.expr_stmt(e, out);
                Operand::Const(quote!(unreachable!()))
            }
            _ => match self.expr_value(e, out) {
                Expr::Use(o) => o,
                v => self.define(v, e, out),
            },
        }
    }

    fn index_base(&mut self, e: &syn::Expr) -> Option<VarId> {
        match e {
            syn::Expr::Paren(p) => self.index_base(&p.expr),
            syn::Expr::Path(p) if p.path.get_ident().is_some() => {
                let id = p.path.get_ident().expect("ident");
                let v = self.lookup(&id.to_string());
                if v.is_none() {
                    self.cx.error_spanned_by(
                        id,
                        format!("cannot index `{id}`: only local arrays, slices and vectors can be indexed"),
                    );
                }
                v
            }
            syn::Expr::Index(_) => {
                self.cx.error_spanned_by(
                    e,
                    "nested indexing `a[i][j]` is not supported; use a flat array and `a[i * n + j]`",
                );
                None
            }
            other => {
                self.cx.error_spanned_by(other, "only a local variable can be indexed; bind the value to a name first");
                None
            }
        }
    }

    fn index_operand(&mut self, e: &syn::Expr, out: &mut Vec<Stmt>) -> Operand {
        match e {
            syn::Expr::Lit(_) | syn::Expr::Path(_) => self.expr(e, out),
            _ => {
                let o = self.opaque(e);
                self.define(Expr::Opaque(o), e, out)
            }
        }
    }

    fn method_call(&mut self, whole: &syn::Expr, m: &syn::ExprMethodCall, out: &mut Vec<Stmt>) -> Expr {
        let name = m.method.to_string();
        if m.turbofish.is_some() && !ZERO_DERIVATIVE.contains(&name.as_str()) {
            self.cx.error_spanned_by(&m.turbofish, unsupported("a turbofish on a method call"));
        }
        if ZERO_DERIVATIVE.contains(&name.as_str()) {
            return Expr::Opaque(self.opaque(whole));
        }
        if COPIES.contains(&name.as_str()) && m.args.is_empty() {
            return Expr::Copied { operand: self.expr(&m.receiver, out), method: m.method.clone() };
        }
        if let Some(closure) = map_closure(m) {
            let recv = self.expr(&m.receiver, out);
            let other = (m.args.len() == 2).then(|| self.expr(&m.args[0], out));
            let closure = Box::new(self.closure(closure));
            return Expr::Map { recv, other, closure };
        }
        // `sum`, `map`, ... of vectors and matrices are their own methods; only chains through an iterator
        // (`x.iter().map(..).sum()`) are iterators.
        if ITERATOR_METHODS.contains(&name.as_str()) && (iterator_only(&name) || through_iterator(&m.receiver)) {
            self.cx.error_spanned_by(
                &m.method,
                format!("iterator method `.{name}(..)` is not supported here; write a `for` loop that accumulates the result"),
            );
            return Expr::Use(Operand::Const(quote!(0.0)));
        }
        let recv = self.expr(&m.receiver, out);
        let args = m.args.iter().map(|a| self.expr(a, out)).collect();
        Expr::Method { name: m.method.clone(), recv, args }
    }

    /// A closure of `map`/`zip_map`: outer variables renamed (and recorded as captures), the body lowered
    /// as a function of the closure's parameters.
    fn closure(&mut self, c: &syn::ExprClosure) -> Closure {
        let mut params = Vec::new();
        for input in &c.inputs {
            let pat = match input {
                syn::Pat::Type(pt) => &*pt.pat,
                p => p,
            };
            match pat {
                syn::Pat::Ident(pi) if pi.subpat.is_none() => params.push((pi.ident.clone(), pi.mutability.is_some())),
                other => self.cx.error_spanned_by(other, "a closure parameter must be a name, e.g. `|v| v.tanh()`"),
            }
        }
        let mut renamed = c.clone();
        let exclude = params.iter().map(|(p, _)| p.to_string()).collect();
        let mut r = Renamer { lowerer: self, reads: Vec::new(), closure: None, constant: false, exclude };
        r.visit_expr_mut(&mut renamed.body);
        let (captures, nested) = (r.reads, r.closure);
        if let Some(span) = nested {
            self.cx.error_at(span, "closures inside a `map` closure are not supported");
        }
        let block: syn::Block = match &*renamed.body {
            syn::Expr::Block(b) if b.label.is_none() => b.block.clone(),
            body => syn::parse_quote!({ #body }),
        };
        let body = lower(self.cx, &params, &block);
        Closure { tokens: renamed.into_token_stream(), body, captures }
    }

    fn call(&mut self, whole: &syn::Expr, c: &syn::ExprCall, out: &mut Vec<Stmt>) -> Expr {
        let syn::Expr::Path(p) = &*c.func else {
            self.cx.error_spanned_by(
                &c.func,
                "only calls to named functions are supported; call a `#[differentiable]` fn by name",
            );
            return Expr::Use(Operand::Const(quote!(0.0)));
        };
        let segments: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
        let last = segments.last().map(String::as_str).unwrap_or("");
        if last == "no_grad" {
            return Expr::Opaque(self.opaque(whole));
        }
        // `f64::sin(x)` is `x.sin()`.
        let float_path = segments.len() == 2 && (segments[0] == "f64" || segments[0] == "f32") && !c.args.is_empty();
        if float_path && ZERO_DERIVATIVE.contains(&last) {
            return Expr::Opaque(self.opaque(whole));
        }
        if float_path && is_rule(last) {
            let mut ops: Vec<Operand> = c.args.iter().map(|a| self.expr(a, out)).collect();
            let recv = ops.remove(0);
            let name = p.path.segments.last().expect("segment").ident.clone();
            return Expr::Method { name, recv, args: ops };
        }
        if last == "from_element" && !c.args.is_empty() {
            let mut ops: Vec<Operand> = c.args.iter().map(|a| self.expr(a, out)).collect();
            let elem = ops.pop().expect("an element");
            return Expr::FromElement { path: p.path.clone(), dims: ops, elem };
        }
        let args = c
            .args
            .iter()
            .map(|a| {
                let by_ref = matches!(a, syn::Expr::Reference(_));
                CallArg { operand: self.expr(a, out), by_ref }
            })
            .collect();
        Expr::Call { path: p.path.clone(), args }
    }

    fn macro_expr(&mut self, mac: &syn::Macro, out: &mut Vec<Stmt>) -> Expr {
        if !mac.path.is_ident("vec") {
            self.cx.error_spanned_by(
                mac,
                format!(
                    "macro `{}!` is not supported in a #[differentiable] function; only `vec![..]` is",
                    mac.path.to_token_stream().to_string().replace(' ', "")
                ),
            );
            return Expr::Use(Operand::Const(quote!(0.0)));
        }
        match mac.parse_body_with(VecArgs::parse) {
            Ok(VecArgs::Repeat(elem, len)) => {
                let elem = self.expr(&elem, out);
                Expr::Repeat { vec: true, elem, len: self.opaque(&len) }
            }
            Ok(VecArgs::List(items)) => {
                Expr::Array { vec: true, elems: items.iter().map(|e| self.expr(e, out)).collect() }
            }
            Err(e) => {
                self.cx.syn_error(e);
                Expr::Use(Operand::Const(quote!(0.0)))
            }
        }
    }

    /// `if`, `match` and blocks: lowered as statements; if they have a value, it is assigned to a new
    /// variable declared before them, which is returned.
    fn control_value(&mut self, e: &syn::Expr, out: &mut Vec<Stmt>) -> Option<Operand> {
        match e {
            syn::Expr::Block(b) => {
                if let Some(label) = &b.label {
                    self.cx.error_spanned_by(label, unsupported("a labelled block"));
                }
                let (stmts, tail) = self.block_stmts(&b.block.stmts);
                out.extend(stmts);
                tail
            }
            syn::Expr::If(i) => {
                let cond = self.condition(&i.cond);
                let (mut then_branch, then_val) = self.block_stmts(&i.then_branch.stmts);
                let (mut else_branch, else_val) = match &i.else_branch {
                    Some((_, e)) => self.arm_body(e),
                    None => (Vec::new(), None),
                };
                let has_value = then_val.is_some() || else_val.is_some();
                let result = has_value.then(|| self.result_var(e.span(), out));
                for (branch, val) in [(&mut then_branch, then_val), (&mut else_branch, else_val)] {
                    if let (Some(r), Some(v)) = (result, val) {
                        branch.push(Stmt::Assign { place: Place::Var(r), op: AssignOp::Set, value: v });
                    }
                }
                out.push(Stmt::If { cond, then_branch, else_branch });
                result.map(Operand::Var)
            }
            syn::Expr::Match(m) => {
                let scrutinee = self.opaque(&m.expr);
                let mut arms = Vec::new();
                let mut values = Vec::new();
                for arm in &m.arms {
                    let (arm, value) = self.scoped(|l| {
                        let pat = l.arm_pattern(&arm.pat);
                        let guard = arm.guard.as_ref().map(|(_, g)| l.opaque(g));
                        let (body, value) = l.arm_body(&arm.body);
                        (Arm { pat, guard, body }, value)
                    });
                    arms.push(arm);
                    values.push(value);
                }
                let result = values.iter().any(Option::is_some).then(|| self.result_var(e.span(), out));
                if let Some(r) = result {
                    for (arm, value) in arms.iter_mut().zip(values) {
                        if let Some(v) = value {
                            arm.body.push(Stmt::Assign { place: Place::Var(r), op: AssignOp::Set, value: v });
                        }
                    }
                }
                out.push(Stmt::Match { scrutinee, arms });
                result.map(Operand::Var)
            }
            _ => self.expr_stmt(e, out),
        }
    }

    fn result_var(&mut self, span: Span, out: &mut Vec<Stmt>) -> VarId {
        let r = self.temp(span);
        self.vars[r].deferred = true;
        out.push(Stmt::Let { var: r, ty: None, init: None });
        r
    }

    /// The body of an `else` or a `match` arm, in its own scope.
    fn arm_body(&mut self, e: &syn::Expr) -> (Vec<Stmt>, Option<Operand>) {
        match e {
            syn::Expr::Block(b) if b.label.is_none() => self.block_stmts(&b.block.stmts),
            _ => self.scoped(|l| {
                let mut out = Vec::new();
                let value = match e {
                    syn::Expr::If(_) | syn::Expr::Match(_) => l.control_value(e, &mut out),
                    _ => l.expr_stmt(e, &mut out),
                };
                (out, value)
            }),
        }
    }

    /// Declares the names a `match` pattern binds and renames them in the pattern.
    fn arm_pattern(&mut self, pat: &syn::Pat) -> TokenStream {
        struct Binder<'a, 'b> {
            l: &'a mut Lowerer<'b>,
        }
        impl VisitMut for Binder<'_, '_> {
            fn visit_pat_ident_mut(&mut self, pi: &mut syn::PatIdent) {
                let name = pi.ident.to_string();
                // Capitalised names are constants and unit variants, not bindings.
                if !name.starts_with(|c: char| c.is_uppercase()) {
                    let v = self.l.declare(&pi.ident, pi.mutability.is_some(), false, Origin::User);
                    pi.ident = self.l.vars[v].name.clone();
                }
                syn::visit_mut::visit_pat_ident_mut(self, pi);
            }
        }
        let mut pat = pat.clone();
        Binder { l: self }.visit_pat_mut(&mut pat);
        pat.into_token_stream()
    }
}

/// Methods that only iterators have.
fn iterator_only(name: &str) -> bool {
    [
        "iter",
        "iter_mut",
        "into_iter",
        "zip",
        "enumerate",
        "collect",
        "fold",
        "filter",
        "for_each",
        "chain",
        "windows",
        "chunks",
    ]
    .contains(&name)
}

/// Whether a method chain passes through an iterator (`x.iter()…`).
fn through_iterator(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::MethodCall(m) => iterator_only(&m.method.to_string()) || through_iterator(&m.receiver),
        syn::Expr::Paren(p) => through_iterator(&p.expr),
        _ => false,
    }
}

/// The closure of `a.map(|v| ..)` or `a.zip_map(&b, |u, v| ..)`.
fn map_closure(m: &syn::ExprMethodCall) -> Option<&syn::ExprClosure> {
    let (arity, closure) = match (m.method.to_string().as_str(), m.args.len()) {
        ("map", 1) => (1, &m.args[0]),
        ("zip_map", 2) => (2, &m.args[1]),
        _ => return None,
    };
    match closure {
        syn::Expr::Closure(c) if c.inputs.len() == arity => Some(c),
        _ => None,
    }
}

/// Whether an indexed expression is a path that is not a local variable (a `const` table): constant.
fn constant_base(e: &syn::Expr, l: &Lowerer) -> bool {
    match e {
        syn::Expr::Paren(p) => constant_base(&p.expr, l),
        syn::Expr::Path(p) => p.path.get_ident().is_none_or(|id| l.lookup(&id.to_string()).is_none()),
        _ => false,
    }
}

/// `p.layer.w` → (`p`, [layer, w]): the variable and the named fields leading to an indexed array.
fn field_path(e: &syn::Expr) -> (&syn::Expr, Vec<Ident>) {
    match e {
        syn::Expr::Paren(p) => field_path(&p.expr),
        syn::Expr::Field(f) => match &f.member {
            syn::Member::Named(n) => {
                let (base, mut fields) = field_path(&f.base);
                fields.push(n.clone());
                (base, fields)
            }
            syn::Member::Unnamed(_) => (e, vec![]),
        },
        _ => (e, vec![]),
    }
}

/// The element types of a tuple type annotation, or no annotations.
fn split_tuple_type(ty: Option<syn::Type>, arity: usize) -> Vec<Option<syn::Type>> {
    match ty {
        Some(syn::Type::Tuple(tt)) if tt.elems.len() == arity => tt.elems.into_iter().map(Some).collect(),
        _ => vec![None; arity],
    }
}

fn compound_op(op: &syn::BinOp) -> Option<(Option<AssignOp>, BinOp)> {
    use syn::BinOp as B;
    Some(match op {
        B::AddAssign(_) => (Some(AssignOp::Add), BinOp::Add),
        B::SubAssign(_) => (Some(AssignOp::Sub), BinOp::Sub),
        B::MulAssign(_) => (Some(AssignOp::Mul), BinOp::Mul),
        B::DivAssign(_) => (Some(AssignOp::Div), BinOp::Div),
        B::RemAssign(_) => (None, BinOp::Rem),
        B::BitAndAssign(_) => (None, BinOp::Bits("&")),
        B::BitOrAssign(_) => (None, BinOp::Bits("|")),
        B::BitXorAssign(_) => (None, BinOp::Bits("^")),
        B::ShlAssign(_) => (None, BinOp::Bits("<<")),
        B::ShrAssign(_) => (None, BinOp::Bits(">>")),
        _ => return None,
    })
}

/// Whether a `for` iterator is a range (possibly `.rev()`/`.step_by(k)`), or iterates over elements.
fn range_like(e: &syn::Expr) -> syn::Result<bool> {
    match e {
        syn::Expr::Range(_) => Ok(true),
        syn::Expr::Paren(p) => range_like(&p.expr),
        syn::Expr::MethodCall(m) => {
            let inner = range_like(&m.receiver)?;
            if inner && !matches!(m.method.to_string().as_str(), "rev" | "step_by") {
                return Err(syn::Error::new_spanned(
                    &m.method,
                    format!(
                        "`.{}(..)` on a range is not supported in a `for` header; use `.rev()` and `.step_by(k)`",
                        m.method
                    ),
                ));
            }
            Ok(inner)
        }
        _ => Ok(false),
    }
}

enum ElemTree {
    Index,
    Leaf(VarId),
    Pair(Box<ElemTree>, Box<ElemTree>),
}

enum Adapter {
    Rev,
    StepBy(TokenStream),
}

struct Source {
    tree: ElemTree,
    len: TokenStream,
    reads: Vec<VarId>,
    adapters: Vec<Adapter>,
}

enum VecArgs {
    Repeat(Box<syn::Expr>, Box<syn::Expr>),
    List(Vec<syn::Expr>),
}

impl VecArgs {
    fn parse(input: syn::parse::ParseStream) -> syn::Result<Self> {
        if input.is_empty() {
            return Ok(VecArgs::List(vec![]));
        }
        let first: syn::Expr = input.parse()?;
        if input.peek(syn::Token![;]) {
            input.parse::<syn::Token![;]>()?;
            let len: syn::Expr = input.parse()?;
            return Ok(VecArgs::Repeat(Box::new(first), Box::new(len)));
        }
        let mut items = vec![first];
        while input.peek(syn::Token![,]) {
            input.parse::<syn::Token![,]>()?;
            if input.is_empty() {
                break;
            }
            items.push(input.parse()?);
        }
        Ok(VecArgs::List(items))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Lowers `src` and pretty-prints the IR (the unit-test snapshot format).
    pub(crate) fn lowered(src: &str) -> (Function, String) {
        let item: syn::ItemFn = syn::parse_str(src).expect("valid fn");
        let cx = Ctxt::default();
        let params: Vec<(Ident, bool)> = item
            .sig
            .inputs
            .iter()
            .map(|a| match a {
                syn::FnArg::Typed(pt) => match &*pt.pat {
                    syn::Pat::Ident(pi) => (pi.ident.clone(), pi.mutability.is_some()),
                    _ => panic!("pattern"),
                },
                _ => panic!("receiver"),
            })
            .collect();
        let f = lower(&cx, &params, &item.block);
        if let Err(e) = cx.check() {
            panic!("lowering failed: {e}");
        }
        let text = Display { function: &f, body: &f.body, result: f.tail.as_ref() }.to_string();
        (f, text)
    }

    fn errors(src: &str) -> Vec<String> {
        let item: syn::ItemFn = syn::parse_str(src).expect("valid fn");
        let cx = Ctxt::default();
        lower(&cx, &[], &item.block);
        match cx.check() {
            Ok(()) => vec![],
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn three_address_form() {
        let (_, ir) = lowered("fn f(x: f64, y: f64) -> f64 { let z = x * y + x.sin(); z / 2.0 }");
        assert_eq!(ir, "let __t1 = x * y\nlet __t2 = x.sin()\nlet z = __t1 + __t2\nlet __t3 = z / 2.0\nresult __t3\n");
    }

    #[test]
    fn shadowing_renames_apart() {
        let (_, ir) = lowered("fn f(x: f64) -> f64 { let x = x * 2.0; let x = x + 1.0; x }");
        assert_eq!(ir, "let x__1 = x * 2.0\nlet x__2 = x__1 + 1.0\nresult x__2\n");
    }

    #[test]
    fn reserved_names_are_renamed() {
        let (_, ir) = lowered("fn f(x: f64) -> f64 { let x_bar = x; let __t1 = x_bar; __t1 }");
        assert_eq!(ir, "let x_bar__1 = x\nlet __t1__1 = x_bar__1\nresult __t1__1\n");
    }

    #[test]
    fn if_expression_becomes_a_deferred_variable() {
        let (_, ir) = lowered("fn f(x: f64) -> f64 { let y = if x > 0.0 { x } else { -x }; y }");
        let expected = "\
let __t2
if x > 0.0 {
    __t2 = x
} else {
    let __t1 = neg x
    __t2 = __t1
}
let y = __t2
result y
";
        assert_eq!(ir, expected);
    }

    #[test]
    fn element_loops_become_index_loops() {
        let (_, ir) = lowered(
            "fn f(x: &[f64], y: &[f64]) -> f64 { let mut s = 0.0; for (i, (a, &b)) in x.iter().zip(y.iter()).enumerate() { s += a * b * i as f64; } s }",
        );
        let expected = "\
let mut s = 0.0
for __t1 in (0 .. :: core :: cmp :: min (x . len () , y . len ())) {
    let i = __t1
    let a = x[__t1]
    let b = y[__t1]
    let __t2 = a * b
    let __t3 = i as f64
    let __t4 = __t2 * __t3
    s += __t4
}
result s
";
        assert_eq!(ir, expected);
    }

    #[test]
    fn conditions_and_inactive_methods_stay_whole() {
        let (_, ir) =
            lowered("fn f(x: &[f64]) -> f64 { let mut k = 0; while k < x.len() && x[k] > 0.0 { k += 1; } x[k] }");
        let expected = "\
let mut k = 0
while k < x . len () && x [k] > 0.0 {
    k += 1
}
let __t1 = x[k]
result __t1
";
        assert_eq!(ir, expected);
    }

    #[test]
    fn unsupported_constructs_are_all_reported() {
        let errs =
            errors("fn f() { let c = |v: f64| v; println!(\"{}\", 1); let y = x[1..2]; 'a: loop { break 'a; } }");
        assert_eq!(errs.len(), 5, "{errs:#?}");
        assert!(errs[0].contains("closures are not supported"));
        assert!(errs[1].contains("macro `println!` is not supported"));
        assert!(errs[2].contains("slicing"));
        assert!(errs[3].contains("loop label"));
        assert!(errs[4].contains("`break` with a label"));
    }
}
