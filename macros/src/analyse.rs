//! Analyses on the IR: activity (which values carry derivatives) and need (which values the reverse
//! sweep must see as they were when the forward sweep used them).
//!
//! Activity is forward dependence on an active parameter, computed to a fixpoint over the whole body
//! (flow-insensitive, per variable, which is exact for the single-assignment temporaries and
//! conservative for mutable variables). Inactive values get no tangent and no cotangent: these are the
//! symbolic zeros.
//!
//! A value is *needed* if the reverse sweep reads it: an operand of a nonlinear operation, an index, a
//! condition or loop bound, an argument of a call, or anything a needed value is computed from. Every
//! inactive variable counts as needed (restoring an integer is cheap and keeps replayed control flow
//! exact). Overwrites of needed variables are saved and restored; overwrites of the others (the usual
//! accumulator `s += f(x[i])`) cost nothing.

use crate::ctxt::Ctxt;
use crate::ir::*;
use crate::lower::is_rule;
use crate::names::pretty;
use std::collections::HashSet;

/// What the signature says about a parameter.
#[derive(Clone, Copy)]
pub struct ParamFacts {
    pub active: bool,
    /// A reference (`&[f64]`, `&Vec<f64>`, `&[f64; N]`, `&DMatrix<f64>`, `&Params`).
    pub by_ref: bool,
    /// A reference to a slice, whose `.clone()` is the reference again (a slice is not `Clone`); the
    /// `.clone()` of any other reference is an owned value.
    pub slice_ref: bool,
    /// A scalar (float or integer): plain arithmetic applies and copies are free.
    pub copy: bool,
}

/// Methods whose result is a scalar whatever the receiver (reductions of vectors and matrices).
pub const SCALAR_RESULTS: &[&str] = &["dot", "norm", "norm_squared", "sum"];

pub struct Analysis {
    /// Values known to be scalars: their arithmetic is emitted as plain operators. Others (arrays,
    /// vectors, matrices, references to them, unknown types) go through the runtime's rules, and are
    /// cloned where the primal would move them, because the reverse sweep still reads them afterwards.
    pub copy: Vec<bool>,
    /// Values that are references to arrays (a reference parameter, or a copy of one); their cotangent
    /// is an owned array.
    pub by_ref: Vec<bool>,
    pub active: Vec<bool>,
    pub needed: Vec<bool>,
    /// Scalars only accumulated in loops whose intermediate values the reverse never reads (see
    /// [`loop_accumulators`]): no snapshots or restores inside those loops.
    pub accumulators: Vec<bool>,
    /// Variables reassigned as a whole somewhere after their declaration.
    pub reassigned: Vec<bool>,
}

