//! Small models written with nalgebra and differentiated by the macro: least squares, a two-layer MLP
//! (column by column and as a batch), softmax cross-entropy, a Gaussian log-density parameterized by a
//! Cholesky factor, fixed-size (`SVector`/`SMatrix`) and `f32` code, vector-valued functions (returning
//! `Vec<f64>`, `[f64; N]`, `DVector`, `DMatrix`, `Vector3`, `DVector<f32>`) with element reads and writes
//! in loops, matrices carried through loops and branches, and assorted constructs.
//!
//! Each scalar model is checked at several seeded random points by `common::check_all` on the
//! flattened active parameters (gradient against central finite differences, forward against reverse
//! mode, `f_grad_into` and `f_vjp` buffer semantics), and against a closed form where one is known.
//! Vector-valued ones by the dot-product test `⟨J·v, w⟩ = ⟨v, Jᵀ·w⟩` and `common::check_vector` (each
//! Jacobian row against finite differences), and against closed-form Jacobians.
//!
//! The module `regressions` at the end holds reduced constructs that once failed to compile.

#[macro_use]
mod common;
#[macro_use]
mod linalg_common;

use adjoint::{differentiable, CheckOptions};
use common::*;
use linalg_common::*;
use nalgebra::{DMatrix, DVector, Matrix3, RowDVector, SMatrix, SVector, Vector3};
use rand::{rngs::StdRng, Rng};

/// Splits a flat point into matrices of the given shapes.
fn split(x: &[f64], shapes: &[(usize, usize)]) -> Vec<DMatrix<f64>> {
    let mut at = 0;
    let out = shapes.iter().map(|&s| DMatrix::<f64>::read(s, x, &mut at)).collect();
    assert_eq!(at, x.len(), "split: length");
    out
}

fn flat(parts: &[&DMatrix<f64>]) -> Vec<f64> {
    parts.iter().flat_map(|m| m.iter().copied()).collect()
}

// ---------------------------------------------------------------------------------------------------
// 1. Least squares ‖Ax − b‖²
// ---------------------------------------------------------------------------------------------------

#[differentiable(wrt(x))]
fn lsq_x(x: &DVector<f64>, a: &DMatrix<f64>, b: &DVector<f64>) -> f64 {
    let r = a * x - b;
    r.norm_squared()
}

#[differentiable(wrt(a, x))]
fn lsq_ax(a: &DMatrix<f64>, x: &DVector<f64>, b: &DVector<f64>) -> f64 {
    (a * x - b).norm_squared()
}

/// Ridge regression, with the residual's square written as `r.dot(&r)` (one variable on both sides).
#[differentiable(wrt(a, x))]
fn ridge(a: &DMatrix<f64>, x: &DVector<f64>, b: &DVector<f64>, lambda: f64) -> f64 {
    let r = a * x - b;
    r.dot(&r) + lambda * x.norm_squared()
}

/// The residual computed element by element: reads `a[(i, j)]`, `x[j]` and writes `r[i]` in loops.
#[differentiable(wrt(a, x))]
fn lsq_loops(a: &DMatrix<f64>, x: &DVector<f64>, b: &DVector<f64>) -> f64 {
    let (m, n) = (b.len(), x.len());
    let mut r = DVector::<f64>::zeros(m);
    for i in 0..m {
        let mut s = -b[i];
        for j in 0..n {
            s += a[(i, j)] * x[j];
        }
        r[i] = s;
    }
    let mut total = 0.0;
    for i in 0..m {
        total += r[i] * r[i];
    }
    total
}

const LSQ_SHAPES: [(usize, usize); 5] = [(1, 1), (4, 3), (3, 5), (6, 2), (2, 2)];

#[test]
fn least_squares_gradient_in_x() {
    let mut r = rng(1);
    for (m, n) in LSQ_SHAPES {
        let (a, b) = (dmat(&mut r, m, n), DVector::from_fn(m, |_, _| r.gen_range(-2.0..2.0)));
        let fns = flat_view!(lsq_x, lsq_x_grad, lsq_x_jvp, lsq_x_grad_into, lsq_x_vjp;
            [x, x_dot, x_bar: DVector<f64> = (n, 1), ref]; [&a, &b]);
        check_all_closed(&fns, &points(10 + m as u64, n, -2.0, 2.0), |x| {
            let x = DVector::from_column_slice(x);
            (2.0 * a.transpose() * (&a * x - &b)).as_slice().to_vec()
        });
    }
}

#[test]
fn least_squares_gradient_in_a_and_x() {
    let mut r = rng(2);
    for (m, n) in LSQ_SHAPES {
        let b = DVector::from_fn(m, |_, _| r.gen_range(-2.0..2.0));
        let closed = |p: &[f64]| {
            let v = split(p, &[(m, n), (n, 1)]);
            let res = &v[0] * &v[1] - DMatrix::from_column_slice(m, 1, b.as_slice());
            flat(&[&(2.0 * &res * v[1].transpose()), &(2.0 * v[0].transpose() * &res)])
        };
        let pts = points(20 + m as u64, m * n + n, -1.5, 1.5);
        let fns = flat_view!(lsq_ax, lsq_ax_grad, lsq_ax_jvp, lsq_ax_grad_into, lsq_ax_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (m, n), ref; x, x_dot, x_bar: DVector<f64> = (n, 1), ref]; [&b]);
        check_all_closed(&fns, &pts, closed);
        let fns = flat_view!(lsq_loops, lsq_loops_grad, lsq_loops_jvp, lsq_loops_grad_into, lsq_loops_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (m, n), ref; x, x_dot, x_bar: DVector<f64> = (n, 1), ref]; [&b]);
        check_all_closed(&fns, &pts, closed);
        for p in &pts {
            let v = split(p, &[(m, n), (n, 1)]);
            let x = DVector::from_column_slice(v[1].as_slice());
            assert_close(lsq_loops(&v[0], &x, &b), lsq_ax(&v[0], &x, &b), 1e-12, "loop and matrix forms");
        }
    }
}

#[test]
fn ridge_regression_gradient() {
    let mut r = rng(3);
    for (m, n) in LSQ_SHAPES {
        let b = DVector::from_fn(m, |_, _| r.gen_range(-2.0..2.0));
        let lambda = 0.3;
        let fns = flat_view!(ridge, ridge_grad, ridge_jvp, ridge_grad_into, ridge_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (m, n), ref; x, x_dot, x_bar: DVector<f64> = (n, 1), ref]; [&b, lambda]);
        check_all_closed(&fns, &points(30 + m as u64, m * n + n, -1.5, 1.5), |p| {
            let v = split(p, &[(m, n), (n, 1)]);
            let res = &v[0] * &v[1] - DMatrix::from_column_slice(m, 1, b.as_slice());
            flat(&[&(2.0 * &res * v[1].transpose()), &(2.0 * v[0].transpose() * &res + 2.0 * lambda * &v[1])])
        });
    }
}

/// At the least-squares solution the gradient in `x` vanishes.
#[test]
fn least_squares_gradient_vanishes_at_the_solution() {
    let mut r = rng(4);
    let (a, b) = (dmat(&mut r, 6, 3), DVector::from_fn(6, |_, _| r.gen_range(-1.0..1.0)));
    let x = (a.transpose() * &a).try_inverse().unwrap() * a.transpose() * &b;
    let (_, g) = lsq_x_grad(&x, &a, &b);
    assert!(g.norm() < 1e-12, "gradient at the normal-equations solution: {g}");
}

// ---------------------------------------------------------------------------------------------------
// 2. A two-layer MLP, ReLU then tanh, mean squared error over a batch
// ---------------------------------------------------------------------------------------------------

/// One sample at a time: `x.column(k)` of the batch.
#[differentiable(wrt(w1, b1, w2, b2))]
fn mlp_columns(
    w1: &DMatrix<f64>,
    b1: &DVector<f64>,
    w2: &DMatrix<f64>,
    b2: &DVector<f64>,
    xb: &DMatrix<f64>,
    yb: &DMatrix<f64>,
) -> f64 {
    let n = xb.ncols();
    let mut loss = 0.0;
    for k in 0..n {
        let z1 = w1 * xb.column(k) + b1;
        let h = z1.map(|v| if v > 0.0 { v } else { 0.0 });
        let out = (w2 * h + b2).map(|v| v.tanh());
        let d = out - yb.column(k);
        loss += d.norm_squared();
    }
    loss / (n as f64 * yb.nrows() as f64)
}

/// The whole batch as matrices; biases broadcast by an outer product with a row of ones.
#[differentiable(wrt(w1, b1, w2, b2))]
fn mlp_batch(
    w1: &DMatrix<f64>,
    b1: &DVector<f64>,
    w2: &DMatrix<f64>,
    b2: &DVector<f64>,
    xb: &DMatrix<f64>,
    yb: &DMatrix<f64>,
    ones: &RowDVector<f64>,
) -> f64 {
    let z1 = w1 * xb + b1 * ones;
    let h = z1.map(|v| v.max(0.0));
    let out = (w2 * &h + b2 * ones).map(|v| v.tanh());
    let d = out - yb;
    d.norm_squared() / (yb.nrows() as f64 * yb.ncols() as f64)
}

