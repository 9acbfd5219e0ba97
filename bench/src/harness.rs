//! Timing harness shared by the `harness = false` benches of this package (`suite`, `gradient`, `mlp`,
//! `hvp`).
//!
//! We use this small in-house harness rather than criterion on purpose: it samples the candidates of one
//! comparison round-robin, so that load from other processes on a small shared machine hits all of them
//! alike and the *ratios* between them stay stable even when absolute times drift.
//!
//! It provides
//!
//! * [`Candidate`] – one thing to time (a closure doing one call), with repetition calibration,
//!   the median time per call and its median absolute deviation;
//! * [`measure`] – warm-up and calibration of every candidate, then samples taken round-robin
//!   over the candidates (so machine noise hits all of them alike), per [`Settings`];
//! * [`quick_mode`] – whether `ADJOINT_BENCH_QUICK` asks for a short run;
//! * [`gradient_candidates`] – the candidates `f`, `grad_into` and `grad` of a function of a slice, which
//!   the `gradient` and `hvp` benches both time first;
//! * [`median_of`], [`fmt_time`] and [`eprint_candidates`] (one line per candidate on stderr, laid out
//!   per [`Details`]) – helpers for the reports.
//!
//! The other candidates, the checks before timing and the tables stay in each bench.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// One thing to time: a closure doing one call, and its calibrated repetitions per sample.
pub struct Candidate<'a> {
    /// What the candidate is, as printed in the reports.
    pub name: &'static str,
    run: Box<dyn FnMut() + 'a>,
    /// Calls per sample, calibrated by [`measure`].
    pub reps: u64,
    /// Seconds per call, one entry per sample.
    pub samples: Vec<f64>,
}

impl<'a> Candidate<'a> {
    /// A candidate called `name` that runs `run` once per call.
    pub fn new(name: &'static str, run: impl FnMut() + 'a) -> Self {
        Candidate { name, run: Box::new(run), reps: 1, samples: Vec::new() }
    }

    /// Wall time of `reps` calls.
    fn time(&mut self, reps: u64) -> Duration {
        let start = Instant::now();
        for _ in 0..reps {
            (self.run)();
        }
        start.elapsed()
    }

    /// Warms up for at least `warm`, then grows the repetitions until a sample lasts `target`.
    fn calibrate(&mut self, warm: Duration, target: Duration) {
        let start = Instant::now();
        while start.elapsed() < warm {
            self.time(1);
        }
        let mut reps = 1;
        loop {
            let t = self.time(reps);
            if t >= target {
                break;
            }
            // Jump close to the target once a sample is long enough to be measured, else double.
            reps = if t >= target / 16 {
                (reps as f64 * target.as_secs_f64() / t.as_secs_f64()).ceil() as u64
            } else {
                reps * 2
            };
        }
        self.reps = reps;
    }

    /// The samples (seconds per call) in increasing order.
    pub fn sorted(&self) -> Vec<f64> {
        let mut s = self.samples.clone();
        s.sort_by(f64::total_cmp);
        s
    }

    /// Median time per call, in seconds.
    pub fn median(&self) -> f64 {
        let s = self.sorted();
        let m = s.len() / 2;
        if s.len() % 2 == 1 {
            s[m]
        } else {
            0.5 * (s[m - 1] + s[m])
        }
    }

    /// Median absolute deviation relative to the median, a robust noise figure.
    pub fn spread(&self) -> f64 {
        let med = self.median();
        let mut d: Vec<f64> = self.samples.iter().map(|s| (s - med).abs()).collect();
        d.sort_by(f64::total_cmp);
        d[d.len() / 2] / med
    }
}

/// Warm-up time and sample length per candidate, and the number of samples.
pub struct Settings {
    /// Warm-up time per candidate before calibration.
    pub warm: Duration,
    /// Length of one sample; the repetitions per sample are chosen to reach it.
    pub target: Duration,
    /// Number of samples per candidate.
    pub samples: usize,
}

