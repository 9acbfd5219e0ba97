//! Shrinking a failing unit to a minimal reproducer, on the AST (delta debugging, greedy).
//!
//! [`variants`] lists every one-step reduction of a unit: delete a statement, replace a statement by one
//! of its blocks (unwrap an `if`, a loop, a `match` arm), drop an `else`, run a loop once, keep one side
//! of a `&&`, replace a condition by `true`/`false`, replace an expression by one of its operands, by a
//! constant or by an input, drop a parameter (`x.len()` one less), and drop helpers no longer called.
//! [`shrink`] repeatedly keeps the smallest variant that still fails the same way, until none does.
//! The predicate takes a whole chunk of candidates at once, because checking one means compiling it:
//! the `difftest` binary builds a chunk as one crate (each candidate renamed apart by [`renamed`]).

use crate::ast::*;
use crate::generator::Unit;

/// A size that every accepted reduction makes strictly smaller (so shrinking terminates): the number of
/// AST nodes, then the length of the printed source, then the source itself.
pub fn size_key(u: &Unit) -> (usize, usize, String) {
    let src = source(u);
    (u.functions.iter().map(|f| f.size() + f.dim()).sum(), src.len(), src)
}

/// The unit's functions as Rust source.
pub fn source(u: &Unit) -> String {
    let mut s = String::new();
    for f in &u.functions {
        f.print(&mut s);
    }
    s
}

/// Applies `edit` to the `k`-th statement (preorder over nested blocks) of `body`, given its list and its
/// index there. `None` if there are fewer statements, else whether the edit applied.
fn edit_stmt(body: &mut Vec<Stmt>, k: &mut usize, edit: &mut dyn FnMut(&mut Vec<Stmt>, usize) -> bool) -> Option<bool> {
    for i in 0..body.len() {
        if *k == 0 {
            return Some(edit(body, i));
        }
        *k -= 1;
        for b in body[i].blocks_mut() {
            if let Some(r) = edit_stmt(b, k, edit) {
                return Some(r);
            }
        }
    }
    None
}

/// Applies `edit` to the `k`-th expression (preorder, conditions' operands included) of `e`.
fn edit_expr(e: &mut Expr, k: &mut usize, edit: &mut dyn FnMut(&mut Expr) -> bool) -> Option<bool> {
    if *k == 0 {
        return Some(edit(e));
    }
    *k -= 1;
    for c in e.children_mut() {
        if let Some(r) = edit_expr(c, k, edit) {
            return Some(r);
        }
    }
    None
}

/// Applies `edit` to the `k`-th expression of a function: statements in order, then the tail.
fn edit_fn_expr(f: &mut Function, k: &mut usize, edit: &mut dyn FnMut(&mut Expr) -> bool) -> Option<bool> {
    fn stmts(b: &mut [Stmt], k: &mut usize, edit: &mut dyn FnMut(&mut Expr) -> bool) -> Option<bool> {
        for s in b {
            for e in s.exprs_mut() {
                if let Some(r) = edit_expr(e, k, edit) {
                    return Some(r);
                }
            }
            for blk in s.blocks_mut() {
                if let Some(r) = stmts(blk, k, edit) {
                    return Some(r);
                }
            }
        }
        None
    }
    stmts(&mut f.body, k, edit).or_else(|| edit_expr(&mut f.tail, k, edit))
}

/// Calls `visit` on every expression of `f`, mutably (the tree below an expression after `visit`).
pub fn visit_exprs_mut(f: &mut Function, visit: &mut dyn FnMut(&mut Expr)) {
    let mut k = 0;
    loop {
        let mut target = k;
        let hit = edit_fn_expr(f, &mut target, &mut |e| {
            visit(e);
            true
        });
        if hit.is_none() {
            return;
        }
        k += 1;
    }
}

/// The condition of a statement, if it has one.
fn cond_mut(s: &mut Stmt) -> Option<&mut Cond> {
    match s {
        Stmt::If { cond, .. } | Stmt::While { cond, .. } => Some(cond),
        Stmt::IfBreak(c) | Stmt::IfContinue(c) | Stmt::IfReturn(c, _) => Some(c),
        _ => None,
    }
}

