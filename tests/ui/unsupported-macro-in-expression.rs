use adjoint::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let y = std::dbg!(x * x);
    y
}

fn main() {}