/// Backpropagation by hand, with plain nalgebra: `(∂W1, ∂b1, ∂W2, ∂b2)` flattened.
fn mlp_manual_gradient(p: &[DMatrix<f64>], xb: &DMatrix<f64>, yb: &DMatrix<f64>) -> Vec<f64> {
    let (w1, b1, w2, b2) = (&p[0], &p[1], &p[2], &p[3]);
    let n = xb.ncols();
    let ones = DMatrix::from_element(1, n, 1.0);
    let z1 = w1 * xb + b1 * &ones;
    let h = z1.map(|v| v.max(0.0));
    let out = (w2 * &h + b2 * &ones).map(|v| v.tanh());
    let d_out = (&out - yb) * (2.0 / (n * yb.nrows()) as f64);
    let d_z2 = d_out.component_mul(&out.map(|o| 1.0 - o * o));
    let d_h = w2.transpose() * &d_z2;
    let d_z1 = d_h.component_mul(&z1.map(|v| if v > 0.0 { 1.0 } else { 0.0 }));
    let (gw1, gb1) = (&d_z1 * xb.transpose(), &d_z1 * ones.transpose());
    let (gw2, gb2) = (&d_z2 * h.transpose(), &d_z2 * ones.transpose());
    flat(&[&gw1, &gb1, &gw2, &gb2])
}

#[test]
fn mlp_two_styles_agree_with_backpropagation_and_finite_differences() {
    // (input, hidden, output, batch)
    for (seed, (d, h, o, n)) in [(1u64, (2, 3, 1, 4)), (2, (3, 4, 2, 5)), (3, (1, 1, 1, 1)), (4, (4, 2, 3, 3))] {
        let mut r = rng(40 + seed);
        let xb = dmat(&mut r, d, n);
        let yb = DMatrix::from_fn(o, n, |_, _| r.gen_range(-0.8..0.8));
        let ones = RowDVector::from_element(n, 1.0);
        let shapes = [(h, d), (h, 1), (o, h), (o, 1)];
        let dim = h * d + h + o * h + o;
        // Keep the hidden pre-activations away from ReLU's kink, where finite differences straddle it.
        let away_from_kink = |p: &Vec<f64>| {
            let v = split(p, &shapes);
            let z1 = &v[0] * &xb + &v[1] * DMatrix::from_element(1, n, 1.0);
            z1.iter().all(|z| z.abs() > 0.05)
        };
        let pts: Vec<Vec<f64>> =
            (0..200).map(|_| random_vec(&mut r, dim)).filter(away_from_kink).take(POINTS).collect();
        assert_eq!(pts.len(), POINTS, "not enough points away from the kink");

        let columns = flat_view!(mlp_columns, mlp_columns_grad, mlp_columns_jvp, mlp_columns_grad_into, mlp_columns_vjp;
            [w1, w1_dot, w1_bar: DMatrix<f64> = (h, d), ref;
             b1, b1_dot, b1_bar: DVector<f64> = (h, 1), ref;
             w2, w2_dot, w2_bar: DMatrix<f64> = (o, h), ref;
             b2, b2_dot, b2_bar: DVector<f64> = (o, 1), ref]; [&xb, &yb]);
        let batch = flat_view!(mlp_batch, mlp_batch_grad, mlp_batch_jvp, mlp_batch_grad_into, mlp_batch_vjp;
            [w1, w1_dot, w1_bar: DMatrix<f64> = (h, d), ref;
             b1, b1_dot, b1_bar: DVector<f64> = (h, 1), ref;
             w2, w2_dot, w2_bar: DMatrix<f64> = (o, h), ref;
             b2, b2_dot, b2_bar: DVector<f64> = (o, 1), ref]; [&xb, &yb, &ones]);
        let manual = |p: &[f64]| mlp_manual_gradient(&split(p, &shapes), &xb, &yb);
        check_all_closed(&columns, &pts, manual);
        check_all_closed(&batch, &pts, manual);
        for p in &pts {
            assert_close((columns.f)(p), (batch.f)(p), 1e-12, "the two styles' losses");
        }
    }
}

/// A step of gradient descent along the generated gradient decreases the loss.
#[test]
fn mlp_gradient_descent_decreases_the_loss() {
    let mut r = rng(49);
    let (d, h, o, n) = (3, 5, 2, 8);
    let xb = dmat(&mut r, d, n);
    let yb = DMatrix::from_fn(o, n, |_, _| r.gen_range(-0.5..0.5));
    let ones = RowDVector::from_element(n, 1.0);
    let (mut w1, mut b1, mut w2, mut b2) =
        (dmat(&mut r, h, d), DVector::from_element(h, 0.1), dmat(&mut r, o, h), DVector::zeros(o));
    let first = mlp_batch(&w1, &b1, &w2, &b2, &xb, &yb, &ones);
    let mut last = first;
    for _ in 0..20 {
        let (loss, (g1, gb1, g2, gb2)) = mlp_batch_grad(&w1, &b1, &w2, &b2, &xb, &yb, &ones);
        assert!(loss <= last + 1e-12, "loss went up: {last} → {loss}");
        last = loss;
        w1 -= 0.2 * g1;
        b1 -= 0.2 * gb1;
        w2 -= 0.2 * g2;
        b2 -= 0.2 * gb2;
    }
    assert!(last < 0.9 * first, "20 steps: {first} → {last}");
}

// ---------------------------------------------------------------------------------------------------
// 3. Softmax cross-entropy with the max-subtraction trick
// ---------------------------------------------------------------------------------------------------

/// The maximum found by a loop; the shifted exponentials by `add_scalar` and `map`. (A `map` closure may
/// not read the differentiated `m` itself.)
#[differentiable(wrt(logits))]
fn xent_map(logits: &DVector<f64>, label: usize) -> f64 {
    let mut m = logits[0];
    for i in 1..logits.len() {
        if logits[i] > m {
            m = logits[i];
        }
    }
    let e = logits.add_scalar(-m).map(|v| v.exp());
    let z = e.sum();
    z.ln() - (logits[label] - m)
}

/// The same with the exponentials summed in a loop.
#[differentiable(wrt(logits))]
fn xent_loops(logits: &DVector<f64>, label: usize) -> f64 {
    let n = logits.len();
    let mut m = logits[0];
    for i in 1..n {
        m = m.max(logits[i]);
    }
    let mut z = 0.0;
    for i in 0..n {
        z += (logits[i] - m).exp();
    }
    z.ln() + m - logits[label]
}

/// A linear classifier over a batch: mean cross-entropy of `W·xₖ + b`.
#[differentiable(wrt(w, b))]
fn classifier(w: &DMatrix<f64>, b: &DVector<f64>, xb: &DMatrix<f64>, labels: &[usize]) -> f64 {
    let mut total = 0.0;
    for k in 0..labels.len() {
        let logits = w * xb.column(k) + b;
        let mut m = logits[0];
        for i in 1..logits.len() {
            if logits[i] > m {
                m = logits[i];
            }
        }
        let e = logits.add_scalar(-m).map(|v| v.exp());
        total += e.sum().ln() + m - logits[labels[k]];
    }
    total / labels.len() as f64
}

fn softmax(x: &[f64]) -> Vec<f64> {
    let m = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = x.iter().map(|v| (v - m).exp()).collect();
    let z: f64 = e.iter().sum();
    e.iter().map(|v| v / z).collect()
}

#[test]
fn softmax_cross_entropy_gradient() {
    for n in [1, 2, 3, 7] {
        for label in [0, n - 1] {
            let closed = |x: &[f64]| {
                let mut g = softmax(x);
                g[label] -= 1.0;
                g
            };
            let pts = points(50 + n as u64, n, -4.0, 4.0);
            let fns = flat_view!(xent_map, xent_map_grad, xent_map_jvp, xent_map_grad_into, xent_map_vjp;
                [x, x_dot, x_bar: DVector<f64> = (n, 1), ref]; [label]);
            check_all_closed(&fns, &pts, closed);
            let fns = flat_view!(xent_loops, xent_loops_grad, xent_loops_jvp, xent_loops_grad_into, xent_loops_vjp;
                [x, x_dot, x_bar: DVector<f64> = (n, 1), ref]; [label]);
            check_all_closed(&fns, &pts, closed);
        }
    }
}

/// Logits in the thousands: the shift keeps the value and the gradient finite and exact.
#[test]
fn softmax_cross_entropy_with_huge_logits() {
    let x = DVector::from_vec(vec![1000.0, 1001.0, 998.0, -1000.0]);
    for label in 0..4 {
        let (v1, g1) = xent_map_grad(&x, label);
        let (v2, g2) = xent_loops_grad(&x, label);
        let mut expected = softmax(x.as_slice());
        expected[label] -= 1.0;
        assert!(v1.is_finite() && v2.is_finite());
        assert_close(v1, v2, 1e-12, "values");
        assert_all_close(g1.as_slice(), &expected, 1e-12, "xent_map gradient");
        assert_all_close(g2.as_slice(), &expected, 1e-12, "xent_loops gradient");
    }
}

