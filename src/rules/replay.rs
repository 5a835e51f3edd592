//! [`Replay`], a [`Fetcher`] over recorded replies, and the [`Reply`] builders: what tests
//! and probe authors use to run a rule without a server.

use std::sync::Arc;

use super::{Fetched, Fetcher, Reply, Request};

/// The decoy path a [`Replay`] reports.
const REPLAY_DECOY: &str = "/ajar-3f9c0d2b7a4e";

/// A fetcher over recorded replies: by path (with query), optionally by method; unknown
/// paths get `otherwise` (default: a 404 `text/plain` "404 page not found"). It records
/// every request it was asked, in order.
#[derive(Debug, Clone)]
pub struct Replay {
    routes: Vec<(Option<String>, String, Fetched)>,
    otherwise: Fetched,
    asked: Vec<Request>,
}

impl Default for Replay {
    fn default() -> Self {
        Replay::new()
    }
}

impl Replay {
    /// A replay that answers every path with Go's plain 404.
    pub fn new() -> Replay {
        Replay {
            routes: Vec::new(),
            otherwise: Fetched::Reply(Arc::new(
                Reply::new(404, "404 page not found")
                    .header("content-type", "text/plain; charset=utf-8"),
            )),
            asked: Vec::new(),
        }
    }

    /// Answers `path` (with its query) with `reply`, whatever the method.
    pub fn at(mut self, path: &str, reply: Reply) -> Replay {
        self.routes
            .push((None, path.to_string(), Fetched::Reply(Arc::new(reply))));
        self
    }

    /// Answers `method path` with `reply`; takes precedence over [`Replay::at`].
    pub fn at_method(mut self, method: &str, path: &str, reply: Reply) -> Replay {
        self.routes.insert(
            0,
            (
                Some(method.to_ascii_uppercase()),
                path.to_string(),
                Fetched::Reply(Arc::new(reply)),
            ),
        );
        self
    }

    /// Answers every other path with `reply` (a catch-all server).
    pub fn otherwise(mut self, reply: Reply) -> Replay {
        self.otherwise = Fetched::Reply(Arc::new(reply));
        self
    }

    /// Makes `path` fail (timeout, refused) with the reason `why`.
    pub fn failing(mut self, path: &str, why: &str) -> Replay {
        self.routes.insert(
            0,
            (None, path.to_string(), Fetched::Failed(why.to_string())),
        );
        self
    }

    /// Every request asked so far, in order (repeats included).
    pub fn requests(&self) -> Vec<Request> {
        self.asked.clone()
    }

    fn answer(&self, request: &Request) -> Fetched {
        let found = self
            .routes
            .iter()
            .find(|(method, path, _)| {
                *path == request.path && method.as_ref().is_none_or(|m| *m == request.method)
            })
            .map(|(_, _, fetched)| fetched)
            .unwrap_or(&self.otherwise);
        match found {
            Fetched::Reply(reply) if reply.body.len() > request.max_body => {
                let mut cut = Reply::clone(reply);
                cut.body.truncate(request.max_body);
                cut.truncated = true;
                Fetched::Reply(Arc::new(cut))
            }
            other => other.clone(),
        }
    }
}

impl Fetcher for Replay {
    fn fetch(&mut self, request: &Request) -> impl std::future::Future<Output = Fetched> + Send {
        self.asked.push(request.clone());
        let answer = self.answer(request);
        async move { answer }
    }

    fn decoy_path(&self) -> String {
        REPLAY_DECOY.to_string()
    }
}

impl Reply {
    /// A reply with a status and a body, no headers.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.into(),
            truncated: false,
        }
    }

    /// Adds a header (the name is stored lowercase).
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    /// A 200 `application/json` reply.
    pub fn json(body: &str) -> Reply {
        Reply::new(200, body).header("content-type", "application/json")
    }

    /// A 200 `text/html` reply.
    pub fn html(body: &str) -> Reply {
        Reply::new(200, body).header("content-type", "text/html; charset=utf-8")
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
