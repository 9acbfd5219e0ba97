//! Single-exit normalisation, for the reverse sweep.
//!
//! The adjoint transform only handles structured, single-exit code. This IR-to-IR pass removes
//! `break`, `continue` and `return`: each sets a flag (`__brkK`, `__contK`, `__done`), the statements after
//! one that may set a flag are guarded by `if !(flags) { .. }`, loops test their exit flags at the end of
//! each iteration, and `return v` assigns the function's result variable.
//!
//! Before:
//! ```text
//! for i in 0..n { if x[i] < 0.0 { return s; } s += x[i]; }
//! s
//! ```
//! After:
//! ```text
//! let mut __done = false; let mut __result = placeholder();
//! for i in 0..n {
//!     if x[i] < 0.0 { __result = s; __done = true; }
//!     if !(__done) { s += x[i]; }
//!     exit if __done
//! }
//! if !(__done) { __result = s; }
//! result __result
//! ```

use crate::ir::*;
use proc_macro2::{Ident, Span};
use quote::quote;

struct Normalizer<'a> {
    vars: &'a mut Vec<VarInfo>,
    done: Option<VarId>,
    result: Option<VarId>,
    counter: usize,
}

#[derive(Clone, Copy, Default)]
struct LoopFlags {
    brk: Option<VarId>,
    cont: Option<VarId>,
}

/// Returns the single-exit body and the operand holding the function's value.
pub fn normalize(f: &mut Function, ret_ty: &syn::Type) -> (Vec<Stmt>, Operand) {
    let mut body = f.body.clone();
    let has_return = contains(&body, &|s| matches!(s, Stmt::Return(_)), true);
    if !has_return {
        let result = f.tail.clone().unwrap_or(Operand::Const(quote!(unreachable!())));
        let mut n = Normalizer { vars: &mut f.vars, done: None, result: None, counter: 0 };
        return (n.block(body, LoopFlags::default()), result);
    }
    let mut n = Normalizer { vars: &mut f.vars, done: None, result: None, counter: 0 };
    let done = n.flag("__done");
    let result = n.flag("__result");
    n.done = Some(done);
    n.result = Some(result);
    if let Some(t) = f.tail.clone() {
        body.push(Stmt::Return(t));
    }
    let mut out = vec![
        Stmt::Let { var: done, ty: None, init: Some(Expr::Opaque(Opaque { tokens: quote!(false), reads: vec![] })) },
        Stmt::Let {
            var: result,
            ty: Some(Box::new(ret_ty.clone())),
            init: Some(Expr::Opaque(Opaque {
                tokens: quote!(::adjoint::__private::Placeholder::placeholder()),
                reads: vec![],
            })),
        },
    ];
    out.extend(n.block(body, LoopFlags::default()));
    (out, Operand::Var(result))
}

/// Whether any statement satisfies `p`; `into_loops` decides whether nested loop bodies are searched.
fn contains(stmts: &[Stmt], p: &dyn Fn(&Stmt) -> bool, into_loops: bool) -> bool {
    stmts.iter().any(|s| {
        p(s) || match s {
            Stmt::For { .. } | Stmt::While { .. } | Stmt::Loop { .. } if !into_loops => false,
            _ => children(s).into_iter().any(|b| contains(b, p, into_loops)),
        }
    })
}