#[test]
fn linear_classifier_gradient() {
    let mut r = rng(60);
    for (classes, features, batch) in [(3, 2, 4), (2, 5, 3), (4, 1, 6)] {
        let xb = dmat(&mut r, features, batch);
        let labels: Vec<usize> = (0..batch).map(|_| r.gen_range(0..classes)).collect();
        let fns = flat_view!(classifier, classifier_grad, classifier_jvp, classifier_grad_into, classifier_vjp;
            [w, w_dot, w_bar: DMatrix<f64> = (classes, features), ref; b, b_dot, b_bar: DVector<f64> = (classes, 1), ref];
            [&xb, &labels]);
        let pts = points(61 + classes as u64, classes * features + classes, -2.0, 2.0);
        check_all_closed(&fns, &pts, |p| {
            let v = split(p, &[(classes, features), (classes, 1)]);
            let (mut gw, mut gb) = (DMatrix::zeros(classes, features), DMatrix::zeros(classes, 1));
            for k in 0..batch {
                let logits = &v[0] * xb.column(k) + &v[1];
                let mut s = DMatrix::from_column_slice(classes, 1, &softmax(logits.as_slice()));
                s[labels[k]] -= 1.0;
                gw += &s * xb.column(k).transpose() / batch as f64;
                gb += s / batch as f64;
            }
            flat(&[&gw, &gb])
        });
    }
}

// ---------------------------------------------------------------------------------------------------
// 4. Gaussian log-density with a Cholesky-factor parameter
// ---------------------------------------------------------------------------------------------------

/// `log N(x; μ, LLᵀ)` for lower-triangular `L` (only its lower triangle is read): `L y = x − μ` solved by
/// forward substitution, `log det(LLᵀ) = 2 Σ ln Lᵢᵢ`.
#[differentiable(wrt(mu, l))]
fn gauss_logpdf(mu: &DVector<f64>, l: &DMatrix<f64>, x: &DVector<f64>) -> f64 {
    let n = x.len();
    let r = x - mu;
    let mut y = DVector::<f64>::zeros(n);
    for i in 0..n {
        let mut s = r[i];
        for j in 0..i {
            s -= l[(i, j)] * y[j];
        }
        y[i] = s / l[(i, i)];
    }
    let mut logdet = 0.0;
    for i in 0..n {
        logdet += 2.0 * l[(i, i)].ln();
    }
    -0.5 * y.norm_squared() - 0.5 * logdet - 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln()
}

/// The log-likelihood of several samples (the columns of `xs`): the substitution runs in a nested loop
/// with a fresh `y` per sample.
#[differentiable(wrt(mu, l))]
fn gauss_loglik(mu: &DVector<f64>, l: &DMatrix<f64>, xs: &DMatrix<f64>) -> f64 {
    let n = mu.len();
    let mut logdet = 0.0;
    for i in 0..n {
        logdet += 2.0 * l[(i, i)].ln();
    }
    let mut total = 0.0;
    for k in 0..xs.ncols() {
        let r = xs.column(k) - mu;
        let mut y = DVector::<f64>::zeros(n);
        for i in 0..n {
            let mut s = r[i];
            for j in 0..i {
                s -= l[(i, j)] * y[j];
            }
            y[i] = s / l[(i, i)];
        }
        total += -0.5 * y.dot(&y) - 0.5 * logdet;
    }
    total - 0.5 * (xs.ncols() as f64 * n as f64) * (2.0 * std::f64::consts::PI).ln()
}

/// Points `(μ, L)` with `L`'s diagonal in `0.6..1.6` and its other entries in `-0.4..0.4` (the upper
/// triangle is not read: its gradient is zero).
fn gauss_points(r: &mut StdRng, n: usize) -> Vec<Vec<f64>> {
    (0..POINTS)
        .map(|_| {
            let mut p = random_vec(r, n);
            p.extend(
                DMatrix::from_fn(n, n, |i, j| if i == j { r.gen_range(0.6..1.6) } else { r.gen_range(-0.4..0.4) })
                    .iter(),
            );
            p
        })
        .collect()
}

/// `(∂/∂μ, ∂/∂L)` of `log N(x; μ, LLᵀ)`: `L⁻ᵀy` and `tril(L⁻ᵀ y yᵀ) − diag(1/Lᵢᵢ)`, with `y = L⁻¹(x − μ)`.
fn gauss_closed(mu: &DVector<f64>, l: &DMatrix<f64>, x: &DVector<f64>) -> (DVector<f64>, DMatrix<f64>) {
    let l = l.lower_triangle();
    let y = l.solve_lower_triangular(&(x - mu)).unwrap();
    let u = l.tr_solve_lower_triangular(&y).unwrap();
    let gl = (&u * y.transpose()).lower_triangle() - DMatrix::from_diagonal(&l.diagonal().map(|d| 1.0 / d));
    (u, gl)
}

#[test]
fn gaussian_log_density_gradient() {
    let mut r = rng(70);
    for n in [1, 2, 3, 5] {
        let x = DVector::from_fn(n, |_, _| r.gen_range(-1.5..1.5));
        let pts = gauss_points(&mut r, n);
        let fns = flat_view!(gauss_logpdf, gauss_logpdf_grad, gauss_logpdf_jvp, gauss_logpdf_grad_into, gauss_logpdf_vjp;
            [mu, mu_dot, mu_bar: DVector<f64> = (n, 1), ref; l, l_dot, l_bar: DMatrix<f64> = (n, n), ref]; [&x]);
        check_all_closed(&fns, &pts, |p| {
            let v = split(p, &[(n, 1), (n, n)]);
            let (gm, gl) = gauss_closed(&DVector::from_column_slice(v[0].as_slice()), &v[1], &x);
            flat(&[&DMatrix::from_column_slice(n, 1, gm.as_slice()), &gl])
        });
        // The value against the density of N(μ, LLᵀ) computed from the covariance.
        for p in &pts {
            let v = split(p, &[(n, 1), (n, n)]);
            let (mu, l) = (DVector::from_column_slice(v[0].as_slice()), v[1].lower_triangle());
            let sigma = &l * l.transpose();
            let d = &x - &mu;
            let q = (d.transpose() * sigma.clone().try_inverse().unwrap() * &d)[0];
            let expected =
                -0.5 * q - 0.5 * sigma.determinant().ln() - 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln();
            assert_close(gauss_logpdf(&mu, &v[1], &x), expected, 1e-10, "log-density");
        }
    }
}

#[test]
fn gaussian_log_likelihood_of_a_sample_set() {
    let mut r = rng(71);
    for (n, samples) in [(1, 3), (2, 4), (4, 2)] {
        let xs = DMatrix::from_fn(n, samples, |_, _| r.gen_range(-1.5..1.5));
        let pts = gauss_points(&mut r, n);
        let fns = flat_view!(gauss_loglik, gauss_loglik_grad, gauss_loglik_jvp, gauss_loglik_grad_into, gauss_loglik_vjp;
            [mu, mu_dot, mu_bar: DVector<f64> = (n, 1), ref; l, l_dot, l_bar: DMatrix<f64> = (n, n), ref]; [&xs]);
        check_all_closed(&fns, &pts, |p| {
            let v = split(p, &[(n, 1), (n, n)]);
            let mu = DVector::from_column_slice(v[0].as_slice());
            let (mut gm, mut gl) = (DVector::zeros(n), DMatrix::zeros(n, n));
            for k in 0..samples {
                let (a, b) = gauss_closed(&mu, &v[1], &xs.column(k).clone_owned());
                gm += a;
                gl += b;
            }
            flat(&[&DMatrix::from_column_slice(n, 1, gm.as_slice()), &gl])
        });
    }
}

// ---------------------------------------------------------------------------------------------------
// 5. Fixed-size SVector/SMatrix code, and f32
// ---------------------------------------------------------------------------------------------------

/// A rotation about z by `theta`, built element by element, applied to `v`.
#[differentiable(wrt(theta))]
fn rotate_z(theta: f64, v: &Vector3<f64>, target: &Vector3<f64>) -> f64 {
    let (c, s) = (theta.cos(), theta.sin());
    let mut r = Matrix3::<f64>::zeros();
    r[(0, 0)] = c;
    r[(0, 1)] = -s;
    r[(1, 0)] = s;
    r[(1, 1)] = c;
    r[(2, 2)] = 1.0;
    let d = r * v - target;
    d.norm_squared()
}

