//! The derivative rules of the float methods and operators, each checked against finite differences at
//! random points inside its domain and against its closed form.

#[macro_use]
mod common;

use adjoint::differentiable;
use common::*;
use std::f64::consts::{E, FRAC_PI_2, LN_2, PI, SQRT_2};

// ---------------------------------------------------------------------------------------------------
// Arithmetic
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn arithmetic(x: f64, y: f64) -> f64 {
    -x / y + (x - y) * 3.0 - 1.0 / (x * y) + 2.0 - x * x * y
}

#[test]
fn arithmetic_operators_and_literals() {
    let pts = points_in(1, POINTS, &[(0.5, 2.0), (-2.0, -0.5)]);
    check_all_closed(
        &scalar2_fns!(arithmetic, arithmetic_grad, arithmetic_jvp, arithmetic_grad_into, arithmetic_vjp),
        &pts,
        |p| {
            let (x, y) = (p[0], p[1]);
            vec![-1.0 / y + 3.0 + 1.0 / (x * x * y) - 2.0 * x * y, x / (y * y) - 3.0 + 1.0 / (x * y * y) - x * x]
        },
    );
}

#[differentiable]
fn polynomial(x: f64) -> f64 {
    let x2 = x * x;
    3.0 * x2 * x - 2.0 * x2 + x - 7.0
}

#[test]
fn polynomial_matches_power_rule() {
    let pts = points(2, 1, -3.0, 3.0);
    check_all_closed(
        &scalar_fns!(polynomial, polynomial_grad, polynomial_jvp, polynomial_grad_into, polynomial_vjp),
        &pts,
        |p| vec![9.0 * p[0] * p[0] - 4.0 * p[0] + 1.0],
    );
}

// ---------------------------------------------------------------------------------------------------
// Trigonometric and inverse trigonometric
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn trig(x: f64) -> f64 {
    x.sin() + 2.0 * x.cos() + x.tan() / 3.0
}

#[test]
fn sin_cos_tan() {
    let pts = points(3, 1, -1.3, 1.3);
    check_all_closed(&scalar_fns!(trig, trig_grad, trig_jvp, trig_grad_into, trig_vjp), &pts, |p| {
        let x = p[0];
        vec![x.cos() - 2.0 * x.sin() + 1.0 / (3.0 * x.cos() * x.cos())]
    });
}

#[differentiable]
fn inverse_trig(x: f64) -> f64 {
    x.asin() * 2.0 + (0.5 * x).acos() + (3.0 * x).atan()
}

#[test]
fn asin_acos_atan() {
    let pts = points(4, 1, -0.9, 0.9);
    check_all_closed(
        &scalar_fns!(inverse_trig, inverse_trig_grad, inverse_trig_jvp, inverse_trig_grad_into, inverse_trig_vjp),
        &pts,
        |p| {
            let x = p[0];
            vec![2.0 / (1.0 - x * x).sqrt() - 0.5 / (1.0 - 0.25 * x * x).sqrt() + 3.0 / (1.0 + 9.0 * x * x)]
        },
    );
}

#[differentiable]
fn angle(y: f64, x: f64) -> f64 {
    y.atan2(x)
}

#[test]
fn atan2_in_every_quadrant() {
    // Away from the branch cut on the negative x axis.
    let mut pts = points_in(5, POINTS, &[(-2.0, 2.0), (0.3, 2.0)]);
    pts.push(vec![1.0, -0.7]); // second quadrant
    pts.push(vec![-1.3, -0.2]); // third quadrant
    check_all_closed(&scalar2_fns!(angle, angle_grad, angle_jvp, angle_grad_into, angle_vjp), &pts, |p| {
        let (y, x) = (p[0], p[1]);
        let r2 = x * x + y * y;
        vec![x / r2, -y / r2]
    });
}

// ---------------------------------------------------------------------------------------------------
// Hyperbolic and inverse hyperbolic
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn hyperbolic(x: f64) -> f64 {
    x.sinh() - 0.5 * x.cosh() + 3.0 * x.tanh()
}

