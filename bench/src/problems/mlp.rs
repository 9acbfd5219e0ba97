//! An MLP loss: 64 → 128 (tanh) → 10, a batch of 256 samples as the columns of `X` (64×256), targets
//! `Y` (10×256), mean squared error summed over outputs. Written with nalgebra ([`loss`], the natural
//! form, what the gradient and HVP rows time) and on flat slices ([`loss_slices`], statement for statement
//! the algorithm of the peers' [`generic`] twin), plus hand-written backprop: with gemm into preallocated
//! buffers ([`hand`]) and with allocating nalgebra operators ([`hand_alloc`]). Seeded inputs come from
//! [`instance`], or piecewise from [`Mlp::random`] and [`random_matrix`].
// Index loops: the slices form spells out the matrix products.
#![allow(clippy::needless_range_loop)]

use adjoint::{differentiable, Tangent};
use nalgebra::{DMatrix, DVector, RowDVector};
use rand::{Rng, SeedableRng};

use crate::scalar::Scalar;

/// Inputs per sample.
pub const N_IN: usize = 64;
/// Hidden units.
pub const N_HIDDEN: usize = 128;
/// Outputs per sample.
pub const N_OUT: usize = 10;
/// Samples per batch.
pub const BATCH: usize = 256;
/// Number of parameters.
pub const N_PARAMS: usize = N_HIDDEN * N_IN + N_HIDDEN + N_OUT * N_HIDDEN + N_OUT;

/// The parameters.
#[derive(Tangent, Clone, Debug)]
pub struct Mlp {
    /// First layer weights, 128 × 64.
    pub w1: DMatrix<f64>,
    /// First layer biases.
    pub b1: DVector<f64>,
    /// Second layer weights, 10 × 128.
    pub w2: DMatrix<f64>,
    /// Second layer biases.
    pub b2: DVector<f64>,
}

impl Mlp {
    /// Random parameters: weights uniform in ±1/√(fan-in), biases in ±0.1, drawn `w1`, `b1`, `w2`, `b2`
    /// in that order.
    pub fn random(rng: &mut impl Rng) -> Mlp {
        Mlp {
            w1: random_matrix(rng, N_HIDDEN, N_IN, 1.0 / (N_IN as f64).sqrt()),
            b1: random_matrix(rng, N_HIDDEN, 1, 0.1).column(0).into_owned(),
            w2: random_matrix(rng, N_OUT, N_HIDDEN, 1.0 / (N_HIDDEN as f64).sqrt()),
            b2: random_matrix(rng, N_OUT, 1, 0.1).column(0).into_owned(),
        }
    }

    /// The parameters as one vector: `w1` row-major ‖ `b1` ‖ `w2` row-major ‖ `b2` (the layout of
    /// [`loss_slices`]).
    pub fn to_flat(&self) -> Vec<f64> {
        let mut v = Vec::with_capacity(N_PARAMS);
        v.extend(self.w1.transpose().iter());
        v.extend(self.b1.iter());
        v.extend(self.w2.transpose().iter());
        v.extend(self.b2.iter());
        v
    }

    /// Copies the parameters into `out` in the layout of [`Mlp::to_flat`].
    pub fn write_flat(&self, out: &mut [f64]) {
        let (w1, rest) = out.split_at_mut(N_HIDDEN * N_IN);
        let (b1, rest) = rest.split_at_mut(N_HIDDEN);
        let (w2, b2) = rest.split_at_mut(N_OUT * N_HIDDEN);
        for h in 0..N_HIDDEN {
            for i in 0..N_IN {
                w1[h * N_IN + i] = self.w1[(h, i)];
            }
        }
        b1.copy_from_slice(self.b1.as_slice());
        for o in 0..N_OUT {
            for h in 0..N_HIDDEN {
                w2[o * N_HIDDEN + h] = self.w2[(o, h)];
            }
        }
        b2.copy_from_slice(self.b2.as_slice());
    }