#[test]
fn rotation_angle_gradient() {
    let mut r = rng(80);
    let v: Vector3<f64> = rand_mat(&mut r, nalgebra::Const::<3>, nalgebra::Const::<1>, -1.0, 1.0);
    let target: Vector3<f64> = rand_mat(&mut r, nalgebra::Const::<3>, nalgebra::Const::<1>, -1.0, 1.0);
    let fns = flat_view!(rotate_z, rotate_z_grad, rotate_z_jvp, rotate_z_grad_into, rotate_z_vjp;
        [t, t_dot, t_bar: f64 = (), val]; [&v, &target]);
    check_all_closed(&fns, &points(81, 1, -3.0, 3.0), |p| {
        let rot = |t: f64| nalgebra::Rotation3::from_axis_angle(&Vector3::z_axis(), t).into_inner();
        let (c, s) = (p[0].cos(), p[0].sin());
        let dr = Matrix3::new(-s, -c, 0.0, c, -s, 0.0, 0.0, 0.0, 0.0);
        vec![2.0 * (rot(p[0]) * v - target).dot(&(dr * v))]
    });
}

/// Fitting a 3×3 map to a rotation: data term plus an orthogonality penalty ‖MᵀM − I‖².
#[differentiable(wrt(m, v))]
fn orthogonal_fit(m: &Matrix3<f64>, v: &Vector3<f64>, target: &Vector3<f64>, eye: &Matrix3<f64>) -> f64 {
    let d = m * v - target;
    let g = m.transpose() * m - eye;
    d.norm_squared() + g.norm_squared()
}

#[test]
fn fixed_size_matrix_gradient() {
    let mut r = rng(82);
    let target: Vector3<f64> = rand_mat(&mut r, nalgebra::Const::<3>, nalgebra::Const::<1>, -1.0, 1.0);
    let eye = Matrix3::identity();
    let fns = flat_view!(orthogonal_fit, orthogonal_fit_grad, orthogonal_fit_jvp, orthogonal_fit_grad_into, orthogonal_fit_vjp;
        [m, m_dot, m_bar: Matrix3<f64> = (3, 3), ref; v, v_dot, v_bar: Vector3<f64> = (3, 1), ref]; [&target, &eye]);
    check_all_closed(&fns, &points(83, 12, -1.0, 1.0), |p| {
        let m = Matrix3::from_column_slice(&p[..9]);
        let v = Vector3::from_column_slice(&p[9..]);
        let d = m * v - target;
        let gm = 2.0 * d * v.transpose() + 4.0 * m * (m.transpose() * m - eye);
        let gv = 2.0 * m.transpose() * d;
        gm.iter().chain(gv.iter()).copied().collect()
    });
    // The generated forms are typed with the fixed-size types.
    let (m, v) = (Matrix3::from_fn(|i, j| (i + 2 * j) as f64 * 0.1), Vector3::new(0.3, -0.2, 0.5));
    let (_, (gm, gv)): (f64, (Matrix3<f64>, Vector3<f64>)) = orthogonal_fit_grad(&m, &v, &target, &eye);
    assert!(gm.norm() > 0.0 && gv.norm() > 0.0);
}

/// Fixed-size, non-square, by value and by reference.
#[differentiable(wrt(m, v, b))]
fn affine_by_value(m: SMatrix<f64, 2, 3>, v: SVector<f64, 3>, b: &SVector<f64, 2>) -> f64 {
    let y = m * v + b;
    let s = y.map(|t| t.sin());
    s.dot(&y) + (m.transpose() * y).norm()
}

#[test]
fn fixed_size_by_value_gradient() {
    let fns = flat_view!(affine_by_value, affine_by_value_grad, affine_by_value_jvp, affine_by_value_grad_into, affine_by_value_vjp;
        [m, m_dot, m_bar: SMatrix<f64, 2, 3> = (2, 3), val;
         v, v_dot, v_bar: SVector<f64, 3> = (3, 1), val;
         b, b_dot, b_bar: SVector<f64, 2> = (2, 1), ref]; []);
    check_all(&fns, &points(84, 11, -1.0, 1.0));
}

/// f32: a fixed-size matrix by reference and a vector by value.
#[differentiable(wrt(m, v))]
fn small_f32(m: &SMatrix<f32, 2, 3>, v: SVector<f32, 3>) -> f32 {
    let w = m * v;
    let s = w.map(|t| t.sin());
    w.norm_squared() + s.sum()
}

/// The f64 twin of [`small_f32`].
#[differentiable(wrt(m, v))]
fn small_f64(m: &SMatrix<f64, 2, 3>, v: SVector<f64, 3>) -> f64 {
    let w = m * v;
    let s = w.map(|t| t.sin());
    w.norm_squared() + s.sum()
}

/// f32: a dynamic layer.
#[differentiable(wrt(m, x))]
fn layer_f32(m: &DMatrix<f32>, x: &DVector<f32>, y: &DVector<f32>) -> f32 {
    let h = (m * x).map(|t| t.tanh());
    let d = h - y;
    d.dot(&d) * 0.5 + x.norm()
}

#[differentiable(wrt(m, x))]
fn layer_f64(m: &DMatrix<f64>, x: &DVector<f64>, y: &DVector<f64>) -> f64 {
    let h = (m * x).map(|t| t.tanh());
    let d = h - y;
    d.dot(&d) * 0.5 + x.norm()
}

/// Finite differences of an f32 function: a larger step and looser tolerances.
fn tol32() -> Tol {
    Tol { fd: CheckOptions { step: 1e-2, rtol: 2e-3, atol: 1e-4 }, exact: 1e-5 }
}

/// Points exactly representable in f32, so that f32 and f64 twins see the same input.
fn points32(seed: u64, dim: usize) -> Vec<Vec<f64>> {
    points(seed, dim, -1.0, 1.0).into_iter().map(|p| p.into_iter().map(|v| v as f32 as f64).collect()).collect()
}

#[test]
fn f32_fixed_size_gradient() {
    let pts = points32(90, 9);
    let f32s = flat_view!(small_f32, small_f32_grad, small_f32_jvp, small_f32_grad_into, small_f32_vjp;
        [m, m_dot, m_bar: SMatrix<f32, 2, 3> = (2, 3), ref; v, v_dot, v_bar: SVector<f32, 3> = (3, 1), val]; []);
    let f64s = flat_view!(small_f64, small_f64_grad, small_f64_jvp, small_f64_grad_into, small_f64_vjp;
        [m, m_dot, m_bar: SMatrix<f64, 2, 3> = (2, 3), ref; v, v_dot, v_bar: SVector<f64, 3> = (3, 1), val]; []);
    let g32 = check_all_with(&f32s, &pts, tol32());
    let g64 = check_all(&f64s, &pts);
    for (a, b) in g32.iter().zip(&g64) {
        for (x, y) in a.iter().zip(b) {
            assert!(close(*x, *y, 1e-4, 1e-5), "f32 vs f64 gradient: {a:?} vs {b:?}");
        }
    }
    let (_, (gm, gv)): (f32, (SMatrix<f32, 2, 3>, SVector<f32, 3>)) =
        small_f32_grad(&SMatrix::<f32, 2, 3>::from_element(0.5), SVector::<f32, 3>::from_element(0.25));
    assert!(gm.iter().chain(gv.iter()).all(|v| v.is_finite()));
}

