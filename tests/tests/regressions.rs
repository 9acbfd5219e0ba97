//! Regression tests: each module reproduces a transformation bug found by the test suite (and quotes
//! the error it used to give), and now checks the derivatives it gets right.

#[allow(noop_method_call)] // the clone of a reference is the construct under test
mod clone_of_slice_parameter {
    // `.clone()` of a `&[f64]` parameter (a copy of the reference): the generated code treats the result as
    // an owned value and asks for its zero cotangent.
    // error[E0277]: the trait bound `&[f64]: Cotangent` is not satisfied
    use adjoint::differentiable;

    #[differentiable]
    fn product(x: &[f64]) -> f64 {
        let a = x.clone();
        a[0] * a[1]
    }

    #[test]
    fn clone_of_slice_parameter() {
        assert_eq!(product_grad(&[2.0, 3.0]).1, vec![3.0, 2.0]);
    }
}

mod mut_parameters {
    // `mut` parameters: the JVP declares the tangent `x_dot` immutable, then assigns to it.
    // error[E0384]: cannot assign twice to immutable variable `x_dot`            (scalar)
    // error[E0596]: cannot borrow `v_dot` as mutable, as it is not declared as mutable   (Vec<f64>)
    // error[E0594]: cannot assign to `a_dot[_]`, as `a_dot` is not declared as mutable  ([f64; N])
    use adjoint::differentiable;

    #[differentiable]
    fn square(mut x: f64) -> f64 {
        x = x * x;
        x
    }

    #[differentiable]
    fn scaled_sum(mut v: Vec<f64>) -> f64 {
        v[0] *= 2.0;
        v[0] + v[1]
    }

    #[differentiable]
    fn first_times_last(mut a: [f64; 3]) -> f64 {
        a[0] *= a[2];
        a[0]
    }

    #[test]
    fn mut_parameters() {
        assert_eq!(square_grad(3.0), (9.0, 6.0));
        assert_eq!(square_jvp(3.0, 1.0), (9.0, 6.0));
        assert_eq!(scaled_sum_grad(vec![1.0, 1.0]).1, vec![2.0, 1.0]);
        assert_eq!(scaled_sum_jvp(vec![1.0, 1.0], vec![1.0, 0.0]).1, 2.0);
        assert_eq!(first_times_last_grad([2.0, 0.0, 5.0]).1, [5.0, 0.0, 2.0]);
        assert_eq!(first_times_last_jvp([2.0, 0.0, 5.0], [1.0, 0.0, 0.0]).1, 5.0);
    }
}

mod parameter_named_z {
    // A parameter named `z`: its cotangent buffer `z_bar` collides with the output cotangent `z_bar` of
    // `f_vjp`.
    // error[E0415]: identifier `z_bar` is bound more than once in this parameter list
    use adjoint::differentiable;

    #[differentiable]
    fn scale(x: f64, z: f64) -> f64 {
        x * z
    }

    #[test]
    fn parameter_named_z() {
        assert_eq!(scale_grad(2.0, 3.0), (6.0, (3.0, 2.0)));
        let (mut xb, mut zb) = (0.0, 0.0);
        scale_vjp(2.0, 3.0, 1.0, &mut xb, &mut zb);
        assert_eq!((xb, zb), (3.0, 2.0));
    }
}

mod same_argument_twice {
    // The same active variable passed to two active parameters of a differentiable callee: the reverse
    // sweep passes `Some(&mut x_bar)` for both cotangent slots.
    // error[E0499]: cannot borrow `*x_bar` as mutable more than once at a time   (slices)
    // error[E0499]: cannot borrow value as mutable more than once at a time     (scalars)
    use adjoint::differentiable;

    #[differentiable]
    fn mul(a: f64, b: f64) -> f64 {
        a * b
    }

    #[differentiable]
    fn square(x: f64) -> f64 {
        mul(x, x)
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
    fn norm2(x: &[f64]) -> f64 {
        dot(x, x)
    }

    #[test]
    fn same_argument_twice() {
        assert_eq!(square_grad(3.0), (9.0, 6.0));
        assert_eq!(norm2_grad(&[1.0, 2.0]).1, vec![2.0, 4.0]);
    }
}

mod vec_moves {
    // Moving an owned `Vec<f64>` out of a variable (into another variable, a tuple, or the result of an
    // early `return` / `if` expression): the reverse sweep then borrows the moved-from value
    // (`bar_zero(&v)` after `let t = (v, ..)`).
    // error[E0382]: borrow of moved value: `v` / `__t1` / ...
    use adjoint::differentiable;

    /// Any function returning a tuple that contains a `Vec<f64>`.
    #[differentiable]
    fn with_sum(x: &[f64]) -> (Vec<f64>, f64) {
        (x.to_vec(), x[0] + x[1])
    }

    #[differentiable]
    fn early_vec(x: &[f64], s: f64) -> Vec<f64> {
        if s > 10.0 {
            return vec![s, s];
        }
        x.to_vec()
    }