    /// The parameters from a vector in the layout of [`Mlp::to_flat`] (a direction for the HVP row).
    pub fn from_flat(flat: &[f64]) -> Mlp {
        assert_eq!(flat.len(), N_PARAMS, "an MLP has {N_PARAMS} parameters");
        let (w1, rest) = flat.split_at(N_HIDDEN * N_IN);
        let (b1, rest) = rest.split_at(N_HIDDEN);
        let (w2, b2) = rest.split_at(N_OUT * N_HIDDEN);
        Mlp {
            w1: DMatrix::from_row_slice(N_HIDDEN, N_IN, w1),
            b1: DVector::from_column_slice(b1),
            w2: DMatrix::from_row_slice(N_OUT, N_HIDDEN, w2),
            b2: DVector::from_column_slice(b2),
        }
    }
}

/// A `rows × cols` matrix with entries drawn uniformly from `[-scale, scale]`, column by column.
pub fn random_matrix(rng: &mut impl Rng, rows: usize, cols: usize, scale: f64) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |_, _| scale * rng.gen_range(-1.0..=1.0))
}

/// A seeded instance: parameters ([`Mlp::random`]), inputs `X` (64×256), targets `Y` (10×256), all drawn
/// in that order from one generator, and the row of ones that broadcasts the biases.
pub fn instance(seed: u64) -> (Mlp, DMatrix<f64>, DMatrix<f64>, RowDVector<f64>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let p = Mlp::random(&mut rng);
    let x = random_matrix(&mut rng, N_IN, BATCH, 1.0);
    let y = random_matrix(&mut rng, N_OUT, BATCH, 1.0);
    (p, x, y, RowDVector::from_element(BATCH, 1.0))
}

/// Mean squared error of the MLP over a batch (ours); `ones` is the constant 1×256 row broadcasting
/// the biases.
#[differentiable(wrt(p))]
pub fn loss(p: &Mlp, x: &DMatrix<f64>, y: &DMatrix<f64>, ones: &RowDVector<f64>) -> f64 {
    let z1 = &p.w1 * x + &p.b1 * ones;
    let h = z1.map(|v| v.tanh());
    let out = &p.w2 * h + &p.b2 * ones;
    (out - y).norm_squared() / 256.0
}

/// The same loss on flat slices (ours): `p` in the layout of [`Mlp::to_flat`], `x` and `y` the
/// column-major storage of `X` and `Y` (sample by sample).
#[differentiable(wrt(p))]
pub fn loss_slices(p: &[f64], x: &[f64], y: &[f64]) -> f64 {
    let b1 = N_HIDDEN * N_IN;
    let w2 = b1 + N_HIDDEN;
    let b2 = w2 + N_OUT * N_HIDDEN;
    let mut h = vec![0.0; N_HIDDEN];
    let mut total = 0.0;
    for s in 0..BATCH {
        for j in 0..N_HIDDEN {
            let mut z = p[b1 + j];
            for i in 0..N_IN {
                z += p[j * N_IN + i] * x[s * N_IN + i];
            }
            h[j] = z.tanh();
        }
        for o in 0..N_OUT {
            let mut out = p[b2 + o];
            for j in 0..N_HIDDEN {
                out += p[w2 + o * N_HIDDEN + j] * h[j];
            }
            let e = out - y[s * N_OUT + o];
            total += e * e;
        }
    }
    total / 256.0
}

/// [`loss_slices`] for the peers' number types.
pub fn generic<T: Scalar>(p: &[T], x: &[f64], y: &[f64]) -> T {
    let b1 = N_HIDDEN * N_IN;
    let w2 = b1 + N_HIDDEN;
    let b2 = w2 + N_OUT * N_HIDDEN;
    let mut h = Vec::with_capacity(N_HIDDEN);
    let mut total: Option<T> = None;
    for s in 0..BATCH {
        h.clear();
        for j in 0..N_HIDDEN {
            let mut z = p[b1 + j];
            for i in 0..N_IN {
                z = z + p[j * N_IN + i] * x[s * N_IN + i];
            }
            h.push(z.tanh());
        }
        for o in 0..N_OUT {
            let mut out = p[b2 + o];
            for j in 0..N_HIDDEN {
                out = out + p[w2 + o * N_HIDDEN + j] * h[j];
            }
            let e = out - y[s * N_OUT + o];
            total = Some(match total {
                None => e * e,
                Some(t) => t + e * e,
            });
        }
    }
    total.unwrap() / 256.0
}

