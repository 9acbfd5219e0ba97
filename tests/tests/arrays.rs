//! Slices, vectors and arrays: every parameter form, local `vec![..]` and `[..]` with indexed reads and
//! writes (`=`, `+=`, `-=`, `*=`, `/=`), index arithmetic, swaps and copies.

#[macro_use]
mod common;

use adjoint::differentiable;
use common::*;

// ---------------------------------------------------------------------------------------------------
// Parameter forms
// ---------------------------------------------------------------------------------------------------

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

#[test]
fn slice_parameter_rosenbrock() {
    let pts = points(200, 6, -2.0, 2.0);
    check_all_closed(
        &slice_fns!(rosenbrock, rosenbrock_grad, rosenbrock_jvp, rosenbrock_grad_into, rosenbrock_vjp),
        &pts,
        |x| {
            let n = x.len();
            let mut g = vec![0.0; n];
            for i in 0..n - 1 {
                let b = x[i + 1] - x[i] * x[i];
                g[i] += -2.0 * (1.0 - x[i]) - 400.0 * b * x[i];
                g[i + 1] += 200.0 * b;
            }
            g
        },
    );
}

#[differentiable]
fn owned_vec(v: Vec<f64>, w: &Vec<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..v.len() {
        s += v[i].sin() * w[i] + w[i] * w[i];
    }
    s
}

#[test]
fn vec_by_value_and_by_reference() {
    let pts = points(201, 6, -2.0, 2.0);
    check_all_closed(
        &Scalar {
            f: &|p| owned_vec(p[..3].to_vec(), &p[3..].to_vec()),
            grad: &|p| {
                let (v, (gv, gw)) = owned_vec_grad(p[..3].to_vec(), &p[3..].to_vec());
                (v, [gv, gw].concat())
            },
            jvp: &|p, d| owned_vec_jvp(p[..3].to_vec(), d[..3].to_vec(), &p[3..].to_vec(), &d[3..].to_vec()),
            grad_into: &|p, g| {
                let (gv, gw) = g.split_at_mut(3);
                owned_vec_grad_into(p[..3].to_vec(), &p[3..].to_vec(), gv, gw)
            },
            vjp: &|p, z, g| {
                let (gv, gw) = g.split_at_mut(3);
                owned_vec_vjp(p[..3].to_vec(), &p[3..].to_vec(), z, gv, gw)
            },
        },
        &pts,
        |p| {
            let (v, w) = p.split_at(3);
            let gv = (0..3).map(|i| v[i].cos() * w[i]);
            let gw = (0..3).map(|i| v[i].sin() + 2.0 * w[i]);
            gv.chain(gw).collect()
        },
    );
}

#[differentiable]
fn fixed_array(p: [f64; 3], q: &[f64; 2]) -> f64 {
    p[0] * q[1] + (p[1] - q[0]).powi(2) + p[2].exp() * q[0]
}

#[test]
fn array_by_value_and_by_reference() {
    let pts = points(202, 5, -1.5, 1.5);
    let arr3 = |p: &[f64]| [p[0], p[1], p[2]];
    let arr2 = |p: &[f64]| [p[3], p[4]];
    check_all_closed(
        &Scalar {
            f: &|p| fixed_array(arr3(p), &arr2(p)),
            grad: &|p| {
                let (v, (gp, gq)): (f64, ([f64; 3], [f64; 2])) = fixed_array_grad(arr3(p), &arr2(p));
                (v, [&gp[..], &gq[..]].concat())
            },
            jvp: &|p, d| fixed_array_jvp(arr3(p), arr3(d), &arr2(p), &arr2(d)),
            grad_into: &|p, g| {
                let (mut gp, mut gq) = ([f64::NAN; 3], [f64::NAN; 2]);
                let v = fixed_array_grad_into(arr3(p), &arr2(p), &mut gp, &mut gq);
                g[..3].copy_from_slice(&gp);
                g[3..].copy_from_slice(&gq);
                v
            },
            vjp: &|p, z, g| {
                let (mut gp, mut gq) = (arr3(g), arr2(g));
                let v = fixed_array_vjp(arr3(p), &arr2(p), z, &mut gp, &mut gq);
                g[..3].copy_from_slice(&gp);
                g[3..].copy_from_slice(&gq);
                v
            },
        },
        &pts,
        |p| {
            let d = 2.0 * (p[1] - p[3]);
            vec![p[4], d, p[2].exp() * p[3], -d + p[2].exp(), p[0]]
        },
    );
}

