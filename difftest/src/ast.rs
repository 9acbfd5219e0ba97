//! The small AST the generator builds and the shrinker edits; printed as Rust source.

use std::fmt::Write;

/// A float expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A float literal.
    Num(f64),
    /// Source text of a float leaf: a variable, `(*xv)`, `(i as f64)`, a constant.
    Leaf(String),
    /// `x[idx]` / `a[idx]`, the index as source text.
    Index(String, String),
    /// `(l op r)`.
    Bin(char, Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    /// `recv.name(args)`.
    Method(&'static str, Box<Expr>, Vec<Expr>),
    /// `f64::name(recv)`.
    Assoc(&'static str, Box<Expr>),
    Powi(Box<Expr>, i32),
    /// `name(args)`, a call to a generated function.
    Call(String, Vec<Expr>),
    /// `(if cond { a } else { b })`.
    If(Box<Cond>, Box<Expr>, Box<Expr>),
    /// A scalar of nalgebra vectors: `v.dot(&w)` (with `Some(w)`), `v.norm()`, `v.norm_squared()`, `v.sum()`.
    VScalar(&'static str, Box<VExpr>, Option<Box<VExpr>>),
}

/// An expression whose value is a `DVector<f64>` (in functions of `x: &DVector<f64>, m: &DMatrix<f64>`).
#[derive(Clone, Debug, PartialEq)]
pub enum VExpr {
    /// `x` (the parameter, a reference) or a local vector.
    Var(String),
    /// `(m * v)`, or `(m.transpose() * v)` when the flag is set.
    MatVec(bool, Box<VExpr>),
    /// `(v + w)` / `(v - w)`.
    Add(char, Box<VExpr>, Box<VExpr>),
    /// `(s * v)`.
    Scale(Box<Expr>, Box<VExpr>),
    /// `v.add_scalar(s)`.
    AddScalar(Box<VExpr>, Box<Expr>),
    /// `v.component_mul(&w)`.
    ComponentMul(Box<VExpr>, Box<VExpr>),
    /// `v.map(|t| body)`, the closure body as source text in `t`.
    Map(&'static str, Box<VExpr>),
    /// `v.zip_map(&w, |p, q| body)`, the closure body as source text in `p`, `q`.
    ZipMap(&'static str, Box<VExpr>, Box<VExpr>),
}

impl VExpr {
    /// As an operand of `+`, `*` or a method argument: a reference (`x`, `&v`, `&(m * x)`).
    pub fn operand(&self) -> String {
        match self {
            VExpr::Var(v) if v == "x" => v.clone(),
            VExpr::Var(v) => format!("&{v}"),
            e => format!("&{}", e.to_source()),
        }
    }

    /// As a method receiver or a value.
    pub fn to_source(&self) -> String {
        match self {
            VExpr::Var(v) => v.clone(),
            VExpr::MatVec(t, v) => format!("({} * {})", if *t { "m.transpose()" } else { "m" }, v.operand()),
            VExpr::Add(op, a, b) => format!("({} {op} {})", a.operand(), b.operand()),
            VExpr::Scale(s, v) => format!("({} * {})", s.to_source(), v.operand()),
            VExpr::AddScalar(v, s) => format!("{}.add_scalar({})", v.to_source(), s.to_source()),
            VExpr::ComponentMul(a, b) => format!("{}.component_mul({})", a.to_source(), b.operand()),
            VExpr::Map(body, v) => format!("{}.map(|t| {body})", v.to_source()),
            VExpr::ZipMap(body, a, b) => format!("{}.zip_map({}, |p, q| {body})", a.to_source(), b.operand()),
        }
    }

    /// The direct vector subexpressions.
    pub fn vchildren_mut(&mut self) -> Vec<&mut VExpr> {
        match self {
            VExpr::Var(_) => vec![],
            VExpr::MatVec(_, v) | VExpr::Scale(_, v) | VExpr::AddScalar(v, _) | VExpr::Map(_, v) => vec![v],
            VExpr::Add(_, a, b) | VExpr::ComponentMul(a, b) | VExpr::ZipMap(_, a, b) => vec![a, b],
        }
    }

    /// The scalar expressions directly inside (the factor of `Scale`, the summand of `AddScalar`) and
    /// inside nested vector expressions.
    pub fn scalars(&self) -> Vec<&Expr> {
        match self {
            VExpr::Var(_) => vec![],
            VExpr::Scale(s, v) | VExpr::AddScalar(v, s) => std::iter::once(&**s).chain(v.scalars()).collect(),
            VExpr::MatVec(_, v) | VExpr::Map(_, v) => v.scalars(),
            VExpr::Add(_, a, b) | VExpr::ComponentMul(a, b) | VExpr::ZipMap(_, a, b) => {
                a.scalars().into_iter().chain(b.scalars()).collect()
            }
        }
    }

    /// Mutable [`VExpr::scalars`].
    pub fn scalars_mut(&mut self) -> Vec<&mut Expr> {
        match self {
            VExpr::Var(_) => vec![],
            VExpr::Scale(s, v) | VExpr::AddScalar(v, s) => std::iter::once(&mut **s).chain(v.scalars_mut()).collect(),
            VExpr::MatVec(_, v) | VExpr::Map(_, v) => v.scalars_mut(),
            VExpr::Add(_, a, b) | VExpr::ComponentMul(a, b) | VExpr::ZipMap(_, a, b) => {
                a.scalars_mut().into_iter().chain(b.scalars_mut()).collect()
            }
        }
    }

    /// Nodes, scalar expressions included.
    pub fn size(&self) -> usize {
        let mut s = self.clone();
        1 + s.vchildren_mut().iter().map(|c| c.size()).sum::<usize>()
            + match self {
                VExpr::Scale(e, _) | VExpr::AddScalar(_, e) => e.size(),
                _ => 0,
            }
    }
}

/// A condition (of `if`, `while`, `if … break`).
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    /// `l < r` or `l > r`.
    Cmp(Expr, &'static str, Expr),
    /// Source text of an inactive condition (`i % 2 == 0`).
    Raw(String),
    And(Box<Cond>, Box<Cond>),
}

/// The initialiser of a local array or `vec!`.
#[derive(Clone, Debug, PartialEq)]
pub enum ArrInit {
    /// `[v; len]`
    Repeat(f64),
    /// `vec![e; len]`
    VecRepeat(Expr),
    /// `[e0, e1, ...]`
    List(Vec<Expr>),
}

/// A statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    /// `let [mut] name: f64 = e;`
    Let {
        name: String,
        mutable: bool,
        e: Expr,
    },
    /// `let (a, b): (f64, f64) = (e1, e2);`
    LetPair {
        a: String,
        b: String,
        e1: Expr,
        e2: Expr,
    },
    /// `let t: (f64, f64) = (e1, e2);`, read as `t.0`, `t.1`.
    LetTuple {
        name: String,
        e1: Expr,
        e2: Expr,
    },
    /// `name op= e;` (`op` is `=` for a plain assignment).
    Assign {
        name: String,
        op: &'static str,
        e: Expr,
    },
    /// `let mut name = init;` of length `len`.
    LetArr {
        name: String,
        len: usize,
        init: ArrInit,
    },
    /// `name[idx] op= e;`
    ArrAssign {
        name: String,
        idx: String,
        op: &'static str,
        e: Expr,
    },
    If {
        cond: Cond,
        then: Vec<Stmt>,
        els: Vec<Stmt>,
    },
    /// `for pat in iter { body }`, pattern and iterator as source text.
    For {
        pat: String,
        iter: String,
        body: Vec<Stmt>,
    },
    /// `let mut k = 0usize; while k < max && cond { k += 1; body }`.
    While {
        counter: String,
        max: usize,
        cond: Cond,
        body: Vec<Stmt>,
    },
    /// `let mut k = 0usize; loop { if k >= max { break; } k += 1; body }`.
    Loop {
        counter: String,
        max: usize,
        body: Vec<Stmt>,
    },
    /// `match scrut % arms.len() { 0 => {..} ... _ => {..} }`.
    Match {
        scrut: String,
        arms: Vec<Vec<Stmt>>,
    },
    IfBreak(Cond),
    IfContinue(Cond),
    IfReturn(Cond, Expr),
    /// `let mut name: DVector<f64> = e;`
    LetVec {
        name: String,
        e: VExpr,
    },
}

/// The parameter list of a generated function (all parameters are differentiated).
#[derive(Clone, Debug, PartialEq)]
pub enum Params {
    /// `(x: &[f64])` with `x.len() == n`.
    Slice(usize),
    /// `(a: f64, b: f64)`
    Pair,
    /// `(x: &DVector<f64>, m: &DMatrix<f64>)` with `x.len() == n` and `m` of `rows × n`; flattened as `x`
    /// then `m` column by column.
    Linalg { n: usize, rows: usize },
}

/// A generated `#[differentiable] fn name(params) -> f64 { body; tail }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    pub name: String,
    pub params: Params,
    pub body: Vec<Stmt>,
    pub tail: Expr,
}

impl Params {
    /// Whether the parameters are nalgebra types.
    pub fn is_nalgebra(&self) -> bool {
        matches!(self, Params::Linalg { .. })
    }
}

impl Function {
    /// Calls `visit` on every expression of the function, outermost first, conditions' operands included.
    pub fn visit_exprs(&self, visit: &mut impl FnMut(&Expr)) {
        let mut f = self.clone();
        let mut stack: Vec<&mut Expr> = vec![&mut f.tail];
        fn stmts<'a>(b: &'a mut [Stmt], stack: &mut Vec<&'a mut Expr>) {
            for s in b {
                match s {
                    Stmt::If { cond, then, els } => {
                        stack.extend(cond.exprs_mut());
                        stmts(then, stack);
                        stmts(els, stack);
                    }
                    Stmt::While { cond, body, .. } => {
                        stack.extend(cond.exprs_mut());
                        stmts(body, stack);
                    }
                    Stmt::For { body, .. } | Stmt::Loop { body, .. } => stmts(body, stack),
                    Stmt::Match { arms, .. } => arms.iter_mut().for_each(|a| stmts(a, stack)),
                    other => stack.extend(other.exprs_mut()),
                }
            }
        }
        stmts(&mut f.body, &mut stack);
        while let Some(e) = stack.pop() {
            visit(&*e);
            stack.extend(e.children_mut());
        }
    }

    /// Calls `visit` on every condition of a statement (`if`, `while`, `if … break/continue/return`); the
    /// conditions of `if` values are reached through [`Function::visit_exprs`].
    pub fn visit_conds(&self, visit: &mut impl FnMut(&Cond)) {
        fn stmts(b: &[Stmt], visit: &mut impl FnMut(&Cond)) {
            for s in b {
                match s {
                    Stmt::If { cond, then, els } => {
                        visit(cond);
                        stmts(then, visit);
                        stmts(els, visit);
                    }
                    Stmt::While { cond, body, .. } => {
                        visit(cond);
                        stmts(body, visit);
                    }
                    Stmt::For { body, .. } | Stmt::Loop { body, .. } => stmts(body, visit),
                    Stmt::Match { arms, .. } => arms.iter().for_each(|a| stmts(a, visit)),
                    Stmt::IfBreak(c) | Stmt::IfContinue(c) | Stmt::IfReturn(c, _) => visit(c),
                    _ => {}
                }
            }
        }
        stmts(&self.body, visit);
    }

    /// The number of scalar inputs (the length of the flattened input).
    pub fn dim(&self) -> usize {
        match self.params {
            Params::Slice(n) => n,
            Params::Pair => 2,
            Params::Linalg { n, rows } => n + rows * n,
        }
    }
}

/// A float literal as source text (negative ones parenthesised).
pub fn num(v: f64) -> String {
    let s = format!("{v:?}");
    if v < 0.0 {
        format!("({s})")
    } else {
        s
    }
}

/// A literal typed `f64`, usable as a method receiver.
pub fn num_f64(v: f64) -> String {
    if v < 0.0 {
        format!("({v:?}_f64)")
    } else {
        format!("{v:?}_f64")
    }
}

impl Expr {
    /// Appends the source text.
    pub fn print(&self, out: &mut String) {
        match self {
            Expr::Num(v) => out.push_str(&num_f64(*v)),
            Expr::Leaf(s) => out.push_str(s),
            Expr::Index(a, i) => {
                let _ = write!(out, "{a}[{i}]");
            }
            Expr::Bin(op, l, r) => {
                out.push('(');
                l.print(out);
                let _ = write!(out, " {op} ");
                r.print(out);
                out.push(')');
            }
            Expr::Neg(e) => {
                out.push_str("(-");
                e.print(out);
                out.push(')');
            }
            Expr::Method(name, recv, args) => {
                if let Expr::Num(v) = **recv {
                    out.push_str(&num_f64(v));
                } else {
                    recv.print(out);
                }
                let _ = write!(out, ".{name}(");
                for (k, a) in args.iter().enumerate() {
                    if k > 0 {
                        out.push_str(", ");
                    }
                    a.print(out);
                }
                out.push(')');
            }
            Expr::Assoc(name, e) => {
                let _ = write!(out, "f64::{name}(");
                e.print(out);
                out.push(')');
            }
            Expr::Powi(e, k) => {
                if let Expr::Num(v) = **e {
                    out.push_str(&num_f64(v));
                } else {
                    e.print(out);
                }
                let _ = write!(out, ".powi({k})");
            }
            Expr::Call(f, args) => {
                let _ = write!(out, "{f}(");
                for (k, a) in args.iter().enumerate() {
                    if k > 0 {
                        out.push_str(", ");
                    }
                    a.print(out);
                }
                out.push(')');
            }
            Expr::VScalar(name, v, w) => {
                out.push_str(&v.to_source());
                match w {
                    Some(w) => {
                        let _ = write!(out, ".{name}({})", w.operand());
                    }
                    None => {
                        let _ = write!(out, ".{name}()");
                    }
                }
            }
            Expr::If(c, a, b) => {
                out.push_str("(if ");
                c.print(out);
                out.push_str(" { ");
                a.print(out);
                out.push_str(" } else { ");
                b.print(out);
                out.push_str(" })");
            }
        }
    }

    /// The source text.
    pub fn to_source(&self) -> String {
        let mut s = String::new();
        self.print(&mut s);
        s
    }

    /// The direct subexpressions (for shrinking: an expression may be replaced by one of them).
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Num(_) | Expr::Leaf(_) | Expr::Index(..) => vec![],
            Expr::Bin(_, l, r) => vec![l, r],
            Expr::Neg(e) | Expr::Assoc(_, e) | Expr::Powi(e, _) => vec![e],
            Expr::Method(_, r, args) => std::iter::once(&**r).chain(args.iter()).collect(),
            Expr::Call(_, args) => args.iter().collect(),
            Expr::If(_, a, b) => vec![a, b],
            Expr::VScalar(_, v, w) => v.scalars().into_iter().chain(w.iter().flat_map(|w| w.scalars())).collect(),
        }
    }

    /// Mutable [`Expr::children`], the operands of an `if` value's condition included.
    pub fn children_mut(&mut self) -> Vec<&mut Expr> {
        match self {
            Expr::Num(_) | Expr::Leaf(_) | Expr::Index(..) => vec![],
            Expr::Bin(_, l, r) => vec![l, r],
            Expr::Neg(e) | Expr::Assoc(_, e) | Expr::Powi(e, _) => vec![e],
            Expr::Method(_, r, args) => std::iter::once(&mut **r).chain(args.iter_mut()).collect(),
            Expr::Call(_, args) => args.iter_mut().collect(),
            Expr::If(c, a, b) => {
                let mut v: Vec<&mut Expr> = vec![a, b];
                v.extend(c.exprs_mut());
                v
            }
            Expr::VScalar(_, v, w) => {
                v.scalars_mut().into_iter().chain(w.iter_mut().flat_map(|w| w.scalars_mut())).collect()
            }
        }
    }

    /// The number of nodes (the shrinker's measure).
    pub fn size(&self) -> usize {
        match self {
            Expr::VScalar(_, v, w) => 1 + v.size() + w.as_ref().map_or(0, |w| w.size()),
            _ => 1 + self.children().iter().map(|c| c.size()).sum::<usize>(),
        }
    }
}

