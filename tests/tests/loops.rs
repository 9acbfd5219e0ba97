//! Loops: every `for` iterator form, `while`, `loop` with `break`/`continue`, early returns from nested
//! loops, data-dependent trip counts, a 100 000-iteration reverse sweep and three-deep nesting.

#[macro_use]
mod common;

use adjoint::differentiable;
use common::*;

// ---------------------------------------------------------------------------------------------------
// for over ranges
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn neighbours(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 1..=x.len() - 1 {
        s += x[i] * x[i - 1];
    }
    for i in 0..x.len() {
        s += 0.5 * x[i] * x[i];
    }
    s
}

#[test]
fn range_and_inclusive_range() {
    let pts = points(100, 5, -2.0, 2.0);
    check_all_closed(
        &slice_fns!(neighbours, neighbours_grad, neighbours_jvp, neighbours_grad_into, neighbours_vjp),
        &pts,
        |x| {
            let n = x.len();
            (0..n)
                .map(|i| {
                    let left = if i > 0 { x[i - 1] } else { 0.0 };
                    let right = if i + 1 < n { x[i + 1] } else { 0.0 };
                    left + right + x[i]
                })
                .collect()
        },
    );
}

#[differentiable]
fn horner(c: &[f64], t: f64) -> f64 {
    // c[0] + c[1] t + c[2] t² + …, evaluated from the highest coefficient down.
    let mut p = 0.0;
    for i in (0..c.len()).rev() {
        p = p * t + c[i];
    }
    p
}

#[test]
fn reversed_range_horner() {
    let mut pts = points(101, 5, -1.5, 1.5);
    for p in &mut pts {
        p.push(p[0] * 0.7); // t
    }
    check_all_closed(
        &Scalar {
            f: &|x| horner(&x[..5], x[5]),
            grad: &|x| {
                let (v, (gc, gt)) = horner_grad(&x[..5], x[5]);
                (v, [gc, vec![gt]].concat())
            },
            jvp: &|x, v| horner_jvp(&x[..5], &v[..5], x[5], v[5]),
            grad_into: &|x, g| {
                let (gc, gt) = g.split_at_mut(5);
                horner_grad_into(&x[..5], x[5], gc, &mut gt[0])
            },
            vjp: &|x, z, g| {
                let (gc, gt) = g.split_at_mut(5);
                horner_vjp(&x[..5], x[5], z, gc, &mut gt[0])
            },
        },
        &pts,
        |x| {
            let t = x[5];
            let mut g: Vec<f64> = (0..5).map(|i| t.powi(i as i32)).collect();
            g.push((1..5).map(|i| i as f64 * x[i] * t.powi(i as i32 - 1)).sum());
            g
        },
    );
}

#[differentiable]
fn strided(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in (0..x.len() - 1).step_by(2) {
        s += x[i] * x[i + 1].sin();
    }
    for i in (1..x.len()).step_by(3) {
        s += x[i].exp();
    }
    for i in (0..x.len()).step_by(2).rev() {
        s = s * 0.5 + x[i];
    }
    s
}

#[test]
fn step_by_and_reversed_step_by() {
    let pts = points(102, 7, -1.5, 1.5);
    check_all(&slice_fns!(strided, strided_grad, strided_jvp, strided_grad_into, strided_vjp), &pts);
}

#[differentiable]
fn offset_range(x: &[f64], start: usize) -> f64 {
    let mut s = 1.0;
    for i in start..x.len() {
        s = s * x[i] + 1.0;
    }
    for _ in start..start {
        s = 0.0;
    }
    for i in x.len()..x.len() {
        s += x[i];
    }
    s
}

#[test]
fn ranges_with_data_bounds_and_empty_ranges() {
    for start in [0usize, 2, 4] {
        let pts = points(103 + start as u64, 4, -1.5, 1.5);
        check_all(
            &Scalar {
                f: &|x| offset_range(x, start),
                grad: &|x| offset_range_grad(x, start),
                jvp: &|x, v| offset_range_jvp(x, v, start),
                grad_into: &|x, g| offset_range_grad_into(x, start, g),
                vjp: &|x, z, g| offset_range_vjp(x, start, z, g),
            },
            &pts,
        );
    }
}

