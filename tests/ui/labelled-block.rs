use adjoint::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let mut y = x;
    'done: {
        if x < 0.0 {
            break 'done;
        }
        y = y * x;
    }
    y
}

fn main() {}