impl Cond {
    /// Appends the source text.
    pub fn print(&self, out: &mut String) {
        match self {
            Cond::Cmp(l, op, r) => {
                l.print(out);
                let _ = write!(out, " {op} ");
                r.print(out);
            }
            Cond::Raw(s) => out.push_str(s),
            Cond::And(a, b) => {
                out.push('(');
                a.print(out);
                out.push_str(") && (");
                b.print(out);
                out.push(')');
            }
        }
    }

    /// Calls `visit` on every expression of the condition and their subexpressions.
    pub fn visit_exprs(&self, visit: &mut impl FnMut(&Expr)) {
        fn walk(e: &Expr, visit: &mut impl FnMut(&Expr)) {
            visit(e);
            for c in e.children() {
                walk(c, visit);
            }
            if let Expr::If(c, ..) = e {
                c.visit_exprs(visit);
            }
        }
        match self {
            Cond::Cmp(l, _, r) => {
                walk(l, visit);
                walk(r, visit);
            }
            Cond::Raw(_) => {}
            Cond::And(a, b) => {
                a.visit_exprs(visit);
                b.visit_exprs(visit);
            }
        }
    }

    /// The expressions directly in it.
    pub fn exprs_mut(&mut self) -> Vec<&mut Expr> {
        match self {
            Cond::Cmp(l, _, r) => vec![l, r],
            Cond::Raw(_) => vec![],
            Cond::And(a, b) => {
                let mut v = a.exprs_mut();
                v.extend(b.exprs_mut());
                v
            }
        }
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("    ");
    }
}

