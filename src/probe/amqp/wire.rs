//! AMQP 0-9-1 framing and the few methods the probe speaks: the protocol header, frames
//! (type, channel, size, payload, 0xCE), field tables, and Connection.Start, StartOk, Tune,
//! TuneOk, Open, OpenOk, Close and CloseOk (AMQP 0-9-1 specification sections 2.3.5 and
//! 4.2, and RabbitMQ's errata for the field value types). Decoding never panics and never
//! allocates more than the bytes it was handed.

use super::table::{Reader, Value, text};
use crate::sanitize::clip;

/// The protocol header a 0-9-1 client opens with.
pub const HEADER: &[u8; 8] = b"AMQP\x00\x00\x09\x01";
/// Frame type of a method frame.
pub const FRAME_METHOD: u8 = 1;
/// Frame type of a heartbeat frame.
pub const FRAME_HEARTBEAT: u8 = 8;
/// The octet every frame ends with.
pub const FRAME_END: u8 = 0xCE;
/// The connection class.
pub const CONNECTION: u16 = 10;
/// Connection.Start, Secure, Tune, OpenOk, Close and CloseOk method ids.
pub const START: u16 = 10;
/// Connection.Secure (a SASL challenge).
pub const SECURE: u16 = 20;
/// Connection.Tune.
pub const TUNE: u16 = 30;
/// Connection.OpenOk.
pub const OPEN_OK: u16 = 41;
/// Connection.Close.
pub const CLOSE: u16 = 50;
/// Connection.CloseOk.
pub const CLOSE_OK: u16 = 51;
/// Longest server string kept (product, version, reply text).
const MAX_TEXT: usize = 160;
/// Deepest nesting of tables and arrays decoded.
pub(super) const MAX_DEPTH: u8 = 4;

/// Whether bytes a server sent are an AMQP protocol header (`AMQP` and four octets): what
/// a broker answers to a header it does not speak, or to any other protocol's bytes.
pub fn is_header(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes.starts_with(b"AMQP")
}

/// A protocol header for humans: `AMQP 0-9-1`, `AMQP 1.0.0 (SASL)`.
pub fn describe_header(h: &[u8]) -> String {
    match h {
        [b'A', b'M', b'Q', b'P', 0, 0, 9, 1, ..] => "AMQP 0-9-1".into(),
        [
            b'A',
            b'M',
            b'Q',
            b'P',
            id @ (0 | 2 | 3),
            major,
            minor,
            revision,
            ..,
        ] => {
            let layer = match id {
                2 => " (TLS layer)",
                3 => " (SASL layer)",
                _ => "",
            };
            format!("AMQP {major}.{minor}.{revision}{layer}")
        }
        // 0-8 wrote its version as major 8, minor 0; 0-9 and 0-10 as 0 and 9 or 10.
        [b'A', b'M', b'Q', b'P', 1, 1, 8, 0, ..] => "AMQP 0-8".into(),
        [b'A', b'M', b'Q', b'P', 1, 1, major, minor, ..] => format!("AMQP {major}-{minor}"),
        _ => format!(
            "an AMQP header {}",
            crate::sanitize::byte_preview(h.get(..8).unwrap_or(h), 8)
        ),
    }
}

/// One method frame on channel 0, ready to send.
pub fn method_frame(class: u16, method: u16, args: &[u8]) -> Vec<u8> {
    let size = u32::try_from(args.len().saturating_add(4)).unwrap_or(u32::MAX);
    let mut out = vec![FRAME_METHOD, 0, 0];
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(&class.to_be_bytes());
    out.extend_from_slice(&method.to_be_bytes());
    out.extend_from_slice(args);
    out.push(FRAME_END);
    out
}

fn shortstr(out: &mut Vec<u8>, text: &str) {
    let bytes = &text.as_bytes()[..text.len().min(255)];
    out.push(u8::try_from(bytes.len()).unwrap_or(255));
    out.extend_from_slice(bytes);
}

