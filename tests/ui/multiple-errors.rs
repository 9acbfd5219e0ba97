use adjoint::differentiable;

#[differentiable]
fn f(x: &[f64]) -> f64 {
    let double = |v: f64| 2.0 * v;
    println!("{}", x.len());
    let head = &x[0..2];
    let mut s = 0.0;
    'outer: for i in 0..x.len() {
        if x[i] < 0.0 {
            continue 'outer;
        }
        s += double(x[i]);
    }
    if let [first, ..] = x {
        s += first;
    }
    s + head.len() as f64
}

fn main() {}
