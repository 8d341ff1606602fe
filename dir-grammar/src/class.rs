//! Byte classes the fast readers test at every byte of a name: a table
//! lookup where the tests (`is_ascii_alphanumeric() || c == b'_'`) were
//! several compares and branches a byte (docs/performance.md).

/// `IDENT[c]`: `c` is an ASCII letter, digit or `_` (the grammar's
/// `ident_char`; no byte of a multi-byte character is one).
static IDENT: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || b == b'_';
        c += 1;
    }
    t
};

/// An ASCII letter, digit or `_`.
#[inline]
pub(crate) fn ident_char(c: u8) -> bool {
    IDENT[usize::from(c)]
}

/// An ASCII letter or `_`: what an identifier starts with.
#[inline]
pub(crate) fn ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

/// Where the run of identifier characters from `at` ends.
#[inline]
pub(crate) fn ident_run_end(b: &[u8], at: usize) -> usize {
    let rest = b.get(at..).unwrap_or_default();
    at + rest
        .iter()
        .position(|c| !ident_char(*c))
        .unwrap_or(rest.len())
}

/// Where the identifier at `at` ends (the grammar's `ident`: a letter or
/// `_`, then letters, digits and `_`); None if none starts there.
#[inline]
pub(crate) fn ident_end(b: &[u8], at: usize) -> Option<usize> {
    b.get(at)
        .is_some_and(|c| ident_start(*c))
        .then(|| ident_run_end(b, at + 1))
}

/// The run of ASCII digits from `at`: where it ends, and its value when
/// it has at most 19 digits (any such fits a u64, so no digit needs an
/// overflow check; a longer run, leading zeros and all, is left to
/// `str::parse`).
#[inline]
pub(crate) fn digit_run(b: &[u8], at: usize) -> (usize, Option<u64>) {
    let mut v = 0u64;
    let mut j = at;
    while let Some(d) = b.get(j).map(|c| c.wrapping_sub(b'0')).filter(|d| *d < 10) {
        if j - at < 19 {
            v = v * 10 + u64::from(d);
        }
        j += 1;
    }
    (j, (j - at <= 19).then_some(v))
}

/// `-`? and a magnitude as an i64 (None past its range).
#[inline]
pub(crate) fn signed(neg: bool, magnitude: u64) -> Option<i64> {
    if neg {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// An integer literal's value from its lexeme (`-`? then ASCII digits
/// only, at least one), as `str::parse::<i64>` gives it (None past the
/// range of i64).
pub(crate) fn int_value(lexeme: &str) -> Option<i64> {
    let b = lexeme.as_bytes();
    let neg = b.first() == Some(&b'-');
    let at = usize::from(neg);
    match digit_run(b, at) {
        (end, Some(m)) if end == b.len() && end > at => signed(neg, m),
        _ => lexeme.parse().ok(),
    }
}

/// Sixteen bytes from `i` as one SSE2 vector (None within 16 bytes of
/// the end). Built from two words, so no pointer is read unchecked.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline]
fn block16(b: &[u8], i: usize) -> Option<std::arch::x86_64::__m128i> {
    let w = b.get(i..i.checked_add(16)?)?;
    let word = |k: usize| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&w[k..k + 8]);
        i64::from_le_bytes(bytes)
    };
    // SAFETY: compiled only where SSE2 is enabled (the cfg above); the
    // intrinsic reads no memory.
    Some(unsafe { std::arch::x86_64::_mm_set_epi64x(word(8), word(0)) })
}

/// Of the 16 bytes from `i`, those a JSON string's scan stops at (`"`,
/// `\`, a control character), one bit each (bit k: byte i + k); None
/// within 16 bytes of the end, and without SSE2 (the callers' portable
/// scans then go on).
#[inline]
pub(crate) fn string_stops16(b: &[u8], i: usize) -> Option<u32> {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        use std::arch::x86_64::*;
        let v = block16(b, i)?;
        // SAFETY: compiled only where SSE2 is enabled; no memory is read.
        let hits = unsafe {
            let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            let slash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
            // Unsigned v <= 0x1f: max(v, 0x1f) is 0x1f.
            let low = _mm_set1_epi8(0x1f);
            let control = _mm_cmpeq_epi8(_mm_max_epu8(v, low), low);
            _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, slash), control))
        };
        Some(hits as u32)
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        let _ = (b, i);
        None
    }
}

