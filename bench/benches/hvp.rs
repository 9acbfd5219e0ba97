//! Cost and accuracy of the generated Hessian-vector products (`f_hvp`, `f_hvp_into`:
//! forward-over-reverse, the reverse sweep run on dual numbers), against the generated gradient and
//! against the finite-difference HVP `(∇f(x + h·v) − ∇f(x − h·v)) / 2h`, which costs two gradients.
//!
//! Functions, x and v drawn with a fixed seed:
//!
//! * `rosenbrock` – the extended Rosenbrock function of `adjoint_bench::problems::rosenbrock`, n = 10^3
//!   and 10^5 (x uniform in [-2, 2]);
//! * `separable`  – `Σ cᵢ sin xᵢ + eˣⁱ/cᵢ + xᵢ⁴/4 + ln(1 + xᵢ²)`, transcendental-heavy, n = 10^4;
//! * `rnn`        – `h ← tanh(0.8 h + xᵢ)` twice per step through a differentiable callee, a
//!   recurrence overwriting its state, n = 10^4;
//! * `thomas`     – a tridiagonal solve (Thomas algorithm) on local vectors written by index, then
//!   `Σ uᵢ²`, n = 10^4.
//!
//! The last three are copies of functions of `tests/tests/hvp.rs` (a bench cannot use an integration
//! test's items).
//!
//! Timed per function (medians of interleaved samples, inputs and outputs through `black_box`):
//!
//! * `f`         – the function alone;
//! * `grad_into` – `f_grad_into(&x, &mut g)`;
//! * `grad`      – `f_grad(&x)` (allocates the gradient);
//! * `hvp_into`  – `f_hvp_into(&x, &v, &mut g, &mut hv)`: value, gradient and H·v into caller buffers;
//! * `hvp`       – `f_hvp(&x, &v)` (allocates gradient and H·v);
//! * `fd_hvp`    – the central finite-difference HVP: two `f_grad_into` at `x ± h·v`, caller buffers;
//! * `alloc`     – diagnostic: what `f_hvp_into` allocates per call, alone: `dualize(x, v)` and a
//!   zeroed vector of n dual numbers (the dual cotangent), then dropped. (Timing the hidden dual sweep
//!   directly would add a second caller to it and change how it is inlined into `f_hvp_into`: with
//!   `z̄ = 1 + 0ε` propagated into it the sweep is markedly faster.)
//!
//! Before anything is timed, every result is checked: the value and gradient of `f_hvp` equal those of
//! `f` and `f_grad` exactly, `f_hvp_into` equals `f_hvp`, and H·v equals the closed form
//! (Rosenbrock: tridiagonal; separable: diagonal) to 1e-12, or else a Richardson-extrapolated finite
//! difference to 1e-7. The accuracy reported for the finite-difference HVP is
//! `‖fd − H·v‖₂ / ‖H·v‖₂`, at the textbook step `h = ∛ε · max(1, ‖x‖∞) / ‖v‖∞` and at the best step of
//! a scan over `h = 10⁻², …, 10⁻⁹`.
//!
//! Run:
//!
//! ```text
//! cargo bench -p adjoint-bench --bench hvp
//! ADJOINT_BENCH_QUICK=1 cargo bench -p adjoint-bench --bench hvp   # a few seconds
//! ```
//!
//! The design goal is `hvp_into ≤ 2.5 × grad_into`.
// The differentiable bodies are those of the tests, written in the forms under test.
#![allow(clippy::needless_range_loop, clippy::explicit_counter_loop)]

use std::hint::black_box;

use adjoint::differentiable;
use adjoint::dual::Dual;
use adjoint_bench::harness::{
    eprint_candidates, fmt_time, gradient_candidates, measure, median_of, quick_mode, Candidate, Details, Settings,
    TimeFormat,
};
use adjoint_bench::problems::rosenbrock;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[differentiable]
fn separable(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, xi) in x.iter().enumerate() {
        let c = (i + 1) as f64;
        s += c * xi.sin() + xi.exp() / c + 0.25 * xi.powi(4) + (1.0 + xi * xi).ln();
    }
    s
}

#[differentiable]
fn step(state: f64, input: f64) -> f64 {
    (state * 0.8 + input).tanh()
}

#[differentiable]
fn rnn(x: &[f64]) -> f64 {
    let mut h = 0.0;
    for i in 0..x.len() {
        h = step(h, x[i]);
        h = step(h, 0.1);
    }
    h * h
}