/// The same unit with its functions renamed for unit number `u` (`f_7` → `f_u`, `g_7_1` → `g_u_1`), so
/// that several candidates can be compiled side by side.
pub fn renamed(unit: &Unit, u: usize) -> Unit {
    let rename = |name: &str| -> String {
        if let Some(rest) = name.strip_prefix("g_") {
            let j = rest.rsplit('_').next().unwrap_or("0");
            format!("g_{u}_{j}")
        } else if name.starts_with("f_") {
            format!("f_{u}")
        } else {
            name.to_string()
        }
    };
    let mut out = unit.clone();
    for f in &mut out.functions {
        f.name = rename(&f.name);
        visit_exprs_mut(f, &mut |e| {
            if let Expr::Call(g, _) = e {
                *g = rename(g);
            }
        });
    }
    out
}

/// Removes helpers that no later function calls.
fn prune_helpers(u: &mut Unit) {
    loop {
        let n = u.functions.len();
        let called = |name: &str, fs: &[Function]| {
            fs.iter().any(|f| {
                let mut hit = false;
                f.visit_exprs(&mut |e| {
                    if let Expr::Call(g, _) = e {
                        hit |= g == name;
                    }
                });
                hit
            })
        };
        let dead = (0..n.saturating_sub(1)).find(|&i| !called(&u.functions[i].name, &u.functions[i + 1..]));
        match dead {
            Some(i) => {
                u.functions.remove(i);
            }
            None => return,
        }
    }
}

/// An input of `f` as an expression (`x[0]`, `a`).
fn input_of(f: &Function) -> Expr {
    match f.params {
        Params::Slice(_) | Params::Linalg { .. } => Expr::Index("x".into(), "0".into()),
        Params::Pair => Expr::Leaf("a".into()),
    }
}

/// A replacement of an expression (`None`: does not apply).
type Replacement = Box<dyn Fn(&Expr) -> Option<Expr>>;

/// Every one-step reduction of a vector expression: a node replaced by an operand of the same length.
fn vexpr_variants(v: &VExpr) -> Vec<VExpr> {
    let mut out: Vec<VExpr> = match v {
        VExpr::Add(_, a, b) | VExpr::ComponentMul(a, b) | VExpr::ZipMap(_, a, b) => vec![(**a).clone(), (**b).clone()],
        VExpr::Scale(_, a) | VExpr::AddScalar(a, _) | VExpr::Map(_, a) => vec![(**a).clone()],
        VExpr::Var(_) | VExpr::MatVec(..) => vec![],
    };
    let n = v.clone().vchildren_mut().len();
    for i in 0..n {
        let child = v.clone().vchildren_mut()[i].clone();
        for cv in vexpr_variants(&child) {
            let mut w = v.clone();
            *w.vchildren_mut()[i] = cv;
            out.push(w);
        }
    }
    out
}

/// Methods defined on part of the line only: the generator keeps their arguments in their domains with a
/// guard (`0.5 + e.powi(2)`, `0.9 * e.tanh()`), which the shrinker must not take apart.
const RESTRICTED: &[&str] =
    &["ln", "log2", "log10", "sqrt", "recip", "asin", "acos", "atanh", "acosh", "ln_1p", "powf", "tan"];

/// Number of nodes as [`edit_expr`] counts them.
fn count(e: &mut Expr) -> usize {
    1 + e.children_mut().into_iter().map(count).sum::<usize>()
}

/// The preorder indices (as [`edit_fn_expr`] numbers them) of domain guards and their operands: the
/// receiver of a [`RESTRICTED`] method, the base of a negative `powi`, a denominator, the second argument
/// of `atan2` and `hypot` (kept off the origin), and their direct operands. Shrinking replaces whole guarded calls, or expressions inside the guarded `e`, never a guard.
fn frozen(f: &Function) -> std::collections::HashSet<usize> {
    let mut out = std::collections::HashSet::new();
    let mut g = f.clone();
    let mut k = 0;
    loop {
        let mut target = k;
        let mut guarded: Option<usize> = None; // offset of the guarded operand from node k
        let hit = edit_fn_expr(&mut g, &mut target, &mut |e| {
            guarded = match e {
                Expr::Method(name, _, _) if RESTRICTED.contains(name) => Some(1),
                Expr::Assoc(name, _) if RESTRICTED.contains(name) => Some(1),
                Expr::Powi(_, p) if *p < 0 => Some(1),
                Expr::Bin('/', l, _) => Some(1 + count(l)),
                Expr::Method("atan2" | "hypot", r, _) => Some(1 + count(r)),
                _ => None,
            };
            true
        });
        if hit.is_none() {
            return out;
        }
        if let Some(off) = guarded {
            let r = k + off;
            out.insert(r);
            // The guard's own operands.
            let mut probe = g.clone();
            let mut t = r;
            let mut sizes = Vec::new();
            edit_fn_expr(&mut probe, &mut t, &mut |e| {
                sizes = e.children_mut().into_iter().map(count).collect();
                true
            });
            let mut at = r + 1;
            for s in sizes {
                out.insert(at);
                at += s;
            }
        }
        k += 1;
    }
}

