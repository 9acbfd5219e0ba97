//! The adjoint transform: reverse mode, emitting the VJP as a forward sweep followed by a reverse sweep.
//!
//! The strategy is Tapenade's "store what is overwritten", made Rust-typed and combined with
//! recomputation:
//!
//! - A block is reversed *in place*: its forward statements are emitted, then the cotangents of the
//!   values it defines (`let mut v_bar = bar_zero(&v)`), then the adjoint of each statement in reverse
//!   order. The forward sweep's locals are still in scope, so straight-line code needs no storage.
//! - An overwrite of a needed value (see [`crate::analyse`]) saves the old value in a local just before
//!   it (`let __s3 = p; p *= x;`) and the reverse sweep restores it (`p = __s3;`) before using it. So
//!   after the reverse of a block, every needed value is back to what it was before the block ran.
//! - A branch or a loop iteration is a *region*: the reverse sweep restores the state at the region's
//!   entry and then runs the region's own adjoint block, which recomputes its locals (joint-mode
//!   reversal at each level of nesting). Entry states come from snapshots of the outer variables the
//!   region reassigns (a local for a branch, a typed tape per loop, `let mut __tape2 = Vec::new()` at the
//!   top of the function, element type inferred from the first push) and from per-array write logs
//!   (`(index, old value)`) for elements written by index, so memory grows only with what is overwritten.
//!   Branch conditions are kept in locals; loops count their iterations and replay a range backwards with
//!   `nth`. The common accumulation `s += f(x[i])` stores nothing at all.
//!
//! Before (Rosenbrock's loop): `for i in 0..x.len() - 1 { let a = 1.0 - x[i]; ...; s += a * a + .. }`
//! After:
//! ```text
//! let __it1 = 0..x.len() - 1; let mut __n1 = 0usize;
//! for i in __it1.clone() { __n1 += 1; let a = 1.0 - x[i]; ...; s += __t9; }   // forward sweep
//! ...
//! for i in __it1.clone().rev() {                                               // reverse sweep
//!     let a = 1.0 - x[i]; ...                                                  // recompute the body
//!     let mut a_bar = bar_zero(&a); ...
//!     __t9_bar += s_bar; ... x_bar[i] -= a_bar;                                // and reverse it
//! }
//! ```

use crate::analyse::{carried, expr_active, place_var, Analysis};
use crate::forward::closure_jvp;
use crate::ir::*;
use crate::names::{aux, bar, dual_internal, vjp2_internal, vjp_internal};
use crate::primal::{self, rt, MATRIX_METHODS};
use proc_macro2::{Ident, TokenStream};
use quote::quote;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashSet};

pub struct Adjoint<'a> {
    pub f: &'a Function,
    pub an: &'a Analysis,
    /// Variables whose cotangent binding is a `&mut` borrowed from the caller.
    pub ref_bar: Vec<bool>,
    /// Emit the code on dual numbers (`f64` → `Dual<f64>` for differentiated values), the second-order
    /// variant: constants flowing into differentiated values are lifted, calls go to the callees' dual
    /// variants (see [`crate::emit`] and `adjoint::dual`).
    pub dual: bool,
    /// The function's float type (`f64` or `f32`), the scalar of its duals.
    pub scalar: TokenStream,
    counter: Cell<usize>,
    tapes: RefCell<Vec<Ident>>,
    logs: RefCell<BTreeMap<VarId, Ident>>,
}

/// How a region saves the outer state it overwrites.
struct Region {
    /// Reassigned outer variables that are needed: snapshotted at entry.
    snapshot: Vec<VarId>,
    /// Outer arrays written by index that are needed: their writes are logged.
    logged: Vec<VarId>,
}

impl<'a> Adjoint<'a> {
    pub fn new(f: &'a Function, an: &'a Analysis, ref_bar: Vec<bool>, dual: bool) -> Self {
        Self {
            f,
            an,
            ref_bar,
            dual,
            scalar: quote!(f64),
            counter: Cell::new(0),
            tapes: RefCell::new(Vec::new()),
            logs: RefCell::new(BTreeMap::new()),
        }
    }

    fn fresh(&self) -> usize {
        self.counter.set(self.counter.get() + 1);
        self.counter.get()
    }

    fn tape(&self, what: &str, k: usize) -> Ident {
        let t = aux(what, k);
        self.tapes.borrow_mut().push(t.clone());
        t
    }

    fn log(&self, array: VarId) -> Ident {
        self.logs
            .borrow_mut()
            .entry(array)
            .or_insert_with(|| aux(&format!("log_{}_", self.f.name(array)), array))
            .clone()
    }

