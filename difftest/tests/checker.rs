//! The checks themselves: they pass a correct set of derivatives, fail each kind of wrong one, and do not
//! mistake rounding or oscillation for a wrong derivative.

use adjoint_difftest::checker_rt::{compare_fd, no_hvp, Checker, Fd, Forms, FD_STEPS};

/// Which generated form to get wrong, and how.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Bug {
    None,
    /// ∂f/∂x₁ off by 1%.
    Gradient,
    /// The JVP ignores v₁.
    Jvp,
    /// The VJP ignores its seed w.
    VjpSeed,
    /// f_grad_into adds to its buffer instead of overwriting it.
    GradIntoAccumulates,
    /// H·v misses the mixed term ∂²f/∂x₀∂x₁ in one row (an asymmetric H).
    HvpAsymmetric,
    /// The value returned by f_hvp is off.
    HvpValue,
}

/// f(x) = x₀²·x₁ + sin x₁, with its derivatives written by hand.
fn f(x: &[f64]) -> f64 {
    x[0] * x[0] * x[1] + x[1].sin()
}

fn grad(x: &[f64], bug: Bug) -> Vec<f64> {
    let g1 = x[0] * x[0] + x[1].cos();
    vec![2.0 * x[0] * x[1], if bug == Bug::Gradient { 1.01 * g1 } else { g1 }]
}

fn hv(x: &[f64], v: &[f64], bug: Bug) -> Vec<f64> {
    let mixed = if bug == Bug::HvpAsymmetric { 0.0 } else { 2.0 * x[0] * v[1] };
    vec![2.0 * x[1] * v[0] + mixed, 2.0 * x[0] * v[0] - x[1].sin() * v[1]]
}

/// Runs the checks on the forms of `f` with `bug`; returns the checker.
fn check(bug: Bug) -> Checker {
    let f_grad = |x: &[f64]| (f(x), grad(x, bug));
    let f_jvp = |x: &[f64], v: &[f64]| {
        let g = grad(x, Bug::None);
        let v1 = if bug == Bug::Jvp { 0.0 } else { v[1] };
        (f(x), g[0] * v[0] + g[1] * v1)
    };
    let f_vjp = |x: &[f64], w: f64, xb: &mut [f64]| {
        let w = if bug == Bug::VjpSeed { 1.0 } else { w };
        for (b, g) in xb.iter_mut().zip(grad(x, Bug::None)) {
            *b += w * g;
        }
        f(x)
    };
    let f_grad_into = |x: &[f64], out: &mut [f64]| {
        for (o, g) in out.iter_mut().zip(grad(x, Bug::None)) {
            *o = if bug == Bug::GradIntoAccumulates { *o + g } else { g };
        }
        f(x)
    };
    let f_hvp = |x: &[f64], v: &[f64]| {
        let y = if bug == Bug::HvpValue { f(x) + 1e-6 } else { f(x) };
        (y, grad(x, Bug::None), hv(x, v, bug))
    };
    let mut c = Checker::new();
    let forms = Forms { f: &f, grad: &f_grad, jvp: &f_jvp, vjp: &f_vjp, grad_into: &f_grad_into, hvp: &f_hvp };
    c.check("f", 2, &forms);
    c
}

#[test]
fn correct_derivatives_pass() {
    let c = check(Bug::None);
    assert!(c.failures.is_empty(), "{:#?}", c.failures);
    assert_eq!(c.points, 4);
    // 2 gradient and 2 H·v comparisons per point.
    assert_eq!(c.fd_checks, 16);
    assert_eq!(c.inconclusive_fd, 0);
}

#[test]
fn each_wrong_form_fails() {
    for (bug, expected) in [
        (Bug::Gradient, "gradient[1]"),
        (Bug::Jvp, "JVP along"),
        (Bug::VjpSeed, "f_vjp added"),
        (Bug::GradIntoAccumulates, "f_grad_into gives"),
        (Bug::HvpAsymmetric, "(H·v)[0]"),
        (Bug::HvpValue, "f_hvp returns the value"),
    ] {
        let c = check(bug);
        assert_eq!(c.failures.len(), 1, "{bug:?}: {:#?}", c.failures);
        assert!(c.failures[0].contains(expected), "{bug:?}: {}", c.failures[0]);
    }
}

