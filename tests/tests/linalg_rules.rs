//! Property tests of the nalgebra derivative rules, one operation at a time.
//!
//! Each operation `z = op(a, b, ..)` is written two ways, and checked at random shapes (including 1×1
//! and non-square ones) and random points:
//! - *directly*, as a `#[differentiable]` function returning `z` (a matrix, a vector or a scalar):
//!   the dot-product identity `⟨J·v, w⟩ = ⟨v, Jᵀ·w⟩` from `f_jvp` and `f_vjp` for random `v`, `w`, to
//!   1e-12 relative; `J·v` against a closed form computed with plain nalgebra, to 1e-12; and everything
//!   `common::check_vector` checks (each row of `J` against central finite differences, `f_jvp`
//!   columns against `f_vjp` rows, `f_vjp` accumulating);
//! - *contracted* with a constant random cotangent `w`, `f(a, b, ..) = ⟨op(a, b, ..), w⟩` (the
//!   contraction written with element reads in loops, so that it does not go through the rules under
//!   test): then `f_jvp(x, v) = ⟨J·v, w⟩` and `f_vjp(x, 1) = Jᵀ·w`; the same identity and closed form,
//!   and everything `common::check_all` checks (gradient against finite differences, forward against
//!   reverse mode, `f_grad_into` overwriting and `f_vjp` accumulating).
//!
//! The module `regressions` at the end holds reduced constructs that once failed to compile.

#[macro_use]
mod common;
#[macro_use]
mod linalg_common;

use adjoint::differentiable;
use common::*;
use linalg_common::*;
use nalgebra::{DMatrix, DVector, RowDVector};
use rand::{rngs::StdRng, Rng};

/// Matrix shapes every unary operation is checked at.
const SHAPES: [(usize, usize); 6] = [(1, 1), (1, 4), (3, 1), (2, 3), (4, 4), (5, 2)];
/// `(r, k, c)`: in products, `A` is `r×k` and `B` is `k×c`.
const PRODUCT_SHAPES: [(usize, usize, usize); 6] = [(1, 1, 1), (2, 3, 4), (4, 1, 3), (3, 3, 3), (1, 5, 2), (3, 2, 1)];
/// Random points per shape.
const PER_SHAPE: usize = 2;

/// `J·v`, flattened, as a closed form of the point and the direction.
type Closed<'a> = &'a dyn Fn(&[f64], &[f64]) -> Vec<f64>;

/// `|a − b| ≤ 1e-12·scale` (plus a tiny absolute floor), `scale` the sum of the magnitudes of the terms.
#[track_caller]
fn assert_identity(a: f64, b: f64, scale: f64, what: &str) {
    assert!((a - b).abs() <= 1e-14 + 1e-12 * scale.max(a.abs()).max(b.abs()), "{what}: {a:e} vs {b:e}");
}

/// The contracted form `f = ⟨op(x), w⟩` (`w` flattened): the dot-product identity, `⟨J·v, w⟩` against the
/// closed form, then `check_all`.
#[track_caller]
fn check_rule(fns: &Scalar, pts: &[Vec<f64>], r: &mut StdRng, w: &[f64], closed: Closed) {
    for x in pts {
        let n = x.len();
        let v = random_vec(r, n);
        let (value, jv_w) = (fns.jvp)(x, &v);
        assert_close(value, (fns.f)(x), 1e-13, "value returned by f_jvp");
        let mut jt_w = vec![0.0; n];
        (fns.vjp)(x, 1.0, &mut jt_w);
        let scale = v.iter().zip(&jt_w).map(|(a, b)| (a * b).abs()).sum::<f64>();
        assert_identity(jv_w, dot(&v, &jt_w), scale, &format!("⟨J·v, w⟩ vs ⟨v, Jᵀ·w⟩ at {x:?} along {v:?}"));
        let jv = closed(x, &v);
        let scale = jv.iter().zip(w).map(|(a, b)| (a * b).abs()).sum::<f64>();
        assert_identity(jv_w, dot(&jv, w), scale, &format!("⟨J·v, w⟩ vs the closed form at {x:?} along {v:?}"));
    }
    check_all(fns, pts);
}

/// The direct form `z = op(x)`: the dot-product identity for random `v`, `w`, `J·v` against the closed
/// form, then `check_vector`.
#[track_caller]
fn check_direct(fns: &Vector, pts: &[Vec<f64>], r: &mut StdRng, closed: Closed) {
    for x in pts {
        let (n, value) = (x.len(), (fns.f)(x));
        let m = value.len();
        let (v, w) = (random_vec(r, n), random_vec(r, m));
        let (value_jvp, jv) = (fns.jvp)(x, &v);
        assert_all_close(&value_jvp, &value, 1e-13, "value returned by f_jvp");
        let mut jt_w = vec![0.0; n];
        let value_vjp = (fns.vjp)(x, &w, &mut jt_w);
        assert_all_close(&value_vjp, &value, 1e-13, "value returned by f_vjp");
        let scale = jv.iter().zip(&w).map(|(a, b)| (a * b).abs()).sum::<f64>()
            + v.iter().zip(&jt_w).map(|(a, b)| (a * b).abs()).sum::<f64>();
        assert_identity(dot(&jv, &w), dot(&v, &jt_w), scale, &format!("⟨J·v, w⟩ vs ⟨v, Jᵀ·w⟩ at {x:?}"));
        let expected = closed(x, &v);
        assert_eq!(expected.len(), m, "closed form: length");
        for (k, (a, b)) in jv.iter().zip(&expected).enumerate() {
            assert_identity(*a, *b, 1.0, &format!("(J·v)[{k}] vs the closed form at {x:?} along {v:?}"));
        }
    }
    check_vector(fns, pts);
}

/// `PER_SHAPE` points of dimension `dim` with coordinates in `-1..1`.
fn pts(r: &mut StdRng, dim: usize) -> Vec<Vec<f64>> {
    (0..PER_SHAPE).map(|_| random_vec(r, dim)).collect()
}

/// Points whose last `n_den` coordinates (divisors) stay away from zero: `±(0.5..1.5)`.
fn divisor_pts(r: &mut StdRng, n_num: usize, n_den: usize) -> Vec<Vec<f64>> {
    (0..PER_SHAPE)
        .map(|_| {
            let mut p = random_vec(r, n_num);
            p.extend((0..n_den).map(|_| r.gen_range(0.5..1.5) * if r.gen_bool(0.5) { 1.0 } else { -1.0 }));
            p
        })
        .collect()
}

/// Reads matrices of the given shapes off a flat slice, in order.
fn mats(x: &[f64], shapes: &[(usize, usize)]) -> Vec<DMatrix<f64>> {
    let mut at = 0;
    let out = shapes.iter().map(|&s| DMatrix::<f64>::read(s, x, &mut at)).collect();
    assert_eq!(at, x.len(), "mats: length");
    out
}

/// One matrix of the given shape.
fn mat(x: &[f64], shape: (usize, usize)) -> DMatrix<f64> {
    mats(x, &[shape]).remove(0)
}

