//! Bindings, tuples, branches, `match` and early returns: the derivative follows the path the primal took.

#[macro_use]
mod common;

use adjoint::{differentiable, no_grad};
use common::*;

// ---------------------------------------------------------------------------------------------------
// let, let mut, shadowing, assignment and compound assignment
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn bindings(x: f64, y: f64) -> f64 {
    let a = x * y;
    let mut b = a + 1.0;
    b += x;
    b -= 0.5 * y;
    b *= a;
    b /= 1.0 + y * y;
    let c;
    c = b * 2.0;
    b = b + c;
    b
}

#[test]
fn let_mut_and_compound_assignment() {
    let pts = points(20, 2, -2.0, 2.0);
    check_all_closed(
        &scalar2_fns!(bindings, bindings_grad, bindings_jvp, bindings_grad_into, bindings_vjp),
        &pts,
        |p| {
            // f = 3 (xy + 1 + x − y/2) · xy / (1 + y²)
            let (x, y) = (p[0], p[1]);
            let u = x * y + 1.0 + x - 0.5 * y;
            let q = 1.0 + y * y;
            let fx = 3.0 * ((y + 1.0) * x * y + u * y) / q;
            let fy = 3.0 * (((x - 0.5) * x * y + u * x) / q - u * x * y * 2.0 * y / (q * q));
            vec![fx, fy]
        },
    );
}

#[differentiable]
fn shadowing(x: f64) -> f64 {
    let y = x * 2.0;
    let y = y.sin() + x;
    let x = y * x;
    let x = {
        let t = x * x;
        t + y
    };
    x
}

#[test]
fn shadowed_bindings_and_block_expression() {
    let pts = points(21, 1, -2.0, 2.0);
    check_all_closed(
        &scalar_fns!(shadowing, shadowing_grad, shadowing_jvp, shadowing_grad_into, shadowing_vjp),
        &pts,
        |p| {
            let x = p[0];
            let y = (2.0 * x).sin() + x;
            let dy = 2.0 * (2.0 * x).cos() + 1.0;
            let u = y * x;
            let du = dy * x + y;
            vec![2.0 * u * du + dy]
        },
    );
}

#[differentiable]
fn reassign_parameter(mut x: f64, y: f64) -> f64 {
    x = x * y;
    x += y.exp();
    x *= x;
    x
}

#[test]
fn rebound_mutable_parameter() {
    let pts = points(22, 2, -1.5, 1.5);
    check_all_closed(
        &scalar2_fns!(
            reassign_parameter,
            reassign_parameter_grad,
            reassign_parameter_jvp,
            reassign_parameter_grad_into,
            reassign_parameter_vjp
        ),
        &pts,
        |p| {
            let (x, y) = (p[0], p[1]);
            let u = x * y + y.exp();
            vec![2.0 * u * y, 2.0 * u * (x + y.exp())]
        },
    );
}

#[differentiable]
fn square_in_place(x: f64) -> f64 {
    let mut t = x;
    t *= t;
    t
}

#[test]
fn multiply_assign_by_itself() {
    // d(x²)/dx = 2x.
    let pts = points(25, 1, -2.0, 2.0);
    check_all_closed(
        &scalar_fns!(
            square_in_place,
            square_in_place_grad,
            square_in_place_jvp,
            square_in_place_grad_into,
            square_in_place_vjp
        ),
        &pts,
        |p| vec![2.0 * p[0]],
    );
}

#[differentiable]
fn ratio_in_place(x: f64) -> f64 {
    let mut a = x.exp();
    a /= a;
    a + x
}

#[test]
fn divide_assign_by_itself() {
    // a / a = 1, so the derivative is that of `+ x`: 1.
    for x in [-1.0, 0.3, 2.0] {
        let (v, g) = ratio_in_place_grad(x);
        assert_eq!(v, ratio_in_place(x));
        assert_close(g, 1.0, 1e-12, &format!("gradient at {x}"));
        assert_close(ratio_in_place_jvp(x, 1.0).1, 1.0, 1e-12, &format!("JVP at {x}"));
    }
}

