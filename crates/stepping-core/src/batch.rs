//! The batch layout of the JS boundary: many byte strings (canonical texts, key
//! encodings) travel as one concatenated buffer plus `u32` offsets, so a whole
//! batch of changes — a Z-set delta in DBSP terms — crosses in one call.
//!
//! `offsets` has one entry more than there are items: item `i` is
//! `bytes[offsets[i]..offsets[i + 1]]`, `offsets[0]` is 0 and the last offset is
//! `bytes.len()`.

use std::fmt;

use crate::weight::Weight;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchError {
    /// Offsets must start at 0, never decrease and end at the buffer's length.
    InvalidOffsets,
    /// Two parallel arrays of a batch disagree in length.
    LengthMismatch { expected: usize, found: usize },
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchError::InvalidOffsets => {
                f.write_str("offsets must start at 0, never decrease and end at the buffer length")
            }
            BatchError::LengthMismatch { expected, found } => {
                write!(f, "batch arrays disagree in length: expected {expected}, found {found}")
            }
        }
    }
}

impl std::error::Error for BatchError {}

/// A validated sequence of byte strings stored back to back.
#[derive(Clone, Copy, Debug)]
pub struct Segments<'a> {
    bytes: &'a [u8],
    offsets: &'a [u32],
}

impl<'a> Segments<'a> {
    pub fn new(bytes: &'a [u8], offsets: &'a [u32]) -> Result<Self, BatchError> {
        let well_formed = offsets.first() == Some(&0)
            && offsets.windows(2).all(|pair| pair[0] <= pair[1])
            && offsets.last().map(|&end| end as usize) == Some(bytes.len());
        if well_formed {
            Ok(Segments { bytes, offsets })
        } else {
            Err(BatchError::InvalidOffsets)
        }
    }

    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Item `i`; panics if `i >= len()`.
    pub fn get(&self, i: usize) -> &'a [u8] {
        &self.bytes[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'a [u8]> + 'a {
        let bytes = self.bytes;
        self.offsets.windows(2).map(move |pair| &bytes[pair[0] as usize..pair[1] as usize])
    }
}

/// How item lengths are counted in [`offsets_from_lengths`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LengthUnit {
    /// Bytes.
    Bytes,
    /// UTF-16 code units of UTF-8 text (JS `string.length`): JS can then join
    /// many strings and write them with one call, without measuring each one's
    /// UTF-8 length. ASCII text (the usual case) is detected by its total length.
    Utf16,
}

/// UTF-16 code units of UTF-8 text (what JS's `length` counts): a unit per
/// character, two for one beyond the BMP (a 4-byte sequence).
pub fn utf16_units(text: &[u8]) -> usize {
    text.iter().map(|&b| usize::from((b & 0xc0) != 0x80) + usize::from(b >= 0xf0)).sum()
}

/// Fills `offsets` (n + 1 entries) for items stored back to back in `bytes`
/// whose lengths are given in `unit`s; fails unless the items cover `bytes` exactly.
pub fn offsets_from_lengths(
    bytes: &[u8],
    lengths: &[u32],
    unit: LengthUnit,
    offsets: &mut Vec<u32>,
) -> Result<(), BatchError> {
    offsets.clear();
    offsets.reserve(lengths.len() + 1);
    offsets.push(0);
    let total: u64 = lengths.iter().map(|&len| u64::from(len)).sum();
    if unit == LengthUnit::Bytes || total == bytes.len() as u64 {
        if total != bytes.len() as u64 || bytes.len() > u32::MAX as usize {
            return Err(BatchError::InvalidOffsets);
        }
        let mut end = 0u32;
        for &len in lengths {
            end += len;
            offsets.push(end);
        }
        return Ok(());
    }
    // Some item is not ASCII: walk the UTF-8, counting UTF-16 units per character.
    let mut at = 0usize;
    for &len in lengths {
        let mut units = 0u32;
        while units < len {
            let (width, count) = match bytes.get(at) {
                Some(0x00..=0x7f) => (1, 1),
                Some(0xc0..=0xdf) => (2, 1),
                Some(0xe0..=0xef) => (3, 1),
                Some(0xf0..=0xf7) => (4, 2),
                _ => return Err(BatchError::InvalidOffsets),
            };
            at += width;
            units += count;
        }
        if units != len || at > bytes.len() {
            return Err(BatchError::InvalidOffsets);
        }
        offsets.push(u32::try_from(at).map_err(|_| BatchError::InvalidOffsets)?);
    }
    if at == bytes.len() {
        Ok(())
    } else {
        Err(BatchError::InvalidOffsets)
    }
}

/// The length that marks an index key equal to the previous row's key for the
/// same index ([`key_slices_from_lengths`]): rows of a batch often share a key
/// (one meter's reads), and each repeat then crosses the boundary as 4 bytes.
pub const SAME_AS_PREVIOUS_ROW: u32 = u32::MAX;

