//! A seeded, deterministic generator of random functions in the subset `#[differentiable]` supports,
//! and the emitter of whole test files / crates that check their derivatives.
//!
//! A *unit* is one top-level function `f_u(x: &[f64]) -> f64` with its helpers `g_u_j(a: f64, b: f64)
//! -> f64` (called by `f_u` and by later helpers). Units are independent, so a batch can be split and a
//! failing unit shrunk alone. Domains are respected by construction: `ln`, `sqrt`, `log2`, `recip`, … get
//! `0.5 + e²`, `asin`/`acos`/`atanh` get `0.9·tanh(e)`, `exp`/`sinh`/… get a squashed argument.
//! Non-differentiable points (kinks of `abs`/`max`/`min`, jumps of `floor`, branches and data-dependent
//! trip counts) are avoided by rejection in the checker.

use crate::ast::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// One top-level function and its helpers, helpers first.
#[derive(Clone, Debug, PartialEq)]
pub struct Unit {
    /// Helpers `g_<u>_<j>` first, the top-level `f_<u>` last.
    pub functions: Vec<Function>,
}

#[derive(Clone, Default)]
struct Scope {
    /// Float variables: name, mutable.
    floats: Vec<(String, bool)>,
    /// Arrays: name, length, frozen (borrowed by the enclosing loop's iterator).
    arrays: Vec<(String, usize, bool)>,
    /// Integer variables (loop indices, counters), all `usize`.
    ints: Vec<String>,
    /// Tuples `(f64, f64)`.
    tuples: Vec<String>,
    /// Float leaves bound by loop patterns (`(*xv)`), read-only.
    iter_vals: Vec<String>,
    in_loop: bool,
    /// `Some(n)` in a function of `x: &[f64]` with `x.len() == n`.
    xlen: Option<usize>,
    /// Helpers that may be called.
    helpers: Vec<String>,
    /// In a function of `(x: &DVector<f64>, m: &DMatrix<f64>)`: `Some((n, rows))`; `x` is then also in
    /// `xlen`, and local vectors are in `arrays` (for indexed reads and writes) and in `vectors`.
    linalg: Option<(usize, usize)>,
    /// Local `DVector`s: name, length.
    vectors: Vec<(String, usize)>,
}

struct Gen {
    rng: StdRng,
    fresh: usize,
}

const UNARY_FREE: &[&str] =
    &["sin", "cos", "atan", "tanh", "asinh", "abs", "floor", "ceil", "round", "trunc", "signum"];
const UNARY_SQUASHED: &[&str] = &["exp", "exp2", "exp_m1", "sinh", "cosh"];
const UNARY_POSITIVE: &[&str] = &["ln", "log2", "log10", "sqrt", "cbrt", "recip"];
const UNARY_UNIT: &[&str] = &["asin", "acos", "atanh"];
/// Bodies of `map(|t| ..)` closures (defined everywhere).
const MAP_BODIES: &[&str] =
    &["t.sin()", "t.cos()", "t.tanh()", "t.atan()", "t * t", "(1.0 + t * t).ln()", "t.sin() * t"];
/// Bodies of `zip_map(&w, |p, q| ..)` closures.
const ZIP_MAP_BODIES: &[&str] = &["p * q", "p + q.sin()", "p * q.tanh()", "(p - q).atan()", "p.max(q)"];
const CONSTS: &[&str] =
    &["std::f64::consts::PI", "std::f64::consts::E", "std::f64::consts::LN_2", "std::f64::consts::FRAC_1_SQRT_2"];

fn bin(op: char, l: Expr, r: Expr) -> Expr {
    Expr::Bin(op, Box::new(l), Box::new(r))
}

fn method(name: &'static str, recv: Expr, args: Vec<Expr>) -> Expr {
    Expr::Method(name, Box::new(recv), args)
}

/// `c + e·e`, positive.
/// (`e.powi(2)`, one node, so that the shrinker cannot change one factor of `e·e` without the other.)
fn positive(c: f64, e: Expr) -> Expr {
    bin('+', Expr::Num(c), Expr::Powi(Box::new(e), 2))
}

