//! `getChildren /` and `closeSession` on the session the ConnectRequest opened: the verdict
//! from the reply's error code and the listing's shape, then the close, so that no session
//! lingers until its timeout.

use super::frame::{self, ReadError};
use super::{CLOSE, CLOSE_XID, LIST, LIST_XID, MAX_REPLY, NAMES_QUOTED, SYSTEM_ZNODE, wire};
use crate::finding::Exposure;
use crate::net::BoxStream;
use crate::probe::ProbeContext;
use crate::probe::trace::Trace;
use crate::sanitize::{byte_preview, clip};

/// The verdict of `getChildren /` and what it listed.
pub(super) struct Judged {
    pub(super) exposure: Exposure,
    pub(super) summary: String,
    /// The root's children, when open.
    pub(super) children: Option<wire::Children>,
    /// Whether the session may still be open (the server neither closed it nor hung up).
    pub(super) session_open: bool,
    /// Whether the reply was read whole (a cut one is still arriving).
    pub(super) whole: bool,
}

impl Judged {
    fn new(exposure: Exposure, summary: String, session_open: bool) -> Judged {
        Judged {
            exposure,
            summary,
            children: None,
            session_open,
            whole: true,
        }
    }
}

/// Lists `/` on the open session and judges the reply.
pub(super) async fn judge(cx: &ProbeContext, stream: &mut BoxStream, trace: &mut Trace) -> Judged {
    let request = wire::get_children_request(LIST_XID, "/");
    let reply = frame::exchange(
        stream,
        &request,
        cx.net.timeout,
        frame::fits_reply,
        MAX_REPLY,
    );
    let frame = match reply.await {
        Ok(frame) => frame,
        Err(ReadError::Closed(bytes)) if bytes.is_empty() => {
            trace.record(LIST, "connection closed without an answer");
            let summary = "ZooKeeper hung up on getChildren / without an answer after giving a session: taken as a refusal of unauthenticated sessions";
            return Judged::new(Exposure::AuthRequired, summary.into(), false);
        }
        Err(ReadError::Silent) => {
            trace.record(LIST, "no answer before the timeout");
            let summary = "ZooKeeper gave a session but did not answer getChildren /";
            return Judged::new(Exposure::Undetermined, summary.into(), false);
        }
        Err(ReadError::Io(e)) => {
            trace.record(LIST, format!("socket error: {e}"));
            let summary =
                format!("ZooKeeper gave a session, then a socket error on getChildren /: {e}");
            return Judged::new(Exposure::Undetermined, summary, false);
        }
        Err(ReadError::Closed(bytes) | ReadError::Foreign(bytes)) => {
            let preview = byte_preview(&bytes, 48);
            trace.record(LIST, format!("not a reply: {preview}"));
            let summary =
                "ZooKeeper gave a session, then answered getChildren / with no reply frame";
            return Judged::new(Exposure::Undetermined, summary.into(), false);
        }
    };
    let whole = frame.whole();
    let Some((header, rest)) = wire::parse_reply_header(&frame.body) else {
        trace.record(LIST, "a frame too short for a reply header");
        let summary = "ZooKeeper answered getChildren / with a frame too short for a reply";
        return Judged::new(Exposure::Undetermined, summary.into(), true);
    };
    if header.xid != LIST_XID {
        trace.record(LIST, format!("reply xid {}, not {LIST_XID}", header.xid));
        let summary = format!("ZooKeeper answered getChildren / with xid {}", header.xid);
        return Judged::new(Exposure::Undetermined, summary, true);
    }
    match header.err {
        0 => {}
        wire::ERR_NOAUTH => {
            trace.record(
                LIST,
                "reply xid 1, err -102 NOAUTH (the ACL of / denies this session)",
            );
            let summary = "ZooKeeper refuses to list / without credentials: NOAUTH (its ACL denies the world)";
            return Judged::new(Exposure::AuthRequired, summary.into(), true);
        }
        wire::ERR_SESSION_CLOSED_REQUIRE_SASL_AUTH => {
            trace.record(
                LIST,
                "reply xid 1, err -124 SESSIONCLOSEDREQUIRESASLAUTH (session closed: the server requires authentication)",
            );
            let summary = "ZooKeeper requires every session to authenticate (SESSIONCLOSEDREQUIRESASLAUTH): getChildren / refused and the session closed";
            return Judged::new(Exposure::AuthRequired, summary.into(), false);
        }
        err => {
            trace.record(LIST, format!("reply xid 1, err {err}"));
            let summary = format!("ZooKeeper answered getChildren / with error {err}");
            return Judged::new(Exposure::Undetermined, summary, true);
        }
    }
    let children = match wire::parse_children(rest, whole, cx.limits.max_items) {
        Ok(children) => children,
        Err(bad) => {
            trace.record(LIST, format!("reply xid 1, err 0, but {bad}"));
            let summary =
                format!("ZooKeeper answered getChildren / with a listing no server sends: {bad}");
            return Judged::new(Exposure::Undetermined, summary, true);
        }
    };
    let quoted: Vec<&str> = children
        .names
        .iter()
        .take(NAMES_QUOTED)
        .map(String::as_str)
        .collect();
    let more = if children.count > quoted.len() as u64 {
        ", …"
    } else {
        ""
    };
    let listed = clip(&format!("{}{more}", quoted.join(", ")), 400);
    trace.record(
        LIST,
        format!("reply xid 1, err 0: {} children: {listed}", children.count),
    );
    // Every ZooKeeper lists its own /zookeeper under /; a listing cut short may not show it.
    if !children.truncated && !children.names.iter().any(|n| n == SYSTEM_ZNODE) {
        let summary = "ZooKeeper listed / without /zookeeper, which every real server has".into();
        return Judged {
            whole,
            ..Judged::new(Exposure::Undetermined, summary, true)
        };
    }
    let user = children.names.iter().filter(|n| *n != SYSTEM_ZNODE).count();
    let summary = format!(
        "ZooKeeper lists the root znodes without credentials: {} under / ({user} besides /zookeeper; names only)",
        children.count
    );
    Judged {
        exposure: Exposure::Open,
        summary,
        children: Some(children),
        session_open: true,
        whole,
    }
}

