//! `f32` functions: scalars, slices, arrays, vector outputs, loops and calls. Gradients are checked
//! against closed forms evaluated in `f64`, against `f64` twins of the same function, and against
//! finite differences with a step and tolerance suited to single precision.

#[macro_use]
mod common;

use adjoint::{differentiable, CheckOptions};
use common::*;

/// Finite differences of an f32 function: a larger step (rounding error ~ ε₃₂·|f|/h) and a looser
/// tolerance; forward and reverse mode agree to a few f32 ulps.
fn tol32() -> Tol {
    Tol { fd: CheckOptions { step: 1e-2, rtol: 2e-3, atol: 1e-4 }, exact: 1e-5 }
}

/// The [`Scalar`] view of `fn f(x: f32) -> f32`.
macro_rules! scalar_f32_fns {
    ($f:ident, $grad:ident, $jvp:ident, $into:ident, $vjp:ident) => {
        Scalar {
            f: &|x: &[f64]| $f(x[0] as f32) as f64,
            grad: &|x: &[f64]| {
                let (v, g) = $grad(x[0] as f32);
                (v as f64, vec![g as f64])
            },
            jvp: &|x: &[f64], v: &[f64]| {
                let (a, b) = $jvp(x[0] as f32, v[0] as f32);
                (a as f64, b as f64)
            },
            grad_into: &|x: &[f64], g: &mut [f64]| {
                let mut b = f32::NAN;
                let v = $into(x[0] as f32, &mut b);
                g[0] = b as f64;
                v as f64
            },
            vjp: &|x: &[f64], z: f64, g: &mut [f64]| {
                let mut b = g[0] as f32;
                let v = $vjp(x[0] as f32, z as f32, &mut b);
                g[0] = b as f64;
                v as f64
            },
        }
    };
}

/// The [`Scalar`] view of `fn f(x: &[f32]) -> f32`.
macro_rules! slice_f32_fns {
    ($f:ident, $grad:ident, $jvp:ident, $into:ident, $vjp:ident) => {
        Scalar {
            f: &|x: &[f64]| $f(&to32(x)) as f64,
            grad: &|x: &[f64]| {
                let (v, g) = $grad(&to32(x));
                (v as f64, to64(&g))
            },
            jvp: &|x: &[f64], v: &[f64]| {
                let (a, b) = $jvp(&to32(x), &to32(v));
                (a as f64, b as f64)
            },
            grad_into: &|x: &[f64], g: &mut [f64]| {
                let mut b = vec![f32::NAN; x.len()];
                let v = $into(&to32(x), &mut b);
                g.copy_from_slice(&to64(&b));
                v as f64
            },
            vjp: &|x: &[f64], z: f64, g: &mut [f64]| {
                let mut b = to32(g);
                let v = $vjp(&to32(x), z as f32, &mut b);
                g.copy_from_slice(&to64(&b));
                v as f64
            },
        }
    };
}

fn to32(x: &[f64]) -> Vec<f32> {
    x.iter().map(|&v| v as f32).collect()
}

fn to64(x: &[f32]) -> Vec<f64> {
    x.iter().map(|&v| v as f64).collect()
}

/// Points whose coordinates are exactly representable in f32 (so f32 and f64 twins see the same input).
fn points32(seed: u64, dim: usize, lo: f64, hi: f64) -> Vec<Vec<f64>> {
    points(seed, dim, lo, hi).into_iter().map(|p| p.into_iter().map(|v| v as f32 as f64).collect()).collect()
}

#[track_caller]
fn assert_close32(a: &[f64], b: &[f64], rtol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(close(*x, *y, rtol, 1e-6), "{what}[{i}]: {x:e} vs {y:e}");
    }
}

// ---------------------------------------------------------------------------------------------------
// Scalars
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn logistic32(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp()) + 0.5f32 * x.sin()
}

#[test]
fn f32_scalar_against_closed_form() {
    let pts = points32(500, 1, -3.0, 3.0);
    let grads = check_all_with(
        &scalar_f32_fns!(logistic32, logistic32_grad, logistic32_jvp, logistic32_grad_into, logistic32_vjp),
        &pts,
        tol32(),
    );
    for (p, g) in pts.iter().zip(&grads) {
        let s = 1.0 / (1.0 + (-p[0]).exp());
        assert_close32(g, &[s * (1.0 - s) + 0.5 * p[0].cos()], 1e-5, &format!("gradient at {p:?}"));
    }
    // The generated forms are typed in f32 throughout.
    let (v, g): (f32, f32) = logistic32_grad(0.25f32);
    assert_eq!(v, logistic32(0.25));
    assert!(g > 0.0);
}

