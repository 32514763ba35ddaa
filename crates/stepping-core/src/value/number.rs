//! Numbers and dates (spec §1 rows "finite number", "Infinity", "NaN", "Date").
//!
//! Both are JS numbers with the states the spec rejects made unrepresentable:
//! [`JsNumber`] is never NaN and never `-0` (the spec writes `-0` as `0`, and the
//! key encoding treats it as `0`); [`JsDate`] holds a valid ECMAScript time value.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

/// A JS number other than NaN; `-0` is stored as `0`. Infinities are allowed.
#[derive(Clone, Copy, Debug)]
pub struct JsNumber(f64);

impl JsNumber {
    /// `None` for NaN, which is not a value.
    pub fn new(n: f64) -> Option<Self> {
        if n.is_nan() {
            None
        } else {
            // Adding +0 turns -0 into +0 and leaves every other number alone.
            Some(JsNumber(n + 0.0))
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

impl PartialEq for JsNumber {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

// Sound because NaN is excluded, so `==` is an equivalence.
impl Eq for JsNumber {}

impl Hash for JsNumber {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // -0 is excluded, so equal numbers have equal bits.
        self.0.to_bits().hash(state);
    }
}

impl Ord for JsNumber {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl PartialOrd for JsNumber {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A valid JS `Date`: its `getTime()`, an integral number of milliseconds since
/// the epoch within ±8.64e15 (ECMAScript TimeClip). Invalid dates are rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JsDate(JsNumber);

impl JsDate {
    /// The largest absolute time value a JS `Date` can hold.
    pub const MAX_ABS_MILLIS: f64 = 8.64e15;

    /// `None` unless `millis` is a time value some JS `Date` can return from `getTime()`.
    pub fn from_millis(millis: f64) -> Option<Self> {
        let valid = millis.is_finite() && millis.fract() == 0.0 && millis.abs() <= Self::MAX_ABS_MILLIS;
        if valid {
            JsNumber::new(millis).map(JsDate)
        } else {
            None
        }
    }

    pub fn millis(self) -> JsNumber {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_is_rejected_and_negative_zero_normalised() {
        assert!(JsNumber::new(f64::NAN).is_none());
        let zero = JsNumber::new(-0.0).unwrap();
        assert!(zero.get().is_sign_positive());
        assert_eq!(zero, JsNumber::new(0.0).unwrap());
        assert_eq!(JsNumber::new(f64::NEG_INFINITY).unwrap().get(), f64::NEG_INFINITY);
    }

    #[test]
    fn numbers_order_numerically() {
        let n = |x: f64| JsNumber::new(x).unwrap();
        assert!(n(f64::NEG_INFINITY) < n(-1.5));
        assert!(n(-1.5) < n(-0.0));
        assert!(n(-0.0) < n(5e-324));
        assert!(n(1e308) < n(f64::INFINITY));
    }

    #[test]
    fn dates_must_be_valid_time_values() {
        assert!(JsDate::from_millis(0.0).is_some());
        assert!(JsDate::from_millis(-8.64e15).is_some());
        assert!(JsDate::from_millis(8.64e15 + 1.0).is_none());
        assert!(JsDate::from_millis(1.5).is_none());
        assert!(JsDate::from_millis(f64::NAN).is_none());
        assert!(JsDate::from_millis(f64::INFINITY).is_none());
        assert!(JsDate::from_millis(-0.0).unwrap().millis().get().is_sign_positive());
    }
}