// ---------------------------------------------------------------------------------------------------
// for over slices
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn product(x: &[f64]) -> f64 {
    let mut p = 1.0;
    for xi in x.iter() {
        p *= xi;
    }
    p
}

#[test]
fn iter_product() {
    let pts = points(110, 5, 0.3, 2.0);
    check_all_closed(&slice_fns!(product, product_grad, product_jvp, product_grad_into, product_vjp), &pts, |x| {
        let p: f64 = x.iter().product();
        x.iter().map(|xi| p / xi).collect()
    });
}

#[differentiable]
fn weighted_squares(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, xi) in x.iter().enumerate() {
        s += (i as f64 + 1.0) * xi.powi(2);
    }
    for (i, &xi) in x.iter().enumerate() {
        if i % 2 == 0 {
            s += xi.sin();
        }
    }
    s
}

#[test]
fn iter_enumerate() {
    let pts = points(111, 5, -2.0, 2.0);
    check_all_closed(
        &slice_fns!(
            weighted_squares,
            weighted_squares_grad,
            weighted_squares_jvp,
            weighted_squares_grad_into,
            weighted_squares_vjp
        ),
        &pts,
        |x| {
            x.iter()
                .enumerate()
                .map(|(i, xi)| 2.0 * (i as f64 + 1.0) * xi + if i % 2 == 0 { xi.cos() } else { 0.0 })
                .collect()
        },
    );
}

#[differentiable]
fn zipped(x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for (a, b) in x.iter().zip(y.iter()) {
        s += a * b + (a - b).powi(2);
    }
    for (&a, b) in x.iter().zip(y) {
        s += a.sin() * b;
    }
    s
}

#[test]
fn iter_zip_of_two_slices() {
    let pts = points(112, 8, -2.0, 2.0);
    check_all_closed(
        &Scalar {
            f: &|p| zipped(&p[..4], &p[4..]),
            grad: &|p| {
                let (v, (gx, gy)) = zipped_grad(&p[..4], &p[4..]);
                (v, [gx, gy].concat())
            },
            jvp: &|p, v| zipped_jvp(&p[..4], &v[..4], &p[4..], &v[4..]),
            grad_into: &|p, g| {
                let (gx, gy) = g.split_at_mut(4);
                zipped_grad_into(&p[..4], &p[4..], gx, gy)
            },
            vjp: &|p, z, g| {
                let (gx, gy) = g.split_at_mut(4);
                zipped_vjp(&p[..4], &p[4..], z, gx, gy)
            },
        },
        &pts,
        |p| {
            let (x, y) = p.split_at(4);
            let gx = (0..4).map(|i| y[i] + 2.0 * (x[i] - y[i]) + x[i].cos() * y[i]);
            let gy = (0..4).map(|i| x[i] - 2.0 * (x[i] - y[i]) + x[i].sin());
            gx.chain(gy).collect()
        },
    );
}

#[differentiable]
fn reversed_iterators(c: &[f64], t: f64) -> f64 {
    let mut p = 0.0;
    for ci in c.iter().rev() {
        p = p * t + ci;
    }
    let mut q = 0.0;
    for (i, ci) in c.iter().enumerate().rev() {
        q = q * 0.5 + ci * i as f64;
    }
    let mut r = 0.0;
    for (a, b) in c.iter().zip(c.iter()).rev() {
        r = r * t + a * b;
    }
    p + q + r
}