fn flat(m: DMatrix<f64>) -> Vec<f64> {
    m.as_slice().to_vec()
}

// ---------------------------------------------------------------------------------------------------
// Unary operations with a matrix result: transpose, unary minus, add_scalar, map, row, column.
// ---------------------------------------------------------------------------------------------------

#[differentiable(wrt(a))]
fn q_transpose(a: &DMatrix<f64>) -> DMatrix<f64> {
    a.transpose()
}

#[differentiable(wrt(a))]
fn p_transpose(a: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let z = a.transpose();
    let mut s = 0.0;
    for i in 0..w.nrows() {
        for j in 0..w.ncols() {
            s += z[(i, j)] * w[(i, j)];
        }
    }
    s
}

#[test]
fn transpose_rule() {
    let mut r = rng(101);
    for (rows, cols) in SHAPES {
        let w = dmat(&mut r, cols, rows);
        let closed = |_: &[f64], v: &[f64]| flat(mat(v, (rows, cols)).transpose());
        let pts = pts(&mut r, rows * cols);
        let fns = flat_view!(p_transpose, p_transpose_grad, p_transpose_jvp, p_transpose_grad_into, p_transpose_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; [&w]);
        check_rule(&fns, &pts, &mut r, w.as_slice(), &closed);
        let fns = flat_vector_view!(q_transpose, q_transpose_jvp, q_transpose_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; [] -> DMatrix<f64> = (cols, rows));
        check_direct(&fns, &pts, &mut r, &closed);
    }
}

#[differentiable(wrt(a))]
fn q_neg(a: &DMatrix<f64>) -> DMatrix<f64> {
    -a
}

#[differentiable(wrt(a))]
fn p_neg(a: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let z = -a;
    let mut s = 0.0;
    for i in 0..w.nrows() {
        for j in 0..w.ncols() {
            s += z[(i, j)] * w[(i, j)];
        }
    }
    s
}

#[test]
fn neg_rule() {
    let mut r = rng(102);
    for (rows, cols) in SHAPES {
        let w = dmat(&mut r, rows, cols);
        let closed = |_: &[f64], v: &[f64]| flat(-mat(v, (rows, cols)));
        let pts = pts(&mut r, rows * cols);
        let fns = flat_view!(p_neg, p_neg_grad, p_neg_jvp, p_neg_grad_into, p_neg_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; [&w]);
        check_rule(&fns, &pts, &mut r, w.as_slice(), &closed);
        let fns = flat_vector_view!(q_neg, q_neg_jvp, q_neg_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; [] -> DMatrix<f64> = (rows, cols));
        check_direct(&fns, &pts, &mut r, &closed);
    }
}

#[differentiable(wrt(a, s))]
fn q_add_scalar(a: &DMatrix<f64>, s: f64) -> DMatrix<f64> {
    a.add_scalar(s)
}

#[differentiable(wrt(a, s))]
fn p_add_scalar(a: &DMatrix<f64>, s: f64, w: &DMatrix<f64>) -> f64 {
    let z = a.add_scalar(s);
    let mut t = 0.0;
    for i in 0..w.nrows() {
        for j in 0..w.ncols() {
            t += z[(i, j)] * w[(i, j)];
        }
    }
    t
}

#[test]
fn add_scalar_rule() {
    let mut r = rng(103);
    for (rows, cols) in SHAPES {
        let w = dmat(&mut r, rows, cols);
        let n = rows * cols;
        let closed = |_: &[f64], v: &[f64]| flat(mat(&v[..n], (rows, cols)).add_scalar(v[n]));
        let pts = pts(&mut r, n + 1);
        let fns = flat_view!(p_add_scalar, p_add_scalar_grad, p_add_scalar_jvp, p_add_scalar_grad_into, p_add_scalar_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref; s, s_dot, s_bar: f64 = (), val]; [&w]);
        check_rule(&fns, &pts, &mut r, w.as_slice(), &closed);
        let fns = flat_vector_view!(q_add_scalar, q_add_scalar_jvp, q_add_scalar_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref; s, s_dot, s_bar: f64 = (), val]; [] -> DMatrix<f64> = (rows, cols));
        check_direct(&fns, &pts, &mut r, &closed);
    }
}

/// Only the scalar is active: the tangent of `A + s²·𝟙` is `2sṡ·𝟙`.
#[differentiable(wrt(s))]
fn q_add_scalar_const_matrix(s: f64, a: &DMatrix<f64>) -> DMatrix<f64> {
    a.add_scalar(s * s)
}

#[test]
fn add_scalar_rule_constant_matrix() {
    let mut r = rng(104);
    for (rows, cols) in SHAPES {
        let a = dmat(&mut r, rows, cols);
        let closed = |x: &[f64], v: &[f64]| vec![2.0 * x[0] * v[0]; rows * cols];
        let fns = flat_vector_view!(q_add_scalar_const_matrix, q_add_scalar_const_matrix_jvp, q_add_scalar_const_matrix_vjp;
            [s, s_dot, s_bar: f64 = (), val]; [&a] -> DMatrix<f64> = (rows, cols));
        check_direct(&fns, &pts(&mut r, 1), &mut r, &closed);
    }
}

#[differentiable(wrt(a))]
fn q_map(a: &DMatrix<f64>) -> DMatrix<f64> {
    a.map(|v| v.sin() * v + (0.5 * v).exp() - v * v * v)
}

#[differentiable(wrt(a))]
fn p_map(a: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let z = a.map(|v| v.sin() * v + (0.5 * v).exp() - v * v * v);
    let mut s = 0.0;
    for i in 0..w.nrows() {
        for j in 0..w.ncols() {
            s += z[(i, j)] * w[(i, j)];
        }
    }
    s
}

#[test]
fn map_rule() {
    let mut r = rng(105);
    for (rows, cols) in SHAPES {
        let w = dmat(&mut r, rows, cols);
        let closed = |x: &[f64], v: &[f64]| {
            let d = |t: f64| t.cos() * t + t.sin() + 0.5 * (0.5 * t).exp() - 3.0 * t * t;
            (0..x.len()).map(|k| d(x[k]) * v[k]).collect()
        };
        let pts = pts(&mut r, rows * cols);
        let fns = flat_view!(p_map, p_map_grad, p_map_jvp, p_map_grad_into, p_map_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; [&w]);
        check_rule(&fns, &pts, &mut r, w.as_slice(), &closed);
        let fns = flat_vector_view!(q_map, q_map_jvp, q_map_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; [] -> DMatrix<f64> = (rows, cols));
        check_direct(&fns, &pts, &mut r, &closed);
    }
}

/// A closure with branches, a constant captured from the enclosing function, and an integer power.
#[differentiable(wrt(a))]
fn q_map_branchy(a: &DMatrix<f64>, slope: f64) -> DMatrix<f64> {
    a.map(|v| if v > 0.0 { v.powi(3) } else { slope * v.tanh() })
}

