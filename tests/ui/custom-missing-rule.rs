use adjoint::differentiable;

fn f_tangent(x: f64, x_dot: f64) -> (f64, f64) {
    (x * x, 2.0 * x * x_dot)
}

#[differentiable(custom(jvp = f_tangent))]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