pub fn analyse(cx: &Ctxt, f: &Function, body: &[Stmt], params: &[ParamFacts]) -> Analysis {
    let n = f.vars.len();
    let mut active = vec![false; n];
    let mut copy = vec![true; n];
    let mut by_ref = vec![false; n];
    let mut slice_ref = vec![false; n];
    for (v, info) in f.vars.iter().enumerate() {
        if let Origin::Param(i) = info.origin {
            active[v] = params[i].active;
            copy[v] = params[i].copy;
            by_ref[v] = params[i].by_ref;
            slice_ref[v] = params[i].slice_ref;
        }
    }
    // Copy-ness and reference-ness flow through copies, to a fixpoint.
    loop {
        let mut changed = false;
        walk(body, &mut |s| {
            let (target, value_copy, value_ref) = match s {
                Stmt::Let { var, init: Some(e), .. } => match e {
                    Expr::Use(Operand::Var(u)) => (*var, copy[*u], by_ref[*u]),
                    Expr::Copied { operand: Operand::Var(u), method } if method == "clone" => {
                        (*var, copy[*u], slice_ref[*u])
                    }
                    Expr::Method { name, recv, args } => {
                        let name = name.to_string();
                        let scalar_result = SCALAR_RESULTS.contains(&name.as_str());
                        let all_copy = std::iter::once(recv).chain(args).all(|o| o.var().is_none_or(|u| copy[u]));
                        (*var, scalar_result || (is_rule(&name) && all_copy), false)
                    }
                    Expr::Neg(a) => (*var, a.var().is_none_or(|u| copy[u]), false),
                    Expr::Bin(_, a, b) => (*var, [a, b].iter().all(|o| o.var().is_none_or(|u| copy[u])), false),
                    Expr::NamedField { .. } => (*var, false, true),
                    Expr::Use(_) | Expr::Cast { .. } | Expr::Index { .. } => (*var, true, false),
                    _ => (*var, false, false),
                },
                Stmt::Assign { place: Place::Var(t), op: AssignOp::Set, value, .. } => match value {
                    Operand::Var(u) => (*t, copy[*u], by_ref[*u]),
                    Operand::Const(_) => (*t, true, false),
                },
                _ => return,
            };
            if copy[target] && !value_copy {
                copy[target] = false;
                changed = true;
            }
            if !by_ref[target] && value_ref {
                by_ref[target] = true;
                changed = true;
            }
            // Only plain copies and `.clone()` of a slice reference are slice references again.
            let copied_ref = match s {
                Stmt::Let { init: Some(Expr::Use(Operand::Var(u))), .. } => Some(*u),
                Stmt::Let { init: Some(Expr::Copied { operand: Operand::Var(u), method }), .. }
                    if method == "clone" =>
                {
                    Some(*u)
                }
                _ => None,
            };
            if let Some(u) = copied_ref {
                if slice_ref[u] && !slice_ref[target] {
                    slice_ref[target] = true;
                    changed = true;
                }
            }
        });
        if !changed {
            break;
        }
    }
    // Activity: forward dependence, to a fixpoint.
    loop {
        let mut changed = false;
        walk(body, &mut |s| {
            let (target, is_active) = match s {
                Stmt::Let { var, init: Some(e), .. } => (*var, expr_active(e, &active)),
                Stmt::Assign { place, value, .. } => (place_var(place), operand_active(value, &active)),
                _ => return,
            };
            if is_active && !active[target] {
                active[target] = true;
                changed = true;
            }
        });
        if !changed {
            break;
        }
    }
    report_unsupported(cx, f, body, &active);

    let mut reassigned = vec![false; n];
    walk(body, &mut |s| {
        if let Stmt::Assign { place: Place::Var(v), .. } = s {
            if !f.vars[*v].deferred {
                reassigned[*v] = true;
            }
        }
    });

    // Need: direct reads by the reverse sweep, then everything needed values are computed from.
    let mut needed: Vec<bool> = active.iter().map(|a| !a).collect();
    let mark = |vs: &mut dyn Iterator<Item = VarId>, needed: &mut Vec<bool>| {
        for v in vs {
            needed[v] = true;
        }
    };
    walk(body, &mut |s| match s {
        Stmt::Let { var, init: Some(e), .. } if active[*var] => {
            let direct: Vec<VarId> = match e {
                // Scalar products: each factor's value is needed for the other's derivative only (a constant
                // factor's partner is not needed: `0.5 * s` reads no `s` in reverse); quotients need the
                // divisor for the numerator, and both for the divisor. Vector rules take both operands.
                Expr::Bin(op @ (BinOp::Mul | BinOp::Div), a, b)
                    if [a, b].iter().all(|o| o.var().is_none_or(|v| copy[v])) =>
                {
                    let is_active = |o: &Operand| o.var().is_some_and(|v| active[v]);
                    let reads: Vec<&Operand> = match op {
                        BinOp::Mul => [(a, b), (b, a)]
                            .into_iter()
                            .filter(|(partner, _)| is_active(partner))
                            .map(|(_, read)| read)
                            .collect(),
                        _ if is_active(b) => vec![a, b],
                        _ if is_active(a) => vec![b],
                        _ => vec![],
                    };
                    reads.into_iter().filter_map(Operand::var).collect()
                }
                Expr::Bin(BinOp::Mul | BinOp::Div, a, b) => [a, b].into_iter().filter_map(Operand::var).collect(),
                Expr::Method { .. } => {
                    let mut vs = e.reads();
                    vs.push(*var);
                    vs
                }
                Expr::Call { .. } | Expr::Map { .. } | Expr::FromElement { .. } => e.reads(),
                Expr::Index { index, .. } => index.var().into_iter().collect(),
                Expr::NamedField { .. } => vec![],
                Expr::Repeat { len, .. } => len.reads.clone(),
                Expr::Opaque(o) => o.reads.clone(),
                _ => vec![],
            };
            mark(&mut direct.into_iter(), &mut needed);
        }
        Stmt::Assign { place, op, value, .. } => {
            if matches!(op, AssignOp::Mul | AssignOp::Div) {
                mark(&mut std::iter::once(place_var(place)).chain(value.var()), &mut needed);
            }
            if let Place::Index(_, i) = place {
                mark(&mut i.var().into_iter(), &mut needed);
            }
        }
        Stmt::If { cond, .. } | Stmt::While { cond, .. } => mark(&mut cond.reads.iter().copied(), &mut needed),
        Stmt::Match { scrutinee, arms } => {
            mark(&mut scrutinee.reads.iter().copied(), &mut needed);
            for arm in arms {
                if let Some(g) = &arm.guard {
                    mark(&mut g.reads.iter().copied(), &mut needed);
                }
            }
        }
        Stmt::For { iter, exit, .. } => {
            mark(&mut iter.reads.iter().copied(), &mut needed);
            if let Some(e) = exit {
                mark(&mut e.reads.iter().copied(), &mut needed);
            }
        }
        _ => {}
    });
    walk(body, &mut |s| {
        if let Stmt::While { exit: Some(e), .. } | Stmt::Loop { exit: Some(e), .. } = s {
            for v in &e.reads {
                needed[*v] = true;
            }
        }
    });
    loop {
        let mut changed = false;
        walk(body, &mut |s| {
            let (target, reads): (VarId, Vec<VarId>) = match s {
                Stmt::Let { var, init: Some(e), .. } => {
                    let mut r = e.reads();
                    if let Expr::Index { base, .. } = e {
                        r.push(*base);
                    }
                    (*var, r)
                }
                Stmt::Assign { place, value, .. } => (place_var(place), value.var().into_iter().collect()),
                _ => return,
            };
            if needed[target] {
                for r in reads {
                    if !needed[r] {
                        needed[r] = true;
                        changed = true;
                    }
                }
            }
        });
        if !changed {
            break;
        }
    }
    let mut an = Analysis { copy, by_ref, active, needed, reassigned, accumulators: Vec::new() };
    an.accumulators = loop_accumulators(f, body, &an);
    an
}

