//! Cost of the generated gradient of an MLP loss, against the loss alone and against hand-written
//! backprop on the same nalgebra types.
//!
//! Model: 64 → 128 (tanh) → 10, batch of 256 samples as the columns of `X` (64×256), targets `Y`
//! (10×256), mean squared error. Times
//!
//! * `loss`       – `loss(&p, &x, &y, &ones)`, the function alone;
//! * `grad_into`  – `loss_grad_into(…, &mut p_bar)`, generated, caller's gradient struct;
//! * `grad`       – `loss_grad(…)`, generated, allocates the gradient;
//! * `hand`       – hand-written backprop, forward storing `h`, gemm products, preallocated workspace;
//! * `hand_alloc` – the same backprop written with nalgebra operators (`&d_out * h.transpose()`, …),
//!   allocating its temporaries as the generated code does.
//!
//! Values and gradients are checked against each other (each field to 1e-10 relative) before
//! anything is timed, and the hand-written gradient against a central difference. Timing as in
//! `gradient.rs` (both use `adjoint_bench::harness`): warm-up, repetitions calibrated per sample, samples
//! round-robin, medians.
//!
//! ```text
//! cargo bench -p adjoint-bench --bench mlp
//! ADJOINT_BENCH_QUICK=1 cargo bench -p adjoint-bench --bench mlp   # a few seconds
//! ```
//!
//! The design goal is `grad_into ≤ 3 × loss` and `grad_into ≤ 1.5 × hand-written`.

use std::hint::black_box;
use std::time::Duration;

use adjoint::{differentiable, Tangent};
use adjoint_bench::harness::{fmt_time, measure, median_of, quick_mode, Candidate, Settings, TimeFormat};
use nalgebra::{DMatrix, DVector, RowDVector};
use rand::{Rng, SeedableRng};

const N_IN: usize = 64;
const N_HIDDEN: usize = 128;
const N_OUT: usize = 10;
const BATCH: usize = 256;

#[derive(Tangent, Clone, Debug)]
struct Mlp {
    w1: DMatrix<f64>,
    b1: DVector<f64>,
    w2: DMatrix<f64>,
    b2: DVector<f64>,
}

/// Mean squared error of the MLP over a batch; `ones` is the constant 1×256 row broadcasting biases.
#[differentiable(wrt(p))]
fn loss(p: &Mlp, x: &DMatrix<f64>, y: &DMatrix<f64>, ones: &RowDVector<f64>) -> f64 {
    let z1 = &p.w1 * x + &p.b1 * ones;
    let h = z1.map(|v| v.tanh());
    let out = &p.w2 * h + &p.b2 * ones;
    (out - y).norm_squared() / 256.0
}

/// Buffers of the hand-written backprop, allocated once.
struct Work {
    h: DMatrix<f64>,     // N_HIDDEN × BATCH: z1, then tanh(z1) in place
    d_out: DMatrix<f64>, // N_OUT × BATCH: out, then ∂L/∂out in place
    d_h: DMatrix<f64>,   // N_HIDDEN × BATCH: ∂L/∂h, then ∂L/∂z1 in place
    ht: DMatrix<f64>,    // BATCH × N_HIDDEN
    xt: DMatrix<f64>,    // BATCH × N_IN
    w2t: DMatrix<f64>,   // N_HIDDEN × N_OUT
}