#[differentiable(wrt(a))]
fn p_map_branchy(a: &DMatrix<f64>, w: &DMatrix<f64>, slope: f64) -> f64 {
    let z = a.map(|v| if v > 0.0 { v.powi(3) } else { slope * v.tanh() });
    let mut s = 0.0;
    for i in 0..w.nrows() {
        for j in 0..w.ncols() {
            s += z[(i, j)] * w[(i, j)];
        }
    }
    s
}

#[test]
fn map_rule_branches_and_captures() {
    let mut r = rng(106);
    for (rows, cols) in SHAPES {
        let w = dmat(&mut r, rows, cols);
        let slope = 0.3;
        let closed = |x: &[f64], v: &[f64]| {
            let d = |t: f64| if t > 0.0 { 3.0 * t * t } else { slope * (1.0 - t.tanh().powi(2)) };
            (0..x.len()).map(|k| d(x[k]) * v[k]).collect()
        };
        // Away from the kink at 0, where finite differences straddle the two branches.
        let pts = divisor_pts(&mut r, 0, rows * cols);
        let fns = flat_view!(p_map_branchy, p_map_branchy_grad, p_map_branchy_jvp, p_map_branchy_grad_into, p_map_branchy_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; [&w, slope]);
        check_rule(&fns, &pts, &mut r, w.as_slice(), &closed);
        let fns = flat_vector_view!(q_map_branchy, q_map_branchy_jvp, q_map_branchy_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; [slope] -> DMatrix<f64> = (rows, cols));
        check_direct(&fns, &pts, &mut r, &closed);
    }
}

/// Returned through `* 1.0`, which makes the view owned (`.clone_owned()` is rejected, see
/// `repro::row_returned_with_clone_owned`).
#[differentiable(wrt(a))]
fn q_row(a: &DMatrix<f64>, i: usize) -> RowDVector<f64> {
    a.row(i) * 1.0
}

#[differentiable(wrt(a))]
fn p_row(a: &DMatrix<f64>, i: usize, w: &RowDVector<f64>) -> f64 {
    let z = a.row(i);
    let mut s = 0.0;
    for j in 0..w.len() {
        s += z[j] * w[j];
    }
    s
}

