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
fn sq(x: f64) -> f64 {
    x * x.sin()
}

#[test]
fn smoke() {
    let x = [1.5, -0.5, 2.0];
    let (v, g) = rosenbrock_grad(&x);
    assert_eq!(v, rosenbrock(&x));
    adjoint::check_gradient(rosenbrock, &x, &g, Default::default()).unwrap();
    let (_, s) = rosenbrock_jvp(&x, &[0.3, 0.1, -0.2]);
    let dot = g[0] * 0.3 + g[1] * 0.1 - g[2] * 0.2;
    assert!((s - dot).abs() < 1e-10);
    let (_, d) = sq_grad(0.7);
    assert!((d - (0.7f64.sin() + 0.7 * 0.7f64.cos())).abs() < 1e-14);
}
