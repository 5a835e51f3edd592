//! The BER subset LDAPv3 messages use (RFC 4511 section 5.1: definite lengths only, no
//! constructed strings, single-octet tags), written by hand: elements split off a buffer with
//! every length checked against the bytes present before anything is sliced, and elements
//! built in their shortest definite form. The LDAP layer on top is [`super::message`].

/// SEQUENCE (and SEQUENCE OF), constructed: every LDAPMessage starts with it.
pub(super) const SEQUENCE: u8 = 0x30;
/// SET OF, constructed (attribute values).
pub(super) const SET: u8 = 0x31;
/// INTEGER.
pub(super) const INTEGER: u8 = 0x02;
/// OCTET STRING (LDAPString, LDAPDN).
pub(super) const OCTET_STRING: u8 = 0x04;
/// ENUMERATED (resultCode, scope).
pub(super) const ENUMERATED: u8 = 0x0a;
/// BOOLEAN.
pub(super) const BOOLEAN: u8 = 0x01;

/// One tag-length-value element, its value borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tlv<'a> {
    /// The identifier octet (single-octet tags only; LDAP needs no others).
    pub tag: u8,
    /// The contents.
    pub value: &'a [u8],
}

/// What the head of a buffer says about the element that starts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Head {
    /// Not enough bytes yet to know the length.
    Incomplete,
    /// Not definite-length BER: a multi-octet tag, the indefinite form, a length over 4
    /// octets.
    Invalid,
    /// The element's tag and its whole size (identifier, length octets and contents).
    Sized { tag: u8, total: usize },
}

/// Reads the identifier and length octets at the head of `input`.
pub(super) fn head(input: &[u8]) -> Head {
    let Some(&tag) = input.first() else {
        return Head::Incomplete;
    };
    // Tag number 31 means a multi-octet tag, which no LDAP element uses.
    if tag & 0x1f == 0x1f {
        return Head::Invalid;
    }
    let Some(&first) = input.get(1) else {
        return Head::Incomplete;
    };
    if first < 0x80 {
        return Head::Sized {
            tag,
            total: 2usize.saturating_add(usize::from(first)),
        };
    }
    let octets = usize::from(first & 0x7f);
    if octets == 0 || octets > 4 {
        return Head::Invalid;
    }
    let Some(bytes) = input.get(2..2 + octets) else {
        return Head::Incomplete;
    };
    let len = bytes.iter().fold(0usize, |acc, &b| {
        acc.saturating_mul(256).saturating_add(usize::from(b))
    });
    Head::Sized {
        tag,
        total: 2usize.saturating_add(octets).saturating_add(len),
    }
}

/// Splits the first element off `input`: the element and what follows it. `None` when the
/// input does not start with a whole, definite-length element.
pub(super) fn split(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let Head::Sized { tag, total } = head(input) else {
        return None;
    };
    let header = match input.get(1) {
        Some(&b) if b >= 0x80 => 2 + usize::from(b & 0x7f),
        _ => 2,
    };
    let value = input.get(header..total)?;
    let rest = input.get(total..)?;
    Some((Tlv { tag, value }, rest))
}

/// The elements of a constructed value, in order; stops at the first malformed one.
pub(super) fn children(value: &[u8]) -> impl Iterator<Item = Tlv<'_>> {
    let mut rest = value;
    std::iter::from_fn(move || {
        let (tlv, next) = split(rest)?;
        rest = next;
        Some(tlv)
    })
}

/// A two's-complement INTEGER or ENUMERATED of at most 8 octets.
pub(super) fn integer(value: &[u8]) -> Option<i64> {
    if value.is_empty() || value.len() > 8 {
        return None;
    }
    let negative = value.first().is_some_and(|b| b & 0x80 != 0);
    let start: i64 = if negative { -1 } else { 0 };
    Some(
        value
            .iter()
            .fold(start, |acc, &b| acc.wrapping_shl(8) | i64::from(b)),
    )
}

/// An element: identifier, definite length (short or long form), contents.
pub(super) fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u32).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(value);
    out
}

/// A non-negative INTEGER or ENUMERATED in its shortest form.
pub(super) fn unsigned(tag: u8, n: u32) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let mut skip = bytes.iter().take_while(|&&b| b == 0).count().min(3);
    // Keep a leading zero octet when the next one has its top bit set.
    if skip > 0 && bytes.get(skip).is_some_and(|b| b & 0x80 != 0) {
        skip -= 1;
    }
    tlv(tag, bytes.get(skip..).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_integers_in_their_shortest_two_complement_form() {
        assert_eq!(unsigned(INTEGER, 0), [0x02, 0x01, 0x00]);
        assert_eq!(unsigned(INTEGER, 127), [0x02, 0x01, 0x7f]);
        assert_eq!(unsigned(INTEGER, 128), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(unsigned(INTEGER, 10_000), [0x02, 0x02, 0x27, 0x10]);
        assert_eq!(integer(&[0x00, 0x80]), Some(128));
        assert_eq!(integer(&[0xff]), Some(-1));
        assert_eq!(integer(&[]), None);
        assert_eq!(integer(&[1; 9]), None);
    }

    #[test]
    fn long_lengths_round_trip() {
        let long = tlv(OCTET_STRING, &[b'a'; 300]);
        assert_eq!(long.get(..4), Some([0x04, 0x82, 0x01, 0x2c].as_slice()));
        let (element, rest) = split(&long).expect("split");
        assert_eq!((element.value.len(), rest.len()), (300, 0));
    }

    #[test]
    fn refuses_what_ldap_never_sends() {
        assert_eq!(head(&[0x30, 0x80]), Head::Invalid, "indefinite length");
        assert_eq!(head(&[0x30, 0x85, 1, 1, 1, 1, 1]), Head::Invalid);
        assert_eq!(head(&[0x1f, 0x01]), Head::Invalid, "multi-octet tag");
        assert_eq!(head(&[0x30, 0x82, 0x01]), Head::Incomplete);
        assert_eq!(
            head(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
            Head::Sized {
                tag: 0x30,
                total: 6 + 0xffff_ffff
            }
        );
        // A length past the bytes present is not an element.
        assert_eq!(split(&[0x04, 0x05, b'a']), None);
    }
}