#[differentiable]
fn sum_of_cubes<const N: usize>(x: [f64; N]) -> f64 {
    let mut s = 0.0;
    for i in 0..N {
        s += x[i] * x[i] * x[i];
    }
    s
}

#[test]
fn const_generic_array_length() {
    let (v, g) = sum_of_cubes_grad([1.0, -2.0, 0.5, 3.0]);
    assert_eq!(v, sum_of_cubes([1.0, -2.0, 0.5, 3.0]));
    assert_eq!(v, 1.0 - 8.0 + 0.125 + 27.0);
    assert_all_close(&g, &[3.0, 12.0, 0.75, 27.0], 1e-15, "gradient with N = 4");
    let (_, g2) = sum_of_cubes_grad([0.1, 0.2]);
    assert_all_close(&g2, &[0.03, 0.12], 1e-14, "gradient with N = 2");
    let (_, s) = sum_of_cubes_jvp([1.0, 2.0, 3.0], [1.0, 1.0, -1.0]);
    assert_close(s, 3.0 + 12.0 - 27.0, 1e-15, "JVP with N = 3");
}

#[differentiable]
fn mutated_vec_param(mut v: Vec<f64>) -> f64 {
    for i in 1..v.len() {
        v[i] += v[i - 1] * 0.5;
        v[i - 1] *= v[i];
    }
    let mut s = 0.0;
    for vi in v.iter() {
        s += vi.sin();
    }
    s
}

#[test]
fn owned_vec_parameter_rebound_and_written_in_place() {
    let pts = points(203, 4, -1.5, 1.5);
    check_all(
        &Scalar {
            f: &|p| mutated_vec_param(p.to_vec()),
            grad: &|p| mutated_vec_param_grad(p.to_vec()),
            jvp: &|p, d| mutated_vec_param_jvp(p.to_vec(), d.to_vec()),
            grad_into: &|p, g| mutated_vec_param_grad_into(p.to_vec(), g),
            vjp: &|p, z, g| mutated_vec_param_vjp(p.to_vec(), z, g),
        },
        &pts,
    );
}

#[differentiable]
fn mutated_array_param(mut a: [f64; 3]) -> f64 {
    a[0] = a[1] * a[2];
    a[1] -= a[0].sin();
    a[2] /= 1.0 + a[1] * a[1];
    a[0] + a[1] + a[2]
}

#[test]
fn owned_array_parameter_rebound_and_written_in_place() {
    let pts = points(204, 3, -1.5, 1.5);
    check_all(
        &Scalar {
            f: &|p| mutated_array_param([p[0], p[1], p[2]]),
            grad: &|p| {
                let (v, g) = mutated_array_param_grad([p[0], p[1], p[2]]);
                (v, g.to_vec())
            },
            jvp: &|p, d| mutated_array_param_jvp([p[0], p[1], p[2]], [d[0], d[1], d[2]]),
            grad_into: &|p, g| {
                let mut b = [f64::NAN; 3];
                let v = mutated_array_param_grad_into([p[0], p[1], p[2]], &mut b);
                g.copy_from_slice(&b);
                v
            },
            vjp: &|p, z, g| {
                let mut b = [g[0], g[1], g[2]];
                let v = mutated_array_param_vjp([p[0], p[1], p[2]], z, &mut b);
                g.copy_from_slice(&b);
                v
            },
        },
        &pts,
    );
}

// ---------------------------------------------------------------------------------------------------
// Local arrays: creation forms and indexed writes
// ---------------------------------------------------------------------------------------------------

