//! `--shard K/N`: one of N disjoint parts of a scan, so N runners (a CI matrix, a
//! Kubernetes Indexed Job) together cover every endpoint exactly once.
//!
//! An endpoint's part is a hash of the address it is scanned at and its port, not its
//! position in the list: the same endpoint lands in the same part whatever else the target
//! list holds, every spelling of one server (a name, its address) lands in one part, and a
//! part can tell whether it holds an endpoint without expanding the list, which is what
//! baselines need to tell "resolved" from "scanned by another runner".

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// The most parts a scan can be split into.
pub const MAX_SHARDS: u32 = 10_000;

/// The part `index` (1-based) of `count` parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    /// Which part, from 1 to `count`.
    pub index: u32,
    /// How many parts in all.
    pub count: u32,
}

impl Shard {
    /// Whether the endpoint at `addr`, `port` belongs to this part.
    pub fn holds(&self, addr: IpAddr, port: u16) -> bool {
        part_of(addr, port, self.count) == self.index
    }
}

/// The 1-based part of `count` that the endpoint at `addr`, `port` belongs to: FNV-1a
/// (64-bit) over the address's 16-byte IPv6 form and the port, big-endian, then the
/// MurmurHash3 64-bit finaliser (FNV alone leaves its low bits a function of the inputs'
/// low bits, so a power-of-two `count` would split by address and port parity), modulo
/// `count`. Stable across releases: changing it would move endpoints between runners.
pub fn part_of(addr: IpAddr, port: u16, count: u32) -> u32 {
    let canonical = match addr {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    };
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in canonical.octets().into_iter().chain(port.to_be_bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^= hash >> 33;
    let count = u64::from(count.max(1));
    // The remainder is below `count`, a u32.
    u32::try_from(hash % count).unwrap_or(0) + 1
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Shard, String> {
        let bad =
            || format!("{text:?} is not a shard: write K/N, e.g. 2/4 for the second of four parts");
        let (k, n) = text.trim().split_once('/').ok_or_else(bad)?;
        let index: u32 = k.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || count > MAX_SHARDS {
            return Err(format!("{text:?}: N must be from 1 to {MAX_SHARDS}"));
        }
        if index == 0 || index > count {
            return Err(format!(
                "{text:?}: K must be from 1 to {count} (shards count from 1; a Kubernetes JOB_COMPLETION_INDEX counts from 0, so pass $((JOB_COMPLETION_INDEX + 1))/{count})"
            ));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn parses_k_of_n() {
        assert_eq!("2/4".parse(), Ok(Shard { index: 2, count: 4 }));
        assert_eq!(" 1 / 1 ".parse(), Ok(Shard { index: 1, count: 1 }));
        for bad in ["0/4", "5/4", "1/0", "4", "a/b", "-1/4", "1/10001", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        let zero = "0/4".parse::<Shard>().expect_err("0 is refused");
        assert!(zero.contains("JOB_COMPLETION_INDEX + 1"), "{zero}");
    }

    #[test]
    fn every_endpoint_is_in_exactly_one_part() {
        for count in [1u32, 2, 3, 4, 7, 16] {
            let mut sizes = vec![0usize; count as usize];
            for host in 0..64u32 {
                for port in [80u16, 6379, 9200, 27017] {
                    let addr = IpAddr::V4(Ipv4Addr::from(0x7f00_0000 + host));
                    let holders: Vec<u32> = (1..=count)
                        .filter(|&index| Shard { index, count }.holds(addr, port))
                        .collect();
                    assert_eq!(holders.len(), 1, "{addr}:{port} of {count}");
                    sizes[holders[0] as usize - 1] += 1;
                }
            }
            // 256 endpoints over `count` parts: none empty, none holding twice its share.
            let share = 256 / count as usize;
            assert!(
                sizes.iter().all(|&s| s > 0 && s <= 2 * share),
                "{count}: {sizes:?}"
            );
        }
    }

    /// Before the finaliser, FNV-1a's low two bits depended only on the inputs' low two
    /// bits: every fourth address of a block on one port fell into one part of four.
    #[test]
    fn parts_do_not_follow_address_parity() {
        let parts: std::collections::BTreeSet<u32> = (0..64u32)
            .map(|h| part_of(IpAddr::V4(Ipv4Addr::from(0x7f00_0000 + 4 * h)), 80, 4))
            .collect();
        assert_eq!(parts.len(), 4, "{parts:?}");
    }

    #[test]
    fn the_hash_is_pinned_and_a_mapped_address_is_its_ipv4() {
        // Pinned values: a change here moves endpoints between runners of one estate.
        assert_eq!(
            part_of(IpAddr::V4(Ipv4Addr::LOCALHOST), 9200, 4),
            part_of(IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped()), 9200, 4)
        );
        let parts: Vec<u32> = [80u16, 443, 6379, 9200, 27017]
            .iter()
            .map(|&p| part_of(IpAddr::V4(Ipv4Addr::LOCALHOST), p, 4))
            .collect();
        assert_eq!(parts, PINNED_PARTS);
        assert!(part_of(IpAddr::V6(Ipv6Addr::LOCALHOST), 9200, 1) == 1);
    }

    /// Computed independently (Python: FNV-1a 64 over `::ffff:127.0.0.1` octets and the
    /// big-endian port, the MurmurHash3 fmix64 finaliser, mod 4, plus 1).
    const PINNED_PARTS: [u32; 5] = [4, 3, 3, 3, 2];
}