impl Gen {
    fn name(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("{prefix}{}", self.fresh)
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.rng.gen_range(0..xs.len())]
    }

    fn lit(&mut self) -> f64 {
        self.rng.gen_range(-20..=20) as f64 / 10.0
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p)
    }

    /// An index into something of length `len`, as source text.
    fn index(&mut self, sc: &Scope, len: usize, is_x: bool) -> String {
        if sc.ints.is_empty() || self.chance(0.25) {
            return self.rng.gen_range(0..len).to_string();
        }
        let i = self.pick(&sc.ints).clone();
        let n = if is_x && self.chance(0.5) { "x.len()".to_string() } else { len.to_string() };
        match self.rng.gen_range(0..3) {
            0 => format!("{i} % {n}"),
            1 => format!("({i} + {}) % {n}", self.rng.gen_range(1..4)),
            _ => format!("({i} * {}) % {n}", self.rng.gen_range(2..4)),
        }
    }

    fn leaf(&mut self, sc: &Scope) -> Expr {
        loop {
            match self.rng.gen_range(0..9) {
                0 => return Expr::Num(self.lit()),
                1 | 2 if !sc.floats.is_empty() => return Expr::Leaf(self.pick(&sc.floats).0.clone()),
                3 | 4 => match sc.xlen {
                    Some(n) => {
                        let i = self.index(sc, n, true);
                        return Expr::Index("x".into(), i);
                    }
                    None => return Expr::Leaf(if self.chance(0.5) { "a" } else { "b" }.into()),
                },
                5 if !sc.arrays.is_empty() => {
                    let (a, len, _) = self.pick(&sc.arrays).clone();
                    let i = self.index(sc, len, false);
                    return Expr::Index(a, i);
                }
                6 if !sc.ints.is_empty() => return Expr::Leaf(format!("({} as f64)", self.pick(&sc.ints))),
                7 if !sc.tuples.is_empty() => {
                    let t = self.pick(&sc.tuples).clone();
                    return Expr::Leaf(format!("{t}.{}", self.rng.gen_range(0..2)));
                }
                8 if !sc.iter_vals.is_empty() => return Expr::Leaf(self.pick(&sc.iter_vals).clone()),
                8 if self.chance(0.3) => return Expr::Leaf(self.pick(CONSTS).to_string()),
                8 if sc.linalg.is_some() => {
                    let (n, rows) = sc.linalg.expect("linalg");
                    let (i, j) = (self.index(sc, rows, false), self.index(sc, n, false));
                    return Expr::Index("m".into(), format!("({i}, {j})"));
                }
                _ => {}
            }
        }
    }

    /// A vector of length `len` (`n` or `rows` of the function's matrix); `compound` excludes a bare
    /// variable (a `let` of one would need a clone).
    fn vexpr(&mut self, sc: &Scope, len: usize, depth: usize, compound: bool) -> VExpr {
        let (n, rows) = sc.linalg.expect("a function of nalgebra types");
        let vars: Vec<String> = std::iter::once(("x".to_string(), n))
            .chain(sc.vectors.iter().cloned())
            .filter(|v| v.1 == len)
            .map(|v| v.0)
            .collect();
        if !compound && !vars.is_empty() && (depth == 0 || self.chance(0.3)) {
            return VExpr::Var(self.pick(&vars).clone());
        }
        let d = depth.saturating_sub(1);
        loop {
            let k = if depth == 0 { self.rng.gen_range(0..2) } else { self.rng.gen_range(0..9) };
            let b = |v: VExpr| Box::new(v);
            return match k {
                0 if len == rows => VExpr::MatVec(false, b(self.vexpr(sc, n, d, false))),
                1 if len == n => VExpr::MatVec(true, b(self.vexpr(sc, rows, d, false))),
                0 | 1 => continue,
                2 | 3 => {
                    // `v - v` would be a zero vector, where `norm` is not differentiable.
                    let (l, r) = (self.vexpr(sc, len, d, false), self.vexpr(sc, len, d, false));
                    let op = if self.chance(0.6) || l == r { '+' } else { '-' };
                    VExpr::Add(op, b(l), b(r))
                }
                4 => {
                    // Not `0.0 * v` (a zero vector).
                    let s = match self.expr(sc, 1) {
                        Expr::Num(0.0) => Expr::Num(1.5),
                        s => s,
                    };
                    VExpr::Scale(Box::new(s), b(self.vexpr(sc, len, d, false)))
                }
                5 => VExpr::AddScalar(b(self.vexpr(sc, len, d, false)), Box::new(self.expr(sc, 1))),
                6 => VExpr::ComponentMul(b(self.vexpr(sc, len, d, false)), b(self.vexpr(sc, len, d, false))),
                7 => {
                    let body = *self.pick(MAP_BODIES);
                    VExpr::Map(body, b(self.vexpr(sc, len, d, false)))
                }
                _ => {
                    let body = *self.pick(ZIP_MAP_BODIES);
                    VExpr::ZipMap(body, b(self.vexpr(sc, len, d, false)), b(self.vexpr(sc, len, d, false)))
                }
            };
        }
    }

    /// A scalar of vectors: `dot`, `norm`, `norm_squared`, `sum`.
    fn vscalar(&mut self, sc: &Scope, depth: usize) -> Expr {
        let (n, rows) = sc.linalg.expect("a function of nalgebra types");
        let len = if self.chance(0.5) { n } else { rows };
        let d = depth.min(2);
        let name = *self.pick(&["dot", "norm", "norm_squared", "sum", "dot", "sum"]);
        let v = Box::new(self.vexpr(sc, len, d, false));
        let w = (name == "dot").then(|| Box::new(self.vexpr(sc, len, d, false)));
        Expr::VScalar(name, v, w)
    }

    fn squash(&mut self, e: Expr) -> Expr {
        match self.rng.gen_range(0..4) {
            0 => method("tanh", e, vec![]),
            1 => method("sin", e, vec![]),
            2 => method("cos", e, vec![]),
            _ => method("atan", e, vec![]),
        }
    }

    fn cond(&mut self, sc: &Scope, depth: usize) -> Cond {
        if !sc.ints.is_empty() && self.chance(0.2) {
            let i = self.pick(&sc.ints).clone();
            return Cond::Raw(format!("{i} % {} == {}", self.rng.gen_range(2..4), self.rng.gen_range(0..2)));
        }
        let l = self.expr(sc, depth.min(1));
        let r = if self.chance(0.5) { Expr::Num(self.lit()) } else { self.expr(sc, 0) };
        let c = Cond::Cmp(l, if self.chance(0.5) { "<" } else { ">" }, r);
        if self.chance(0.15) {
            Cond::And(Box::new(c), Box::new(self.cond(sc, 0)))
        } else {
            c
        }
    }

    fn expr(&mut self, sc: &Scope, depth: usize) -> Expr {
        if depth == 0 || self.chance(0.2) {
            return self.leaf(sc);
        }
        let d = depth - 1;
        match self.rng.gen_range(0..20) {
            0..=2 => bin('+', self.expr(sc, d), self.expr(sc, d)),
            3 => bin('-', self.expr(sc, d), self.expr(sc, d)),
            4..=5 => bin('*', self.expr(sc, d), self.expr(sc, d)),
            6 => {
                let den = positive(1.0, self.expr(sc, d));
                bin('/', self.expr(sc, d), den)
            }
            7 => Expr::Neg(Box::new(self.expr(sc, d))),
            8 => {
                let name = *self.pick(UNARY_FREE);
                let e = self.expr(sc, d);
                // Rounding of a bounded argument (`3·tanh(e)`): a few jumps, which finite differences see
                // as jumps; of an unbounded steep one, a staircase finer than the step, seen as a ramp.
                let e = if ["floor", "ceil", "round", "trunc"].contains(&name) {
                    bin('*', Expr::Num(3.0), method("tanh", e, vec![]))
                } else {
                    e
                };
                if self.chance(0.2) {
                    Expr::Assoc(name, Box::new(e))
                } else {
                    method(name, e, vec![])
                }
            }
            9 => {
                let name = *self.pick(UNARY_SQUASHED);
                let e = self.expr(sc, d);
                let e = self.squash(e);
                method(name, bin('*', Expr::Num(1.5), e), vec![])
            }
            10 => {
                let name = *self.pick(UNARY_POSITIVE);
                let e = positive(0.5, self.expr(sc, d));
                if self.chance(0.2) {
                    Expr::Assoc(name, Box::new(e))
                } else {
                    method(name, e, vec![])
                }
            }
            11 => {
                let name = *self.pick(UNARY_UNIT);
                let e = method("tanh", self.expr(sc, d), vec![]);
                method(name, bin('*', Expr::Num(0.9), e), vec![])
            }
            12 => match self.rng.gen_range(0..4) {
                0 => method("acosh", positive(1.1, self.expr(sc, d)), vec![]),
                // Not `ln_1p(e1 * e2)`: below -1 it is NaN (which `min`/`max` can hide from `f` but not
                // from every derivative).
                1 => method("ln_1p", bin('*', Expr::Num(0.9), method("tanh", self.expr(sc, d), vec![])), vec![]),
                2 => method("tan", bin('*', Expr::Num(1.2), method("tanh", self.expr(sc, d), vec![])), vec![]),
                _ => {
                    let e = self.expr(sc, d);
                    method("ln_1p", positive(0.0, e), vec![])
                }
            },
            13 => {
                let k = *self.pick(&[-2, -1, 2, 3]);
                let e = self.expr(sc, d);
                let e = if k < 0 { positive(0.5, e) } else { self.squash(e) };
                Expr::Powi(Box::new(e), k)
            }
            14 => {
                let base = positive(0.5, self.expr(sc, d));
                let e = self.expr(sc, d);
                let p = self.squash(e);
                method("powf", base, vec![p])
            }
            15 => {
                let name = *self.pick(&["atan2", "hypot", "max", "min", "mul_add"]);
                let a = self.expr(sc, d);
                let mut b = self.expr(sc, d);
                // Not at the origin, where atan2 and hypot are not differentiable (`0.0.atan2(0.0)`).
                if name == "atan2" || name == "hypot" {
                    b = positive(0.5, b);
                    if self.chance(0.5) {
                        b = Expr::Neg(Box::new(b));
                    }
                }
                let mut args = vec![b];
                if name == "mul_add" {
                    args.push(self.expr(sc, d));
                }
                method(name, a, args)
            }
            16 if !sc.helpers.is_empty() => {
                let g = self.pick(&sc.helpers).clone();
                let a = self.expr(sc, d);
                let b = if self.chance(0.3) { Expr::Num(self.lit()) } else { self.expr(sc, d) };
                Expr::Call(g, vec![a, b])
            }
            17 => {
                let c = self.cond(sc, d);
                Expr::If(Box::new(c), Box::new(self.expr(sc, d)), Box::new(self.expr(sc, d)))
            }
            18 | 19 if sc.linalg.is_some() => self.vscalar(sc, d),
            _ => self.leaf(sc),
        }
    }

    fn block(&mut self, sc: &mut Scope, depth: usize, len: usize) -> Vec<Stmt> {
        let mut out = Vec::new();
        for _ in 0..len {
            out.push(self.stmt(sc, depth));
        }
        out
    }

    /// A nested block: its own copy of the scope, not in a new loop.
    fn inner(&mut self, sc: &Scope, depth: usize) -> Vec<Stmt> {
        let mut inner = sc.clone();
        let len = self.rng.gen_range(1..=3);
        self.block(&mut inner, depth + 1, len)
    }

    fn loop_body(&mut self, mut inner: Scope, depth: usize) -> Vec<Stmt> {
        inner.in_loop = true;
        let len = self.rng.gen_range(1..=4);
        self.block(&mut inner, depth + 1, len)
    }

    fn mutable_float(&mut self, sc: &Scope) -> Option<String> {
        let m: Vec<&String> = sc.floats.iter().filter(|f| f.1).map(|f| &f.0).collect();
        if m.is_empty() {
            None
        } else {
            Some(m[self.rng.gen_range(0..m.len())].clone())
        }
    }

    fn stmt(&mut self, sc: &mut Scope, depth: usize) -> Stmt {
        let ed = if depth >= 2 { 2 } else { 3 };
        loop {
            let k = self.rng.gen_range(0..if sc.linalg.is_some() { 25 } else { 22 });
            match k {
                22..=24 => {
                    let (n, rows) = sc.linalg.expect("linalg");
                    let len = if self.chance(0.5) { n } else { rows };
                    let name = self.name("vec");
                    let e = self.vexpr(sc, len, 2, true);
                    sc.vectors.push((name.clone(), len));
                    sc.arrays.push((name.clone(), len, false));
                    return Stmt::LetVec { name, e };
                }
                0..=2 => {
                    let name = self.name("v");
                    let e = self.expr(sc, ed);
                    sc.floats.push((name.clone(), true));
                    return Stmt::Let { name, mutable: true, e };
                }
                3 if !sc.floats.is_empty() => {
                    // Shadowing.
                    let i = self.rng.gen_range(0..sc.floats.len());
                    let name = sc.floats[i].0.clone();
                    let e = bin('+', Expr::Leaf(name.clone()), self.expr(sc, ed));
                    sc.floats[i].1 = false;
                    return Stmt::Let { name, mutable: false, e };
                }
                4..=6 => {
                    if let Some(name) = self.mutable_float(sc) {
                        let op = *self.pick(&["=", "+=", "+=", "-=", "*="]);
                        let mut e = self.expr(sc, ed);
                        if op == "*=" {
                            e = self.squash(e);
                        } else if op == "=" && self.chance(0.5) {
                            e = self.squash(bin('+', Expr::Leaf(name.clone()), e));
                        }
                        return Stmt::Assign { name, op, e };
                    }
                }
                7 if depth < 2 => {
                    let name = self.name("arr");
                    let len = self.rng.gen_range(2..=4);
                    let init = match self.rng.gen_range(0..3) {
                        0 => ArrInit::Repeat(self.lit()),
                        1 => ArrInit::VecRepeat(self.expr(sc, 1)),
                        _ => ArrInit::List((0..len).map(|_| self.expr(sc, 1)).collect()),
                    };
                    sc.arrays.push((name.clone(), len, false));
                    return Stmt::LetArr { name, len, init };
                }
                8 | 9 => {
                    let free: Vec<(String, usize)> =
                        sc.arrays.iter().filter(|a| !a.2).map(|a| (a.0.clone(), a.1)).collect();
                    if !free.is_empty() {
                        let (name, len) = self.pick(&free).clone();
                        let idx = self.index(sc, len, false);
                        let op = *self.pick(&["=", "+=", "+=", "-="]);
                        let e = self.expr(sc, ed);
                        return Stmt::ArrAssign { name, idx, op, e };
                    }
                }
                10 => {
                    let (a, b) = (self.name("p"), self.name("q"));
                    let (e1, e2) = (self.tuple_component(sc, ed - 1), self.tuple_component(sc, ed - 1));
                    sc.floats.push((a.clone(), false));
                    sc.floats.push((b.clone(), false));
                    return Stmt::LetPair { a, b, e1, e2 };
                }
                11 => {
                    let name = self.name("t");
                    let (e1, e2) = (self.tuple_component(sc, ed - 1), self.tuple_component(sc, ed - 1));
                    sc.tuples.push(name.clone());
                    return Stmt::LetTuple { name, e1, e2 };
                }
                12 | 13 if depth < 3 => {
                    let cond = self.cond(sc, 2);
                    let then = self.inner(sc, depth);
                    let els = if self.chance(0.6) { self.inner(sc, depth) } else { vec![] };
                    return Stmt::If { cond, then, els };
                }
                14..=16 if depth < 3 => return self.for_loop(sc, depth),
                17 if depth < 3 => {
                    let counter = self.name("k");
                    let max = self.rng.gen_range(1..=6);
                    let l = self.expr(sc, 1);
                    let cond = Cond::Cmp(l, "<", Expr::Num(self.rng.gen_range(0..30) as f64 / 10.0));
                    let mut inner = sc.clone();
                    inner.ints.push(counter.clone());
                    let body = self.loop_body(inner, depth);
                    sc.ints.push(counter.clone());
                    return Stmt::While { counter, max, cond, body };
                }
                18 if depth < 3 => {
                    let counter = self.name("k");
                    let max = self.rng.gen_range(1..=5);
                    let mut inner = sc.clone();
                    inner.ints.push(counter.clone());
                    let body = self.loop_body(inner, depth);
                    sc.ints.push(counter.clone());
                    return Stmt::Loop { counter, max, body };
                }
                19 if sc.in_loop => {
                    let c = self.cond(sc, 1);
                    return if self.chance(0.5) { Stmt::IfBreak(c) } else { Stmt::IfContinue(c) };
                }
                20 if self.chance(0.4) => {
                    let c = self.cond(sc, 1);
                    let e = self.expr(sc, 2);
                    return Stmt::IfReturn(c, e);
                }
                21 if !sc.ints.is_empty() && depth < 3 => {
                    let scrut = self.pick(&sc.ints).clone();
                    let n = self.rng.gen_range(2..=3);
                    let arms = (0..n).map(|_| self.inner(sc, depth)).collect();
                    return Stmt::Match { scrut, arms };
                }
                _ => {}
            }
        }
    }

    fn for_loop(&mut self, sc: &Scope, depth: usize) -> Stmt {
        let mut inner = sc.clone();
        let i = self.name("i");
        // `x.iter()` loops over slices only.
        let xlen = if sc.linalg.is_some() { None } else { sc.xlen };
        let (pat, iter) = match (xlen, self.rng.gen_range(0..8)) {
            (Some(_), 0) => {
                let v = self.name("xv");
                inner.iter_vals.push(v.clone());
                (format!("&{v}"), "x.iter()".to_string())
            }
            (Some(_), 1) => {
                let v = self.name("xv");
                inner.iter_vals.push(v.clone());
                inner.ints.push(i.clone());
                (format!("({i}, &{v})"), "x.iter().enumerate()".to_string())
            }
            (Some(_), 2) if sc.arrays.iter().any(|a| !a.2) => {
                let free: Vec<String> = sc.arrays.iter().filter(|a| !a.2).map(|a| a.0.clone()).collect();
                let arr = self.pick(&free).clone();
                for a in inner.arrays.iter_mut() {
                    if a.0 == arr {
                        a.2 = true;
                    }
                }
                let (u, w) = (self.name("u"), self.name("w"));
                inner.iter_vals.push(u.clone());
                inner.iter_vals.push(w.clone());
                (format!("(&{u}, &{w})"), format!("x.iter().zip({arr}.iter())"))
            }
            (_, k) => {
                inner.ints.push(i.clone());
                let hi = match sc.xlen {
                    Some(_) if self.chance(0.5) => {
                        if self.chance(0.5) {
                            "x.len()".to_string()
                        } else {
                            "x.len() - 1".to_string()
                        }
                    }
                    _ => self.rng.gen_range(1..=5).to_string(),
                };
                let lo = if self.chance(0.7) { 0 } else { 1 };
                let range = match k % 4 {
                    0 => format!("{lo}..{hi}"),
                    1 => format!("({lo}..{hi}).rev()"),
                    2 => format!("({lo}..{hi}).step_by({})", self.rng.gen_range(2..=3)),
                    _ => format!("{lo}..={hi}"),
                };
                (i, range)
            }
        };
        let body = self.loop_body(inner, depth);
        Stmt::For { pat, iter, body }
    }

    /// An input of the function (`x[0]` or `a`).
    fn input(&mut self, sc: &Scope) -> Expr {
        match sc.xlen {
            Some(n) => Expr::Index("x".into(), self.rng.gen_range(0..n).to_string()),
            None => Expr::Leaf(if self.chance(0.5) { "a" } else { "b" }.into()),
        }
    }

    /// Known bug 2 (see the README): a tuple component computed by a float method of a constant does not
    /// compile in f_hvp, so every component also depends on an input.
    fn tuple_component(&mut self, sc: &Scope, depth: usize) -> Expr {
        let e = self.expr(sc, depth);
        bin('+', e, self.input(sc))
    }

    fn tail(&mut self, sc: &Scope) -> Expr {
        // Known bug 1 (see the README): a result that does not depend on the inputs does not compile in
        // f_hvp, so the result always does.
        let mut e = bin('+', self.expr(sc, 1), self.input(sc));
        for (name, _) in sc.floats.iter().rev().take(4) {
            e = bin('+', e, Expr::Leaf(name.clone()));
        }
        for (name, len, _) in sc.arrays.iter().take(2) {
            e = bin('+', e, Expr::Index(name.clone(), (len - 1).to_string()));
        }
        if sc.linalg.is_some() {
            e = bin('+', e, self.vscalar(sc, 1));
        }
        e
    }

    fn function(&mut self, name: String, params: Params, helpers: Vec<String>) -> Function {
        self.fresh = 0;
        let (xlen, linalg) = match params {
            Params::Slice(n) => (Some(n), None),
            Params::Pair => (None, None),
            Params::Linalg { n, rows } => (Some(n), Some((n, rows))),
        };
        let mut sc = Scope { xlen, linalg, helpers, ..Scope::default() };
        let len = match params {
            Params::Slice(_) | Params::Linalg { .. } => self.rng.gen_range(2..=7),
            Params::Pair => self.rng.gen_range(1..=3),
        };
        let body = self.block(&mut sc, 0, len);
        let tail = self.tail(&sc);
        Function { name, params, body, tail }
    }

    fn unit(&mut self, u: usize) -> Unit {
        let mut functions = Vec::new();
        let mut helpers = Vec::new();
        for j in 0..self.rng.gen_range(0..=2) {
            let name = format!("g_{u}_{j}");
            functions.push(self.function(name.clone(), Params::Pair, helpers.clone()));
            helpers.push(name);
        }
        let n = self.rng.gen_range(1..=5);
        // A quarter of the units are functions of a nalgebra vector and matrix.
        let params = if self.chance(0.25) {
            Params::Linalg { n: n.min(4), rows: self.rng.gen_range(1..=4) }
        } else {
            Params::Slice(n)
        };
        functions.push(self.function(format!("f_{u}"), params, helpers));
        Unit { functions }
    }
}

