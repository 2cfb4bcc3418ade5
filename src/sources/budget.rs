//! One request budget per GitHub token, shared by every client of that token (the poller's and
//! the one that fetches details and sends the operator's changes).
//!
//! - **Know the wall.** Every answer's rate-limit headers are noted per resource (`core` for
//!   REST, `graphql` for points).
//! - **Stop at the first refusal.** A 403/429 rate limit blocks every further request of the
//!   token until its reset or `Retry-After` — queued work and other tasks included.
//! - **A reserve for the operator.** Polls and detail fetches stop short of the last
//!   [`reserve`] requests of a window, so that an approval, a rollback or a test PR never fails
//!   for want of rate limit; only changes may spend it.
//! - **Secondary limits.** At most [`MAX_CONCURRENT`] requests at once (GitHub allows 100);
//!   changes are sent one at a time, at least [`MUTATION_GAP`] apart, as GitHub asks of
//!   integrations.
//! - **Slow down before the wall.** [`Budget::pace`] says how far apart polls must be so that
//!   what is left of a window lasts until its reset.

use crate::domain::{RateLimit, SourceError};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::sync::Semaphore;

/// Requests in flight at once, per token.
pub const MAX_CONCURRENT: usize = 8;
/// The least time between two changes (POSTs).
pub const MUTATION_GAP: Duration = Duration::from_secs(1);

/// What a rate limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// REST requests.
    Core,
    /// GraphQL points.
    Graphql,
}

/// What a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// A poll's read.
    Poll,
    /// A detail the operator opened (jobs, files, logs).
    Fetch,
    /// A change the operator confirmed: may spend the reserve; changes are spaced
    /// [`MUTATION_GAP`] apart.
    Action,
    /// A read that is part of a confirmed change (a rollback's revisions, a test PR's branch):
    /// may spend the reserve, not spaced.
    ActionRead,
}

/// The part of a window kept for the operator's changes: 4 % of the limit, at most 200.
pub fn reserve(limit: u64) -> u64 {
    (limit / 25).clamp(1, 200)
}

#[derive(Debug, Default)]
struct Inner {
    core: Option<RateLimit>,
    graphql: Option<RateLimit>,
    /// No request before this (unix seconds): a rate limit said so.
    blocked_until: Option<i64>,
}

/// See the module's documentation.
#[derive(Debug)]
pub struct Budget {
    inner: Mutex<Inner>,
    in_flight: Semaphore,
    last_change: tokio::sync::Mutex<Option<Instant>>,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            inner: Mutex::new(Inner::default()),
            in_flight: Semaphore::new(MAX_CONCURRENT),
            last_change: tokio::sync::Mutex::new(None),
        }
    }
}

/// A request's place among those in flight; released when dropped.
pub struct Admitted<'a> {
    _permit: Option<tokio::sync::SemaphorePermit<'a>>,
}

fn now_unix() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

