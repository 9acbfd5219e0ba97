//! The comparison with the peers (issue 6): for each problem, the function, our generated gradient
//! (`f_grad_into`) and Hessian-vector product (`f_hvp_into`), a hand-written gradient, `num-dual`
//! (gradient by n `Dual64` passes, HVP by n `HyperDual64` passes) and the tape-based reverse mode of
//! `reverse`, timed side by side in one run after checking that every peer agrees with us to a relative
//! 1e-9.
//!
//! Problems: extended Rosenbrock (n = 10, 10³, 10⁵); ADBench's GMM objective (d = 10, K = 25, N = 1000
//! from ADBench's file; d = 64, K = 100, N = 1000 seeded); an MLP loss (64-128-10, batch 256); the
//! Bayesian logistic-regression log-posterior (breast cancer, 569 × 30); an ODE-integration loss
//! (Lotka–Volterra, RK4, 1000 steps, 6 active parameters).
//!
//! A dual-number gradient or HVP costs n function evaluations: a size where one would take more than
//! ~2 s is skipped ("skipped (O(n²))"), and its gradient or HVP is then checked on three coordinates
//! only. Tapes that would not fit in memory are skipped likewise.
//!
//! ```text
//! cargo bench -p adjoint-bench --bench suite                          # full, ~10 minutes
//! ADJOINT_BENCH_QUICK=1 cargo bench -p adjoint-bench --bench suite    # quick, a few minutes
//! ```
//!
//! `ADJOINT_BENCH_ONLY=gmm` (any part of a problem's name, case-insensitive) runs only those rows.
//!
//! The tables (markdown, ratios first and absolute times second) go to stdout, per-candidate details to
//! stderr.

use std::hint::black_box;
use std::time::{Duration, Instant};

use adjoint_bench::check::{check_value, check_vector};
use adjoint_bench::data::{BreastCancer, GmmInput};
use adjoint_bench::harness::{
    eprint_candidates, fmt_time, measure, median_of, quick_mode, Candidate, Details, Settings, TimeFormat,
};
use adjoint_bench::peers::{tape_gradient, DualGradient, HyperDualHvp};
use adjoint_bench::problems::{gmm, logreg, mlp, ode, rosenbrock};
use num_dual::{Dual64, HyperDual64};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reverse::{Tape, Var};

/// A function of the active parameters for one peer number type.
type PeerFn<T> = Box<dyn Fn(&[T]) -> T>;
/// The tape peer's function (generic over the tape's lifetime).
type TapeFn = Box<dyn for<'t> Fn(&[Var<'t>]) -> Var<'t>>;
/// Value, gradient into the buffer.
type GradFn = Box<dyn FnMut(&mut [f64]) -> f64>;
/// Value, gradient and H·v into the buffers.
type HvpFn = Box<dyn FnMut(&mut [f64], &mut [f64]) -> f64>;

/// Builds a case from the shared seeded generator.
type MakeCase = Box<dyn FnOnce(&mut StdRng) -> Case>;

/// One row of the tables: a problem at one size, every way of computing its derivatives, and the
/// inputs (`x` the active parameters flattened, `v` the HVP direction).
struct Case {
    problem: &'static str,
    size: String,
    x: Vec<f64>,
    v: Vec<f64>,
    /// The function alone (ours, i.e. the plain Rust function).
    f: Box<dyn FnMut() -> f64>,
    /// Our generated gradient.
    ours: GradFn,
    /// The hand-written gradient.
    hand: GradFn,
    /// Our generated HVP, or why there is none.
    hvp: Result<HvpFn, &'static str>,
    /// The generic twin on f64 (checked against `f`).
    generic: PeerFn<f64>,
    dual: PeerFn<Dual64>,
    hyper: PeerFn<HyperDual64>,
    /// The tape peer, or why it is skipped.
    tape: Result<TapeFn, &'static str>,
}

fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

fn uniform(rng: &mut StdRng, n: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..n).map(|_| rng.gen_range(lo..=hi)).collect()
}