#[differentiable]
fn typed_and_ignored_bindings(x: &[f64]) -> f64 {
    let mut s: f64 = 0.0;
    let v: Vec<f64> = vec![0.5; x.len()];
    let mut a: [f64; 3] = [0.0; 3];
    let k: usize = 2;
    let _ = x[0].sin();
    let _unused = x[1] * 2.0;
    a[0] = x[0] * 2.;
    a[1] = 1_000.0 * x[1] * 1e-3 + 0.5_f64;
    for i in 0..x.len() {
        s += x[i] * v[i] + -x[i].sin();
    }
    s + a[0] * a[1] + a[k]
}

#[test]
fn type_annotations_literal_forms_and_underscore_bindings() {
    let pts = points(26, 3, -1.0, 1.0);
    check_all_closed(
        &slice_fns!(
            typed_and_ignored_bindings,
            typed_and_ignored_bindings_grad,
            typed_and_ignored_bindings_jvp,
            typed_and_ignored_bindings_grad_into,
            typed_and_ignored_bindings_vjp
        ),
        &pts,
        |x| vec![0.5 - x[0].cos() + 2.0 * (x[1] + 0.5), 0.5 - x[1].cos() + 2.0 * x[0], 0.5 - x[2].cos()],
    );
}

#[differentiable]
fn shadow_in_loop(x: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        let x = x * (i as f64 + 1.0);
        let x = x.sin();
        s += x;
    }
    s * x
}

#[test]
fn shadowing_inside_a_loop_body() {
    let pts = points(27, 1, -1.5, 1.5);
    check_all_closed(
        &scalar_fns!(
            shadow_in_loop,
            shadow_in_loop_grad,
            shadow_in_loop_jvp,
            shadow_in_loop_grad_into,
            shadow_in_loop_vjp
        ),
        &pts,
        |p| {
            let x = p[0];
            let s: f64 = (1..=3).map(|k| (k as f64 * x).sin()).sum();
            let ds: f64 = (1..=3).map(|k| k as f64 * (k as f64 * x).cos()).sum();
            vec![ds * x + s]
        },
    );
}

#[differentiable]
fn block_scopes(x: f64, y: f64) -> f64 {
    let mut t = 1.0;
    let s = x * y;
    if x > 0.0 {
        let s = s * 2.0;
        t *= s + y;
    } else {
        let y = y * 3.0;
        t *= s * y;
    }
    {
        let s = t * t;
        t += s;
    }
    t * s
}

#[test]
fn shadowing_inside_branches_and_blocks() {
    let pts = vec![vec![0.5, 0.3], vec![-0.5, 0.8], vec![1.2, -0.4], vec![-0.3, -0.6]];
    check_all(
        &scalar2_fns!(block_scopes, block_scopes_grad, block_scopes_jvp, block_scopes_grad_into, block_scopes_vjp),
        &pts,
    );
}

// ---------------------------------------------------------------------------------------------------
// Tuples
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn tuples(x: f64, y: f64) -> f64 {
    let (a, b) = (x * y, x + y);
    let t = (a.sin(), b * b, 3.0);
    let (mut c, d, k) = t;
    c += d * t.0;
    let pair: (f64, f64) = (c, k * d);
    pair.0 + pair.1 * t.1
}

#[test]
fn tuple_destructuring_and_fields() {
    let pts = points(23, 2, -1.5, 1.5);
    check_all_closed(&scalar2_fns!(tuples, tuples_grad, tuples_jvp, tuples_grad_into, tuples_vjp), &pts, |p| {
        // f = s + d·s + 3d², s = sin(xy), d = (x+y)²
        let (x, y) = (p[0], p[1]);
        let s = (x * y).sin();
        let c = (x * y).cos();
        let d = (x + y) * (x + y);
        let dd = 2.0 * (x + y);
        let df_ds = 1.0 + d;
        let df_dd = s + 6.0 * d;
        vec![df_ds * c * y + df_dd * dd, df_ds * c * x + df_dd * dd]
    });
}

#[differentiable]
fn swap_and_rotate(x: f64, y: f64) -> f64 {
    let (mut a, mut b) = (x, y);
    for _ in 0..3 {
        let (c, s) = (0.6, 0.8);
        let (na, nb) = (c * a - s * b, s * a + c * b);
        a = na;
        b = nb * 1.1;
        let (p, q) = (b, a);
        a = p;
        b = q;
    }
    a * a * b
}

