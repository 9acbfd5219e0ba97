//! The buffer form of a gradient makes no heap allocation for loop-free functions (and for loops
//! that overwrite nothing the reverse sweep needs). Counted with a global allocator wrapper; this file
//! is its own test binary, and its single test keeps other threads from allocating during the count.
// A global allocator can only be installed through an `unsafe impl`; it forwards to `System`.
#![allow(unsafe_code)]

use adjoint::differentiable;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// Delegates every call to the system allocator and only counts allocations.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as the caller's, forwarded unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    f();
    ALLOCATIONS.load(Ordering::SeqCst) - before
}

#[differentiable]
fn loop_free(x: &[f64], y: f64) -> f64 {
    let a = x[0] * x[1] + y;
    let b = if a > 0.0 { a.sqrt() } else { (-a).sqrt() };
    let (c, d) = (b.sin(), x[2].exp());
    c * d + y.powi(3)
}

#[differentiable]
fn on_array(p: [f64; 3]) -> f64 {
    let mut q = [0.0; 3];
    q[0] = p[0] * p[1];
    q[1] = q[0].tanh() + p[2];
    q[2] = q[1] * q[0];
    q[2] / (1.0 + p[0] * p[0])
}

#[differentiable]
fn rosenbrock(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        let a = 1.0 - x[i];
        let b = x[i + 1] - x[i] * x[i];
        s += a * a + 100.0 * b * b;
    }
    s
}

#[test]
fn gradient_buffers_do_not_allocate() {
    let x = vec![0.4, -1.3, 0.7, 2.0];
    let mut gx = vec![0.0; 4];
    let mut gy = 0.0;
    let mut gp = [0.0; 3];
    // Warm up (first calls may touch lazily initialised std state).
    loop_free_grad_into(&x, 0.3, &mut gx, &mut gy);
    let n = allocations_during(|| {
        loop_free_grad_into(&x, 0.3, &mut gx, &mut gy);
        on_array_grad_into([0.2, 0.5, -0.3], &mut gp);
        rosenbrock_grad_into(&x, &mut gx);
    });
    assert_eq!(n, 0, "gradient buffer forms allocated {n} time(s)");
    assert!(gx.iter().all(|g| g.is_finite()) && gp.iter().all(|g| g.is_finite()));
}
