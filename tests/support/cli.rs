//! Runs the `ajar` binary as a user or a CI job does: arguments, stdin, environment, and
//! signals, off the async runtime so the fake servers keep serving meanwhile.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// How to feed the binary's stdin.
#[derive(Debug, Clone)]
pub enum Stdin {
    /// `/dev/null`, as a CI job or a cron entry gives.
    Null,
    /// A pipe carrying these bytes, then closed.
    Pipe(Vec<u8>),
}

/// One run of the binary.
#[derive(Debug, Clone)]
pub struct Run {
    args: Vec<String>,
    stdin: Stdin,
    env: Vec<(String, String)>,
    signal_after: Option<(&'static str, Duration)>,
    /// With `signal_after`: the delay starts once this fake has served a request line
    /// starting with the text, not at spawn (a loaded machine starts the binary late).
    signal_once_served: Option<(super::http_fake::Hits, String)>,
    dir: Option<std::path::PathBuf>,
}

impl Run {
    /// `ajar <args>` with stdin from `/dev/null`.
    pub fn new(args: &[&str]) -> Run {
        Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            stdin: Stdin::Null,
            env: Vec::new(),
            signal_after: None,
            signal_once_served: None,
            dir: None,
        }
    }

    /// Runs in `dir` (where `./ajar.toml` is looked for) instead of the crate root.
    pub fn current_dir(mut self, dir: &std::path::Path) -> Run {
        self.dir = Some(dir.to_path_buf());
        self
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Run {
        self.args.push(arg.into());
        self
    }

    /// Pipes `input` into stdin.
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Run {
        self.stdin = Stdin::Pipe(input.into());
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: &str, value: &str) -> Run {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Sends `signal` (`-TERM`, `-INT`) after `delay`.
    pub fn signal_after(mut self, signal: &'static str, delay: Duration) -> Run {
        self.signal_after = Some((signal, delay));
        self
    }

    /// Sends `signal` `delay` after the fake whose `hits` these are served a request line
    /// starting with `request` (waiting at most a minute for it).
    pub fn signal_once_served(
        mut self,
        signal: &'static str,
        hits: super::http_fake::Hits,
        request: &str,
        delay: Duration,
    ) -> Run {
        self.signal_after = Some((signal, delay));
        self.signal_once_served = Some((hits, request.to_string()));
        self
    }

    /// Runs it to the end.
    pub async fn output(self) -> Output {
        tokio::task::spawn_blocking(move || {
            let mut command = Command::new(env!("CARGO_BIN_EXE_ajar"));
            command
                .args(&self.args)
                .env_remove("RUST_LOG")
                .env_remove("AJAR_CA_FILE")
                .env_remove("AJAR_CONFIG")
                .env_remove("AJAR_PROBES")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            for (k, v) in &self.env {
                command.env(k, v);
            }
            if let Some(dir) = &self.dir {
                command.current_dir(dir);
            }
            command.stdin(match self.stdin {
                Stdin::Null => Stdio::null(),
                Stdin::Pipe(_) => Stdio::piped(),
            });
            let mut child = command.spawn().expect("run ajar");
            if let (Stdin::Pipe(bytes), Some(mut input)) = (&self.stdin, child.stdin.take()) {
                // A binary that stops reading early closes the pipe: not a test failure.
                let _ = input.write_all(bytes);
            }
            if let Some((signal, delay)) = self.signal_after {
                if let Some((hits, request)) = &self.signal_once_served {
                    let served = || {
                        hits.lock()
                            .expect("hits")
                            .iter()
                            .any(|line| line.starts_with(request.as_str()))
                    };
                    for _ in 0..3000 {
                        if served() {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
                std::thread::sleep(delay);
                let status = Command::new("kill")
                    .args([signal, &child.id().to_string()])
                    .status()
                    .expect("kill");
                assert!(status.success());
            }
            child.wait_with_output().expect("ajar output")
        })
        .await
        .expect("join")
    }
}

/// stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// stdout parsed as one JSON object.
pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON object ({e}); stdout {:?}, stderr {:?}",
            stdout(out),
            stderr(out)
        )
    })
}

/// A port on 127.0.0.1 that refuses connections (bound, then released).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}
