// seed 1, unit 6: does not compile: error[E0502]: cannot borrow value as mutable because it is also borrowed as immutable (line 843)
#[differentiable]
fn f_6(x: &[f64]) -> f64 {
    let t1: (f64, f64) = (((x[0].cos() * (std::f64::consts::FRAC_1_SQRT_2 / (1.0_f64 + (x[0] * x[0])))) + x[0]), (((std::f64::consts::FRAC_1_SQRT_2 * std::f64::consts::FRAC_1_SQRT_2) / (1.0_f64 + ((0.5_f64 + (0.1_f64 * 0.1_f64)).powf(x[0].tanh()) * (0.5_f64 + (0.1_f64 * 0.1_f64)).powf(x[0].tanh())))) + x[0]));
    let t2: (f64, f64) = (((-1.1_f64) + x[0]), (((if (std::f64::consts::LN_2 > 2.0_f64) && (x[0] < 1.8_f64) { t1.1 } else { (-0.6_f64) }) + (-1.5_f64)) + x[0]));
    for i3 in 1..=3 {
        let mut k4: usize = 0;
        while k4 < 4 && (((i3 as f64) * (-1.8_f64)) < 2.9_f64) {
            k4 += 1;
            let mut v5 = (t2.0.min((k4 as f64)) / (1.0_f64 + (f64::abs((i3 as f64)) * f64::abs((i3 as f64)))));
            match i3 % 2 {
                0 => {
                    let (p6, q7): (f64, f64) = ((t2.0 + x[0]), (x[(k4 + 1) % 1] + x[0]));
                }
                _ => {
                    v5 += v5;
                }
            }
            if k4 % 3 == 0 {
                let mut v8 = x[k4 % 1];
                let mut v9 = ((if x[(k4 + 3) % x.len()] > v5 { 1.7_f64 } else { std::f64::consts::LN_2 }) + x[(i3 + 3) % x.len()]);
            } else {
                let mut v10 = (f64::cbrt((0.5_f64 + ((-1.2_f64) * (-1.2_f64)))) + (0.5_f64 + (std::f64::consts::LN_2 * std::f64::consts::LN_2)).powi(-1));
                let mut v11 = ((0.9_f64 * (k4 as f64).tanh()).asin() * (0.5_f64 + (x[i3 % x.len()] * x[i3 % x.len()])).ln());
            }
            let mut v12 = (0.0_f64 + (t1.0 * t1.0)).ln_1p();
        }
    }
    let mut k13: usize = 0;
    loop {
        if k13 >= 5 { break; }
        k13 += 1;
        for (i14, &xv15) in x.iter().enumerate() {
            match i14 % 3 {
                0 => {
                    let mut v16 = (0.5_f64 + ((x[k13 % 1] + x[(i14 + 2) % 1]) * (x[k13 % 1] + x[(i14 + 2) % 1]))).powf(x[(i14 * 3) % 1].tanh());
                }
                1 => {
                    let mut v17 = x[(k13 * 3) % x.len()];
                }
                _ => {
                    if ((x[0] / (1.0_f64 + (t2.0 * t2.0))) > (-1.3_f64)) && (i14 % 3 == 1) { break; }
                    let t18: (f64, f64) = (((0.5_f64 + (xv15 * xv15)).powi(-1) + x[0]), ((xv15 * xv15) + x[0]));
                    if t1.1 < (-0.9_f64) { break; }
                }
            }
        }
    }
    let mut k19: usize = 0;
    while k19 < 3 && ((k13 as f64) < 1.9_f64) {
        k19 += 1;
        if (t2.1 * t2.1) > 1.6_f64 {
            for (i20, &xv21) in x.iter().enumerate() {
                let mut v22 = ((0.9_f64 * x[(k19 * 2) % 1].tanh()).atanh() * (-(k13 as f64)));
                v22 *= xv21.atan();
                let (p23, q24): (f64, f64) = ((t1.1 + x[0]), (v22.atan() + x[0]));
                v22 *= (f64::sqrt((0.5_f64 + (t1.1 * t1.1))) + p23).tanh();
            }
        } else {
            let (p25, q26): (f64, f64) = (((0.9_f64 * t2.1.tanh()).asin() + x[0]), ((1.5_f64 * (k13 as f64).atan()).cosh() + x[0]));
        }
    }
    let mut v27 = (k13 as f64);
    (((t2.0 + v27) + x[0]) + v27)
}
