//! Hessian-vector products generated at compile time (forward-over-reverse), against dense
//! finite-difference Hessians and closed forms.
use adjoint::differentiable;

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

#[differentiable]
fn scalar(x: f64, y: f64) -> f64 {
    (x * y).sin() + x.exp() * y.powi(3) - (x / y).max(0.1)
}

#[test]
fn rosenbrock_hvp_matches_closed_form() {
    let x = [1.2, -0.7, 0.4, 2.0];
    let v = [0.3, -1.0, 0.5, 0.25];
    let (value, g, hv) = rosenbrock_hvp(&x, &v);
    assert_eq!(value, rosenbrock(&x));
    assert_eq!(g, rosenbrock_grad(&x).1);
    // Closed-form Hessian of the extended Rosenbrock function.
    let n = x.len();
    let mut h = vec![vec![0.0; n]; n];
    for i in 0..n - 1 {
        h[i][i] += 2.0 - 400.0 * (x[i + 1] - 3.0 * x[i] * x[i]);
        h[i][i + 1] += -400.0 * x[i];
        h[i + 1][i] += -400.0 * x[i];
        h[i + 1][i + 1] += 200.0;
    }
    for i in 0..n {
        let want: f64 = (0..n).map(|j| h[i][j] * v[j]).sum();
        assert!((hv[i] - want).abs() < 1e-10 * want.abs().max(1.0), "{i}: {} vs {want}", hv[i]);
    }
}

#[test]
fn scalar_hvp_matches_finite_differences_of_the_gradient() {
    let (x, y, vx, vy) = (0.4, 1.3, 0.7, -0.2);
    let (_, _, (hx, hy)) = scalar_hvp(x, vx, y, vy);
    let t = 1e-6;
    let gp = scalar_grad(x + t * vx, y + t * vy).1;
    let gm = scalar_grad(x - t * vx, y - t * vy).1;
    let fd = ((gp.0 - gm.0) / (2.0 * t), (gp.1 - gm.1) / (2.0 * t));
    assert!((hx - fd.0).abs() < 1e-6 && (hy - fd.1).abs() < 1e-6, "{hx} {hy} vs {fd:?}");
}