    /// The declarations of every tape and write log, for the top of the function.
    pub fn storage(&self) -> TokenStream {
        let tapes = self.tapes.borrow();
        let logs = self.logs.borrow();
        let names = tapes.iter().chain(logs.values());
        quote!(#(let mut #names = ::std::vec::Vec::new();)*)
    }

    fn name(&self, v: VarId) -> &Ident {
        self.f.name(v)
    }

    fn op(&self, o: &Operand) -> TokenStream {
        primal::operand(self.f, o)
    }

    fn active(&self, o: &Operand) -> Option<VarId> {
        o.var().filter(|v| self.an.active[*v])
    }

    /// `&mut v_bar`, reborrowing when the cotangent is the caller's buffer.
    fn bar_mut(&self, v: VarId) -> TokenStream {
        let b = bar(self.name(v));
        if self.ref_bar[v] {
            quote!(&mut *#b)
        } else {
            quote!(&mut #b)
        }
    }

    /// `x_bar += contribution` for a scalar operand (nothing if it is inactive).
    fn acc_scalar(&self, o: &Operand, contribution: TokenStream) -> TokenStream {
        match self.active(o) {
            Some(v) => {
                let b = bar(self.name(v));
                quote!(#b += #contribution;)
            }
            None => quote!(),
        }
    }

    /// `x_bar += contribution` for an operand of any cotangent type.
    fn acc(&self, o: &Operand, contribution: TokenStream) -> TokenStream {
        match self.active(o) {
            Some(v) => {
                let (r, b) = (rt(), self.bar_mut(v));
                quote!(#r::accumulate(#b, &#contribution);)
            }
            None => quote!(),
        }
    }

    fn pr(&self, o: &Operand) -> TokenStream {
        primal::by_ref(self.f, &self.an.by_ref, o)
    }

    /// The reverse of the vector and matrix methods (formulas in `adjoint::linalg`).
    fn matrix_propagate(&self, name: &str, recv: &Operand, args: &[Operand], z: VarId, b: TokenStream) -> TokenStream {
        let r = rt();
        let zn = self.name(z);
        let a = self.pr(recv);
        let into = |o: &Operand, call: &dyn Fn(TokenStream) -> TokenStream| match self.active(o) {
            Some(v) => call(self.bar_mut(v)),
            None => quote!(),
        };
        match name {
            "transpose" => into(recv, &|m| quote!(#r::transpose_vjp(&#b, #m);)),
            "sum" => into(recv, &|m| quote!(#r::sum_vjp(&#b, #m);)),
            "norm_squared" => into(recv, &|m| quote!(#r::norm_squared_vjp(#a, &#b, #m);)),
            "norm" => into(recv, &|m| quote!(#r::norm_vjp(#a, &#zn, &#b, #m);)),
            "row" | "column" => {
                let i = self.op(&args[0]);
                let f = proc_macro2::Ident::new(&format!("{name}_vjp"), proc_macro2::Span::call_site());
                into(recv, &|m| quote!(#r::#f(#i, &#b, #m);))
            }
            "dot" | "component_mul" => {
                let (a, c) = (self.lifted_ref(recv), self.lifted_ref(&args[0]));
                let f = proc_macro2::Ident::new(&format!("{name}_vjp"), proc_macro2::Span::call_site());
                let x = into(recv, &|m| quote!(#r::#f(#c, &#b, #m);));
                let y = into(&args[0], &|m| quote!(#r::#f(#a, &#b, #m);));
                quote!(#x #y)
            }
            "component_div" => {
                let c = self.lifted_ref(&args[0]);
                let x = into(recv, &|m| quote!(#r::component_div_vjp_a(#c, &#b, #m);));
                let y = into(&args[0], &|m| quote!(#r::component_div_vjp_b(#c, &#zn, &#b, #m);));
                quote!(#x #y)
            }
            "add_scalar" => {
                let x = self.acc(recv, b.clone());
                let y = into(&args[0], &|m| quote!(#r::add_scalar_vjp_s(&#b, #m);));
                quote!(#x #y)
            }
            _ => unreachable!("matrix method without a reverse rule"),
        }
    }

    /// The primal expression defining an active `var` in dual code: constants are lifted, active float
    /// casts are the identity (on duals), calls go to the callee's dual primal.
    fn dual_expr(&self, var: VarId, e: &Expr) -> TokenStream {
        let f = self.f;
        let r = rt();
        // The result placeholder of the single-exit form takes the (dual) type of its annotation.
        if f.vars[var].origin == crate::ir::Origin::Flag {
            return primal::defining_expr(f, self.an, var, e);
        }
        if !expr_active(e, &self.an.active) {
            let e = match e {
                Expr::Opaque(o) => self.opaque(o),
                _ => primal::defining_expr(f, self.an, var, e),
            };
            let s = &self.scalar;
            return quote!(#r::constant::<#s, _>(#e));
        }
        match e {
            // Arrays mixing differentiated and constant elements: the constants are lifted.
            Expr::Array { vec, elems } => {
                let sc = &self.scalar;
                let es = elems.iter().map(|o| {
                    let v = primal::owned(f, &self.an.copy, o);
                    if self.active(o).is_some() {
                        v
                    } else {
                        quote!(#r::Dual::<#sc>::constant(#v))
                    }
                });
                if *vec {
                    quote!(::std::vec![#(#es),*])
                } else {
                    quote!([#(#es),*])
                }
            }
            Expr::Tuple(es) => {
                let sc = &self.scalar;
                let es = es.iter().map(|o| match o {
                    Operand::Const(c) if is_float_literal(c) => quote!(#r::Dual::<#sc>::constant(#c)),
                    _ => primal::owned(f, &self.an.copy, o),
                });
                quote!((#(#es,)*))
            }
            // A constant vector or matrix added to a differentiated one is lifted to duals (a copy).
            Expr::Bin(kind @ (BinOp::Add | BinOp::Sub), x, y)
                if !(self.copy(x) && self.copy(y)) && (self.active(x).is_none() || self.active(y).is_none()) =>
            {
                let (sc, an) = (&self.scalar, self.an);
                let side = |o: &Operand| {
                    if self.active(o).is_some() {
                        (primal::operand(f, o), primal::by_ref(f, &an.by_ref, o), self.copy(o))
                    } else {
                        let rf = primal::by_ref(f, &an.by_ref, o);
                        let lifted = quote!(#r::constant::<#sc, _>(::core::clone::Clone::clone(#rf)));
                        (lifted.clone(), quote!(&#lifted), false)
                    }
                };
                primal::binary(*kind, side(x), side(y), true)
            }
            // Norms of dual matrices: nalgebra's need a `ComplexField`; the runtime's give the same values.
            Expr::Method { name, recv, .. } if name == "norm" || name == "norm_squared" => {
                let a = self.pr(recv);
                quote!(#r::#name(#a))
            }
            // `zip_map` of a differentiated and a constant matrix: the constant is lifted.
            Expr::Map { recv, other: Some(o), closure } => {
                let (a, b, c) = (self.lifted_ref(recv), self.lifted_ref(o), self.closure(closure));
                quote!((#a).zip_map(#b, #c))
            }
            Expr::Map { recv, other: None, closure } => {
                let (a, c) = (self.op(recv), self.closure(closure));
                quote!(#a.map(#c))
            }
            // Vector methods mixing a differentiated operand with a constant one: the constant is lifted.
            Expr::Method { name, recv, args } if MATRIX_METHODS.contains(&name.to_string().as_str()) => {
                let n = name.to_string();
                let recv_t = match self.active(recv) {
                    Some(_) => self.op(recv),
                    None => {
                        let c = self.lifted(recv);
                        quote!((#c))
                    }
                };
                let args = args.iter().map(|a| match n.as_str() {
                    "dot" | "component_mul" | "component_div" => self.lifted_ref(a),
                    "add_scalar" if self.active(a).is_none() => self.lifted(a),
                    _ => primal::value(f, &self.an.by_ref, a),
                });
                let view = matches!(n.as_str(), "row" | "column").then(|| quote!(.clone_owned()));
                quote!(#recv_t.#name(#(#args),*) #view)
            }
            // A constant receiving a differentiated argument (`2.0f64.powf(x)`, `e.atan2(x)`) is lifted.
            Expr::Method { name, recv, args } if self.active(recv).is_none() => {
                let (c, sc) = (self.op(recv), &self.scalar);
                let args = args.iter().map(|a| self.op(a));
                quote!(#r::Dual::<#sc>::constant(#c).#name(#(#args),*))
            }
            Expr::Call { path, args } => {
                let callee = primal::companion(path, dual_internal);
                let (slots, args) = self.dual_call_args(args);
                quote!({ #slots #callee(#(#args),*) })
            }
            _ => primal::defining_expr(f, self.an, var, e),
        }
    }

    fn copy(&self, o: &Operand) -> bool {
        primal::is_copy(&self.an.copy, o)
    }

    /// A call's arguments in dual code, with the slots they need: constants are lifted to what the callee's
    /// dual variant takes — floats become dual constants, a borrowed constant vector is passed as it is
    /// when the callee keeps that parameter constant and as a dual copy (made in a slot) when it
    /// differentiates it (`adjoint::dual::LiftRef`).
    fn dual_call_args(&self, args: &[CallArg]) -> (TokenStream, Vec<TokenStream>) {
        let r = rt();
        let mut slots = TokenStream::new();
        let args = args
            .iter()
            .map(|a| {
                let p = primal::call_arg(self.f, a);
                let borrowed = a.by_ref || a.operand.var().is_some_and(|v| self.an.by_ref[v]);
                if borrowed && self.active(&a.operand).is_none() && !self.copy(&a.operand) {
                    let slot = aux("lift", self.fresh());
                    slots.extend(quote!(let mut #slot = ::core::option::Option::None;));
                    let p = self.pr(&a.operand);
                    quote!(#r::lift_ref(#p, &mut #slot))
                } else {
                    quote!(#r::lift(#p))
                }
            })
            .collect();
        (slots, args)
    }

    /// A constant expression (a condition, an index, `x.floor()`, `x as usize`, `no_grad(x)`) as written. In
    /// dual code the differentiated values it reads are replaced by their value parts first: element reads
    /// of vectors become `(v[i].re)`, and other reads are shadowed (`{ let x = x.re; x.floor() as usize }`,
    /// `{ let v = &value_part(v); v.norm() > 1.0 }`, a copy). A constant carries no derivative, so it is
    /// computed from values alone, with the float types the user wrote.
    fn opaque(&self, o: &Opaque) -> TokenStream {
        let t = &o.tokens;
        if !self.dual {
            return t.clone();
        }
        let r = rt();
        let vectors = element_reads(self.f, self.an, o);
        let names: Vec<Ident> = vectors.iter().map(|v| self.name(*v).clone()).collect();
        let t = if names.is_empty() { t.clone() } else { element_values(t, &names) };
        let mut seen = HashSet::new();
        let shadows: Vec<TokenStream> = o
            .reads
            .iter()
            .filter(|v| self.an.active[**v] && !vectors.contains(v) && seen.insert(**v))
            .map(|v| {
                let n = self.name(*v);
                match (self.an.copy[*v], self.an.by_ref[*v]) {
                    (true, false) => quote!(let #n = #n.re;),
                    (_, true) => quote!(let #n = &#r::value_part(#n);),
                    (false, false) => quote!(let #n = #r::value_part(&#n);),
                }
            })
            .collect();
        if shadows.is_empty() {
            t
        } else {
            quote!({ #(#shadows)* #t })
        }
    }

    /// A `map` closure as written, with its float literals lifted in dual code.
    fn closure(&self, c: &Closure) -> TokenStream {
        if self.dual {
            lift_float_literals(&c.tokens, &self.scalar)
        } else {
            c.tokens.clone()
        }
    }

    /// The JVP of a `map` closure (see `forward::closure_jvp`), with its float literals lifted in dual code.
    fn closure_jvp(&self, c: &Closure) -> TokenStream {
        let jvp = closure_jvp(c);
        if self.dual {
            lift_float_literals(&jvp, &self.scalar)
        } else {
            jvp
        }
    }

    /// A constant operand as a dual value of the function's scalar type (a copy for vectors and matrices).
    fn lifted(&self, o: &Operand) -> TokenStream {
        let (r, sc) = (rt(), &self.scalar);
        if self.copy(o) {
            let v = primal::value(self.f, &self.an.by_ref, o);
            quote!(#r::constant::<#sc, _>(#v))
        } else {
            let p = self.pr(o);
            quote!(#r::constant::<#sc, _>(::core::clone::Clone::clone(#p)))
        }
    }

    /// An operand borrowed, as the rules take it: in dual code a constant vector or matrix is lifted to
    /// duals, so that both operands of a rule have one scalar type.
    fn lifted_ref(&self, o: &Operand) -> TokenStream {
        if self.dual && self.active(o).is_none() {
            let l = self.lifted(o);
            quote!(&#l)
        } else {
            self.pr(o)
        }
    }

    /// The right-hand side `v` of `place op= value` in dual code: a constant assigned to a differentiated
    /// place is lifted (`x = 0.0`), and so is a constant vector or matrix added to one (`r -= &b`; scalars
    /// mix with duals as they are).
    fn lift_assigned(&self, place: &Place, op: AssignOp, value: &Operand, v: TokenStream) -> TokenStream {
        if !self.dual || !self.an.active[place_var(place)] || self.active(value).is_some() {
            return v;
        }
        let (r, sc) = (rt(), &self.scalar);
        match op {
            AssignOp::Set => quote!(#r::constant::<#sc, _>(#v)),
            AssignOp::Add | AssignOp::Sub if !self.copy(value) => {
                quote!(&#r::constant::<#sc, _>(::core::clone::Clone::clone(#v)))
            }
            AssignOp::Mul | AssignOp::Div if !self.an.copy[place_var(place)] => self.lifted(value),
            _ => v,
        }
    }

    /// `x_bar -= contribution` for an operand of any cotangent type.
    fn subtract(&self, o: &Operand, contribution: TokenStream) -> TokenStream {
        match self.active(o) {
            Some(v) => {
                let (r, b) = (rt(), self.bar_mut(v));
                quote!(#r::subtract(#b, &#contribution);)
            }
            None => quote!(),
        }
    }

    /// The reverse of `z = x op y` on vectors and matrices, through the runtime's rules:
    /// x̄ += z̄, ȳ ±= z̄ for sums; the product and quotient rules' own VJPs otherwise.
    fn propagate_generic(&self, op: BinOp, x: &Operand, y: &Operand, b: TokenStream) -> TokenStream {
        let r = rt();
        let pr = |o| primal::by_ref(self.f, &self.an.by_ref, o);
        let (xv, yv) = (pr(x), pr(y));
        match op {
            BinOp::Add => [self.acc(x, b.clone()), self.acc(y, b)].into_iter().collect(),
            BinOp::Sub => [self.acc(x, b.clone()), self.subtract(y, b)].into_iter().collect(),
            BinOp::Mul | BinOp::Div => {
                let (fa, fb) = if op == BinOp::Mul {
                    (quote!(mul_vjp_a), quote!(mul_vjp_b))
                } else {
                    (quote!(div_vjp_a), quote!(div_vjp_b))
                };
                let a = self.active(x).map(|v| {
                    let m = self.bar_mut(v);
                    quote!(#r::#fa(#xv, #yv, &#b, #m);)
                });
                let c = self.active(y).map(|v| {
                    let m = self.bar_mut(v);
                    quote!(#r::#fb(#xv, #yv, &#b, #m);)
                });
                quote!(#a #c)
            }
            BinOp::Rem | BinOp::Bits(_) => quote!(),
        }
    }

    fn is_needed(&self, v: VarId) -> bool {
        self.an.needed[v] && !self.f.vars[v].deferred
    }

    fn region(&self, stmts: &[&[Stmt]]) -> Region {
        let mut snapshot = Vec::new();
        let mut logged = Vec::new();
        for s in stmts {
            let (whole, indexed) = carried(s);
            for v in whole {
                if self.is_needed(v) && !self.an.accumulators[v] && !snapshot.contains(&v) {
                    snapshot.push(v);
                }
            }
            for v in indexed {
                if !self.an.needed[v] {
                    continue;
                }
                // Arrays that are also reassigned whole are snapshotted whole.
                let list = if self.an.reassigned[v] { &mut snapshot } else { &mut logged };
                if !list.contains(&v) {
                    list.push(v);
                }
            }
        }
        Region { snapshot, logged }
    }

    // ---- the forward sweep of regions: primal code that logs overwritten elements ---------------

    fn plain_block(&self, stmts: &[Stmt], logged: &HashSet<VarId>) -> TokenStream {
        stmts.iter().map(|s| self.plain(s, logged)).collect()
    }

    fn exit_check(&self, exit: &Option<Opaque>) -> TokenStream {
        match exit {
            Some(e) => {
                let e = self.opaque(e);
                quote!(if #e { break; })
            }
            None => quote!(),
        }
    }

    fn plain(&self, s: &Stmt, logged: &HashSet<VarId>) -> TokenStream {
        let f = self.f;
        match s {
            Stmt::Let { var, ty, init } => {
                let active = self.an.active[*var];
                let ty = if self.dual && active { ty.as_ref().map(|t| Box::new(dualize_type(t))) } else { ty.clone() };
                let b = primal::binding(f, *var, &ty, f.vars[*var].deferred);
                match init {
                    Some(e) if self.dual && active => {
                        let e = self.dual_expr(*var, e);
                        quote!(#b = #e;)
                    }
                    Some(Expr::Opaque(o)) => {
                        let e = self.opaque(o);
                        quote!(#b = #e;)
                    }
                    Some(e) => {
                        let e = primal::defining_expr(f, self.an, *var, e);
                        quote!(#b = #e;)
                    }
                    None => quote!(#b;),
                }
            }
            Stmt::Assign { place, op, value, .. } => {
                let (p, sym) = (primal::place(f, place), primal::assign_symbol(*op));
                let v = primal::assigned(f, &self.an.copy, &self.an.by_ref, *op, value, place_var(place));
                let v = self.lift_assigned(place, *op, value, v);
                let log = match place {
                    Place::Index(a, i) if logged.contains(a) => {
                        let (l, i, n) = (self.log(*a), self.op(i), self.name(*a));
                        quote!(#l.push((#i, #n[#i]));)
                    }
                    _ => quote!(),
                };
                quote!(#log #p #sym #v;)
            }
            Stmt::If { cond, then_branch, else_branch } => {
                let (c, t, e) =
                    (self.opaque(cond), self.plain_block(then_branch, logged), self.plain_block(else_branch, logged));
                quote!(if #c { #t } else { #e })
            }
            Stmt::Match { scrutinee, arms } => {
                let s = self.opaque(scrutinee);
                let arms = arms.iter().map(|a| {
                    let (p, b) = (&a.pat, self.plain_block(&a.body, logged));
                    let g = a.guard.as_ref().map(|g| {
                        let g = self.opaque(g);
                        quote!(if #g)
                    });
                    quote!(#p #g => { #b })
                });
                quote!(match #s { #(#arms)* })
            }
            Stmt::For { var, iter, body, exit } => {
                let (n, it, b, x) =
                    (self.name(*var), self.opaque(iter), self.plain_block(body, logged), self.exit_check(exit));
                quote!(for #n in #it { #b #x })
            }
            Stmt::While { cond, body, exit } => {
                let (c, b, x) = (self.opaque(cond), self.plain_block(body, logged), self.exit_check(exit));
                quote!(while #c { #b #x })
            }
            Stmt::Loop { body, exit } => {
                let (b, x) = (self.plain_block(body, logged), self.exit_check(exit));
                quote!(loop { #b #x })
            }
            Stmt::Break | Stmt::Continue | Stmt::Return(_) => unreachable!("normalised away"),
        }
    }

    /// The function's primal computation alone (the dual primal `__adjoint_dual_f` of callers' dual code).
    pub fn primal_body(&self, body: &[Stmt], result: &Operand) -> TokenStream {
        let code = self.plain_block(body, &HashSet::new());
        let value = primal::owned(self.f, &self.an.copy, result);
        let value = if self.dual {
            let r = rt();
            quote!(#r::lift(#value))
        } else {
            value
        };
        let storage = self.storage();
        quote!(#storage #code #value)
    }

    // ---- reversal of blocks ----------------------------------------------------------------------

    /// The adjoint of a block: its forward statements, the cotangents of what it defines, `middle`
    /// (the seed, at the top level), then the reverse of each statement, last first.
    pub fn block(&self, stmts: &[Stmt], middle: TokenStream) -> TokenStream {
        let pieces: Vec<(TokenStream, TokenStream)> = stmts.iter().map(|s| self.stmt(s)).collect();
        let forward = pieces.iter().map(|p| &p.0);
        let reverse = pieces.iter().rev().map(|p| &p.1);
        let r = rt();
        let bars = stmts.iter().filter_map(|s| match s {
            Stmt::Let { var, .. } if self.an.active[*var] => {
                let (n, b) = (self.name(*var), bar(self.name(*var)));
                Some(if self.an.by_ref[*var] {
                    quote!(let mut #b = #r::zero_owned(#n);)
                } else {
                    quote!(let mut #b = #r::bar_zero(&#n);)
                })
            }
            _ => None,
        });
        quote!(#(#forward)* #(#bars)* #middle #(#reverse)*)
    }

    /// The function's top-level block. When it ends with an accumulation loop whose accumulator is the
    /// result (`for i in .. { ..; s += e }` then `s`), the accumulator's cotangent is the output cotangent
    /// before the loop even runs, and the iterations' reverses do not depend on each other: each iteration's
    /// reverse then runs right after its forward, in one pass, instead of a forward sweep followed by a
    /// reverse sweep that recomputes the body (the value is still summed in forward order).
    ///
    /// Before: `for i in it { body } ... for i in it.rev() { body; reverse(body) }`
    /// After:  `s_bar = z_bar; for i in it { body; reverse(body) }`
    pub fn top_block(
        &self,
        stmts: &[Stmt],
        result: &Operand,
        z_bar: &Ident,
        value: TokenStream,
        seed: TokenStream,
    ) -> TokenStream {
        let unfused = || self.block(stmts, quote!(#value #seed));
        let Some((last, before)) = stmts.split_last() else { return unfused() };
        let Some(acc) = self.fusable_accumulation(last, result, before) else { return unfused() };
        let Stmt::For { var, iter, body, .. } = last else { unreachable!("checked") };
        let r = rt();
        let pieces: Vec<(TokenStream, TokenStream)> = before.iter().map(|s| self.stmt(s)).collect();
        let forward = pieces.iter().map(|p| &p.0);
        let reverse = pieces.iter().rev().map(|p| &p.1);
        let bars = before.iter().filter_map(|s| match s {
            Stmt::Let { var, .. } if self.an.active[*var] && *var != acc => {
                let (n, b) = (self.name(*var), bar(self.name(*var)));
                Some(quote!(let mut #b = #r::bar_zero(&#n);))
            }
            _ => None,
        });
        let (s, sb) = (self.name(acc), bar(self.name(acc)));
        let k = self.fresh();
        let it = aux("it", k);
        let (v, it_tokens) = (self.name(*var), &self.opaque(iter));
        let m = self.f.vars[*var].mutable.then(|| quote!(mut));
        let adj = self.block(body, quote!());
        quote! {
            #(#forward)*
            let mut #sb = #r::bar_zero(&#s);
            #r::accumulate(&mut #sb, &#z_bar);
            let #it = #it_tokens;
            for #m #v in #it { #adj }
            #(#bars)*
            #value
            #(#reverse)*
        }
    }

    /// The accumulator of a final loop that [`Self::top_block`] can fuse, if `last` is one.
    fn fusable_accumulation(&self, last: &Stmt, result: &Operand, before: &[Stmt]) -> Option<VarId> {
        let Stmt::For { body, exit: None, .. } = last else { return None };
        let acc = result.var().filter(|v| self.an.active[*v] && !self.an.needed[*v])?;
        let (whole, indexed) = carried(body);
        if whole != [acc] || !indexed.is_empty() {
            return None;
        }
        // The accumulator is only ever added to or subtracted from, never read, in the loop.
        let mut only_accumulated = true;
        let declared = crate::analyse::declared_in(body);
        let mut outer_active_reads = Vec::new();
        walk(body, &mut |s| match s {
            Stmt::Assign { place: Place::Var(v), op, value } if *v == acc => {
                only_accumulated &= matches!(op, AssignOp::Add | AssignOp::Sub) && value.var() != Some(acc);
            }
            Stmt::Let { init: Some(e), .. } => outer_active_reads.extend(e.reads()),
            Stmt::Assign { value, place, .. } => {
                outer_active_reads.extend(value.var());
                if let Place::Index(_, i) = place {
                    outer_active_reads.extend(i.var());
                }
            }
            _ => {}
        });
        // Every other differentiated value the loop reads is its own or a parameter, whose cotangents
        // exist before the loop runs.
        let param = |v: VarId| matches!(self.f.vars[v].origin, crate::ir::Origin::Param(_));
        let reads_ok =
            outer_active_reads.iter().all(|v| declared.contains(v) || !self.an.active[*v] || param(*v) || *v == acc);
        // Nested branches and loops re-run their bodies in the reverse, which must not add to the
        // accumulator a second time: it is only accumulated at the top level of the loop's body.
        let nested_writes = body.iter().any(|s| {
            !matches!(s, Stmt::Let { .. } | Stmt::Assign { .. }) && carried(std::slice::from_ref(s)).0.contains(&acc)
        });
        // The accumulator is declared before the loop by a `let` whose reverse needs nothing from it.
        let declared_before = before.iter().any(|s| matches!(s, Stmt::Let { var, .. } if *var == acc));
        (only_accumulated && reads_ok && declared_before && !nested_writes).then_some(acc)
    }

    fn stmt(&self, s: &Stmt) -> (TokenStream, TokenStream) {
        let f = self.f;
        let r = rt();
        match s {
            // `z = a.map(f)` keeps f′(a), computed with z in one pass, for its reverse.
            Stmt::Let { var, init: Some(Expr::Map { recv, other: None, closure }), .. }
                if self.an.active[*var] && self.active(recv).is_some() =>
            {
                let k = self.fresh();
                let (z, d, a) = (self.name(*var), aux("dmap", k), self.pr(recv));
                let jvp = self.closure_jvp(closure);
                let m = self.bar_mut(self.active(recv).expect("active"));
                let b = bar(z);
                // `mut`: the result may be written by index later (`allow(unused)` covers the other case).
                let fwd = quote!(let (mut #z, #d) = #r::map_with_derivative(#a, #jvp););
                (fwd, quote!(#r::component_mul_vjp(&#d, &#b, #m);))
            }
            Stmt::Let { var, init, .. } => {
                let fwd = self.plain(s, &HashSet::new());
                let rev = match init {
                    Some(e) if self.an.active[*var] && expr_active(e, &self.an.active) => {
                        let b = bar(self.name(*var));
                        self.propagate(e, *var, quote!(#b))
                    }
                    _ => quote!(),
                };
                (fwd, rev)
            }
            Stmt::Assign { place, op, value, .. } => self.assign(place, *op, value),
            Stmt::If { cond, then_branch, else_branch } => {
                let k = self.fresh();
                let c = aux("c", k);
                let cond = &self.opaque(cond);
                let region = self.region(&[then_branch, else_branch]);
                let (save, restore, logged) = self.region_entry(&region, k, false);
                let (t, e) = (self.plain_block(then_branch, &logged), self.plain_block(else_branch, &logged));
                let fwd = quote!(let #c: bool = #cond; #save if #c { #t } else { #e });
                let (tr, er) = (self.block(then_branch, quote!()), self.block(else_branch, quote!()));
                let rev = quote!(#restore if #c { #tr } else { #er });
                (fwd, rev)
            }
            Stmt::Match { scrutinee, arms } => {
                let k = self.fresh();
                let m = aux("m", k);
                let s = self.opaque(scrutinee);
                let bodies: Vec<&[Stmt]> = arms.iter().map(|a| a.body.as_slice()).collect();
                let region = self.region(&bodies);
                let (save, restore, logged) = self.region_entry(&region, k, false);
                let arm = |a: &Arm, body: TokenStream| {
                    let p = &a.pat;
                    let g = a.guard.as_ref().map(|g| {
                        let g = self.opaque(g);
                        quote!(if #g)
                    });
                    quote!(#p #g => { #body })
                };
                let fwd_arms = arms.iter().map(|a| arm(a, self.plain_block(&a.body, &logged)));
                let rev_arms = arms.iter().map(|a| arm(a, self.block(&a.body, quote!())));
                let fwd = quote!(let #m = #s; #save match ::core::clone::Clone::clone(&#m) { #(#fwd_arms)* });
                let rev = quote!(#restore match #m { #(#rev_arms)* });
                (fwd, rev)
            }
            Stmt::For { var, iter, body, exit } => {
                let k = self.fresh();
                let (it, n, kk) = (aux("it", k), aux("n", k), aux("k", k));
                let iter = &self.opaque(iter);
                let region = self.region(&[body]);
                let (push, pop, logged) = self.region_entry(&region, k, true);
                let reserve = self.reserve(&region, k, quote!(#it.size_hint().0));
                let v = self.name(*var);
                let m = f.vars[*var].mutable.then(|| quote!(mut));
                let (b, x) = (self.plain_block(body, &logged), self.exit_check(exit));
                // Only a loop that may leave early needs to count its iterations.
                let (count, step) = match exit {
                    Some(_) => (quote!(let mut #n = 0usize;), quote!(#n += 1;)),
                    None => (quote!(), quote!()),
                };
                let fwd = quote! {
                    let #it = #iter;
                    #count
                    #reserve
                    for #v in ::core::clone::Clone::clone(&#it) { #step #push #b #x }
                };
                let adj = self.block(body, quote!());
                // A loop that ran to completion replays its (double-ended) range backwards; one that
                // may have left early replays the iterations it counted.
                let rev = match exit {
                    None => quote!(for #m #v in ::core::clone::Clone::clone(&#it).rev() { #pop #adj }),
                    Some(_) => quote!(for #kk in (0..#n).rev() { let #m #v = #r::nth(&#it, #kk); #pop #adj }),
                };
                (fwd, rev)
            }
            Stmt::While { body, exit, .. } | Stmt::Loop { body, exit } => {
                let k = self.fresh();
                let n = aux("n", k);
                let region = self.region(&[body]);
                let (push, pop, logged) = self.region_entry(&region, k, true);
                let (b, x) = (self.plain_block(body, &logged), self.exit_check(exit));
                let head = match s {
                    Stmt::While { cond, .. } => {
                        let c = &self.opaque(cond);
                        quote!(while #c)
                    }
                    _ => quote!(loop),
                };
                let fwd = quote!(let mut #n = 0usize; #head { #n += 1; #push #b #x });
                let adj = self.block(body, quote!());
                let rev = quote!(for _ in 0..#n { #pop #adj });
                (fwd, rev)
            }
            Stmt::Break | Stmt::Continue | Stmt::Return(_) => unreachable!("normalised away"),
        }
    }

    fn reserve(&self, region: &Region, k: usize, hint: TokenStream) -> TokenStream {
        let tapes = region
            .snapshot
            .iter()
            .map(|v| aux(&format!("tape_{}_", self.name(*v)), k))
            .chain(region.logged.iter().map(|a| aux(&format!("marks_{}_", self.name(*a)), k)));
        quote!(#(#tapes.reserve(#hint);)*)
    }

    /// What a region emits at its entry and what its reverse emits before re-running it: snapshots
    /// and log marks, kept in locals (`in_loop = false`) or pushed on tapes (`in_loop = true`).
    fn region_entry(&self, region: &Region, k: usize, in_loop: bool) -> (TokenStream, TokenStream, HashSet<VarId>) {
        let r = rt();
        let mut save = TokenStream::new();
        let mut restore = TokenStream::new();
        for v in &region.snapshot {
            let n = self.name(*v);
            if in_loop {
                let t = self.tape(&format!("tape_{n}_"), k);
                save.extend(quote!(#t.push(::core::clone::Clone::clone(&#n));));
                restore.extend(quote!(#n = #r::pop(&mut #t);));
            } else {
                let s = aux(&format!("snap_{n}_"), k);
                save.extend(quote!(let #s = ::core::clone::Clone::clone(&#n);));
                restore.extend(quote!(#n = #s;));
            }
        }
        for a in &region.logged {
            let (n, log) = (self.name(*a), self.log(*a));
            if in_loop {
                let t = self.tape(&format!("marks_{n}_"), k);
                save.extend(quote!(#t.push(#log.len());));
                restore.extend(quote!(#r::undo_writes(&mut #n, &mut #log, #r::pop(&mut #t));));
            } else {
                let m = aux(&format!("mark_{n}_"), k);
                save.extend(quote!(let #m = #log.len();));
                restore.extend(quote!(#r::undo_writes(&mut #n, &mut #log, #m);));
            }
        }
        (save, restore, region.logged.iter().copied().collect())
    }

    fn assign(&self, place: &Place, op: AssignOp, value: &Operand) -> (TokenStream, TokenStream) {
        let f = self.f;
        let r = rt();
        let target = place_var(place);
        let p = primal::place(f, place);
        let sym = primal::assign_symbol(op);
        // A matrix scaled by a constant on duals: the constant is lifted (`acc *= Dual::constant(0.5)`).
        let v = if self.dual && !self.an.copy[target] && self.active(value).is_none() {
            self.lifted(value)
        } else {
            self.op(value)
        };
        let v_owned = primal::assigned(f, &self.an.copy, &self.an.by_ref, op, value, place_var(place));
        let v_owned = self.lift_assigned(place, op, value, v_owned);
        let k = self.fresh();
        let save = aux("s", k);
        let needs_save = self.is_needed(target) && !self.an.accumulators[target];
        let fwd_save = needs_save.then(|| quote!(let #save = ::core::clone::Clone::clone(&#p);));
        let restore = needs_save.then(|| quote!(#p = #save;));
        let fwd = quote!(#fwd_save #p #sym #v_owned;);
        if !self.an.active[target] {
            return (fwd, quote!(#restore));
        }
        let tb = bar(self.name(target));
        let pb = match place {
            Place::Var(_) => quote!(#tb),
            Place::Index(_, i) => {
                let i = self.op(i);
                quote!(#tb[#i])
            }
        };
        let rev = match op {
            AssignOp::Set => {
                let b = aux("b", k);
                let acc = self.acc(value, quote!(#b));
                quote!(let #b = #r::take(&mut #pb); #restore #acc)
            }
            // The target's cotangent is copied first, so that `v += v` reads it before adding to it.
            AssignOp::Add if !self.copy(value) => {
                let b = aux("b", k);
                let acc = self.acc(value, quote!(#b));
                quote!(#restore let #b = ::core::clone::Clone::clone(&#pb); #acc)
            }
            AssignOp::Sub if !self.copy(value) => {
                let b = aux("b", k);
                let acc = self.subtract(value, quote!(#b));
                quote!(#restore let #b = ::core::clone::Clone::clone(&#pb); #acc)
            }
            AssignOp::Add => {
                let acc = self.acc_scalar(value, quote!(#pb));
                quote!(#restore #acc)
            }
            AssignOp::Sub => {
                let acc = self.acc_scalar(value, quote!(-#pb));
                quote!(#restore #acc)
            }
            // The target's cotangent is read once before either update, so `t *= t` (the value is the
            // target itself) gets both contributions.
            AssignOp::Mul => {
                let b = aux("b", k);
                let acc = self.acc_scalar(value, quote!(#b * #p));
                quote!(#restore let #b = #pb; #pb = #b * #v; #acc)
            }
            AssignOp::Div => {
                let b = aux("b", k);
                let acc = self.acc_scalar(value, quote!(-(#b * #p / (#v * #v))));
                quote!(#restore let #b = #pb; #pb = #b / #v; #acc)
            }
        };
        (fwd, rev)
    }

    /// The reverse of `let v = e`: `v̄` (tokens `b`) flows into the operands of `e`.
    fn propagate(&self, e: &Expr, v: VarId, b: TokenStream) -> TokenStream {
        let r = rt();
        let f = self.f;
        let z = self.name(v);
        // Scalar formulas read values: a borrowed scalar field is dereferenced; on duals, float
        // constants are lifted so that the rules' arguments have one type.
        let op = |o: &Operand| match o {
            Operand::Const(c) if self.dual && is_float_literal(c) => quote!(#r::Dual::constant(#c)),
            _ => primal::value(self.f, &self.an.by_ref, o),
        };
        match e {
            Expr::Use(a) | Expr::Copied { operand: a, .. } => self.acc(a, b),
            Expr::Neg(a) if !self.copy(a) => self.subtract(a, b),
            Expr::Neg(a) => self.acc_scalar(a, quote!(-#b)),
            Expr::Bin(kind, x, y) if !(self.copy(x) && self.copy(y)) => self.propagate_generic(*kind, x, y, b),
            Expr::Bin(kind, x, y) => {
                let (xv, yv) = (op(x), op(y));
                match kind {
                    BinOp::Add => [self.acc_scalar(x, b.clone()), self.acc_scalar(y, b)].into_iter().collect(),
                    BinOp::Sub => {
                        [self.acc_scalar(x, b.clone()), self.acc_scalar(y, quote!(-#b))].into_iter().collect()
                    }
                    BinOp::Mul => [self.acc_scalar(x, quote!(#b * #yv)), self.acc_scalar(y, quote!(#xv * #b))]
                        .into_iter()
                        .collect(),
                    BinOp::Div => {
                        [self.acc_scalar(x, quote!(#b / #yv)), self.acc_scalar(y, quote!(-(#b * #xv / (#yv * #yv))))]
                            .into_iter()
                            .collect()
                    }
                    BinOp::Rem | BinOp::Bits(_) => quote!(),
                }
            }
            Expr::Method { name, recv, args } if MATRIX_METHODS.contains(&name.to_string().as_str()) => {
                self.matrix_propagate(&name.to_string(), recv, args, v, b)
            }
            Expr::Map { recv, other, closure } => {
                let r = rt();
                let jvp = self.closure_jvp(closure);
                let a = self.lifted_ref(recv);
                match other {
                    None => match self.active(recv) {
                        Some(av) => {
                            let m = self.bar_mut(av);
                            quote!(#r::map_vjp(#a, &#b, #m, #jvp);)
                        }
                        None => quote!(),
                    },
                    Some(o) => {
                        let ov = self.lifted_ref(o);
                        let side = |x: &Operand, first: bool| match self.active(x) {
                            Some(xv) => {
                                let m = self.bar_mut(xv);
                                quote!(#r::zip_map_vjp(#a, #ov, &#b, #m, #first, #jvp);)
                            }
                            None => quote!(),
                        };
                        let (s1, s2) = (side(recv, true), side(o, false));
                        quote!(#s1 #s2)
                    }
                }
            }
            Expr::FromElement { elem, .. } => match self.active(elem) {
                Some(ev) => {
                    let (r, eb) = (rt(), bar(self.name(ev)));
                    quote!(#r::from_element_vjp(&#b, &mut #eb);)
                }
                None => quote!(),
            },
            Expr::Method { name, recv, args } => {
                // Arguments of the rules' partials: on duals, constants are lifted to the rules' one type.
                let arg = |o: &Operand| {
                    let v = op(o);
                    if self.dual && self.active(o).is_none() {
                        quote!(#r::lift(#v))
                    } else {
                        v
                    }
                };
                let x = arg(recv);
                match name.to_string().as_str() {
                    "powi" => {
                        let n = arg(&args[0]);
                        self.acc_scalar(recv, quote!(#b * #r::d_powi(#x, #n)))
                    }
                    "powf" => {
                        let y = arg(&args[0]);
                        let a = self.acc_scalar(recv, quote!(#b * #r::d_powf_x(#x, #y)));
                        let c = self.acc_scalar(&args[0], quote!(#b * #r::d_powf_y(#x, #z)));
                        quote!(#a #c)
                    }
                    "atan2" => {
                        let a0 = arg(&args[0]);
                        let a = self.acc_scalar(recv, quote!(#b * #r::d_atan2_y(#x, #a0)));
                        let c = self.acc_scalar(&args[0], quote!(#b * #r::d_atan2_x(#x, #a0)));
                        quote!(#a #c)
                    }
                    "hypot" => {
                        let y = arg(&args[0]);
                        let a = self.acc_scalar(recv, quote!(#b * #r::d_hypot_x(#x, #z)));
                        let c = self.acc_scalar(&args[0], quote!(#b * #r::d_hypot_x(#y, #z)));
                        quote!(#a #c)
                    }
                    m @ ("max" | "min") => {
                        let y = arg(&args[0]);
                        let d = primal::partial(&format!("{m}_a"));
                        let a = self.acc_scalar(recv, quote!(#b * __d));
                        let c = self.acc_scalar(&args[0], quote!(#b * (1.0 - __d)));
                        quote!({ let __d = #r::#d(#x, #y); #a #c })
                    }
                    "mul_add" => {
                        let (x, a0) = (op(recv), op(&args[0]));
                        let a = self.acc_scalar(recv, quote!(#b * #a0));
                        let c = self.acc_scalar(&args[0], quote!(#x * #b));
                        let d = self.acc_scalar(&args[1], b.clone());
                        quote!(#a #c #d)
                    }
                    unary => {
                        let d = primal::partial(unary);
                        self.acc_scalar(recv, quote!(#b * #r::#d(#x, #z)))
                    }
                }
            }
            Expr::Cast { operand, .. } => {
                let x = op(operand);
                self.acc_scalar(operand, quote!(#r::cast_like(#b, #x)))
            }
            Expr::Index { base, fields, index } => {
                let (bb, i) = (bar(self.name(*base)), op(index));
                if self.an.active[*base] {
                    quote!(#bb #(.#fields)* [#i] += #b;)
                } else {
                    quote!()
                }
            }
            Expr::NamedField { base, field } => match self.active(base) {
                Some(bv) => {
                    let (r, bb) = (rt(), bar(self.name(bv)));
                    quote!(#r::accumulate(&mut #bb.#field, &#b);)
                }
                None => quote!(),
            },
            Expr::Call { path, args } => {
                let callee = primal::companion(path, if self.dual { vjp2_internal } else { vjp_internal });
                let (lift_slots, primals) = if self.dual {
                    self.dual_call_args(args)
                } else {
                    (TokenStream::new(), args.iter().map(|a| primal::call_arg(f, a)).collect())
                };
                // A variable passed twice gets a separate buffer for its second slot (two `&mut` of one
                // cotangent cannot coexist), added in after the call.
                let (mut seen, mut before, mut after) = (Vec::new(), TokenStream::new(), TokenStream::new());
                let slots: Vec<TokenStream> = args
                    .iter()
                    .map(|a| match self.active(&a.operand) {
                        Some(av) if seen.contains(&av) => {
                            let d = aux("dup", self.fresh());
                            let vb = bar(self.name(av));
                            let zero = if self.ref_bar[av] {
                                quote!(#r::zero_owned(&*#vb))
                            } else {
                                quote!(#r::bar_zero(&#vb))
                            };
                            let m = self.bar_mut(av);
                            before.extend(quote!(let mut #d = #zero;));
                            after.extend(quote!(#r::accumulate(#m, &#d);));
                            quote!(::core::option::Option::Some(&mut #d))
                        }
                        Some(av) => {
                            seen.push(av);
                            let m = self.bar_mut(av);
                            quote!(::core::option::Option::Some(#m))
                        }
                        None => quote!(::core::option::Option::None),
                    })
                    .collect();
                quote!({ #lift_slots #before #callee(#(#primals,)* ::core::clone::Clone::clone(&#b), #(#slots),*); #after })
            }
            Expr::Tuple(es) => es
                .iter()
                .enumerate()
                .map(|(k, e)| {
                    let k = syn::Index::from(k);
                    self.acc(e, quote!(#b.#k))
                })
                .collect(),
            Expr::Field(a, k) => match self.active(a) {
                Some(av) => {
                    let (ab, k) = (bar(self.name(av)), syn::Index::from(*k as usize));
                    quote!(#r::accumulate(&mut #ab.#k, &#b);)
                }
                None => quote!(),
            },
            Expr::Array { elems, .. } => elems
                .iter()
                .enumerate()
                .map(|(k, e)| {
                    let k = syn::Index::from(k);
                    self.acc_scalar(e, quote!(#b[#k]))
                })
                .collect(),
            Expr::Repeat { elem, .. } => {
                let x = op(elem);
                self.acc_scalar(elem, quote!(#r::sum(&#b, #x)))
            }
            Expr::Opaque(_) => quote!(),
        }
    }
}

/// Whether constant tokens are a float literal (`2.0`, `1e-3`, `0.5_f64`), which dual code lifts.
pub fn is_float_literal(c: &TokenStream) -> bool {
    matches!(syn::parse2::<syn::Lit>(c.clone()), Ok(syn::Lit::Float(_)))
}

/// The differentiated vectors a constant expression reads only by element (`v[i]`) or shape (`v.len()`):
/// dual code reads their elements' value parts in place (see `Adjoint::opaque`), without a copy.
fn element_reads(f: &Function, an: &Analysis, o: &Opaque) -> Vec<VarId> {
    let mut out = Vec::new();
    for &v in &o.reads {
        if an.active[v] && !an.copy[v] && !out.contains(&v) && only_elements_or_shape(&o.tokens, &f.name(v).to_string())
        {
            out.push(v);
        }
    }
    out
}

/// Whether every occurrence of `name` in the tokens is an element read (`name[..]`) or a shape query
/// (`name.len()`, `name.nrows()`, …).
fn only_elements_or_shape(tokens: &TokenStream, name: &str) -> bool {
    use proc_macro2::{Delimiter, TokenTree};
    const SHAPE: &[&str] = &["len", "is_empty", "nrows", "ncols", "shape"];
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    trees.iter().enumerate().all(|(k, t)| match t {
        TokenTree::Ident(i) if i == name => {
            let prev_dot = k > 0 && matches!(&trees[k - 1], TokenTree::Punct(p) if p.as_char() == '.');
            let indexed = matches!(trees.get(k + 1), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket);
            let shape = matches!(trees.get(k + 1), Some(TokenTree::Punct(p)) if p.as_char() == '.')
                && matches!(trees.get(k + 2), Some(TokenTree::Ident(m)) if SHAPE.iter().any(|s| m == s));
            prev_dot || indexed || shape
        }
        TokenTree::Group(g) => only_elements_or_shape(&g.stream(), name),
        _ => true,
    })
}

/// Tokens with every element read `v[..]` of the named vectors replaced by its value part `(v[..].re)`.
fn element_values(tokens: &TokenStream, names: &[Ident]) -> TokenStream {
    use proc_macro2::{Delimiter, Group, TokenTree};
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    let mut out = Vec::with_capacity(trees.len());
    let mut k = 0;
    while k < trees.len() {
        match (&trees[k], trees.get(k + 1)) {
            (TokenTree::Ident(i), Some(TokenTree::Group(g)))
                if g.delimiter() == Delimiter::Bracket && names.iter().any(|n| n == i) =>
            {
                let index = Group::new(Delimiter::Bracket, element_values(&g.stream(), names));
                out.push(TokenTree::Group(Group::new(Delimiter::Parenthesis, quote!(#i #index .re))));
                k += 2;
            }
            (TokenTree::Group(g), _) => {
                let mut inner = Group::new(g.delimiter(), element_values(&g.stream(), names));
                inner.set_span(g.span());
                out.push(TokenTree::Group(inner));
                k += 1;
            }
            (t, _) => {
                out.push(t.clone());
                k += 1;
            }
        }
    }
    out.into_iter().collect()
}

/// Closure tokens with every float literal lifted to a dual constant (`0.0` → `Dual::<f64>::constant(0.0)`):
/// on duals a `map` closure's values are duals, and `if v > 0.0 { v } else { 0.0 }` must have one type.
fn lift_float_literals(tokens: &TokenStream, scalar: &TokenStream) -> TokenStream {
    use proc_macro2::{Group, TokenTree};
    let r = rt();
    tokens
        .clone()
        .into_iter()
        .map(|t| match t {
            TokenTree::Group(g) => {
                let mut lifted = Group::new(g.delimiter(), lift_float_literals(&g.stream(), scalar));
                lifted.set_span(g.span());
                TokenTree::Group(lifted)
            }
            TokenTree::Literal(l) if is_float_literal(&TokenTree::Literal(l.clone()).into()) => {
                let lifted = quote!((#r::Dual::<#scalar>::constant(#l)));
                TokenTree::Group(Group::new(proc_macro2::Delimiter::None, lifted))
            }
            other => other,
        })
        .collect()
}

/// A type with `f64`/`f32` replaced by `Dual<f64>`/`Dual<f32>`: the parameter and result types of the
/// dual variants.
pub fn dualize_type(ty: &syn::Type) -> syn::Type {
    use syn::visit_mut::VisitMut;
    struct Dualize;
    impl VisitMut for Dualize {
        fn visit_type_mut(&mut self, t: &mut syn::Type) {
            if let syn::Type::Path(p) = t {
                if p.qself.is_none() && (p.path.is_ident("f64") || p.path.is_ident("f32")) {
                    let inner = p.clone();
                    *t = syn::parse_quote!(::adjoint::__private::Dual<#inner>);
                    return;
                }
            }
            syn::visit_mut::visit_type_mut(self, t);
        }
    }
    let mut t = ty.clone();
    Dualize.visit_type_mut(&mut t);
    t
}
