use adjoint::differentiable;

#[differentiable]
fn broken(x: f64) -> f64 {
    println!("x = {x}");
    x * x
}

#[differentiable]
fn square(x: f64) -> f64 {
    x * x
}

#[differentiable]
fn calls_square(x: f64) -> f64 {
    square(x) + 1.0
}

#[differentiable]
fn calls_broken(x: f64) -> f64 {
    broken(x) * 2.0
}

fn sum_of_squares(x: &[f64]) -> f64 {
    x.iter().map(|v| square(*v)).sum()
}

fn main() {
    let (v, g) = broken_grad(3.0);
    let (w, h) = square_grad(3.0);
    let (a, b) = calls_square_grad(2.0);
    let (c, d) = calls_broken_jvp(2.0, 1.0);
    let mut x_bar = 0.0;
    let e = broken_vjp(1.0, 1.0, &mut x_bar);
    println!("{v} {g} {w} {h} {a} {b} {c} {d} {e} {x_bar} {}", sum_of_squares(&[1.0, 2.0]));
}
