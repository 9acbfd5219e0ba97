//! The extended Rosenbrock function `Σᵢ (1 − xᵢ)² + 100 (xᵢ₊₁ − xᵢ²)²`.
// The differentiable body is written with index loops, as the supported subset and the formula read.
#![allow(clippy::needless_range_loop)]

use adjoint::differentiable;

use crate::scalar::Scalar;

/// The extended Rosenbrock function (ours: `rosenbrock_grad_into`, `rosenbrock_hvp_into`, … are generated).
#[differentiable]
pub fn rosenbrock(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        let a = 1.0 - x[i];
        let b = x[i + 1] - x[i] * x[i];
        s += a * a + 100.0 * b * b;
    }
    s
}

/// Hand-written value and gradient, gather form: one pass, each `g[i]` from its neighbours.
pub fn hand_gather(x: &[f64], g: &mut [f64]) -> f64 {
    let n = x.len();
    assert!(n >= 2 && g.len() == n);
    let mut s = 0.0;
    let mut b_prev = 0.0; // b of the term i-1, which involves x[i]; zero before the first
    for i in 0..n - 1 {
        let a = 1.0 - x[i];
        let b = x[i + 1] - x[i] * x[i];
        s += a * a + 100.0 * b * b;
        g[i] = 200.0 * b_prev - 2.0 * a - 400.0 * x[i] * b;
        b_prev = b;
    }
    g[n - 1] = 200.0 * b_prev;
    s
}

/// Hand-written value and gradient, scatter form: `g[i] += …; g[i+1] += …`, the shape an adjoint has.
pub fn hand_scatter(x: &[f64], g: &mut [f64]) -> f64 {
    let n = x.len();
    assert!(n >= 2 && g.len() == n);
    g.fill(0.0);
    let mut s = 0.0;
    for i in 0..n - 1 {
        let a = 1.0 - x[i];
        let b = x[i + 1] - x[i] * x[i];
        s += a * a + 100.0 * b * b;
        g[i] += -2.0 * a - 400.0 * x[i] * b;
        g[i + 1] += 200.0 * b;
    }
    s
}

/// Closed-form H·v (the Hessian is tridiagonal).
pub fn hand_hv(x: &[f64], v: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut hv = vec![0.0; n];
    for i in 0..n - 1 {
        let d = 2.0 - 400.0 * (x[i + 1] - 3.0 * x[i] * x[i]);
        let o = -400.0 * x[i];
        hv[i] += d * v[i] + o * v[i + 1];
        hv[i + 1] += o * v[i] + 200.0 * v[i + 1];
    }
    hv
}

/// The same function for the peers' number types.
pub fn generic<T: Scalar>(x: &[T]) -> T {
    let term = |i: usize| {
        let a = -x[i] + 1.0;
        let b = x[i + 1] - x[i] * x[i];
        a * a + b * b * 100.0
    };
    let mut s = term(0);
    for i in 1..x.len() - 1 {
        s = s + term(i);
    }
    s
}