#[differentiable]
fn local_arrays(x: &[f64]) -> f64 {
    let n = x.len();
    let mut a = vec![0.0; n];
    let mut b = [0.0; 3];
    let c = vec![x[0], x[1] * 2.0, 1.0];
    let d = [x[2], x[0] * x[1], 0.5];
    let mut e = vec![x[1]; 2];
    for i in 0..n {
        a[i] = x[i] * c[i % 3];
    }
    b[0] = a[0] + d[1];
    b[1] = b[0] * d[0];
    b[2] = e[0] * e[1];
    e[1] = b[2] + a[n - 1];
    b[0] + b[1] + b[2] + e[1] * d[2]
}

#[test]
fn vec_and_array_literals_and_repeats() {
    let pts = points(210, 4, -1.5, 1.5);
    check_all(
        &slice_fns!(local_arrays, local_arrays_grad, local_arrays_jvp, local_arrays_grad_into, local_arrays_vjp),
        &pts,
    );
}

#[differentiable]
fn compound_index_ops(x: &[f64]) -> f64 {
    let mut a = [1.0, 2.0, 3.0, 4.0];
    a[0] += x[0];
    a[1] -= x[1] * a[0];
    a[2] *= x[2];
    a[3] /= x[3];
    a[0] *= a[1];
    a[1] /= a[2];
    a[2] += a[3] * a[0];
    a[3] -= a[2].sin();
    a[0] + a[1] + a[2] + a[3]
}

#[test]
fn index_compound_assignments() {
    let pts = points(211, 4, 0.5, 2.0);
    // The function's higher derivatives are large (a sine of a product of the inputs): a smaller step
    // keeps the truncation error of the finite difference below the tolerance.
    let mut tol = Tol::default();
    tol.fd.step = 1e-4;
    check_all_with(
        &slice_fns!(
            compound_index_ops,
            compound_index_ops_grad,
            compound_index_ops_jvp,
            compound_index_ops_grad_into,
            compound_index_ops_vjp
        ),
        &pts,
        tol,
    );
}

#[differentiable]
fn compound_index_ops_closed(x: &[f64]) -> f64 {
    let mut a = vec![0.0; 3];
    a[0] = x[0];
    a[0] *= x[1];
    a[1] += x[0] * x[0];
    a[1] += a[0];
    a[2] = 2.0;
    a[2] /= x[1];
    a[2] -= a[1];
    a[0] + a[1] * a[2]
}

#[test]
fn index_compound_assignments_closed_form() {
    let pts = points(212, 2, 0.5, 2.0);
    check_all_closed(
        &slice_fns!(
            compound_index_ops_closed,
            compound_index_ops_closed_grad,
            compound_index_ops_closed_jvp,
            compound_index_ops_closed_grad_into,
            compound_index_ops_closed_vjp
        ),
        &pts,
        |p| {
            // a0 = xy, a1 = x² + xy, a2 = 2/y − a1; f = a0 + a1·a2 = a0 + 2a1/y − a1²
            let (x, y) = (p[0], p[1]);
            let a1 = x * x + x * y;
            let da1 = [2.0 * x + y, x];
            let df_da1 = 2.0 / y - 2.0 * a1;
            vec![y + df_da1 * da1[0], x + df_da1 * da1[1] - 2.0 * a1 / (y * y)]
        },
    );
}

#[differentiable]
fn prefix_sums(x: &[f64]) -> f64 {
    // In place: a[i] is overwritten with the running sum, then read back in reverse.
    let n = x.len();
    let mut a = x.to_vec();
    for i in 1..n {
        a[i] += a[i - 1];
    }
    let mut s = 0.0;
    for i in (0..n).rev() {
        s = s * 0.5 + a[i] * a[n - 1 - i];
    }
    s
}

#[test]
fn in_place_prefix_sum_of_a_copy() {
    let pts = points(213, 5, -1.5, 1.5);
    check_all(
        &slice_fns!(prefix_sums, prefix_sums_grad, prefix_sums_jvp, prefix_sums_grad_into, prefix_sums_vjp),
        &pts,
    );
}

