//! The intermediate representation: a function body in three-address form.
//!
//! Every intermediate value is a named variable defined by one [`Expr`] (one operation on
//! [`Operand`]s); user variables are renamed apart so shadowing disappears; control flow stays
//! structured (`if`, `match`, `for`, `while`, `loop`). Expressions that can never carry a derivative
//! (comparisons, `no_grad(..)`, `x.len()`, `i as usize`) are kept whole as [`Opaque`] tokens. The
//! [`Display`](std::fmt::Display) form is the debugging view and the format of the unit-test snapshots.

use proc_macro2::{Ident, Span, TokenStream};
use std::fmt;

pub type VarId = usize;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Origin {
    /// A parameter of the function (its index).
    Param(usize),
    /// A `let` binding or loop binding written by the user.
    User,
    /// An intermediate introduced by lowering.
    Temp,
    /// A control-flow flag or result introduced by normalisation.
    Flag,
}

#[derive(Clone)]
pub struct VarInfo {
    /// The name in generated code.
    pub name: Ident,
    pub span: Span,
    pub mutable: bool,
    /// Declared without a value (`let y;`), assigned exactly once on each path.
    pub deferred: bool,
    pub origin: Origin,
    /// The user's expression that defines it, for error messages spanning the whole expression.
    pub source: Option<TokenStream>,
}

#[derive(Clone)]
pub enum Operand {
    Var(VarId),
    /// A literal or constant path (`2.0`, `PI`, `N`): never active.
    Const(TokenStream),
}