fn rosenbrock_case(n: usize, rng: &mut StdRng) -> Case {
    let x = uniform(rng, n, -2.0, 2.0);
    let v = uniform(rng, n, -1.0, 1.0);
    let (xs, vs) = (leak(x.clone()), leak(v.clone()));
    Case {
        problem: "Rosenbrock",
        size: format!("n = {n}"),
        x,
        v,
        f: Box::new(move || rosenbrock::rosenbrock(black_box(xs))),
        ours: Box::new(move |g| rosenbrock::rosenbrock_grad_into(black_box(xs), g)),
        hand: Box::new(move |g| rosenbrock::hand_gather(black_box(xs), g)),
        hvp: Ok(Box::new(move |g, hv| rosenbrock::rosenbrock_hvp_into(black_box(xs), black_box(vs), g, hv))),
        generic: Box::new(rosenbrock::generic),
        dual: Box::new(rosenbrock::generic),
        hyper: Box::new(rosenbrock::generic),
        tape: Ok(Box::new(|x| rosenbrock::generic(x))),
    }
}

fn gmm_case(input: GmmInput, rng: &mut StdRng, tape: bool) -> Case {
    let g = leak(input);
    let c = gmm::constant_term(g.d, g.k, g.n, g.wishart_gamma, g.wishart_m);
    let (k, kd) = (g.k, g.k * g.d);
    let v = uniform(rng, g.n_params(), -1.0, 1.0);
    let vs = leak(v.clone());
    let mut ws = gmm::HandWork::new(g);
    let tape_fn: Result<TapeFn, &'static str> = if tape {
        Ok(Box::new(move |t| gmm::generic(t, g, c)))
    } else {
        Err("skipped (tape of ~4·10⁸ nodes, ~17 GB)")
    };
    Case {
        problem: "GMM",
        size: format!("d = {}, K = {}, N = {} ({} params)", g.d, g.k, g.n, g.n_params()),
        x: g.params(),
        v,
        f: Box::new(move || {
            gmm::gmm_objective(&g.alphas, &g.means, &g.icf, black_box(&g.x), g.d, g.k, g.wishart_gamma, g.wishart_m, c)
        }),
        ours: Box::new(move |grad| {
            let (ga, rest) = grad.split_at_mut(k);
            let (gm, gi) = rest.split_at_mut(kd);
            let (gamma, m) = (g.wishart_gamma, g.wishart_m);
            gmm::gmm_objective_grad_into(&g.alphas, &g.means, &g.icf, black_box(&g.x), g.d, k, gamma, m, c, ga, gm, gi)
        }),
        hand: Box::new(move |grad| gmm::hand_gradient(black_box(g), c, &mut ws, grad)),
        hvp: Ok(Box::new(move |grad, hv| {
            let (ga, rest) = grad.split_at_mut(k);
            let (gm, gi) = rest.split_at_mut(kd);
            let (ha, rest) = hv.split_at_mut(k);
            let (hm, hi) = rest.split_at_mut(kd);
            let (va, rest) = vs.split_at(k);
            let (vm, vi) = rest.split_at(kd);
            let (gamma, m) = (g.wishart_gamma, g.wishart_m);
            gmm::gmm_objective_hvp_into(
                &g.alphas,
                va,
                &g.means,
                vm,
                &g.icf,
                vi,
                black_box(&g.x),
                g.d,
                k,
                gamma,
                m,
                c,
                ga,
                ha,
                gm,
                hm,
                gi,
                hi,
            )
        })),
        generic: Box::new(move |t| gmm::generic(t, g, c)),
        dual: Box::new(move |t| gmm::generic(t, g, c)),
        hyper: Box::new(move |t| gmm::generic(t, g, c)),
        tape: tape_fn,
    }
}