/// Buffers of the hand-written backprop, allocated once.
pub struct Work {
    h: DMatrix<f64>,     // N_HIDDEN × BATCH: z1, then tanh(z1) in place
    d_out: DMatrix<f64>, // N_OUT × BATCH: out, then ∂L/∂out in place
    d_h: DMatrix<f64>,   // N_HIDDEN × BATCH: ∂L/∂h, then ∂L/∂z1 in place
    ht: DMatrix<f64>,    // BATCH × N_HIDDEN
    xt: DMatrix<f64>,    // BATCH × N_IN
    w2t: DMatrix<f64>,   // N_HIDDEN × N_OUT
}

impl Default for Work {
    fn default() -> Self {
        Work {
            h: DMatrix::zeros(N_HIDDEN, BATCH),
            d_out: DMatrix::zeros(N_OUT, BATCH),
            d_h: DMatrix::zeros(N_HIDDEN, BATCH),
            ht: DMatrix::zeros(BATCH, N_HIDDEN),
            xt: DMatrix::zeros(BATCH, N_IN),
            w2t: DMatrix::zeros(N_HIDDEN, N_OUT),
        }
    }
}

/// Hand-written backprop into `g` with preallocated buffers and gemm; returns the loss.
pub fn hand(p: &Mlp, x: &DMatrix<f64>, y: &DMatrix<f64>, ws: &mut Work, g: &mut Mlp) -> f64 {
    let n = x.ncols() as f64;
    // Forward: h = tanh(W1·X + b1), out = W2·h + b2.
    ws.h.gemm(1.0, &p.w1, x, 0.0);
    for mut col in ws.h.column_iter_mut() {
        col += &p.b1;
    }
    ws.h.apply(|v| *v = v.tanh());
    ws.d_out.gemm(1.0, &p.w2, &ws.h, 0.0);
    for mut col in ws.d_out.column_iter_mut() {
        col += &p.b2;
    }
    // Loss and ∂L/∂out = 2(out − Y)/n.
    ws.d_out -= y;
    let value = ws.d_out.norm_squared() / n;
    ws.d_out *= 2.0 / n;
    // Output layer: dW2 = dOut·hᵀ, db2 = row sums of dOut, dH = W2ᵀ·dOut.
    ws.h.transpose_to(&mut ws.ht);
    g.w2.gemm(1.0, &ws.d_out, &ws.ht, 0.0);
    g.b2.fill(0.0);
    for col in ws.d_out.column_iter() {
        g.b2 += col;
    }
    p.w2.transpose_to(&mut ws.w2t);
    ws.d_h.gemm(1.0, &ws.w2t, &ws.d_out, 0.0);
    // Hidden layer: dZ1 = dH∘(1 − h²), dW1 = dZ1·Xᵀ, db1 = row sums of dZ1.
    ws.d_h.zip_apply(&ws.h, |d, h| *d *= 1.0 - h * h);
    x.transpose_to(&mut ws.xt);
    g.w1.gemm(1.0, &ws.d_h, &ws.xt, 0.0);
    g.b1.fill(0.0);
    for col in ws.d_h.column_iter() {
        g.b1 += col;
    }
    value
}

/// The same backprop as [`hand`], written as a user might first write it with nalgebra operators
/// (`&d_out * h.transpose()`, …), allocating its temporaries as the generated code does; returns the loss
/// and the gradient.
pub fn hand_alloc(p: &Mlp, x: &DMatrix<f64>, y: &DMatrix<f64>) -> (f64, Mlp) {
    let n = x.ncols() as f64;
    let mut h = &p.w1 * x;
    for mut col in h.column_iter_mut() {
        col += &p.b1;
    }
    h.apply(|v| *v = v.tanh());
    let mut out = &p.w2 * &h;
    for mut col in out.column_iter_mut() {
        col += &p.b2;
    }
    let diff = out - y;
    let value = diff.norm_squared() / n;
    let d_out = diff * (2.0 / n);
    let w2 = &d_out * h.transpose();
    let b2 = d_out.column_sum();
    let d_z1 = (p.w2.transpose() * &d_out).zip_map(&h, |d, h| d * (1.0 - h * h));
    let w1 = &d_z1 * x.transpose();
    let b1 = d_z1.column_sum();
    (value, Mlp { w1, b1, w2, b2 })
}
