use adjoint::differentiable;

trait Foo {
    fn foo(self) -> f64;
}

impl Foo for f64 {
    fn foo(self) -> f64 {
        self * 3.0
    }
}

#[differentiable]
fn f(x: f64) -> f64 {
    let y = x * x;
    y.foo()
}

fn main() {}