fn mlp_case(rng: &mut StdRng) -> Case {
    let (p, x, y, ones) = mlp::instance(0x5EED_A11A);
    let flat = p.to_flat();
    let v = uniform(rng, flat.len(), -1.0, 1.0);
    let (p, x, y, ones) = (leak(p), leak(x), leak(y), leak(ones));
    let vs = leak(v.clone());
    let (xs, ys) = (x.as_slice(), y.as_slice());
    let mut g_ours = p.clone();
    let mut g_hand = p.clone();
    let mut ws = mlp::Work::default();
    let v_struct = leak(mlp::Mlp::from_flat(vs));
    let (mut g_hvp, mut hv_hvp) = (p.clone(), p.clone());
    Case {
        problem: "MLP",
        size: format!("64-128-10, batch 256 ({} params)", mlp::N_PARAMS),
        x: flat,
        v,
        f: Box::new(move || mlp::loss(p, black_box(x), y, ones)),
        ours: Box::new(move |grad| {
            let value = mlp::loss_grad_into(p, black_box(x), y, ones, &mut g_ours);
            g_ours.write_flat(grad);
            value
        }),
        hand: Box::new(move |grad| {
            let value = mlp::hand(p, black_box(x), y, &mut ws, &mut g_hand);
            g_hand.write_flat(grad);
            value
        }),
        hvp: Ok(Box::new(move |grad, hv| {
            let value = mlp::loss_hvp_into(p, v_struct, black_box(x), y, ones, &mut g_hvp, &mut hv_hvp);
            g_hvp.write_flat(grad);
            hv_hvp.write_flat(hv);
            value
        })),
        generic: Box::new(move |t| mlp::generic(t, xs, ys)),
        dual: Box::new(move |t| mlp::generic(t, xs, ys)),
        hyper: Box::new(move |t| mlp::generic(t, xs, ys)),
        tape: Ok(Box::new(move |t| mlp::generic(t, xs, ys))),
    }
}

fn logreg_case(rng: &mut StdRng) -> Case {
    let data = leak(BreastCancer::load());
    let w = uniform(rng, data.d + 1, -0.5, 0.5);
    let v = uniform(rng, data.d + 1, -1.0, 1.0);
    let (ws, vs) = (leak(w.clone()), leak(v.clone()));
    let (x, y, pv) = (&data.x[..], &data.y[..], logreg::PRIOR_VAR);
    Case {
        problem: "logistic regression",
        size: format!("{} × {} ({} params)", data.y.len(), data.d, data.d + 1),
        x: w,
        v,
        f: Box::new(move || logreg::log_posterior(ws, black_box(x), y, pv)),
        ours: Box::new(move |g| logreg::log_posterior_grad_into(ws, black_box(x), y, pv, g)),
        hand: Box::new(move |g| logreg::hand(ws, black_box(x), y, pv, g)),
        hvp: Ok(Box::new(move |g, hv| logreg::log_posterior_hvp_into(ws, vs, black_box(x), y, pv, g, hv))),
        generic: Box::new(move |t| logreg::generic(t, x, y, pv)),
        dual: Box::new(move |t| logreg::generic(t, x, y, pv)),
        hyper: Box::new(move |t| logreg::generic(t, x, y, pv)),
        tape: Ok(Box::new(move |t| logreg::generic(t, x, y, pv))),
    }
}

fn ode_case(rng: &mut StdRng) -> Case {
    let obs: &'static [f64] = leak(ode::observations());
    let p = ode::EVAL_PARAMS.to_vec();
    let v = uniform(rng, p.len(), -1.0, 1.0);
    let (ps, vs) = (leak(p.clone()), leak(v.clone()));
    let mut traj = Vec::with_capacity(2 * ode::STEPS);
    Case {
        problem: "ODE (RK4)",
        size: format!("{} steps (6 params)", ode::STEPS),
        x: p,
        v,
        f: Box::new(move || ode::ode_loss(black_box(ps), obs, ode::H)),
        ours: Box::new(move |g| ode::ode_loss_grad_into(black_box(ps), obs, ode::H, g)),
        hand: Box::new(move |g| ode::hand(black_box(ps), obs, ode::H, &mut traj, g)),
        hvp: Ok(Box::new(move |g, hv| ode::ode_loss_hvp_into(black_box(ps), vs, obs, ode::H, g, hv))),
        generic: Box::new(move |t| ode::generic(t, obs, ode::H)),
        dual: Box::new(move |t| ode::generic(t, obs, ode::H)),
        hyper: Box::new(move |t| ode::generic(t, obs, ode::H)),
        tape: Ok(Box::new(move |t| ode::generic(t, obs, ode::H))),
    }
}

/// A dual-number gradient or HVP is skipped when one would take longer than this.
const DUAL_BUDGET: Duration = Duration::from_secs(2);

