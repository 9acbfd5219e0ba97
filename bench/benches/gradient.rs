//! Cost of a generated gradient, measured against the function itself and against hand-written
//! gradients, side by side in one run.
//!
//! For the extended Rosenbrock function at n = 10^3 and 10^5 (x uniform in [-2, 2], fixed seed; the
//! function and both hand-written gradients from `adjoint_bench::problems::rosenbrock`) this times
//!
//! * `f`         – `rosenbrock(&x)`, the function alone;
//! * `grad_into` – `rosenbrock_grad_into(&x, &mut g)`, generated, caller's buffer;
//! * `grad`      – `rosenbrock_grad(&x)`, generated, allocates the gradient;
//! * `gather`    – hand-written value + gradient, each `g[i]` from `x[i-1], x[i], x[i+1]` in one pass;
//! * `scatter`   – hand-written value + gradient, `g[i] += …; g[i+1] += …` as an adjoint produces it;
//! * `jvp`       – `rosenbrock_jvp(&x, &v)`, forward mode, for reference.
//!
//! All results are checked against each other (gradients to 1e-12 relative) before anything is
//! timed. Timing: each candidate is warmed up, its repetitions per sample are calibrated to
//! ~7 ms, then ~30 samples are taken round-robin over the candidates (so machine noise hits
//! all of them alike) and the median time per call is reported. Inputs and outputs go through
//! `std::hint::black_box`.
//!
//! Run:
//!
//! ```text
//! cargo bench -p adjoint-bench --bench gradient
//! ADJOINT_BENCH_QUICK=1 cargo bench -p adjoint-bench --bench gradient   # a few seconds
//! ```
//!
//! The design goal is `grad_into ≤ 3 × f` and `grad_into ≤ 1.5 × hand-written`.

use std::hint::black_box;

use adjoint_bench::check::close;
use adjoint_bench::harness::{
    eprint_candidates, fmt_time, gradient_candidates, measure, median_of, quick_mode, Candidate, Details, Settings,
    TimeFormat,
};
use adjoint_bench::problems::rosenbrock::{
    hand_gather, hand_scatter, rosenbrock, rosenbrock_grad, rosenbrock_grad_into, rosenbrock_jvp,
};
use rand::{Rng, SeedableRng};

/// Panics unless every entry of `got` equals `want` to 1e-12 relative. Here and for the values the floor
/// of [`close`] is 1, so entries near zero are judged against the size of the terms that cancelled in them
/// rather than against zero.
fn check_grad(what: &str, n: usize, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len());
    for (i, (&a, &b)) in got.iter().zip(want).enumerate() {
        assert!(close(a, b, 1e-12, 1.0), "n={n}: {what}: g[{i}] = {a:e}, hand-written {b:e}");
    }
}

/// Checks every candidate against the hand-written gather gradient, before any timing.
fn check(x: &[f64], v: &[f64]) {
    let n = x.len();
    let f = rosenbrock(x);
    let mut want = vec![0.0; n];
    let f_gather = hand_gather(x, &mut want);
    assert!(close(f_gather, f, 1e-12, 1.0), "n={n}: gather value {f_gather} vs f {f}");

    let mut g = vec![f64::NAN; n]; // NaN: grad_into must overwrite, not accumulate
    let f_into = rosenbrock_grad_into(x, &mut g);
    assert!(close(f_into, f, 1e-12, 1.0), "n={n}: grad_into value {f_into} vs f {f}");
    check_grad("grad_into", n, &g, &want);

    let (f_alloc, g_alloc) = rosenbrock_grad(x);
    assert!(close(f_alloc, f, 1e-12, 1.0), "n={n}: grad value {f_alloc} vs f {f}");
    check_grad("grad", n, &g_alloc, &want);

    let mut g_sc = vec![f64::NAN; n];
    let f_sc = hand_scatter(x, &mut g_sc);
    assert!(close(f_sc, f, 1e-12, 1.0), "n={n}: scatter value {f_sc} vs f {f}");
    check_grad("scatter", n, &g_sc, &want);

    let (f_jvp, d) = rosenbrock_jvp(x, v);
    let dot: f64 = want.iter().zip(v).map(|(g, v)| g * v).sum();
    let scale: f64 = want.iter().zip(v).map(|(g, v)| (g * v).abs()).sum();
    assert!(close(f_jvp, f, 1e-12, 1.0), "n={n}: jvp value {f_jvp} vs f {f}");
    assert!((d - dot).abs() <= 1e-12 * scale.max(1.0), "n={n}: jvp {d} vs g·v {dot}");
}

/// Times here run from ns to ms.
const TIME: TimeFormat = TimeFormat { ns: true, us_decimals: 2 };
/// The per-candidate lines on stderr.
const DETAILS: Details = Details { name_width: 10, time_width: 10, min: false, time: TIME };

fn main() {
    // `cargo bench` passes `--bench`; a filter or `--list` would be meaningless here.
    let quick = quick_mode();
    let settings = if quick { Settings::ms(20, 2, 7) } else { Settings::ms(200, 7, 31) };

    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5EED_AD70);
    let mut rows = Vec::new();
    for n in [1_000usize, 100_000] {
        let x: Vec<f64> = (0..n).map(|_| rng.gen_range(-2.0..=2.0)).collect();
        let v: Vec<f64> = (0..n).map(|_| rng.gen_range(-1.0..=1.0)).collect();
        check(&x, &v);

        let (mut g1, mut g2, mut g3) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let (x, v) = (&x[..], &v[..]);
        let mut cands = gradient_candidates(x, &mut g1, rosenbrock, rosenbrock_grad_into, rosenbrock_grad);
        cands.extend([
            Candidate::new("gather", || {
                black_box(hand_gather(black_box(x), black_box(&mut g2[..])));
            }),
            Candidate::new("scatter", || {
                black_box(hand_scatter(black_box(x), black_box(&mut g3[..])));
            }),
            Candidate::new("jvp", || {
                black_box(rosenbrock_jvp(black_box(x), black_box(v)));
            }),
        ]);
        measure(&mut cands, &settings);
        eprint_candidates(&format!("n = {n}"), &cands, DETAILS);
        let med = |name: &str| median_of(&cands, name);
        rows.push((n, med("f"), med("grad_into"), med("grad"), med("gather"), med("scatter"), med("jvp")));
    }

    println!();
    println!(
        "| n | f | grad_into | grad_into / f | grad_into / gather | grad_into / scatter | grad (alloc) / f | jvp / f |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (n, f, into, alloc, gather, scatter, jvp) in rows {
        println!(
            "| {n} | {} | {} | {:.2}× | {:.2}× | {:.2}× | {:.2}× | {:.2}× |",
            fmt_time(f, TIME),
            fmt_time(into, TIME),
            into / f,
            into / gather,
            into / scatter,
            alloc / f,
            jvp / f
        );
    }
    println!();
    println!(
        "goal: grad_into / f ≤ 3, grad_into / hand-written ≤ 1.5 (medians{})",
        if quick { ", quick mode" } else { "" }
    );
}
