//! JavaScript bigints (spec §1 `{"$n":"<decimal>"}` and §4 bigint key component).
//!
//! JS bigints have arbitrary precision, so a bigint is kept as its canonical
//! decimal text (sign + digits, no leading zeros, no `-0`) rather than a fixed
//! width integer: any bigint the JS side writes round-trips exactly. The key
//! encoding needs the magnitude in base 256, computed on demand.

use std::cmp::Ordering;
use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct JsBigInt {
    negative: bool,
    /// Decimal digits of the magnitude, no leading zeros ("0" for zero).
    digits: Box<str>,
}

impl JsBigInt {
    /// Parses canonical decimal text: `0`, or an optional `-` then digits
    /// without a leading zero. Returns `None` for anything else (`-0`, `+1`, `007`).
    pub fn parse(text: &str) -> Option<Self> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let canonical_digits = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'));
        if !canonical_digits || (negative && digits == "0") {
            return None;
        }
        Some(JsBigInt { negative, digits: digits.into() })
    }

    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// The magnitude as big-endian bytes without leading zeros (zero is empty).
    pub fn magnitude_be_bytes(&self) -> Vec<u8> {
        // Little-endian base-10^9 limbs: fold the digits in nine at a time.
        const LIMB_BASE: u64 = 1_000_000_000;
        let mut limbs: Vec<u32> = Vec::new();
        let digits = self.digits.as_bytes();
        let first_chunk = match digits.len() % 9 {
            0 => 9,
            n => n,
        };
        let mut start = 0;
        let mut end = first_chunk;
        while start < digits.len() {
            let chunk = &digits[start..end];
            let chunk_value = chunk.iter().fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
            let scale = 10u64.pow(chunk.len() as u32);
            let mut carry = chunk_value;
            for limb in limbs.iter_mut() {
                let product = u64::from(*limb) * scale + carry;
                *limb = (product % LIMB_BASE) as u32;
                carry = product / LIMB_BASE;
            }
            if carry > 0 {
                limbs.push(carry as u32);
            }
            start = end;
            end += 9;
        }
        limbs_to_be_bytes(&limbs, LIMB_BASE)
    }
}

/// Converts little-endian limbs in `base` to big-endian bytes by repeated division by 256.
fn limbs_to_be_bytes(limbs: &[u32], base: u64) -> Vec<u8> {
    let mut remaining: Vec<u32> = limbs.to_vec();
    let mut bytes = Vec::new();
    while remaining.iter().any(|&limb| limb != 0) {
        let mut remainder = 0u64;
        for limb in remaining.iter_mut().rev() {
            let current = remainder * base + u64::from(*limb);
            *limb = (current / 256) as u32;
            remainder = current % 256;
        }
        bytes.push(remainder as u8);
        while remaining.last() == Some(&0) {
            remaining.pop();
        }
    }
    bytes.reverse();
    bytes
}

impl From<i128> for JsBigInt {
    fn from(n: i128) -> Self {
        JsBigInt { negative: n < 0, digits: n.unsigned_abs().to_string().into() }
    }
}

impl fmt::Display for JsBigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negative {
            f.write_str("-")?;
        }
        f.write_str(&self.digits)
    }
}

/// Numeric order.
impl Ord for JsBigInt {
    fn cmp(&self, other: &Self) -> Ordering {
        let magnitude = || self.digits.len().cmp(&other.digits.len()).then_with(|| self.digits.cmp(&other.digits));
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => magnitude(),
            (true, true) => magnitude().reverse(),
        }
    }
}

impl PartialOrd for JsBigInt {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_only_canonical_decimal() {
        for ok in ["0", "7", "-12", "123456789012345678901234567890"] {
            assert_eq!(JsBigInt::parse(ok).unwrap().to_string(), ok);
        }
        for bad in ["", "-", "-0", "+1", "007", "1.5", "1e3", " 1", "0x10"] {
            assert!(JsBigInt::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn magnitude_bytes() {
        let bytes = |s: &str| JsBigInt::parse(s).unwrap().magnitude_be_bytes();
        assert_eq!(bytes("0"), Vec::<u8>::new());
        assert_eq!(bytes("255"), vec![0xFF]);
        assert_eq!(bytes("-256"), vec![0x01, 0x00]);
        assert_eq!(bytes("1000000000"), vec![0x3B, 0x9A, 0xCA, 0x00]);
        // 2^128
        assert_eq!(bytes("340282366920938463463374607431768211456"), {
            let mut v = vec![1];
            v.extend([0; 16]);
            v
        });
    }

    proptest! {
        #[test]
        fn magnitude_matches_native_integers(n in any::<i128>()) {
            let expected: Vec<u8> = n
                .unsigned_abs()
                .to_be_bytes()
                .into_iter()
                .skip_while(|&b| b == 0)
                .collect();
            prop_assert_eq!(JsBigInt::from(n).magnitude_be_bytes(), expected);
        }

        #[test]
        fn order_matches_native_integers(a in any::<i128>(), b in any::<i128>()) {
            prop_assert_eq!(JsBigInt::from(a).cmp(&JsBigInt::from(b)), a.cmp(&b));
        }
    }
}