#[differentiable]
fn bubble_pass(x: &[f64]) -> f64 {
    // One pass of bubble sort by swaps through a temporary, then a weighted sum of the result.
    let n = x.len();
    let copy = x.to_vec();
    let mut a = copy.clone();
    for i in 0..n - 1 {
        if a[i] > a[i + 1] {
            let t = a[i];
            a[i] = a[i + 1];
            a[i + 1] = t;
        }
    }
    let mut s = 0.0;
    for i in 0..n {
        s += a[i] * (i + 1) as f64;
    }
    s
}

#[test]
fn swaps_through_a_temporary() {
    let x = [0.9, 0.1, 0.5, 2.0, -0.3];
    // The pass leaves [0.1, 0.5, 0.9, -0.3, 2.0]: x[1]→1, x[2]→2, x[0]→3, x[4]→4, x[3]→5.
    let (v, g) = bubble_pass_grad(&x);
    assert_eq!(v, bubble_pass(&x));
    assert_all_close(&g, &[3.0, 1.0, 2.0, 5.0, 4.0], 1e-15, "gradient is the permutation of weights");
    let pts = points(214, 5, -2.0, 2.0);
    check_all(
        &slice_fns!(bubble_pass, bubble_pass_grad, bubble_pass_jvp, bubble_pass_grad_into, bubble_pass_vjp),
        &pts,
    );
}

#[differentiable]
fn matrix_vector(m: &[f64], v: &[f64]) -> f64 {
    // ‖M v‖² with M 3×3, row-major, indexed as m[i * 3 + j].
    let mut y = [0.0; 3];
    for i in 0..3 {
        for j in 0..3 {
            y[i] += m[i * 3 + j] * v[j];
        }
    }
    y[0] * y[0] + y[1] * y[1] + y[2] * y[2]
}

#[test]
fn flattened_matrix_indexing() {
    let pts = points(215, 12, -1.0, 1.0);
    check_all_closed(
        &Scalar {
            f: &|p| matrix_vector(&p[..9], &p[9..]),
            grad: &|p| {
                let (val, (gm, gv)) = matrix_vector_grad(&p[..9], &p[9..]);
                (val, [gm, gv].concat())
            },
            jvp: &|p, d| matrix_vector_jvp(&p[..9], &d[..9], &p[9..], &d[9..]),
            grad_into: &|p, g| {
                let (gm, gv) = g.split_at_mut(9);
                matrix_vector_grad_into(&p[..9], &p[9..], gm, gv)
            },
            vjp: &|p, z, g| {
                let (gm, gv) = g.split_at_mut(9);
                matrix_vector_vjp(&p[..9], &p[9..], z, gm, gv)
            },
        },
        &pts,
        |p| {
            let (m, v) = p.split_at(9);
            let y: Vec<f64> = (0..3).map(|i| (0..3).map(|j| m[i * 3 + j] * v[j]).sum()).collect();
            let mut g = vec![0.0; 12];
            for i in 0..3 {
                for j in 0..3 {
                    g[i * 3 + j] = 2.0 * y[i] * v[j];
                    g[9 + j] += 2.0 * y[i] * m[i * 3 + j];
                }
            }
            g
        },
    );
}

#[differentiable]
fn cyclic_indices(x: &[f64]) -> f64 {
    let n = x.len();
    let mut a = vec![0.0; n];
    for i in 0..n {
        a[(i * 3 + 1) % n] = x[i] * x[(i + n - 1) % n];
    }
    let mut s = 0.0;
    for i in 0..n / 2 {
        s += a[2 * i] - a[n - 1 - i] * a[i];
    }
    s + n as f64
}

#[test]
fn modular_index_arithmetic() {
    let pts = points(216, 5, -1.5, 1.5);
    check_all(
        &slice_fns!(
            cyclic_indices,
            cyclic_indices_grad,
            cyclic_indices_jvp,
            cyclic_indices_grad_into,
            cyclic_indices_vjp
        ),
        &pts,
    );
}

#[differentiable]
fn repeated_overwrites(x: &[f64]) -> f64 {
    // The same cells are written many times inside a loop; reverse mode must restore every old value.
    let mut a = [x[0], x[1], x[2]];
    for k in 0..20 {
        let i = k % 3;
        let j = (k + 1) % 3;
        a[i] = (a[i] * a[j]).sin() + x[j] * 0.1;
        a[j] *= 0.9;
    }
    a[0] + 2.0 * a[1] + 3.0 * a[2]
}

