//! Regression tests from the differential tester (difftest/regressions): each module once failed to
//! compile (second-order code now either handles the construct or is not generated for it).
#![allow(clippy::all, unused_variables)]

mod case_001 {
    // f_hvp of a function whose result does not depend on its inputs: mismatched types (Dual<f64> vs f64).
    use adjoint::differentiable;

    #[differentiable]
    fn inactive_result(a: f64, b: f64) -> f64 {
        let v: f64 = 0.5_f64;
        v.sin()
    }

    #[test]
    fn compiles_and_runs() {
        println!("{:?}", inactive_result_hvp(1.0, 1.0, 1.0, 1.0));
    }
}

mod case_002 {
    // f_hvp with a tuple component computed by a float method of a constant: mismatched types.
    use adjoint::differentiable;

    #[differentiable]
    fn tuple_method_const(x: &[f64]) -> f64 {
        let t: (f64, f64) = (0.5_f64.sin(), x[0]);
        t.1
    }

    #[test]
    fn compiles_and_runs() {
        println!("{:?}", tuple_method_const_grad(&[1.0]));
    }
}

mod case_003 {
    // An if-expression with a constant branch inside a condition: `if` and `else` have incompatible types.
    use adjoint::differentiable;

    #[differentiable]
    fn if_expr_in_cond(x: &[f64]) -> f64 {
        let mut s: f64 = x[1];
        if (if x[0] > 0.0_f64 { x[1] } else { 0.4_f64 }) > 0.9_f64 {
            s += 1.0;
        }
        s
    }

    #[test]
    fn compiles_and_runs() {
        println!("{:?}", if_expr_in_cond_grad(&[1.0, 2.0]));
    }
}

mod case_004 {
    // A call with a constant argument initialising an annotated `let`: mismatched types (even without f_hvp).
    // `g(x[0], 0.5)` as the tail, or `let v = g(x[0], 0.5);`, compile.
    use adjoint::differentiable;

    #[differentiable]
    fn g(a: f64, b: f64) -> f64 {
        a * b
    }

    #[differentiable]
    fn let_lit(x: &[f64]) -> f64 {
        let v: f64 = g(x[0], 0.5);
        v
    }

    #[test]
    fn compiles_and_runs() {
        println!("{:?}", let_lit_grad(&[1.0]));
    }
}

mod case_005 {
    // A float method in associated-function form (`f64::log10(e)`) of a differentiated value inside a
    // condition: mismatched types (expected f64, found Dual<f64>) in f_hvp.
    // Not avoided by the generator: such units are set aside as compile failures.
    use adjoint::differentiable;

    #[differentiable]
    fn assoc_in_cond(a: f64, b: f64) -> f64 {
        let mut s = a;
        if f64::log10(0.5_f64 + b * b) < 1.4_f64 {
            s += b;
        }
        s
    }

    #[test]
    fn compiles_and_runs() {
        println!("{:?}", assoc_in_cond_grad(1.0, 1.0));
    }
}
