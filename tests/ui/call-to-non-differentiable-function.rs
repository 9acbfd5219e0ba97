use adjoint::differentiable;

fn plain(x: f64) -> f64 {
    x * x
}

#[differentiable]
fn f(x: f64) -> f64 {
    plain(x) + 1.0
}

fn main() {}
