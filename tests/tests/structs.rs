//! Parameter structs: `#[derive(Tangent)]`, field access in differentiated code, gradients of the same type.
use adjoint::{differentiable, Tangent};
use nalgebra::{DMatrix, DVector};

#[derive(Tangent, Clone, Debug)]
struct Mlp {
    w1: DMatrix<f64>,
    b1: DVector<f64>,
    w2: DMatrix<f64>,
    b2: DVector<f64>,
}

#[differentiable(wrt(p))]
fn loss(p: &Mlp, x: &DVector<f64>, y: &DVector<f64>) -> f64 {
    let h = (&p.w1 * x + &p.b1).map(|v| v.tanh());
    let out = &p.w2 * h + &p.b2;
    (out - y).norm_squared()
}

#[derive(Tangent, Clone, Debug)]
struct Affine {
    scale: f64,
    shift: Vec<f64>,
}

#[derive(Tangent, Clone, Debug)]
struct Nested {
    inner: Affine,
    weights: [f64; 3],
}

#[differentiable(wrt(p))]
fn nested(p: &Nested, data: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        let z = p.inner.scale.sin() * data[i] + p.inner.shift[i];
        s += p.weights[i] * z * z;
    }
    s
}

fn mlp() -> Mlp {
    Mlp {
        w1: DMatrix::from_fn(4, 3, |i, j| 0.3 * i as f64 - 0.2 * j as f64 + 0.05),
        b1: DVector::from_fn(4, |i, _| 0.1 * i as f64 - 0.15),
        w2: DMatrix::from_fn(2, 4, |i, j| 0.25 * j as f64 - 0.4 * i as f64),
        b2: DVector::from_vec(vec![0.2, -0.1]),
    }
}

#[test]
fn mlp_gradient_has_the_parameter_type() {
    let p = mlp();
    let x = DVector::from_vec(vec![0.5, -1.0, 2.0]);
    let y = DVector::from_vec(vec![1.0, 0.0]);
    let (value, grad): (f64, Mlp) = loss_grad(&p, &x, &y);
    assert_eq!(value, loss(&p, &x, &y));
    let mut flat = Vec::new();
    grad.flatten_into(&mut flat);
    let mut x0 = Vec::new();
    p.flatten_into(&mut x0);
    adjoint::check_gradient(|v| loss(&p.unflatten(v), &x, &y), &x0, &flat, Default::default()).unwrap();
}

#[test]
fn nested_struct_gradient() {
    let p = Nested { inner: Affine { scale: 0.7, shift: vec![0.1, -0.2, 0.3] }, weights: [1.0, 2.0, -0.5] };
    let data = [0.4, 1.5, -0.8];
    let (_, g) = nested_grad(&p, &data);
    let (mut flat, mut x0) = (Vec::new(), Vec::new());
    g.flatten_into(&mut flat);
    p.flatten_into(&mut x0);
    assert_eq!(x0.len(), 7);
    adjoint::check_gradient(|v| nested(&p.unflatten(v), &data), &x0, &flat, Default::default()).unwrap();
}

/// A linear model with a scalar bias field.
#[derive(Tangent, Clone, Debug)]
pub struct Linear {
    pub w: DVector<f64>,
    pub b: f64,
}

/// A borrowed scalar field as a matrix method's argument (`add_scalar(p.b)`): it failed to compile in
/// every mode (the argument was passed as `&f64`).
#[differentiable(wrt(p))]
fn affine_residual(p: &Linear, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let r = (x * &p.w).add_scalar(p.b) - y;
    0.5 * r.norm_squared() + p.b.exp().ln_1p()
}

#[test]
fn scalar_field_as_method_argument() {
    let p = Linear { w: DVector::from_vec(vec![0.3, -0.4]), b: 0.2 };
    let x = DMatrix::from_row_slice(3, 2, &[1.0, 0.5, -0.3, 2.0, 0.7, -1.0]);
    let y = DVector::from_vec(vec![1.0, 2.0, -0.5]);
    let (_, g) = affine_residual_grad(&p, &x, &y);
    let (mut flat, mut x0) = (Vec::new(), Vec::new());
    g.flatten_into(&mut flat);
    p.flatten_into(&mut x0);
    adjoint::check_gradient(|v| affine_residual(&p.unflatten(v), &x, &y), &x0, &flat, Default::default()).unwrap();
    let d = Linear { w: DVector::from_vec(vec![1.0, 0.0]), b: 1.0 };
    let (_, slope) = affine_residual_jvp(&p, &d, &x, &y);
    let mut dflat = Vec::new();
    d.flatten_into(&mut dflat);
    let want: f64 = flat.iter().zip(&dflat).map(|(a, b)| a * b).sum();
    assert!((slope - want).abs() < 1e-12 * want.abs().max(1.0));
}