/// Units `first..first + count` of the stream of `seed`; unit `u` depends only on `(seed, u)`.
pub fn generate(seed: u64, first: usize, count: usize) -> Vec<Unit> {
    (first..first + count)
        .map(|u| {
            let mut g =
                Gen { rng: StdRng::seed_from_u64(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ u as u64), fresh: 0 };
            g.unit(u)
        })
        .collect()
}

/// The source of the checks, pasted into every generated file.
pub const CHECKER_SOURCE: &str = include_str!("checker_rt.rs");

/// Whether `#[differentiable]` generates a working `f_hvp` for `f`; `no_hvp` lists the functions of the
/// unit already known to have none.
///
/// This mirrors `second_order_blocker` in `macros/src/emit.rs` (keep the two in step). Since dual code
/// evaluates constant expressions (conditions, roundings, casts to integers) on value parts, the only
/// blockers are: a result type not naming its float type, a `map` closure naming a float type (`as f64`,
/// `|t: f64|`), a tuple mixing differentiated values and constants, a cast of a differentiated value
/// between float types (constant arguments of calls are no blocker since commit ea2a139). The generator
/// writes none of these (every tuple component adds an input; closures are plain), so every function has
/// an `f_hvp`, nalgebra ones included (second order for nalgebra types: commit 42ea4f2).
/// A call to a function with no second-order code would compile (its dual entry point panics), so the
/// caller's `f_hvp` is treated as absent too.
pub fn has_hvp(f: &Function, no_hvp: &[String]) -> bool {
    if f.params.is_nalgebra() && !NALGEBRA_HVP {
        return false;
    }
    let mut ok = true;
    f.visit_exprs(&mut |e| match e {
        Expr::Call(g, _) if no_hvp.contains(g) => ok = false,
        Expr::VScalar(_, v, w) if closure_names_float(v) || w.as_deref().is_some_and(closure_names_float) => ok = false,
        _ => {}
    });
    fn lets_ok(b: &[Stmt]) -> bool {
        b.iter().all(|s| match s {
            Stmt::LetVec { e, .. } => !closure_names_float(e),
            s => s.clone().blocks_mut().into_iter().all(|b| lets_ok(b)),
        })
    }
    ok && lets_ok(&f.body)
}

