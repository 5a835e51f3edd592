//! One MySQL connection: packets read and written with the step timeout on each, and every
//! packet length checked against the cap before anything is allocated.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{MAX_PACKET, wire};
use crate::net::BoxStream;

/// Why an exchange stopped.
pub(super) enum Stop {
    /// No answer within the step timeout.
    Silent,
    /// The server hung up (or the socket failed).
    Closed(String),
    /// The server sent something out of bounds.
    Error(String),
}

/// One connection with the step timeout on every read and write.
pub(super) struct Conn {
    pub(super) stream: BoxStream,
    pub(super) step: Duration,
}

impl Conn {
    pub(super) async fn send(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        match tokio::time::timeout(self.step, self.stream.write_all(bytes)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Stop::Closed(format!("write failed: {e}"))),
            Err(_) => Err(Stop::Silent),
        }
    }

    /// Reads one packet: its sequence id and payload, at most [`MAX_PACKET`] bytes.
    pub(super) async fn packet(&mut self) -> Result<(u8, Vec<u8>), Stop> {
        let mut head = [0u8; 4];
        self.read_exact(&mut head).await?;
        let (len, seq) = wire::header(&head).unwrap_or((0, 0));
        if len > MAX_PACKET {
            return Err(Stop::Error(format!(
                "a {len}-byte packet, over the {MAX_PACKET}-byte cap"
            )));
        }
        let mut payload = vec![0u8; len];
        self.read_exact(&mut payload).await?;
        Ok((seq, payload))
    }

    async fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), Stop> {
        match tokio::time::timeout(self.step, self.stream.read_exact(buf)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                Err(Stop::Closed("the server closed the connection".into()))
            }
            Ok(Err(e)) => Err(Stop::Closed(format!("read failed: {e}"))),
            Err(_) => Err(Stop::Silent),
        }
    }
}
