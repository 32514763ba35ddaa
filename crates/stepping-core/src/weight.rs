//! Z-set weights: the integers (the ring ℤ of the DBSP paper) attached to rows.
//!
//! Weights are `i64` but kept within ±(2^53 − 1), JavaScript's safe integers, so
//! every weight crosses to JS as an exact `number` (the boundary passes weights as
//! `Float64Array`) and fits a double-precision SQL column. An operation that would
//! leave that range fails instead of rounding.

use std::fmt;

pub type Weight = i64;

/// `Number.MAX_SAFE_INTEGER`.
pub const MAX_WEIGHT: Weight = (1 << 53) - 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeightOutOfRange;

impl fmt::Display for WeightOutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "weight outside ±{MAX_WEIGHT} (JavaScript's safe integers)")
    }
}

impl std::error::Error for WeightOutOfRange {}

/// Narrows a wide intermediate result to a weight, or fails if out of range.
pub fn checked_weight(w: i128) -> Result<Weight, WeightOutOfRange> {
    if w.unsigned_abs() <= MAX_WEIGHT as u128 {
        Ok(w as Weight)
    } else {
        Err(WeightOutOfRange)
    }
}

/// Reads a weight given as a JS number: it must be a safe integer.
pub fn weight_from_f64(w: f64) -> Result<Weight, WeightOutOfRange> {
    if w.fract() == 0.0 && w.abs() <= MAX_WEIGHT as f64 {
        Ok(w as Weight)
    } else {
        Err(WeightOutOfRange)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_is_the_safe_integers() {
        assert_eq!(checked_weight(i128::from(MAX_WEIGHT)), Ok(MAX_WEIGHT));
        assert_eq!(checked_weight(-i128::from(MAX_WEIGHT)), Ok(-MAX_WEIGHT));
        assert_eq!(checked_weight(i128::from(MAX_WEIGHT) + 1), Err(WeightOutOfRange));
        assert_eq!(weight_from_f64(-3.0), Ok(-3));
        assert_eq!(weight_from_f64(-0.0), Ok(0));
        assert_eq!(weight_from_f64(0.5), Err(WeightOutOfRange));
        assert_eq!(weight_from_f64(f64::NAN), Err(WeightOutOfRange));
        assert_eq!(weight_from_f64(f64::INFINITY), Err(WeightOutOfRange));
        assert_eq!(weight_from_f64(9007199254740992.0), Err(WeightOutOfRange));
    }
}