#[differentiable]
fn methods32(x: f32, y: f32) -> f32 {
    let a = x.exp().ln_1p() + y.sqrt() * x.powi(3) - x.powf(y) + y.atan2(x);
    let b = x.hypot(y).tanh() * (std::f32::consts::PI * x).cos() + y.cbrt() + x.mul_add(y, 1.0);
    let c = x.max(y) + (2.0 * y).min(x) + (x - y).abs() + (x * y).ln() + y.recip();
    a + b + c
}

#[test]
fn f32_methods_against_closed_form() {
    // x, y > 0 with no ties in max/min/abs.
    let pts = vec![vec![0.5, 1.25], vec![1.5, 0.5], vec![0.75, 0.25], vec![2.0, 1.5], vec![1.25, 2.5]];
    let grads = check_all_with(
        &Scalar {
            f: &|p| methods32(p[0] as f32, p[1] as f32) as f64,
            grad: &|p| {
                let (v, (gx, gy)) = methods32_grad(p[0] as f32, p[1] as f32);
                (v as f64, vec![gx as f64, gy as f64])
            },
            jvp: &|p, d| {
                let (v, s) = methods32_jvp(p[0] as f32, d[0] as f32, p[1] as f32, d[1] as f32);
                (v as f64, s as f64)
            },
            grad_into: &|p, g| {
                let (mut gx, mut gy) = (f32::NAN, f32::NAN);
                let v = methods32_grad_into(p[0] as f32, p[1] as f32, &mut gx, &mut gy);
                g.copy_from_slice(&[gx as f64, gy as f64]);
                v as f64
            },
            vjp: &|p, z, g| {
                let (mut gx, mut gy) = (g[0] as f32, g[1] as f32);
                let v = methods32_vjp(p[0] as f32, p[1] as f32, z as f32, &mut gx, &mut gy);
                g.copy_from_slice(&[gx as f64, gy as f64]);
                v as f64
            },
        },
        &pts,
        tol32(),
    );
    for (p, g) in pts.iter().zip(&grads) {
        let (x, y) = (p[0], p[1]);
        let pi = std::f64::consts::PI;
        let h = x.hypot(y);
        let th = h.tanh();
        let dth = 1.0 - th * th;
        let c = (pi * x).cos();
        let sx = 1.0 / (1.0 + (-x).exp());
        let r2 = x * x + y * y;
        let (mx, my) = if x > y { (1.0, 0.0) } else { (0.0, 1.0) };
        let (nx, ny) = if 2.0 * y < x { (0.0, 2.0) } else { (1.0, 0.0) };
        let sg = (x - y).signum();
        let gx = sx + y.sqrt() * 3.0 * x * x - y * x.powf(y - 1.0) - y / r2 + dth * x / h * c
            - th * pi * (pi * x).sin()
            + y
            + mx
            + nx
            + sg
            + 1.0 / x;
        let gy = 0.5 / y.sqrt() * x.powi(3) - x.powf(y) * x.ln()
            + x / r2
            + dth * y / h * c
            + 1.0 / (3.0 * y.cbrt() * y.cbrt())
            + x
            + my
            + ny
            - sg
            + 1.0 / y
            - 1.0 / (y * y);
        assert_close32(g, &[gx, gy], 2e-5, &format!("gradient at {p:?}"));
    }
}

// ---------------------------------------------------------------------------------------------------
// Slices, arrays and loops
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn rosenbrock32(x: &[f32]) -> f32 {
    let mut s = 0.0f32;
    for i in 0..x.len() - 1 {
        let a = 1.0 - x[i];
        let b = x[i + 1] - x[i] * x[i];
        s += a * a + 100.0 * b * b;
    }
    s
}

#[differentiable]
fn rosenbrock64(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        let a = 1.0 - x[i];
        let b = x[i + 1] - x[i] * x[i];
        s += a * a + 100.0 * b * b;
    }
    s
}

#[test]
fn f32_slice_matches_its_f64_twin() {
    let pts = points32(501, 5, -1.5, 1.5);
    let grads = check_all_with(
        &slice_f32_fns!(rosenbrock32, rosenbrock32_grad, rosenbrock32_jvp, rosenbrock32_grad_into, rosenbrock32_vjp),
        &pts,
        tol32(),
    );
    for (p, g) in pts.iter().zip(&grads) {
        let (v64, g64) = rosenbrock64_grad(p);
        assert_eq!(v64, rosenbrock64(p));
        assert!(close(rosenbrock32(&to32(p)) as f64, v64, 1e-5, 1e-5));
        let scale = g64.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for i in 0..p.len() {
            assert!(
                (g[i] - g64[i]).abs() <= 1e-5 * scale,
                "f32 vs f64 gradient [{i}] at {p:?}: {} vs {}",
                g[i],
                g64[i]
            );
        }
    }
}