/// Whether `f_hvp` is generated for functions of nalgebra types (it is since commit 42ea4f2; set to
/// `false` to check them to first order only).
pub const NALGEBRA_HVP: bool = true;

/// Whether a `map`/`zip_map` closure in `v` names a float type (a blocker of second order).
fn closure_names_float(v: &VExpr) -> bool {
    let own = match v {
        VExpr::Map(body, _) | VExpr::ZipMap(body, ..) => body.contains("f64") || body.contains(" as "),
        _ => false,
    };
    own || v.clone().vchildren_mut().into_iter().any(|c| closure_names_float(c))
}

/// The source of the checking call of one function.
fn check_call(f: &Function, hvp: bool) -> String {
    let n = &f.name;
    let src = match f.params {
        Params::Slice(dim) => format!(
            "    c.check(\"{n}\", {dim}, &check::Forms {{ f: &|x| {n}(x), grad: &|x| {n}_grad(x), \
             jvp: &|x, v| {n}_jvp(x, v), vjp: &|x, z, b| {n}_vjp(x, z, b), grad_into: &|x, b| {n}_grad_into(x, b), \
             hvp: &|x, v| {n}_hvp(x, v) }});\n"
        ),
        Params::Pair => format!(
            "    c.check(\"{n}\", 2, &check::Forms {{ f: &|p| {n}(p[0], p[1]), \
             grad: &|p| {{ let (v, (ga, gb)) = {n}_grad(p[0], p[1]); (v, vec![ga, gb]) }}, \
             jvp: &|p, d| {n}_jvp(p[0], d[0], p[1], d[1]), \
             vjp: &|p, z, b| {{ let (b0, b1) = b.split_at_mut(1); {n}_vjp(p[0], p[1], z, &mut b0[0], &mut b1[0]) }}, \
             grad_into: &|p, b| {{ let (b0, b1) = b.split_at_mut(1); {n}_grad_into(p[0], p[1], &mut b0[0], &mut b1[0]) }}, \
             hvp: &|p, d| {{ let (v, (ga, gb), (ha, hb)) = {n}_hvp(p[0], d[0], p[1], d[1]); (v, vec![ga, gb], vec![ha, hb]) }} }});\n"
        ),
        // Flattened as x, then m column by column (gradients and H·v too).
        Params::Linalg { n: len, rows } => format!(
            "    {{ let lx = |p: &[f64]| DVector::from_column_slice(&p[..{len}]); \
             let lm = |p: &[f64]| DMatrix::from_column_slice({rows}, {len}, &p[{len}..]); \
             let store = |b: &mut [f64], bx: &DVector<f64>, bm: &DMatrix<f64>| {{ b[..{len}].copy_from_slice(bx.as_slice()); b[{len}..].copy_from_slice(bm.as_slice()); }}; \
             c.check(\"{n}\", {dim}, &check::Forms {{ f: &|p| {n}(&lx(p), &lm(p)), \
             grad: &|p| {{ let (v, (gx, gm)) = {n}_grad(&lx(p), &lm(p)); (v, gx.iter().chain(gm.iter()).copied().collect()) }}, \
             jvp: &|p, d| {n}_jvp(&lx(p), &lx(d), &lm(p), &lm(d)), \
             vjp: &|p, z, b| {{ let (mut bx, mut bm) = (lx(b), lm(b)); let v = {n}_vjp(&lx(p), &lm(p), z, &mut bx, &mut bm); store(b, &bx, &bm); v }}, \
             grad_into: &|p, b| {{ let (mut bx, mut bm) = (lx(b), lm(b)); let v = {n}_grad_into(&lx(p), &lm(p), &mut bx, &mut bm); store(b, &bx, &bm); v }}, \
             hvp: &|p, d| {{ let (v, (gx, gm), (hx, hm)) = {n}_hvp(&lx(p), &lx(d), &lm(p), &lm(d)); \
             (v, gx.iter().chain(gm.iter()).copied().collect(), hx.iter().chain(hm.iter()).copied().collect()) }} }}); }}\n",
            dim = f.dim()
        ),
    };
    if hvp {
        src
    } else {
        // No f_hvp: an `Option` would be cleaner; a marker closure the checker recognises is simpler to emit.
        let at = src.find("hvp: &|").expect("hvp closure");
        let close = if matches!(f.params, Params::Linalg { .. }) { " }); }" } else { " });" };
        format!("{}hvp: &check::no_hvp{close}\n", &src[..at])
    }
}