impl Settings {
    /// Settings with the warm-up and sample length in milliseconds.
    pub const fn ms(warm: u64, target: u64, samples: usize) -> Settings {
        Settings { warm: Duration::from_millis(warm), target: Duration::from_millis(target), samples }
    }
}

/// Whether `ADJOINT_BENCH_QUICK` is set to something other than empty or `0`.
pub fn quick_mode() -> bool {
    std::env::var("ADJOINT_BENCH_QUICK").is_ok_and(|v| v != "0" && !v.is_empty())
}

/// Times all candidates round-robin; the order rotates per sample so none is always first.
pub fn measure(cands: &mut [Candidate], s: &Settings) {
    for c in cands.iter_mut() {
        c.calibrate(s.warm, s.target);
    }
    for k in 0..s.samples {
        let m = cands.len();
        for j in 0..m {
            let c = &mut cands[(k + j) % m];
            let reps = c.reps;
            let t = c.time(reps);
            c.samples.push(t.as_secs_f64() / reps as f64);
        }
    }
}

/// The candidates `f` (the function alone), `grad_into` (value and gradient into `g`) and `grad` (value
/// and gradient, allocating), in that order, each calling its function on `x`, with inputs and outputs
/// through [`black_box`]. The functions are generic parameters, so a function item passed here is called
/// directly, as if the closure were written out in the bench.
pub fn gradient_candidates<'a>(
    x: &'a [f64],
    g: &'a mut [f64],
    f: impl Fn(&[f64]) -> f64 + 'a,
    grad_into: impl Fn(&[f64], &mut [f64]) -> f64 + 'a,
    grad: impl Fn(&[f64]) -> (f64, Vec<f64>) + 'a,
) -> Vec<Candidate<'a>> {
    vec![
        Candidate::new("f", move || {
            black_box(f(black_box(x)));
        }),
        Candidate::new("grad_into", move || {
            black_box(grad_into(black_box(x), black_box(&mut *g)));
        }),
        Candidate::new("grad", move || {
            black_box(grad(black_box(x)));
        }),
    ]
}

/// Median time per call of the candidate called `name`.
pub fn median_of(cands: &[Candidate], name: &str) -> f64 {
    cands.iter().find(|c| c.name == name).unwrap().median()
}

/// How [`fmt_time`] writes a time.
#[derive(Clone, Copy)]
pub struct TimeFormat {
    /// Times below 1 µs in ns (one decimal) rather than in µs.
    pub ns: bool,
    /// Decimals of times in µs (below 1 ms); times from 1 ms up are in ms with three.
    pub us_decimals: usize,
}

/// `secs` in ns, µs or ms, per `f`.
pub fn fmt_time(secs: f64, f: TimeFormat) -> String {
    if f.ns && secs < 1e-6 {
        format!("{:.1} ns", secs * 1e9)
    } else if secs < 1e-3 {
        format!("{:.*} µs", f.us_decimals, secs * 1e6)
    } else {
        format!("{:.3} ms", secs * 1e3)
    }
}

/// How [`eprint_candidates`] lays out its lines.
#[derive(Clone, Copy)]
pub struct Details {
    /// Width of the name column.
    pub name_width: usize,
    /// Width of the column of median times.
    pub time_width: usize,
    /// Whether to show the fastest sample too.
    pub min: bool,
    /// How times are written.
    pub time: TimeFormat,
}

/// Writes `title:` to stderr, then one line per candidate: its name, median time per call, spread (MAD),
/// the fastest sample if `d.min`, repetitions per sample and number of samples.
pub fn eprint_candidates(title: &str, cands: &[Candidate], d: Details) {
    eprintln!("{title}:");
    for c in cands {
        let min = if d.min { format!("  min {}", fmt_time(c.sorted()[0], d.time)) } else { String::new() };
        eprintln!(
            "  {:<name_width$} {:>time_width$} /call  ±{:.1}% (MAD){min}  {} reps × {} samples",
            c.name,
            fmt_time(c.median(), d.time),
            100.0 * c.spread(),
            c.reps,
            c.samples.len(),
            name_width = d.name_width,
            time_width = d.time_width,
        );
    }
}