#[test]
fn f32_dynamic_gradient() {
    let (rows, cols) = (3, 2);
    let mut r = rng(91);
    let y: DVector<f32> = rand_mat(&mut r, nalgebra::Dyn(rows), nalgebra::Const::<1>, -0.5, 0.5);
    let y64 = y.map(|v| v as f64);
    let pts = points32(92, rows * cols + cols);
    let f32s = flat_view!(layer_f32, layer_f32_grad, layer_f32_jvp, layer_f32_grad_into, layer_f32_vjp;
        [m, m_dot, m_bar: DMatrix<f32> = (rows, cols), ref; x, x_dot, x_bar: DVector<f32> = (cols, 1), ref]; [&y]);
    let f64s = flat_view!(layer_f64, layer_f64_grad, layer_f64_jvp, layer_f64_grad_into, layer_f64_vjp;
        [m, m_dot, m_bar: DMatrix<f64> = (rows, cols), ref; x, x_dot, x_bar: DVector<f64> = (cols, 1), ref]; [&y64]);
    let g32 = check_all_with(&f32s, &pts, tol32());
    let g64 = check_all(&f64s, &pts);
    for (a, b) in g32.iter().zip(&g64) {
        for (x, y) in a.iter().zip(b) {
            assert!(close(*x, *y, 1e-4, 1e-5), "f32 vs f64 gradient: {a:?} vs {b:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// 6. Vector-valued functions (returning `Vec<f64>` / `[f64; N]`) over nalgebra values, and element
//    reads and writes in loops
// ---------------------------------------------------------------------------------------------------

/// The residual `Ax − b` of least squares, copied out element by element.
#[differentiable(wrt(x))]
fn residual(x: &DVector<f64>, a: &DMatrix<f64>, b: &DVector<f64>) -> Vec<f64> {
    let r = a * x - b;
    let mut out = vec![0.0; b.len()];
    for i in 0..b.len() {
        out[i] = r[i];
    }
    out
}

#[test]
fn residual_jacobian_is_a() {
    let mut r = rng(100);
    for (m, n) in LSQ_SHAPES {
        let (a, b) = (dmat(&mut r, m, n), DVector::from_fn(m, |_, _| r.gen_range(-1.0..1.0)));
        let pts = points(101 + m as u64, n, -1.0, 1.0);
        let jacs = check_vector(
            &Vector {
                f: &|x| residual(&DVector::from_column_slice(x), &a, &b),
                jvp: &|x, v| residual_jvp(&DVector::from_column_slice(x), &DVector::from_column_slice(v), &a, &b),
                vjp: &|x, w, g| {
                    let mut gx = DVector::from_column_slice(g);
                    let value = residual_vjp(&DVector::from_column_slice(x), &a, &b, w.to_vec(), &mut gx);
                    g.copy_from_slice(gx.as_slice());
                    value
                },
            },
            &pts,
        );
        for jac in &jacs {
            for i in 0..m {
                assert_all_close(&jac[i], &a.row(i).iter().copied().collect::<Vec<_>>(), 1e-12, "row of A");
            }
        }
    }
}

/// Element writes `u[i] = ..`, `u[i] += ..` and `u[i] *= ..` into a local `DVector` in loops, reads of a
/// matrix `m[(i, j)]` and of the written vector, and a `[f64; 3]` result.
#[differentiable(wrt(v, m))]
fn elementwise(v: &DVector<f64>, m: &DMatrix<f64>) -> [f64; 3] {
    let n = v.len();
    let mut u = DVector::<f64>::zeros(n);
    for i in 0..n {
        u[i] = v[i].sin();
        for j in 0..n {
            u[i] += m[(i, j)] * v[j];
        }
        u[i] *= 1.0 + v[i] * v[i];
    }
    let mut prefix = DVector::<f64>::zeros(n);
    prefix[0] = u[0];
    for i in 1..n {
        prefix[i] = prefix[i - 1] + u[i];
    }
    let w = m * &u;
    [prefix[n - 1], w.norm(), u.dot(&prefix)]
}

#[test]
fn elementwise_writes_jacobian() {
    for n in [1, 2, 4] {
        let pts = points(110 + n as u64, n + n * n, -1.0, 1.0);
        let sh = [(n, 1), (n, n)];
        let view = |x: &[f64]| {
            let p = split(x, &sh);
            (DVector::from_column_slice(p[0].as_slice()), p[1].clone())
        };
        let jacs = check_vector(
            &Vector {
                f: &|x| {
                    let (v, m) = view(x);
                    elementwise(&v, &m).to_vec()
                },
                jvp: &|x, t| {
                    let ((v, m), (vd, md)) = (view(x), view(t));
                    let (a, b) = elementwise_jvp(&v, &vd, &m, &md);
                    (a.to_vec(), b.to_vec())
                },
                vjp: &|x, w, g| {
                    let ((v, m), (mut gv, mut gm)) = (view(x), view(g));
                    let value = elementwise_vjp(&v, &m, [w[0], w[1], w[2]], &mut gv, &mut gm);
                    g.copy_from_slice(&flat(&[&DMatrix::from_column_slice(n, 1, gv.as_slice()), &gm]));
                    value.to_vec()
                },
            },
            &pts,
        );
        // The first output is Σᵢ uᵢ: its row is ∂/∂vₖ Σᵢ uᵢ by hand.
        for (x, jac) in pts.iter().zip(&jacs) {
            let (v, m) = view(x);
            let mut row = vec![0.0; n + n * n];
            for i in 0..n {
                let lin = v[i].sin() + (0..n).map(|j| m[(i, j)] * v[j]).sum::<f64>();
                let scale = 1.0 + v[i] * v[i];
                // ∂uᵢ/∂vᵢ from sin and from the scale; ∂uᵢ/∂vⱼ and ∂uᵢ/∂mᵢⱼ through the sum.
                row[i] += v[i].cos() * scale + lin * 2.0 * v[i];
                for j in 0..n {
                    row[j] += m[(i, j)] * scale;
                    row[n + j * n + i] += v[j] * scale;
                }
            }
            assert_all_close(&jac[0], &row, 1e-10, "row of Σ uᵢ");
        }
    }
}

/// Element writes into a mutable by-value parameter.
#[differentiable(wrt(v))]
fn squares_in_place(mut v: DVector<f64>) -> f64 {
    for i in 0..v.len() {
        v[i] = v[i] * v[i];
    }
    v.norm_squared()
}

#[test]
fn element_writes_into_a_parameter() {
    for n in [1, 3, 5] {
        let fns = flat_view!(squares_in_place, squares_in_place_grad, squares_in_place_jvp, squares_in_place_grad_into, squares_in_place_vjp;
            [v, v_dot, v_bar: DVector<f64> = (n, 1), val]; []);
        check_all_closed(&fns, &points(120 + n as u64, n, -1.5, 1.5), |x| x.iter().map(|v| 4.0 * v * v * v).collect());
    }
}

// ---------------------------------------------------------------------------------------------------
// 6b. Functions returning nalgebra values (`DVector`, `DMatrix`, `SVector`, f32), checked with the
//     dot-product test ⟨J·v, w⟩ = ⟨v, Jᵀ·w⟩ from `f_jvp` and `f_vjp`, and `common::check_vector`
// ---------------------------------------------------------------------------------------------------

/// `⟨J·v, w⟩ = ⟨v, Jᵀ·w⟩` for random `v`, `w` at each point (to `rtol`), then `check_vector_with`;
/// returns the Jacobians.
#[track_caller]
fn check_outputs(fns: &Vector, pts: &[Vec<f64>], seed: u64, tol: Tol) -> Vec<Vec<Vec<f64>>> {
    let mut r = rng(seed);
    for x in pts {
        let m = (fns.f)(x).len();
        let (v, w) = (random_vec(&mut r, x.len()), random_vec(&mut r, m));
        let (_, jv) = (fns.jvp)(x, &v);
        let mut jtw = vec![0.0; x.len()];
        (fns.vjp)(x, &w, &mut jtw);
        let (lhs, rhs) = (dot(&jv, &w), dot(&v, &jtw));
        let scale = jv.iter().zip(&w).map(|(a, b)| (a * b).abs()).sum::<f64>();
        assert!((lhs - rhs).abs() <= 1e-14 + tol.exact * scale, "⟨J·v, w⟩ = {lhs:e} but ⟨v, Jᵀ·w⟩ = {rhs:e} at {x:?}");
    }
    check_vector_with(fns, pts, tol)
}

fn exact() -> Tol {
    Tol { exact: 1e-12, ..Tol::default() }
}

#[differentiable(wrt(x))]
fn residual_vector(x: &DVector<f64>, a: &DMatrix<f64>, b: &DVector<f64>) -> DVector<f64> {
    a * x - b
}

#[test]
fn dvector_output_jacobian_is_a() {
    let mut r = rng(130);
    for (m, n) in LSQ_SHAPES {
        let (a, b) = (dmat(&mut r, m, n), DVector::from_fn(m, |_, _| r.gen_range(-1.0..1.0)));
        let fns = flat_vector_view!(residual_vector, residual_vector_jvp, residual_vector_vjp;
            [x, x_dot, x_bar: DVector<f64> = (n, 1), ref]; [&a, &b] -> DVector<f64> = (m, 1));
        let jacs = check_outputs(&fns, &points(131 + m as u64, n, -1.0, 1.0), 132, exact());
        for jac in &jacs {
            for i in 0..m {
                assert_all_close(&jac[i], &a.row(i).iter().copied().collect::<Vec<_>>(), 1e-12, "row of A");
            }
        }
    }
}

/// `m[(i, j)] += ..` in nested loops, then a write to the diagonal: `vvᵀ + diag(sin v)`.
#[differentiable(wrt(v))]
fn outer_in_loops(v: &DVector<f64>) -> DMatrix<f64> {
    let n = v.len();
    let mut m = DMatrix::<f64>::zeros(n, n);
    for i in 0..n {
        for j in 0..n {
            m[(i, j)] += v[i] * v[j];
        }
    }
    for i in 0..n {
        m[(i, i)] = m[(i, i)] + v[i].sin();
    }
    m
}

#[test]
fn matrix_written_elementwise_in_loops() {
    for n in [1, 2, 4] {
        let fns = flat_vector_view!(outer_in_loops, outer_in_loops_jvp, outer_in_loops_vjp;
            [v, v_dot, v_bar: DVector<f64> = (n, 1), ref]; [] -> DMatrix<f64> = (n, n));
        let pts = points(140 + n as u64, n, -1.5, 1.5);
        let jacs = check_outputs(&fns, &pts, 141, exact());
        // ∂m_ij/∂v_k = δ_ik v_j + v_i δ_jk + δ_ij δ_ik cos v_i  (m flattened column-major: row i + n·j).
        for (x, jac) in pts.iter().zip(&jacs) {
            for i in 0..n {
                for j in 0..n {
                    let row: Vec<f64> = (0..n)
                        .map(|k| {
                            let d = |a: usize, b: usize| if a == b { 1.0 } else { 0.0 };
                            d(i, k) * x[j] + x[i] * d(j, k) + d(i, j) * d(i, k) * x[i].cos()
                        })
                        .collect();
                    assert_all_close(&jac[i + n * j], &row, 1e-12, &format!("∂m[({i}, {j})]/∂v"));
                }
            }
        }
    }
}

/// Prefix sums written into a local, each entry reading the one written before it.
#[differentiable(wrt(v))]
fn prefix_squares(v: &DVector<f64>) -> DVector<f64> {
    let n = v.len();
    let mut u = DVector::<f64>::zeros(n);
    u[0] = v[0] * v[0];
    for i in 1..n {
        u[i] = u[i - 1] + v[i] * v[i];
    }
    u
}

#[test]
fn vector_written_elementwise_in_a_loop() {
    for n in [1, 3, 6] {
        let fns = flat_vector_view!(prefix_squares, prefix_squares_jvp, prefix_squares_vjp;
            [v, v_dot, v_bar: DVector<f64> = (n, 1), ref]; [] -> DVector<f64> = (n, 1));
        let pts = points(150 + n as u64, n, -1.5, 1.5);
        let jacs = check_outputs(&fns, &pts, 151, exact());
        for (x, jac) in pts.iter().zip(&jacs) {
            for i in 0..n {
                let row: Vec<f64> = (0..n).map(|k| if k <= i { 2.0 * x[k] } else { 0.0 }).collect();
                assert_all_close(&jac[i], &row, 1e-12, &format!("∂u[{i}]/∂v"));
            }
        }
    }
}

/// `.sum()` of a local written by index, returned directly.
#[differentiable(wrt(v))]
fn sum_of_written_local(v: &DVector<f64>) -> f64 {
    let mut u = DVector::<f64>::zeros(v.len());
    for i in 0..v.len() {
        u[i] = v[i].sin();
    }
    u.sum()
}

#[test]
fn sum_of_a_vector_written_in_a_loop() {
    for n in [1, 4] {
        let fns = flat_view!(sum_of_written_local, sum_of_written_local_grad, sum_of_written_local_jvp, sum_of_written_local_grad_into, sum_of_written_local_vjp;
            [v, v_dot, v_bar: DVector<f64> = (n, 1), ref]; []);
        check_all_closed(&fns, &points(160 + n as u64, n, -2.0, 2.0), |x| x.iter().map(|v| v.cos()).collect());
    }
}

/// Forward substitution `L y = b` returning `y`, with both `L` and `b` active.
#[differentiable(wrt(l, b))]
fn lower_solve(l: &DMatrix<f64>, b: &DVector<f64>) -> DVector<f64> {
    let n = b.len();
    let mut y = DVector::<f64>::zeros(n);
    for i in 0..n {
        let mut s = b[i];
        for j in 0..i {
            s -= l[(i, j)] * y[j];
        }
        y[i] = s / l[(i, i)];
    }
    y
}

#[test]
fn triangular_solve_jacobian() {
    let mut r = rng(170);
    for n in [1, 2, 4] {
        let pts: Vec<Vec<f64>> = gauss_points(&mut r, n)
            .into_iter()
            .map(|p| {
                // gauss_points gives (μ, L); reorder to (L, b).
                let mut q = p[n..].to_vec();
                q.extend_from_slice(&p[..n]);
                q
            })
            .collect();
        let fns = flat_vector_view!(lower_solve, lower_solve_jvp, lower_solve_vjp;
            [l, l_dot, l_bar: DMatrix<f64> = (n, n), ref; b, b_dot, b_bar: DVector<f64> = (n, 1), ref]; []
            -> DVector<f64> = (n, 1));
        check_outputs(&fns, &pts, 171, exact());
        // J·v against dy = L⁻¹(ḃ − L̇ y) (lower triangles only).
        for x in &pts {
            let v = random_vec(&mut r, x.len());
            let (p, d) = (split(x, &[(n, n), (n, 1)]), split(&v, &[(n, n), (n, 1)]));
            let l = p[0].lower_triangle();
            let y = l.solve_lower_triangular(&p[1]).unwrap();
            let expected = l.solve_lower_triangular(&(&d[1] - d[0].lower_triangle() * &y)).unwrap();
            let (_, jv) = (fns.jvp)(x, &v);
            assert_all_close(&jv, expected.as_slice(), 1e-10, "J·v of the triangular solve");
        }
    }
}

/// A fixed-size result: the rotation about z by `theta` applied to `v`, as a `Vector3`.
#[differentiable(wrt(theta, v))]
fn rotate_vector(theta: f64, v: &Vector3<f64>) -> Vector3<f64> {
    let (c, s) = (theta.cos(), theta.sin());
    let mut r = Matrix3::<f64>::zeros();
    r[(0, 0)] = c;
    r[(0, 1)] = -s;
    r[(1, 0)] = s;
    r[(1, 1)] = c;
    r[(2, 2)] = 1.0;
    r * v
}

#[test]
fn fixed_size_vector_output() {
    let fns = flat_vector_view!(rotate_vector, rotate_vector_jvp, rotate_vector_vjp;
        [t, t_dot, t_bar: f64 = (), val; v, v_dot, v_bar: Vector3<f64> = (3, 1), ref]; [] -> Vector3<f64> = (3, 1));
    let pts = points(180, 4, -2.0, 2.0);
    let jacs = check_outputs(&fns, &pts, 181, exact());
    for (x, jac) in pts.iter().zip(&jacs) {
        let rot = nalgebra::Rotation3::from_axis_angle(&Vector3::z_axis(), x[0]).into_inner();
        let v = Vector3::new(x[1], x[2], x[3]);
        // ∂(Rv)/∂θ = (−sin θ·v₀ − cos θ·v₁, cos θ·v₀ − sin θ·v₁, 0); ∂(Rv)/∂v = R.
        let (c, s) = (x[0].cos(), x[0].sin());
        let d_theta = [-s * v[0] - c * v[1], c * v[0] - s * v[1], 0.0];
        for i in 0..3 {
            let expected = [d_theta[i], rot[(i, 0)], rot[(i, 1)], rot[(i, 2)]];
            assert_all_close(&jac[i], &expected, 1e-12, &format!("row {i}"));
        }
    }
}

/// An f32 result.
#[differentiable(wrt(m, x))]
fn squash_f32(m: &DMatrix<f32>, x: &DVector<f32>) -> DVector<f32> {
    (m * x).map(|t| t.tanh()) * 2.0
}

#[differentiable(wrt(m, x))]
fn squash_f64(m: &DMatrix<f64>, x: &DVector<f64>) -> DVector<f64> {
    (m * x).map(|t| t.tanh()) * 2.0
}

#[test]
fn f32_vector_output() {
    let (rows, cols) = (3, 2);
    let pts = points32(190, rows * cols + cols);
    let f32s = flat_vector_view!(squash_f32, squash_f32_jvp, squash_f32_vjp;
        [m, m_dot, m_bar: DMatrix<f32> = (rows, cols), ref; x, x_dot, x_bar: DVector<f32> = (cols, 1), ref]; []
        -> DVector<f32> = (rows, 1));
    let f64s = flat_vector_view!(squash_f64, squash_f64_jvp, squash_f64_vjp;
        [m, m_dot, m_bar: DMatrix<f64> = (rows, cols), ref; x, x_dot, x_bar: DVector<f64> = (cols, 1), ref]; []
        -> DVector<f64> = (rows, 1));
    let j32 = check_outputs(&f32s, &pts, 191, tol32());
    let j64 = check_outputs(&f64s, &pts, 191, exact());
    for (a, b) in j32.iter().flatten().flatten().zip(j64.iter().flatten().flatten()) {
        assert!(close(*a, *b, 1e-4, 1e-5), "f32 vs f64 Jacobian entry: {a:e} vs {b:e}");
    }
}

// ---------------------------------------------------------------------------------------------------
// 7. Matrices carried through control flow: loops that rebind and accumulate matrices, matrix-valued
//    `if`, by-value matrix parameters with explicit `&w1 * &xb` products
// ---------------------------------------------------------------------------------------------------

/// Power iteration: `v ← Av/‖Av‖` rebound in a loop, then the Rayleigh quotient `vᵀAv`.
#[differentiable(wrt(a))]
fn power_iteration(a: &DMatrix<f64>, v0: &DVector<f64>, iters: usize) -> f64 {
    let mut v = v0 * 1.0;
    for _ in 0..iters {
        let w = a * &v;
        v = &w / w.norm();
    }
    v.dot(&(a * &v))
}

#[test]
fn power_iteration_gradient() {
    let mut r = rng(200);
    for (n, iters) in [(1, 3), (2, 5), (4, 8)] {
        let v0 = DVector::from_fn(n, |_, _| r.gen_range(0.5..1.0));
        // Symmetric positive matrices with a clear dominant eigenvalue: I·n + small noise.
        let pts: Vec<Vec<f64>> = (0..POINTS)
            .map(|_| {
                let m =
                    DMatrix::from_fn(n, n, |i, j| if i == j { 1.0 + i as f64 } else { 0.0 } + r.gen_range(-0.2..0.2));
                m.as_slice().to_vec()
            })
            .collect();
        let fns = flat_view!(power_iteration, power_iteration_grad, power_iteration_jvp, power_iteration_grad_into, power_iteration_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (n, n), ref]; [&v0, iters]);
        check_all(&fns, &pts);
    }
}

/// `acc = acc + a·(i + 1)` in a loop: `acc = a·k(k+1)/2`.
#[differentiable(wrt(a))]
fn accumulate_rebind(a: &DMatrix<f64>, k: usize, rows: usize, cols: usize) -> f64 {
    let mut acc = DMatrix::<f64>::zeros(rows, cols);
    for i in 0..k {
        acc = acc + a * (i as f64 + 1.0);
    }
    acc.norm_squared()
}

/// `acc += a` in a loop: `acc = (k + 1)·a`.
#[differentiable(wrt(a))]
fn accumulate_in_place(a: &DMatrix<f64>, k: usize) -> f64 {
    let mut acc = a * 1.0;
    for _ in 0..k {
        acc += a;
    }
    acc.norm_squared()
}

#[test]
fn matrices_accumulated_in_loops() {
    for (rows, cols) in [(1, 1), (2, 3), (3, 2)] {
        for k in [0, 1, 4] {
            let c = (k * (k + 1) / 2) as f64;
            let fns = flat_view!(accumulate_rebind, accumulate_rebind_grad, accumulate_rebind_jvp, accumulate_rebind_grad_into, accumulate_rebind_vjp;
                [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; [k, rows, cols]);
            check_all_closed(&fns, &points(210 + k as u64, rows * cols, -1.0, 1.0), |x| {
                x.iter().map(|v| 2.0 * c * c * v).collect()
            });
            let c = (k + 1) as f64;
            let fns = flat_view!(accumulate_in_place, accumulate_in_place_grad, accumulate_in_place_jvp, accumulate_in_place_grad_into, accumulate_in_place_vjp;
                [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; [k]);
            check_all_closed(&fns, &points(220 + k as u64, rows * cols, -1.0, 1.0), |x| {
                x.iter().map(|v| 2.0 * c * c * v).collect()
            });
        }
    }
}

/// A matrix-valued `if`.
#[differentiable(wrt(a))]
fn matrix_branch(a: &DMatrix<f64>, flag: bool) -> f64 {
    let z = if flag { a * 2.0 } else { a.transpose() * a };
    z.sum()
}

#[test]
fn matrix_valued_if() {
    for (rows, cols) in [(1, 1), (2, 3), (3, 3)] {
        for flag in [true, false] {
            let fns = flat_view!(matrix_branch, matrix_branch_grad, matrix_branch_jvp, matrix_branch_grad_into, matrix_branch_vjp;
                [a, a_dot, a_bar: DMatrix<f64> = (rows, cols), ref]; [flag]);
            check_all_closed(&fns, &points(230, rows * cols, -1.0, 1.0), |x| {
                if flag {
                    vec![2.0; x.len()]
                } else {
                    // Σᵢⱼ (AᵀA)ᵢⱼ = ‖A·𝟙‖² ⇒ ∂/∂A = 2 (A·𝟙) 𝟙ᵀ
                    let a = DMatrix::from_column_slice(rows, cols, x);
                    let s = &a * DVector::from_element(cols, 1.0);
                    (2.0 * s * RowDVector::from_element(cols, 1.0)).as_slice().to_vec()
                }
            });
        }
    }
}

/// The MLP's first layer with by-value matrices and explicit `&w1 * &xb` products.
#[differentiable(wrt(w1, w2))]
fn by_value_layers(w1: DMatrix<f64>, w2: DMatrix<f64>, xb: DMatrix<f64>) -> f64 {
    let h = (&w1 * &xb).map(|v| v.tanh());
    (&w2 * &h).norm_squared()
}

#[test]
fn by_value_matrix_parameters() {
    let mut r = rng(240);
    let (d, h, o, n) = (2, 3, 2, 4);
    let xb = dmat(&mut r, d, n);
    let fns = flat_view!(by_value_layers, by_value_layers_grad, by_value_layers_jvp, by_value_layers_grad_into, by_value_layers_vjp;
        [w1, w1_dot, w1_bar: DMatrix<f64> = (h, d), val; w2, w2_dot, w2_bar: DMatrix<f64> = (o, h), val]; [xb.clone()]);
    check_all_closed(&fns, &points(241, h * d + o * h, -1.0, 1.0), |p| {
        let v = split(p, &[(h, d), (o, h)]);
        let hid = (&v[0] * &xb).map(|t| t.tanh());
        let out = &v[1] * &hid;
        let g2 = 2.0 * &out * hid.transpose();
        let d_hid = (2.0 * v[1].transpose() * &out).component_mul(&hid.map(|t| 1.0 - t * t));
        flat(&[&(d_hid * xb.transpose()), &g2])
    });
}

// ---------------------------------------------------------------------------------------------------
// 8. Assorted constructs: closures reading constants, `zip_map` of a matrix with itself, quadratic
//    forms through transposed vectors, rows of products, in-place `*=`/`-=` and `break`, calls between
//    differentiable functions, fixed-size element writes in loops, rows and columns in loops
// ---------------------------------------------------------------------------------------------------

/// A `map` closure reading an element of a constant vector.
#[differentiable(wrt(a))]
fn map_reads_constant(a: &DMatrix<f64>, c: &DVector<f64>) -> f64 {
    let z = a.map(|v| v * c[0] + (v * c[1]).sin());
    z.sum()
}

/// `zip_map` of a matrix with itself, and a closure with `powf`, `abs`, `max`, `min` and a captured
/// constant.
#[differentiable(wrt(a, b))]
fn zip_map_variants(a: &DMatrix<f64>, b: &DMatrix<f64>, k: f64) -> f64 {
    let s = a.zip_map(a, |u, v| u * v.sin());
    let z = a.zip_map(b, |u, v| (u * k).powf(2.0) + v.abs().max(0.1) + u.min(v));
    s.sum() + z.sum()
}

/// `xᵀ A x` as a 1×1 matrix product, read with `[(0, 0)]`.
#[differentiable(wrt(a, x))]
fn quadratic_form(a: &DMatrix<f64>, x: &DVector<f64>) -> f64 {
    let q = x.transpose() * a * x;
    q[(0, 0)]
}

/// The norm of a row of a product.
#[differentiable(wrt(a, b))]
fn row_of_product(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let ab = a * b;
    let r = ab.row(0);
    r.norm()
}

/// `*=` and `-=` on a matrix in a loop with a data-dependent `break`.
#[differentiable(wrt(a))]
fn in_place_with_break(a: &DMatrix<f64>, n: usize) -> f64 {
    let mut acc = a * 1.0;
    for _ in 0..n {
        acc *= 0.5;
        acc -= a;
        if acc.norm() > 3.0 {
            break;
        }
    }
    acc.sum()
}

/// Element reads of an active matrix written into a vector with `=` and `-=`.
#[differentiable(wrt(a))]
fn diagonal_minus_row(a: &DMatrix<f64>, n: usize) -> f64 {
    let mut u = DVector::<f64>::zeros(n);
    for i in 0..n {
        u[i] = a[(i, i)];
        u[i] -= a[(0, i)] * 0.5;
    }
    u.norm_squared()
}

#[differentiable(wrt(a))]
fn frobenius_squared(a: &DMatrix<f64>) -> f64 {
    a.norm_squared()
}

#[differentiable(wrt(a))]
fn squashed(a: &DMatrix<f64>, x: &DVector<f64>) -> DVector<f64> {
    (a * x).map(|v| v.tanh())
}

/// Calls of differentiable functions taking and returning matrices.
#[differentiable(wrt(a))]
fn calls_with_matrices(a: &DMatrix<f64>, x: &DVector<f64>) -> f64 {
    let b = a * 2.0;
    let h = squashed(a, x);
    frobenius_squared(&b) + frobenius_squared(a) + h.norm_squared()
}

/// Shadowing, transposes and unary minus of products.
#[differentiable(wrt(a))]
fn shadowing_and_negation(a: &DMatrix<f64>) -> f64 {
    let a2 = a * 2.0;
    let a2 = a2.transpose();
    let s = -(&a2 * 3.0);
    s.sum() + (-a).norm()
}

/// A vector rebound from itself, then written in place twice.
#[differentiable(wrt(x))]
fn rewritten_twice(x: &DVector<f64>) -> f64 {
    let mut y = x * 1.0;
    for i in 0..y.len() {
        y[i] = y[i] * y[i];
    }
    for i in 0..y.len() {
        y[i] = y[i] * x[i];
    }
    y.sum()
}

/// Element writes into a `Matrix3` and an `SVector` in loops.
#[differentiable(wrt(t))]
fn fixed_size_writes_in_loops(t: &Vector3<f64>) -> f64 {
    let mut r = Matrix3::<f64>::zeros();
    for i in 0..3 {
        r[(i, i)] = t[i].sin();
        r[(i, (i + 1) % 3)] = t[i] * t[i];
    }
    let mut u = SVector::<f64, 3>::zeros();
    for i in 0..3 {
        u[i] = r[(i, i)] + t[(i + 2) % 3];
    }
    (r * u).norm_squared()
}

/// Columns and rows of an active matrix read in loops.
#[differentiable(wrt(m))]
fn rows_and_columns_in_loops(m: &DMatrix<f64>) -> f64 {
    let mut s = 0.0;
    for k in 0..m.ncols() {
        s += m.column(k).norm() * (k as f64 + 1.0);
    }
    for i in 0..m.nrows() {
        let r = m.row(i);
        s += r.sum();
    }
    s
}

/// A transpose assembled from rows, element by element, returned as a matrix.
#[differentiable(wrt(m))]
fn transpose_of_squares(m: &DMatrix<f64>, r: usize, c: usize) -> DMatrix<f64> {
    let mut out = DMatrix::<f64>::zeros(c, r);
    for i in 0..r {
        let row = m.row(i);
        for j in 0..c {
            out[(j, i)] = row[j] * row[j];
        }
    }
    out
}

/// f32 element reads and writes in a loop, then `map`.
#[differentiable(wrt(m))]
fn f32_writes(m: &DMatrix<f32>, n: usize) -> f32 {
    let mut u = DVector::<f32>::zeros(n);
    for i in 0..n {
        u[i] = m[(i, 0)] * 0.5 + m[(0, i)].exp();
    }
    let z = u.map(|v| v * v * 0.25);
    z.sum()
}

#[test]
fn assorted_constructs() {
    let n = 3;
    let c = DVector::from_vec(vec![0.7, -1.3]);
    let x = DVector::from_vec(vec![0.3, -0.5, 0.8]);
    let pts = |seed, dim| points(seed, dim, -1.0, 1.0);
    check_all(
        &flat_view!(map_reads_constant, map_reads_constant_grad, map_reads_constant_jvp, map_reads_constant_grad_into, map_reads_constant_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (n, n), ref]; [&c]),
        &pts(300, 9),
    );
    check_all(
        &flat_view!(zip_map_variants, zip_map_variants_grad, zip_map_variants_jvp, zip_map_variants_grad_into, zip_map_variants_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (2, 3), ref; b, b_dot, b_bar: DMatrix<f64> = (2, 3), ref]; [0.7]),
        &pts(301, 12),
    );
    check_all_closed(
        &flat_view!(quadratic_form, quadratic_form_grad, quadratic_form_jvp, quadratic_form_grad_into, quadratic_form_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (n, n), ref; x, x_dot, x_bar: DVector<f64> = (n, 1), ref]; []),
        &pts(302, 12),
        |p| {
            let v = split(p, &[(n, n), (n, 1)]);
            flat(&[&(&v[1] * v[1].transpose()), &((&v[0] + v[0].transpose()) * &v[1])])
        },
    );
    check_all(
        &flat_view!(row_of_product, row_of_product_grad, row_of_product_jvp, row_of_product_grad_into, row_of_product_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (2, n), ref; b, b_dot, b_bar: DMatrix<f64> = (n, 2), ref]; []),
        &pts(303, 12),
    );
    for steps in [0, 1, 4, 20] {
        check_all(
            &flat_view!(in_place_with_break, in_place_with_break_grad, in_place_with_break_jvp, in_place_with_break_grad_into, in_place_with_break_vjp;
                [a, a_dot, a_bar: DMatrix<f64> = (2, n), ref]; [steps]),
            &pts(304, 6),
        );
    }
    check_all(
        &flat_view!(diagonal_minus_row, diagonal_minus_row_grad, diagonal_minus_row_jvp, diagonal_minus_row_grad_into, diagonal_minus_row_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (n, n), ref]; [n]),
        &pts(305, 9),
    );
    check_all(
        &flat_view!(calls_with_matrices, calls_with_matrices_grad, calls_with_matrices_jvp, calls_with_matrices_grad_into, calls_with_matrices_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (2, n), ref]; [&x]),
        &pts(306, 6),
    );
    check_all(
        &flat_view!(shadowing_and_negation, shadowing_and_negation_grad, shadowing_and_negation_jvp, shadowing_and_negation_grad_into, shadowing_and_negation_vjp;
            [a, a_dot, a_bar: DMatrix<f64> = (2, n), ref]; []),
        &pts(307, 6),
    );
    check_all_closed(
        &flat_view!(rewritten_twice, rewritten_twice_grad, rewritten_twice_jvp, rewritten_twice_grad_into, rewritten_twice_vjp;
            [x, x_dot, x_bar: DVector<f64> = (n, 1), ref]; []),
        &pts(308, n),
        |x| x.iter().map(|v| 3.0 * v * v).collect(),
    );
    check_all(
        &flat_view!(fixed_size_writes_in_loops, fixed_size_writes_in_loops_grad, fixed_size_writes_in_loops_jvp, fixed_size_writes_in_loops_grad_into, fixed_size_writes_in_loops_vjp;
            [t, t_dot, t_bar: Vector3<f64> = (3, 1), ref]; []),
        &pts(309, 3),
    );
    check_all(
        &flat_view!(rows_and_columns_in_loops, rows_and_columns_in_loops_grad, rows_and_columns_in_loops_jvp, rows_and_columns_in_loops_grad_into, rows_and_columns_in_loops_vjp;
            [m, m_dot, m_bar: DMatrix<f64> = (2, n), ref]; []),
        &pts(310, 6),
    );
    check_outputs(
        &flat_vector_view!(transpose_of_squares, transpose_of_squares_jvp, transpose_of_squares_vjp;
            [m, m_dot, m_bar: DMatrix<f64> = (2, n), ref]; [2, n] -> DMatrix<f64> = (n, 2)),
        &pts(311, 6),
        312,
        exact(),
    );
    check_all_with(
        &flat_view!(f32_writes, f32_writes_grad, f32_writes_jvp, f32_writes_grad_into, f32_writes_vjp;
            [m, m_dot, m_bar: DMatrix<f32> = (n, n), ref]; [n]),
        &points32(313, 9),
        tol32(),
    );
}

