//! Calls between differentiable functions (in loops, with constant arguments, returning tuples and
//! vectors), `wrt(..)` with data parameters, and user-supplied custom derivatives.

#[macro_use]
mod common;

use adjoint::{differentiable, no_grad};
use common::*;

// ---------------------------------------------------------------------------------------------------
// Callees
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn bump(a: f64, b: f64) -> f64 {
    a * b.sin() + a * a
}

#[differentiable]
fn dot(x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * y[i];
    }
    s
}

#[differentiable]
fn polar(x: f64, y: f64) -> (f64, f64) {
    (x.hypot(y), y.atan2(x))
}

#[differentiable]
fn term(x: f64, i: usize) -> f64 {
    (x * (i + 1) as f64).sin() / (i + 1) as f64
}

#[differentiable]
fn level1(x: f64) -> f64 {
    x.exp() - x
}

#[differentiable]
fn level2(x: f64, y: f64) -> f64 {
    level1(x * y) + level1(y)
}

#[differentiable]
fn level3(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        s += level2(x[i], x[i + 1]) * 0.5;
    }
    s + level1(0.25)
}

// ---------------------------------------------------------------------------------------------------
// Callers
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn constant_arguments(x: f64, y: f64) -> f64 {
    bump(x, 2.0) + bump(3.0, y) + bump(x * y, x.cos()) + bump(1.5, 0.5) + bump(no_grad(x), y)
}

#[test]
fn callee_with_literal_and_stopped_arguments() {
    // ∂bump/∂a = sin b + 2a, ∂bump/∂b = a cos b; no_grad(x) contributes nothing through a.
    let db = |a: f64, b: f64| (b.sin() + 2.0 * a, a * b.cos());
    for p in points(300, 2, -1.5, 1.5) {
        let (x, y) = (p[0], p[1]);
        let (v, (gx, gy)) = constant_arguments_grad(x, y);
        assert_eq!(v, constant_arguments(x, y));
        let (a1, _) = db(x, 2.0);
        let (_, b2) = db(3.0, y);
        let (a3, b3) = db(x * y, x.cos());
        let (_, b5) = db(x, y);
        let ex = a1 + a3 * y - b3 * x.sin();
        let ey = b2 + a3 * x + b5;
        assert_all_close(&[gx, gy], &[ex, ey], 1e-12, &format!("gradient at {p:?}"));
        let (_, s) = constant_arguments_jvp(x, 0.3, y, -0.8);
        assert_dot(&[ex, ey], &[0.3, -0.8], s, "JVP");
    }
}

#[test]
fn callee_with_literal_arguments_matches_finite_differences() {
    // Without no_grad, the FD check applies to the rest of the function.
    let pts = points(301, 2, -1.5, 1.5);
    check_all(&scalar2_fns!(level2, level2_grad, level2_jvp, level2_grad_into, level2_vjp), &pts);
}

#[differentiable]
fn aliasing_calls(x: &[f64]) -> f64 {
    let mut w = vec![0.0; x.len()];
    for i in 0..x.len() {
        w[i] = x[i].cos();
    }
    // The same variable in both parameters: two cotangent slots for one buffer.
    dot(x, x) + 2.0 * dot(x, &w) + dot(&w, &w)
}

#[test]
fn slice_callee_with_copied_and_local_arguments() {
    // f = Σ (xᵢ + cos xᵢ)²
    let pts = points(302, 4, -2.0, 2.0);
    check_all_closed(
        &slice_fns!(
            aliasing_calls,
            aliasing_calls_grad,
            aliasing_calls_jvp,
            aliasing_calls_grad_into,
            aliasing_calls_vjp
        ),
        &pts,
        |x| x.iter().map(|xi| 2.0 * (xi + xi.cos()) * (1.0 - xi.sin())).collect(),
    );
}

#[differentiable]
fn via_polar(x: f64, y: f64) -> f64 {
    let (r, theta) = polar(x, y);
    let p = polar(y, x);
    r * theta.cos() + p.0 * p.1
}

#[test]
fn tuple_returning_callee() {
    // r cos θ = x; the second term is |(x, y)|·atan2(x, y).
    let pts = points_in(303, POINTS, &[(0.3, 2.0), (0.3, 2.0)]);
    check_all_closed(
        &scalar2_fns!(via_polar, via_polar_grad, via_polar_jvp, via_polar_grad_into, via_polar_vjp),
        &pts,
        |p| {
            let (x, y) = (p[0], p[1]);
            let r = x.hypot(y);
            let a = x.atan2(y);
            vec![1.0 + x / r * a + r * y / (r * r), y / r * a - r * x / (r * r)]
        },
    );
}