fn print_block(body: &[Stmt], out: &mut String, depth: usize) {
    out.push_str("{\n");
    for s in body {
        s.print(out, depth + 1);
    }
    indent(out, depth);
    out.push('}');
}

impl Stmt {
    /// Prints the statement as source, indented `depth` levels.
    pub fn print(&self, out: &mut String, depth: usize) {
        indent(out, depth);
        match self {
            Stmt::Let { name, mutable, e } => {
                // No `: f64` (every literal is typed): known bug 4 (see the README), `let v: f64 = g(x, 0.5);`
                // does not compile.
                let _ = writeln!(out, "let {}{name} = {};", if *mutable { "mut " } else { "" }, e.to_source());
            }
            Stmt::LetPair { a, b, e1, e2 } => {
                let _ = writeln!(out, "let ({a}, {b}): (f64, f64) = ({}, {});", e1.to_source(), e2.to_source());
            }
            Stmt::LetTuple { name, e1, e2 } => {
                let _ = writeln!(out, "let {name}: (f64, f64) = ({}, {});", e1.to_source(), e2.to_source());
            }
            Stmt::Assign { name, op, e } => {
                let _ = writeln!(out, "{name} {op} {};", e.to_source());
            }
            Stmt::LetArr { name, len, init } => {
                let init = match init {
                    ArrInit::Repeat(v) => format!("[{}; {len}]", num_f64(*v)),
                    ArrInit::VecRepeat(e) => format!("vec![{}; {len}]", e.to_source()),
                    ArrInit::List(es) => {
                        format!("[{}]", es.iter().map(|e| e.to_source()).collect::<Vec<_>>().join(", "))
                    }
                };
                let ty = match self {
                    Stmt::LetArr { init: ArrInit::VecRepeat(_), .. } => "Vec<f64>".to_string(),
                    _ => format!("[f64; {len}]"),
                };
                let _ = writeln!(out, "let mut {name}: {ty} = {init};");
            }
            Stmt::ArrAssign { name, idx, op, e } => {
                let _ = writeln!(out, "{name}[{idx}] {op} {};", e.to_source());
            }
            Stmt::If { cond, then, els } => {
                out.push_str("if ");
                cond.print(out);
                out.push(' ');
                print_block(then, out, depth);
                if !els.is_empty() {
                    out.push_str(" else ");
                    print_block(els, out, depth);
                }
                out.push('\n');
            }
            Stmt::For { pat, iter, body } => {
                let _ = write!(out, "for {pat} in {iter} ");
                print_block(body, out, depth);
                out.push('\n');
            }
            Stmt::While { counter, max, cond, body } => {
                let _ = writeln!(out, "let mut {counter}: usize = 0;");
                indent(out, depth);
                let _ = write!(out, "while {counter} < {max} && ");
                let mut c = String::new();
                cond.print(&mut c);
                let _ = writeln!(out, "({c}) {{");
                indent(out, depth + 1);
                let _ = writeln!(out, "{counter} += 1;");
                for s in body {
                    s.print(out, depth + 1);
                }
                indent(out, depth);
                out.push_str("}\n");
            }
            Stmt::Loop { counter, max, body } => {
                let _ = writeln!(out, "let mut {counter}: usize = 0;");
                indent(out, depth);
                out.push_str("loop {\n");
                indent(out, depth + 1);
                let _ = writeln!(out, "if {counter} >= {max} {{ break; }}");
                indent(out, depth + 1);
                let _ = writeln!(out, "{counter} += 1;");
                for s in body {
                    s.print(out, depth + 1);
                }
                indent(out, depth);
                out.push_str("}\n");
            }
            Stmt::Match { scrut, arms } => {
                let _ = writeln!(out, "match {scrut} % {} {{", arms.len());
                for (k, arm) in arms.iter().enumerate() {
                    indent(out, depth + 1);
                    if k + 1 == arms.len() {
                        out.push_str("_ => ");
                    } else {
                        let _ = write!(out, "{k} => ");
                    }
                    print_block(arm, out, depth + 1);
                    out.push('\n');
                }
                indent(out, depth);
                out.push_str("}\n");
            }
            Stmt::IfBreak(c) | Stmt::IfContinue(c) => {
                out.push_str("if ");
                c.print(out);
                out.push_str(if matches!(self, Stmt::IfBreak(_)) { " { break; }\n" } else { " { continue; }\n" });
            }
            Stmt::IfReturn(c, e) => {
                out.push_str("if ");
                c.print(out);
                let _ = writeln!(out, " {{ return {}; }}", e.to_source());
            }
            Stmt::LetVec { name, e } => {
                let _ = writeln!(out, "let mut {name}: DVector<f64> = {};", e.to_source());
            }
        }
    }

