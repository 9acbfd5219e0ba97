use adjoint::differentiable;

#[differentiable]
fn product(x: &[f64]) -> f64 {
    let mut p = 1.0;
    for xi in x.iter() {
        p *= xi;
    }
    p
}

#[differentiable]
fn early(x: &[f64]) -> f64 {
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

#[differentiable]
fn with_while(x: f64) -> f64 {
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

#[differentiable]
fn arrays(x: &[f64]) -> f64 {
    let n = x.len();
    let mut a = vec![0.0; n];
    a[0] = x[0];
    for i in 1..n {
        a[i] = a[i - 1] * x[i] + x[i].sin();
    }
    let mut b = [0.0; 3];
    b[1] = a[n - 1];
    b[1] *= b[1];
    let (u, v) = (b[1], a[0] * a[0]);
    u + v
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

#[differentiable]
fn vec_out(x: &[f64], scale: f64) -> Vec<f64> {
    let mut out = vec![0.0; x.len()];
    for i in 0..x.len() {
        out[i] = x[i] * scale;
    }
    out
}

#[track_caller]
fn check(f: impl Fn(&[f64]) -> f64, g: &[f64], x: &[f64]) {
    adjoint::check_gradient(f, x, g, Default::default()).unwrap();
}

#[test]
fn smoke2() {
    let x = [0.5, 1.2, -0.3, 0.8];
    check(product, &product_grad(&x).1, &x);
    check(early, &early_grad(&x).1, &x);
    let x2 = [0.5, 0.2, 0.3, 0.8, 0.1];
    check(early, &early_grad(&x2).1, &x2);
    let (_, d) = with_while_grad(0.7);
    check(|x| with_while(x[0]), &[d], &[0.7]);
    check(arrays, &arrays_grad(&x).1, &x);
    check(caller, &caller_grad(&x).1, &x);
    let mut xb = vec![0.0; 4];
    let mut sb = 0.0;
    vec_out_vjp(&x, 2.0, vec![1.0, 0.0, 2.0, 0.0], &mut xb, &mut sb);
    assert_eq!(xb, vec![2.0, 0.0, 4.0, 0.0]);
    assert_eq!(sb, 0.5 + 2.0 * -0.3);
}

#[test]
fn dbg_caller() {
    let x = [0.5, 1.2, -0.3, 0.8];
    let g = caller_grad(&x).1;
    let r =
        adjoint::check_gradient(caller, &x, &g, adjoint::CheckOptions { rtol: 1.0, atol: 1.0, ..Default::default() })
            .unwrap();
    println!("analytic {:?}\nnumeric {:?}", g, r.numeric);
    let gh = helper_grad(2.0, &x);
    println!("helper {:?}", gh);
    let mut v = [0.0; 4];
    for k in 0..4 {
        let mut e = [0.0; 4];
        e[k] = 1.0;
        v[k] = caller_jvp(&x, &e).1;
    }
    println!("jvp {:?}", v);
}

pub struct Data {
    pub xs: Vec<f64>,
    pub scale: f64,
}

const TABLE: [f64; 3] = [1.0, 2.0, 3.0];

#[differentiable(wrt(w))]
fn fit(w: &[f64], data: &Data) -> f64 {
    let mut s = 0.0;
    for i in 0..data.xs.len() {
        let r = w[0] * data.xs[i] + w[1] - TABLE[i % 3] * data.scale;
        s += r * r;
    }
    s
}

#[test]
fn constant_data() {
    let data = Data { xs: vec![0.5, 1.5, 2.5, 3.5], scale: 0.7 };
    let w = [0.3, -0.2];
    let (_, g) = fit_grad(&w, &data);
    check(|w| fit(w, &data), &g, &w);
}