#[differentiable]
fn series(x: f64, n: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        s += term(x, i);
    }
    s
}

#[test]
fn callee_inside_a_loop_with_integer_argument() {
    // Σ sin((i+1)x)/(i+1) has derivative Σ cos((i+1)x).
    for n in [1usize, 4, 9] {
        for p in points(304, 1, -3.0, 3.0) {
            let x = p[0];
            let (v, g) = series_grad(x, n);
            assert_eq!(v, series(x, n));
            let expected: f64 = (1..=n).map(|k| (k as f64 * x).cos()).sum();
            assert_close(g, expected, 1e-12, &format!("n = {n}, x = {x}"));
            assert_close(series_jvp(x, 1.0, n).1, expected, 1e-12, "JVP");
        }
    }
}

#[differentiable]
fn step(state: f64, input: f64) -> f64 {
    (state * 0.8 + input).tanh()
}

#[differentiable]
fn rnn(x: &[f64]) -> f64 {
    // The callee's result overwrites the loop-carried state every iteration.
    let mut h = 0.0;
    for i in 0..x.len() {
        h = step(h, x[i]);
        h = step(h, 0.1);
    }
    h * h
}

#[test]
fn callee_in_a_loop_overwriting_the_state() {
    let pts = points(305, 6, -2.0, 2.0);
    check_all(&slice_fns!(rnn, rnn_grad, rnn_jvp, rnn_grad_into, rnn_vjp), &pts);
}

#[test]
fn three_levels_of_calls() {
    let pts = points(306, 4, -1.0, 1.0);
    check_all_closed(&slice_fns!(level3, level3_grad, level3_jvp, level3_grad_into, level3_vjp), &pts, |x| {
        let d1 = |t: f64| t.exp() - 1.0;
        let mut g = vec![0.0; x.len()];
        for i in 0..x.len() - 1 {
            let (a, b) = (x[i], x[i + 1]);
            g[i] += 0.5 * d1(a * b) * b;
            g[i + 1] += 0.5 * (d1(a * b) * a + d1(b));
        }
        g
    });
}

#[differentiable]
fn scaled(x: &[f64], c: f64) -> Vec<f64> {
    let mut out = vec![0.0; x.len()];
    for i in 0..x.len() {
        out[i] = x[i] * c + x[(i + 1) % x.len()];
    }
    out
}

#[differentiable]
fn rotate(p: [f64; 2], angle: f64) -> [f64; 2] {
    let (c, s) = (angle.cos(), angle.sin());
    [c * p[0] - s * p[1], s * p[0] + c * p[1]]
}

#[differentiable]
fn vector_callees(x: &[f64]) -> f64 {
    let y = scaled(x, 2.0);
    let z = scaled(&y, x[0]);
    let q = rotate([x[1], x[2]], x[3]);
    let mut s = 0.0;
    for i in 0..z.len() {
        s += z[i] * y[i];
    }
    s + q[0] * q[1]
}

#[test]
fn vec_and_array_returning_callees() {
    let pts = points(307, 4, -1.5, 1.5);
    check_all(
        &slice_fns!(
            vector_callees,
            vector_callees_grad,
            vector_callees_jvp,
            vector_callees_grad_into,
            vector_callees_vjp
        ),
        &pts,
    );
}

#[differentiable]
fn helper(a: f64, b: &[f64]) -> f64 {
    a * b[0] + b[1].cos()
}

#[differentiable]
fn caller(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        s += helper(x[i], x);
    }
    let t = if s > 0.0 { s.sqrt() } else { -s };
    let m = match x.len() {
        0 => 1.0,
        n => t * n as f64,
    };
    m + helper(2.0, x)
}

#[test]
fn callee_taking_the_whole_slice_in_a_loop() {
    let pts = vec![vec![0.5, 1.2, -0.3, 0.8], vec![-0.5, -1.2, 0.3, 0.8], vec![1.5, 0.2, 0.7, -0.4]];
    check_all(&slice_fns!(caller, caller_grad, caller_jvp, caller_grad_into, caller_vjp), &pts);
}