impl Budget {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Note a window as an answer's headers (or GraphQL's `rateLimit`) described it.
    pub fn note(&self, resource: Resource, rate: RateLimit) {
        let mut inner = self.inner();
        match resource {
            Resource::Core => inner.core = Some(rate),
            Resource::Graphql => inner.graphql = Some(rate),
        }
    }

    /// The window of `resource` as last seen.
    pub fn rate(&self, resource: Resource) -> Option<RateLimit> {
        let inner = self.inner();
        match resource {
            Resource::Core => inner.core,
            Resource::Graphql => inner.graphql,
        }
    }

    /// No request for `secs` seconds (a 403/429 said so).
    pub fn block(&self, secs: u64) {
        let until = now_unix() + i64::try_from(secs).unwrap_or(i64::MAX / 2);
        let mut inner = self.inner();
        inner.blocked_until = Some(inner.blocked_until.map_or(until, |b| b.max(until)));
    }

    /// Seconds left of a block, if one holds at `now`.
    pub fn blocked_for(&self, now: i64) -> Option<u64> {
        let until = self.inner().blocked_until?;
        (until > now).then(|| u64::try_from(until - now).unwrap_or(1).max(1))
    }

    /// Whether a request of `what` for `resource` may go now; `Err` says until when not.
    pub fn check(&self, what: Use, resource: Resource, now: i64) -> Result<(), SourceError> {
        if let Some(secs) = self.blocked_for(now) {
            return Err(SourceError::RateLimited {
                retry_after_secs: secs,
            });
        }
        if !matches!(what, Use::Action | Use::ActionRead)
            && let Some(r) = self.rate(resource)
            && r.remaining <= reserve(r.limit)
            && r.reset > now
        {
            // The rest of the window is the operator's.
            return Err(SourceError::RateLimited {
                retry_after_secs: u64::try_from(r.reset - now).unwrap_or(1).max(1),
            });
        }
        Ok(())
    }

    /// Wait for a place among the requests in flight (and, for a change, for the gap after the
    /// last change), once [`Budget::check`] allows the request.
    pub async fn admit(&self, what: Use, resource: Resource) -> Result<Admitted<'_>, SourceError> {
        self.check(what, resource, now_unix())?;
        if what == Use::Action {
            let mut last = self.last_change.lock().await;
            if let Some(at) = *last {
                let since = at.elapsed();
                if since < MUTATION_GAP {
                    tokio::time::sleep(MUTATION_GAP - since).await;
                }
            }
            *last = Some(Instant::now());
        }
        let permit = self.in_flight.acquire().await.ok();
        Ok(Admitted { _permit: permit })
    }

    /// How far apart polls that each spend `spent` of `resource` must be for the window to last
    /// until its reset (keeping the reserve); `None` when there is room for any cadence.
    pub fn pace(&self, resource: Resource, spent: u64, now: i64) -> Option<Duration> {
        let r = self.rate(resource)?;
        if spent == 0 || r.reset <= now {
            return None;
        }
        let left = r.remaining.saturating_sub(reserve(r.limit));
        let to_reset = (r.reset - now) as f64;
        if left == 0 {
            return Some(Duration::from_secs_f64(to_reset));
        }
        let polls = left as f64 / spent as f64;
        Some(Duration::from_secs_f64(to_reset / polls))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(remaining: u64, reset_in: i64) -> RateLimit {
        RateLimit {
            limit: 5000,
            remaining,
            reset: now_unix() + reset_in,
        }
    }

    #[test]
    fn a_block_stops_every_kind_of_request_until_it_ends() {
        let b = Budget::default();
        let now = now_unix();
        assert!(b.check(Use::Poll, Resource::Core, now).is_ok());
        b.block(30);
        for what in [Use::Poll, Use::Fetch, Use::Action] {
            match b.check(what, Resource::Core, now) {
                Err(SourceError::RateLimited { retry_after_secs }) => {
                    assert!((29..=31).contains(&retry_after_secs), "{retry_after_secs}")
                }
                other => panic!("{what:?}: {other:?}"),
            }
        }
        assert!(b.check(Use::Poll, Resource::Core, now + 31).is_ok());
        // A shorter block does not shorten a longer one.
        b.block(5);
        assert!(b.check(Use::Poll, Resource::Core, now + 20).is_err());
    }

    #[test]
    fn the_reserve_is_the_operators() {
        let b = Budget::default();
        let now = now_unix();
        b.note(Resource::Core, rate(reserve(5000), 600));
        assert!(matches!(
            b.check(Use::Poll, Resource::Core, now),
            Err(SourceError::RateLimited { retry_after_secs }) if retry_after_secs >= 599
        ));
        assert!(b.check(Use::Fetch, Resource::Core, now).is_err());
        assert!(b.check(Use::Action, Resource::Core, now).is_ok());
        assert!(b.check(Use::ActionRead, Resource::Core, now).is_ok());
        // GraphQL's window is its own.
        assert!(b.check(Use::Poll, Resource::Graphql, now).is_ok());
        // A window that has reset is no longer spent.
        b.note(Resource::Core, rate(10, -1));
        assert!(b.check(Use::Poll, Resource::Core, now).is_ok());
        assert_eq!(
            (reserve(5000), reserve(60), reserve(100_000)),
            (200, 2, 200)
        );
    }

    #[test]
    fn pace_stretches_polls_to_last_until_the_reset() {
        let b = Budget::default();
        let now = now_unix();
        assert_eq!(b.pace(Resource::Graphql, 5, now), None, "nothing seen yet");
        // 4,800 points left for an hour at 1 point a poll: a poll every ~0.75 s is affordable.
        b.note(Resource::Graphql, rate(5000, 3600));
        let fast = b.pace(Resource::Graphql, 1, now).unwrap();
        assert!(fast < Duration::from_secs(1), "{fast:?}");
        // 300 left (100 above the reserve) for 30 min at 10 a poll: one poll every 3 min.
        b.note(Resource::Graphql, rate(300, 1800));
        let slow = b.pace(Resource::Graphql, 10, now).unwrap();
        assert!(
            (Duration::from_secs(178)..=Duration::from_secs(182)).contains(&slow),
            "{slow:?}"
        );
        // Nothing above the reserve: wait for the reset.
        b.note(Resource::Graphql, rate(150, 900));
        let wait = b.pace(Resource::Graphql, 1, now).unwrap();
        assert!(wait >= Duration::from_secs(899), "{wait:?}");
        assert_eq!(
            b.pace(Resource::Graphql, 0, now),
            None,
            "a poll that spent nothing"
        );
    }

    #[tokio::test]
    async fn changes_are_spaced_and_requests_in_flight_are_capped() {
        let b = Budget::default();
        let start = Instant::now();
        drop(b.admit(Use::Action, Resource::Core).await.unwrap());
        drop(b.admit(Use::Action, Resource::Core).await.unwrap());
        assert!(start.elapsed() >= MUTATION_GAP, "{:?}", start.elapsed());
        // A change's reads are not spaced.
        let reads = Instant::now();
        drop(b.admit(Use::ActionRead, Resource::Core).await.unwrap());
        drop(b.admit(Use::ActionRead, Resource::Core).await.unwrap());
        assert!(reads.elapsed() < MUTATION_GAP, "{:?}", reads.elapsed());
        let held: Vec<_> = futures::future::join_all(
            (0..MAX_CONCURRENT).map(|_| b.admit(Use::Poll, Resource::Core)),
        )
        .await;
        assert_eq!(b.in_flight.available_permits(), 0);
        let more = tokio::time::timeout(
            Duration::from_millis(50),
            b.admit(Use::Poll, Resource::Core),
        )
        .await;
        assert!(more.is_err(), "a ninth request waits");
        drop(held);
        assert_eq!(b.in_flight.available_permits(), MAX_CONCURRENT);
    }
}