impl Normalizer<'_> {
    fn flag(&mut self, what: &str) -> VarId {
        let name = if what == "__done" || what == "__result" {
            Ident::new(what, Span::call_site())
        } else {
            self.counter += 1;
            crate::names::aux(what, self.counter)
        };
        let span = Span::call_site();
        self.vars.push(VarInfo { name, span, mutable: true, deferred: false, origin: Origin::Flag, source: None });
        self.vars.len() - 1
    }

    fn set(&self, v: VarId, value: Operand) -> Stmt {
        Stmt::Assign { place: Place::Var(v), op: AssignOp::Set, value }
    }

    /// The flags a statement may set that end the current block early.
    fn exits(&self, s: &Stmt, flags: LoopFlags) -> Vec<VarId> {
        let one = [s.clone()];
        let mut out = Vec::new();
        if let Some(b) = flags.brk {
            if matches!(s, Stmt::Break) || (!is_loop(s) && contains(&one, &|s| matches!(s, Stmt::Break), false)) {
                out.push(b);
            }
        }
        if let Some(c) = flags.cont {
            if matches!(s, Stmt::Continue) || (!is_loop(s) && contains(&one, &|s| matches!(s, Stmt::Continue), false)) {
                out.push(c);
            }
        }
        if let Some(d) = self.done {
            if contains(&one, &|s| matches!(s, Stmt::Return(_)), true) {
                out.push(d);
            }
        }
        out
    }

    fn guard(&self, flags: &[VarId]) -> Opaque {
        let names: Vec<&Ident> = flags.iter().map(|v| &self.vars[*v].name).collect();
        Opaque { tokens: quote!(!(#(#names)||*)), reads: flags.to_vec() }
    }

    fn block(&mut self, stmts: Vec<Stmt>, flags: LoopFlags) -> Vec<Stmt> {
        let mut out = Vec::new();
        let mut rest = stmts.into_iter();
        while let Some(s) = rest.next() {
            let exits = self.exits(&s, flags);
            out.extend(self.stmt(s, flags));
            if !exits.is_empty() {
                let remaining: Vec<Stmt> = rest.collect();
                if !remaining.is_empty() {
                    let cond = self.guard(&exits);
                    let then_branch = self.block(remaining, flags);
                    out.push(Stmt::If { cond, then_branch, else_branch: vec![] });
                }
                break;
            }
        }
        out
    }

    fn stmt(&mut self, s: Stmt, flags: LoopFlags) -> Vec<Stmt> {
        let yes = || Operand::Const(quote!(true));
        match s {
            Stmt::Break => vec![self.set(flags.brk.expect("break inside a loop"), yes())],
            Stmt::Continue => vec![self.set(flags.cont.expect("continue inside a loop"), yes())],
            Stmt::Return(v) => {
                vec![self.set(self.result.expect("result variable"), v), self.set(self.done.expect("done flag"), yes())]
            }
            Stmt::If { cond, then_branch, else_branch } => vec![Stmt::If {
                cond,
                then_branch: self.block(then_branch, flags),
                else_branch: self.block(else_branch, flags),
            }],
            Stmt::Match { scrutinee, arms } => vec![Stmt::Match {
                scrutinee,
                arms: arms.into_iter().map(|a| Arm { body: self.block(a.body, flags), ..a }).collect(),
            }],
            Stmt::For { var, iter, body, .. } => {
                let (body, exit) = self.loop_body(body);
                vec![Stmt::For { var, iter, body, exit }]
            }
            Stmt::While { cond, body, .. } => {
                let (body, exit) = self.loop_body(body);
                vec![Stmt::While { cond, body, exit }]
            }
            Stmt::Loop { body, .. } => {
                let (body, exit) = self.loop_body(body);
                vec![Stmt::Loop { body, exit }]
            }
            other => vec![other],
        }
    }

    fn loop_body(&mut self, body: Vec<Stmt>) -> (Vec<Stmt>, Option<Opaque>) {
        let has_break = contains(&body, &|s| matches!(s, Stmt::Break), false);
        let has_continue = contains(&body, &|s| matches!(s, Stmt::Continue), false);
        let no = || Some(Expr::Opaque(Opaque { tokens: quote!(false), reads: vec![] }));
        let mut out = Vec::new();
        let flags =
            LoopFlags { brk: has_break.then(|| self.flag("brk")), cont: has_continue.then(|| self.flag("cont")) };
        for f in [flags.brk, flags.cont].into_iter().flatten() {
            out.push(Stmt::Let { var: f, ty: None, init: no() });
        }
        out.extend(self.block(body, flags));
        let mut exit_flags: Vec<VarId> = flags.brk.into_iter().collect();
        if let Some(d) = self.done {
            if contains(&out, &|s| matches!(s, Stmt::Assign { place: Place::Var(v), .. } if *v == d), true) {
                exit_flags.push(d);
            }
        }
        let exit = (!exit_flags.is_empty()).then(|| {
            let names: Vec<&Ident> = exit_flags.iter().map(|v| &self.vars[*v].name).collect();
            Opaque { tokens: quote!(#(#names)||*), reads: exit_flags.clone() }
        });
        (out, exit)
    }
}

fn is_loop(s: &Stmt) -> bool {
    matches!(s, Stmt::For { .. } | Stmt::While { .. } | Stmt::Loop { .. })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lower::tests::lowered;

    #[test]
    fn returns_and_breaks_become_flags_and_guards() {
        let (mut f, _) = lowered(
            "fn f(x: &[f64]) -> f64 { let mut s = 0.0; for i in 0..x.len() { if x[i] < 0.0 { return s; } if s > 9.0 { break; } s += x[i]; } s }",
        );
        let ret: syn::Type = syn::parse_quote!(f64);
        let (body, result) = normalize(&mut f, &ret);
        let text = Display { function: &f, body: &body, result: Some(&result) }.to_string();
        let expected = "\
let mut __done = const { false }
let mut __result = const { :: adjoint :: __private :: Placeholder :: placeholder () }
let mut s = 0.0
for i in 0 .. x . len () {
    let mut __brk1 = const { false }
    if x [i] < 0.0 {
        __result = s
        __done = true
    }
    if ! (__done) {
        if s > 9.0 {
            __brk1 = true
        }
        if ! (__brk1) {
            let __t1 = x[i]
            s += __t1
        }
    }
    exit if __brk1 || __done
}
if ! (__done) {
    __result = s
    __done = true
}
result __result
";
        assert_eq!(text, expected);
    }
}