#[test]
fn rev_on_iter_enumerate_and_zip() {
    let mut pts = points(113, 4, -1.5, 1.5);
    for p in &mut pts {
        p.push(0.3 + 0.5 * p[0].abs());
    }
    check_all(
        &Scalar {
            f: &|x| reversed_iterators(&x[..4], x[4]),
            grad: &|x| {
                let (v, (gc, gt)) = reversed_iterators_grad(&x[..4], x[4]);
                (v, [gc, vec![gt]].concat())
            },
            jvp: &|x, v| reversed_iterators_jvp(&x[..4], &v[..4], x[4], v[4]),
            grad_into: &|x, g| {
                let (gc, gt) = g.split_at_mut(4);
                reversed_iterators_grad_into(&x[..4], x[4], gc, &mut gt[0])
            },
            vjp: &|x, z, g| {
                let (gc, gt) = g.split_at_mut(4);
                reversed_iterators_vjp(&x[..4], x[4], z, gc, &mut gt[0])
            },
        },
        &pts,
    );
    // Against Horner's closed form for the first loop: p = Σ cᵢ tⁱ.
    let c = [0.5, -1.0, 2.0, 0.25];
    let t = 0.8;
    let (_, (gc, _)) = reversed_iterators_grad(&c, t);
    for i in 0..4 {
        let expected = t.powi(i as i32) + i as f64 * 0.5f64.powi(i as i32) + 2.0 * c[i] * t.powi(i as i32);
        assert_close(gc[i], expected, 1e-12, &format!("∂/∂c[{i}]"));
    }
}

#[differentiable]
fn iterate_local(x: &[f64]) -> f64 {
    let mut a = vec![0.0; x.len()];
    for i in 0..x.len() {
        a[i] = x[i] * x[i] + 1.0;
    }
    let mut s = 0.0;
    for ai in a.iter() {
        s += ai.ln();
    }
    for (i, ai) in a.iter().enumerate() {
        s += ai * i as f64;
    }
    s
}

#[test]
fn iter_over_a_local_vector() {
    let pts = points(114, 4, -2.0, 2.0);
    check_all_closed(
        &slice_fns!(iterate_local, iterate_local_grad, iterate_local_jvp, iterate_local_grad_into, iterate_local_vjp),
        &pts,
        |x| (0..x.len()).map(|i| 2.0 * x[i] / (x[i] * x[i] + 1.0) + 2.0 * x[i] * i as f64).collect(),
    );
}

// ---------------------------------------------------------------------------------------------------
// while, loop, break, continue
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn logistic_map(r: f64, y0: f64) -> f64 {
    let mut y = y0;
    let mut k = 0;
    while k < 12 {
        y = r * y * (1.0 - y);
        k += 1;
    }
    y
}

#[test]
fn while_with_counter_overwrites_state() {
    let pts = points_in(120, POINTS, &[(2.5, 3.2), (0.2, 0.8)]);
    check_all(
        &scalar2_fns!(logistic_map, logistic_map_grad, logistic_map_jvp, logistic_map_grad_into, logistic_map_vjp),
        &pts,
    );
}

#[differentiable]
fn skip_and_stop(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut i = 0;
    loop {
        if i >= x.len() {
            break;
        }
        let xi = x[i];
        i += 1;
        if xi < 0.0 {
            continue;
        }
        s = s * xi.sqrt() + xi;
        if s > 6.0 {
            break;
        }
    }
    s
}

#[test]
fn loop_with_break_and_continue() {
    let pts = vec![
        vec![0.5, -0.3, 1.2, 0.8, -1.0, 2.0],
        vec![2.5, 3.0, 4.0, -0.5, 1.0, 1.0], // breaks after the third element
        vec![-1.0, -2.0, 0.7, -0.1, 0.2, 0.9],
        vec![1.5, 1.1, -0.4, 1.3, 0.6, 0.45],
    ];
    check_all(
        &slice_fns!(skip_and_stop, skip_and_stop_grad, skip_and_stop_jvp, skip_and_stop_grad_into, skip_and_stop_vjp),
        &pts,
    );
}