// ---------------------------------------------------------------------------------------------------
// wrt(..) with data parameters
// ---------------------------------------------------------------------------------------------------

pub struct Dataset {
    pub xs: Vec<f64>,
    pub ys: Vec<f64>,
    pub weight: f64,
}

#[differentiable(wrt(w))]
fn squared_error(w: &[f64], data: &Dataset) -> f64 {
    let mut s = 0.0;
    for i in 0..data.xs.len() {
        let r = w[0] * data.xs[i] + w[1] - data.ys[i];
        s += data.weight * r * r;
    }
    s
}

#[differentiable(wrt(w, lambda))]
fn ridge(w: &[f64], data: &Dataset, lambda: f64, offsets: &[f64]) -> f64 {
    let mut reg = 0.0;
    for i in 0..w.len() {
        reg += (w[i] - offsets[i]).powi(2);
    }
    squared_error(w, data) + lambda * reg
}

fn dataset() -> Dataset {
    Dataset { xs: vec![0.5, 1.5, 2.5, -1.0], ys: vec![1.0, 2.0, 2.9, -0.7], weight: 0.7 }
}

#[test]
fn wrt_with_a_data_struct() {
    let data = dataset();
    let pts = points(310, 2, -2.0, 2.0);
    check_all_closed(
        &Scalar {
            f: &|w| squared_error(w, &data),
            grad: &|w| squared_error_grad(w, &data),
            jvp: &|w, v| squared_error_jvp(w, v, &data),
            grad_into: &|w, g| squared_error_grad_into(w, &data, g),
            vjp: &|w, z, g| squared_error_vjp(w, &data, z, g),
        },
        &pts,
        |w| {
            let mut g = vec![0.0; 2];
            for i in 0..4 {
                let r = w[0] * data.xs[i] + w[1] - data.ys[i];
                g[0] += 2.0 * data.weight * r * data.xs[i];
                g[1] += 2.0 * data.weight * r;
            }
            g
        },
    );
}

#[test]
fn wrt_excludes_a_float_slice_and_calls_a_wrt_callee() {
    // `offsets: &[f64]` is a constant because it is not named in wrt(..): no tangent, no cotangent.
    let data = dataset();
    let offsets = [0.3, -0.1];
    let pts = points(311, 3, -1.5, 1.5);
    check_all(
        &Scalar {
            f: &|p| ridge(&p[..2], &data, p[2], &offsets),
            grad: &|p| {
                let (v, (gw, gl)) = ridge_grad(&p[..2], &data, p[2], &offsets);
                (v, [gw, vec![gl]].concat())
            },
            jvp: &|p, d| ridge_jvp(&p[..2], &d[..2], &data, p[2], d[2], &offsets),
            grad_into: &|p, g| {
                let (gw, gl) = g.split_at_mut(2);
                ridge_grad_into(&p[..2], &data, p[2], &offsets, gw, &mut gl[0])
            },
            vjp: &|p, z, g| {
                let (gw, gl) = g.split_at_mut(2);
                ridge_vjp(&p[..2], &data, p[2], &offsets, z, gw, &mut gl[0])
            },
        },
        &pts,
    );
    let (_, (_, gl)) = ridge_grad(&[0.5, 0.5], &data, 2.0, &offsets);
    assert_close(gl, 0.2f64.powi(2) + 0.6f64.powi(2), 1e-14, "∂/∂λ is the regulariser");
}

// ---------------------------------------------------------------------------------------------------
// Custom derivatives
// ---------------------------------------------------------------------------------------------------

