//! A tour of `adjoint`: functions written as ordinary Rust, differentiated at compile time, and checked
//! against finite differences.
//!
//! Run with `cargo run --release --example tour`. Each row shows a function, its value at a random
//! point, the norm of its generated gradient, the worst relative error of that gradient against a
//! fourth-order central difference, and the agreement of forward mode (JVP) with reverse mode (∇f·v).

use adjoint::{check_gradient, differentiable, CheckOptions};
use rand::{rngs::StdRng, Rng, SeedableRng};

/// The extended Rosenbrock function: a narrow curved valley, the classic test of optimisers.
#[differentiable]
fn rosenbrock(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        let a = 1.0 - x[i];
        let b = x[i + 1] - x[i] * x[i];
        s += a * a + 100.0 * b * b;
    }
    s
}

/// Log-sum-exp with the max-subtraction trick: the free energy `−T ln Z` of a Boltzmann distribution
/// over the energies `−x` at `T = 1`.
#[differentiable]
fn log_sum_exp(x: &[f64]) -> f64 {
    let mut m = x[0];
    for &xi in x.iter() {
        m = m.max(xi);
    }
    let mut z = 0.0;
    for &xi in x.iter() {
        z += (xi - m).exp();
    }
    m + z.ln()
}

/// A damped pendulum integrated with explicit Euler steps; the loss is the final angle's distance
/// to a target. The state is overwritten every step, so the reverse sweep must restore it.
#[differentiable]
fn pendulum(p: &[f64]) -> f64 {
    let (damping, stiffness) = (p[0], p[1]);
    let (mut theta, mut omega): (f64, f64) = (1.0, 0.0);
    let dt = 0.01;
    for _ in 0..500 {
        let accel = -stiffness * theta.sin() - damping * omega;
        theta += dt * omega;
        omega += dt * accel;
    }
    (theta - 0.25).powi(2)
}

/// Energy of a chain of unit masses joined by springs (rest length 1): the sum of ½ k (|xᵢ₊₁ − xᵢ| − 1)².
#[differentiable]
fn spring_chain(x: &[f64]) -> f64 {
    let mut e = 0.0;
    for i in (0..x.len() - 2).step_by(2) {
        let dx = x[i + 2] - x[i];
        let dy = x[i + 3] - x[i + 1];
        let stretch = dx.hypot(dy) - 1.0;
        e += 0.5 * stretch * stretch;
    }
    e
}

/// Bisection-free root: Newton's iteration for `y³ = a`, stopping on a data-dependent criterion,
/// summed over the inputs. Reverse mode follows the iterations the forward pass took.
#[differentiable]
fn cube_roots(a: &[f64]) -> f64 {
    let mut total = 0.0;
    for &ai in a.iter() {
        let mut y = 1.0;
        let mut steps = 0;
        while steps < 50 {
            let next = y - (y * y * y - ai) / (3.0 * y * y);
            if (next - y).abs() < 1e-14 {
                break;
            }
            y = next;
            steps += 1;
        }
        total += y;
    }
    total
}

/// One function of the tour, with its generated derivatives and where to sample it.
struct Case {
    name: &'static str,
    f: fn(&[f64]) -> f64,
    grad: fn(&[f64]) -> (f64, Vec<f64>),
    jvp: fn(&[f64], &[f64]) -> (f64, f64),
    n: usize,
    range: (f64, f64),
}

fn main() {
    let mut rng = StdRng::seed_from_u64(7);
    let cases = [
        Case {
            name: "rosenbrock",
            f: rosenbrock,
            grad: |x| rosenbrock_grad(x),
            jvp: |x, v| rosenbrock_jvp(x, v),
            n: 100,
            range: (-2.0, 2.0),
        },
        Case {
            name: "log_sum_exp",
            f: log_sum_exp,
            grad: |x| log_sum_exp_grad(x),
            jvp: |x, v| log_sum_exp_jvp(x, v),
            n: 50,
            range: (-3.0, 3.0),
        },
        Case {
            name: "pendulum",
            f: pendulum,
            grad: |x| pendulum_grad(x),
            jvp: |x, v| pendulum_jvp(x, v),
            n: 2,
            range: (0.1, 3.0),
        },
        Case {
            name: "spring_chain",
            f: spring_chain,
            grad: |x| spring_chain_grad(x),
            jvp: |x, v| spring_chain_jvp(x, v),
            n: 40,
            range: (-5.0, 5.0),
        },
        Case {
            name: "cube_roots",
            f: cube_roots,
            grad: |x| cube_roots_grad(x),
            jvp: |x, v| cube_roots_jvp(x, v),
            n: 20,
            range: (0.5, 8.0),
        },
    ];
    println!("Gradients generated at compile time by #[differentiable], checked against finite differences\n");
    println!("| function     |   n |        f(x) |      |∇f(x)| | max rel. error vs FD | |JVP − ∇f·v| |");
    println!("|--------------|----:|------------:|-------------:|---------------------:|-------------:|");
    let mut failures = 0;
    for Case { name, f, grad, jvp, n, range: (lo, hi) } in cases {
        let x: Vec<f64> = (0..n).map(|_| rng.gen_range(lo..hi)).collect();
        let v: Vec<f64> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let (value, g) = grad(&x);
        let norm = g.iter().map(|gi| gi * gi).sum::<f64>().sqrt();
        let (_, slope) = jvp(&x, &v);
        let dot: f64 = g.iter().zip(&v).map(|(a, b)| a * b).sum();
        let check = check_gradient(f, &x, &g, CheckOptions::default());
        let err = match &check {
            Ok(report) => format!("{:.2e}", report.max_rel_error),
            Err(e) => {
                failures += 1;
                format!("FAIL: {e}")
            }
        };
        println!("| {name:<12} | {n:>3} | {value:>11.5} | {norm:>12.5} | {err:>20} | {:>12.2e} |", (slope - dot).abs());
    }
    if failures > 0 {
        eprintln!("\n{failures} gradient(s) disagree with finite differences");
        std::process::exit(1);
    }
    println!("\nAll gradients agree with finite differences.");
}
