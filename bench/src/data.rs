//! The inputs of the problems: ADBench's GMM files and the Wisconsin breast-cancer data, both committed
//! in `bench/data/` (see its README for sources and licences), and seeded random inputs.

use std::path::PathBuf;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Path of a file in `bench/data/`.
pub fn data_path(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data").join(file)
}

/// An instance of ADBench's Gaussian-mixture objective: K components in d dimensions, n points.
#[derive(Clone, Debug)]
pub struct GmmInput {
    /// Dimension of the points.
    pub d: usize,
    /// Number of components.
    pub k: usize,
    /// Number of points.
    pub n: usize,
    /// Mixture weights (log scale), K.
    pub alphas: Vec<f64>,
    /// Means, K rows of d.
    pub means: Vec<f64>,
    /// Inverse-covariance factors, K rows of d(d+1)/2: d log-diagonal entries, then the strictly lower
    /// part of L column by column.
    pub icf: Vec<f64>,
    /// Points, n rows of d.
    pub x: Vec<f64>,
    /// Wishart prior γ.
    pub wishart_gamma: f64,
    /// Wishart prior m.
    pub wishart_m: f64,
}

impl GmmInput {
    /// Parses an ADBench `gmm_*.txt` file (format in `bench/data/README.md`).
    pub fn parse(text: &str) -> Result<GmmInput, String> {
        let mut tokens = text.split_whitespace();
        let mut next = |what: &str| -> Result<f64, String> {
            let t = tokens.next().ok_or_else(|| format!("GMM file ends before {what}"))?;
            t.parse::<f64>().map_err(|e| format!("GMM file: {what}: cannot parse {t:?}: {e}"))
        };
        let (d, k, n) = (next("d")? as usize, next("K")? as usize, next("n")? as usize);
        let mut read = |count: usize, what: &str| (0..count).map(|_| next(what)).collect::<Result<Vec<f64>, _>>();
        let alphas = read(k, "alphas")?;
        let means = read(k * d, "means")?;
        let icf = read(k * d * (d + 1) / 2, "icf")?;
        let x = read(n * d, "points")?;
        let wishart = read(2, "wishart parameters")?;
        Ok(GmmInput { d, k, n, alphas, means, icf, x, wishart_gamma: wishart[0], wishart_m: wishart[1] })
    }

    /// Reads and parses `bench/data/<file>`.
    pub fn load(file: &str) -> GmmInput {
        let path = data_path(file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        GmmInput::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// Seeded random inputs of ADBench's shapes and distributions (uniform alphas, means and icf, points
    /// uniform in [0, 1), γ = 1, m = 0).
    pub fn random(d: usize, k: usize, n: usize, seed: u64) -> GmmInput {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut draw = |count: usize, lo: f64, hi: f64| (0..count).map(|_| rng.gen_range(lo..hi)).collect::<Vec<_>>();
        GmmInput {
            d,
            k,
            n,
            alphas: draw(k, -1.0, 1.0),
            means: draw(k * d, 0.0, 1.0),
            icf: draw(k * d * (d + 1) / 2, -0.5, 0.5),
            x: draw(n * d, 0.0, 1.0),
            wishart_gamma: 1.0,
            wishart_m: 0.0,
        }
    }

    /// Number of parameters, K(1 + d + d(d+1)/2).
    pub fn n_params(&self) -> usize {
        self.alphas.len() + self.means.len() + self.icf.len()
    }

    /// The parameters in ADBench's order: alphas, means, icf.
    pub fn params(&self) -> Vec<f64> {
        [&self.alphas[..], &self.means, &self.icf].concat()
    }
}

/// The Wisconsin diagnostic breast-cancer data: 569 samples of 30 features, standardised (zero mean,
/// unit variance per feature), and labels 1 = malignant, 0 = benign.
pub struct BreastCancer {
    /// Samples, row-major, 569 × 30.
    pub x: Vec<f64>,
    /// Labels.
    pub y: Vec<f64>,
    /// Number of features.
    pub d: usize,
}

impl BreastCancer {
    /// Reads `bench/data/breast_cancer.csv` (scikit-learn's copy: a header `569,30,malignant,benign`,
    /// then 30 features and a target, 0 = malignant, 1 = benign, per line).
    pub fn load() -> BreastCancer {
        let path = data_path("breast_cancer.csv");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().expect("empty breast_cancer.csv").split(',').collect();
        let (rows, d): (usize, usize) = (header[0].parse().unwrap(), header[1].parse().unwrap());
        let (mut x, mut y) = (Vec::with_capacity(rows * d), Vec::with_capacity(rows));
        for line in lines.filter(|l| !l.trim().is_empty()) {
            let fields: Vec<f64> =
                line.split(',').map(|f| f.trim().parse().expect("breast_cancer.csv: a number")).collect();
            assert_eq!(fields.len(), d + 1, "breast_cancer.csv: {} fields in a row, expected {}", fields.len(), d + 1);
            x.extend_from_slice(&fields[..d]);
            y.push(if fields[d] == 0.0 { 1.0 } else { 0.0 });
        }
        assert_eq!(y.len(), rows, "breast_cancer.csv: {} rows, header says {rows}", y.len());
        for j in 0..d {
            let mean = (0..rows).map(|i| x[i * d + j]).sum::<f64>() / rows as f64;
            let var = (0..rows).map(|i| (x[i * d + j] - mean).powi(2)).sum::<f64>() / rows as f64;
            let sd = var.sqrt();
            for i in 0..rows {
                x[i * d + j] = (x[i * d + j] - mean) / sd;
            }
        }
        BreastCancer { x, y, d }
    }
}