#[test]
fn row_rule() {
    let mut r = rng(107);
    for (rows, cols) in SHAPES {
        for i in [0, rows - 1] {
            let w = RowDVector::from_fn(cols, |_, _| r.gen_range(-1.0..1.0));
            let closed = |_: &[f64], v: &[f64]| mat(v, (rows, cols)).row(i).iter().copied().collect();
            let pts = pts(&mut r, rows * cols);
            let fns = flat_view!(p_row, p_row_grad, p_row_jvp, p_row_grad_into, p_row_vjp;
                [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; [i, &w]);
            check_rule(&fns, &pts, &mut r, w.as_slice(), &closed);
            let fns = flat_vector_view!(q_row, q_row_jvp, q_row_vjp;
                [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; [i] -> RowDVector<f64> = (1, cols));
            check_direct(&fns, &pts, &mut r, &closed);
        }
    }
}

#[differentiable(wrt(a))]
fn q_column(a: &DMatrix<f64>, j: usize) -> DVector<f64> {
    a.column(j) * 1.0
}

#[differentiable(wrt(a))]
fn p_column(a: &DMatrix<f64>, j: usize, w: &DVector<f64>) -> f64 {
    let z = a.column(j);
    let mut s = 0.0;
    for i in 0..w.len() {
        s += z[i] * w[i];
    }
    s
}

#[test]
fn column_rule() {
    let mut r = rng(108);
    for (rows, cols) in SHAPES {
        for j in [0, cols - 1] {
            let w = DVector::from_fn(rows, |_, _| r.gen_range(-1.0..1.0));
            let closed = |_: &[f64], v: &[f64]| mat(v, (rows, cols)).column(j).iter().copied().collect();
            let pts = pts(&mut r, rows * cols);
            let fns = flat_view!(p_column, p_column_grad, p_column_jvp, p_column_grad_into, p_column_vjp;
                [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; [j, &w]);
            check_rule(&fns, &pts, &mut r, w.as_slice(), &closed);
            let fns = flat_vector_view!(q_column, q_column_jvp, q_column_vjp;
                [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; [j] -> DVector<f64> = (rows, 1));
            check_direct(&fns, &pts, &mut r, &closed);
        }
    }
}

/// A row and a column of the same matrix, combined: both VJPs add into the same cotangent.
#[differentiable(wrt(a))]
fn p_row_column(a: &DMatrix<f64>, k: usize) -> f64 {
    let r = a.row(k);
    let c = a.column(k);
    let mut s = 0.0;
    for j in 0..a.ncols() {
        s += r[j] * c[j];
    }
    s
}

#[test]
fn row_and_column_of_one_matrix() {
    let mut r = rng(109);
    for n in [1, 2, 4] {
        for k in 0..n {
            let fns = flat_view!(p_row_column, p_row_column_grad, p_row_column_jvp, p_row_column_grad_into, p_row_column_vjp;
                [a, a_dot, a_bar: DMatrix<f64> = (n, n), ref]; [k]);
            let closed = |x: &[f64], v: &[f64]| {
                let (m, d) = (mat(x, (n, n)), mat(v, (n, n)));
                vec![d.row(k).transpose().dot(&m.column(k)) + m.row(k).transpose().dot(&d.column(k))]
            };
            check_rule(&fns, &pts(&mut r, n * n), &mut r, &[1.0], &closed);
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Reductions: dot, norm, norm_squared, sum. The direct form is the function returning the scalar,
// whose `f_vjp` takes the cotangent `w` as its `z_bar`.
// ---------------------------------------------------------------------------------------------------

#[differentiable(wrt(a, b))]
fn q_dot(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    a.dot(b)
}

#[differentiable(wrt(a, b))]
fn p_dot(a: &DMatrix<f64>, b: &DMatrix<f64>, w: f64) -> f64 {
    w * a.dot(b)
}

/// [`check_direct`] for a function returning a scalar, through its [`Scalar`] view: `f_vjp` takes the
/// cotangent `w` as its `z_bar`.
#[track_caller]
fn check_direct_scalar(s: &Scalar, pts: &[Vec<f64>], r: &mut StdRng, closed: Closed) {
    let f = |x: &[f64]| vec![(s.f)(x)];
    let jvp = |x: &[f64], v: &[f64]| {
        let (a, b) = (s.jvp)(x, v);
        (vec![a], vec![b])
    };
    let vjp = |x: &[f64], w: &[f64], g: &mut [f64]| vec![(s.vjp)(x, w[0], g)];
    check_direct(&Vector { f: &f, jvp: &jvp, vjp: &vjp }, pts, r, closed);
}

#[test]
fn dot_rule() {
    let mut r = rng(110);
    for (rows, cols) in SHAPES {
        let w: f64 = r.gen_range(-2.0..2.0);
        let sh = [(rows, cols), (rows, cols)];
        let closed = |x: &[f64], v: &[f64]| {
            let (m, d) = (mats(x, &sh), mats(v, &sh));
            vec![d[0].dot(&m[1]) + m[0].dot(&d[1])]
        };
        let pts = pts(&mut r, 2 * rows * cols);
        let fns = flat_view!(p_dot, p_dot_grad, p_dot_jvp, p_dot_grad_into, p_dot_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref; b, b_dot, b_bar: DMatrix<f64> = (rows, cols), ref]; [w]);
        check_rule(&fns, &pts, &mut r, &[w], &closed);
        let fns = flat_view!(q_dot, q_dot_grad, q_dot_jvp, q_dot_grad_into, q_dot_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref; b, b_dot, b_bar: DMatrix<f64> = (rows, cols), ref]; []);
        check_direct_scalar(&fns, &pts, &mut r, &closed);
    }
}

/// `⟨a, a⟩` through `dot`: both VJPs of the rule add into the same cotangent.
#[differentiable(wrt(a))]
fn p_dot_self(a: &DVector<f64>, w: f64) -> f64 {
    w * a.dot(a)
}

#[test]
fn dot_rule_same_operand() {
    let mut r = rng(111);
    for n in [1, 2, 5] {
        let w = 0.7;
        let fns = flat_view!(p_dot_self, p_dot_self_grad, p_dot_self_jvp, p_dot_self_grad_into, p_dot_self_vjp;
            [a, a_dot, a_bar: DVector<f64> = (n, 1), ref]; [w]);
        let closed = |x: &[f64], v: &[f64]| vec![2.0 * dot(x, v)];
        check_rule(&fns, &pts(&mut r, n), &mut r, &[w], &closed);
    }
}

/// `dot` with one constant operand, on either side.
#[differentiable(wrt(a))]
fn p_dot_const(a: &DVector<f64>, b: &DVector<f64>) -> f64 {
    b.dot(a) + a.dot(b)
}

#[test]
fn dot_rule_constant_operand() {
    let mut r = rng(112);
    for n in [1, 3, 6] {
        let b = DVector::from_fn(n, |_, _| r.gen_range(-1.0..1.0));
        let fns = flat_view!(p_dot_const, p_dot_const_grad, p_dot_const_jvp, p_dot_const_grad_into, p_dot_const_vjp;
            [a, a_dot, a_bar: DVector<f64> = (n, 1), ref]; [&b]);
        let closed = |_: &[f64], v: &[f64]| vec![2.0 * dot(b.as_slice(), v)];
        check_rule(&fns, &pts(&mut r, n), &mut r, &[1.0], &closed);
    }
}

#[differentiable(wrt(a))]
fn q_norm(a: &DMatrix<f64>) -> f64 {
    a.norm()
}

#[differentiable(wrt(a))]
fn p_norm(a: &DMatrix<f64>, w: f64) -> f64 {
    w * a.norm()
}

#[test]
fn norm_rule() {
    let mut r = rng(113);
    for (rows, cols) in SHAPES {
        let w: f64 = r.gen_range(-2.0..2.0);
        let closed = |x: &[f64], v: &[f64]| vec![dot(x, v) / dot(x, x).sqrt()];
        let pts = pts(&mut r, rows * cols);
        let fns = flat_view!(p_norm, p_norm_grad, p_norm_jvp, p_norm_grad_into, p_norm_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; [w]);
        check_rule(&fns, &pts, &mut r, &[w], &closed);
        let fns = flat_view!(q_norm, q_norm_grad, q_norm_jvp, q_norm_grad_into, q_norm_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; []);
        check_direct_scalar(&fns, &pts, &mut r, &closed);
    }
}

/// At `A = 0` the norm has no derivative; the rules give zero rather than NaN.
#[test]
fn norm_rule_at_zero() {
    let a = DMatrix::<f64>::zeros(2, 3);
    let (value, g) = q_norm_grad(&a);
    assert_eq!(value, 0.0);
    assert!(g.iter().all(|&x| x == 0.0), "gradient of ‖A‖ at 0: {g}");
    let (_, slope) = q_norm_jvp(&a, &DMatrix::from_element(2, 3, 1.0));
    assert_eq!(slope, 0.0);
}

#[differentiable(wrt(a))]
fn q_norm_squared(a: &DMatrix<f64>) -> f64 {
    a.norm_squared()
}

#[differentiable(wrt(a))]
fn p_norm_squared(a: &DMatrix<f64>, w: f64) -> f64 {
    w * a.norm_squared()
}

#[test]
fn norm_squared_rule() {
    let mut r = rng(114);
    for (rows, cols) in SHAPES {
        let w: f64 = r.gen_range(-2.0..2.0);
        let closed = |x: &[f64], v: &[f64]| vec![2.0 * dot(x, v)];
        let pts = pts(&mut r, rows * cols);
        let fns = flat_view!(p_norm_squared, p_norm_squared_grad, p_norm_squared_jvp, p_norm_squared_grad_into, p_norm_squared_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; [w]);
        check_rule(&fns, &pts, &mut r, &[w], &closed);
        let fns = flat_view!(q_norm_squared, q_norm_squared_grad, q_norm_squared_jvp, q_norm_squared_grad_into, q_norm_squared_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; []);
        check_direct_scalar(&fns, &pts, &mut r, &closed);
    }
}

#[differentiable(wrt(a))]
fn q_sum(a: &DMatrix<f64>) -> f64 {
    a.sum()
}

#[differentiable(wrt(a))]
fn p_sum(a: &DMatrix<f64>, w: f64) -> f64 {
    w * a.sum()
}

#[test]
fn sum_rule() {
    let mut r = rng(115);
    for (rows, cols) in SHAPES {
        let w: f64 = r.gen_range(-2.0..2.0);
        let closed = |_: &[f64], v: &[f64]| vec![v.iter().sum::<f64>()];
        let pts = pts(&mut r, rows * cols);
        let fns = flat_view!(p_sum, p_sum_grad, p_sum_jvp, p_sum_grad_into, p_sum_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; [w]);
        check_rule(&fns, &pts, &mut r, &[w], &closed);
        let fns = flat_view!(q_sum, q_sum_grad, q_sum_jvp, q_sum_grad_into, q_sum_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; []);
        check_direct_scalar(&fns, &pts, &mut r, &closed);
    }
}

// ---------------------------------------------------------------------------------------------------
// Binary elementwise operations: +, −, component_mul, component_div, zip_map.
// ---------------------------------------------------------------------------------------------------

#[differentiable(wrt(a, b))]
fn q_add(a: &DMatrix<f64>, b: &DMatrix<f64>) -> DMatrix<f64> {
    a + b
}

#[differentiable(wrt(a, b))]
fn q_sub(a: &DMatrix<f64>, b: &DMatrix<f64>) -> DMatrix<f64> {
    a - b
}

#[differentiable(wrt(a, b))]
fn p_add_sub(a: &DMatrix<f64>, b: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let z = a + b;
    let y = a - b;
    let mut s = 0.0;
    for i in 0..w.nrows() {
        for j in 0..w.ncols() {
            s += z[(i, j)] * w[(i, j)] + 0.5 * y[(i, j)] * w[(i, j)];
        }
    }
    s
}

#[test]
fn add_and_sub_rules() {
    let mut r = rng(116);
    for (rows, cols) in SHAPES {
        let w = dmat(&mut r, rows, cols);
        let sh = [(rows, cols), (rows, cols)];
        let pts = pts(&mut r, 2 * rows * cols);
        let closed = |_: &[f64], v: &[f64]| {
            let d = mats(v, &sh);
            flat(&d[0] + &d[1] + 0.5 * (&d[0] - &d[1]))
        };
        let fns = flat_view!(p_add_sub, p_add_sub_grad, p_add_sub_jvp, p_add_sub_grad_into, p_add_sub_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref; b, b_dot, b_bar: DMatrix<f64> = (rows, cols), ref]; [&w]);
        check_rule(&fns, &pts, &mut r, w.as_slice(), &closed);
        let closed = |_: &[f64], v: &[f64]| {
            let d = mats(v, &sh);
            flat(&d[0] + &d[1])
        };
        let fns = flat_vector_view!(q_add, q_add_jvp, q_add_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref; b, b_dot, b_bar: DMatrix<f64> = (rows, cols), ref]; []
            -> DMatrix<f64> = (rows, cols));
        check_direct(&fns, &pts, &mut r, &closed);
        let closed = |_: &[f64], v: &[f64]| {
            let d = mats(v, &sh);
            flat(&d[0] - &d[1])
        };
        let fns = flat_vector_view!(q_sub, q_sub_jvp, q_sub_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref; b, b_dot, b_bar: DMatrix<f64> = (rows, cols), ref]; []
            -> DMatrix<f64> = (rows, cols));
        check_direct(&fns, &pts, &mut r, &closed);
    }
}

#[differentiable(wrt(a, b))]
fn q_component_mul(a: &DMatrix<f64>, b: &DMatrix<f64>) -> DMatrix<f64> {
    a.component_mul(b)
}

#[differentiable(wrt(a, b))]
fn p_component_mul(a: &DMatrix<f64>, b: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let z = a.component_mul(b);
    let mut s = 0.0;
    for i in 0..w.nrows() {
        for j in 0..w.ncols() {
            s += z[(i, j)] * w[(i, j)];
        }
    }
    s
}

#[test]
fn component_mul_rule() {
    let mut r = rng(117);
    for (rows, cols) in SHAPES {
        let w = dmat(&mut r, rows, cols);
        let sh = [(rows, cols), (rows, cols)];
        let closed = |x: &[f64], v: &[f64]| {
            let (m, d) = (mats(x, &sh), mats(v, &sh));
            flat(d[0].component_mul(&m[1]) + m[0].component_mul(&d[1]))
        };
        let pts = pts(&mut r, 2 * rows * cols);
        let fns = flat_view!(p_component_mul, p_component_mul_grad, p_component_mul_jvp, p_component_mul_grad_into, p_component_mul_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref; b, b_dot, b_bar: DMatrix<f64> = (rows, cols), ref]; [&w]);
        check_rule(&fns, &pts, &mut r, w.as_slice(), &closed);
        let fns = flat_vector_view!(q_component_mul, q_component_mul_jvp, q_component_mul_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref; b, b_dot, b_bar: DMatrix<f64> = (rows, cols), ref]; []
            -> DMatrix<f64> = (rows, cols));
        check_direct(&fns, &pts, &mut r, &closed);
    }
}