#[differentiable]
fn array32(p: [f32; 3]) -> f32 {
    let mut q = [0.0f32; 3];
    q[0] = p[0] * p[1];
    q[1] = q[0].tanh() + p[2];
    q[2] = q[1] * q[0];
    q[2] += p[0] / (1.0 + p[1] * p[1]);
    q[1] *= 2.0;
    q[2] - q[1]
}

#[test]
fn f32_array_parameter_and_local_array() {
    let pts = points32(502, 3, -1.5, 1.5);
    let a3 = |p: &[f64]| [p[0] as f32, p[1] as f32, p[2] as f32];
    check_all_with(
        &Scalar {
            f: &|p| array32(a3(p)) as f64,
            grad: &|p| {
                let (v, g) = array32_grad(a3(p));
                (v as f64, to64(&g))
            },
            jvp: &|p, d| {
                let (v, s) = array32_jvp(a3(p), a3(d));
                (v as f64, s as f64)
            },
            grad_into: &|p, g| {
                let mut b = [f32::NAN; 3];
                let v = array32_grad_into(a3(p), &mut b);
                g.copy_from_slice(&to64(&b));
                v as f64
            },
            vjp: &|p, z, g| {
                let mut b = a3(g);
                let v = array32_vjp(a3(p), z as f32, &mut b);
                g.copy_from_slice(&to64(&b));
                v as f64
            },
        },
        &pts,
        tol32(),
    );
}

#[differentiable]
fn damped32(x: f32, steps: usize) -> f32 {
    let mut y = x;
    let mut k = 0;
    while k < steps {
        y = y - 0.1 * y.sin() + (k as f32) * 0.01;
        k += 1;
    }
    let mut t = 0.0f32;
    while t < y.abs() + 1.0 {
        t += 0.5;
    }
    y * y + t
}

/// The value of `t` at the end of `damped32`, in plain Rust.
fn damped32_t(x: f64, steps: usize) -> f32 {
    let mut y = x as f32;
    for k in 0..steps {
        y = y - 0.1 * y.sin() + (k as f32) * 0.01;
    }
    let mut t = 0.0f32;
    while t < y.abs() + 1.0 {
        t += 0.5;
    }
    t
}

#[test]
fn f32_while_loops_and_integer_casts() {
    for steps in [0usize, 3, 25] {
        // t jumps when |y| + 1 crosses a multiple of 0.5: keep only points whose stencil sees no jump.
        let pts: Vec<Vec<f64>> = points_in(503, 12, &[(-2.0, 2.0)])
            .into_iter()
            .filter(|p| {
                let h = 3e-2 * p[0].abs().max(1.0);
                damped32_t(p[0] - h, steps) == damped32_t(p[0] + h, steps)
            })
            .collect();
        assert!(pts.len() >= 4, "too few points away from the jumps");
        check_all_with(
            &Scalar {
                f: &|p| damped32(p[0] as f32, steps) as f64,
                grad: &|p| {
                    let (v, g) = damped32_grad(p[0] as f32, steps);
                    (v as f64, vec![g as f64])
                },
                jvp: &|p, d| {
                    let (v, s) = damped32_jvp(p[0] as f32, d[0] as f32, steps);
                    (v as f64, s as f64)
                },
                grad_into: &|p, g| {
                    let mut b = f32::NAN;
                    let v = damped32_grad_into(p[0] as f32, steps, &mut b);
                    g[0] = b as f64;
                    v as f64
                },
                vjp: &|p, z, g| {
                    let mut b = g[0] as f32;
                    let v = damped32_vjp(p[0] as f32, steps, z as f32, &mut b);
                    g[0] = b as f64;
                    v as f64
                },
            },
            &pts,
            tol32(),
        );
    }
}

#[differentiable]
fn call32(x: &[f32]) -> f32 {
    let mut s = 0.0f32;
    for &xi in x.iter() {
        s += logistic32(xi * 2.0) * logistic32(0.5);
    }
    s
}