type Scalar<'a> = dyn Fn(&[f64]) -> f64 + 'a;
type Vector<'a> = dyn Fn(&[f64]) -> Vec<f64> + 'a;
type Directional<'a> = dyn Fn(&[f64], &[f64]) -> f64 + 'a;
type Hv<'a> = dyn Fn(&[f64], &[f64]) -> Vec<f64> + 'a;

/// The forms of `f` built from its gradient `g`: f_vjp and f_grad_into from `g`, f_jvp from `g` unless
/// `jvp` is given, f_hvp from `hv` if given (else none); checked at the checker's points of dimension `dim`.
fn check_built(f: &Scalar, g: &Vector, jvp: Option<&Directional<'_>>, hv: Option<&Hv<'_>>, dim: usize) -> Checker {
    let f_grad = |x: &[f64]| (f(x), g(x));
    let f_jvp = |x: &[f64], v: &[f64]| match jvp {
        Some(j) => (f(x), j(x, v)),
        None => (f(x), g(x).iter().zip(v).map(|(a, b)| a * b).sum()),
    };
    let f_vjp = |x: &[f64], w: f64, xb: &mut [f64]| {
        for (b, gi) in xb.iter_mut().zip(g(x)) {
            *b += w * gi;
        }
        f(x)
    };
    let f_grad_into = |x: &[f64], out: &mut [f64]| {
        out.copy_from_slice(&g(x));
        f(x)
    };
    let f_hvp = |x: &[f64], v: &[f64]| match hv {
        Some(h) => (f(x), g(x), h(x, v)),
        None => no_hvp(x, v),
    };
    let mut c = Checker::new();
    c.check("f", dim, &Forms { f, grad: &f_grad, jvp: &f_jvp, vjp: &f_vjp, grad_into: &f_grad_into, hvp: &f_hvp });
    c
}

/// [`check_built`] without second order.
fn check_first_order(f: &Scalar, g: &Vector, dim: usize) -> Checker {
    check_built(f, g, None, None, dim)
}

#[test]
fn a_wrong_gradient_of_a_nested_function_fails() {
    // ∂/∂x₀ of tanh(x₀·x₁)² with the chain rule's inner factor x₁ forgotten.
    let f = |x: &[f64]| (x[0] * x[1]).tanh().powi(2);
    let g = |x: &[f64]| {
        let t = (x[0] * x[1]).tanh();
        vec![2.0 * t * (1.0 - t * t), 2.0 * t * (1.0 - t * t) * x[0]]
    };
    let c = check_first_order(&f, &g, 2);
    assert_eq!(c.failures.len(), 1, "{:#?}", c.failures);
    assert!(c.failures[0].contains("gradient[0]"), "{}", c.failures[0]);
}

/// Forms of f(x) = x₀·x₁ whose ∂f/∂x₀ carries a relative error of `noise(x)` in f_grad and `noise(x) +
/// offset` in f_jvp (f_vjp and f_grad_into follow f_grad).
fn check_with_noise(noise: &dyn Fn(&[f64]) -> f64, offset: f64) -> Checker {
    let f = |x: &[f64]| x[0] * x[1];
    let g = |x: &[f64]| vec![x[1] * (1.0 + noise(x)), x[0]];
    let jvp = |x: &[f64], v: &[f64]| x[1] * (1.0 + noise(x) + offset) * v[0] + x[0] * v[1];
    check_built(&f, &g, Some(&jvp), None, 2)
}

#[test]
fn rounding_amplified_by_the_computation_is_not_a_mismatch() {
    // `v += v − x₀` thirty times keeps v = x₀ in exact arithmetic but doubles its rounding error at each
    // step: the derivatives carry ~1e-7 relative noise that changes when x moves by an ulp. Modelled here
    // by a term that does exactly that; forward and reverse mode see different noise.
    let rounding = |x: &[f64]| 1e-7 * (1e17 * x[0]).sin();
    let c = check_with_noise(&rounding, 1e-7);
    assert!(c.failures.is_empty(), "{:#?}", c.failures);
    // The same 1e-7 disagreement without noise in the gradient is a mismatch.
    let c = check_with_noise(&|_| 0.0, 1e-7);
    assert_eq!(c.failures.len(), 1, "{:#?}", c.failures);
    assert!(c.failures[0].contains("JVP along"), "{}", c.failures[0]);
}