/// An integration-test file defining every function of `units`, a `check_all()` that checks them with a
/// copy of the checks (so that the file stands alone), and `#[test] fn difftest_batch` failing on any
/// failure. `header` is put in the leading doc comment.
pub fn emit(units: &[Unit], header: &str) -> String {
    let mut out = String::new();
    for line in header.lines() {
        out.push_str(&format!("//! {line}\n"));
    }
    out.push_str("#![allow(warnings, clippy::all, clippy::pedantic)]\n\n");
    out.push_str("#[rustfmt::skip]\nmod generated {\n");
    out.push_str("use adjoint::differentiable;\n");
    if units.iter().any(|u| u.functions.iter().any(|f| f.params.is_nalgebra())) {
        out.push_str("use nalgebra::{DMatrix, DVector};\n");
    }
    out.push('\n');
    out.push_str("#[allow(dead_code)]\npub mod check {\n");
    out.push_str(CHECKER_SOURCE);
    out.push_str("}\n\n");
    functions_and_checks(units, &mut out);
    out.push_str("pub fn check_all() -> check::Checker {\n    let mut c = check::Checker::new();\n");
    out.push_str("    check_into(&mut c);\n    c\n}\n}\n\n");
    out.push_str(
        "#[test]\nfn difftest_batch() {\n    let c = generated::check_all();\n    println!(\"{}\", c.summary());\n    \
         assert!(c.failures.is_empty(), \"wrong derivatives:\\n{}\", c.failures.join(\"\\n\"));\n}\n",
    );
    out
}