#[test]
fn sinh_cosh_tanh() {
    let pts = points(6, 1, -2.0, 2.0);
    check_all_closed(
        &scalar_fns!(hyperbolic, hyperbolic_grad, hyperbolic_jvp, hyperbolic_grad_into, hyperbolic_vjp),
        &pts,
        |p| {
            let x = p[0];
            vec![x.cosh() - 0.5 * x.sinh() + 3.0 / (x.cosh() * x.cosh())]
        },
    );
}

#[differentiable]
fn inverse_hyperbolic(x: f64) -> f64 {
    x.asinh() + (x + 2.0).acosh() + (x / 3.0).atanh()
}

#[test]
fn asinh_acosh_atanh() {
    let pts = points(7, 1, -0.9, 0.9);
    check_all_closed(
        &scalar_fns!(
            inverse_hyperbolic,
            inverse_hyperbolic_grad,
            inverse_hyperbolic_jvp,
            inverse_hyperbolic_grad_into,
            inverse_hyperbolic_vjp
        ),
        &pts,
        |p| {
            let x = p[0];
            let u = x + 2.0;
            let w = x / 3.0;
            vec![1.0 / (x * x + 1.0).sqrt() + 1.0 / (u * u - 1.0).sqrt() + 1.0 / (3.0 * (1.0 - w * w))]
        },
    );
}

// ---------------------------------------------------------------------------------------------------
// Exponentials and logarithms
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn exponentials(x: f64) -> f64 {
    x.exp() + (2.0 * x).exp2() - x.exp_m1() * 0.25
}

#[test]
fn exp_exp2_exp_m1() {
    let pts = points(8, 1, -2.0, 2.0);
    check_all_closed(
        &scalar_fns!(exponentials, exponentials_grad, exponentials_jvp, exponentials_grad_into, exponentials_vjp),
        &pts,
        |p| {
            let x = p[0];
            vec![x.exp() + 2.0 * LN_2 * (2.0 * x).exp2() - 0.25 * x.exp()]
        },
    );
}

#[differentiable]
fn logarithms(x: f64) -> f64 {
    x.ln() + 2.0 * x.ln_1p() + x.log2() - (3.0 * x).log10()
}

#[test]
fn ln_ln_1p_log2_log10() {
    let pts = points(9, 1, 0.1, 5.0);
    check_all_closed(
        &scalar_fns!(logarithms, logarithms_grad, logarithms_jvp, logarithms_grad_into, logarithms_vjp),
        &pts,
        |p| {
            let x = p[0];
            vec![1.0 / x + 2.0 / (1.0 + x) + 1.0 / (x * LN_2) - 1.0 / (x * std::f64::consts::LN_10)]
        },
    );
}

#[differentiable]
fn log_of_exp(x: f64) -> f64 {
    (x.sin().exp() + 1.0).ln().sqrt()
}

#[test]
fn nested_method_chain() {
    let pts = points(10, 1, -3.0, 3.0);
    check_all_closed(
        &scalar_fns!(log_of_exp, log_of_exp_grad, log_of_exp_jvp, log_of_exp_grad_into, log_of_exp_vjp),
        &pts,
        |p| {
            let x = p[0];
            let e = x.sin().exp();
            let l = (e + 1.0).ln();
            vec![0.5 / l.sqrt() * e / (e + 1.0) * x.cos()]
        },
    );
}

// ---------------------------------------------------------------------------------------------------
// Roots, reciprocals and powers
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn roots(x: f64) -> f64 {
    x.sqrt() + (x - 5.0).cbrt() + 2.0 * x.cbrt() + x.recip()
}

#[test]
fn sqrt_cbrt_recip() {
    // `(x - 5).cbrt()` takes negative arguments.
    let pts = points(11, 1, 0.2, 4.0);
    check_all_closed(&scalar_fns!(roots, roots_grad, roots_jvp, roots_grad_into, roots_vjp), &pts, |p| {
        let x = p[0];
        let c = (x - 5.0).cbrt();
        vec![0.5 / x.sqrt() + 1.0 / (3.0 * c * c) + 2.0 / (3.0 * x.cbrt() * x.cbrt()) - 1.0 / (x * x)]
    });
}