/// Coordinates checked by single dual passes when the full dual gradient is skipped.
fn probe_coordinates(n: usize) -> [usize; 3] {
    [0, n / 2, n - 1]
}

/// What the checks found out about the peers: whether the dual gradient and HVP run.
struct Plan {
    dual_grad: bool,
    dual_hvp: bool,
    dual_pass: f64,
    hyper_pass: f64,
}

/// Checks every way of computing the case's derivatives against ours, before anything is timed.
fn check(case: &mut Case) -> Plan {
    let (name, n) = (format!("{} {}", case.problem, case.size), case.x.len());
    let f = (case.f)();
    check_value(&name, "generic twin (f64)", (case.generic)(&case.x), f);

    let mut g = vec![f64::NAN; n];
    let value = (case.ours)(&mut g);
    check_value(&name, "our gradient", value, f);
    let mut gh = vec![f64::NAN; n];
    check_value(&name, "hand-written", (case.hand)(&mut gh), f);
    check_vector(&name, "hand-written", "gradient", &gh, &g);

    if let Ok(hvp) = case.hvp.as_mut() {
        let (mut g2, mut hv) = (vec![f64::NAN; n], vec![f64::NAN; n]);
        check_value(&name, "our HVP", hvp(&mut g2, &mut hv), f);
        check_vector(&name, "our HVP", "gradient", &g2, &g);
        assert!(hv.iter().all(|h| h.is_finite()), "{name}: our H·v is not finite");
    }

    if let Ok(tf) = &case.tape {
        let tape = Tape::new();
        let (tv, tg) = tape_gradient(&tape, tf, &case.x);
        check_value(&name, "reverse (tape)", tv, f);
        check_vector(&name, "reverse (tape)", "gradient", &tg, &g);
    }

    // Dual numbers: time one pass to decide whether the n passes fit the budget.
    let mut dg = DualGradient::default();
    let start = Instant::now();
    black_box(dg.one_pass(&*case.dual, &case.x));
    let dual_pass = start.elapsed().as_secs_f64();
    let mut hd = HyperDualHvp::default();
    let start = Instant::now();
    black_box(hd.one_pass(&*case.hyper, &case.x, &case.v));
    let hyper_pass = start.elapsed().as_secs_f64();
    let plan = Plan {
        dual_grad: dual_pass * n as f64 <= DUAL_BUDGET.as_secs_f64(),
        dual_hvp: hyper_pass * n as f64 <= DUAL_BUDGET.as_secs_f64(),
        dual_pass,
        hyper_pass,
    };
    if plan.dual_grad {
        let mut dgrad = vec![f64::NAN; n];
        check_value(&name, "num-dual", dg.gradient(&*case.dual, &case.x, &mut dgrad), f);
        check_vector(&name, "num-dual", "gradient", &dgrad, &g);
    } else {
        for i in probe_coordinates(n) {
            let mut x: Vec<Dual64> = case.x.iter().map(|&xi| Dual64::new(xi, 0.0)).collect();
            x[i].eps = 1.0;
            let y = (case.dual)(&x);
            check_vector(&name, "num-dual (one pass)", &format!("gradient[{i}]"), &[y.eps], &[g[i]]);
        }
    }
    if let Ok(hvp) = case.hvp.as_mut() {
        let (mut g2, mut hv) = (vec![0.0; n], vec![0.0; n]);
        hvp(&mut g2, &mut hv);
        if plan.dual_hvp {
            let (mut hg, mut hhv) = (vec![f64::NAN; n], vec![f64::NAN; n]);
            check_value(&name, "num-dual HyperDual64", hd.hvp(&*case.hyper, &case.x, &case.v, &mut hg, &mut hhv), f);
            check_vector(&name, "num-dual HyperDual64", "gradient", &hg, &g);
            check_vector(&name, "num-dual HyperDual64", "H·v", &hhv, &hv);
        } else {
            for i in probe_coordinates(n) {
                let mut x: Vec<HyperDual64> =
                    case.x.iter().zip(&case.v).map(|(&xi, &vi)| HyperDual64::new(xi, 0.0, vi, 0.0)).collect();
                x[i].eps1 = 1.0;
                let y = (case.hyper)(&x);
                // A single coordinate is judged against the size of the whole H·v.
                let scale = hv.iter().fold(0.0f64, |m, h| m.max(h.abs()));
                assert!(
                    (y.eps1eps2 - hv[i]).abs() <= 1e-9 * scale,
                    "{name}: num-dual HyperDual64 (H·v)[{i}] = {:e}, ours {:e}",
                    y.eps1eps2,
                    hv[i]
                );
            }
        }
        if case.problem == "Rosenbrock" {
            let want = rosenbrock::hand_hv(&case.x, &case.v);
            check_vector(&name, "closed form", "H·v", &want, &hv);
        }
    }
    plan
}