#[differentiable]
fn thomas(d: &[f64]) -> f64 {
    let mut c = vec![0.0; d.len()];
    let mut y = vec![0.0; d.len()];
    c[0] = -1.0 / d[0];
    y[0] = 1.0 / d[0];
    for i in 1..d.len() {
        let m = d[i] + c[i - 1];
        c[i] = -1.0 / m;
        y[i] = (1.0 + y[i - 1]) / m;
    }
    let mut u = vec![0.0; d.len()];
    let mut k = 0;
    for i in (0..d.len()).rev() {
        if k == 0 {
            u[i] = y[i];
        } else {
            u[i] = y[i] - c[i] * u[i + 1];
        }
        k += 1;
    }
    let mut s = 0.0;
    for i in 0..d.len() {
        s += u[i] * u[i];
    }
    s
}

/// Closed-form H·v of `separable` (diagonal Hessian).
fn separable_hv(x: &[f64], v: &[f64]) -> Vec<f64> {
    x.iter()
        .zip(v)
        .enumerate()
        .map(|(i, (&xi, &vi))| {
            let c = (i + 1) as f64;
            let d2 = -c * xi.sin() + xi.exp() / c + 3.0 * xi * xi + (2.0 - 2.0 * xi * xi) / (1.0 + xi * xi).powi(2);
            d2 * vi
        })
        .collect()
}

/// `f_hvp`.
type HvpFn = fn(&[f64], &[f64]) -> (f64, Vec<f64>, Vec<f64>);
/// `f_hvp_into`.
type HvpIntoFn = fn(&[f64], &[f64], &mut [f64], &mut [f64]) -> f64;
/// A closed-form `H·v`.
type HvFn = fn(&[f64], &[f64]) -> Vec<f64>;

/// One benchmarked function: its generated forms, an optional closed-form H·v, and its inputs.
struct Problem {
    name: &'static str,
    n: usize,
    f: fn(&[f64]) -> f64,
    grad: fn(&[f64]) -> (f64, Vec<f64>),
    grad_into: fn(&[f64], &mut [f64]) -> f64,
    hvp: HvpFn,
    hvp_into: HvpIntoFn,
    closed_form: Option<HvFn>,
    /// Range of the coordinates of x.
    range: (f64, f64),
}

impl Problem {
    /// The extended Rosenbrock function at size `n`, checked against its closed-form H·v.
    fn rosenbrock(n: usize) -> Problem {
        Problem {
            name: "rosenbrock",
            n,
            f: rosenbrock::rosenbrock,
            grad: rosenbrock::rosenbrock_grad,
            grad_into: rosenbrock::rosenbrock_grad_into,
            hvp: rosenbrock::rosenbrock_hvp,
            hvp_into: rosenbrock::rosenbrock_hvp_into,
            closed_form: Some(rosenbrock::hand_hv),
            range: (-2.0, 2.0),
        }
    }
}

