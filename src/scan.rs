//! The scan engine: endpoints in, results out, as they finish.
//!
//! Endpoints are pulled from the lazily expanded [`TargetSet`] only when a concurrency slot
//! is free (a semaphore before spawn), so memory follows concurrency, not estate size. A
//! per-host limit and an optional rate limit sit on top. Each endpoint has a deadline for the
//! whole probe on top of the per-step timeouts, and results stream to the caller so an
//! interrupted scan still reports what it found.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::finding::{EndpointResult, Outcome};
use crate::probe::ProbeContext;
use crate::targets::{Endpoint, Host, TargetSet};

/// Limits of a scan run.
#[derive(Debug, Clone, Copy)]
pub struct EngineConfig {
    /// Endpoints probed at once.
    pub concurrency: usize,
    /// Endpoints of one host probed at once.
    pub per_host: usize,
    /// New endpoints started per second, if limited.
    pub rate_limit: Option<u32>,
    /// Deadline for everything done at one endpoint.
    pub probe_timeout: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            concurrency: 512,
            per_host: 16,
            rate_limit: None,
            probe_timeout: Duration::from_secs(30),
        }
    }
}

/// How a scan run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunStats {
    /// Endpoints started.
    pub started: usize,
    /// True when the stop signal ended the scan early.
    pub interrupted: bool,
}

pub use crate::detect::{Detection, detect};

/// The future one endpoint's detection runs as.
pub type DetectionFuture = Pin<Box<dyn Future<Output = Detection> + Send>>;

/// What the engine runs for each endpoint, given the endpoint and its deadline. The scan
/// uses [`prober`]; tests substitute their own (a probe that panics, one that hangs).
pub type Prober = Arc<dyn Fn(Endpoint, Instant) -> DetectionFuture + Send + Sync>;

/// The prober of a real scan: [`detect`] with the shared probe context.
pub fn prober(cx: ProbeContext) -> Prober {
    let cx = Arc::new(cx);
    Arc::new(move |endpoint: Endpoint, deadline: Instant| {
        let cx = cx.clone();
        Box::pin(async move { detect(&cx, &endpoint, deadline).await })
    })
}

/// Probes every endpoint of `targets`, calling `on_result` for each as it finishes, until
/// all are done or `stop` resolves (Ctrl-C, SIGTERM), whichever comes first.
pub async fn run<F, S>(
    prober: Prober,
    config: EngineConfig,
    targets: &TargetSet,
    stop: S,
    mut on_result: F,
) -> RunStats
where
    F: FnMut(EndpointResult),
    S: Future<Output = ()>,
{
    let (tx, mut rx) = mpsc::channel::<EndpointResult>(1024);
    let slots = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let hosts = Arc::new(HostLimiter::new(config.per_host.max(1)));
    let mut pacer = config.rate_limit.filter(|r| *r > 0).map(|rate| {
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick
    });
    let mut endpoints = targets.endpoints();
    let mut tasks = JoinSet::new();
    let mut dispatching = true;
    let mut stats = RunStats {
        started: 0,
        interrupted: false,
    };
    tokio::pin!(stop);
    loop {
        tokio::select! {
            biased;
            () = &mut stop => {
                stats.interrupted = true;
                tasks.abort_all();
                break;
            }
            Some(result) = rx.recv() => on_result(result),
            Some(_) = tasks.join_next() => {}
            permit = slots.clone().acquire_owned(), if dispatching => {
                let Ok(permit) = permit else { break };
                // No `continue` here: when the targets run out, the exit check below must
                // still run, or a scan whose tasks have all been reaped would wait forever.
                match endpoints.next() {
                    None => dispatching = false,
                    Some(endpoint) => {
                        if let Some(pacer) = pacer.as_mut() {
                            pacer.tick().await;
                        }
                        stats.started += 1;
                        let address = targets.address_of(&endpoint.host);
                        let (prober, hosts, tx) = (prober.clone(), hosts.clone(), tx.clone());
                        tasks.spawn(async move {
                            let results = probe_with_limits(&prober, &hosts, endpoint, address, config.probe_timeout, permit).await;
                            for result in results {
                                let _ = tx.send(result).await;
                            }
                        });
                    }
                }
            }
            else => break,
        }
        if !dispatching && tasks.is_empty() {
            break;
        }
    }
    while let Ok(result) = rx.try_recv() {
        on_result(result);
    }
    stats
}