/// A reproducer as a regression test: a module file (for `tests/tests/difftest_reproducers.rs`, which
/// includes every `difftest/regressions/NNN.rs` from 006 on) with the functions of `unit`, their
/// `check_into`, and a `#[test]` that compiles every generated form and runs all the checks on them
/// (with `adjoint_difftest::assert_passes`). `header` (how it was found and how it failed) becomes its doc.
pub fn emit_reproducer(unit: &Unit, header: &str) -> String {
    let mut out: String = header.lines().map(|l| format!("//! {l}\n")).collect();
    out.push_str("#![allow(warnings, clippy::all, clippy::pedantic)]\n\n");
    out.push_str("#[rustfmt::skip]\nmod generated {\n");
    out.push_str("use adjoint::differentiable;\nuse adjoint_difftest::checker_rt as check;\n");
    if unit.functions.iter().any(|f| f.params.is_nalgebra()) {
        out.push_str("use nalgebra::{DMatrix, DVector};\n");
    }
    out.push('\n');
    functions_and_checks(std::slice::from_ref(unit), &mut out);
    out.push_str("}\n\n");
    out.push_str("#[test]\nfn passes_the_checks() {\n    adjoint_difftest::assert_passes(generated::check_into);\n}\n");
    out
}

/// The functions of `units` and `pub fn check_into(c: &mut check::Checker)` checking them.
fn functions_and_checks(units: &[Unit], out: &mut String) {
    for u in units {
        for f in &u.functions {
            f.print(out);
            out.push('\n');
        }
    }
    out.push_str("pub fn check_into(c: &mut check::Checker) {\n");
    for u in units {
        let mut no_hvp = Vec::new();
        for f in &u.functions {
            let hvp = has_hvp(f, &no_hvp);
            if !hvp {
                no_hvp.push(f.name.clone());
            }
            out.push_str(&check_call(f, hvp));
        }
    }
    out.push_str("}\n");
}

