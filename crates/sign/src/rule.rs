//! The signing rule, in one place, and the envelope timestamp.
//!
//! Every signing and verifying function of the crate ends here: pairs are
//! ordered by [`rule_order`] (name, then value, in byte order), fed to MD5
//! as `name=value&` without building the text, the token digest appended,
//! and the digest hex-encoded on the stack ([`Hex`]).

use std::cmp::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

use crate::{TokenDigest, TIMESTAMP_FORMAT};

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// A lowercase hex MD5 digest, on the stack.
#[derive(Clone, Copy)]
pub(crate) struct Hex([u8; 32]);

impl Hex {
    fn of(digest: &[u8]) -> Hex {
        let mut out = [0u8; 32];
        for (i, byte) in digest.iter().enumerate() {
            out[2 * i] = HEX_DIGITS[usize::from(byte >> 4)];
            out[2 * i + 1] = HEX_DIGITS[usize::from(byte & 0x0f)];
        }
        Hex(out)
    }

    /// The digest as text.
    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// Whether `received` is this digest, hex case ignored, compared in
    /// constant time (a length other than 32 is refused at once: the
    /// length of a signature is no secret).
    pub(crate) fn matches(&self, received: &str) -> bool {
        let received = received.as_bytes();
        if received.len() != self.0.len() {
            return false;
        }
        let mut lower = [0u8; 32];
        for (out, byte) in lower.iter_mut().zip(received) {
            *out = byte.to_ascii_lowercase();
        }
        self.0.ct_eq(&lower).into()
    }
}

/// The lowercase hex MD5 of `data`.
pub(crate) fn md5_hex(data: &[u8]) -> Hex {
    Hex::of(&Md5::digest(data))
}

/// The order of the rule: names in byte order; equal names (which a
/// well-formed body never has) by value, so that the result stays
/// deterministic.
pub(crate) fn rule_order(a: (&str, &str), b: (&str, &str)) -> Ordering {
    a.0.as_bytes()
        .cmp(b.0.as_bytes())
        .then_with(|| a.1.as_bytes().cmp(b.1.as_bytes()))
}

/// Bytes on their way to MD5, staged so that the many short pieces of
/// `name=value&` reach it in few, block-sized calls.
struct Feed {
    md5: Md5,
    stage: [u8; 256],
    len: usize,
}

impl Feed {
    fn new() -> Self {
        Feed {
            md5: Md5::new(),
            stage: [0; 256],
            len: 0,
        }
    }

    #[inline]
    fn push(&mut self, bytes: &[u8]) {
        if let Some(room) = self.stage.get_mut(self.len..self.len + bytes.len()) {
            room.copy_from_slice(bytes);
            self.len += bytes.len();
        } else {
            self.push_across(bytes);
        }
    }

    /// [`Feed::push`] when `bytes` do not fit in what is left of the stage.
    fn push_across(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let room = self.stage.len() - self.len;
            if room == 0 {
                self.md5.update(self.stage);
                self.len = 0;
                continue;
            }
            let take = room.min(bytes.len());
            self.stage[self.len..self.len + take].copy_from_slice(&bytes[..take]);
            self.len += take;
            bytes = &bytes[take..];
        }
    }

    fn finish(mut self) -> Hex {
        self.md5.update(&self.stage[..self.len]);
        Hex::of(&self.md5.finalize())
    }
}

/// `verifySign` of pairs **already in [`rule_order`]** and without
/// `verifySign`: MD5 of `name=value&…` followed by the token digest.
pub(crate) fn sign_sorted<'p>(
    pairs: impl IntoIterator<Item = (&'p str, &'p str)>,
    digest: &TokenDigest,
) -> Hex {
    let mut feed = Feed::new();
    for (name, value) in pairs {
        feed.push(name.as_bytes());
        feed.push(b"=");
        feed.push(value.as_bytes());
        feed.push(b"&");
    }
    feed.push(digest.expose_secret().as_bytes());
    feed.finish()
}

/// Sorts `pairs` (none of them `verifySign`) into [`rule_order`] and signs
/// them.
pub(crate) fn sign_pairs(pairs: &mut [(&str, &str)], digest: &TokenDigest) -> Hex {
    pairs.sort_unstable_by(|a, b| rule_order(*a, *b));
    sign_sorted(pairs.iter().copied(), digest)
}

/// An envelope timestamp, on the stack in the common case (years 0 to
/// 9999); chrono formats the rest.
pub(crate) enum Timestamp {
    Fast([u8; 20]),
    Slow(String),
}