/// `a ∘ a`: both operands are the same variable.
#[differentiable(wrt(a))]
fn q_component_mul_self(a: &DMatrix<f64>) -> DMatrix<f64> {
    a.component_mul(a)
}

#[test]
fn component_mul_rule_same_operand() {
    let mut r = rng(118);
    for (rows, cols) in SHAPES {
        let fns = flat_vector_view!(q_component_mul_self, q_component_mul_self_jvp, q_component_mul_self_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; [] -> DMatrix<f64> = (rows, cols));
        let closed = |x: &[f64], v: &[f64]| (0..x.len()).map(|k| 2.0 * x[k] * v[k]).collect();
        check_direct(&fns, &pts(&mut r, rows * cols), &mut r, &closed);
    }
}

#[differentiable(wrt(a, b))]
fn q_component_div(a: &DMatrix<f64>, b: &DMatrix<f64>) -> DMatrix<f64> {
    a.component_div(b)
}

#[differentiable(wrt(a, b))]
fn p_component_div(a: &DMatrix<f64>, b: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let z = a.component_div(b);
    let mut s = 0.0;
    for i in 0..w.nrows() {
        for j in 0..w.ncols() {
            s += z[(i, j)] * w[(i, j)];
        }
    }
    s
}

#[test]
fn component_div_rule() {
    let mut r = rng(119);
    for (rows, cols) in SHAPES {
        let w = dmat(&mut r, rows, cols);
        let sh = [(rows, cols), (rows, cols)];
        let closed = |x: &[f64], v: &[f64]| {
            let (m, d) = (mats(x, &sh), mats(v, &sh));
            // ż = ȧ/b − a·ḃ/b²
            let b2 = m[1].component_mul(&m[1]);
            flat(d[0].component_div(&m[1]) - m[0].component_mul(&d[1]).component_div(&b2))
        };
        let pts = divisor_pts(&mut r, rows * cols, rows * cols);
        let fns = flat_view!(p_component_div, p_component_div_grad, p_component_div_jvp, p_component_div_grad_into, p_component_div_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref; b, b_dot, b_bar: DMatrix<f64> = (rows, cols), ref]; [&w]);
        check_rule(&fns, &pts, &mut r, w.as_slice(), &closed);
        let fns = flat_vector_view!(q_component_div, q_component_div_jvp, q_component_div_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref; b, b_dot, b_bar: DMatrix<f64> = (rows, cols), ref]; []
            -> DMatrix<f64> = (rows, cols));
        check_direct(&fns, &pts, &mut r, &closed);
    }
}

/// `component_div` with only the numerator active, and with only the denominator active.
#[differentiable(wrt(a))]
fn q_component_div_num(a: &DMatrix<f64>, b: &DMatrix<f64>) -> DMatrix<f64> {
    a.component_div(b)
}

#[differentiable(wrt(b))]
fn q_component_div_den(b: &DMatrix<f64>, a: &DMatrix<f64>) -> DMatrix<f64> {
    a.component_div(b)
}