/// An expression kept whole because it cannot carry a derivative.
#[derive(Clone)]
pub struct Opaque {
    pub tokens: TokenStream,
    /// The variables it reads.
    pub reads: Vec<VarId>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    /// Integer and boolean operators (`& | ^ << >>`): never active.
    Bits(&'static str),
}

#[derive(Clone)]
pub struct CallArg {
    pub operand: Operand,
    /// Passed as `&x`.
    pub by_ref: bool,
}

#[derive(Clone)]
pub enum Expr {
    Use(Operand),
    /// `x.clone()`, `x.to_vec()`, `x.to_owned()`: a copy, spelled as the user wrote it.
    Copied {
        operand: Operand,
        method: Ident,
    },
    Neg(Operand),
    Bin(BinOp, Operand, Operand),
    /// `recv.name(args)`: a float method with a derivative rule, or any method on inactive values.
    Method {
        name: Ident,
        recv: Operand,
        args: Vec<Operand>,
    },
    /// `x as T`; `to_float` when `T` is `f64` or `f32`.
    Cast {
        operand: Operand,
        ty: syn::Type,
        to_float: bool,
    },
    /// `base.f.g[index]`: an element of a variable, or of a (nested) field of one.
    Index {
        base: VarId,
        fields: Vec<Ident>,
        index: Operand,
    },
    /// `&base.field`: a borrowed field of a struct (a parameter struct, or constant data).
    NamedField {
        base: Operand,
        field: Ident,
    },
    /// A call to another function: differentiable (if any argument is active) or constant.
    Call {
        path: syn::Path,
        args: Vec<CallArg>,
    },
    Tuple(Vec<Operand>),
    Field(Operand, u32),
    /// `vec![a, b]` (`vec`) or `[a, b]`.
    Array {
        vec: bool,
        elems: Vec<Operand>,
    },
    /// `vec![x; n]` or `[x; n]`.
    Repeat {
        vec: bool,
        elem: Operand,
        len: Opaque,
    },
    /// `a.map(|v| ..)` or `a.zip_map(&b, |u, v| ..)`: elementwise, with the closure's body differentiated.
    Map {
        recv: Operand,
        other: Option<Operand>,
        closure: Box<Closure>,
    },
    /// `DVector::from_element(n, x)`, `DMatrix::from_element(r, c, x)`: a constant shape filled with `x`.
    FromElement {
        path: syn::Path,
        dims: Vec<Operand>,
        elem: Operand,
    },
    Opaque(Opaque),
}

/// A closure given to `map`/`zip_map`: as written (renamed), and its body lowered as a function of its
/// parameters, from which the forward transform makes its JVP.
#[derive(Clone)]
pub struct Closure {
    pub tokens: TokenStream,
    pub body: Function,
    /// Outer variables the closure reads (they must be constants).
    pub captures: Vec<VarId>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AssignOp {
    Set,
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Clone)]
pub enum Place {
    Var(VarId),
    Index(VarId, Operand),
}

#[derive(Clone)]
pub struct Arm {
    /// The pattern, with its bindings renamed.
    pub pat: TokenStream,
    pub guard: Option<Opaque>,
    pub body: Vec<Stmt>,
}

#[derive(Clone)]
pub enum Stmt {
    Let {
        var: VarId,
        ty: Option<Box<syn::Type>>,
        init: Option<Expr>,
    },
    Assign {
        place: Place,
        op: AssignOp,
        value: Operand,
    },
    If {
        cond: Opaque,
        then_branch: Vec<Stmt>,
        else_branch: Vec<Stmt>,
    },
    Match {
        scrutinee: Opaque,
        arms: Vec<Arm>,
    },
    /// `for var in iter`, where `iter` yields integers; `exit` is checked after each iteration.
    For {
        var: VarId,
        iter: Opaque,
        body: Vec<Stmt>,
        exit: Option<Opaque>,
    },
    While {
        cond: Opaque,
        body: Vec<Stmt>,
        exit: Option<Opaque>,
    },
    Loop {
        body: Vec<Stmt>,
        exit: Option<Opaque>,
    },
    Break,
    Continue,
    Return(Operand),
}

#[derive(Clone)]
pub struct Function {
    pub vars: Vec<VarInfo>,
    pub body: Vec<Stmt>,
    /// The value of the body's tail expression; `None` when every path returns.
    pub tail: Option<Operand>,
}

impl Function {
    pub fn name(&self, v: VarId) -> &Ident {
        &self.vars[v].name
    }
}

/// Calls `f` on every statement, depth first, in program order.
pub fn walk<'a>(stmts: &'a [Stmt], f: &mut impl FnMut(&'a Stmt)) {
    for s in stmts {
        f(s);
        for block in children(s) {
            walk(block, f);
        }
    }
}

/// The nested statement lists of a statement.
pub fn children(s: &Stmt) -> Vec<&Vec<Stmt>> {
    match s {
        Stmt::If { then_branch, else_branch, .. } => vec![then_branch, else_branch],
        Stmt::Match { arms, .. } => arms.iter().map(|a| &a.body).collect(),
        Stmt::For { body, .. } | Stmt::While { body, .. } | Stmt::Loop { body, .. } => vec![body],
        _ => vec![],
    }
}

impl Operand {
    pub fn var(&self) -> Option<VarId> {
        match self {
            Operand::Var(v) => Some(*v),
            Operand::Const(_) => None,
        }
    }
}

impl Expr {
    /// The operands whose derivatives flow into this expression's value.
    pub fn operands(&self) -> Vec<&Operand> {
        match self {
            Expr::Use(a)
            | Expr::Copied { operand: a, .. }
            | Expr::Neg(a)
            | Expr::Field(a, _)
            | Expr::NamedField { base: a, .. } => vec![a],
            Expr::Bin(_, a, b) => vec![a, b],
            Expr::Method { recv, args, .. } => std::iter::once(recv).chain(args).collect(),
            Expr::Cast { operand, .. } => vec![operand],
            Expr::Index { index, .. } => vec![index],
            Expr::Call { args, .. } => args.iter().map(|a| &a.operand).collect(),
            Expr::Tuple(es) | Expr::Array { elems: es, .. } => es.iter().collect(),
            Expr::Repeat { elem, .. } | Expr::FromElement { elem, .. } => vec![elem],
            Expr::Map { recv, other, .. } => std::iter::once(recv).chain(other).collect(),
            Expr::Opaque(_) => vec![],
        }
    }