/// Of the 16 bytes from `i`, those that are not JSON whitespace (space,
/// tab, CR, LF), one bit each; None as for `string_stops16`.
#[inline]
pub(crate) fn non_blanks16(b: &[u8], i: usize) -> Option<u32> {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        use std::arch::x86_64::*;
        let v = block16(b, i)?;
        // SAFETY: compiled only where SSE2 is enabled; no memory is read.
        let blank = unsafe {
            let is = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
            _mm_movemask_epi8(_mm_or_si128(
                _mm_or_si128(is(b' '), is(b'\n')),
                _mm_or_si128(is(b'\t'), is(b'\r')),
            ))
        };
        Some(!(blank as u32) & 0xffff)
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        let _ = (b, i);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vector tests against bytewise ones, at every offset of inputs
    /// holding every byte value (on x86_64; elsewhere they answer None).
    #[test]
    fn block_masks_flag_the_bytes_they_name() {
        let mut b: Vec<u8> = (0..=255u8).collect();
        b.extend(b"  \n\t  \"a\\b\r\n      x".iter());
        b.extend((0..=255u8).rev());
        for i in 0..b.len() + 2 {
            let want = |f: &dyn Fn(u8) -> bool| {
                (i + 16 <= b.len())
                    .then(|| (0..16).fold(0u32, |m, k| m | (u32::from(f(b[i + k])) << k)))
            };
            let stops = want(&|c| c == b'"' || c == b'\\' || c < 0x20);
            let solid = want(&|c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n'));
            if cfg!(all(target_arch = "x86_64", target_feature = "sse2")) {
                assert_eq!(string_stops16(&b, i), stops, "at {i}");
                assert_eq!(non_blanks16(&b, i), solid, "at {i}");
            } else {
                assert_eq!(string_stops16(&b, i), None);
            }
        }
    }

    #[test]
    fn the_table_is_the_test_it_replaces() {
        for c in 0..=255u8 {
            assert_eq!(ident_char(c), c.is_ascii_alphanumeric() || c == b'_', "{c}");
        }
        assert_eq!(ident_run_end(b"ab_9 x", 0), 4);
        assert_eq!(ident_run_end(b"ab", 0), 2);
        assert_eq!(ident_run_end(b"ab", 2), 2);
        assert_eq!(ident_run_end(b"ab", 5), 5);
        for c in 0..=255u8 {
            assert_eq!(ident_start(c), c.is_ascii_alphabetic() || c == b'_', "{c}");
        }
        assert_eq!(ident_end(b"_a1 x", 0), Some(3));
        assert_eq!(ident_end(b"1a", 0), None);
        assert_eq!(ident_end(b"a", 1), None);
    }

    #[test]
    fn integers_read_as_std_reads_them() {
        let mut cases: Vec<String> = [
            "0",
            "-0",
            "7",
            "007",
            "-007",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "18446744073709551615",
            "99999999999999999999",
            "9999999999999999999",
            "-9999999999999999999",
            "00000000000000000000007",
            "-00000000000000000000000009223372036854775808",
            "-",
            "",
            "1a",
            "+1",
        ]
        .map(String::from)
        .to_vec();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = (x % 21) as usize + 1;
            let s: String = (0..digits)
                .map(|k| char::from(b'0' + ((x >> (k * 3)) % 10) as u8))
                .collect();
            cases.push(if x & 1 == 1 { format!("-{s}") } else { s });
        }
        for s in &cases {
            assert_eq!(int_value(s), s.parse::<i64>().ok(), "{s}");
        }
    }
}