/// One part of a long-mode batch: a library crate (depending on `adjoint`, `nalgebra` and the checks as
/// the crate `difftest_check`) with the functions of `units` and their `check_into`. A batch is several
/// parts, compiled in parallel, so that a unit that does not compile costs rebuilding its part only.
pub fn emit_part(units: &[Unit]) -> String {
    let mut out = String::from("#![allow(warnings, clippy::all, clippy::pedantic)]\n");
    out.push_str("use adjoint::differentiable;\nuse difftest_check as check;\n");
    if units.iter().any(|u| u.functions.iter().any(|f| f.params.is_nalgebra())) {
        out.push_str("use nalgebra::{DMatrix, DVector};\n");
    }
    out.push('\n');
    functions_and_checks(units, &mut out);
    out
}

/// The committed fast batch: units `0..count` of `seed` except `excluded` (the units the `difftest`
/// binary found not to compile or to fail, each a known bug).
pub fn committed_file(seed: u64, count: usize, excluded: &[usize]) -> String {
    let units: Vec<Unit> = generate(seed, 0, count)
        .into_iter()
        .enumerate()
        .filter(|(u, _)| !excluded.contains(u))
        .map(|(_, u)| u)
        .collect();
    let ex: Vec<String> = excluded.iter().map(|u| u.to_string()).collect();
    let header = format!(
        "GENERATED by `cargo run -p adjoint-difftest -- --emit tests/tests/difftest_batch.rs --seed {seed} --count {count}`;\n\
         do not edit (`cargo test -p adjoint-difftest` checks that it is what the generator writes).\n\
         Random functions in the supported subset; each is checked at random points: gradient vs finite\n\
         differences, JVP vs gradient, VJP vs JVP, f_grad_into, HVP vs finite differences of the gradient.\n\
         seed: {seed}\ncount: {count}\nexcluded units (known bugs, see the README): {}",
        if ex.is_empty() { "none".to_string() } else { ex.join(" ") }
    );
    emit(&units, &header)
}

/// Parses the `seed`, `count` and `excluded units` lines of a file written by [`committed_file`].
pub fn parse_committed_header(src: &str) -> Option<(u64, usize, Vec<usize>)> {
    let field = |key: &str| src.lines().find_map(|l| l.strip_prefix(&format!("//! {key}: ")).map(str::to_string));
    let seed = field("seed")?.parse().ok()?;
    let count = field("count")?.parse().ok()?;
    let excluded = field("excluded units (known bugs, see the README)")
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    Some((seed, count, excluded))
}