/// Every function-level edit of `f`, as the list of edited copies.
fn function_variants(f: &Function) -> Vec<Function> {
    let mut out = Vec::new();
    let push = |g: Function, out: &mut Vec<Function>| {
        if g != *f {
            out.push(g);
        }
    };
    // Statement edits.
    type StmtEdit = Box<dyn Fn(&mut Vec<Stmt>, usize) -> bool>;
    let mut edits: Vec<StmtEdit> = vec![
        Box::new(|b, i| {
            b.remove(i);
            true
        }),
        Box::new(|b, i| match &mut b[i] {
            Stmt::ArrAssign { idx, .. } if idx != "0" => {
                *idx = "0".into();
                true
            }
            _ => false,
        }),
        Box::new(|b, i| {
            if let Stmt::If { els, .. } = &mut b[i] {
                if !els.is_empty() {
                    els.clear();
                    return true;
                }
            }
            false
        }),
        Box::new(|b, i| match &mut b[i] {
            Stmt::For { pat, iter, .. } if !pat.contains('&') && !pat.contains('(') && iter != "0..1" => {
                *iter = "0..1".into();
                true
            }
            Stmt::While { max, .. } | Stmt::Loop { max, .. } if *max > 1 => {
                *max = 1;
                true
            }
            _ => false,
        }),
    ];
    for blk in 0..3 {
        edits.push(Box::new(move |b, i| {
            let mut s = b[i].clone();
            let blocks = s.blocks_mut();
            match blocks.into_iter().nth(blk) {
                Some(inner) => {
                    let inner = std::mem::take(inner);
                    b.splice(i..=i, inner);
                    true
                }
                None => false,
            }
        }));
    }
    for side in 0..4 {
        edits.push(Box::new(move |b, i| {
            let Some(c) = cond_mut(&mut b[i]) else { return false };
            match (side, c.clone()) {
                (0, Cond::And(l, _)) => *c = *l,
                (1, Cond::And(_, r)) => *c = *r,
                (2, Cond::Cmp(..) | Cond::And(..)) => *c = Cond::Raw("true".into()),
                (3, Cond::Cmp(..) | Cond::And(..)) => *c = Cond::Raw("false".into()),
                _ => return false,
            }
            true
        }));
    }
    // Vector expressions of `let` statements (a bare variable would be a move or a reference).
    for k in 0.. {
        let mut probe = f.clone();
        let mut target = k;
        let mut found = None;
        let hit = edit_stmt(&mut probe.body, &mut target, &mut |b, i| {
            if let Stmt::LetVec { e, .. } = &b[i] {
                found = Some(e.clone());
            }
            true
        });
        if hit.is_none() {
            break;
        }
        for v in found.iter().flat_map(vexpr_variants).filter(|v| !matches!(v, VExpr::Var(_))) {
            let mut g = f.clone();
            let mut target = k;
            edit_stmt(&mut g.body, &mut target, &mut |b, i| {
                if let Stmt::LetVec { e, .. } = &mut b[i] {
                    *e = v.clone();
                }
                true
            });
            push(g, &mut out);
        }
    }
    for edit in &edits {
        for k in 0.. {
            let mut g = f.clone();
            let mut target = k;
            match edit_stmt(&mut g.body, &mut target, &mut |b, i| edit(b, i)) {
                None => break,
                Some(true) => push(g, &mut out),
                Some(false) => {}
            }
        }
    }
    // Expression edits: an operand, a constant, an input (not of domain guards).
    let input = input_of(f);
    let frozen = frozen(f);
    for k in 0.. {
        let mut probe = f.clone();
        let mut target = k;
        let mut n_children = 0;
        if edit_fn_expr(&mut probe, &mut target, &mut |e| {
            n_children = e.children_mut().len();
            true
        })
        .is_none()
        {
            break;
        }
        if frozen.contains(&k) {
            continue;
        }
        let mut replacements: Vec<Replacement> = Vec::new();
        // A scalar of vectors with a smaller vector expression, or `dot` as `sum`.
        let mut vscalar = None;
        edit_fn_expr(&mut probe, &mut k.clone(), &mut |e| {
            vscalar = Some(e.clone());
            true
        });
        if let Some(Expr::VScalar(name, v, w)) = vscalar {
            for nv in vexpr_variants(&v) {
                let (name, w) = (name, w.clone());
                replacements.push(Box::new(move |_| Some(Expr::VScalar(name, Box::new(nv.clone()), w.clone()))));
            }
            if let Some(w) = &w {
                for nw in vexpr_variants(w) {
                    let v = v.clone();
                    replacements
                        .push(Box::new(move |_| Some(Expr::VScalar(name, v.clone(), Some(Box::new(nw.clone()))))));
                }
                let v = v.clone();
                replacements.push(Box::new(move |_| Some(Expr::VScalar("sum", v.clone(), None))));
            }
        }
        for j in 0..n_children {
            replacements.push(Box::new(move |e: &Expr| e.clone().children_mut().into_iter().nth(j).map(|c| c.clone())));
        }
        replacements.push(Box::new(|e: &Expr| (*e != Expr::Num(1.0)).then_some(Expr::Num(1.0))));
        replacements.push(Box::new(|e: &Expr| match e {
            Expr::Index(a, i) => {
                let zero = if a == "m" { "(0, 0)" } else { "0" };
                (i != zero).then(|| Expr::Index(a.clone(), zero.into()))
            }
            _ => None,
        }));
        let inp = input.clone();
        replacements.push(Box::new(move |e: &Expr| (*e != inp && e.size() > 1).then(|| inp.clone())));
        for r in &replacements {
            let mut g = f.clone();
            let mut target = k;
            let applied = edit_fn_expr(&mut g, &mut target, &mut |e| match r(e) {
                Some(new) => {
                    *e = new;
                    true
                }
                None => false,
            });
            if applied == Some(true) {
                push(g, &mut out);
            }
        }
    }
    // One input less (for nalgebra, one column or one row of `m` less).
    let mut smaller = Vec::new();
    match f.params {
        Params::Slice(n) if n > 1 => smaller.push((Params::Slice(n - 1), n)),
        Params::Linalg { n, rows } => {
            if n > 1 {
                smaller.push((Params::Linalg { n: n - 1, rows }, n));
            }
            if rows > 1 {
                smaller.push((Params::Linalg { n, rows: rows - 1 }, 0));
            }
        }
        _ => {}
    }
    for (params, n) in smaller {
        {
            let mut g = f.clone();
            g.params = params;
            let m = n.saturating_sub(1).max(1);
            visit_exprs_mut(&mut g, &mut |e| {
                if let Expr::Index(a, i) = e {
                    if a == "x" && n > 0 {
                        if let Ok(lit) = i.parse::<usize>() {
                            *i = (lit % m).to_string();
                        } else if let Some(stem) = i.strip_suffix(&format!("% {n}")) {
                            *i = format!("{stem}% {m}");
                        }
                    }
                }
            });
            push(g, &mut out);
        }
    }
    out
}

