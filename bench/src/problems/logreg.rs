//! Bayesian logistic regression: the log-posterior of 30 weights and a bias given the Wisconsin
//! breast-cancer data (569 × 30, standardised), with a Gaussian prior N(0, σ²) on the weights (the
//! bias is flat): `Σᵢ yᵢzᵢ − ln(1 + e^{zᵢ}) − ‖w‖²/2σ²`, `zᵢ = b + xᵢ·w`.
// Index loops: the formula's shape, in the supported subset.
#![allow(clippy::needless_range_loop)]

use adjoint::differentiable;

use crate::scalar::{softplus, Scalar};

/// Prior variance of the weights.
pub const PRIOR_VAR: f64 = 1.0;

/// The log-posterior (ours); `w` holds the d weights then the bias, `x` is row-major n × d.
#[differentiable(wrt(w))]
pub fn log_posterior(w: &[f64], x: &[f64], y: &[f64], prior_var: f64) -> f64 {
    let d = w.len() - 1;
    let mut s = 0.0;
    for i in 0..y.len() {
        let mut z = w[d];
        for j in 0..d {
            z += x[i * d + j] * w[j];
        }
        // y·z − ln(1 + eᶻ), the softplus written without overflow.
        s += y[i] * z - (z.max(0.0) + (-z.abs()).exp().ln_1p());
    }
    let mut norm2 = 0.0;
    for j in 0..d {
        norm2 += w[j] * w[j];
    }
    s - 0.5 * norm2 / prior_var
}

/// Hand-written value and gradient: `∂/∂w = Xᵀ(y − σ(z)) − w/σ²`, `∂/∂b = Σ(y − σ(z))`.
pub fn hand(w: &[f64], x: &[f64], y: &[f64], prior_var: f64, g: &mut [f64]) -> f64 {
    let d = w.len() - 1;
    g.fill(0.0);
    let mut s = 0.0;
    for i in 0..y.len() {
        let xi = &x[i * d..(i + 1) * d];
        let mut z = w[d];
        for j in 0..d {
            z += xi[j] * w[j];
        }
        let e = (-z.abs()).exp();
        s += y[i] * z - (z.max(0.0) + e.ln_1p());
        let sigma = if z >= 0.0 { 1.0 / (1.0 + e) } else { e / (1.0 + e) };
        let r = y[i] - sigma;
        for j in 0..d {
            g[j] += r * xi[j];
        }
        g[d] += r;
    }
    let mut norm2 = 0.0;
    for j in 0..d {
        norm2 += w[j] * w[j];
        g[j] -= w[j] / prior_var;
    }
    s - 0.5 * norm2 / prior_var
}

/// The log-posterior for the peers' number types.
pub fn generic<T: Scalar>(w: &[T], x: &[f64], y: &[f64], prior_var: f64) -> T {
    let d = w.len() - 1;
    let mut s: Option<T> = None;
    for i in 0..y.len() {
        let mut z = w[d];
        for j in 0..d {
            z = z + w[j] * x[i * d + j];
        }
        let term = z * y[i] - softplus(z);
        s = Some(match s {
            None => term,
            Some(s) => s + term,
        });
    }
    let mut norm2 = w[0] * w[0];
    for j in 1..d {
        norm2 = norm2 + w[j] * w[j];
    }
    s.unwrap() - norm2 * (0.5 / prior_var)
}
