//! LDAPv3 messages (RFC 4511 section 4) over [`super::ber`]: the three requests the probe
//! sends (anonymous bind, search, unbind) and the replies it reads (bindResponse,
//! searchResEntry, searchResDone, searchResRef, the notice of disconnection).
//!
//! Tags (RFC 4511 section 4 and appendix B): application `0x60` bindRequest, `0x61`
//! bindResponse, `0x42` unbindRequest, `0x63` searchRequest, `0x64` searchResEntry, `0x65`
//! searchResDone, `0x73` searchResRef, `0x78` extendedResp; context `0x80` simple
//! authentication, `0x87` present filter, `0x8a` responseName.

use super::ber::{
    BOOLEAN, ENUMERATED, Head, INTEGER, OCTET_STRING, SEQUENCE, SET, children, head, integer,
    split, tlv, unsigned,
};

/// bindRequest, `[APPLICATION 0]` constructed.
pub(super) const BIND_REQUEST: u8 = 0x60;
/// bindResponse, `[APPLICATION 1]` constructed.
pub(super) const BIND_RESPONSE: u8 = 0x61;
/// unbindRequest, `[APPLICATION 2]` primitive (NULL).
const UNBIND_REQUEST: u8 = 0x42;
/// searchRequest, `[APPLICATION 3]` constructed.
const SEARCH_REQUEST: u8 = 0x63;
/// searchResEntry, `[APPLICATION 4]` constructed.
pub(super) const SEARCH_ENTRY: u8 = 0x64;
/// searchResDone, `[APPLICATION 5]` constructed.
pub(super) const SEARCH_DONE: u8 = 0x65;
/// searchResRef, `[APPLICATION 19]` constructed.
pub(super) const SEARCH_REFERENCE: u8 = 0x73;
/// extendedResp, `[APPLICATION 24]` constructed (the notice of disconnection is one).
pub(super) const EXTENDED_RESPONSE: u8 = 0x78;
const SIMPLE_AUTH: u8 = 0x80;
const PRESENT_FILTER: u8 = 0x87;
const RESPONSE_NAME: u8 = 0x8a;

/// The OID of the unsolicited notice of disconnection (RFC 4511 section 4.4.1).
pub(super) const NOTICE_OF_DISCONNECTION: &str = "1.3.6.1.4.1.1466.20036";
/// An LDAPMessage around one protocol operation.
fn message(id: u32, op: &[u8]) -> Vec<u8> {
    let mut body = unsigned(INTEGER, id);
    body.extend_from_slice(op);
    tlv(SEQUENCE, &body)
}

/// An anonymous simple bind: version 3, empty name, empty password (RFC 4513 section
/// 5.1.1).
pub(super) fn bind_request(id: u32) -> Vec<u8> {
    let mut op = unsigned(INTEGER, 3);
    op.extend_from_slice(&tlv(OCTET_STRING, b""));
    op.extend_from_slice(&tlv(SIMPLE_AUTH, b""));
    message(id, &tlv(BIND_REQUEST, &op))
}

/// The search scopes the probe uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    /// `baseObject` (0): the base entry alone (the rootDSE).
    Base,
    /// `wholeSubtree` (2).
    Subtree,
}

/// A searchRequest with filter `(objectClass=*)` (a present filter), never dereferencing
/// aliases.
pub(super) struct Search<'a> {
    /// The base DN.
    pub base: &'a str,
    /// Base or subtree.
    pub scope: Scope,
    /// Most entries the server should return (0: its own limit).
    pub size_limit: u32,
    /// Most seconds the server should spend.
    pub time_limit: u32,
    /// Attribute types only, no values.
    pub types_only: bool,
    /// The attributes asked for (`1.1` for none).
    pub attributes: &'a [&'a str],
}

impl Search<'_> {
    /// The request as an LDAPMessage with message id `id`.
    pub(super) fn encode(&self, id: u32) -> Vec<u8> {
        let scope = match self.scope {
            Scope::Base => 0,
            Scope::Subtree => 2,
        };
        let mut op = tlv(OCTET_STRING, self.base.as_bytes());
        op.extend_from_slice(&unsigned(ENUMERATED, scope));
        op.extend_from_slice(&unsigned(ENUMERATED, 0));
        op.extend_from_slice(&unsigned(INTEGER, self.size_limit));
        op.extend_from_slice(&unsigned(INTEGER, self.time_limit));
        op.extend_from_slice(&tlv(BOOLEAN, &[if self.types_only { 0xff } else { 0 }]));
        op.extend_from_slice(&tlv(PRESENT_FILTER, b"objectClass"));
        let attributes: Vec<u8> = self
            .attributes
            .iter()
            .flat_map(|a| tlv(OCTET_STRING, a.as_bytes()))
            .collect();
        op.extend_from_slice(&tlv(SEQUENCE, &attributes));
        message(id, &tlv(SEARCH_REQUEST, &op))
    }
}

/// An unbindRequest: the polite end of an LDAP session (RFC 4511 section 4.3).
pub(super) fn unbind_request(id: u32) -> Vec<u8> {
    message(id, &tlv(UNBIND_REQUEST, b""))
}

/// One decoded LDAPMessage: its id, the tag of its protocol operation, and that
/// operation's contents (controls are ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Message<'a> {
    /// The messageID (0 for unsolicited notifications).
    pub id: i64,
    /// The protocolOp's identifier octet.
    pub op: u8,
    /// The protocolOp's contents.
    pub body: &'a [u8],
}