/// Every one-step reduction of `unit`, helpers no longer called dropped, smallest first (by
/// [`size_key`]), each strictly smaller than `unit`.
pub fn variants(unit: &Unit) -> Vec<Unit> {
    let key = size_key(unit);
    let mut out: Vec<(_, Unit)> = Vec::new();
    for (i, f) in unit.functions.iter().enumerate() {
        for g in function_variants(f) {
            let mut v = unit.clone();
            v.functions[i] = g;
            prune_helpers(&mut v);
            let k = size_key(&v);
            if k < key {
                out.push((k, v));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.dedup_by(|a, b| a.0 == b.0);
    out.into_iter().map(|(_, v)| v).collect()
}

/// Shrinks `unit` while `still_fails` says so. `still_fails` gets up to `chunk` candidates at a time and
/// says which of them fail the same way as `unit`; the smallest such is kept and shrinking starts over
/// from it. `progress` is told each accepted reduction. Returns the minimal unit found (1-minimal for the
/// reductions of [`variants`]).
pub fn shrink(
    unit: &Unit,
    chunk: usize,
    mut still_fails: impl FnMut(&[Unit]) -> Vec<bool>,
    mut progress: impl FnMut(&Unit),
) -> Unit {
    let mut current = unit.clone();
    'rounds: loop {
        let candidates = variants(&current);
        for part in candidates.chunks(chunk.max(1)) {
            let verdicts = still_fails(part);
            if let Some(i) = verdicts.iter().position(|&b| b) {
                current = part[i].clone();
                progress(&current);
                continue 'rounds;
            }
        }
        return current;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::generate;

    fn calls_sin(u: &Unit) -> bool {
        source(u).contains(".sin()")
    }

    #[test]
    fn shrinks_to_a_single_sin() {
        // The first unit of a seed with a `sin` in it.
        let unit = (0..50).flat_map(|k| generate(11, k, 1)).find(calls_sin).expect("a unit calling sin");
        let before = size_key(&unit).0;
        let small = shrink(&unit, 7, |cands| cands.iter().map(calls_sin).collect(), |_| {});
        assert!(calls_sin(&small));
        let f = small.functions.last().expect("a function");
        assert_eq!(small.functions.len(), 1, "helpers dropped:\n{}", source(&small));
        assert!(f.body.len() <= 1, "statements dropped:\n{}", source(&small));
        assert!(size_key(&small).0 < before);
        // 1-minimal: no variant still calls sin.
        assert!(variants(&small).iter().all(|v| !calls_sin(v)), "not minimal:\n{}", source(&small));
        assert!(source(&small).len() < 200, "{}", source(&small));
    }

    #[test]
    fn variants_are_smaller_and_renaming_keeps_calls_consistent() {
        for unit in generate(5, 0, 20) {
            let key = size_key(&unit);
            for v in variants(&unit).iter().take(200) {
                assert!(size_key(v) < key);
            }
            let mut r = renamed(&unit, 9999);
            for f in &mut r.functions {
                assert!(f.name == "f_9999" || f.name.starts_with("g_9999_"), "{}", f.name);
                visit_exprs_mut(f, &mut |e| {
                    if let Expr::Call(g, _) = e {
                        assert!(g.starts_with("g_9999_"), "{g}");
                    }
                });
            }
        }
    }

    #[test]
    fn domain_guards_are_kept() {
        let guard = |e: Expr| Expr::Bin('+', Box::new(Expr::Num(0.5)), Box::new(Expr::Powi(Box::new(e), 2)));
        let inner = Expr::Bin('-', Box::new(Expr::Index("x".into(), "0".into())), Box::new(Expr::Num(1.0)));
        let f = Function {
            name: "f_0".into(),
            params: Params::Slice(1),
            body: vec![],
            tail: Expr::Method("ln", Box::new(guard(inner)), vec![]),
        };
        let vs = function_variants(&f);
        assert!(vs.iter().any(|g| g.tail.to_source() == "(0.5_f64 + x[0].powi(2)).ln()"), "inside the guard");
        for g in &vs {
            let src = g.tail.to_source();
            assert!(!src.contains(".ln()") || src.contains(".powi(2)).ln()"), "a guard taken apart: {src}");
        }
    }

    #[test]
    fn dropping_an_input_rewrites_indices() {
        let f = Function {
            name: "f_0".into(),
            params: Params::Slice(3),
            body: vec![],
            tail: Expr::Bin(
                '+',
                Box::new(Expr::Index("x".into(), "2".into())),
                Box::new(Expr::Index("x".into(), "i % 3".into())),
            ),
        };
        let vs = function_variants(&f);
        let dropped = vs.iter().find(|g| g.params == Params::Slice(2)).expect("a variant with 2 inputs");
        assert_eq!(dropped.tail.to_source(), "(x[0] + x[i % 2])");
    }
}