    /// The nested statement lists.
    pub fn blocks_mut(&mut self) -> Vec<&mut Vec<Stmt>> {
        match self {
            Stmt::If { then, els, .. } => vec![then, els],
            Stmt::For { body, .. } | Stmt::While { body, .. } | Stmt::Loop { body, .. } => vec![body],
            Stmt::Match { arms, .. } => arms.iter_mut().collect(),
            _ => vec![],
        }
    }

    /// The expressions directly in this statement (not in nested blocks).
    pub fn exprs_mut(&mut self) -> Vec<&mut Expr> {
        match self {
            Stmt::Let { e, .. } | Stmt::Assign { e, .. } | Stmt::ArrAssign { e, .. } => vec![e],
            Stmt::LetPair { e1, e2, .. } | Stmt::LetTuple { e1, e2, .. } => vec![e1, e2],
            Stmt::LetArr { init: ArrInit::VecRepeat(e), .. } => vec![e],
            Stmt::LetArr { init: ArrInit::List(es), .. } => es.iter_mut().collect(),
            Stmt::LetArr { .. } => vec![],
            Stmt::If { cond, .. } | Stmt::While { cond, .. } => cond.exprs_mut(),
            Stmt::IfBreak(c) | Stmt::IfContinue(c) => c.exprs_mut(),
            Stmt::IfReturn(c, e) => {
                let mut v = c.exprs_mut();
                v.push(e);
                v
            }
            Stmt::LetVec { e, .. } => e.scalars_mut(),
            Stmt::For { .. } | Stmt::Loop { .. } | Stmt::Match { .. } => vec![],
        }
    }
}

impl Function {
    /// Appends the source text.
    pub fn print(&self, out: &mut String) {
        let params = match self.params {
            Params::Slice(_) => "x: &[f64]",
            Params::Pair => "a: f64, b: f64",
            Params::Linalg { .. } => "x: &DVector<f64>, m: &DMatrix<f64>",
        };
        let _ = writeln!(out, "#[differentiable]\nfn {}({params}) -> f64 {{", self.name);
        for s in &self.body {
            s.print(out, 1);
        }
        let _ = writeln!(out, "    {}\n}}", self.tail.to_source());
    }

    /// The number of nodes (the shrinker's measure).
    pub fn size(&self) -> usize {
        fn stmts(b: &[Stmt]) -> usize {
            b.iter()
                .map(|s| {
                    let mut s = s.clone();
                    1 + s.exprs_mut().iter().map(|e| e.size()).sum::<usize>()
                        + s.blocks_mut().iter().map(|b| stmts(b)).sum::<usize>()
                })
                .sum()
        }
        stmts(&self.body) + self.tail.size()
    }
}