#[test]
fn repeated_overwrites_of_the_same_cells() {
    let pts = points(217, 3, -1.5, 1.5);
    check_all(
        &slice_fns!(
            repeated_overwrites,
            repeated_overwrites_grad,
            repeated_overwrites_jvp,
            repeated_overwrites_grad_into,
            repeated_overwrites_vjp
        ),
        &pts,
    );
}

#[differentiable]
fn runtime_aliasing(x: &[f64], i: usize, j: usize) -> f64 {
    // `a[i] op= a[j]` where i and j may be the same cell at run time.
    let mut a = vec![x[0], x[1] * x[1], x[2]];
    a[i] *= a[j];
    a[j] += a[i] * 0.5;
    a[i] -= a[j].sin();
    a[0] * a[1] + a[2]
}

#[test]
fn index_aliasing_decided_at_run_time() {
    for (i, j) in [(0, 0), (0, 1), (1, 1), (2, 0), (2, 2)] {
        let pts = points(218 + (3 * i + j) as u64, 3, -1.5, 1.5);
        check_all(
            &Scalar {
                f: &|x| runtime_aliasing(x, i, j),
                grad: &|x| runtime_aliasing_grad(x, i, j),
                jvp: &|x, v| runtime_aliasing_jvp(x, v, i, j),
                grad_into: &|x, g| runtime_aliasing_grad_into(x, i, j, g),
                vjp: &|x, z, g| runtime_aliasing_vjp(x, i, j, z, g),
            },
            &pts,
        );
    }
}

#[differentiable]
fn length_and_emptiness(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mut mean = 0.0;
    for xi in x.iter() {
        mean += xi / n;
    }
    let mut var = 0.0;
    for xi in x.iter() {
        var += (xi - mean) * (xi - mean);
    }
    if x.is_empty() {
        return 0.0;
    }
    var / (n - 1.0)
}

#[test]
fn sample_variance() {
    let pts = points(230, 6, -2.0, 2.0);
    check_all_closed(
        &slice_fns!(
            length_and_emptiness,
            length_and_emptiness_grad,
            length_and_emptiness_jvp,
            length_and_emptiness_grad_into,
            length_and_emptiness_vjp
        ),
        &pts,
        |x| {
            let n = x.len() as f64;
            let mean = x.iter().sum::<f64>() / n;
            x.iter().map(|xi| 2.0 * (xi - mean) / (n - 1.0)).collect()
        },
    );
}

const TABLE: [f64; 3] = [1.0, 2.0, 3.0];

#[differentiable]
fn table_weights(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += TABLE[i % 3] * x[i] * x[i];
    }
    s
}

#[test]
fn indexing_a_const_table_is_constant() {
    let pts = points(231, 5, -2.0, 2.0);
    check_all_closed(
        &slice_fns!(table_weights, table_weights_grad, table_weights_jvp, table_weights_grad_into, table_weights_vjp),
        &pts,
        |x| (0..x.len()).map(|i| 2.0 * TABLE[i % 3] * x[i]).collect(),
    );
}

#[differentiable]
fn interpolate(x: f64) -> f64 {
    // Piecewise-linear interpolation in a table: the cell index comes from the active input.
    let table = [0.0, 1.0, 4.0, 9.0, 16.0];
    let i = x.floor() as usize;
    let t = x - i as f64;
    table[i] * (1.0 - t) + table[i + 1] * t
}

#[test]
fn index_computed_from_an_active_float() {
    let pts = vec![vec![0.3], vec![1.5], vec![2.7], vec![3.2]];
    check_all_closed(
        &scalar_fns!(interpolate, interpolate_grad, interpolate_jvp, interpolate_grad_into, interpolate_vjp),
        &pts,
        |p| {
            let i = p[0].floor();
            vec![(i + 1.0) * (i + 1.0) - i * i]
        },
    );
}
