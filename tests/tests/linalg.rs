//! nalgebra code differentiated by the macro, checked against finite differences.
use adjoint::differentiable;
use nalgebra::{DMatrix, DVector};

#[differentiable(wrt(x))]
fn least_squares(x: &DVector<f64>, a: &DMatrix<f64>, b: &DVector<f64>) -> f64 {
    let r = a * x - b;
    r.norm_squared()
}

#[differentiable(wrt(w))]
fn layer(w: &DMatrix<f64>, x: &DVector<f64>) -> f64 {
    let h = (w * x).map(|v| v.tanh());
    let relu = h.map(|v| if v > 0.0 { v } else { 0.01 * v });
    relu.dot(&h) + h.sum() * 0.5
}

fn fd_check(f: impl Fn(&[f64]) -> f64, x: &[f64], g: &[f64]) {
    adjoint::check_gradient(f, x, g, Default::default()).unwrap();
}

#[test]
fn least_squares_gradient() {
    let a = DMatrix::from_fn(4, 3, |i, j| (i as f64 + 1.0) * 0.3 - j as f64 * 0.7);
    let b = DVector::from_vec(vec![1.0, -2.0, 0.5, 3.0]);
    let x = DVector::from_vec(vec![0.2, -0.4, 1.1]);
    let (_, g) = least_squares_grad(&x, &a, &b);
    let exact = 2.0 * a.transpose() * (&a * &x - &b);
    assert!((g - exact).norm() < 1e-12);
    let (_, s) = least_squares_jvp(&x, &DVector::from_vec(vec![1.0, 0.0, 0.0]), &a, &b);
    fd_check(
        |v| least_squares(&DVector::from_column_slice(v), &a, &b),
        x.as_slice(),
        least_squares_grad(&x, &a, &b).1.as_slice(),
    );
    assert!(s.is_finite());
}

#[test]
fn layer_gradient() {
    let w = DMatrix::from_fn(3, 2, |i, j| 0.4 * i as f64 - 0.3 * j as f64 + 0.1);
    let x = DVector::from_vec(vec![0.7, -1.2]);
    let (_, g) = layer_grad(&w, &x);
    fd_check(|v| layer(&DMatrix::from_column_slice(3, 2, v), &x), w.as_slice(), g.as_slice());
}

/// Element writes `m[(i, j)]` inside loops, overwriting a needed matrix (the write log is indexed by pairs).
#[differentiable(wrt(x))]
fn cumulative(x: &DVector<f64>) -> f64 {
    let n = x.len();
    let mut m = DMatrix::from_element(n, n, 0.0);
    for i in 0..n {
        for j in 0..n {
            m[(i, j)] = x[i] * x[j];
            if j > 0 {
                m[(i, j)] = m[(i, j - 1)] * m[(i, j)].sin();
            }
        }
    }
    m.sum()
}

#[test]
fn element_writes_in_loops() {
    let x = DVector::from_vec(vec![0.3, -0.7, 1.1]);
    let (_, g) = cumulative_grad(&x);
    fd_check(|v| cumulative(&DVector::from_column_slice(v)), x.as_slice(), g.as_slice());
}