pub fn place_var(p: &Place) -> VarId {
    match p {
        Place::Var(v) | Place::Index(v, _) => *v,
    }
}

pub fn operand_active(o: &Operand, active: &[bool]) -> bool {
    o.var().is_some_and(|v| active[v])
}

pub fn expr_active(e: &Expr, active: &[bool]) -> bool {
    match e {
        Expr::Opaque(_) => false,
        Expr::Cast { to_float: false, .. } | Expr::Bin(BinOp::Bits(_), ..) => false,
        Expr::Index { base, .. } => active[*base],
        _ => e.operands().into_iter().any(|o| operand_active(o, active)),
    }
}

/// Operations on active values that have no derivative rule.
fn report_unsupported(cx: &Ctxt, f: &Function, body: &[Stmt], active: &[bool]) {
    walk(body, &mut |s| {
        let Stmt::Let { var, init: Some(e), .. } = s else { return };
        let info = &f.vars[*var];
        let at = |message: String| match &info.source {
            Some(tokens) => cx.error_spanned_by(tokens, message),
            None => cx.error_at(info.span, message),
        };
        let any_active = e.operands().into_iter().any(|o| operand_active(o, active));
        match e {
            Expr::Method { name, .. } if any_active && !is_rule(&name.to_string()) => cx.error_at(
                name.span(),
                format!(
                    "method `.{name}()` has no derivative rule; use the supported float methods, wrap the value in \
                     `no_grad(..)`, or give the function a custom derivative"
                ),
            ),
            Expr::Method { name, args, .. }
                if name == "powi" && args.first().is_some_and(|a| operand_active(a, active)) =>
            {
                cx.error_at(name.span(), "the exponent of `powi` must be an integer; use `powf` for a real exponent")
            }
            Expr::Cast { operand, ty, to_float: false } if operand_active(operand, active) => at(format!(
                "casting a differentiated value to `{}` would silently drop its derivative; write \
                     `no_grad(x) as {}` if that is what you mean",
                pretty(ty),
                pretty(ty)
            )),
            Expr::Map { closure, .. } => {
                for c in closure.captures.iter().filter(|c| active[**c]) {
                    at(format!(
                        "this closure reads `{}`, which is differentiated; a `map` closure may only read its \
                         parameters and constants: combine the values with `zip_map` instead",
                        f.vars[*c].name
                    ));
                }
            }
            Expr::Bin(BinOp::Rem, ..) if any_active => {
                at("`%` of a differentiated value is not supported; use `no_grad(..)` or rewrite with `floor`".into())
            }
            Expr::Bin(BinOp::Bits(op), ..) if any_active => {
                at(format!("operator `{op}` cannot be applied to a differentiated value"))
            }
            _ => {}
        }
    });
}