/// Byte strings given as ranges of one buffer, so that one stored string can
/// stand for many items.
#[derive(Clone, Copy, Debug)]
pub struct Slices<'a> {
    bytes: &'a [u8],
    ranges: &'a [(u32, u32)],
}

impl<'a> Slices<'a> {
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Item `i`; panics if `i >= len()`.
    pub fn get(&self, i: usize) -> &'a [u8] {
        let (start, end) = self.ranges[i];
        &self.bytes[start as usize..end as usize]
    }
}

/// Index keys of a batch, row by row with `per_row` keys each: stored back to
/// back in `bytes` with their byte `lengths`, except that a length of
/// [`SAME_AS_PREVIOUS_ROW`] repeats the key `per_row` items earlier (the previous
/// row's key for the same index) and stores nothing. Fails unless the stored
/// keys cover `bytes` exactly and every repeat has a previous row.
pub fn key_slices_from_lengths<'a>(
    bytes: &'a [u8],
    lengths: &[u32],
    per_row: usize,
    ranges: &'a mut Vec<(u32, u32)>,
) -> Result<Slices<'a>, BatchError> {
    ranges.clear();
    ranges.reserve(lengths.len());
    let mut end = 0u64;
    for (i, &len) in lengths.iter().enumerate() {
        if len == SAME_AS_PREVIOUS_ROW {
            let earlier = i.checked_sub(per_row).filter(|_| per_row > 0).ok_or(BatchError::InvalidOffsets)?;
            ranges.push(ranges[earlier]);
        } else {
            let start = end;
            end += u64::from(len);
            if end > bytes.len() as u64 {
                return Err(BatchError::InvalidOffsets);
            }
            ranges.push((start as u32, end as u32));
        }
    }
    if end != bytes.len() as u64 {
        return Err(BatchError::InvalidOffsets);
    }
    let ranges: &'a [(u32, u32)] = ranges;
    Ok(Slices { bytes, ranges })
}

/// Byte strings addressed by position: [`Segments`] and [`Slices`].
pub trait Items<'a> {
    fn count(&self) -> usize;
    /// Item `i`; panics if `i >= count()`.
    fn item(&self, i: usize) -> &'a [u8];
}

impl<'a> Items<'a> for Segments<'a> {
    fn count(&self) -> usize {
        self.len()
    }

    fn item(&self, i: usize) -> &'a [u8] {
        self.get(i)
    }
}

impl<'a> Items<'a> for Slices<'a> {
    fn count(&self) -> usize {
        self.len()
    }

    fn item(&self, i: usize) -> &'a [u8] {
        self.get(i)
    }
}

/// Rows with weights: a Z-set delta as it arrives from JS (not yet consolidated).
#[derive(Clone, Copy, Debug)]
pub struct RowBatch<'a> {
    canonical: Segments<'a>,
    weights: &'a [Weight],
}

impl<'a> RowBatch<'a> {
    pub fn new(canonical: Segments<'a>, weights: &'a [Weight]) -> Result<Self, BatchError> {
        if canonical.len() == weights.len() {
            Ok(RowBatch { canonical, weights })
        } else {
            Err(BatchError::LengthMismatch { expected: canonical.len(), found: weights.len() })
        }
    }

    pub fn len(&self) -> usize {
        self.weights.len()
    }

    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    /// `(canonical bytes, weight)` per row, in input order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&'a [u8], Weight)> + 'a {
        self.canonical.iter().zip(self.weights.iter().copied())
    }
}

/// Concatenates byte strings into the boundary layout; the inverse of [`Segments`].
#[derive(Clone, Debug)]
pub struct SegmentsBuilder {
    bytes: Vec<u8>,
    offsets: Vec<u32>,
}

impl Default for SegmentsBuilder {
    fn default() -> Self {
        SegmentsBuilder { bytes: Vec::new(), offsets: vec![0] }
    }
}