/// Decodes one whole LDAPMessage; `None` unless it is a SEQUENCE of an INTEGER id in LDAP's
/// range (0..2^31-1) and an application-class operation.
pub(super) fn decode_message(frame: &[u8]) -> Option<Message<'_>> {
    let (outer, rest) = split(frame)?;
    if outer.tag != SEQUENCE || !rest.is_empty() {
        return None;
    }
    let mut parts = children(outer.value);
    let id = parts.next().filter(|t| t.tag == INTEGER)?;
    let id = integer(id.value).filter(|n| (0..=i64::from(i32::MAX)).contains(n))?;
    let op = parts.next().filter(|t| t.tag & 0xc0 == 0x40)?;
    Some(Message {
        id,
        op: op.tag,
        body: op.value,
    })
}

/// The LDAPResult every response carries (RFC 4511 section 4.1.9), and an extended
/// response's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LdapResult {
    /// The resultCode.
    pub code: i64,
    /// The diagnosticMessage, lossily decoded (the caller clips it).
    pub diagnostic: String,
    /// The responseName of an extendedResp (`[10]`), when present.
    pub response_name: Option<String>,
}

/// Reads an LDAPResult from a response operation's contents: ENUMERATED resultCode, OCTET
/// STRING matchedDN (skipped), OCTET STRING diagnosticMessage, then optional elements.
pub(super) fn ldap_result(body: &[u8]) -> Option<LdapResult> {
    let mut parts = children(body);
    let code = parts.next().filter(|t| t.tag == ENUMERATED)?;
    let code = integer(code.value)?;
    parts.next().filter(|t| t.tag == OCTET_STRING)?;
    let diagnostic = parts.next().filter(|t| t.tag == OCTET_STRING)?;
    let response_name = parts
        .find(|t| t.tag == RESPONSE_NAME)
        .map(|t| String::from_utf8_lossy(t.value).into_owned());
    Some(LdapResult {
        code,
        diagnostic: String::from_utf8_lossy(diagnostic.value).into_owned(),
        response_name,
    })
}

/// The attributes of a searchResEntry (objectName skipped), at most `max_values` values
/// per attribute, each value at most `max_len` bytes (longer ones are cut). `None` when the
/// entry is malformed.
pub(super) fn entry_attributes(
    body: &[u8],
    max_values: usize,
    max_len: usize,
) -> Option<Vec<(String, Vec<String>)>> {
    let mut parts = children(body);
    parts.next().filter(|t| t.tag == OCTET_STRING)?;
    let list = parts.next().filter(|t| t.tag == SEQUENCE)?;
    let mut out = Vec::new();
    for attribute in children(list.value) {
        if attribute.tag != SEQUENCE {
            return None;
        }
        let mut fields = children(attribute.value);
        let name = fields.next().filter(|t| t.tag == OCTET_STRING)?;
        let values = fields.next().filter(|t| t.tag == SET)?;
        let values = children(values.value)
            .filter(|t| t.tag == OCTET_STRING)
            .take(max_values)
            .map(|t| {
                let cut = t.value.get(..max_len).unwrap_or(t.value);
                String::from_utf8_lossy(cut).into_owned()
            })
            .collect();
        out.push((String::from_utf8_lossy(name.value).into_owned(), values));
    }
    Some(out)
}

/// Whether `bytes` start with an LDAP notice of disconnection: message id 0, an extendedResp
/// named [`NOTICE_OF_DISCONNECTION`] (what an LDAP server may send before closing on bytes
/// it cannot decode).
pub(super) fn is_disconnection_notice(bytes: &[u8]) -> bool {
    let Head::Sized { total, .. } = head(bytes) else {
        return false;
    };
    let Some(frame) = bytes.get(..total) else {
        return false;
    };
    decode_message(frame).is_some_and(|m| {
        m.id == 0
            && m.op == EXTENDED_RESPONSE
            && ldap_result(m.body)
                .is_some_and(|r| r.response_name.as_deref() == Some(NOTICE_OF_DISCONNECTION))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The anonymous bind as `ldapsearch -x` sends it (RFC 4511 section 4.2 layout).
    #[test]
    fn encodes_the_anonymous_bind() {
        assert_eq!(
            bind_request(1),
            [
                0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00
            ]
        );
        assert_eq!(
            unbind_request(9),
            [0x30, 0x05, 0x02, 0x01, 0x09, 0x42, 0x00]
        );
    }

    #[test]
    fn search_request_layout() {
        let request = Search {
            base: "",
            scope: Scope::Base,
            size_limit: 0,
            time_limit: 5,
            types_only: false,
            attributes: &["namingContexts"],
        }
        .encode(2);
        let message = decode_message(&request).expect("message");
        assert_eq!((message.id, message.op), (2, SEARCH_REQUEST));
        let tags: Vec<u8> = children(message.body).map(|t| t.tag).collect();
        assert_eq!(
            tags,
            [
                OCTET_STRING,
                ENUMERATED,
                ENUMERATED,
                INTEGER,
                INTEGER,
                BOOLEAN,
                PRESENT_FILTER,
                SEQUENCE
            ]
        );
    }

    #[test]
    fn message_ids_outside_ldaps_range_are_refused() {
        // A message id out of LDAP's range.
        assert_eq!(
            decode_message(&[0x30, 0x06, 0x02, 0x01, 0xff, 0x61, 0x00, 0x00]),
            None
        );
    }
}