#[test]
fn f32_calls_inside_a_loop() {
    let pts = points32(504, 4, -2.0, 2.0);
    let grads =
        check_all_with(&slice_f32_fns!(call32, call32_grad, call32_jvp, call32_grad_into, call32_vjp), &pts, tol32());
    let c = logistic32(0.5) as f64;
    for (p, g) in pts.iter().zip(&grads) {
        let expected: Vec<f64> = p
            .iter()
            .map(|&x| {
                let s = 1.0 / (1.0 + (-2.0 * x).exp());
                2.0 * c * (s * (1.0 - s) + 0.5 * (2.0 * x).cos())
            })
            .collect();
        assert_close32(g, &expected, 1e-5, &format!("gradient at {p:?}"));
    }
}

#[differentiable]
fn long32(x: &[f32]) -> f32 {
    let mut p = 1.0f32;
    for k in 0..100_000 {
        p *= 1.0 + 1e-5 * x[k % 2];
    }
    p
}

#[test]
fn f32_reverse_through_100k_iterations() {
    // p = (1 + 10⁻⁵x₀)^50000 (1 + 10⁻⁵x₁)^50000; f32 rounding over 10⁵ products limits agreement.
    let x = [0.5f32, -1.0];
    let (p, g) = long32_grad(&x);
    let p64: f64 = (1.0 + 1e-5 * 0.5f64).powi(50_000) * (1.0 - 1e-5f64).powi(50_000);
    assert!(close(p as f64, p64, 1e-2, 0.0), "value {p} vs {p64}");
    for i in 0..2 {
        let expected = p as f64 * 0.5 / (1.0 + 1e-5 * x[i] as f64);
        assert!(close(g[i] as f64, expected, 1e-3, 0.0), "∂/∂x[{i}]: {} vs {expected}", g[i]);
    }
    assert_eq!(p, long32(&x));
    // Forward mode rounds differently over the 10⁵ steps (1 + 5·10⁻⁶ is only known to ~2% in f32).
    let (_, s) = long32_jvp(&x, &[1.0, 1.0]);
    assert!(close(s as f64, (g[0] + g[1]) as f64, 2e-3, 0.0), "JVP {s} vs {}", g[0] + g[1]);
}

#[differentiable]
fn map32(x: &[f32], s: f32) -> Vec<f32> {
    let mut out = vec![0.0f32; x.len()];
    for i in 0..x.len() {
        out[i] = (x[i] * s).sin() + x[(i + 1) % x.len()];
    }
    out
}

#[test]
fn f32_vector_output() {
    let pts = points32(505, 4, -1.5, 1.5);
    check_vector_with(
        &Vector {
            f: &|p| to64(&map32(&to32(&p[..3]), p[3] as f32)),
            jvp: &|p, d| {
                let (v, t) = map32_jvp(&to32(&p[..3]), &to32(&d[..3]), p[3] as f32, d[3] as f32);
                (to64(&v), to64(&t))
            },
            vjp: &|p, w, g| {
                let mut gx = to32(&g[..3]);
                let mut gs = g[3] as f32;
                let v = map32_vjp(&to32(&p[..3]), p[3] as f32, to32(w), &mut gx, &mut gs);
                g[..3].copy_from_slice(&to64(&gx));
                g[3] = gs as f64;
                to64(&v)
            },
        },
        &pts,
        tol32(),
    );
}

#[differentiable]
fn through_f32(x: f64) -> f64 {
    let y = x as f32;
    let z = (y.sin() * 2.0) as f64;
    z * x
}

#[differentiable]
fn mixed_precision(x: f64, y: f32) -> f64 {
    x * (y as f64) + (y * y) as f64
}

#[test]
fn casts_between_f64_and_f32_carry_derivatives() {
    for x in [0.7f64, -1.3, 2.2] {
        let (v, g) = through_f32_grad(x);
        assert_eq!(v, through_f32(x));
        let expected = 2.0 * (x as f32).sin() as f64 + x * 2.0 * (x as f32).cos() as f64;
        assert_close(g, expected, 1e-6, "d/dx through an f32 intermediate");
        assert_close(through_f32_jvp(x, 1.0).1, expected, 1e-6, "JVP through an f32 intermediate");
    }
    let (v, (gx, gy)) = mixed_precision_grad(0.5, 2.0f32);
    assert_eq!(v, mixed_precision(0.5, 2.0));
    let gy: f32 = gy;
    assert_close(gx, 2.0, 1e-12, "∂/∂x (f64 parameter)");
    assert_close(gy as f64, 0.5 + 4.0, 1e-6, "∂/∂y (f32 parameter)");
    let (_, s) = mixed_precision_jvp(0.5, 1.0, 2.0f32, 1.0f32);
    assert_close(s, 6.5, 1e-6, "JVP with mixed precisions");
}