#[differentiable]
fn for_with_break_and_continue(x: &[f64]) -> f64 {
    let mut s = 1.0;
    for i in 0..x.len() {
        if i == 1 {
            continue;
        }
        s *= 1.0 + x[i] * x[i];
        if s > 20.0 {
            break;
        }
        s += x[i];
    }
    let mut j = 0;
    while j < x.len() {
        j += 1;
        if x[j - 1] > 1.0 {
            continue;
        }
        s -= x[j - 1] * 0.25;
        if j == 4 {
            break;
        }
    }
    s
}

#[test]
fn for_and_while_with_break_and_continue() {
    let pts = vec![
        vec![0.5, 0.3, -0.2, 0.8, 0.1, -0.6],
        vec![2.0, 0.9, 3.0, 0.5, 1.2, 0.4],
        vec![-0.4, 1.8, 0.9, -0.3, 0.2, 1.1],
        vec![1.5, 0.2, 1.3, 1.2, 0.7, 0.6],
    ];
    check_all(
        &slice_fns!(
            for_with_break_and_continue,
            for_with_break_and_continue_grad,
            for_with_break_and_continue_jvp,
            for_with_break_and_continue_grad_into,
            for_with_break_and_continue_vjp
        ),
        &pts,
    );
}

#[differentiable]
fn enumerate_continue_return(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, &xi) in x.iter().enumerate() {
        if s > 2.0 {
            return s * xi;
        }
        if i % 2 == 1 {
            continue;
        }
        s += xi.exp();
    }
    s.sin()
}

#[test]
fn enumerate_with_continue_and_early_return() {
    // Returns at the third element for the first point; runs to the end for the second.
    let pts = vec![vec![0.5, 1.2, -0.3, 0.8], vec![0.5, 0.2, 0.3, 0.8, 0.1], vec![-1.0, 3.0, -0.5, 2.0, 0.4, 1.0]];
    check_all(
        &slice_fns!(
            enumerate_continue_return,
            enumerate_continue_return_grad,
            enumerate_continue_return_jvp,
            enumerate_continue_return_grad_into,
            enumerate_continue_return_vjp
        ),
        &pts,
    );
}

#[differentiable]
fn fixed_then_halving(x: f64) -> f64 {
    let mut y = x;
    let mut k = 0;
    while k < 5 {
        y = y.sin() + x;
        k += 1;
    }
    loop {
        y = y * 0.5;
        if y < 0.1 {
            break;
        }
    }
    y
}

#[test]
fn while_counter_then_loop_until_small() {
    let pts = vec![vec![0.7], vec![0.3], vec![1.9], vec![1.1]];
    check_all(
        &scalar_fns!(
            fixed_then_halving,
            fixed_then_halving_grad,
            fixed_then_halving_jvp,
            fixed_then_halving_grad_into,
            fixed_then_halving_vjp
        ),
        &pts,
    );
}

// ---------------------------------------------------------------------------------------------------
// Data-dependent trip counts
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn grow_until(x: f64) -> f64 {
    let mut y = x;
    let mut k = 0;
    while y < 100.0 {
        y = y * x;
        k += 1;
    }
    y + k as f64
}

/// The trip count of `grow_until`, in plain Rust.
fn grow_steps(x: f64) -> i32 {
    let (mut y, mut k) = (x, 0);
    while y < 100.0 {
        y *= x;
        k += 1;
    }
    k
}

#[test]
fn while_on_a_float_condition() {
    // y = x^(k+1) with k the number of trips: dy/dx = (k+1)·x^k. Keep only points whose trip count does
    // not change within the finite-difference stencil.
    let pts: Vec<Vec<f64>> = points(130, 1, 1.2, 4.0)
        .into_iter()
        .chain(points(131, 1, 1.2, 4.0))
        .filter(|p| {
            let h = 3e-3 * p[0];
            grow_steps(p[0] - h) == grow_steps(p[0] + h)
        })
        .collect();
    assert!(pts.len() >= 5);
    check_all_closed(
        &scalar_fns!(grow_until, grow_until_grad, grow_until_jvp, grow_until_grad_into, grow_until_vjp),
        &pts,
        |p| {
            let k = grow_steps(p[0]);
            vec![(k + 1) as f64 * p[0].powi(k)]
        },
    );
}