/// The unit each line of an emitted file belongs to (`None` for shared code), 1-based lines at index
/// `line - 1`; used to attribute compile errors.
pub fn line_units(src: &str) -> Vec<Option<usize>> {
    let lines: Vec<&str> = src.lines().collect();
    let unit_of = |name: &str| -> Option<usize> {
        let rest = name.strip_prefix("f_").or_else(|| name.strip_prefix("g_"))?;
        rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
    };
    let mut out = vec![None; lines.len()];
    let mut current = None;
    for (k, l) in lines.iter().enumerate() {
        if let Some(rest) = l.strip_prefix("fn ") {
            current = unit_of(rest);
        } else if l.starts_with("#[differentiable]") {
            current = lines.get(k + 1).and_then(|n| n.strip_prefix("fn ")).and_then(unit_of);
        } else if l.starts_with("pub fn check_all") || l.starts_with("pub mod check") {
            current = None;
        }
        out[k] = current;
        if let Some(at) = l.find("c.check(\"") {
            out[k] = unit_of(&l[at + 9..]);
        }
    }
    out
}

/// How often each construct occurs in `units` (statement kinds, loop kinds, float methods, calls, …):
/// the coverage report of the long mode.
pub fn coverage(units: &[Unit]) -> std::collections::BTreeMap<String, usize> {
    use std::collections::BTreeMap;
    fn stmts(b: &[Stmt], c: &mut BTreeMap<String, usize>) {
        let add = |k: &str, c: &mut BTreeMap<String, usize>| *c.entry(k.to_string()).or_insert(0) += 1;
        for s in b {
            match s {
                Stmt::Let { mutable: false, .. } => add("shadowing", c),
                Stmt::Let { .. } => add("let", c),
                Stmt::LetPair { .. } => add("tuple-destructuring", c),
                Stmt::LetTuple { .. } => add("tuple", c),
                Stmt::Assign { op, .. } => add(&format!("assign{op}"), c),
                Stmt::LetArr { init: ArrInit::VecRepeat(_), .. } => add("local-vec", c),
                Stmt::LetArr { .. } => add("local-array", c),
                Stmt::ArrAssign { op, .. } => add(&format!("indexed-write{op}"), c),
                Stmt::If { els, .. } => add(if els.is_empty() { "if" } else { "if-else" }, c),
                Stmt::For { iter, .. } => {
                    let kind = if iter.contains(".zip(") {
                        "for-zip"
                    } else if iter.contains(".enumerate()") {
                        "for-enumerate"
                    } else if iter.contains(".iter()") {
                        "for-iter"
                    } else if iter.contains(".rev()") {
                        "for-rev"
                    } else if iter.contains(".step_by(") {
                        "for-step_by"
                    } else if iter.contains("..=") {
                        "for-inclusive-range"
                    } else {
                        "for-range"
                    };
                    add(kind, c)
                }
                Stmt::While { .. } => add("while", c),
                Stmt::Loop { .. } => add("loop", c),
                Stmt::Match { .. } => add("match", c),
                Stmt::IfBreak(_) => add("break", c),
                Stmt::IfContinue(_) => add("continue", c),
                Stmt::IfReturn(..) => add("early-return", c),
                Stmt::LetVec { e, .. } => {
                    add("local-DVector", c);
                    vectors(e, c);
                }
            }
            let mut s = s.clone();
            for blk in s.blocks_mut() {
                stmts(blk, c);
            }
        }
    }
    fn vectors(v: &VExpr, c: &mut BTreeMap<String, usize>) {
        let k = match v {
            VExpr::Var(_) => return,
            VExpr::MatVec(false, _) => "nalgebra-matrix*vector",
            VExpr::MatVec(true, _) => "nalgebra-transpose*vector",
            VExpr::Add(..) => "nalgebra-vector+-vector",
            VExpr::Scale(..) => "nalgebra-scalar*vector",
            VExpr::AddScalar(..) => "nalgebra-add_scalar",
            VExpr::ComponentMul(..) => "nalgebra-component_mul",
            VExpr::Map(..) => "nalgebra-map",
            VExpr::ZipMap(..) => "nalgebra-zip_map",
        };
        *c.entry(k.to_string()).or_insert(0) += 1;
        for w in v.clone().vchildren_mut() {
            vectors(w, c);
        }
    }
    let mut c = BTreeMap::new();
    for u in units {
        for f in &u.functions {
            if f.params.is_nalgebra() {
                *c.entry("nalgebra-function".to_string()).or_insert(0) += 1;
            }
            let mut vs = Vec::new();
            f.visit_exprs(&mut |e| {
                if let Expr::VScalar(name, v, w) = e {
                    vs.push((*name, (**v).clone(), w.as_deref().cloned()));
                }
            });
            for (name, v, w) in vs {
                *c.entry(format!("nalgebra-{name}")).or_insert(0) += 1;
                vectors(&v, &mut c);
                if let Some(w) = w {
                    vectors(&w, &mut c);
                }
            }
            stmts(&f.body, &mut c);
            f.visit_exprs(&mut |e| {
                let k = match e {
                    Expr::Method(name, ..) => format!("method-{name}"),
                    Expr::Assoc(name, _) => format!("f64::{name}"),
                    Expr::Powi(..) => "method-powi".to_string(),
                    Expr::Call(..) => "call".to_string(),
                    Expr::If(..) => "if-value".to_string(),
                    Expr::Bin(op, ..) => format!("op{op}"),
                    Expr::Neg(_) => "neg".to_string(),
                    Expr::Index(a, _) if a == "m" && f.params.is_nalgebra() => "nalgebra-m[(i, j)]".to_string(),
                    _ => return,
                };
                *c.entry(k).or_insert(0) += 1;
            });
        }
    }
    c
}