    /// Every variable the expression reads.
    pub fn reads(&self) -> Vec<VarId> {
        let mut out: Vec<VarId> = self.operands().into_iter().filter_map(Operand::var).collect();
        match self {
            Expr::Index { base, .. } => out.push(*base),
            Expr::Repeat { len, .. } => out.extend(&len.reads),
            Expr::Map { closure, .. } => out.extend(&closure.captures),
            Expr::FromElement { dims, .. } => out.extend(dims.iter().filter_map(Operand::var)),
            Expr::Opaque(o) => out.extend(&o.reads),
            _ => {}
        }
        out
    }
}

// ---- pretty printing -------------------------------------------------------------------------------

/// Pretty-prints a body (the lowered one, or the single-exit one) with the function's variable names.
pub struct Display<'a> {
    pub function: &'a Function,
    pub body: &'a [Stmt],
    pub result: Option<&'a Operand>,
}

fn tokens(t: &TokenStream) -> String {
    t.to_string()
}

impl Display<'_> {
    fn operand(&self, o: &Operand) -> String {
        match o {
            Operand::Var(v) => self.function.name(*v).to_string(),
            Operand::Const(t) => tokens(t),
        }
    }

    fn expr(&self, e: &Expr) -> String {
        let op = |o| self.operand(o);
        match e {
            Expr::Use(a) => op(a),
            Expr::Copied { operand, method } => format!("{}.{method}()", op(operand)),
            Expr::Neg(a) => format!("neg {}", op(a)),
            Expr::Bin(b, x, y) => {
                let sym = match b {
                    BinOp::Add => "+",
                    BinOp::Sub => "-",
                    BinOp::Mul => "*",
                    BinOp::Div => "/",
                    BinOp::Rem => "%",
                    BinOp::Bits(s) => s,
                };
                format!("{} {sym} {}", op(x), op(y))
            }
            Expr::Method { name, recv, args } => {
                let args: Vec<String> = args.iter().map(op).collect();
                format!("{}.{name}({})", op(recv), args.join(", "))
            }
            Expr::Cast { operand, ty, .. } => format!("{} as {}", op(operand), quote::quote!(#ty)),
            Expr::Index { base, fields, index } => {
                let path: String = fields.iter().map(|f| format!(".{f}")).collect();
                format!("{}{path}[{}]", self.function.name(*base), op(index))
            }
            Expr::NamedField { base, field } => format!("&{}.{field}", op(base)),
            Expr::Call { path, args } => {
                let args: Vec<String> =
                    args.iter().map(|a| format!("{}{}", if a.by_ref { "&" } else { "" }, op(&a.operand))).collect();
                format!("call {}({})", quote::quote!(#path).to_string().replace(' ', ""), args.join(", "))
            }
            Expr::Tuple(es) => format!("({})", es.iter().map(op).collect::<Vec<_>>().join(", ")),
            Expr::Field(a, k) => format!("{}.{k}", op(a)),
            Expr::Array { vec, elems } => {
                format!("{}[{}]", if *vec { "vec!" } else { "" }, elems.iter().map(op).collect::<Vec<_>>().join(", "))
            }
            Expr::Repeat { vec, elem, len } => {
                format!("{}[{}; {}]", if *vec { "vec!" } else { "" }, op(elem), tokens(&len.tokens))
            }
            Expr::Map { recv, other, closure } => match other {
                Some(b) => format!("{}.zip_map({}, {})", op(recv), op(b), tokens(&closure.tokens)),
                None => format!("{}.map({})", op(recv), tokens(&closure.tokens)),
            },
            Expr::FromElement { path, dims, elem } => {
                let dims: Vec<String> = dims.iter().map(op).collect();
                format!("{}({}, {})", quote::quote!(#path).to_string().replace(' ', ""), dims.join(", "), op(elem))
            }
            Expr::Opaque(o) => format!("const {{ {} }}", tokens(&o.tokens)),
        }
    }

    fn block(&self, stmts: &[Stmt], depth: usize, out: &mut String) {
        for s in stmts {
            self.stmt(s, depth, out);
        }
    }

    fn stmt(&self, s: &Stmt, depth: usize, out: &mut String) {
        let pad = "    ".repeat(depth);
        let name = |v: &VarId| self.function.name(*v).to_string();
        match s {
            Stmt::Let { var, init, .. } => {
                let m = if self.function.vars[*var].mutable { "mut " } else { "" };
                match init {
                    Some(e) => out.push_str(&format!("{pad}let {m}{} = {}\n", name(var), self.expr(e))),
                    None => out.push_str(&format!("{pad}let {m}{}\n", name(var))),
                }
            }
            Stmt::Assign { place, op, value, .. } => {
                let target = match place {
                    Place::Var(v) => name(v),
                    Place::Index(v, i) => format!("{}[{}]", name(v), self.operand(i)),
                };
                let sym = match op {
                    AssignOp::Set => "=",
                    AssignOp::Add => "+=",
                    AssignOp::Sub => "-=",
                    AssignOp::Mul => "*=",
                    AssignOp::Div => "/=",
                };
                out.push_str(&format!("{pad}{target} {sym} {}\n", self.operand(value)));
            }
            Stmt::If { cond, then_branch, else_branch } => {
                out.push_str(&format!("{pad}if {} {{\n", tokens(&cond.tokens)));
                self.block(then_branch, depth + 1, out);
                if !else_branch.is_empty() {
                    out.push_str(&format!("{pad}}} else {{\n"));
                    self.block(else_branch, depth + 1, out);
                }
                out.push_str(&format!("{pad}}}\n"));
            }
            Stmt::Match { scrutinee, arms } => {
                out.push_str(&format!("{pad}match {} {{\n", tokens(&scrutinee.tokens)));
                for arm in arms {
                    let guard = arm.guard.as_ref().map(|g| format!(" if {}", tokens(&g.tokens))).unwrap_or_default();
                    out.push_str(&format!("{pad}    {}{guard} => {{\n", tokens(&arm.pat)));
                    self.block(&arm.body, depth + 2, out);
                    out.push_str(&format!("{pad}    }}\n"));
                }
                out.push_str(&format!("{pad}}}\n"));
            }
            Stmt::For { var, iter, body, exit } => {
                out.push_str(&format!("{pad}for {} in {} {{\n", name(var), tokens(&iter.tokens)));
                self.block(body, depth + 1, out);
                self.exit(exit, depth + 1, out);
                out.push_str(&format!("{pad}}}\n"));
            }
            Stmt::While { cond, body, exit } => {
                out.push_str(&format!("{pad}while {} {{\n", tokens(&cond.tokens)));
                self.block(body, depth + 1, out);
                self.exit(exit, depth + 1, out);
                out.push_str(&format!("{pad}}}\n"));
            }
            Stmt::Loop { body, exit } => {
                out.push_str(&format!("{pad}loop {{\n"));
                self.block(body, depth + 1, out);
                self.exit(exit, depth + 1, out);
                out.push_str(&format!("{pad}}}\n"));
            }
            Stmt::Break => out.push_str(&format!("{pad}break\n")),
            Stmt::Continue => out.push_str(&format!("{pad}continue\n")),
            Stmt::Return(o) => out.push_str(&format!("{pad}return {}\n", self.operand(o))),
        }
    }

    fn exit(&self, exit: &Option<Opaque>, depth: usize, out: &mut String) {
        if let Some(e) = exit {
            out.push_str(&format!("{}exit if {}\n", "    ".repeat(depth), tokens(&e.tokens)));
        }
    }
}

impl fmt::Display for Display<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.block(self.body, 0, &mut out);
        if let Some(t) = self.result {
            out.push_str(&format!("result {}\n", self.operand(t)));
        }
        f.write_str(&out)
    }
}