impl Timestamp {
    /// The timestamp of `at`: UTC, `YYYY-MM-DDTHH:MM:SSZ`, exactly as
    /// chrono formats [`TIMESTAMP_FORMAT`].
    pub(crate) fn of(at: SystemTime) -> Timestamp {
        fast_timestamp(at)
            .map(Timestamp::Fast)
            .unwrap_or_else(|| Timestamp::Slow(chrono_timestamp(at)))
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            // Only ASCII digits and separators are ever written.
            Timestamp::Fast(bytes) => std::str::from_utf8(bytes).unwrap_or_default(),
            Timestamp::Slow(text) => text,
        }
    }
}

pub(crate) fn chrono_timestamp(at: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(at)
        .format(TIMESTAMP_FORMAT)
        .to_string()
}

/// Whole seconds since the epoch, rounded down (as chrono does for times
/// before it).
fn unix_seconds(at: SystemTime) -> Option<i64> {
    match at.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).ok(),
        Err(before) => {
            let before = before.duration();
            let secs = i64::try_from(before.as_secs()).ok()?;
            let partial = i64::from(before.subsec_nanos() > 0);
            secs.checked_neg()?.checked_sub(partial)
        }
    }
}

/// The timestamp with hand-written digits, for years 0 to 9999 (chrono
/// writes others with a sign or more digits).
fn fast_timestamp(at: SystemTime) -> Option<[u8; 20]> {
    let secs = unix_seconds(at)?;
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days.checked_add(719_468)?;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe.checked_add(era.checked_mul(400)?)? + i64::from(month <= 2);
    if !(0..=9999).contains(&year) {
        return None;
    }
    let mut out = *b"0000-00-00T00:00:00Z";
    let mut put = |at: usize, width: usize, mut value: i64| {
        for i in (at..at + width).rev() {
            // value is non-negative and below 10^width here.
            out[i] = b'0' + u8::try_from(value % 10).unwrap_or(0);
            value /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, month);
    put(8, 2, day);
    put(11, 2, of_day / 3600);
    put(14, 2, of_day / 60 % 60);
    put(17, 2, of_day % 60);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_match_chrono() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut points = vec![
            UNIX_EPOCH,
            UNIX_EPOCH + Duration::from_secs(1_676_285_458),
            UNIX_EPOCH + Duration::from_nanos(1),
            UNIX_EPOCH - Duration::from_nanos(1),
            UNIX_EPOCH - Duration::from_secs(1),
            UNIX_EPOCH - Duration::from_millis(1500),
            // 1600-02-29, 2000-02-29, 2100-03-01, 9999-12-31T23:59:59, 10000-01-01.
            UNIX_EPOCH - Duration::from_secs(11_670_912_000),
            UNIX_EPOCH + Duration::from_secs(951_782_400),
            UNIX_EPOCH + Duration::from_secs(4_107_542_400),
            UNIX_EPOCH + Duration::from_secs(253_402_300_799),
            UNIX_EPOCH + Duration::from_secs(253_402_300_800),
            // Year 0 and before it.
            UNIX_EPOCH - Duration::from_secs(62_167_219_200),
            UNIX_EPOCH - Duration::from_secs(62_167_219_201),
            UNIX_EPOCH + Duration::from_secs(8_000_000_000_000),
            UNIX_EPOCH - Duration::from_secs(8_000_000_000_000),
        ];
        for _ in 0..20_000 {
            let secs = next() % 400_000_000_000;
            let nanos = u32::try_from(next() % 1_000_000_000).unwrap();
            let span = Duration::new(secs, nanos);
            points.push(UNIX_EPOCH + span);
            points.push(UNIX_EPOCH - span);
        }
        for at in points {
            assert_eq!(Timestamp::of(at).as_str(), chrono_timestamp(at), "{at:?}");
        }
    }

    #[test]
    fn feed_matches_one_shot_md5() {
        let text: Vec<u8> = (0..2000u32).map(|i| (i % 251) as u8).collect();
        for len in [0, 1, 63, 64, 65, 255, 256, 257, 511, 512, 513, 2000] {
            for split in [1, 3, 64, 100, 256, 300] {
                let mut feed = Feed::new();
                for chunk in text[..len].chunks(split) {
                    feed.push(chunk);
                }
                assert_eq!(feed.finish().as_str(), md5_hex(&text[..len]).as_str());
            }
        }
    }
}
