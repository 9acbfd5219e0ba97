use adjoint::differentiable;

#[differentiable(wrt(x))]
fn f(x: f64, steps: Vec<usize>) -> f64 {
    let mut y = x;
    let mut s = steps;
    while let Some(_) = s.pop() {
        y = y * x;
    }
    y
}

fn main() {}