#[differentiable]
fn powers(x: f64, y: f64) -> f64 {
    x.powi(3) + x.powi(-2) + 0.5 * x.powi(0) + x.powf(y) + y.powf(2.5) + 2.0f64.powf(x)
}

#[test]
fn powi_and_powf_in_both_arguments() {
    let pts = points_in(12, POINTS, &[(0.3, 2.5), (0.2, 2.0)]);
    check_all_closed(&scalar2_fns!(powers, powers_grad, powers_jvp, powers_grad_into, powers_vjp), &pts, |p| {
        let (x, y) = (p[0], p[1]);
        vec![
            3.0 * x * x - 2.0 * x.powi(-3) + y * x.powf(y - 1.0) + LN_2 * 2.0f64.powf(x),
            x.powf(y) * x.ln() + 2.5 * y.powf(1.5),
        ]
    });
}

#[differentiable]
fn odd_power(x: f64) -> f64 {
    x.powi(5) - x.powi(2)
}

#[test]
fn powi_of_negative_base() {
    let pts = points(13, 1, -2.0, -0.1);
    check_all_closed(
        &scalar_fns!(odd_power, odd_power_grad, odd_power_jvp, odd_power_grad_into, odd_power_vjp),
        &pts,
        |p| vec![5.0 * p[0].powi(4) - 2.0 * p[0]],
    );
}

// ---------------------------------------------------------------------------------------------------
// abs, max, min, hypot, mul_add
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn kinks(x: f64, y: f64) -> f64 {
    x.abs() * 2.0 + x.max(y) * 3.0 - y.min(0.5 * x) + (x - 1.0).abs()
}

#[test]
fn abs_max_min_away_from_ties() {
    // Points on both sides of each kink, none within 0.1 of one.
    let pts = vec![
        vec![0.7, -0.4],  // x>0, x>y, y<x/2, x<1
        vec![-0.8, 0.3],  // x<0, y>x, y>x/2
        vec![1.6, 2.2],   // x>1, y>x
        vec![-1.5, -0.3], // x<y, y>x/2
        vec![2.5, 0.2],   // y<x/2
    ];
    check_all_closed(&scalar2_fns!(kinks, kinks_grad, kinks_jvp, kinks_grad_into, kinks_vjp), &pts, |p| {
        let (x, y) = (p[0], p[1]);
        let (mut gx, mut gy) = (2.0 * x.signum() + (x - 1.0).signum(), 0.0);
        if x > y {
            gx += 3.0;
        } else {
            gy += 3.0;
        }
        if y < 0.5 * x {
            gy -= 1.0;
        } else {
            gx -= 0.5;
        }
        vec![gx, gy]
    });
}

#[differentiable]
fn hypot_mul_add(x: f64, y: f64, w: f64) -> f64 {
    x.hypot(y) + x.mul_add(y, w) * w + (2.0 * w).mul_add(3.0, x)
}

#[test]
fn hypot_and_mul_add() {
    let pts = points(14, 3, -2.0, 2.0);
    check_all_closed(
        &scalar3_fns!(hypot_mul_add, hypot_mul_add_grad, hypot_mul_add_jvp, hypot_mul_add_grad_into, hypot_mul_add_vjp),
        &pts,
        |p| {
            let (x, y, z) = (p[0], p[1], p[2]);
            let h = x.hypot(y);
            vec![x / h + y * z + 1.0, y / h + x * z, x * y + 2.0 * z + 6.0]
        },
    );
}

// ---------------------------------------------------------------------------------------------------
// Path-call syntax, constants, piecewise-constant methods, casts
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn path_calls(x: f64, y: f64) -> f64 {
    f64::sin(x) * f64::exp(y) + f64::powi(x, 2) + f64::atan2(y, 2.0) + f64::max(x, 10.0) + f64::sqrt(y * y + 1.0)
}