fn longstr(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(0).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Connection.StartOk: ajar's client properties, which ask for an explicit
/// Connection.Close on a refused login (the `authentication_failure_close` capability),
/// then the mechanism, its response and the locale.
pub fn start_ok(mechanism: &str, response: &[u8], locale: &str) -> Vec<u8> {
    let mut caps = Vec::new();
    shortstr(&mut caps, "authentication_failure_close");
    caps.extend_from_slice(b"t\x01");
    let mut props = Vec::new();
    shortstr(&mut props, "product");
    props.push(b'S');
    longstr(&mut props, b"ajar");
    shortstr(&mut props, "capabilities");
    props.push(b'F');
    longstr(&mut props, &caps);
    let mut args = Vec::new();
    longstr(&mut args, &props);
    shortstr(&mut args, mechanism);
    longstr(&mut args, response);
    shortstr(&mut args, locale);
    method_frame(CONNECTION, 11, &args)
}

/// Connection.TuneOk with the server's channel and frame limits and no heartbeats, then
/// Connection.Open of `vhost`, in one write.
pub fn tune_ok_and_open(tune: &Tune, vhost: &str) -> Vec<u8> {
    let mut args = Vec::new();
    args.extend_from_slice(&tune.channel_max.to_be_bytes());
    args.extend_from_slice(&tune.frame_max.to_be_bytes());
    args.extend_from_slice(&0u16.to_be_bytes());
    let mut out = method_frame(CONNECTION, 31, &args);
    let mut open = Vec::new();
    shortstr(&mut open, vhost);
    shortstr(&mut open, "");
    open.push(0);
    out.extend_from_slice(&method_frame(CONNECTION, 40, &open));
    out
}

/// Connection.Close with reply code 200 (a normal shutdown).
pub fn close() -> Vec<u8> {
    let mut args = 200u16.to_be_bytes().to_vec();
    shortstr(&mut args, "");
    args.extend_from_slice(&[0, 0, 0, 0]);
    method_frame(CONNECTION, CLOSE, &args)
}

/// Connection.CloseOk, the answer to a server's Connection.Close.
pub fn close_ok() -> Vec<u8> {
    method_frame(CONNECTION, CLOSE_OK, &[])
}

/// A method frame's class and method ids and its arguments.
pub fn method(payload: &[u8]) -> Option<(u16, u16, &[u8])> {
    let class = u16::from_be_bytes([*payload.first()?, *payload.get(1)?]);
    let id = u16::from_be_bytes([*payload.get(2)?, *payload.get(3)?]);
    Some((class, id, payload.get(4..)?))
}

/// What Connection.Start says about the server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Start {
    /// Protocol major and minor version (RabbitMQ sends 0 and 9 for 0-9-1).
    pub major: u8,
    /// See `major`.
    pub minor: u8,
    /// server-properties `product` (`RabbitMQ`).
    pub product: Option<String>,
    /// server-properties `version`.
    pub version: Option<String>,
    /// server-properties `platform` (`Erlang/OTP 25.2.3`).
    pub platform: Option<String>,
    /// server-properties `cluster_name`.
    pub cluster_name: Option<String>,
    /// Names of the capabilities set to true.
    pub capabilities: Vec<String>,
    /// The SASL mechanisms offered, in the server's order.
    pub mechanisms: Vec<String>,
    /// The locales offered, as sent.
    pub locales: String,
}

impl Start {
    /// Whether the server offers SASL mechanism `name`.
    pub fn offers(&self, name: &str) -> bool {
        self.mechanisms.iter().any(|m| m == name)
    }
}

/// Decodes Connection.Start from a method frame's payload; `None` unless it is one, whole.
pub fn parse_start(payload: &[u8]) -> Option<Start> {
    let (CONNECTION, START, args) = method(payload)? else {
        return None;
    };
    let mut r = Reader {
        bytes: args,
        pos: 0,
    };
    let major = r.u8()?;
    let minor = r.u8()?;
    let props = r.table(0)?;
    let mechanisms = text(r.longstr()?);
    let locales = text(r.longstr()?);
    if r.pos != args.len() {
        return None;
    }
    let string = |key: &str| {
        props.iter().find_map(|(k, v)| match v {
            Value::Str(s) if k == key => Some(clip(s, MAX_TEXT)),
            _ => None,
        })
    };
    let capabilities = props
        .iter()
        .find_map(|(k, v)| match v {
            Value::Table(t) if k == "capabilities" => Some(t),
            _ => None,
        })
        .map(|t| {
            t.iter()
                .filter(|(_, v)| *v == Value::Bool(true))
                .map(|(k, _)| clip(k, 60))
                .take(32)
                .collect()
        })
        .unwrap_or_default();
    Some(Start {
        major,
        minor,
        product: string("product"),
        version: string("version"),
        platform: string("platform"),
        cluster_name: string("cluster_name"),
        capabilities,
        mechanisms: mechanisms
            .split(' ')
            .filter(|m| !m.is_empty())
            .take(16)
            .map(|m| clip(m, 40))
            .collect(),
        locales: clip(&locales, 60),
    })
}

