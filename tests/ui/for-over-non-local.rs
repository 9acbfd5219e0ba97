use adjoint::differentiable;

const WEIGHTS: [f64; 3] = [1.0, 2.0, 3.0];

#[differentiable]
fn f(x: f64) -> f64 {
    let mut s = 0.0;
    for w in WEIGHTS.iter() {
        s += w * x;
    }
    s
}

fn main() {}