fn norm_inf(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

fn norm2(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// The finite-difference HVP `(∇f(x + h·v) − ∇f(x − h·v)) / 2h` into `out`, with `xs`, `gm` as scratch:
/// two gradient evaluations and O(n) vector work, as an optimizer without second-order code would do it.
fn fd_hvp_into(
    grad_into: fn(&[f64], &mut [f64]) -> f64,
    x: &[f64],
    v: &[f64],
    h: f64,
    xs: &mut [f64],
    gm: &mut [f64],
    out: &mut [f64],
) {
    for i in 0..x.len() {
        xs[i] = x[i] + h * v[i];
    }
    grad_into(xs, out);
    for i in 0..x.len() {
        xs[i] = x[i] - h * v[i];
    }
    grad_into(xs, gm);
    let s = 0.5 / h;
    for i in 0..x.len() {
        out[i] = (out[i] - gm[i]) * s;
    }
}

fn fd_hvp(p: &Problem, x: &[f64], v: &[f64], h: f64) -> Vec<f64> {
    let n = x.len();
    let (mut xs, mut gm, mut out) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    fd_hvp_into(p.grad_into, x, v, h, &mut xs, &mut gm, &mut out);
    out
}

fn rel_err(a: &[f64], exact: &[f64]) -> f64 {
    let d: Vec<f64> = a.iter().zip(exact).map(|(a, b)| a - b).collect();
    norm2(&d) / norm2(exact)
}

/// The textbook central-difference step `∛ε · max(1, ‖x‖∞) / ‖v‖∞`.
fn good_step(x: &[f64], v: &[f64]) -> f64 {
    f64::EPSILON.cbrt() * norm_inf(x).max(1.0) / norm_inf(v)
}

/// Checks every result before timing (see the module doc); returns the exact H·v.
fn check(p: &Problem, x: &[f64], v: &[f64]) -> Vec<f64> {
    let (name, n) = (p.name, p.n);
    let f = (p.f)(x);
    let (f_grad, g) = (p.grad)(x);
    let (f_hvp, g_hvp, hv) = (p.hvp)(x, v);
    assert!(f.is_finite() && hv.iter().all(|h| h.is_finite()), "{name} n={n}: not finite");
    assert_eq!(f_hvp, f, "{name} n={n}: value of f_hvp vs f");
    assert_eq!(f_grad, f, "{name} n={n}: value of f_grad vs f");
    assert_eq!(g_hvp, g, "{name} n={n}: gradient of f_hvp vs f_grad");

    let mut g_into = vec![f64::NAN; n];
    assert_eq!((p.grad_into)(x, &mut g_into), f, "{name} n={n}: value of f_grad_into");
    assert_eq!(g_into, g, "{name} n={n}: f_grad_into vs f_grad");
    let (mut g2, mut hv2) = (vec![f64::NAN; n], vec![f64::NAN; n]);
    assert_eq!((p.hvp_into)(x, v, &mut g2, &mut hv2), f, "{name} n={n}: value of f_hvp_into");
    assert_eq!(g2, g, "{name} n={n}: gradient of f_hvp_into");
    assert_eq!(hv2, hv, "{name} n={n}: H·v of f_hvp_into vs f_hvp");

    let scale = norm_inf(&hv);
    match p.closed_form {
        Some(cf) => {
            let want = cf(x, v);
            for i in 0..n {
                assert!(
                    (hv[i] - want[i]).abs() <= 1e-12 * scale.max(1.0),
                    "{name} n={n}: (H·v)[{i}] = {:e}, closed form {:e}",
                    hv[i],
                    want[i]
                );
            }
        }
        None => {
            // Richardson: (4·D(h) − D(2h)) / 3, truncation error O(h⁴).
            let h = 1e-3 * norm_inf(x).max(1.0) / norm_inf(v);
            let (d1, d2) = (fd_hvp(p, x, v, h), fd_hvp(p, x, v, 2.0 * h));
            for i in 0..n {
                let fd = (4.0 * d1[i] - d2[i]) / 3.0;
                assert!(
                    (hv[i] - fd).abs() <= 1e-7 * scale.max(1e-300) + 1e-9 * norm_inf(&g) / h,
                    "{name} n={n}: (H·v)[{i}] = {:e}, extrapolated finite difference {fd:e}",
                    hv[i]
                );
            }
        }
    }
    hv
}

/// Times here run from µs to ms.
const TIME: TimeFormat = TimeFormat { ns: true, us_decimals: 2 };
/// The per-candidate lines on stderr.
const DETAILS: Details = Details { name_width: 10, time_width: 10, min: false, time: TIME };

struct Row {
    name: &'static str,
    n: usize,
    f: f64,
    grad_into: f64,
    grad: f64,
    hvp_into: f64,
    hvp: f64,
    fd: f64,
    alloc: f64,
    fd_err_good: f64,
    fd_err_best: (f64, f64),
}

fn main() {
    // `cargo bench` passes `--bench`; a filter or `--list` would be meaningless here.
    let quick = quick_mode();
    let settings = if quick { Settings::ms(20, 2, 7) } else { Settings::ms(200, 7, 31) };

    let problems = [
        Problem::rosenbrock(1_000),
        Problem::rosenbrock(100_000),
        Problem {
            name: "separable",
            n: 10_000,
            f: separable,
            grad: separable_grad,
            grad_into: separable_grad_into,
            hvp: separable_hvp,
            hvp_into: separable_hvp_into,
            closed_form: Some(separable_hv),
            range: (-1.5, 1.5),
        },
        Problem {
            name: "rnn",
            n: 10_000,
            f: rnn,
            grad: rnn_grad,
            grad_into: rnn_grad_into,
            hvp: rnn_hvp,
            hvp_into: rnn_hvp_into,
            closed_form: None,
            range: (-2.0, 2.0),
        },
        Problem {
            name: "thomas",
            n: 10_000,
            f: thomas,
            grad: thomas_grad,
            grad_into: thomas_grad_into,
            hvp: thomas_hvp,
            hvp_into: thomas_hvp_into,
            closed_form: None,
            range: (2.5, 4.0),
        },
    ];

    let mut rng = StdRng::seed_from_u64(0x5EED_4E55);
    let mut rows = Vec::new();
    for p in &problems {
        let n = p.n;
        let x: Vec<f64> = (0..n).map(|_| rng.gen_range(p.range.0..=p.range.1)).collect();
        let v: Vec<f64> = (0..n).map(|_| rng.gen_range(-1.0..=1.0)).collect();
        let hv = check(p, &x, &v);

        // Accuracy of the finite-difference HVP: at the textbook step, and the best of a scan.
        let h_good = good_step(&x, &v);
        let fd_err_good = rel_err(&fd_hvp(p, &x, &v, h_good), &hv);
        let fd_err_best = (2..=9)
            .map(|k| {
                let h = 10f64.powi(-k);
                (rel_err(&fd_hvp(p, &x, &v, h), &hv), h)
            })
            .fold((f64::INFINITY, 0.0), |best, e| if e.0 < best.0 { e } else { best });
        assert!(fd_err_best.0 < 1e-3, "{} n={n}: the finite-difference HVP is far off ({fd_err_best:?})", p.name);

        let (x, v) = (&x[..], &v[..]);
        let mut g1 = vec![0.0; n];
        let (mut g2, mut hv2) = (vec![0.0; n], vec![0.0; n]);
        let (mut xs, mut gm, mut out) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let (f, grad, grad_into, hvp, hvp_into) = (p.f, p.grad, p.grad_into, p.hvp, p.hvp_into);
        let mut cands = gradient_candidates(x, &mut g1, f, grad_into, grad);
        cands.extend([
            Candidate::new("hvp_into", || {
                black_box(hvp_into(black_box(x), black_box(v), black_box(&mut g2[..]), black_box(&mut hv2[..])));
            }),
            Candidate::new("hvp", || {
                black_box(hvp(black_box(x), black_box(v)));
            }),
            Candidate::new("fd_hvp", || {
                fd_hvp_into(grad_into, black_box(x), black_box(v), h_good, &mut xs, &mut gm, black_box(&mut out[..]));
            }),
            Candidate::new("alloc", || {
                let xd: Vec<Dual<f64>> = adjoint::dual::dualize(black_box(x), black_box(v));
                let bar = vec![Dual::new(0.0f64, 0.0); n];
                black_box((&xd, &bar));
            }),
        ]);
        measure(&mut cands, &settings);
        eprint_candidates(&format!("{} n = {n}", p.name), &cands, DETAILS);
        let med = |name: &str| median_of(&cands, name);
        rows.push(Row {
            name: p.name,
            n,
            f: med("f"),
            grad_into: med("grad_into"),
            grad: med("grad"),
            hvp_into: med("hvp_into"),
            hvp: med("hvp"),
            fd: med("fd_hvp"),
            alloc: med("alloc"),
            fd_err_good,
            fd_err_best,
        });
    }

    println!();
    println!(
        "| function | n | f | grad_into | hvp_into | hvp_into / grad_into | hvp / grad (alloc) | hvp_into / (2 × grad_into) \
         | hvp_into / fd_hvp | alloc / grad_into | fd_hvp error at ∛ε | best fd_hvp error (h) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {:.2}× | {:.2}× | {:.2}× | {:.2}× | {:.2}× | {:.1e} | {:.1e} ({:.0e}) |",
            r.name,
            r.n,
            fmt_time(r.f, TIME),
            fmt_time(r.grad_into, TIME),
            fmt_time(r.hvp_into, TIME),
            r.hvp_into / r.grad_into,
            r.hvp / r.grad,
            r.hvp_into / (2.0 * r.grad_into),
            r.hvp_into / r.fd,
            r.alloc / r.grad_into,
            r.fd_err_good,
            r.fd_err_best.0,
            r.fd_err_best.1
        );
    }
    println!();
    println!(
        "goal: hvp_into / grad_into ≤ 2.5 (medians{}); the exact HVP has no step to choose and no truncation \
         or cancellation error",
        if quick { ", quick mode" } else { "" }
    );
}