#[test]
fn oscillation_faster_than_the_step_is_inconclusive_not_a_failure() {
    // sin of an argument ~10⁶: the phase moves by many radians across every finite-difference step.
    let f = |x: &[f64]| (1e6 * x[0]).sin() + x[1];
    let g = |x: &[f64]| vec![1e6 * (1e6 * x[0]).cos(), 1.0];
    let c = check_first_order(&f, &g, 2);
    assert!(c.failures.is_empty(), "{:#?}", c.failures);
    assert!(c.inconclusive_fd >= 1, "{} inconclusive", c.inconclusive_fd);
}

#[test]
fn a_derivative_finer_than_rounding_is_ill_conditioned_not_a_failure() {
    // A wiggle of amplitude 1e-10 and frequency 1e17: its exact derivative (1e7·cos) dominates the
    // gradient, finite differences at any step see only the slope of x₁, and the gradient changes
    // completely when x moves by an ulp.
    let f = |x: &[f64]| 1e-10 * (1e17 * x[0]).sin() + x[1];
    let g = |x: &[f64]| vec![1e7 * (1e17 * x[0]).cos(), 1.0];
    let c = check_first_order(&f, &g, 2);
    assert!(c.failures.is_empty(), "{:#?}", c.failures);
    assert_eq!(c.ill_conditioned, 4);
    assert_eq!(c.fd_checks, 0);
}

#[test]
fn a_hessian_finer_than_rounding_is_ill_conditioned_not_a_failure() {
    // f = x₀x₁ + 1e-24·sin(1e15·x₀): a ripple of amplitude 1e-9 in ∂f/∂x₀, so the gradient is stable under
    // a 4-ulp move of x, but H·v (≈ 1e6·sin) is not, and finite differences of the gradient cannot see it.
    let f = |x: &[f64]| x[0] * x[1] + 1e-24 * (1e15 * x[0]).sin();
    let g = |x: &[f64]| vec![x[1] + 1e-9 * (1e15 * x[0]).cos(), x[0]];
    let hv = |x: &[f64], v: &[f64]| vec![-1e6 * (1e15 * x[0]).sin() * v[0] + v[1], v[0]];
    let c = check_built(&f, &g, None, Some(&hv), 2);
    assert!(c.failures.is_empty(), "{:#?}", c.failures);
    assert_eq!(c.ill_conditioned, 4);
    // The gradient was checked at every point (2 coordinates each), H·v at none.
    assert_eq!(c.fd_checks, 8);
}

/// Central differences and midpoint deviations of φ(t) at t = h/2^k, h = 1e-3.
fn differences(phi: impl Fn(f64) -> f64) -> ([f64; FD_STEPS], [f64; FD_STEPS]) {
    let (mut d, mut mid) = ([0.0; FD_STEPS], [0.0; FD_STEPS]);
    for k in 0..FD_STEPS {
        let t = 1e-3 / (1u32 << k) as f64;
        d[k] = (phi(t) - phi(-t)) / (2.0 * t);
        mid[k] = ((phi(t) + phi(-t)) / 2.0 - phi(0.0)).abs();
    }
    (d, mid)
}

#[test]
fn finite_differences_agree_disagree_or_are_inconclusive() {
    // Smooth: φ(t) = sin(0.3 + t), φ'(0) = cos 0.3.
    let (d, mid) = differences(|t| (0.3 + t).sin());
    assert_eq!(compare_fd(0.3f64.cos(), d, mid, 1e-7), Fd::Agrees);
    assert!(matches!(compare_fd(1.01 * 0.3f64.cos(), d, mid, 1e-7), Fd::Disagrees(_)));
    // Oscillating faster than the steps: the extrapolations disagree.
    let (d, mid) = differences(|t| (1e6 * (0.3 + t)).sin());
    assert_eq!(compare_fd(1e6 * (1e6 * 0.3f64).cos(), d, mid, 1e-7), Fd::Inconclusive);
    // The point itself on another piece than its neighbours (a branch decided by rounding, taken at t = 0
    // only): the differences are those of the neighbours' piece, consistent, and say nothing of the
    // derivative at 0, which is that of the other piece.
    let (d, mid) = differences(|t| if t == 0.0 { (0.3f64).sinh() } else { 0.3 + t });
    assert_eq!(compare_fd(0.3f64.cosh(), d, mid, 1e-7), Fd::Inconclusive);
    // A kink at 0 (|t|): the midpoints shrink like t, not t², and the point is not checked either.
    let (d, mid) = differences(|t: f64| t.abs());
    assert_eq!(compare_fd(1.0, d, mid, 1e-7), Fd::Inconclusive);
}