#[test]
fn component_div_rule_one_side_active() {
    let mut r = rng(120);
    for (rows, cols) in SHAPES {
        let a = dmat(&mut r, rows, cols);
        let b = DMatrix::from_fn(rows, cols, |_, _| r.gen_range(0.5..1.5));
        let num = flat_vector_view!(q_component_div_num, q_component_div_num_jvp, q_component_div_num_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; [&b] -> DMatrix<f64> = (rows, cols));
        let closed_num = |_: &[f64], v: &[f64]| flat(mat(v, (rows, cols)).component_div(&b));
        check_direct(&num, &pts(&mut r, rows * cols), &mut r, &closed_num);
        let den = flat_vector_view!(q_component_div_den, q_component_div_den_jvp, q_component_div_den_vjp;
            [b, b_dot, b_bar: DMatrix<f64> = (rows, cols), ref]; [&a] -> DMatrix<f64> = (rows, cols));
        let closed_den = |x: &[f64], v: &[f64]| {
            let (m, d) = (mat(x, (rows, cols)), mat(v, (rows, cols)));
            flat(-a.component_mul(&d).component_div(&m.component_mul(&m)))
        };
        check_direct(&den, &divisor_pts(&mut r, 0, rows * cols), &mut r, &closed_den);
    }
}

#[differentiable(wrt(a, b))]
fn q_zip_map(a: &DMatrix<f64>, b: &DMatrix<f64>) -> DMatrix<f64> {
    a.zip_map(b, |u, v| u * v.cos() + (u - v).tanh() + u * u / (1.0 + v * v))
}

#[differentiable(wrt(a, b))]
fn p_zip_map(a: &DMatrix<f64>, b: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let z = a.zip_map(b, |u, v| u * v.cos() + (u - v).tanh() + u * u / (1.0 + v * v));
    let mut s = 0.0;
    for i in 0..w.nrows() {
        for j in 0..w.ncols() {
            s += z[(i, j)] * w[(i, j)];
        }
    }
    s
}

#[test]
fn zip_map_rule() {
    let mut r = rng(121);
    for (rows, cols) in SHAPES {
        let w = dmat(&mut r, rows, cols);
        let n = rows * cols;
        let closed = |x: &[f64], v: &[f64]| {
            (0..n)
                .map(|k| {
                    let (u, t) = (x[k], x[n + k]);
                    let sech2 = 1.0 - (u - t).tanh().powi(2);
                    let du = t.cos() + sech2 + 2.0 * u / (1.0 + t * t);
                    let dt = -u * t.sin() - sech2 - u * u * 2.0 * t / (1.0 + t * t).powi(2);
                    du * v[k] + dt * v[n + k]
                })
                .collect()
        };
        let pts = pts(&mut r, 2 * n);
        let fns = flat_view!(p_zip_map, p_zip_map_grad, p_zip_map_jvp, p_zip_map_grad_into, p_zip_map_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref; b, b_dot, b_bar: DMatrix<f64> = (rows, cols), ref]; [&w]);
        check_rule(&fns, &pts, &mut r, w.as_slice(), &closed);
        let fns = flat_vector_view!(q_zip_map, q_zip_map_jvp, q_zip_map_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref; b, b_dot, b_bar: DMatrix<f64> = (rows, cols), ref]; []
            -> DMatrix<f64> = (rows, cols));
        check_direct(&fns, &pts, &mut r, &closed);
    }
}

/// `zip_map` with only one side active (the other a constant matrix).
#[differentiable(wrt(b))]
fn q_zip_map_second(b: &DMatrix<f64>, a: &DMatrix<f64>) -> DMatrix<f64> {
    a.zip_map(b, |u, v| u * v.exp())
}

#[test]
fn zip_map_rule_one_side_active() {
    let mut r = rng(122);
    for (rows, cols) in SHAPES {
        let a = dmat(&mut r, rows, cols);
        let fns = flat_vector_view!(q_zip_map_second, q_zip_map_second_jvp, q_zip_map_second_vjp;
            [b, b_dot, b_bar: DMatrix<f64> = (rows, cols), ref]; [&a] -> DMatrix<f64> = (rows, cols));
        let closed = |x: &[f64], v: &[f64]| (0..x.len()).map(|k| a[k] * x[k].exp() * v[k]).collect();
        check_direct(&fns, &pts(&mut r, rows * cols), &mut r, &closed);
    }
}

// ---------------------------------------------------------------------------------------------------
// Products and quotients: matrix·matrix, matrix·vector, scalar·matrix, matrix·scalar, matrix/scalar.
// ---------------------------------------------------------------------------------------------------

#[differentiable(wrt(a, b))]
fn q_matmul(a: &DMatrix<f64>, b: &DMatrix<f64>) -> DMatrix<f64> {
    a * b
}

#[differentiable(wrt(a, b))]
fn p_matmul(a: &DMatrix<f64>, b: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let z = a * b;
    let mut s = 0.0;
    for i in 0..w.nrows() {
        for j in 0..w.ncols() {
            s += z[(i, j)] * w[(i, j)];
        }
    }
    s
}

#[test]
fn matmul_rule() {
    let mut r = rng(123);
    for (m, k, n) in PRODUCT_SHAPES {
        let w = dmat(&mut r, m, n);
        let sh = [(m, k), (k, n)];
        let closed = |x: &[f64], v: &[f64]| {
            let (p, d) = (mats(x, &sh), mats(v, &sh));
            flat(&d[0] * &p[1] + &p[0] * &d[1])
        };
        let pts = pts(&mut r, m * k + k * n);
        let fns = flat_view!(p_matmul, p_matmul_grad, p_matmul_jvp, p_matmul_grad_into, p_matmul_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (m, k), ref; b, b_dot, b_bar: DMatrix<f64> = (k, n), ref]; [&w]);
        check_rule(&fns, &pts, &mut r, w.as_slice(), &closed);
        let fns = flat_vector_view!(q_matmul, q_matmul_jvp, q_matmul_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (m, k), ref; b, b_dot, b_bar: DMatrix<f64> = (k, n), ref]; []
            -> DMatrix<f64> = (m, n));
        check_direct(&fns, &pts, &mut r, &closed);
    }
}

/// `Aᵀ·A`: a product of a matrix with its own transpose.
#[differentiable(wrt(a))]
fn q_gram(a: &DMatrix<f64>) -> DMatrix<f64> {
    a.transpose() * a
}

#[test]
fn matmul_rule_gram_matrix() {
    let mut r = rng(124);
    for (rows, cols) in SHAPES {
        let fns = flat_vector_view!(q_gram, q_gram_jvp, q_gram_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; [] -> DMatrix<f64> = (cols, cols));
        let closed = |x: &[f64], v: &[f64]| {
            let (p, d) = (mat(x, (rows, cols)), mat(v, (rows, cols)));
            flat(d.transpose() * &p + p.transpose() * &d)
        };
        check_direct(&fns, &pts(&mut r, rows * cols), &mut r, &closed);
    }
}

/// A product with one constant factor, on either side.
#[differentiable(wrt(b))]
fn q_matmul_const(b: &DMatrix<f64>, a: &DMatrix<f64>, c: &DMatrix<f64>) -> DMatrix<f64> {
    a * b * c
}