/// `ln(1 + eˣ)` with exact, overflow-free rules.
#[differentiable(custom(jvp = softplus_tangent, vjp = softplus_adjoint))]
fn softplus(x: f64) -> f64 {
    if x > 30.0 {
        x
    } else {
        x.exp().ln_1p()
    }
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn softplus_tangent(x: f64, x_dot: f64) -> (f64, f64) {
    (softplus(x), x_dot * logistic(x))
}

fn softplus_adjoint(x: f64, z_bar: f64, x_bar: &mut f64) -> f64 {
    *x_bar += z_bar * logistic(x);
    softplus(x)
}

#[differentiable]
fn softplus_loss(w: &[f64]) -> f64 {
    let mut total = 0.0;
    for (i, wi) in w.iter().enumerate() {
        total += softplus(2.0 * wi - i as f64) * (i as f64 + 1.0);
    }
    total + softplus(0.5)
}

#[test]
fn custom_rule_called_inside_a_loop() {
    let pts = points(320, 4, -3.0, 3.0);
    check_all_closed(
        &slice_fns!(softplus_loss, softplus_loss_grad, softplus_loss_jvp, softplus_loss_grad_into, softplus_loss_vjp),
        &pts,
        |w| w.iter().enumerate().map(|(i, wi)| 2.0 * logistic(2.0 * wi - i as f64) * (i as f64 + 1.0)).collect(),
    );
    // Far in the tail, where the body's own derivative would overflow or lose precision.
    let (_, g) = softplus_loss_grad(&[400.0, -400.0]);
    assert_all_close(&g, &[2.0, 0.0], 1e-15, "custom rule in the tails");
}

#[test]
fn custom_function_generated_forms_use_the_rules() {
    for x in [-2.0, 0.0, 0.7, 35.0] {
        let (v, g) = softplus_grad(x);
        assert_eq!(v, softplus(x));
        assert_eq!(g, logistic(x));
        assert_eq!(softplus_jvp(x, 3.0), (softplus(x), 3.0 * logistic(x)));
        let mut b = 1.0;
        softplus_vjp(x, 2.0, &mut b);
        assert_eq!(b, 1.0 + 2.0 * logistic(x));
        let mut b = 99.0;
        softplus_grad_into(x, &mut b);
        assert_eq!(b, logistic(x));
    }
}

/// The identity, with a surrogate derivative of one half (a "straight-through" style estimator): the
/// rules are deliberately not the derivative of the body, so the tests can tell that callers use them.
#[differentiable(custom(jvp = half_tangent, vjp = half_adjoint))]
fn half_grad(x: f64) -> f64 {
    x
}

fn half_tangent(x: f64, x_dot: f64) -> (f64, f64) {
    (x, 0.5 * x_dot)
}

fn half_adjoint(x: f64, z_bar: f64, x_bar: &mut f64) -> f64 {
    *x_bar += 0.5 * z_bar;
    x
}

#[differentiable]
fn uses_half_grad(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut i = 0;
    while i < x.len() {
        let h = half_grad(x[i] * x[i]);
        s += h;
        s = half_grad(s);
        i += 1;
    }
    s
}

#[test]
fn callers_use_the_custom_rules_not_the_body() {
    // Body: s = Σ xᵢ² (derivative 2xᵢ). Rules: each half_grad halves the cotangent: the term added at
    // step i passes through half_grad once itself and then n − i times as part of s.
    let x = [0.5, -1.0, 2.0];
    let n = x.len();
    let expected: Vec<f64> = (0..n).map(|i| 2.0 * x[i] * 0.5f64.powi((n - i + 1) as i32)).collect();
    let (v, g) = uses_half_grad_grad(&x);
    assert_eq!(v, uses_half_grad(&x));
    assert_all_close(&g, &expected, 1e-15, "gradient through the surrogate rules");
    let dir = [1.0, 2.0, -1.0];
    let (_, s) = uses_half_grad_jvp(&x, &dir);
    assert_dot(&expected, &dir, s, "JVP through the surrogate rules");
    let mut buf = [5.0; 3];
    uses_half_grad_grad_into(&x, &mut buf);
    assert_all_close(&buf, &expected, 1e-15, "grad_into through the surrogate rules");
}

/// Euclidean norm of a slice with hand-written rules.
#[differentiable(custom(jvp = norm_tangent, vjp = norm_adjoint))]
fn norm(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for xi in x.iter() {
        s += xi * xi;
    }
    s.sqrt()
}

fn norm_tangent(x: &[f64], x_dot: &[f64]) -> (f64, f64) {
    let n = norm(x);
    (n, x.iter().zip(x_dot).map(|(a, b)| a * b).sum::<f64>() / n)
}

fn norm_adjoint(x: &[f64], z_bar: f64, x_bar: &mut [f64]) -> f64 {
    let n = norm(x);
    for (b, a) in x_bar.iter_mut().zip(x) {
        *b += z_bar * a / n;
    }
    n
}

/// `x·y` with hand-written rules for two scalar arguments.
#[differentiable(custom(jvp = mul_tangent, vjp = mul_adjoint))]
fn mul(x: f64, y: f64) -> f64 {
    x * y
}

fn mul_tangent(x: f64, x_dot: f64, y: f64, y_dot: f64) -> (f64, f64) {
    (x * y, x_dot * y + x * y_dot)
}

fn mul_adjoint(x: f64, y: f64, z_bar: f64, x_bar: &mut f64, y_bar: &mut f64) -> f64 {
    *x_bar += z_bar * y;
    *y_bar += z_bar * x;
    x * y
}

#[differentiable]
fn custom_slice_and_pair(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        s += mul(x[i], x[i + 1]);
        s = mul(s, 0.9);
    }
    let mut local = vec![0.0; 2];
    local[0] = x[0] * 2.0;
    local[1] = s;
    norm(x) * s + norm(&local)
}

