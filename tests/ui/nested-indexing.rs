use adjoint::differentiable;

#[differentiable(wrt(x))]
fn f(x: f64, table: [[f64; 2]; 2]) -> f64 {
    let m = table;
    x * m[0][1]
}

fn main() {}