#[test]
fn tuple_swaps_in_a_loop() {
    let pts = points(24, 2, -2.0, 2.0);
    check_all(
        &scalar2_fns!(
            swap_and_rotate,
            swap_and_rotate_grad,
            swap_and_rotate_jvp,
            swap_and_rotate_grad_into,
            swap_and_rotate_vjp
        ),
        &pts,
    );
}

// ---------------------------------------------------------------------------------------------------
// if / else
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn branch_statement(x: f64, y: f64) -> f64 {
    let mut r = 0.0;
    if x > y {
        r = x * x * y;
    } else {
        r += (x - y).exp();
        r *= y;
    }
    if x < 0.0 {
        r -= x.sin();
    }
    r
}

#[test]
fn if_else_statement_follows_taken_branch() {
    let pts = vec![vec![1.0, 0.5], vec![0.3, 1.2], vec![-1.0, -1.5], vec![-1.2, 0.4], vec![2.0, -1.0]];
    check_all_closed(
        &scalar2_fns!(
            branch_statement,
            branch_statement_grad,
            branch_statement_jvp,
            branch_statement_grad_into,
            branch_statement_vjp
        ),
        &pts,
        |p| {
            let (x, y) = (p[0], p[1]);
            let mut g = if x > y {
                vec![2.0 * x * y, x * x]
            } else {
                let e = (x - y).exp();
                vec![e * y, -e * y + e]
            };
            if x < 0.0 {
                g[0] -= x.cos();
            }
            g
        },
    );
}

#[differentiable]
fn branch_expression(x: f64) -> f64 {
    let y = if x < -1.0 {
        -x * x
    } else if x < 0.5 {
        x.sin() * 3.0
    } else if x < 1.5 {
        let t = x.exp();
        t - x
    } else {
        x.ln()
    };
    let s = if y > 0.0 { y } else { -y };
    s + if x > 0.0 { x.sqrt() } else { 0.0 }
}

#[test]
fn else_if_chain_as_expression() {
    // Two points strictly inside each of the four pieces.
    let pts = vec![vec![-2.3], vec![-1.4], vec![-0.6], vec![0.2], vec![0.8], vec![1.3], vec![1.9], vec![3.5]];
    check_all_closed(
        &scalar_fns!(
            branch_expression,
            branch_expression_grad,
            branch_expression_jvp,
            branch_expression_grad_into,
            branch_expression_vjp
        ),
        &pts,
        |p| {
            let x = p[0];
            let (y, dy) = if x < -1.0 {
                (-x * x, -2.0 * x)
            } else if x < 0.5 {
                (3.0 * x.sin(), 3.0 * x.cos())
            } else if x < 1.5 {
                (x.exp() - x, x.exp() - 1.0)
            } else {
                (x.ln(), 1.0 / x)
            };
            let ds = if y > 0.0 { dy } else { -dy };
            vec![ds + if x > 0.0 { 0.5 / x.sqrt() } else { 0.0 }]
        },
    );
}

#[differentiable]
fn boolean_conditions(x: &[f64]) -> f64 {
    let mut s = x[0];
    if x[0] > 0.0 && x[1] > 0.0 {
        s *= x[1];
    }
    if x[2] < 0.0 || !(x[1] < 1.0) {
        s += x[2] * x[2];
    }
    let flag = x[0] * x[1] > 0.5;
    if flag == true {
        s = s.exp();
    }
    if x.len() != 3 {
        s = 0.0;
    }
    s
}

#[test]
fn boolean_logic_in_conditions() {
    let pts = vec![
        vec![0.5, 0.7, 0.3],
        vec![0.9, 1.4, 0.2],
        vec![-0.5, 1.2, -0.3],
        vec![1.2, -0.4, -0.8],
        vec![-0.7, -1.1, 0.6],
    ];
    check_all(
        &slice_fns!(
            boolean_conditions,
            boolean_conditions_grad,
            boolean_conditions_jvp,
            boolean_conditions_grad_into,
            boolean_conditions_vjp
        ),
        &pts,
    );
}

