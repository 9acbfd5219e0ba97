use adjoint::differentiable;

#[differentiable]
fn f(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in (0..x.len()).skip(1) {
        s += x[i];
    }
    s
}

fn main() {}