/// Variables declared (by `let` or as a loop variable) anywhere inside `stmts`.
pub fn declared_in(stmts: &[Stmt]) -> HashSet<VarId> {
    let mut out = HashSet::new();
    walk(stmts, &mut |s| match s {
        Stmt::Let { var, .. } | Stmt::For { var, .. } => {
            out.insert(*var);
        }
        _ => {}
    });
    out
}

/// Variables from outside `stmts` that `stmts` overwrite: (reassigned as a whole, written by index).
pub fn carried(stmts: &[Stmt]) -> (Vec<VarId>, Vec<VarId>) {
    let declared = declared_in(stmts);
    let (mut whole, mut indexed) = (Vec::new(), Vec::new());
    walk(stmts, &mut |s| {
        if let Stmt::Assign { place, .. } = s {
            let (v, list) = match place {
                Place::Var(v) => (*v, &mut whole),
                Place::Index(v, _) => (*v, &mut indexed),
            };
            if !declared.contains(&v) && !list.contains(&v) {
                list.push(v);
            }
        }
    });
    (whole, indexed)
}

/// Differentiated scalars whose values inside the loops that accumulate them are never needed: `let mut z =
/// ..;` followed, in the same block, by loops that only do `z += e` / `z -= e` (with `e` not reading `z`)
/// and nothing else with `z` until the last of them. The reverse sweep reads `z` only after those loops
/// (where its final value is current), so a loop replaying its iterations need not snapshot `z`, nor
/// restore it around each update — the inner product of a dense layer, `z += x[i * d + j] * w[j]`, then
/// costs no tape.
fn loop_accumulators(f: &Function, body: &[Stmt], an: &Analysis) -> Vec<bool> {
    let mut free = vec![false; f.vars.len()];
    visit_blocks(body, &mut |block| {
        for (p, s) in block.iter().enumerate() {
            let Stmt::Let { var: v, init, .. } = s else { continue };
            let v = *v;
            if !an.active[v] || !an.copy[v] || an.by_ref[v] || f.vars[v].deferred {
                continue;
            }
            // The definition's own reverse must not read the value it defines (`v = t.exp()` does:
            // d_exp(t, v)), since after the loops' reverse `v` holds its final value, not that one.
            let reads_own_value = !matches!(
                init,
                None | Some(
                    Expr::Use(_)
                        | Expr::Copied { .. }
                        | Expr::Neg(_)
                        | Expr::Bin(..)
                        | Expr::Index { .. }
                        | Expr::Opaque(_)
                )
            );
            if reads_own_value {
                continue;
            }
            // The loops after the declaration that write `v`; every write must be in one of them.
            let rest = &block[p + 1..];
            let writes_in = |s: &Stmt| {
                let mut w = false;
                walk(std::slice::from_ref(s), &mut |t| {
                    if matches!(t, Stmt::Assign { place: Place::Var(u), .. } if *u == v) {
                        w = true;
                    }
                });
                w
            };
            let Some(last) = rest.iter().rposition(writes_in) else { continue };
            let ok = rest[..=last].iter().all(|s| {
                let is_loop = matches!(s, Stmt::For { .. } | Stmt::While { .. } | Stmt::Loop { .. });
                if is_loop && writes_in(s) {
                    only_accumulates(s, v)
                } else {
                    !writes_in(s) && !reads_at_all(s, v)
                }
            });
            if ok {
                free[v] = true;
            }
        }
    });
    free
}