#[test]
fn custom_rules_with_slice_and_two_scalar_arguments() {
    let pts = points(321, 4, -1.5, 1.5);
    check_all(
        &slice_fns!(
            custom_slice_and_pair,
            custom_slice_and_pair_grad,
            custom_slice_and_pair_jvp,
            custom_slice_and_pair_grad_into,
            custom_slice_and_pair_vjp
        ),
        &pts,
    );
}

#[differentiable]
fn sum_of_squares(v: Vec<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..v.len() {
        s += v[i] * v[i];
    }
    s
}

#[differentiable]
fn owned_vec_arguments(x: &[f64]) -> f64 {
    let mut v = vec![0.0; x.len()];
    for i in 0..x.len() {
        v[i] = x[i].sin();
    }
    let a = sum_of_squares(v.clone());
    a + sum_of_squares(x.to_vec()) * v[0]
}

#[test]
fn callee_taking_vec_by_value() {
    let pts = points(330, 3, -1.5, 1.5);
    check_all(
        &slice_fns!(
            owned_vec_arguments,
            owned_vec_arguments_grad,
            owned_vec_arguments_jvp,
            owned_vec_arguments_grad_into,
            owned_vec_arguments_vjp
        ),
        &pts,
    );
}

#[differentiable]
fn gate(x: f64, y: f64) -> f64 {
    // Returns early from two places; used below inside a loop.
    if x > y {
        return x * y;
    }
    let mut s = x;
    for _ in 0..3 {
        s = s * y + x;
        if s > 5.0 {
            return s;
        }
    }
    s
}

#[differentiable]
fn gated_recurrence(x: &[f64]) -> f64 {
    let mut t = 0.0;
    for i in 0..x.len() {
        t = gate(x[i], t + 0.5) + t * 0.5;
    }
    t
}

#[test]
fn callee_with_early_returns_inside_a_loop() {
    let pts = vec![vec![0.2, 0.1, 0.9, 0.4, 1.9], vec![-0.5, 1.5, 0.3, 0.8, -0.2], vec![1.2, 1.4, 1.6, 1.8, 0.3]];
    check_all(
        &slice_fns!(
            gated_recurrence,
            gated_recurrence_grad,
            gated_recurrence_jvp,
            gated_recurrence_grad_into,
            gated_recurrence_vjp
        ),
        &pts,
    );
}

/// `xⁿ` with hand-written rules and a constant integer parameter.
#[differentiable(custom(jvp = power_tangent, vjp = power_adjoint))]
fn power(x: f64, n: i32) -> f64 {
    x.powi(n)
}

fn power_tangent(x: f64, x_dot: f64, n: i32) -> (f64, f64) {
    (x.powi(n), x_dot * n as f64 * x.powi(n - 1))
}

fn power_adjoint(x: f64, n: i32, z_bar: f64, x_bar: &mut f64) -> f64 {
    *x_bar += z_bar * n as f64 * x.powi(n - 1);
    x.powi(n)
}

#[differentiable]
fn uses_power(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += power(x[i], i as i32 + 1);
    }
    s
}

#[test]
fn custom_rule_with_a_constant_parameter() {
    let pts = points(331, 4, -1.5, 1.5);
    check_all_closed(
        &slice_fns!(uses_power, uses_power_grad, uses_power_jvp, uses_power_grad_into, uses_power_vjp),
        &pts,
        |x| (0..x.len()).map(|i| (i + 1) as f64 * x[i].powi(i as i32)).collect(),
    );
}