/// Connection.Tune's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tune {
    /// Highest channel number the server allows (0: no limit).
    pub channel_max: u16,
    /// Largest frame the server accepts (0: no limit).
    pub frame_max: u32,
    /// Heartbeat interval the server proposes, in seconds.
    pub heartbeat: u16,
}

/// Decodes Connection.Tune's arguments.
pub fn parse_tune(args: &[u8]) -> Option<Tune> {
    let mut r = Reader {
        bytes: args,
        pos: 0,
    };
    Some(Tune {
        channel_max: r.u16()?,
        frame_max: r.u32()?,
        heartbeat: r.u16()?,
    })
}

/// Connection.Close's reply code and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    /// 403 ACCESS_REFUSED, 530 NOT_ALLOWED, 200 for a normal shutdown...
    pub code: u16,
    /// The server's text, clipped.
    pub text: String,
}

/// Decodes Connection.Close's arguments.
pub fn parse_close(args: &[u8]) -> Option<Close> {
    let mut r = Reader {
        bytes: args,
        pos: 0,
    };
    let code = r.u16()?;
    let text = text(r.shortstr()?);
    r.u16()?;
    r.u16()?;
    Some(Close {
        code,
        text: clip(&text, MAX_TEXT),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_named_by_version_and_layer() {
        assert_eq!(describe_header(HEADER), "AMQP 0-9-1");
        assert_eq!(
            describe_header(b"AMQP\x03\x01\x00\x00"),
            "AMQP 1.0.0 (SASL layer)"
        );
        assert_eq!(describe_header(b"AMQP\x00\x01\x00\x00"), "AMQP 1.0.0");
        assert_eq!(describe_header(b"AMQP\x01\x01\x00\x0a"), "AMQP 0-10");
        assert_eq!(describe_header(b"AMQP\x01\x01\x08\x00"), "AMQP 0-8");
        assert!(is_header(b"AMQP\x00\x00\x09\x01"));
        assert!(!is_header(b"AMQP\x00\x00"));
        assert!(!is_header(b"HTTP/1.1 400 Bad Request"));
    }

    #[test]
    fn rejects_truncated_and_overlong_tables() {
        // A table claiming 4 GiB, a string running past its table, an unknown type.
        let mut start = vec![0, 10, 0, 10, 0, 9];
        start.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(parse_start(&start), None);
        let bad = [0, 10, 0, 10, 0, 9, 0, 0, 0, 4, 1, b'a', b'S', 0];
        assert_eq!(parse_start(&bad), None);
        let unknown = [
            0, 10, 0, 10, 0, 9, 0, 0, 0, 3, 1, b'a', b'?', 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(parse_start(&unknown), None);
    }

    #[test]
    fn nesting_is_bounded() {
        // Tables inside tables, deeper than MAX_DEPTH: refused, not a stack overflow.
        let mut table: Vec<u8> = Vec::new();
        for _ in 0..10 {
            let mut outer = vec![1, b'x', b'F'];
            longstr(&mut outer, &table);
            table = outer;
        }
        let mut args = vec![0, 9];
        longstr(&mut args, &table);
        longstr(&mut args, b"PLAIN");
        longstr(&mut args, b"en_US");
        let mut payload = vec![0, 10, 0, 10];
        payload.extend_from_slice(&args);
        assert_eq!(parse_start(&payload), None);
    }

    #[test]
    fn encodes_start_ok_with_the_failure_close_capability() {
        let frame = start_ok("PLAIN", b"\0guest\0guest", "en_US");
        assert_eq!(&frame[..3], &[1, 0, 0]);
        assert_eq!(frame.last(), Some(&FRAME_END));
        let size = u32::from_be_bytes([frame[3], frame[4], frame[5], frame[6]]) as usize;
        assert_eq!(size, frame.len() - 8);
        let (class, id, args) = method(&frame[7..frame.len() - 1]).expect("method");
        assert_eq!((class, id), (10, 11));
        let mut r = Reader {
            bytes: args,
            pos: 0,
        };
        let props = r.table(0).expect("client properties");
        assert_eq!(props[0], ("product".into(), Value::Str("ajar".into())));
        assert_eq!(
            props[1],
            (
                "capabilities".into(),
                Value::Table(vec![(
                    "authentication_failure_close".into(),
                    Value::Bool(true)
                )])
            )
        );
        assert_eq!(r.shortstr(), Some(b"PLAIN".as_slice()));
        assert_eq!(r.longstr(), Some(b"\0guest\0guest".as_slice()));
        assert_eq!(r.shortstr(), Some(b"en_US".as_slice()));
        assert_eq!(r.pos, args.len());
    }
}