/// Calls `f` on every block (statement list), outermost first.
fn visit_blocks<'a>(stmts: &'a [Stmt], f: &mut impl FnMut(&'a [Stmt])) {
    f(stmts);
    for s in stmts {
        for block in children(s) {
            visit_blocks(block, f);
        }
    }
}

/// Whether, inside loop `s`, `v` is only updated by `v += e` / `v -= e` with `e` not `v`, and read nowhere
/// else (loop bounds, conditions, other statements).
fn only_accumulates(s: &Stmt, v: VarId) -> bool {
    let mut ok = true;
    walk(std::slice::from_ref(s), &mut |t| match t {
        Stmt::Assign { place: Place::Var(u), op, value } if *u == v => {
            ok &= matches!(op, AssignOp::Add | AssignOp::Sub) && value.var() != Some(v);
        }
        t => ok &= !direct_reads(t).contains(&v),
    });
    ok
}

/// Whether statement `s` (with everything nested in it) reads or writes `v`.
fn reads_at_all(s: &Stmt, v: VarId) -> bool {
    let mut hit = false;
    walk(std::slice::from_ref(s), &mut |t| {
        hit |= direct_reads(t).contains(&v) || matches!(t, Stmt::Assign { place, .. } if place_var(place) == v);
    });
    hit
}

/// The variables a statement reads itself (not in nested blocks).
fn direct_reads(s: &Stmt) -> Vec<VarId> {
    match s {
        Stmt::Let { init: Some(e), .. } => e.reads(),
        Stmt::Let { init: None, .. } => vec![],
        Stmt::Assign { place, op, value } => {
            let mut r: Vec<VarId> = value.var().into_iter().collect();
            if let Place::Index(_, i) = place {
                r.extend(i.var());
            }
            if *op != AssignOp::Set {
                r.push(place_var(place));
            }
            r
        }
        Stmt::If { cond, .. } | Stmt::While { cond, exit: None, .. } => cond.reads.clone(),
        Stmt::While { cond, exit: Some(e), .. } => cond.reads.iter().chain(&e.reads).copied().collect(),
        Stmt::Match { scrutinee, arms } => scrutinee
            .reads
            .iter()
            .chain(arms.iter().filter_map(|a| a.guard.as_ref()).flat_map(|g| &g.reads))
            .copied()
            .collect(),
        Stmt::For { iter, exit, .. } => iter.reads.iter().chain(exit.iter().flat_map(|e| &e.reads)).copied().collect(),
        Stmt::Loop { exit, .. } => exit.iter().flat_map(|e| e.reads.clone()).collect(),
        Stmt::Break | Stmt::Continue => vec![],
        Stmt::Return(o) => o.var().into_iter().collect(),
    }
}