#[test]
fn matmul_rule_constant_factors() {
    let mut r = rng(131);
    for (m, k, n) in PRODUCT_SHAPES {
        let (a, c) = (dmat(&mut r, m, k), dmat(&mut r, n, 2));
        let fns = flat_vector_view!(q_matmul_const, q_matmul_const_jvp, q_matmul_const_vjp;
            [b, b_dot, b_bar: DMatrix<f64> = (k, n), ref]; [&a, &c] -> DMatrix<f64> = (m, 2));
        let closed = |_: &[f64], v: &[f64]| flat(&a * mat(v, (k, n)) * &c);
        check_direct(&fns, &pts(&mut r, k * n), &mut r, &closed);
    }
}

#[differentiable(wrt(a, x))]
fn q_matvec(a: &DMatrix<f64>, x: &DVector<f64>) -> DVector<f64> {
    a * x
}

#[differentiable(wrt(a, x))]
fn p_matvec(a: &DMatrix<f64>, x: &DVector<f64>, w: &DVector<f64>) -> f64 {
    let z = a * x;
    let mut s = 0.0;
    for i in 0..w.len() {
        s += z[i] * w[i];
    }
    s
}

#[test]
fn matvec_rule() {
    let mut r = rng(125);
    for (rows, cols) in SHAPES {
        let w = DVector::from_fn(rows, |_, _| r.gen_range(-1.0..1.0));
        let sh = [(rows, cols), (cols, 1)];
        let closed = |x: &[f64], v: &[f64]| {
            let (p, d) = (mats(x, &sh), mats(v, &sh));
            flat(&d[0] * &p[1] + &p[0] * &d[1])
        };
        let pts = pts(&mut r, rows * cols + cols);
        let fns = flat_view!(p_matvec, p_matvec_grad, p_matvec_jvp, p_matvec_grad_into, p_matvec_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref; x, x_dot, x_bar: DVector<f64> = (cols, 1), ref]; [&w]);
        check_rule(&fns, &pts, &mut r, w.as_slice(), &closed);
        let fns = flat_vector_view!(q_matvec, q_matvec_jvp, q_matvec_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref; x, x_dot, x_bar: DVector<f64> = (cols, 1), ref]; []
            -> DVector<f64> = (rows, 1));
        check_direct(&fns, &pts, &mut r, &closed);
    }
}

/// A vector–row product (an outer product: `DVector · RowDVector`).
#[differentiable(wrt(u, v))]
fn q_outer(u: &DVector<f64>, v: &RowDVector<f64>) -> DMatrix<f64> {
    u * v
}

#[test]
fn outer_product_rule() {
    let mut r = rng(132);
    for (rows, cols) in SHAPES {
        let fns = flat_vector_view!(q_outer, q_outer_jvp, q_outer_vjp;
            [u, u_dot, u_bar: DVector<f64> = (rows, 1), ref; v, v_dot, v_bar: RowDVector<f64> = (1, cols), ref]; []
            -> DMatrix<f64> = (rows, cols));
        let sh = [(rows, 1), (1, cols)];
        let closed = |x: &[f64], v: &[f64]| {
            let (p, d) = (mats(x, &sh), mats(v, &sh));
            flat(&d[0] * &p[1] + &p[0] * &d[1])
        };
        check_direct(&fns, &pts(&mut r, rows + cols), &mut r, &closed);
    }
}

#[differentiable(wrt(s, a))]
fn q_scalar_mat(s: f64, a: &DMatrix<f64>) -> DMatrix<f64> {
    s * a
}

#[differentiable(wrt(s, a))]
fn p_scalar_mat(s: f64, a: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let z = s * a;
    let mut t = 0.0;
    for i in 0..w.nrows() {
        for j in 0..w.ncols() {
            t += z[(i, j)] * w[(i, j)];
        }
    }
    t
}

#[test]
fn scalar_times_matrix_rule() {
    let mut r = rng(126);
    for (rows, cols) in SHAPES {
        let w = dmat(&mut r, rows, cols);
        let closed = |x: &[f64], v: &[f64]| flat(v[0] * mat(&x[1..], (rows, cols)) + x[0] * mat(&v[1..], (rows, cols)));
        let pts = pts(&mut r, 1 + rows * cols);
        let fns = flat_view!(p_scalar_mat, p_scalar_mat_grad, p_scalar_mat_jvp, p_scalar_mat_grad_into, p_scalar_mat_vjp;
            [s, s_dot, s_bar: f64 = (), val; a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; [&w]);
        check_rule(&fns, &pts, &mut r, w.as_slice(), &closed);
        let fns = flat_vector_view!(q_scalar_mat, q_scalar_mat_jvp, q_scalar_mat_vjp;
            [s, s_dot, s_bar: f64 = (), val; a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; []
            -> DMatrix<f64> = (rows, cols));
        check_direct(&fns, &pts, &mut r, &closed);
    }
}

#[differentiable(wrt(a, s))]
fn q_mat_scalar(a: &DMatrix<f64>, s: f64) -> DMatrix<f64> {
    a * s
}

#[differentiable(wrt(a, s))]
fn p_mat_scalar(a: &DMatrix<f64>, s: f64, w: &DMatrix<f64>) -> f64 {
    let z = a * s;
    let mut t = 0.0;
    for i in 0..w.nrows() {
        for j in 0..w.ncols() {
            t += z[(i, j)] * w[(i, j)];
        }
    }
    t
}

#[test]
fn matrix_times_scalar_rule() {
    let mut r = rng(127);
    for (rows, cols) in SHAPES {
        let w = dmat(&mut r, rows, cols);
        let n = rows * cols;
        let closed = |x: &[f64], v: &[f64]| flat(mat(&v[..n], (rows, cols)) * x[n] + mat(&x[..n], (rows, cols)) * v[n]);
        let pts = pts(&mut r, n + 1);
        let fns = flat_view!(p_mat_scalar, p_mat_scalar_grad, p_mat_scalar_jvp, p_mat_scalar_grad_into, p_mat_scalar_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref; s, s_dot, s_bar: f64 = (), val]; [&w]);
        check_rule(&fns, &pts, &mut r, w.as_slice(), &closed);
        let fns = flat_vector_view!(q_mat_scalar, q_mat_scalar_jvp, q_mat_scalar_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref; s, s_dot, s_bar: f64 = (), val]; []
            -> DMatrix<f64> = (rows, cols));
        check_direct(&fns, &pts, &mut r, &closed);
    }
}

#[differentiable(wrt(a, s))]
fn q_mat_div(a: &DMatrix<f64>, s: f64) -> DMatrix<f64> {
    a / s
}

#[differentiable(wrt(a, s))]
fn p_mat_div(a: &DMatrix<f64>, s: f64, w: &DMatrix<f64>) -> f64 {
    let z = a / s;
    let mut t = 0.0;
    for i in 0..w.nrows() {
        for j in 0..w.ncols() {
            t += z[(i, j)] * w[(i, j)];
        }
    }
    t
}