#[differentiable]
fn newton_sqrt(a: f64) -> f64 {
    let mut y = 1.0 + a;
    let mut steps = 0;
    loop {
        let next = 0.5 * (y + a / y);
        steps += 1;
        if (next - y).abs() < 1e-13 * a || steps > 100 {
            y = next;
            break;
        }
        y = next;
    }
    y
}

#[test]
fn newton_iteration_until_convergence() {
    // Differentiating through the converged iteration gives the derivative of the root.
    for x in points(132, 1, 0.5, 50.0) {
        let a = x[0];
        let (v, g) = newton_sqrt_grad(a);
        assert_eq!(v, newton_sqrt(a));
        assert_close(v, a.sqrt(), 1e-14, "value");
        assert_close(g, 0.5 / a.sqrt(), 1e-9, &format!("d√a/da at {a}"));
        let (_, s) = newton_sqrt_jvp(a, 1.0);
        assert_close(s, g, 1e-12, "JVP vs gradient");
    }
}

#[differentiable]
fn bisect_then_scale(x: f64) -> f64 {
    // The number of halvings depends on x; the result is x / 2^k with 1 ≤ x/2^k < 2.
    let mut y = x;
    while y >= 2.0 {
        y *= 0.5;
    }
    y * y
}

#[test]
fn halving_loop_with_data_dependent_count() {
    let pts = vec![vec![3.0], vec![5.5], vec![13.0], vec![100.0], vec![1.3]];
    check_all_closed(
        &scalar_fns!(
            bisect_then_scale,
            bisect_then_scale_grad,
            bisect_then_scale_jvp,
            bisect_then_scale_grad_into,
            bisect_then_scale_vjp
        ),
        &pts,
        |p| {
            let k = (p[0] / 2.0).log2().floor() as i32 + 1;
            let k = k.max(0);
            let s = 0.5f64.powi(k);
            vec![2.0 * p[0] * s * s]
        },
    );
}

// ---------------------------------------------------------------------------------------------------
// Early return from nested loops
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn first_large_pair(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let mut j = 0;
        while j < x.len() {
            s += x[i] * x[j] * 0.1;
            if s > 2.0 {
                return s * x[i];
            }
            j += 1;
        }
        s = s.sin();
    }
    s.exp()
}

#[test]
fn early_return_inside_nested_loops() {
    let pts = vec![
        vec![0.5, 1.0, 2.5, 3.0],  // returns from the inner loop
        vec![0.1, 0.2, -0.3, 0.4], // never returns early
        vec![2.0, 2.2, 1.9, 2.1],
        vec![-1.0, 0.5, 0.3, 0.2],
        vec![1.0, -2.0, 3.3, 1.4],
    ];
    check_all(
        &slice_fns!(
            first_large_pair,
            first_large_pair_grad,
            first_large_pair_jvp,
            first_large_pair_grad_into,
            first_large_pair_vjp
        ),
        &pts,
    );
}

#[differentiable]
fn return_from_loop(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, xi) in x.iter().enumerate() {
        s += xi * xi;
        if s > 3.0 {
            return s.sqrt() + i as f64;
        }
    }
    -s
}

#[test]
fn early_return_from_a_single_loop() {
    for x in [vec![0.5, 1.0, 2.0, 3.0], vec![0.2, 0.3, -0.4, 0.1], vec![-2.0, 0.1, 0.2, 0.3]] {
        let (v, g) = return_from_loop_grad(&x);
        assert_eq!(v, return_from_loop(&x));
        let mut s = 0.0;
        let mut expected = vec![0.0; x.len()];
        let mut returned = false;
        for i in 0..x.len() {
            s += x[i] * x[i];
            if s > 3.0 {
                for j in 0..=i {
                    expected[j] = x[j] / s.sqrt();
                }
                returned = true;
                break;
            }
        }
        if !returned {
            expected = x.iter().map(|xi| -2.0 * xi).collect();
        }
        assert_all_close(&g, &expected, 1e-12, &format!("gradient at {x:?}"));
    }
}

