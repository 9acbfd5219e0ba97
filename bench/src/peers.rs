//! How each peer computes a gradient or a Hessian-vector product of a function written generically
//! over [`Scalar`](crate::scalar::Scalar):
//!
//! * [`DualGradient`] – `num-dual` forward mode: n passes with `Dual64`, the i-th seeded with eᵢ
//!   (cost n × a dual evaluation, O(n²) for the problems here);
//! * [`HyperDualHvp`] – `num-dual` second order: n passes with `HyperDual64`, the i-th seeded with
//!   ε₁ = eᵢ and ε₂ = v, whose ε₁ε₂ part is (H·v)ᵢ and whose ε₁ part is gᵢ;
//! * [`tape_gradient`] – `reverse`: record the function on a tape (a Wengert list of nodes with two
//!   parents and two partials each), then one reverse sweep over the whole tape.
//!
//! Buffers are kept between calls, as a user timing these would do.

// Index loops: coordinate i seeds the i-th pass and receives its result.
#![allow(clippy::needless_range_loop)]

use num_dual::{Dual64, HyperDual64};
use reverse::{Gradient, Tape, Var};

/// Gradient by n forward passes of `Dual64`, with the seeded input vector kept between calls.
#[derive(Default)]
pub struct DualGradient {
    x: Vec<Dual64>,
}

impl DualGradient {
    /// Value and gradient of `f` at `x`, written into `g`.
    pub fn gradient(&mut self, f: impl Fn(&[Dual64]) -> Dual64, x: &[f64], g: &mut [f64]) -> f64 {
        self.x.clear();
        self.x.extend(x.iter().map(|&xi| Dual64::new(xi, 0.0)));
        let mut value = f64::NAN;
        for i in 0..x.len() {
            self.x[i].eps = 1.0;
            let y = f(&self.x);
            self.x[i].eps = 0.0;
            value = y.re;
            g[i] = y.eps;
        }
        value
    }

    /// One forward pass seeded with `e₀`, to estimate what [`DualGradient::gradient`] would cost.
    pub fn one_pass(&mut self, f: impl Fn(&[Dual64]) -> Dual64, x: &[f64]) -> f64 {
        self.x.clear();
        self.x.extend(x.iter().map(|&xi| Dual64::new(xi, 0.0)));
        self.x[0].eps = 1.0;
        f(&self.x).eps
    }
}

/// Gradient and Hessian-vector product by n forward passes of `HyperDual64`.
#[derive(Default)]
pub struct HyperDualHvp {
    x: Vec<HyperDual64>,
}

impl HyperDualHvp {
    /// Value of `f` at `x`; the gradient into `g` and H·v into `hv`.
    pub fn hvp(
        &mut self,
        f: impl Fn(&[HyperDual64]) -> HyperDual64,
        x: &[f64],
        v: &[f64],
        g: &mut [f64],
        hv: &mut [f64],
    ) -> f64 {
        self.x.clear();
        self.x.extend(x.iter().zip(v).map(|(&xi, &vi)| HyperDual64::new(xi, 0.0, vi, 0.0)));
        let mut value = f64::NAN;
        for i in 0..x.len() {
            self.x[i].eps1 = 1.0;
            let y = f(&self.x);
            self.x[i].eps1 = 0.0;
            value = y.re;
            g[i] = y.eps1;
            hv[i] = y.eps1eps2;
        }
        value
    }

    /// One forward pass seeded with `e₀`, to estimate what [`HyperDualHvp::hvp`] would cost.
    pub fn one_pass(&mut self, f: impl Fn(&[HyperDual64]) -> HyperDual64, x: &[f64], v: &[f64]) -> f64 {
        self.x.clear();
        self.x.extend(x.iter().zip(v).map(|(&xi, &vi)| HyperDual64::new(xi, 0.0, vi, 0.0)));
        self.x[0].eps1 = 1.0;
        f(&self.x).eps1eps2
    }
}

/// Value and gradient of `f` at `x` with `reverse`: clears `tape` (keeping its allocation), records
/// `f` on it, and runs the reverse sweep.
pub fn tape_gradient(tape: &Tape, f: impl for<'a> Fn(&[Var<'a>]) -> Var<'a>, x: &[f64]) -> (f64, Vec<f64>) {
    tape.clear();
    let vars = tape.add_vars(x);
    let y = f(&vars);
    let grads = y.grad();
    (y.val, grads.wrt(&vars[..]))
}