#[test]
fn matrix_over_scalar_rule() {
    let mut r = rng(128);
    for (rows, cols) in SHAPES {
        let w = dmat(&mut r, rows, cols);
        let n = rows * cols;
        let closed = |x: &[f64], v: &[f64]| {
            let s = x[n];
            flat(mat(&v[..n], (rows, cols)) / s - mat(&x[..n], (rows, cols)) * (v[n] / (s * s)))
        };
        let pts = divisor_pts(&mut r, n, 1);
        let fns = flat_view!(p_mat_div, p_mat_div_grad, p_mat_div_jvp, p_mat_div_grad_into, p_mat_div_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref; s, s_dot, s_bar: f64 = (), val]; [&w]);
        check_rule(&fns, &pts, &mut r, w.as_slice(), &closed);
        let fns = flat_vector_view!(q_mat_div, q_mat_div_jvp, q_mat_div_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref; s, s_dot, s_bar: f64 = (), val]; []
            -> DMatrix<f64> = (rows, cols));
        check_direct(&fns, &pts, &mut r, &closed);
    }
}

// ---------------------------------------------------------------------------------------------------
// Constructors: from_element.
// ---------------------------------------------------------------------------------------------------

#[differentiable(wrt(s))]
fn q_from_element(s: f64, rows: usize, cols: usize) -> DMatrix<f64> {
    DMatrix::from_element(rows, cols, s)
}

#[differentiable(wrt(s))]
fn p_from_element(s: f64, w: &DMatrix<f64>) -> f64 {
    let z = DMatrix::from_element(w.nrows(), w.ncols(), s);
    let mut t = 0.0;
    for i in 0..w.nrows() {
        for j in 0..w.ncols() {
            t += z[(i, j)] * w[(i, j)];
        }
    }
    t
}

#[test]
fn from_element_rule() {
    let mut r = rng(129);
    for (rows, cols) in SHAPES {
        let w = dmat(&mut r, rows, cols);
        let closed = |_: &[f64], v: &[f64]| vec![v[0]; rows * cols];
        let pts = pts(&mut r, 1);
        let fns = flat_view!(p_from_element, p_from_element_grad, p_from_element_jvp, p_from_element_grad_into, p_from_element_vjp;
            [s, s_dot, s_bar: f64 = (), val]; [&w]);
        check_rule(&fns, &pts, &mut r, w.as_slice(), &closed);
        let fns = flat_vector_view!(q_from_element, q_from_element_jvp, q_from_element_vjp;
            [s, s_dot, s_bar: f64 = (), val]; [rows, cols] -> DMatrix<f64> = (rows, cols));
        check_direct(&fns, &pts, &mut r, &closed);
    }
}

/// `DVector::from_element` of a computed scalar, then combined with an active vector. (The length is
/// passed in: `a.nrows()` of the active `a` does not compile, see `repro::shape_of_active_matrix`.)
#[differentiable(wrt(a, s))]
fn q_from_element_mixed(a: &DVector<f64>, s: f64, n: usize) -> DVector<f64> {
    let z = DVector::from_element(n, s.sin());
    a.component_mul(&z)
}

#[test]
fn from_element_rule_mixed() {
    let mut r = rng(130);
    for n in [1, 2, 5] {
        let fns = flat_vector_view!(q_from_element_mixed, q_from_element_mixed_jvp, q_from_element_mixed_vjp;
            [a, a_dot, a_bar: DVector<f64> = (n, 1), ref; s, s_dot, s_bar: f64 = (), val]; [n] -> DVector<f64> = (n, 1));
        // z = sin(s)·a ⇒ ż = sin(s)·ȧ + cos(s)ṡ·a
        let closed = |x: &[f64], v: &[f64]| (0..n).map(|k| x[n].sin() * v[k] + x[n].cos() * v[n] * x[k]).collect();
        check_direct(&fns, &pts(&mut r, n + 1), &mut r, &closed);
    }
}

// ---------------------------------------------------------------------------------------------------
// A tuple of a matrix and a scalar as the result.
// ---------------------------------------------------------------------------------------------------

#[differentiable(wrt(a))]
fn q_tuple(a: &DMatrix<f64>) -> (DMatrix<f64>, f64) {
    (a.transpose(), a.norm_squared())
}

#[test]
fn matrix_and_scalar_tuple_result() {
    let mut r = rng(133);
    for (rows, cols) in SHAPES {
        let fns = flat_vector_view!(q_tuple, q_tuple_jvp, q_tuple_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; [] -> (DMatrix<f64>, f64) = ((cols, rows), ()));
        let closed = |x: &[f64], v: &[f64]| {
            let mut out = flat(mat(v, (rows, cols)).transpose());
            out.push(2.0 * dot(x, v));
            out
        };
        check_direct(&fns, &pts(&mut r, rows * cols), &mut r, &closed);
    }
}

// Reduced constructs that once failed to compile (nrows/ncols, `.sum()` after a method, `.clone()` of a
// borrowed matrix, integer products of shapes, `.clone_owned()`).
mod regressions {
    use super::*;

    /// Returning a row (or column): plain Rust needs an owned matrix, `a.row(i).clone_owned()`, and the
    /// macro rejects the method:
    ///     error: method `.clone_owned()` has no derivative rule; use the supported float methods, wrap the
    ///            value in `no_grad(..)`, or give the function a custom derivative
    #[differentiable(wrt(a))]
    fn row_returned_with_clone_owned(a: &DMatrix<f64>, i: usize) -> RowDVector<f64> {
        a.row(i).clone_owned()
    }

    #[test]
    fn row_with_clone_owned() {
        let a = DMatrix::from_fn(2, 3, |i, j| i as f64 - 0.5 * j as f64);
        let (row, row_dot) = row_returned_with_clone_owned_jvp(&a, &DMatrix::from_element(2, 3, 1.0), 1);
        assert_eq!(row, a.row(1));
        assert_eq!(row_dot, RowDVector::from_element(3, 1.0));
    }

    /// `.nrows()`/`.ncols()` of an active matrix are integers, but are rejected:
    ///     error: method `.nrows()` has no derivative rule; use the supported float methods, wrap the value
    ///            in `no_grad(..)`, or give the function a custom derivative
    /// (they are missing from the zero-derivative methods in macros/src/lower.rs, next to `len`; in a
    /// `for` range, `0..a.ncols()`, they compile).
    #[differentiable(wrt(a, s))]
    fn shape_of_active_matrix(a: &DMatrix<f64>, s: f64) -> f64 {
        let z = DMatrix::from_element(a.nrows(), a.ncols(), s.sin());
        a.component_mul(&z).norm_squared()
    }

    #[test]
    fn shape_of_active_matrix_gradient() {
        let a = DMatrix::from_fn(2, 3, |i, j| i as f64 - 0.5 * j as f64);
        let (_, (ga, gs)) = shape_of_active_matrix_grad(&a, 0.4);
        assert!((ga - 2.0 * 0.4f64.sin().powi(2) * &a).norm() < 1e-12);
        assert!((gs - 2.0 * 0.4f64.sin() * 0.4f64.cos() * a.norm_squared()).abs() < 1e-12);
    }
}