// ---------------------------------------------------------------------------------------------------
// Long loops: reverse mode through 100 000 iterations
// ---------------------------------------------------------------------------------------------------

const LONG: usize = 100_000;

#[differentiable]
fn long_product(x: &[f64]) -> f64 {
    let mut p = 1.0;
    for k in 0..100_000 {
        p *= 1.0 + 1e-5 * x[k % 3];
    }
    p
}

#[test]
fn reverse_through_100k_iteration_product() {
    // p = Π (1 + 10⁻⁵ xⱼ)^nⱼ with n = (33334, 33333, 33333).
    let counts = [(LONG + 2) / 3, (LONG + 1) / 3, LONG / 3];
    for x in points_in(140, 2, &[(-2.0, 2.0); 3]) {
        let (p, g) = long_product_grad(&x);
        assert_eq!(p, long_product(&x));
        let expected: Vec<f64> = (0..3).map(|j| p * counts[j] as f64 * 1e-5 / (1.0 + 1e-5 * x[j])).collect();
        assert_all_close(&g, &expected, 1e-9, "100k product gradient vs closed form");
        let v = [0.3, -0.7, 0.2];
        let (_, s) = long_product_jvp(&x, &v);
        assert_dot(&g, &v, s, "100k product JVP");
        let mut buf = [9.0; 3];
        long_product_grad_into(&x, &mut buf);
        assert_all_close(&buf, &g, 1e-14, "100k product grad_into");
    }
}

#[differentiable]
fn long_recurrence(p: &[f64]) -> f64 {
    // Explicit Euler for y' = b − a·y², y(0) = 1, on [0, 1] with 100 000 steps: the state is
    // overwritten every step and the reverse sweep needs each old value.
    let (a, b) = (p[0], p[1]);
    let mut y = 1.0;
    let dt = 1e-5;
    let mut i = 0;
    while i < 100_000 {
        y = y + dt * (b - a * y * y);
        i += 1;
    }
    y
}

#[test]
fn reverse_through_100k_iteration_recurrence() {
    let pts = points_in(141, 2, &[(0.5, 2.0), (0.5, 2.0)]);
    for x in &pts {
        let (y, g) = long_recurrence_grad(x);
        assert_eq!(y, long_recurrence(x));
        check_gradient_fd(|p| long_recurrence(p), x, &g);
        // The continuous solution: y = √(b/a)·tanh(√(ab)·t + atanh(√(a/b))) (for a < b); Euler with
        // dt = 10⁻⁵ is within 10⁻⁴ of it.
        let (a, b) = (x[0], x[1]);
        if a < b {
            let exact = (b / a).sqrt() * ((a * b).sqrt() + (a / b).sqrt().atanh()).tanh();
            assert!((y - exact).abs() < 1e-4, "Euler solution {y} far from {exact}");
        }
        let (_, s) = long_recurrence_jvp(x, &[1.0, -0.5]);
        assert_dot(&g, &[1.0, -0.5], s, "100k recurrence JVP");
    }
}

#[differentiable]
fn long_array_updates(x: &[f64]) -> f64 {
    // 100 000 indexed overwrites of a 4-element array: the reverse sweep undoes each one.
    let mut a = [0.0; 4];
    for k in 0..100_000 {
        let j = k % 4;
        a[j] = (0.5 * a[j] + x[j]).sin();
    }
    a[0] * a[1] + a[2] - a[3] * a[3]
}

#[test]
fn reverse_through_100k_indexed_overwrites() {
    for x in points(142, 4, -1.0, 1.0).into_iter().take(2) {
        let (v, g) = long_array_updates_grad(&x);
        assert_eq!(v, long_array_updates(&x));
        check_gradient_fd(|p| long_array_updates(p), &x, &g);
        let dir = [0.1, 0.2, -0.3, 0.4];
        let (_, s) = long_array_updates_jvp(&x, &dir);
        assert_dot(&g, &dir, s, "100k array JVP");
    }
}

