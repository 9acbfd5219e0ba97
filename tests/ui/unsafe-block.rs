#![allow(unused_unsafe)]

use adjoint::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let y = unsafe { x * x };
    y
}

fn main() {}