/// Closes the session so that it does not linger until its timeout. A listing cut at the
/// read cap is still arriving: the close is sent, its reply not awaited.
pub(super) async fn close(
    stream: &mut BoxStream,
    step: std::time::Duration,
    whole: bool,
    trace: &mut Trace,
) {
    let request = wire::close_request(CLOSE_XID);
    if !whole {
        let sent =
            tokio::time::timeout(step, tokio::io::AsyncWriteExt::write_all(stream, &request));
        let note = match sent.await {
            Ok(Ok(())) => "sent; reply not awaited (the listing was cut at the read cap)",
            _ => "could not be sent",
        };
        trace.record(CLOSE, note);
        return;
    }
    let note = match frame::exchange(stream, &request, step, frame::fits_reply, 64).await {
        Ok(frame) => match wire::parse_reply_header(&frame.body) {
            Some((header, _)) if header.xid == CLOSE_XID && header.err == 0 => {
                "reply xid 2, err 0 (session closed)".to_string()
            }
            Some((header, _)) => format!("reply xid {}, err {}", header.xid, header.err),
            None => "a frame too short for a reply header".into(),
        },
        Err(ReadError::Closed(_)) => "connection closed without an answer".into(),
        Err(ReadError::Silent) => "no answer before the timeout".into(),
        Err(ReadError::Io(e)) => format!("socket error: {e}"),
        Err(ReadError::Foreign(bytes)) => format!("not a reply: {}", byte_preview(&bytes, 48)),
    };
    trace.record(CLOSE, note);
}