#[track_caller]
fn check_gradient_fd(f: impl Fn(&[f64]) -> f64, x: &[f64], g: &[f64]) {
    let opts = adjoint::CheckOptions { rtol: FD_RTOL, ..Default::default() };
    if let Err(e) = adjoint::check_gradient(f, x, g, opts) {
        panic!("gradient at {x:?} fails the finite-difference check: {e}\n  gradient: {g:?}");
    }
}

// ---------------------------------------------------------------------------------------------------
// Three-deep nesting
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn nested3(x: &[f64]) -> f64 {
    let n = x.len();
    let mut acc = 0.0;
    let mut a = vec![0.0; n];
    let mut t = x[0];
    for i in 0..3 {
        t = t.sin() + x[(i + 1) % n];
        for j in 0..n {
            a[j] = a[j] * 0.5 + t * x[j];
            for k in 0..j + 1 {
                acc += a[k] * t * 0.1;
                t = t * 0.9 + 0.1 * x[k].cos();
                a[k] *= 0.95;
            }
            a[j] += acc * 0.01;
        }
        acc = acc.tanh();
    }
    acc + t * a[n - 1]
}

#[test]
fn three_deep_nesting_with_overwrites() {
    let pts = points(150, 4, -1.5, 1.5);
    check_all(&slice_fns!(nested3, nested3_grad, nested3_jvp, nested3_grad_into, nested3_vjp), &pts);
}

#[differentiable]
fn nested3_with_exits(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut buf = [0.0; 3];
    let mut i = 0;
    while i < 3 {
        let mut m = x[i];
        for j in (0..3).rev() {
            if j == i {
                continue;
            }
            let mut k = 0;
            loop {
                if k == 2 {
                    break;
                }
                buf[k] = buf[k] * m + x[j];
                m = m * 0.8 + buf[k].tanh();
                if m > 50.0 {
                    return m;
                }
                k += 1;
            }
            s += m * buf[j];
        }
        buf[i] = s;
        i += 1;
    }
    s + buf[0] * buf[2]
}

#[test]
fn three_deep_nesting_of_while_for_and_loop() {
    let pts = points(151, 3, -1.2, 1.2);
    check_all(
        &slice_fns!(
            nested3_with_exits,
            nested3_with_exits_grad,
            nested3_with_exits_jvp,
            nested3_with_exits_grad_into,
            nested3_with_exits_vjp
        ),
        &pts,
    );
}

// ---------------------------------------------------------------------------------------------------
// Integer and boolean loop state, reads before overwrites
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn integer_state(x: &[f64]) -> f64 {
    // The reverse sweep needs k, flip and idx as they were in each iteration.
    let mut k = 1;
    let mut s = 0.0;
    let mut flip = false;
    let mut idx = 0;
    for i in 0..x.len() {
        if flip {
            s += x[i] * k as f64;
        } else {
            s = s * x[i] + 1.0;
        }
        flip = !flip;
        k *= 2;
        if x[i] > x[idx] {
            idx = i;
        }
        s = s.sin() * (idx as f64 + 1.0);
    }
    s + x[idx] * s
}

#[test]
fn integer_and_boolean_state_overwritten_in_a_loop() {
    let pts = points(160, 5, -1.0, 1.0);
    check_all(
        &slice_fns!(integer_state, integer_state_grad, integer_state_jvp, integer_state_grad_into, integer_state_vjp),
        &pts,
    );
}

#[differentiable]
fn read_then_overwrite(x: &[f64]) -> f64 {
    // A local vector is iterated over, then overwritten; a scalar is read by a loop, then overwritten.
    let mut a = x.to_vec();
    let mut s = 0.0;
    for ai in a.iter() {
        s += ai.sin() * s + ai;
    }
    for i in 0..a.len() {
        a[i] = s * a[i];
    }
    let mut t = s;
    for (i, ai) in a.iter().enumerate() {
        t = t * ai + i as f64;
    }
    s = t * 2.0;
    t = s * s;
    t + a[0] + s
}