    #[differentiable]
    fn if_vec(x: &[f64], s: f64) -> f64 {
        let r = if s > 10.0 { vec![s, s] } else { x.to_vec() };
        r[0] * r[1]
    }

    #[differentiable]
    fn moved(x: &[f64]) -> f64 {
        let a = x.to_vec();
        let b = a;
        b[0] * b[1]
    }

    #[differentiable]
    fn reassigned(x: &[f64]) -> f64 {
        let mut a = vec![0.0; 2];
        if x[0] > 0.0 {
            a = vec![x[0], x[1]];
        }
        a[0] * a[1]
    }

    #[test]
    fn vec_moves() {
        let mut xb = vec![0.0; 2];
        with_sum_vjp(&[1.0, 2.0], (vec![1.0, 0.0], 1.0), &mut xb);
        assert_eq!(xb, vec![2.0, 1.0]);
        assert_eq!(early_vec_jvp(&[1.0, 2.0], &[0.0, 0.0], 11.0, 1.0).1, vec![1.0, 1.0]);
        assert_eq!(if_vec_grad(&[1.0, 2.0], 0.0).1 .0, vec![2.0, 1.0]);
        assert_eq!(moved_grad(&[1.0, 2.0]).1, vec![2.0, 1.0]);
        assert_eq!(reassigned_grad(&[1.0, 2.0]).1, vec![2.0, 1.0]);
    }
}

mod self_accumulation_of_a_tuple_component {
    // `v += v` where `v` comes from a tuple field (so its type is not known to be `Copy`): the generated
    // code borrowed `v` mutably and immutably at once.
    // error[E0502]: cannot borrow value as mutable because it is also borrowed as immutable
    use adjoint::differentiable;

    #[differentiable]
    fn doubled(x: &[f64]) -> f64 {
        let t = (x[0] * 2.0, x[1]);
        let mut v = t.0.min(3.0);
        v += v;
        v * t.1
    }

    #[test]
    fn self_accumulation_of_a_tuple_component() {
        let x = [0.7, 1.3];
        let (value, g) = doubled_grad(&x);
        assert!((value - 2.0 * 1.4 * 1.3).abs() < 1e-12);
        assert!((g[0] - 4.0 * 1.3).abs() < 1e-12 && (g[1] - 2.8).abs() < 1e-12);
        let (_, slope) = doubled_jvp(&x, &[1.0, 0.0]);
        assert!((slope - 4.0 * 1.3).abs() < 1e-12);
        let (_, _, hv) = doubled_hvp(&x, &[1.0, 0.0]);
        assert!((hv[0]).abs() < 1e-12 && (hv[1] - 4.0).abs() < 1e-12);
    }
}

mod call_in_a_condition {
    // A call to a differentiable function inside a condition, on differentiated values: the second-order
    // (dual) code passed duals to the plain function (difftest seed 1, units 33 and 43).
    // error[E0308]: arguments to this function are incorrect
    use adjoint::differentiable;

    #[differentiable]
    fn square(a: f64) -> f64 {
        a * a
    }

    #[differentiable]
    fn guarded(x: &[f64]) -> f64 {
        if square(x[0]) < 1.0 {
            x[0] * x[1]
        } else {
            x[1]
        }
    }

    #[test]
    fn call_in_a_condition() {
        assert_eq!(guarded_grad(&[0.5, 2.0]).1, vec![2.0, 0.5]);
        assert_eq!(guarded_grad(&[1.5, 2.0]).1, vec![0.0, 1.0]);
    }
}

/// A scalar defined by `exp` and then only accumulated in a loop: the loop no longer restores it, so the
/// reverse of its definition (`d_exp(t, v)`, which reads `v`) must not rely on that — found by the
/// differential tester's long run (seed 2, unit 2227), from the accumulator optimisation of this
/// session: the gradient used the final value of `v`.
mod accumulator_defined_by_exp {
    use adjoint::differentiable;

    #[differentiable]
    fn exp_then_accumulate(x: &[f64]) -> f64 {
        let mut v = x[0].exp();
        for i in 0..3 {
            v += x[1] * i as f64;
        }
        v * x[1]
    }

    #[differentiable]
    fn tanh_then_while(x: &[f64]) -> f64 {
        let mut v = x[0].tanh();
        let mut k = 0;
        while k < 2 {
            k += 1;
            v += k as f64;
        }
        v * v
    }

    #[test]
    fn gradients_use_the_defined_value() {
        let (a, b) = (0.3_f64, 0.7_f64);
        let (f, g) = exp_then_accumulate_grad(&[a, b]);
        assert_eq!(f, (a.exp() + 3.0 * b) * b);
        assert!((g[0] - a.exp() * b).abs() < 1e-15);
        assert!((g[1] - (a.exp() + 6.0 * b)).abs() < 1e-15);
        let (_, g) = tanh_then_while_grad(&[a]);
        let want = 2.0 * (a.tanh() + 3.0) * (1.0 - a.tanh().powi(2));
        assert!((g[0] - want).abs() < 1e-14, "{} vs {want}", g[0]);
    }
}
