//! Node lines keyed by a 64-bit hash of the node's JSON pointer.
//!
//! The host parses every manifest with positions on, so recording must be
//! cheap: parsers extend a running FNV-1a hash per path segment instead of
//! building and cloning pointer strings. Lookups hash each prefix of the
//! queried pointer the same way. A false match needs a 64-bit collision
//! within one document, which is negligible for line reporting.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Hash of the root pointer `""`.
pub(crate) const ROOT: u64 = 0xcbf2_9ce4_8422_2325;

const PRIME: u64 = 0x0000_0100_0000_01b3;

#[inline]
fn byte(h: u64, b: u8) -> u64 {
    (h ^ b as u64).wrapping_mul(PRIME)
}

/// `parent` extended by `/seg`, with RFC 6901 escaping (`~0`, `~1`).
#[inline]
pub(crate) fn key(parent: u64, seg: &str) -> u64 {
    let mut h = byte(parent, b'/');
    for &b in seg.as_bytes() {
        h = match b {
            b'~' => byte(byte(h, b'~'), b'0'),
            b'/' => byte(byte(h, b'~'), b'1'),
            _ => byte(h, b),
        };
    }
    h
}

/// `parent` extended by `/index`.
#[inline]
pub(crate) fn index(parent: u64, i: usize) -> u64 {
    let mut h = byte(parent, b'/');
    let mut digits = [0u8; 20];
    let mut n = i;
    let mut k = digits.len();
    loop {
        k -= 1;
        digits[k] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[k..] {
        h = byte(h, d);
    }
    h
}

/// Passes the FNV hash through a mixer (hashbrown takes its control bits
/// from the top and its bucket from the bottom of the hash).
#[derive(Default)]
pub(crate) struct Mix(u64);

impl Hasher for Mix {
    fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = byte(self.0, b);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// Lines of the nodes of one document.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Positions(HashMap<u64, u32, BuildHasherDefault<Mix>>);

impl Positions {
    /// Room for a typical manifest, sparing the first few rehashes.
    pub(crate) fn new() -> Self {
        Positions(HashMap::with_capacity_and_hasher(48, Default::default()))
    }

    /// Records `line` for the node unless it already has one.
    #[inline]
    pub(crate) fn record(&mut self, h: u64, line: u32) {
        self.0.entry(h).or_insert(line);
    }

    /// Line of the node at `pointer` or of its nearest recorded ancestor.
    pub(crate) fn lookup(&self, pointer: &str) -> Option<u32> {
        // Hash every prefix that ends a segment, then try the longest first.
        let mut prefixes = Vec::with_capacity(8);
        let mut h = ROOT;
        prefixes.push(h);
        for &b in pointer.as_bytes() {
            if b == b'/' {
                prefixes.push(h);
            }
            h = byte(h, b);
        }
        prefixes.push(h);
        prefixes.iter().rev().find_map(|p| self.0.get(p).copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incremental_hashes_match_whole_pointers() {
        let mut p = Positions::default();
        let h = key(index(key(ROOT, "spec"), 12), "a/b~c");
        p.record(h, 7);
        p.record(ROOT, 1);
        p.record(key(ROOT, "spec"), 3);
        let cases = [
            ("/spec/12/a~1b~0c", Some(7)),
            ("/spec/12/a~1b~0c/deeper/0", Some(7)),
            ("/spec/12", Some(3)),
            ("/spec/1", Some(3)),
            ("/other", Some(1)),
            ("", Some(1)),
        ];
        for (ptr, want) in cases {
            assert_eq!(p.lookup(ptr), want, "{ptr}");
        }
        assert_eq!(Positions::default().lookup("/x"), None);
    }
}