#[test]
fn loop_inputs_overwritten_after_the_loop() {
    let pts = points(161, 3, -0.8, 0.8);
    check_all(
        &slice_fns!(
            read_then_overwrite,
            read_then_overwrite_grad,
            read_then_overwrite_jvp,
            read_then_overwrite_grad_into,
            read_then_overwrite_vjp
        ),
        &pts,
    );
}

#[differentiable]
fn nested_continue_break(x: &[f64]) -> f64 {
    let mut s = 1.0;
    let mut a = [0.0; 4];
    for i in 0..4 {
        for j in 0..4 {
            if j == i {
                continue;
            }
            if x[j] < -0.5 {
                break;
            }
            a[j] += x[i] * s;
            s = s * 0.9 + a[j] * 0.1;
        }
        if s > 3.0 {
            break;
        }
        a[i] = a[i].tanh();
    }
    s + a[0] * a[3]
}

#[test]
fn continue_and_break_in_inner_and_outer_loops() {
    let pts = vec![
        vec![0.5, 0.3, -0.2, 0.8],
        vec![0.5, -0.9, 0.2, 0.8],
        vec![1.5, 1.3, 1.2, 1.8],
        vec![-0.1, 0.4, -0.7, 0.9],
    ];
    check_all(
        &slice_fns!(
            nested_continue_break,
            nested_continue_break_grad,
            nested_continue_break_jvp,
            nested_continue_break_grad_into,
            nested_continue_break_vjp
        ),
        &pts,
    );
}

#[differentiable]
fn while_condition_on_array(x: &[f64]) -> f64 {
    let mut a = x.to_vec();
    let mut i = 0;
    while i < a.len() && a[i] < 2.0 {
        a[i] = a[i] * 1.5 + 0.5;
        if a[i] > 1.0 {
            i += 1;
        }
    }
    let mut s = 0.0;
    for ai in a.iter() {
        s += ai * ai;
    }
    s
}

#[test]
fn while_condition_reads_an_array_the_body_writes() {
    let pts = vec![vec![0.1, 0.3, 1.7], vec![0.35, 2.5, 0.2], vec![-0.3, 0.45, 0.6]];
    check_all(
        &slice_fns!(
            while_condition_on_array,
            while_condition_on_array_grad,
            while_condition_on_array_jvp,
            while_condition_on_array_grad_into,
            while_condition_on_array_vjp
        ),
        &pts,
    );
}

#[differentiable]
fn return_after_writes(x: &[f64]) -> f64 {
    let mut a = vec![0.0; 3];
    let mut i = 0;
    while i < 10 {
        a[i % 3] = a[(i + 1) % 3] * x[i % 3] + x[(i + 2) % 3];
        if a[i % 3] > 3.0 {
            return a[0] * a[1] + a[2];
        }
        i += 1;
    }
    a[0] + a[1] * a[2]
}

#[test]
fn early_return_after_indexed_writes() {
    let pts = vec![vec![0.5, 0.7, 0.9], vec![1.5, 1.7, 1.2], vec![-0.5, 0.3, 0.2]];
    check_all(
        &slice_fns!(
            return_after_writes,
            return_after_writes_grad,
            return_after_writes_jvp,
            return_after_writes_grad_into,
            return_after_writes_vjp
        ),
        &pts,
    );
}

#[differentiable]
fn strided_iterators(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for xi in x.iter().step_by(2) {
        s = s * 0.5 + xi * xi;
    }
    for i in (0..x.len()).rev().step_by(2) {
        s = s * 0.7 + x[i];
    }
    s
}

#[test]
fn iter_step_by_and_rev_step_by() {
    let pts = points(162, 5, -1.0, 1.0);
    check_all(
        &slice_fns!(
            strided_iterators,
            strided_iterators_grad,
            strided_iterators_jvp,
            strided_iterators_grad_into,
            strided_iterators_vjp
        ),
        &pts,
    );
}
