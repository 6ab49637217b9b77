//! Paired comparisons: the alternating schedule and the statistics of per-round
//! ratios, shared by `keyfort-bench run --authz` (over HTTP) and `keyfort-bench inproc
//! rotation` (in process).
//!
//! A paired comparison measures case A and case B in short alternating windows,
//! A B | B A | A B | ..., the order swapped every round so that neither case always
//! follows the other. Each round gives a ratio B ÷ A from two windows a moment apart,
//! so load that drifts on the scale of seconds (another process's build) hits both
//! windows of a round alike; the median of many rounds' ratios is then robust to the
//! rounds a burst of load hit unevenly.

/// Which of the two cases a window measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The baseline (the denominator of the ratio).
    A,
    /// The case compared with it (the numerator).
    B,
}

impl Side {
    /// 0 for A, 1 for B, to index per-side arrays.
    pub fn index(self) -> usize {
        match self {
            Side::A => 0,
            Side::B => 1,
        }
    }
}

/// The two sides of round `round` in the order they are measured: A first in even
/// rounds, B first in odd ones.
pub fn order(round: usize) -> [Side; 2] {
    if round % 2 == 0 {
        [Side::A, Side::B]
    } else {
        [Side::B, Side::A]
    }
}

/// The side measured in window `slot` of a schedule of alternating rounds.
pub fn side_of(slot: usize) -> Side {
    order(slot / 2)[slot % 2]
}

/// The `q` quantile (0..=1) of `values` with linear interpolation between the two
/// nearest ranks (the usual "type 7"); `None` when empty or when a value is NaN.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() || values.iter().any(|v| v.is_nan()) || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let pos = q * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let (a, b) = (v.get(lo).copied()?, v.get(hi).copied()?);
    Some(a + (b - a) * (pos - lo as f64))
}

/// The median of `values` (the mean of the middle two of an even count).
pub fn median(values: &[f64]) -> Option<f64> {
    quantile(values, 0.5)
}

/// What the rounds of a paired comparison say.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Rounds with a usable ratio.
    pub rounds: usize,
    /// The median of the rounds' B ÷ A ratios.
    pub median: f64,
    /// The first quartile of the ratios.
    pub q1: f64,
    /// The third quartile of the ratios.
    pub q3: f64,
    /// The smallest ratio.
    pub min: f64,
    /// The largest ratio.
    pub max: f64,
    /// The median of A's rates.
    pub a_median: f64,
    /// The median of B's rates.
    pub b_median: f64,
}

/// Each round's B ÷ A (`None` for a round where A measured nothing).
pub fn ratios(rounds: &[[f64; 2]]) -> Vec<Option<f64>> {
    rounds
        .iter()
        .map(|[a, b]| (*a > 0.0).then(|| b / a))
        .collect()
}

/// Summarizes rounds of `[rate of A, rate of B]`; `None` when no round has a ratio.
pub fn summarize(rounds: &[[f64; 2]]) -> Option<Summary> {
    let r: Vec<f64> = ratios(rounds).into_iter().flatten().collect();
    let a: Vec<f64> = rounds.iter().map(|x| x[0]).collect();
    let b: Vec<f64> = rounds.iter().map(|x| x[1]).collect();
    Some(Summary {
        rounds: r.len(),
        median: median(&r)?,
        q1: quantile(&r, 0.25)?,
        q3: quantile(&r, 0.75)?,
        min: quantile(&r, 0.0)?,
        max: quantile(&r, 1.0)?,
        a_median: median(&a)?,
        b_median: median(&b)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_alternate_and_swap() {
        let slots: Vec<Side> = (0..8).map(side_of).collect();
        use Side::{A, B};
        assert_eq!(slots, vec![A, B, B, A, A, B, B, A]);
        assert_eq!(order(0), [A, B]);
        assert_eq!(order(1), [B, A]);
        assert_eq!(A.index(), 0);
        assert_eq!(B.index(), 1);
    }

    #[test]
    fn quantiles_interpolate() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[1.2, 0.7, 0.9]), Some(0.9));
        assert_eq!(median(&[1.0, 0.5, 0.75, 0.25]), Some(0.625));
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&v, 0.25), Some(2.0));
        assert_eq!(quantile(&v, 0.75), Some(4.0));
        assert_eq!(quantile(&[1.0, 2.0], 0.25), Some(1.25));
        assert_eq!(quantile(&v, 0.0), Some(1.0));
        assert_eq!(quantile(&v, 1.0), Some(5.0));
        assert_eq!(quantile(&[1.0, f64::NAN], 0.5), None);
        assert_eq!(quantile(&v, 1.5), None);
    }

    #[test]
    fn summaries_use_per_round_ratios() {
        // B is 90 % of A in every round although A's rate halves midway: the ratio
        // does not see the drift.
        let rounds = [
            [1000.0, 900.0],
            [1000.0, 900.0],
            [500.0, 450.0],
            [500.0, 450.0],
        ];
        let s = summarize(&rounds).expect("summary");
        assert_eq!(s.rounds, 4);
        assert!((s.median - 0.9).abs() < 1e-12);
        assert!((s.q1 - 0.9).abs() < 1e-12 && (s.q3 - 0.9).abs() < 1e-12);
        assert_eq!(s.a_median, 750.0);
        assert_eq!(s.b_median, 675.0);
        // A round where A measured nothing has no ratio and is left out.
        let with_empty = [[0.0, 5.0], [100.0, 80.0], [100.0, 120.0], [100.0, 100.0]];
        assert_eq!(ratios(&with_empty)[0], None);
        let s = summarize(&with_empty).expect("summary");
        assert_eq!(s.rounds, 3);
        assert!((s.median - 1.0).abs() < 1e-12);
        assert!((s.min - 0.8).abs() < 1e-12 && (s.max - 1.2).abs() < 1e-12);
        assert_eq!(summarize(&[[0.0, 1.0]]), None);
        assert_eq!(summarize(&[]), None);
    }
}
