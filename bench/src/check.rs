//! Agreement checks run before anything is timed: a peer's value and gradient must equal ours to a
//! relative 1e-9, else the bench panics naming the problem, the peer and the worst coordinate.

/// The relative tolerance of every check.
pub const TOL: f64 = 1e-9;

/// `|a − b| ≤ tol · max(|a|, |b|, floor)`.
pub fn close(a: f64, b: f64, tol: f64, floor: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(floor)
}

/// Panics unless `got` equals `want` (ours) to [`TOL`] relative.
pub fn check_value(problem: &str, peer: &str, got: f64, want: f64) {
    assert!(
        close(got, want, TOL, 0.0),
        "{problem}: {peer}'s value {got:e} differs from ours {want:e} by more than {TOL:e} relative"
    );
}

/// Panics unless every coordinate of `got` equals `want` (ours) to [`TOL`] relative. A coordinate is
/// judged relative to its own size, with a floor of 1e-6·‖want‖∞ so that entries which cancel to
/// nearly zero are judged against the size of the gradient rather than against zero.
pub fn check_vector(problem: &str, peer: &str, what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{problem}: {peer}'s {what} has length {}, ours {}", got.len(), want.len());
    let floor = 1e-6 * want.iter().fold(0.0f64, |m, w| m.max(w.abs()));
    let mut worst = (0usize, 0.0f64);
    for (i, (&a, &b)) in got.iter().zip(want).enumerate() {
        assert!(a.is_finite(), "{problem}: {peer}'s {what}[{i}] = {a} is not finite");
        let rel = (a - b).abs() / a.abs().max(b.abs()).max(floor).max(f64::MIN_POSITIVE);
        if rel > worst.1 {
            worst = (i, rel);
        }
    }
    let (i, rel) = worst;
    assert!(
        rel <= TOL,
        "{problem}: {peer}'s {what}[{i}] = {:e} differs from ours {:e} by {rel:.1e} relative (tolerance {TOL:e})",
        got[i],
        want[i]
    );
}
