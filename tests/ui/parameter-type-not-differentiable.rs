use adjoint::differentiable;

#[differentiable]
fn f(x: Option<f64>) -> f64 {
    match x {
        Some(v) => v,
        None => 0.0,
    }
}

fn main() {}