#[test]
fn methods_called_as_paths() {
    let pts = points(15, 2, -2.0, 2.0);
    check_all_closed(
        &scalar2_fns!(path_calls, path_calls_grad, path_calls_jvp, path_calls_grad_into, path_calls_vjp),
        &pts,
        |p| {
            let (x, y) = (p[0], p[1]);
            vec![x.cos() * y.exp() + 2.0 * x, x.sin() * y.exp() + 2.0 / (4.0 + y * y) + y / (y * y + 1.0).sqrt()]
        },
    );
}

#[differentiable]
fn with_constants(x: f64) -> f64 {
    (PI * x).sin() * E + LN_2 * x + SQRT_2 * (x + FRAC_PI_2).cos() + std::f64::consts::TAU / (1.0 + x * x)
}

#[test]
fn std_f64_consts() {
    let pts = points(16, 1, -2.0, 2.0);
    check_all_closed(
        &scalar_fns!(
            with_constants,
            with_constants_grad,
            with_constants_jvp,
            with_constants_grad_into,
            with_constants_vjp
        ),
        &pts,
        |p| {
            let x = p[0];
            let q = 1.0 + x * x;
            vec![
                PI * E * (PI * x).cos() + LN_2
                    - SQRT_2 * (x + FRAC_PI_2).sin()
                    - std::f64::consts::TAU * 2.0 * x / (q * q),
            ]
        },
    );
}

#[differentiable]
fn piecewise_constant(x: f64) -> f64 {
    x * x.floor() + x.ceil() * 0.5 + x.round() * x + x.trunc() + x.signum() * x * x
}

#[test]
fn floor_ceil_round_trunc_signum_have_zero_derivative() {
    // Away from integers and half-integers, where the pieces jump.
    let pts = vec![vec![0.3], vec![1.7], vec![-2.2], vec![-0.35], vec![3.1]];
    check_all_closed(
        &scalar_fns!(
            piecewise_constant,
            piecewise_constant_grad,
            piecewise_constant_jvp,
            piecewise_constant_grad_into,
            piecewise_constant_vjp
        ),
        &pts,
        |p| {
            let x = p[0];
            vec![x.floor() + x.round() + 2.0 * x.signum() * x]
        },
    );
}

#[differentiable]
fn weighted_terms(x: &[f64], k: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let w = (i + k) as f64;
        s += w * x[i] * x[i] + (i as f64) / (1.0 + x[i] * x[i]);
    }
    s
}

#[test]
fn integer_casts_are_constants() {
    let pts = points(17, 4, -2.0, 2.0);
    let k = 3;
    check_all_closed(
        &Scalar {
            f: &|x| weighted_terms(x, k),
            grad: &|x| weighted_terms_grad(x, k),
            jvp: &|x, v| weighted_terms_jvp(x, v, k),
            grad_into: &|x, g| weighted_terms_grad_into(x, k, g),
            vjp: &|x, z, g| weighted_terms_vjp(x, k, z, g),
        },
        &pts,
        |x| {
            (0..x.len())
                .map(|i| {
                    let q = 1.0 + x[i] * x[i];
                    2.0 * (i + k) as f64 * x[i] - 2.0 * i as f64 * x[i] / (q * q)
                })
                .collect()
        },
    );
}

#[differentiable]
fn powi_variable_exponent(x: f64, n: i32) -> f64 {
    let mut s = 0.0;
    for k in 0..n {
        s += x.powi(k + 1) / (k + 1) as f64;
    }
    s + x.powi(n)
}

#[test]
fn powi_with_a_variable_exponent() {
    for n in [1, 3, 6] {
        for p in points(18, 1, -1.5, 1.5) {
            let x = p[0];
            let (v, g) = powi_variable_exponent_grad(x, n);
            assert_eq!(v, powi_variable_exponent(x, n));
            let expected: f64 = (0..n).map(|k| x.powi(k)).sum::<f64>() + n as f64 * x.powi(n - 1);
            assert_close(g, expected, 1e-12, &format!("n = {n}, x = {x}"));
            assert_close(powi_variable_exponent_jvp(x, 1.0, n).1, expected, 1e-12, "JVP");
        }
    }
}