// Reduced constructs that once failed to compile (nrows/ncols, `.sum()` after a method, `.clone()` of a
// borrowed matrix, integer products of shapes, `.clone_owned()`).
mod regressions {
    use super::*;

    /// `.sum()` chained on another method call (`v.map(..).sum()`, `m.row(i).sum()`,
    /// `a.component_mul(&b).sum()`) is taken for an iterator's: macros/src/lower.rs rejects any method in
    /// ITERATOR_METHODS whose receiver is a method call. (`(a * b).sum()` and `let z = ..; z.sum()` work.)
    ///     error: iterator method `.sum(..)` is not supported here; write a `for` loop that accumulates the result
    #[differentiable(wrt(v))]
    fn map_then_sum(v: &DVector<f64>) -> f64 {
        v.map(|t| t.sin()).sum()
    }

    #[differentiable(wrt(m))]
    fn row_then_sum(m: &DMatrix<f64>) -> f64 {
        m.row(0).sum()
    }

    #[test]
    fn sum_chained_on_a_method() {
        let v = DVector::from_vec(vec![0.5, -1.0, 2.0]);
        let (_, g) = map_then_sum_grad(&v);
        assert!((g - v.map(|x| x.cos())).norm() < 1e-12);
        let m = DMatrix::from_element(2, 2, 1.0);
        let (_, g) = row_then_sum_grad(&m);
        assert_eq!(g, DMatrix::from_row_slice(2, 2, &[1.0, 1.0, 0.0, 0.0]));
    }

