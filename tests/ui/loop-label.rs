#![allow(unused_labels)]

use adjoint::differentiable;

#[differentiable]
fn f(x: &[f64]) -> f64 {
    let mut s = 0.0;
    'outer: for i in 0..x.len() {
        s += x[i];
    }
    s
}

fn main() {}