impl Work {
    fn new() -> Self {
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
fn hand(p: &Mlp, x: &DMatrix<f64>, y: &DMatrix<f64>, ws: &mut Work, g: &mut Mlp) -> f64 {
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

/// The same backprop as a user might first write it with nalgebra operators; allocates.
fn hand_alloc(p: &Mlp, x: &DMatrix<f64>, y: &DMatrix<f64>) -> (f64, Mlp) {
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

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs())
}

/// ‖got − want‖ ≤ tol·‖want‖ for one field; returns the relative error.
fn check_field(what: &str, field: &str, got: &[f64], want: &[f64], tol: f64) -> f64 {
    assert_eq!(got.len(), want.len(), "{what}.{field}: length");
    let diff = got.iter().zip(want).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
    let norm = want.iter().map(|b| b * b).sum::<f64>().sqrt();
    let rel = diff / norm;
    assert!(rel <= tol, "{what}.{field}: relative error {rel:e} against hand-written");
    rel
}

fn check_mlp(what: &str, got: &Mlp, want: &Mlp) -> f64 {
    let fields = [
        ("w1", got.w1.as_slice(), want.w1.as_slice()),
        ("b1", got.b1.as_slice(), want.b1.as_slice()),
        ("w2", got.w2.as_slice(), want.w2.as_slice()),
        ("b2", got.b2.as_slice(), want.b2.as_slice()),
    ];
    fields.iter().map(|(f, a, b)| check_field(what, f, a, b, 1e-10)).fold(0.0, f64::max)
}

fn nan_like(p: &Mlp) -> Mlp {
    let nan = |m: &DMatrix<f64>| m.map(|_| f64::NAN);
    Mlp { w1: nan(&p.w1), b1: p.b1.map(|_| f64::NAN), w2: nan(&p.w2), b2: p.b2.map(|_| f64::NAN) }
}

/// Checks every candidate against the hand-written backprop (and that against a central
/// difference along a random direction), before any timing.
fn check(p: &Mlp, x: &DMatrix<f64>, y: &DMatrix<f64>, ones: &RowDVector<f64>, dir: &Mlp) {
    let f = loss(p, x, y, ones);
    let mut want = nan_like(p); // NaN: every function must overwrite, not accumulate
    let f_hand = hand(p, x, y, &mut Work::new(), &mut want);
    assert!(close(f_hand, f, 1e-12), "hand value {f_hand} vs loss {f}");

    let (f_alloc, g_alloc) = hand_alloc(p, x, y);
    assert!(close(f_alloc, f, 1e-12), "hand_alloc value {f_alloc} vs loss {f}");
    check_mlp("hand_alloc", &g_alloc, &want);

    let mut g = nan_like(p);
    let f_into = loss_grad_into(p, x, y, ones, &mut g);
    assert!(close(f_into, f, 1e-12), "grad_into value {f_into} vs loss {f}");
    let rel_into = check_mlp("grad_into", &g, &want);

    let (f_grad, g_grad) = loss_grad(p, x, y, ones);
    assert!(close(f_grad, f, 1e-12), "grad value {f_grad} vs loss {f}");
    check_mlp("grad", &g_grad, &want);

    // Directional derivative of the hand-written gradient against a central difference.
    let (mut pv, mut dv, mut gv) = (Vec::new(), Vec::new(), Vec::new());
    p.flatten_into(&mut pv);
    dir.flatten_into(&mut dv);
    want.flatten_into(&mut gv);
    let eps = 1e-5;
    let at = |t: f64| {
        let v: Vec<f64> = pv.iter().zip(&dv).map(|(p, d)| p + t * d).collect();
        loss(&p.unflatten(&v), x, y, ones)
    };
    let fd = (at(eps) - at(-eps)) / (2.0 * eps);
    let exact: f64 = gv.iter().zip(&dv).map(|(g, d)| g * d).sum();
    assert!(close(fd, exact, 1e-6), "hand-written gradient: central difference {fd} vs g·d {exact}");
    eprintln!(
        "checked: values agree to 1e-12, gradients to {rel_into:.1e} (max relative field error, goal 1e-10), \
         central difference to {:.1e}",
        (fd - exact).abs() / exact.abs()
    );
}

/// Times here are µs to ms.
const TIME: TimeFormat = TimeFormat { ns: false, us_decimals: 1 };

fn main() {
    let quick = quick_mode();
    let settings = if quick {
        Settings { warm: Duration::from_millis(20), target: Duration::from_millis(4), samples: 7 }
    } else {
        Settings { warm: Duration::from_millis(300), target: Duration::from_millis(20), samples: 31 }
    };

    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5EED_A11A);
    let mut uniform = |r: usize, c: usize, scale: f64| DMatrix::from_fn(r, c, |_, _| scale * rng.gen_range(-1.0..=1.0));
    let mut init = |scale: f64| Mlp {
        w1: uniform(N_HIDDEN, N_IN, scale / (N_IN as f64).sqrt()),
        b1: uniform(N_HIDDEN, 1, 0.1 * scale).column(0).into_owned(),
        w2: uniform(N_OUT, N_HIDDEN, scale / (N_HIDDEN as f64).sqrt()),
        b2: uniform(N_OUT, 1, 0.1 * scale).column(0).into_owned(),
    };
    let p = init(1.0);
    let dir = init(1.0);
    let x = uniform(N_IN, BATCH, 1.0);
    let y = uniform(N_OUT, BATCH, 1.0);
    let ones = RowDVector::from_element(BATCH, 1.0);
    check(&p, &x, &y, &ones, &dir);

    let (p, x, y, ones) = (&p, &x, &y, &ones);
    let (mut g_into, mut g_hand, mut ws) = (p.clone(), p.clone(), Work::new());
    let mut cands = [
        Candidate::new("loss", || {
            black_box(loss(black_box(p), black_box(x), black_box(y), black_box(ones)));
        }),
        Candidate::new("grad_into", || {
            black_box(loss_grad_into(
                black_box(p),
                black_box(x),
                black_box(y),
                black_box(ones),
                black_box(&mut g_into),
            ));
        }),
        Candidate::new("grad", || {
            black_box(loss_grad(black_box(p), black_box(x), black_box(y), black_box(ones)));
        }),
        Candidate::new("hand", || {
            black_box(hand(black_box(p), black_box(x), black_box(y), &mut ws, black_box(&mut g_hand)));
        }),
        Candidate::new("hand_alloc", || {
            black_box(hand_alloc(black_box(p), black_box(x), black_box(y)));
        }),
    ];
    measure(&mut cands, &settings);

    eprintln!("MLP {N_IN}-{N_HIDDEN}-{N_OUT}, batch {BATCH}:");
    for c in &cands {
        let s = c.sorted();
        eprintln!(
            "  {:<10} {:>10} /call  ±{:.1}% (MAD)  min {}  {} reps × {} samples",
            c.name,
            fmt_time(c.median(), TIME),
            100.0 * c.spread(),
            fmt_time(s[0], TIME),
            c.reps,
            s.len()
        );
    }
    let med = |name: &str| median_of(&cands, name);
    let (f, into, alloc, hw, hw_alloc) = (med("loss"), med("grad_into"), med("grad"), med("hand"), med("hand_alloc"));

    println!();
    println!("| loss | grad_into | hand | hand_alloc | grad_into / loss | grad_into / hand | grad_into / hand_alloc | grad (alloc) / loss |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {} | {} | {} | {:.2}× | {:.2}× | {:.2}× | {:.2}× |",
        fmt_time(f, TIME),
        fmt_time(into, TIME),
        fmt_time(hw, TIME),
        fmt_time(hw_alloc, TIME),
        into / f,
        into / hw,
        into / hw_alloc,
        alloc / f
    );
    println!();
    println!("goal: grad_into / loss ≤ 3, grad_into / hand ≤ 1.5 (medians{})", if quick { ", quick mode" } else { "" });
}
