//! Cost of the generated gradient of an MLP loss, against the loss alone and against hand-written
//! backprop on the same nalgebra types.
//!
//! Model (`adjoint_bench::problems::mlp`, with its hand-written backprop): 64 → 128 (tanh) → 10, batch of
//! 256 samples as the columns of `X` (64×256), targets `Y` (10×256), mean squared error. Times
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

use adjoint::Tangent;
use adjoint_bench::check::close;
use adjoint_bench::harness::{
    eprint_candidates, fmt_time, measure, median_of, quick_mode, Candidate, Details, Settings, TimeFormat,
};
use adjoint_bench::problems::mlp::{
    hand, hand_alloc, loss, loss_grad, loss_grad_into, random_matrix, Mlp, Work, BATCH, N_HIDDEN, N_IN, N_OUT,
};
use nalgebra::{DMatrix, RowDVector};
use rand::rngs::StdRng;
use rand::SeedableRng;

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
    let f_hand = hand(p, x, y, &mut Work::default(), &mut want);
    assert!(close(f_hand, f, 1e-12, 0.0), "hand value {f_hand} vs loss {f}");

    let (f_alloc, g_alloc) = hand_alloc(p, x, y);
    assert!(close(f_alloc, f, 1e-12, 0.0), "hand_alloc value {f_alloc} vs loss {f}");
    check_mlp("hand_alloc", &g_alloc, &want);

    let mut g = nan_like(p);
    let f_into = loss_grad_into(p, x, y, ones, &mut g);
    assert!(close(f_into, f, 1e-12, 0.0), "grad_into value {f_into} vs loss {f}");
    let rel_into = check_mlp("grad_into", &g, &want);

    let (f_grad, g_grad) = loss_grad(p, x, y, ones);
    assert!(close(f_grad, f, 1e-12, 0.0), "grad value {f_grad} vs loss {f}");
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
    assert!(close(fd, exact, 1e-6, 0.0), "hand-written gradient: central difference {fd} vs g·d {exact}");
    eprintln!(
        "checked: values agree to 1e-12, gradients to {rel_into:.1e} (max relative field error, goal 1e-10), \
         central difference to {:.1e}",
        (fd - exact).abs() / exact.abs()
    );
}

/// Times here are µs to ms.
const TIME: TimeFormat = TimeFormat { ns: false, us_decimals: 1 };
/// The per-candidate lines on stderr, with the fastest sample.
const DETAILS: Details = Details { name_width: 10, time_width: 10, min: true, time: TIME };

fn main() {
    let quick = quick_mode();
    let settings = if quick { Settings::ms(20, 4, 7) } else { Settings::ms(300, 20, 31) };

    // Drawn in this order from one generator: parameters, direction, inputs, targets.
    let mut rng = StdRng::seed_from_u64(0x5EED_A11A);
    let p = Mlp::random(&mut rng);
    let dir = Mlp::random(&mut rng);
    let x = random_matrix(&mut rng, N_IN, BATCH, 1.0);
    let y = random_matrix(&mut rng, N_OUT, BATCH, 1.0);
    let ones = RowDVector::from_element(BATCH, 1.0);
    check(&p, &x, &y, &ones, &dir);

    let (p, x, y, ones) = (&p, &x, &y, &ones);
    let (mut g_into, mut g_hand, mut ws) = (p.clone(), p.clone(), Work::default());
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

    eprint_candidates(&format!("MLP {N_IN}-{N_HIDDEN}-{N_OUT}, batch {BATCH}"), &cands, DETAILS);
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