impl SegmentsBuilder {
    /// The buffer being filled; call [`SegmentsBuilder::end_item`] after writing an item.
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }

    /// Marks the end of the item written since the previous mark.
    ///
    /// Panics if the buffer outgrows `u32` offsets (4 GiB).
    pub fn end_item(&mut self) {
        let end = u32::try_from(self.bytes.len()).expect("batch buffer exceeds 4 GiB");
        self.offsets.push(end);
    }

    pub fn push(&mut self, item: &[u8]) {
        self.bytes.extend_from_slice(item);
        self.end_item();
    }

    pub fn into_parts(self) -> (Vec<u8>, Vec<u32>) {
        (self.bytes, self.offsets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_split_the_buffer() {
        let segments = Segments::new(b"abcde", &[0, 2, 2, 5]).unwrap();
        assert_eq!(segments.len(), 3);
        assert_eq!(segments.iter().collect::<Vec<_>>(), [&b"ab"[..], b"", b"cde"]);
        assert_eq!(segments.get(2), b"cde");
    }

    #[test]
    fn malformed_offsets_are_rejected() {
        for offsets in [&[][..], &[1, 5], &[0, 3, 2, 5], &[0, 4], &[0, 6]] {
            assert_eq!(Segments::new(b"abcde", offsets).unwrap_err(), BatchError::InvalidOffsets);
        }
        assert!(Segments::new(b"", &[0]).unwrap().is_empty());
    }

    #[test]
    fn row_batches_need_one_weight_per_row() {
        let segments = Segments::new(b"ab", &[0, 1, 2]).unwrap();
        assert_eq!(RowBatch::new(segments, &[1]).unwrap_err(), BatchError::LengthMismatch { expected: 2, found: 1 });
        let batch = RowBatch::new(segments, &[1, -1]).unwrap();
        assert_eq!(batch.iter().collect::<Vec<_>>(), [(&b"a"[..], 1), (&b"b"[..], -1)]);
    }

    #[test]
    fn offsets_from_byte_lengths() {
        let mut offsets = Vec::new();
        offsets_from_lengths(b"abcde", &[2, 0, 3], LengthUnit::Bytes, &mut offsets).unwrap();
        assert_eq!(offsets, [0, 2, 2, 5]);
        assert!(offsets_from_lengths(b"abcde", &[2, 2], LengthUnit::Bytes, &mut offsets).is_err());
        offsets_from_lengths(b"", &[], LengthUnit::Bytes, &mut offsets).unwrap();
        assert_eq!(offsets, [0]);
    }

    #[test]
    fn offsets_from_utf16_lengths() {
        let items = ["\"a\"", "\"é\"", "\"€😀\"", "", "x"];
        let joined: String = items.concat();
        let lengths: Vec<u32> = items.iter().map(|s| s.encode_utf16().count() as u32).collect();
        let mut offsets = Vec::new();
        offsets_from_lengths(joined.as_bytes(), &lengths, LengthUnit::Utf16, &mut offsets).unwrap();
        let segments = Segments::new(joined.as_bytes(), &offsets).unwrap();
        assert_eq!(segments.iter().collect::<Vec<_>>(), items.map(str::as_bytes));
        // ASCII only: the total length alone decides.
        offsets_from_lengths(b"abc", &[1, 2], LengthUnit::Utf16, &mut offsets).unwrap();
        assert_eq!(offsets, [0, 1, 3]);
        // Lengths that split a character or do not cover the bytes.
        assert!(offsets_from_lengths("😀".as_bytes(), &[1, 1], LengthUnit::Utf16, &mut offsets).is_err());
        // (Wrong lengths that happen to add up to the byte count pass as ASCII:
        // correct ones add up to it only when every character is ASCII.)
        assert!(offsets_from_lengths("éa".as_bytes(), &[1], LengthUnit::Utf16, &mut offsets).is_err());
        assert!(offsets_from_lengths(&[0xff, 0x41, 0x41], &[1, 1], LengthUnit::Utf16, &mut offsets).is_err());
    }

    #[test]
    fn builder_round_trips() {
        let mut builder = SegmentsBuilder::default();
        builder.push(b"xy");
        builder.buffer().extend_from_slice(b"z");
        builder.end_item();
        let (bytes, offsets) = builder.into_parts();
        let segments = Segments::new(&bytes, &offsets).unwrap();
        assert_eq!(segments.iter().collect::<Vec<_>>(), [&b"xy"[..], b"z"]);
    }

    #[test]
    fn repeated_keys_point_at_the_previous_rows_key() {
        // Two indexes per row: row 1 repeats row 0's first key, row 2 both of row 1's.
        let bytes = b"aaBBcc";
        let lengths = [2, 2, SAME_AS_PREVIOUS_ROW, 2, SAME_AS_PREVIOUS_ROW, SAME_AS_PREVIOUS_ROW];
        let mut ranges = Vec::new();
        let keys = key_slices_from_lengths(bytes, &lengths, 2, &mut ranges).unwrap();
        let got: Vec<&[u8]> = (0..keys.len()).map(|i| keys.get(i)).collect();
        assert_eq!(got, vec![&b"aa"[..], b"BB", b"aa", b"cc", b"aa", b"cc"]);
    }

    #[test]
    fn utf16_units_count_as_js_does() {
        assert_eq!(utf16_units("aé€😀".as_bytes()), 5);
    }

    #[test]
    fn repeated_keys_need_a_previous_row_and_an_exact_cover() {
        let mut ranges = Vec::new();
        assert_eq!(key_slices_from_lengths(b"aa", &[SAME_AS_PREVIOUS_ROW, 2], 2, &mut ranges).unwrap_err(), BatchError::InvalidOffsets);
        assert_eq!(key_slices_from_lengths(b"aaa", &[2, SAME_AS_PREVIOUS_ROW], 1, &mut ranges).unwrap_err(), BatchError::InvalidOffsets);
        assert_eq!(key_slices_from_lengths(b"a", &[2], 1, &mut ranges).unwrap_err(), BatchError::InvalidOffsets);
    }
}