#[differentiable]
fn nested_branches(x: f64, y: f64) -> f64 {
    let mut r = x;
    if x > 0.0 {
        if y > 0.0 {
            r = x * y;
        } else {
            r = x / (1.0 - y);
            if x > 1.0 {
                r *= x;
            }
        }
    } else {
        let t = if y > 0.0 { y.exp() } else { y.cos() };
        r = r * t;
    }
    r
}

#[test]
fn nested_if_else() {
    let pts = vec![vec![0.5, 0.5], vec![0.5, -0.5], vec![1.5, -0.5], vec![-0.5, 0.5], vec![-0.5, -0.5]];
    check_all(
        &scalar2_fns!(
            nested_branches,
            nested_branches_grad,
            nested_branches_jvp,
            nested_branches_grad_into,
            nested_branches_vjp
        ),
        &pts,
    );
}

// ---------------------------------------------------------------------------------------------------
// match on inactive values
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn by_mode(x: f64, mode: usize) -> f64 {
    let y = match mode {
        0 => x * x,
        1 | 2 => x.sin() * mode as f64,
        k if k % 2 == 0 => x.exp() * k as f64,
        k => {
            let t = x * k as f64;
            t.cos()
        }
    };
    let mut z = y;
    match mode % 3 {
        0 => z += x,
        1 => {
            z *= x;
        }
        _ => {}
    }
    z
}

#[test]
fn match_with_guards_and_bindings() {
    for mode in 0..7usize {
        let pts = points(30 + mode as u64, 1, -1.5, 1.5);
        check_all_closed(
            &Scalar {
                f: &|x| by_mode(x[0], mode),
                grad: &|x| {
                    let (v, g) = by_mode_grad(x[0], mode);
                    (v, vec![g])
                },
                jvp: &|x, v| by_mode_jvp(x[0], v[0], mode),
                grad_into: &|x, g| by_mode_grad_into(x[0], mode, &mut g[0]),
                vjp: &|x, z, g| by_mode_vjp(x[0], mode, z, &mut g[0]),
            },
            &pts,
            |p| {
                let x = p[0];
                let m = mode as f64;
                let (y, dy) = match mode {
                    0 => (x * x, 2.0 * x),
                    1 | 2 => (x.sin() * m, x.cos() * m),
                    k if k % 2 == 0 => (x.exp() * m, x.exp() * m),
                    _ => ((x * m).cos(), -(x * m).sin() * m),
                };
                vec![match mode % 3 {
                    0 => dy + 1.0,
                    1 => dy * x + y,
                    _ => dy,
                }]
            },
        );
    }
}

#[differentiable]
fn match_on_comparisons(x: f64, y: f64) -> f64 {
    let quadrant = match (x > 0.0, y > 0.0) {
        (true, true) => 0,
        (false, true) => 1,
        (false, false) => 2,
        (true, false) => 3,
    };
    match quadrant {
        0 => x * y,
        1 => -x * y * y,
        2 => (x + y).exp(),
        _ => x.powi(3) - y,
    }
}

#[test]
fn match_on_tuple_of_booleans() {
    let pts = vec![vec![0.5, 0.7], vec![-0.5, 0.7], vec![-0.5, -0.7], vec![0.5, -0.7], vec![1.3, 2.1]];
    check_all_closed(
        &scalar2_fns!(
            match_on_comparisons,
            match_on_comparisons_grad,
            match_on_comparisons_jvp,
            match_on_comparisons_grad_into,
            match_on_comparisons_vjp
        ),
        &pts,
        |p| {
            let (x, y) = (p[0], p[1]);
            match (x > 0.0, y > 0.0) {
                (true, true) => vec![y, x],
                (false, true) => vec![-y * y, -2.0 * x * y],
                (false, false) => vec![(x + y).exp(), (x + y).exp()],
                (true, false) => vec![3.0 * x * x, -1.0],
            }
        },
    );
}

// ---------------------------------------------------------------------------------------------------
// Early return
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn early_return(x: f64, y: f64) -> f64 {
    let a = x * y;
    if a > 1.0 {
        return a.ln();
    }
    let b = a + x;
    if b < -1.0 {
        return b * b;
    }
    (b * y).sin()
}

