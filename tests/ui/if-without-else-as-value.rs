use adjoint::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let mut y = x;
    let _z = if x > 0.0 {
        y = y * 2.0;
    };
    y
}

fn main() {}
