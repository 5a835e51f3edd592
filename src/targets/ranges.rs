//! Sets of addresses as sorted, merged, inclusive ranges: a /8 is one entry, not sixteen
//! million. Blocks, single addresses and exclusions are combined with union and
//! difference on ranges, so de-duplication, exclusion and the `--max-hosts` count cost
//! memory in the number of target lines, never in the number of addresses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A set of IPv4 and IPv6 addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpRanges {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

impl IpRanges {
    /// The empty set.
    pub fn new() -> IpRanges {
        IpRanges::default()
    }

    /// Adds the inclusive range `first..=last` of one family (`first <= last`).
    pub fn insert(&mut self, first: IpAddr, last: IpAddr) {
        match (first, last) {
            (IpAddr::V4(a), IpAddr::V4(b)) => self.v4.push(ordered(u32::from(a), u32::from(b))),
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                self.v6.push(ordered(u128::from(a), u128::from(b)));
            }
            // Mixed families never come from a block; treat as the two single addresses.
            (a, b) => {
                self.insert(a, a);
                self.insert(b, b);
            }
        }
    }

    /// Adds one address.
    pub fn insert_addr(&mut self, ip: IpAddr) {
        self.insert(ip, ip);
    }

    /// Sorts and merges overlapping or adjacent ranges. Call after inserting, before
    /// querying.
    pub fn normalize(&mut self) {
        merge(&mut self.v4);
        merge(&mut self.v6);
    }

    /// Removes every address of `other` (both normalised).
    pub fn subtract(&mut self, other: &IpRanges) {
        self.v4 = difference(&self.v4, &other.v4);
        self.v6 = difference(&self.v6, &other.v6);
    }

    /// Whether `ip` is in the set (normalised).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(v4) => find(&self.v4, u32::from(v4)),
            IpAddr::V6(v6) => find(&self.v6, u128::from(v6)),
        }
    }

    /// Number of addresses, saturating at `u128::MAX`.
    pub fn count(&self) -> u128 {
        let v4: u128 = self
            .v4
            .iter()
            .map(|(a, b)| u128::from(b - a) + 1)
            .fold(0u128, u128::saturating_add);
        let v6 = self
            .v6
            .iter()
            .map(|(a, b)| (b - a).saturating_add(1))
            .fold(0u128, u128::saturating_add);
        v4.saturating_add(v6)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// Number of stored ranges (what the set costs in memory).
    pub fn ranges(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// Every address, IPv4 first, in ascending order, produced on demand.
    pub fn addrs(&self) -> impl Iterator<Item = IpAddr> + '_ {
        let v4 = self
            .v4
            .iter()
            .flat_map(|&(a, b)| (a..=b).map(|n| IpAddr::V4(Ipv4Addr::from(n))));
        let v6 = self
            .v6
            .iter()
            .flat_map(|&(a, b)| (a..=b).map(|n| IpAddr::V6(Ipv6Addr::from(n))));
        v4.chain(v6)
    }
}

fn ordered<T: Ord>(a: T, b: T) -> (T, T) {
    if a <= b { (a, b) } else { (b, a) }
}

/// Numbers one step apart: `u32` and `u128` ranges share the merge code.
trait Step: Copy + Ord {
    fn next(self) -> Option<Self>;
    fn prev(self) -> Option<Self>;
}

impl Step for u32 {
    fn next(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn prev(self) -> Option<Self> {
        self.checked_sub(1)
    }
}

impl Step for u128 {
    fn next(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn prev(self) -> Option<Self> {
        self.checked_sub(1)
    }
}

fn merge<T: Step>(ranges: &mut Vec<(T, T)>) {
    ranges.sort_unstable();
    let mut out: Vec<(T, T)> = Vec::with_capacity(ranges.len());
    for &(a, b) in ranges.iter() {
        if let Some(last) = out.last_mut() {
            // Overlapping, or adjacent (last.1 + 1 == a).
            let touches = last.1 >= a || last.1.next().is_some_and(|n| n >= a);
            if touches {
                last.1 = last.1.max(b);
                continue;
            }
        }
        out.push((a, b));
    }
    out.shrink_to_fit();
    *ranges = out;
}

fn difference<T: Step>(keep: &[(T, T)], remove: &[(T, T)]) -> Vec<(T, T)> {
    let mut out = Vec::with_capacity(keep.len());
    let mut j = 0;
    for &(mut a, b) in keep {
        let mut alive = true;
        while j < remove.len() && remove[j].1 < a {
            j += 1;
        }
        let mut k = j;
        while alive && k < remove.len() && remove[k].0 <= b {
            let (ra, rb) = remove[k];
            if ra > a
                && let Some(before) = ra.prev()
            {
                out.push((a, before));
            }
            match rb.next() {
                Some(after) if rb < b => a = after,
                _ => alive = false,
            }
            k += 1;
        }
        if alive {
            out.push((a, b));
        }
    }
    out.shrink_to_fit();
    out
}

fn find<T: Step>(ranges: &[(T, T)], n: T) -> bool {
    let i = ranges.partition_point(|&(_, b)| b < n);
    ranges.get(i).is_some_and(|&(a, _)| a <= n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    fn set(ranges: &[(&str, &str)]) -> IpRanges {
        let mut s = IpRanges::new();
        for (a, b) in ranges {
            s.insert(ip(a), ip(b));
        }
        s.normalize();
        s
    }

    #[test]
    fn merges_overlapping_and_adjacent_ranges() {
        let s = set(&[
            ("127.0.0.4", "127.0.0.7"),
            ("127.0.0.0", "127.0.0.3"),
            ("127.0.0.6", "127.0.0.9"),
            ("127.0.1.0", "127.0.1.0"),
        ]);
        assert_eq!(s.ranges(), 2);
        assert_eq!(s.count(), 11);
        assert!(s.contains(ip("127.0.0.9")) && !s.contains(ip("127.0.0.10")));
    }

    #[test]
    fn subtracts_inside_across_and_at_the_edges() {
        let mut s = set(&[("127.0.0.0", "127.0.0.255"), ("::1", "::1")]);
        s.subtract(&set(&[
            ("127.0.0.0", "127.0.0.0"),
            ("127.0.0.10", "127.0.0.19"),
            ("127.0.0.255", "127.0.1.255"),
            ("::1", "::1"),
        ]));
        assert_eq!(s.count(), 256 - 1 - 10 - 1);
        let first: Vec<String> = s.addrs().take(2).map(|a| a.to_string()).collect();
        assert_eq!(first, ["127.0.0.1", "127.0.0.2"]);
        assert!(!s.contains(ip("127.0.0.15")) && s.contains(ip("127.0.0.20")));
        assert!(!s.contains(ip("::1")));
    }

    #[test]
    fn whole_spaces_stay_one_range_each() {
        let mut s = set(&[
            ("0.0.0.0", "255.255.255.255"),
            ("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
        ]);
        assert_eq!(s.ranges(), 2);
        assert_eq!(s.count(), u128::MAX);
        s.subtract(&set(&[("0.0.0.0", "0.0.0.0")]));
        assert_eq!(s.ranges(), 2);
        assert!(!s.contains(ip("0.0.0.0")));
    }
}