#[test]
fn early_return_from_top_level_branches() {
    let pts = vec![vec![1.5, 1.5], vec![-2.0, 0.2], vec![0.3, 0.4], vec![-0.3, 0.6], vec![2.0, 0.3]];
    check_all_closed(
        &scalar2_fns!(early_return, early_return_grad, early_return_jvp, early_return_grad_into, early_return_vjp),
        &pts,
        |p| {
            let (x, y) = (p[0], p[1]);
            let a = x * y;
            if a > 1.0 {
                return vec![1.0 / x, 1.0 / y];
            }
            let b = a + x;
            if b < -1.0 {
                return vec![2.0 * b * (y + 1.0), 2.0 * b * x];
            }
            let c = (b * y).cos();
            vec![c * (y + 1.0) * y, c * (x * y + b)]
        },
    );
}

#[differentiable]
fn return_inside_match(x: f64, k: i32) -> f64 {
    let y = x * 2.0;
    match k {
        0 => return y.exp(),
        1 => {
            if x > 0.0 {
                return y.sqrt();
            }
        }
        _ => {}
    }
    y * y * k as f64
}

#[test]
fn early_return_inside_match_arms() {
    for k in [0, 1, 2] {
        for x in [0.4, -0.7, 1.3] {
            let (v, g) = return_inside_match_grad(x, k);
            assert_eq!(v, return_inside_match(x, k));
            let expected = match k {
                0 => 2.0 * (2.0 * x).exp(),
                1 if x > 0.0 => 1.0 / (2.0 * x).sqrt(),
                _ => 8.0 * x * k as f64,
            };
            assert_close(g, expected, 1e-12, &format!("k = {k}, x = {x}"));
            let (_, s) = return_inside_match_jvp(x, 1.0, k);
            assert_close(s, expected, 1e-12, &format!("JVP, k = {k}, x = {x}"));
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// no_grad
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn stop_gradient(x: f64, y: f64) -> f64 {
    let c = no_grad(x * y);
    let d = adjoint::no_grad(x.sin());
    c * x + d * y + no_grad(y) * y
}

#[test]
fn no_grad_against_closed_form() {
    // The finite difference would differentiate through `no_grad` (the identity at run time), so the
    // expected gradient is the closed form with the stopped values held constant.
    let mut r = rng(40);
    for x in points(40, 2, -2.0, 2.0) {
        let (a, b) = (x[0], x[1]);
        let expected = [a * b, a.sin() + b];
        let (v, (gx, gy)) = stop_gradient_grad(a, b);
        assert_close(v, stop_gradient(a, b), 1e-14, "value");
        assert_all_close(&[gx, gy], &expected, 1e-13, &format!("no_grad gradient at {x:?}"));
        let dir = random_vec(&mut r, 2);
        let (_, s) = stop_gradient_jvp(a, dir[0], b, dir[1]);
        assert_dot(&expected, &dir, s, "no_grad JVP");
        let (mut bx, mut by) = (1.0, -1.0);
        stop_gradient_vjp(a, b, 2.0, &mut bx, &mut by);
        assert_all_close(&[bx, by], &[1.0 + 2.0 * expected[0], -1.0 + 2.0 * expected[1]], 1e-13, "no_grad VJP");
    }
}

#[differentiable]
fn normalised(x: &[f64]) -> f64 {
    // A softmax-style weight whose normaliser is held constant.
    let mut z = 0.0;
    for xi in x.iter() {
        z += xi.exp();
    }
    let zc = no_grad(z);
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (x[i].exp() / zc) * (i as f64 + 1.0);
    }
    s
}

#[test]
fn no_grad_of_a_loop_accumulator() {
    for x in points(41, 4, -1.0, 1.0) {
        let z: f64 = x.iter().map(|v| v.exp()).sum();
        let expected: Vec<f64> = x.iter().enumerate().map(|(i, v)| v.exp() / z * (i as f64 + 1.0)).collect();
        let (value, g) = normalised_grad(&x);
        assert_eq!(value, normalised(&x));
        assert_all_close(&g, &expected, 1e-12, "gradient with a stopped normaliser");
        let v = vec![0.3, -0.2, 0.5, 0.1];
        let (_, s) = normalised_jvp(&x, &v);
        assert_dot(&expected, &v, s, "JVP with a stopped normaliser");
    }
}
