use adjoint::differentiable;

fn square(v: f64) -> f64 {
    v * v
}

#[differentiable]
fn f(x: f64) -> f64 {
    let g = [square];
    (g[0])(x)
}

fn main() {}
