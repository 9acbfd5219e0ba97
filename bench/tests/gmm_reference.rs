//! Our GMM objective and its generated gradient against ADBench's own reference values for its test
//! input `data/test.txt` (d = 2, K = 3, n = 1), to 1e-8 as ADBench's tests require; and the
//! hand-written gradient and the peers' generic version on the same input.

// The reference values are quoted with ADBench's digits.
#![allow(clippy::excessive_precision)]

use adjoint_bench::data::GmmInput;
use adjoint_bench::problems::gmm::{constant_term, generic, gmm_objective_grad, hand_gradient, HandWork};

const OBJECTIVE: f64 = 8.07380408004975791;
const GRADIENT: [f64; 18] = [
    0.108662855508652456,
    -0.741270039523898472,
    0.632607184015246071,
    1.11692576532787013,
    0.163333013551455269,
    -0.0219989824071193142,
    0.227778292254236098,
    1.20963025612832187,
    -0.0606375920733956339,
    2.58529994051162237,
    0.112632694524213789,
    0.385744309849611777,
    0.0735180573182305508,
    5.41836362715595232,
    -0.321494409677446469,
    1.71892309775004937,
    0.860091090790866875,
    -0.994640930466322848,
];

fn assert_close(what: &str, got: f64, want: f64) {
    assert!((got - want).abs() <= 1e-8 * want.abs().max(1.0), "{what}: {got:.17} vs ADBench's {want:.17}");
}

#[test]
fn generated_gradient_matches_adbench_reference() {
    let g = GmmInput::load("test.txt");
    assert_eq!((g.d, g.k, g.n), (2, 3, 1));
    let c = constant_term(g.d, g.k, g.n, g.wishart_gamma, g.wishart_m);
    let (value, (ga, gm, gi)) =
        gmm_objective_grad(&g.alphas, &g.means, &g.icf, &g.x, g.d, g.k, g.wishart_gamma, g.wishart_m, c);
    assert_close("objective", value, OBJECTIVE);
    let grad = [ga, gm, gi].concat();
    assert_eq!(grad.len(), GRADIENT.len());
    for (i, (&a, &b)) in grad.iter().zip(&GRADIENT).enumerate() {
        assert_close(&format!("gradient[{i}]"), a, b);
    }
}

#[test]
fn hand_written_and_generic_match_adbench_reference() {
    let g = GmmInput::load("test.txt");
    let c = constant_term(g.d, g.k, g.n, g.wishart_gamma, g.wishart_m);
    let mut grad = vec![f64::NAN; g.n_params()];
    let value = hand_gradient(&g, c, &mut HandWork::new(&g), &mut grad);
    assert_close("hand-written objective", value, OBJECTIVE);
    for (i, (&a, &b)) in grad.iter().zip(&GRADIENT).enumerate() {
        assert_close(&format!("hand-written gradient[{i}]"), a, b);
    }
    assert_close("generic objective", generic(&g.params(), &g, c), OBJECTIVE);
}

#[test]
fn adbench_file_parses() {
    let g = GmmInput::load("gmm_d10_K25_n1000.txt");
    assert_eq!((g.d, g.k, g.n), (10, 25, 1000));
    assert_eq!(g.n_params(), 25 * (1 + 10 + 55));
    assert_eq!(g.x.len(), 10_000);
}
