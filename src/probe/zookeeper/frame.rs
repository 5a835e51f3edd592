//! Frames off the socket: a 4-byte big-endian length and that many bytes, read within the
//! step timeout per read and a cap, with the declared length checked before anything is
//! kept. A first length no ZooKeeper reply can have (an HTTP status line read as a length)
//! stops the read at once.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::wire::{CONNECT_RESPONSE_LENGTHS, MAX_DECLARED, REPLY_HEADER};
use crate::net::BoxStream;

/// Why a frame could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// Nothing came back before the step timeout.
    Silent,
    /// The server closed the connection; the bytes it sent first.
    Closed(Vec<u8>),
    /// The first bytes are no frame this exchange can get (a length out of range, or a
    /// frame cut by a timeout): the bytes read.
    Foreign(Vec<u8>),
    /// A socket error.
    Io(String),
}

/// A frame read: the length the server declared and its body, cut at the read cap.
#[derive(Debug)]
pub struct Frame {
    /// The length the server declared.
    pub declared: usize,
    /// The body, at most the cap given to [`read_frame`].
    pub body: Vec<u8>,
}

impl Frame {
    /// Whether the whole declared body was read.
    pub fn whole(&self) -> bool {
        self.body.len() >= self.declared
    }
}

/// Sends `request` and reads one frame whose declared length `fits`, keeping at most `cap`
/// bytes of its body; each read waits at most `step`.
pub async fn exchange(
    stream: &mut BoxStream,
    request: &[u8],
    step: Duration,
    fits: impl Fn(usize) -> bool,
    cap: usize,
) -> Result<Frame, ReadError> {
    match tokio::time::timeout(step, stream.write_all(request)).await {
        Err(_) => return Err(ReadError::Silent),
        Ok(Err(e)) => return Err(ReadError::Io(e.to_string())),
        Ok(Ok(())) => {}
    }
    read_frame(stream, step, fits, cap).await
}

/// Reads one frame (see [`exchange`]).
pub async fn read_frame(
    stream: &mut BoxStream,
    step: Duration,
    fits: impl Fn(usize) -> bool,
    cap: usize,
) -> Result<Frame, ReadError> {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut declared: Option<usize> = None;
    loop {
        if declared.is_none() && buf.len() >= 4 {
            let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
            match usize::try_from(len).ok().filter(|&len| fits(len)) {
                Some(len) => declared = Some(len),
                None => return Err(ReadError::Foreign(buf)),
            }
        }
        if let Some(len) = declared {
            let want = len.min(cap);
            if buf.len().saturating_sub(4) >= want {
                let mut body = buf.split_off(4);
                body.truncate(want);
                return Ok(Frame {
                    declared: len,
                    body,
                });
            }
        }
        match tokio::time::timeout(step, stream.read(&mut chunk)).await {
            Err(_) if buf.is_empty() => return Err(ReadError::Silent),
            Err(_) => return Err(ReadError::Foreign(buf)),
            Ok(Ok(0)) => return Err(ReadError::Closed(buf)),
            Ok(Ok(n)) => {
                let room = cap.saturating_add(4).saturating_sub(buf.len());
                buf.extend_from_slice(&chunk[..n.min(room)]);
            }
            Ok(Err(e)) => return Err(ReadError::Io(e.to_string())),
        }
    }
}

/// Whether a declared length can be a ConnectResponse.
pub fn fits_connect_response(len: usize) -> bool {
    CONNECT_RESPONSE_LENGTHS.contains(&len)
}

/// Whether a declared length can be a reply to a request.
pub fn fits_reply(len: usize) -> bool {
    (REPLY_HEADER..=MAX_DECLARED).contains(&len)
}