#[differentiable]
fn overwrite_after_call(x: &[f64]) -> f64 {
    // The callee reads `v`, which is overwritten after each call: reverse mode must replay the
    // callee's adjoint with the old `v`.
    let mut v = x.to_vec();
    let mut acc = 0.0;
    for k in 0..3 {
        let a = dot(&v, x);
        v[k] = a * v[k];
        acc += a;
    }
    acc * v[0] + v[2]
}

#[test]
fn callee_argument_overwritten_after_the_call() {
    let pts = points(332, 3, -0.8, 0.8);
    check_all(
        &slice_fns!(
            overwrite_after_call,
            overwrite_after_call_grad,
            overwrite_after_call_jvp,
            overwrite_after_call_grad_into,
            overwrite_after_call_vjp
        ),
        &pts,
    );
}

#[differentiable]
fn ordered_pair(x: f64, y: f64) -> (f64, f64) {
    if x > y {
        return (x * y, x);
    }
    (y, x * x)
}

#[differentiable]
fn pairs_in_a_loop(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        let (a, b) = ordered_pair(x[i], x[i + 1]);
        s += a * b;
    }
    s
}

#[test]
fn tuple_returning_callee_with_early_return_in_a_loop() {
    let pts = points(333, 5, -1.0, 1.0);
    check_all(
        &slice_fns!(
            pairs_in_a_loop,
            pairs_in_a_loop_grad,
            pairs_in_a_loop_jvp,
            pairs_in_a_loop_grad_into,
            pairs_in_a_loop_vjp
        ),
        &pts,
    );
}

/// `2x`, elementwise, with hand-written rules for a vector result.
#[differentiable(custom(jvp = doubled_tangent, vjp = doubled_adjoint))]
fn doubled(x: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; x.len()];
    for i in 0..x.len() {
        out[i] = 2.0 * x[i];
    }
    out
}

fn doubled_tangent(x: &[f64], x_dot: &[f64]) -> (Vec<f64>, Vec<f64>) {
    (doubled(x), x_dot.iter().map(|d| 2.0 * d).collect())
}

fn doubled_adjoint(x: &[f64], z_bar: Vec<f64>, x_bar: &mut [f64]) -> Vec<f64> {
    for i in 0..x.len() {
        x_bar[i] += 2.0 * z_bar[i];
    }
    doubled(x)
}

#[differentiable]
fn doubled_in_a_loop(x: &[f64]) -> f64 {
    let mut a = vec![0.0; x.len()];
    let mut s = 0.0;
    for k in 0..3 {
        let y = doubled(&a);
        for i in 0..x.len() {
            a[i] = (y[i] * 0.3 + x[i]).sin();
        }
        s += a[k % x.len()];
    }
    s
}

#[test]
fn custom_rule_with_a_vector_result_inside_a_loop() {
    let pts = points(334, 3, -1.0, 1.0);
    check_all(
        &slice_fns!(
            doubled_in_a_loop,
            doubled_in_a_loop_grad,
            doubled_in_a_loop_jvp,
            doubled_in_a_loop_grad_into,
            doubled_in_a_loop_vjp
        ),
        &pts,
    );
}

#[differentiable(wrt(p))]
fn wrt_array(p: [f64; 2], q: [f64; 2], v: Vec<f64>) -> f64 {
    p[0] * q[1] + p[1] * v[0] * q[0]
}

#[differentiable(wrt(v))]
fn wrt_vec(p: [f64; 2], v: Vec<f64>) -> f64 {
    p[0] * v[1] + v[0] * v[0] * p[1]
}

#[test]
fn wrt_selects_array_and_vec_parameters() {
    let (value, g) = wrt_array_grad([1.0, 2.0], [3.0, 4.0], vec![5.0]);
    assert_eq!(value, wrt_array([1.0, 2.0], [3.0, 4.0], vec![5.0]));
    assert_eq!(g, [4.0, 15.0]);
    assert_eq!(wrt_array_jvp([1.0, 2.0], [1.0, 1.0], [3.0, 4.0], vec![5.0]).1, 19.0);
    let (value, g) = wrt_vec_grad([1.0, 2.0], vec![3.0, 4.0]);
    assert_eq!(value, wrt_vec([1.0, 2.0], vec![3.0, 4.0]));
    assert_eq!(g, vec![12.0, 1.0]);
    let mut buf = vec![1.0, 1.0];
    wrt_vec_vjp([1.0, 2.0], vec![3.0, 4.0], 2.0, &mut buf);
    assert_eq!(buf, vec![25.0, 3.0]);
}