    /// `.clone()` of a by-reference matrix parameter: the clone is an owned `DVector`, but the generated
    /// reverse code treats it as a reference like the parameter (`zero_owned(u)`,
    /// `norm_squared_vjp(u, ..)`):
    ///     error[E0308]: expected `&Matrix<f64, _, _, _>`, found `Matrix<f64, Dyn, Const<1>, ...>`
    #[differentiable(wrt(v))]
    fn clone_of_reference_parameter(v: &DVector<f64>) -> f64 {
        let u = v.clone();
        u.norm_squared()
    }

    #[test]
    fn clone_of_a_borrowed_vector() {
        let v = DVector::from_vec(vec![0.5, -1.0]);
        let (_, g) = clone_of_reference_parameter_grad(&v);
        assert!((g - 2.0 * &v).norm() < 1e-12);
    }

    /// A product of integers obtained from a method call (`a.nrows()`) is emitted as
    /// `__ad::mul(&n, &2)`, and there is no `MulRule` for integers (a sum, `a.nrows() + 1`, compiles):
    ///     error[E0277]: no derivative rule for the product `usize * _`
    #[differentiable(wrt(x))]
    fn integer_product(x: f64, a: &DMatrix<f64>) -> f64 {
        let n = a.nrows();
        x / (n * a.ncols()) as f64
    }

    #[test]
    fn integer_product_of_shape() {
        let a = DMatrix::<f64>::zeros(2, 3);
        assert_close(integer_product_grad(1.0, &a).1, 1.0 / 6.0, 1e-15, "1/(rows·cols)");
    }
}