/// The medians of one case, in seconds; `None` where skipped.
struct Row {
    problem: &'static str,
    size: String,
    f: f64,
    ours: f64,
    hand: f64,
    dual: Option<f64>,
    tape: Option<f64>,
    hvp: Option<f64>,
    dual_hvp: Option<f64>,
    hvp_note: &'static str,
    dual_estimate: f64,
    hyper_estimate: f64,
}

fn run(mut case: Case, settings: &Settings) -> Row {
    let plan = check(&mut case);
    let Case { problem, size, x, v, mut f, mut ours, mut hand, mut hvp, dual, hyper, tape: tape_fn, .. } = case;
    let n = x.len();
    let (x, v) = (&x[..], &v[..]);
    let (mut g1, mut g2, mut g3, mut g4, mut g5, mut hv1, mut hv2) =
        (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let tape = Tape::new();
    let mut dg = DualGradient::default();
    let mut hd = HyperDualHvp::default();
    let mut cands = vec![
        Candidate::new("f", || {
            black_box(f());
        }),
        Candidate::new("ours", || {
            black_box(ours(black_box(&mut g1)));
        }),
        Candidate::new("hand", || {
            black_box(hand(black_box(&mut g2)));
        }),
    ];
    let hvp_note = match &mut hvp {
        Ok(h) => {
            cands.push(Candidate::new("hvp", || {
                black_box(h(black_box(&mut g3), black_box(&mut hv1)));
            }));
            ""
        }
        Err(why) => why,
    };
    if plan.dual_grad {
        cands.push(Candidate::new("dual", || {
            black_box(dg.gradient(&*dual, black_box(x), &mut g4));
        }));
    }
    if plan.dual_hvp && hvp_note.is_empty() {
        cands.push(Candidate::new("dual_hvp", || {
            black_box(hd.hvp(&*hyper, black_box(x), black_box(v), &mut g5, &mut hv2));
        }));
    }
    if let Ok(tf) = &tape_fn {
        let tape = &tape;
        cands.push(Candidate::new("tape", move || {
            black_box(tape_gradient(tape, &**tf, black_box(x)));
        }));
    }
    measure(&mut cands, settings);

    eprint_candidates(&format!("{problem} {size}"), &cands, DETAILS);
    let has = |name: &str| cands.iter().any(|c| c.name == name);
    let med = |name: &str| if has(name) { Some(median_of(&cands, name)) } else { None };
    Row {
        problem,
        size,
        f: med("f").unwrap(),
        ours: med("ours").unwrap(),
        hand: med("hand").unwrap(),
        dual: med("dual"),
        tape: med("tape"),
        hvp: med("hvp"),
        dual_hvp: med("dual_hvp"),
        hvp_note,
        dual_estimate: plan.dual_pass * n as f64,
        hyper_estimate: plan.hyper_pass * n as f64,
    }
}

const TIME: TimeFormat = TimeFormat { ns: true, us_decimals: 2 };
/// The per-candidate lines on stderr.
const DETAILS: Details = Details { name_width: 9, time_width: 12, min: false, time: TIME };

fn time_or(t: Option<f64>, why: &str) -> String {
    t.map_or(why.to_string(), |t| fmt_time(t, TIME))
}

fn main() {
    let quick = quick_mode();
    let settings = if quick {
        Settings { warm: Duration::from_millis(20), target: Duration::from_millis(2), samples: 5 }
    } else {
        Settings { warm: Duration::from_millis(200), target: Duration::from_millis(7), samples: 21 }
    };
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(0x5EED_0006);
    let mut rows = Vec::new();
    let mut tape_reasons = Vec::new();
    let cases: Vec<MakeCase> = vec![
        Box::new(|r| rosenbrock_case(10, r)),
        Box::new(|r| rosenbrock_case(1_000, r)),
        Box::new(|r| rosenbrock_case(100_000, r)),
        Box::new(|r| gmm_case(GmmInput::load("gmm_d10_K25_n1000.txt"), r, true)),
        Box::new(|r| gmm_case(GmmInput::random(64, 100, 1000, 0x5EED_0064), r, false)),
        Box::new(mlp_case),
        Box::new(logreg_case),
        Box::new(ode_case),
    ];
    let only = std::env::var("ADJOINT_BENCH_ONLY").unwrap_or_default().to_lowercase();
    for make in cases {
        let case = make(&mut rng);
        if !case.problem.to_lowercase().contains(&only) {
            continue;
        }
        tape_reasons.push(case.tape.as_ref().err().copied().unwrap_or(""));
        rows.push(run(case, &settings));
    }

    let skipped = |est: f64| format!("skipped (O(n²): ~{:.0} s)", est);
    println!();
    println!("Gradients, ratios (medians{}):", if quick { ", quick mode" } else { "" });
    println!();
    println!("| problem | size | ours / f | ours / hand-written | num-dual / ours | reverse (tape) / ours |");
    println!("|---|---|---:|---:|---:|---:|");
    for (r, why) in rows.iter().zip(&tape_reasons) {
        println!(
            "| {} | {} | **{:.2}×** | **{:.2}×** | {} | {} |",
            r.problem,
            r.size,
            r.ours / r.f,
            r.ours / r.hand,
            r.dual.map_or(skipped(r.dual_estimate), |d| format!("{:.1}×", d / r.ours)),
            r.tape.map_or(why.to_string(), |t| format!("{:.1}×", t / r.ours)),
        );
    }
    println!();
    println!("Gradients, absolute times:");
    println!();
    println!("| problem | size | f | ours (`grad_into`) | hand-written | num-dual | reverse (tape) |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for (r, why) in rows.iter().zip(&tape_reasons) {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.problem,
            r.size,
            fmt_time(r.f, TIME),
            fmt_time(r.ours, TIME),
            fmt_time(r.hand, TIME),
            time_or(r.dual, &skipped(r.dual_estimate)),
            time_or(r.tape, why),
        );
    }
    println!();
    println!("Hessian-vector products, ratios:");
    println!();
    println!("| problem | size | ours HVP / ours gradient | ours HVP / two gradients | num-dual HVP / ours HVP |");
    println!("|---|---|---:|---:|---:|");
    for r in &rows {
        let grad = r.ours;
        match r.hvp {
            Some(h) => println!(
                "| {} | {} | **{:.2}×** | {:.2}× | {} |",
                r.problem,
                r.size,
                h / grad,
                h / (2.0 * grad),
                r.dual_hvp.map_or(skipped(r.hyper_estimate), |d| format!("{:.1}×", d / h)),
            ),
            None => println!("| {} | {} | n/a ({}) | | |", r.problem, r.size, r.hvp_note),
        }
    }
    println!();
    println!("Hessian-vector products, absolute times:");
    println!();
    println!("| problem | size | ours gradient | ours HVP (`hvp_into`) | num-dual HVP (n `HyperDual64` passes) |");
    println!("|---|---|---:|---:|---:|");
    for r in &rows {
        let grad = r.ours;
        println!(
            "| {} | {} | {} | {} | {} |",
            r.problem,
            r.size,
            fmt_time(grad, TIME),
            time_or(r.hvp, r.hvp_note),
            time_or(r.dual_hvp, &skipped(r.hyper_estimate)),
        );
    }
    println!();
    println!(
        "goals (DESIGN §4): ours / f ≤ 3, ours / hand-written ≤ 1.5, reverse (tape) / ours ≥ 10 for n ≥ 1000, \
         HVP / gradient ≤ 2.5. Total time {:.0} s.",
        started.elapsed().as_secs_f64()
    );
}
