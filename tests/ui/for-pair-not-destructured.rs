use adjoint::differentiable;

#[differentiable]
fn f(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for pair in x.iter().enumerate() {
        s += pair.1;
    }
    s
}

fn main() {}
