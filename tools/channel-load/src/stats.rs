//! Percentiles over latency samples kept in microseconds.

use serde::Serialize;

/// The sample at rank round(p/100 · (n−1)) of `sorted` (ascending): the same definition
/// as the Python benchmarks in tools/, so figures compare across the table.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    let last = sorted.len().checked_sub(1)?;
    let rank = (p / 100.0 * last as f64).round() as usize;
    Some(sorted[rank.min(last)])
}

/// p50/p90/p99/max of a set of samples, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Spread {
    /// `None` for no samples; sorts `micros` in place.
    pub fn of(micros: &mut [u64]) -> Option<Spread> {
        micros.sort_unstable();
        let ms = |p| percentile(micros, p).map(|us| us as f64 / 1000.0);
        Some(Spread {
            p50: ms(50.0)?,
            p90: ms(90.0)?,
            p99: ms(99.0)?,
            max: ms(100.0)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let samples: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&samples, 50.0), Some(51)); // rank round(49.5) = 50
        assert_eq!(percentile(&samples, 90.0), Some(90));
        assert_eq!(percentile(&samples, 99.0), Some(99));
        assert_eq!(percentile(&samples, 100.0), Some(100));
        assert_eq!(percentile(&samples, 0.0), Some(1));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn spread_sorts_and_converts_to_milliseconds() {
        let mut micros = vec![3000, 1000, 2000];
        let spread = Spread::of(&mut micros).unwrap();
        assert_eq!(
            spread,
            Spread {
                p50: 2.0,
                p90: 3.0,
                p99: 3.0,
                max: 3.0
            }
        );
        assert_eq!(Spread::of(&mut []), None);
    }
}