/// Extra time past an endpoint's deadline before the engine stops waiting for its probe:
/// [`detect`] honours the deadline itself and reports with its evidence; this is the net
/// under it.
const DEADLINE_GRACE: Duration = Duration::from_secs(1);

async fn probe_with_limits(
    prober: &Prober,
    hosts: &HostLimiter,
    endpoint: Endpoint,
    address: Option<IpAddr>,
    budget: Duration,
    _slot: OwnedSemaphorePermit,
) -> Vec<EndpointResult> {
    // One host is one address, whatever names it was given under.
    let host_key = address.map_or_else(|| endpoint.host.clone(), Host::Ip);
    let _host_slot = hosts.acquire(&host_key).await;
    let start = std::time::Instant::now();
    let deadline = Instant::now() + budget;
    let name = endpoint.authority();
    let address = match (&endpoint.host, address) {
        (Host::Name(_), Some(ip)) => Some(SocketAddr::new(ip, endpoint.port).to_string()),
        _ => None,
    };
    let detection = CatchPanic(prober(endpoint, deadline));
    let detection = match tokio::time::timeout_at(deadline + DEADLINE_GRACE, detection).await {
        Ok(Ok(detection)) => detection,
        Ok(Err(panic)) => Detection {
            outcome: Outcome::Failed(format!(
                "the probe crashed ({panic}); this is a bug in ajar, please report it"
            )),
            evidence: Vec::new(),
            also: Vec::new(),
        },
        Err(_) => Detection {
            outcome: Outcome::Failed(deadline_note(budget)),
            evidence: Vec::new(),
            also: Vec::new(),
        },
    };
    let mut outcome = detection.outcome;
    if let Outcome::Found(finding) = &mut outcome {
        finding.address.clone_from(&address);
    }
    let elapsed = start.elapsed();
    let mut results = Vec::with_capacity(1 + detection.also.len());
    // Further products under other base paths are results of their own, marked so that
    // the endpoint is counted once.
    for mut finding in detection.also {
        finding.address.clone_from(&address);
        results.push(EndpointResult {
            endpoint: name.clone(),
            address: address.clone(),
            outcome: Outcome::Found(Box::new(finding)),
            evidence: Vec::new(),
            elapsed,
            extra: true,
        });
    }
    results.insert(
        0,
        EndpointResult {
            endpoint: name,
            address,
            outcome,
            evidence: detection.evidence,
            elapsed,
            extra: false,
        },
    );
    results
}

fn deadline_note(budget: Duration) -> String {
    format!(
        "gave up after {} (--probe-timeout)",
        humantime::format_duration(budget)
    )
}

/// Runs an endpoint's detection, turning a panic inside it into an error value so that a
/// bug in one probe costs one endpoint's verdict, never the endpoint's place in the report.
struct CatchPanic(DetectionFuture);

impl Future for CatchPanic {
    type Output = Result<Detection, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(detection)) => Poll::Ready(Ok(detection)),
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "no message".into());
                Poll::Ready(Err(crate::sanitize::clip(&message, 200)))
            }
        }
    }
}

/// [`detect`] with the engine's default deadline of 30 s, for callers that only want the
/// outcome (tests, tools).
pub async fn probe_endpoint(cx: &ProbeContext, endpoint: &Endpoint) -> Outcome {
    let deadline = Instant::now() + EngineConfig::default().probe_timeout;
    detect(cx, endpoint, deadline).await.outcome
}

/// Per-host concurrency: one semaphore per host that has endpoints in flight, dropped
/// when the last of them finishes, so the map stays as small as the work in flight.
struct HostLimiter {
    per_host: usize,
    hosts: Mutex<HashMap<Host, Weak<Semaphore>>>,
}

