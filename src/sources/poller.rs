//! One background task per source: polls on a cadence, never two polls of one source at once
//! (the next wait starts when a poll ends), faster while its tab is visible, with jittered exponential
//! backoff on failure and the server's `Retry-After` / rate-limit reset honoured. It reports through
//! a channel and never touches the cockpit's state.

use super::SourceError;
use super::github::GitHub;
use super::prometheus::Prometheus;
use super::sentry::Sentry;
use crate::domain::{SourceData, SourceId};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

/// A configured source client.
pub enum AnySource {
    GitHub(Box<GitHub>),
    Prometheus(Box<Prometheus>),
    Sentry(Box<Sentry>),
}

impl AnySource {
    pub fn id(&self) -> SourceId {
        match self {
            AnySource::GitHub(_) => SourceId::GitHub,
            AnySource::Prometheus(_) => SourceId::Prometheus,
            AnySource::Sentry(_) => SourceId::Sentry,
        }
    }

    /// What the client keeps between polls that is worth keeping across a restart (ETags and
    /// what they stand for, the PRs known so far), as JSON for the on-disk store.
    pub fn memo(&self) -> Option<serde_json::Value> {
        match self {
            AnySource::GitHub(s) => s.memo(),
            AnySource::Prometheus(_) | AnySource::Sentry(_) => None,
        }
    }

    /// Take back what [`AnySource::memo`] gave, with the poll it was stored with; what does not
    /// fit is ignored.
    pub fn restore(&mut self, memo: serde_json::Value, data: &SourceData) {
        if let AnySource::GitHub(s) = self {
            s.restore(memo, data);
        }
    }

    /// The least time between two polls that the source's budget allows (GitHub: its request
    /// rate and rate-limit windows), if it has one.
    pub fn pace(&self) -> Option<Duration> {
        match self {
            AnySource::GitHub(s) => s.pace().0,
            AnySource::Prometheus(_) | AnySource::Sentry(_) => None,
        }
    }

    pub async fn poll(&mut self) -> Result<SourceData, SourceError> {
        match self {
            AnySource::GitHub(s) => s.poll().await,
            AnySource::Prometheus(s) => s.poll().await,
            AnySource::Sentry(s) => s.poll().await,
        }
    }
}

/// What a poller reports.
#[derive(Debug, Clone)]
pub enum PollEvent {
    Started(SourceId),
    Finished {
        source: SourceId,
        result: Result<SourceData, SourceError>,
        fetched_at: OffsetDateTime,
    },
}

/// Control of a running poller.
pub struct Poller {
    pub source: SourceId,
    refresh: Arc<Notify>,
    visible: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Poller {
    /// Poll now (the current wait is cut short; a poll in flight is not doubled).
    pub fn refresh(&self) {
        self.refresh.notify_one();
    }

    pub fn set_visible(&self, visible: bool) {
        self.visible.send_if_modified(|v| {
            let changed = *v != visible;
            *v = visible;
            changed
        });
    }

    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The wait after a failure: 2 s doubling up to the poll interval `cap` (at least 2 s, at most
/// 5 min), ±20 % jitter — so that a source is read again within one interval of its service
/// coming back. A server's `Retry-After` or rate-limit reset is honoured apart from this.
pub fn backoff(failures: u32, jitter: f64, cap: Duration) -> Duration {
    let base = 2f64 * 2f64.powi(failures.saturating_sub(1).min(10) as i32);
    let capped = base.min(cap.as_secs_f64().clamp(2.0, 300.0));
    Duration::from_secs_f64(capped * (1.0 + 0.2 * jitter.clamp(-1.0, 1.0)))
}

/// The wait between successful polls: the base interval, a third of it while visible (at least 2 s).
pub fn cadence(base: Duration, visible: bool) -> Duration {
    if visible {
        (base / 3).max(Duration::from_secs(2)).min(base)
    } else {
        base
    }
}

/// Start polling `source` every `base`, sending [`PollEvent`]s (converted into the receiver's message type).
/// With a `store`, good polls are offered to it for saving.
pub fn spawn<M>(
    mut source: AnySource,
    base: Duration,
    visible: bool,
    tx: mpsc::UnboundedSender<M>,
    store: Option<crate::store::Saver>,
) -> Poller
where
    M: From<PollEvent> + Send + 'static,
{
    let id = source.id();
    let refresh = Arc::new(Notify::new());
    let (vis_tx, mut vis_rx) = watch::channel(visible);
    let notify = refresh.clone();
    let task = tokio::spawn(async move {
        let mut failures = 0u32;
        loop {
            if tx.send(PollEvent::Started(id).into()).is_err() {
                return;
            }
            let result = source.poll().await;
            if let (Some(store), Ok(data)) = (&store, &result) {
                store.polled(id, data, || source.memo());
            }
            // What the source's budget allows (GitHub: requests a minute, rate-limit windows):
            // a visible tab never polls faster than that.
            let pace = source.pace().unwrap_or_default();
            let wait = match &result {
                Ok(_) => {
                    failures = 0;
                    cadence(base, *vis_rx.borrow()).max(pace)
                }
                Err(e) => {
                    failures += 1;
                    let jitter = rand::random::<f64>() * 2.0 - 1.0;
                    e.retry_after()
                        .unwrap_or_else(|| backoff(failures, jitter, base))
                }
            };
            if let Err(e) = &result {
                tracing::warn!(source = id.label(), error = %e, "poll failed");
            }
            let ev = PollEvent::Finished {
                source: id,
                result,
                fetched_at: OffsetDateTime::now_utc(),
            };
            if tx.send(ev.into()).is_err() {
                return;
            }
            let sleep = tokio::time::sleep(wait);
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    _ = &mut sleep => break,
                    _ = notify.notified() => break,
                    changed = vis_rx.changed() => {
                        if changed.is_err() { return; }
                        // Becoming visible shortens the wait (within the budget's pace); never
                        // lengthen one already running.
                        if *vis_rx.borrow() && failures == 0 {
                            let faster =
                                tokio::time::Instant::now() + cadence(base, true).max(pace);
                            if faster < sleep.deadline() {
                                sleep.as_mut().reset(faster);
                            }
                        }
                    }
                }
            }
        }
    });
    Poller {
        source: id,
        refresh,
        visible: vis_tx,
        task,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        let hour = Duration::from_secs(3600);
        assert_eq!(backoff(1, 0.0, hour), Duration::from_secs(2));
        assert_eq!(backoff(2, 0.0, hour), Duration::from_secs(4));
        assert_eq!(backoff(30, 0.0, hour), Duration::from_secs(300));
        assert!(backoff(3, 1.0, hour) > backoff(3, -1.0, hour));
        // Never longer than the poll interval: a source is back within one interval.
        let interval = Duration::from_secs(15);
        assert_eq!(backoff(30, 0.0, interval), interval);
        assert_eq!(backoff(3, 0.0, interval), Duration::from_secs(8));
        assert_eq!(
            backoff(5, 0.0, Duration::from_secs(1)),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn visible_polls_faster() {
        let base = Duration::from_secs(15);
        assert_eq!(cadence(base, false), base);
        assert_eq!(cadence(base, true), Duration::from_secs(5));
        assert_eq!(
            cadence(Duration::from_secs(1), true),
            Duration::from_secs(1)
        );
    }
}