impl HostLimiter {
    fn new(per_host: usize) -> Self {
        HostLimiter {
            per_host,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    async fn acquire(&self, host: &Host) -> Option<OwnedSemaphorePermit> {
        let semaphore = {
            let mut hosts = self.hosts.lock().ok()?;
            if hosts.len() > 4096 {
                hosts.retain(|_, weak| weak.strong_count() > 0);
            }
            match hosts.get(host).and_then(Weak::upgrade) {
                Some(sem) => sem,
                None => {
                    let sem = Arc::new(Semaphore::new(self.per_host));
                    hosts.insert(host.clone(), Arc::downgrade(&sem));
                    sem
                }
            }
        };
        semaphore.acquire_owned().await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::Limits;
    use crate::targets::{Exclusions, TargetSetBuilder};

    fn context(timeout: Duration) -> ProbeContext {
        ProbeContext::new(timeout, false, Limits::default()).expect("context")
    }

    fn closed_ports(n: usize) -> Vec<u16> {
        let listeners: Vec<std::net::TcpListener> = (0..n)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind"))
            .collect();
        listeners
            .iter()
            .map(|l| l.local_addr().expect("addr").port())
            .collect()
    }

    fn targets(lines: &str) -> TargetSet {
        let mut b = TargetSetBuilder::new(1 << 16);
        b.add_lines("test", lines).expect("targets");
        b.build(&[9200], &Exclusions::default(), &Default::default())
            .expect("set")
    }

    #[tokio::test]
    async fn every_endpoint_reports_exactly_once() {
        let lines: String = closed_ports(40)
            .iter()
            .map(|p| format!("127.0.0.1:{p}\n"))
            .collect();
        let set = targets(&lines);
        let mut seen = Vec::new();
        let config = EngineConfig {
            concurrency: 8,
            per_host: 2,
            ..EngineConfig::default()
        };
        let stats = run(
            prober(context(Duration::from_secs(2))),
            config,
            &set,
            std::future::pending(),
            |r| seen.push(r),
        )
        .await;
        assert_eq!(
            stats,
            RunStats {
                started: 40,
                interrupted: false
            }
        );
        assert_eq!(seen.len(), 40);
        assert!(seen.iter().all(|r| r.outcome == Outcome::Closed));
        let mut endpoints: Vec<&str> = seen.iter().map(|r| r.endpoint.as_str()).collect();
        endpoints.sort_unstable();
        endpoints.dedup();
        assert_eq!(endpoints.len(), 40);
    }

    #[tokio::test]
    async fn finishes_when_the_last_task_was_reaped_before_the_targets_ran_out() {
        // One slot, one endpoint: the task is reaped before the dispatcher learns there
        // are no more endpoints (the order that once left the loop waiting forever).
        for concurrency in [1, 2] {
            let lines: String = closed_ports(concurrency)
                .iter()
                .map(|p| format!("127.0.0.1:{p}\n"))
                .collect();
            let set = targets(&lines);
            let config = EngineConfig {
                concurrency,
                ..EngineConfig::default()
            };
            let mut seen = 0;
            let run = run(
                prober(context(Duration::from_secs(2))),
                config,
                &set,
                std::future::pending(),
                |_| seen += 1,
            );
            let stats = tokio::time::timeout(Duration::from_secs(10), run)
                .await
                .expect("the scan ends by itself");
            assert!(!stats.interrupted);
            assert_eq!(seen, concurrency);
        }
    }

    #[tokio::test]
    async fn stop_signal_interrupts_and_keeps_finished_results() {
        // Listeners that accept (the kernel completes the handshake) but never answer.
        let silent: Vec<tokio::net::TcpListener> = {
            let mut v = Vec::new();
            for _ in 0..4 {
                v.push(
                    tokio::net::TcpListener::bind("127.0.0.1:0")
                        .await
                        .expect("bind"),
                );
            }
            v
        };
        let mut lines: String = silent
            .iter()
            .map(|l| format!("127.0.0.1:{}\n", l.local_addr().expect("addr").port()))
            .collect();
        lines.push_str(&format!("127.0.0.1:{}\n", closed_ports(1)[0]));
        let set = targets(&lines);
        let mut seen = Vec::new();
        // The context first: it compiles the shipped probes, which under load can take most
        // of the 300 ms the stop timer would otherwise already be counting.
        let prober = prober(context(Duration::from_secs(20)));
        let stop = tokio::time::sleep(Duration::from_millis(300));
        let stats = run(prober, EngineConfig::default(), &set, stop, |r| {
            seen.push(r)
        })
        .await;
        assert!(stats.interrupted);
        assert_eq!(stats.started, 5);
        assert_eq!(
            seen.len(),
            1,
            "only the closed port finished before the stop"
        );
        assert_eq!(seen[0].outcome, Outcome::Closed);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn per_host_limit_caps_endpoints_in_flight_on_one_host() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::AsyncReadExt;
        // Twelve silent listeners on one host. An endpoint counts as in flight while any
        // connection to its port has sent a byte (the bare pre-connect sends none) and is
        // not closed: after a silence the remaining probes of one endpoint run side by
        // side, so one endpoint may hold several connections, but --per-host counts
        // endpoints.
        let active = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut lines = String::new();
        for _ in 0..12 {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            lines.push_str(&format!(
                "127.0.0.1:{}\n",
                listener.local_addr().expect("addr").port()
            ));
            let (active, peak) = (active.clone(), peak.clone());
            let on_port = Arc::new(AtomicUsize::new(0));
            tokio::spawn(async move {
                while let Ok((mut conn, _)) = listener.accept().await {
                    let (active, peak, on_port) = (active.clone(), peak.clone(), on_port.clone());
                    tokio::spawn(async move {
                        let mut buf = [0u8; 1024];
                        if matches!(conn.read(&mut buf).await, Ok(n) if n > 0) {
                            if on_port.fetch_add(1, Ordering::SeqCst) == 0 {
                                let now = active.fetch_add(1, Ordering::SeqCst) + 1;
                                peak.fetch_max(now, Ordering::SeqCst);
                            }
                            while matches!(conn.read(&mut buf).await, Ok(n) if n > 0) {}
                            if on_port.fetch_sub(1, Ordering::SeqCst) == 1 {
                                active.fetch_sub(1, Ordering::SeqCst);
                            }
                        }
                    });
                }
            });
        }
        let set = targets(&lines);
        let config = EngineConfig {
            concurrency: 64,
            per_host: 3,
            ..EngineConfig::default()
        };
        let mut outcomes = Vec::new();
        run(
            prober(context(Duration::from_millis(300))),
            config,
            &set,
            std::future::pending(),
            |r| outcomes.push(r.outcome),
        )
        .await;
        assert_eq!(outcomes, vec![Outcome::Silent; 12]);
        // Without the limit all twelve would be in flight at once. With it, three are,
        // plus at most three whose probe has ended but whose close the server has not
        // read yet when the next endpoint's first byte arrives.
        let peak = peak.load(Ordering::SeqCst);
        assert!((3..=6).contains(&peak), "peak {peak} with --per-host 3");
    }

    #[tokio::test]
    async fn a_probe_that_panics_is_a_failed_result_and_the_scan_goes_on() {
        let lines: String = closed_ports(3)
            .iter()
            .map(|p| format!("127.0.0.1:{p}\n"))
            .collect();
        let set = targets(&lines);
        let crash_port = set.endpoints().nth(1).expect("three endpoints").port;
        let real = prober(context(Duration::from_secs(2)));
        let crashing: Prober = Arc::new(move |endpoint: Endpoint, deadline: Instant| {
            if endpoint.port == crash_port {
                Box::pin(async move { panic!("boom at {}", endpoint.port) })
            } else {
                real(endpoint, deadline)
            }
        });
        let mut seen = Vec::new();
        let stats = run(
            crashing,
            EngineConfig::default(),
            &set,
            std::future::pending(),
            |r| seen.push(r),
        )
        .await;
        assert_eq!(stats.started, 3);
        assert_eq!(seen.len(), 3, "every endpoint reports, the crashed one too");
        let crashed = seen
            .iter()
            .find(|r| r.endpoint == format!("127.0.0.1:{crash_port}"))
            .expect("the crashed endpoint has a result");
        assert_eq!(
            crashed.outcome,
            Outcome::Failed(format!(
                "the probe crashed (boom at {crash_port}); this is a bug in ajar, please report it"
            ))
        );
        assert_eq!(
            seen.iter().filter(|r| r.outcome == Outcome::Closed).count(),
            2
        );
    }

    #[tokio::test]
    async fn silent_endpoint_costs_one_step_timeout() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let endpoint = Endpoint::new(Host::Ip([127, 0, 0, 1].into()), port);
        let outcome = probe_endpoint(&context(Duration::from_millis(300)), &endpoint).await;
        assert_eq!(outcome, Outcome::Silent);
    }
}
