//! The on-disk store: the last good data of every source, and what its client keeps between polls
//! (ETags and what they stand for), so that the cockpit starts with something on screen and
//! `status --json` asks GitHub only for what changed.
//!
//! Where: `$XDG_CACHE_HOME/flightdeck` (else `$HOME/.cache/flightdeck`), a directory only its owner
//! may enter (0700), one file per source (0600), named by the source and a short hash of what
//! identifies its data in the config (GitHub's API URL and repositories; Prometheus's URL and the
//! services; Sentry's URL, organization and projects), so two configs never mix data. No token is
//! part of the name or of the file: the data holds none, and URLs lose any `user:password@`.
//!
//! One file per source rather than one per config: Prometheus changes on every poll, and saving it
//! must not rewrite GitHub's (megabytes with thousands of PRs) each time.
//!
//! A file is `{"version", "source", "saved_at", "fetched_at", "data", "memo"}`, written to a
//! temporary file in the same directory, fsync'd and renamed over the old one, so a reader sees
//! the old file or the new one, never half of one. A file that does not parse, or that another
//! version of flightdeck wrote, is ignored with a warning and replaced by the next save.

use crate::config::{Config, create_private_dir};
use crate::domain::{SourceData, SourceId};
use serde::Deserialize;
use serde_json::Value;
use std::hash::Hasher;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The shape of the files; a file of another version is ignored (and replaced by the next save).
pub const VERSION: u32 = 1;

/// While the cockpit runs, a source is saved at most this often (and only when its data or its
/// memo changed); quitting saves what is newer.
pub const SAVE_EVERY: Duration = Duration::from_secs(30);

/// The longest wait between two saves of a big source: the wait grows by [`SAVE_EVERY`] per
/// megabyte of the last save, so that 10,000 PRs changing all day are not rewritten every 30 s.
pub const SAVE_EVERY_MAX: Duration = Duration::from_secs(600);

/// Where one config's sources are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    dir: PathBuf,
    /// Per source (in [`SourceId`] order): the hash of its identity, `None` when not configured.
    keys: [Option<String>; 3],
}

/// One source as it was stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// When the data was read from the service.
    pub fetched_at: OffsetDateTime,
    pub data: SourceData,
    /// The client's memo ([`crate::sources::poller::AnySource::memo`]), if it keeps one.
    pub memo: Option<Value>,
}

/// What [`Store::load`] found.
#[derive(Debug, Default)]
pub struct Loaded {
    pub entries: Vec<(SourceId, Entry)>,
    /// Files that were there but could not be used, in the operator's words.
    pub warnings: Vec<String>,
    /// Bytes read, and how long reading and parsing took.
    pub bytes: u64,
    pub took: Duration,
}

impl Loaded {
    /// The memos, taken out of the entries (they go to the clients, the data to the screen),
    /// each with the data it was saved with (a memo describes that poll: GitHub's ETags stand
    /// for its runs, its PR marks for its PRs).
    pub fn take_memos(&mut self) -> Vec<(SourceId, Value, SourceData)> {
        self.entries
            .iter_mut()
            .filter_map(|(id, e)| e.memo.take().map(|m| (*id, m, e.data.clone())))
            .collect()
    }
}

/// The file's layout when read back.
#[derive(Deserialize)]
struct Doc {
    version: u32,
    source: String,
    #[serde(with = "time::serde::rfc3339")]
    fetched_at: OffsetDateTime,
    data: SourceData,
    memo: Option<Value>,
}

/// Just the version, to tell "another version" from "damaged" when a file does not parse.
#[derive(Deserialize)]
struct Header {
    version: u32,
}

fn name(id: SourceId) -> &'static str {
    match id {
        SourceId::GitHub => "github",
        SourceId::Prometheus => "prometheus",
        SourceId::Sentry => "sentry",
    }
}

/// `url` with any `user:password@` cut out of its authority, and no trailing slash.
fn clean_url(url: &str) -> String {
    let url = url.trim_end_matches('/');
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}{}", &url[..scheme_end], &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// What identifies a source's data in the config (never a token).
fn identity(config: &Config, id: SourceId) -> Option<String> {
    let sorted = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v.join(",")
    };
    match id {
        SourceId::GitHub => config
            .github
            .as_ref()
            .map(|g| format!("github\n{}\n{}", clean_url(&g.api_url), sorted(&g.repos))),
        SourceId::Prometheus => config.prometheus.as_ref().map(|p| {
            let services: Vec<String> = config
                .services
                .iter()
                .map(|s| format!("{}@{}", s.name, s.environment))
                .collect();
            format!("prometheus\n{}\n{}", clean_url(&p.url), sorted(&services))
        }),
        SourceId::Sentry => config.sentry.as_ref().map(|s| {
            format!(
                "sentry\n{}\n{}\n{}",
                clean_url(&s.url),
                s.org,
                sorted(&s.projects)
            )
        }),
    }
}

/// FNV-1a, 64 bits: stable across Rust releases (file names must not change with the compiler).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// A file's text, written straight to `out` (never built whole in memory: a big GitHub poll is
/// tens of MB).
fn compose(
    out: &mut dyn Write,
    id: SourceId,
    fetched_at: OffsetDateTime,
    saved_at: OffsetDateTime,
    data: &SourceData,
    memo: Option<&Value>,
) -> std::io::Result<()> {
    write!(
        out,
        "{{\"version\":{VERSION},\"source\":\"{}\",\"saved_at\":\"{}\",\"fetched_at\":\"{}\",\"data\":",
        name(id),
        rfc3339(saved_at),
        rfc3339(fetched_at)
    )?;
    serde_json::to_writer(&mut *out, data)?;
    out.write_all(b",\"memo\":")?;
    serde_json::to_writer(&mut *out, &memo)?;
    out.write_all(b"}\n")
}

/// A writer that only hashes and counts what it is given: whether a poll changed, without
/// holding its text.
struct Fingerprint {
    hash: std::hash::DefaultHasher,
    bytes: usize,
}

impl Write for Fingerprint {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.hash.write(buf);
        self.bytes += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Hash and size of `data` and `memo` as they would be written.
fn fingerprint(data: &SourceData, memo: Option<&Value>) -> serde_json::Result<(u64, usize)> {
    let mut f = Fingerprint {
        hash: std::hash::DefaultHasher::new(),
        bytes: 0,
    };
    serde_json::to_writer(&mut f, data)?;
    serde_json::to_writer(&mut f, &memo)?;
    Ok((f.hash.finish(), f.bytes))
}

/// Write `bytes` to `path` whole or not at all: a temporary file in the same directory (0600),
/// fsync'd, renamed over `path`; the directory is created 0700 (and narrowed to 0700).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// [`write_atomic`] of what `fill` writes (through a buffer).
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let file_name = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.{}.{n}.tmp", std::process::id()));
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&tmp)?;
        let mut buffered = std::io::BufWriter::with_capacity(64 * 1024, file);
        fill(&mut buffered)?;
        let file = buffered.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)?;
        // The rename itself is durable once the directory is synced.
        #[cfg(unix)]
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

impl Store {
    /// The store of `config`'s sources under `cache_dir` (`Paths::cache_dir`).
    pub fn new(cache_dir: impl Into<PathBuf>, config: &Config) -> Store {
        let keys = SourceId::ALL
            .map(|id| identity(config, id).map(|i| format!("{:016x}", fnv1a(i.as_bytes()))));
        Store {
            dir: cache_dir.into(),
            keys,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of a configured source.
    pub fn path(&self, id: SourceId) -> Option<PathBuf> {
        self.keys[id as usize]
            .as_ref()
            .map(|k| self.dir.join(format!("{}-{k}.json", name(id))))
    }

    /// A file kept beside a configured source's own (`sentry-HASH.suspects.json`): answers derived
    /// from that source that are worth not asking again, under the same identity.
    pub fn side_path(&self, id: SourceId, what: &str) -> Option<PathBuf> {
        self.keys[id as usize]
            .as_ref()
            .map(|k| self.dir.join(format!("{}-{k}.{what}.json", name(id))))
    }

    /// Every configured source's file that is there and readable. Missing files are a cold start,
    /// not a problem; unreadable ones are warnings.
    pub fn load(&self) -> Loaded {
        let started = Instant::now();
        let mut loaded = Loaded::default();
        for id in SourceId::ALL {
            let Some(path) = self.path(id) else { continue };
            let bytes = match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    loaded.warnings.push(unreadable(&path, &e.to_string()));
                    continue;
                }
            };
            loaded.bytes += bytes.len() as u64;
            match parse(id, &bytes) {
                Ok(entry) => loaded.entries.push((id, entry)),
                Err(why) => loaded.warnings.push(unreadable(&path, &why)),
            }
        }
        loaded.took = started.elapsed();
        loaded
    }

    /// Save one source now (on the calling thread): `status --json`, and the cockpit at quit.
    pub fn save(
        &self,
        id: SourceId,
        fetched_at: OffsetDateTime,
        data: &SourceData,
        memo: Option<&Value>,
    ) -> std::io::Result<()> {
        let Some(path) = self.path(id) else {
            return Ok(());
        };
        write_atomic_with(&path, |w| {
            compose(w, id, fetched_at, OffsetDateTime::now_utc(), data, memo)
        })
    }

    /// The saver the cockpit's pollers share.
    pub fn saver(&self) -> Saver {
        Saver::new(self.clone(), SAVE_EVERY)
    }

    /// The size of the configured sources' files (a few `stat`s: whether the first frame may wait
    /// for them).
    pub fn bytes_on_disk(&self) -> u64 {
        SourceId::ALL
            .iter()
            .filter_map(|&id| std::fs::metadata(self.path(id)?).ok())
            .map(|m| m.len())
            .sum()
    }

    /// Each configured source's file and, when there is one, how long ago it was saved (for
    /// `doctor`).
    pub fn describe(&self) -> Vec<(SourceId, PathBuf, Option<Duration>)> {
        SourceId::ALL
            .iter()
            .filter_map(|&id| {
                let path = self.path(id)?;
                let age = std::fs::metadata(&path)
                    .and_then(|m| m.modified())
                    .ok()
                    .map(|t| t.elapsed().unwrap_or_default());
                Some((id, path, age))
            })
            .collect()
    }
}

fn unreadable(path: &Path, why: &str) -> String {
    format!(
        "cache at {} was unreadable ({why}); starting cold",
        path.display()
    )
}

fn parse(id: SourceId, bytes: &[u8]) -> Result<Entry, String> {
    let other_version = |v: u32| {
        format!(
            "written by another version of flightdeck: store version {v}, this one reads {VERSION}"
        )
    };
    match serde_json::from_slice::<Doc>(bytes) {
        Ok(doc) if doc.version != VERSION => Err(other_version(doc.version)),
        Ok(doc) if doc.source != name(id) => Err(format!(
            "it holds {} data, not {}",
            crate::sanitize::clean(&doc.source),
            name(id)
        )),
        Ok(doc) => Ok(Entry {
            fetched_at: doc.fetched_at,
            data: doc.data,
            memo: doc.memo.filter(|m| !m.is_null()),
        }),
        Err(e) => match serde_json::from_slice::<Header>(bytes) {
            Ok(h) if h.version != VERSION => Err(other_version(h.version)),
            _ => Err(e.to_string()),
        },
    }
}

/// Saves for the cockpit's pollers: after a good poll, a source is written when it is due (at
/// most every [`SAVE_EVERY`], longer for big data) and its data or memo changed, on a blocking
/// thread; what was not written yet is written at quit ([`Saver::flush`]).
#[derive(Clone)]
pub struct Saver {
    inner: Arc<SaverInner>,
}

struct SaverInner {
    store: Store,
    every: Duration,
    slots: [Mutex<Slot>; 3],
    /// Per source, the generation of the last file written (a slow older write never replaces a
    /// newer one).
    written: [Mutex<u64>; 3],
}

#[derive(Default)]
struct Slot {
    /// When the last poll was looked at for saving.
    last_try: Option<Instant>,
    /// Hash of the data and memo last written.
    hash: Option<u64>,
    /// The memo last written (the quit save pairs it with the newest data).
    memo: Option<Arc<Value>>,
    /// Size of the last write, which sets the wait before the next.
    bytes: usize,
    /// A good poll came after the last write.
    pending: bool,
    generation: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Saver {
    /// A saver that looks at a source's polls at most every `every`.
    pub fn new(store: Store, every: Duration) -> Saver {
        Saver {
            inner: Arc::new(SaverInner {
                store,
                every,
                slots: Default::default(),
                written: Default::default(),
            }),
        }
    }

    /// After a good poll: save it if it is due and changed. `memo` is asked only then. Serializes
    /// on the caller's task (at most once per wait); the file is written on a blocking thread.
    pub fn polled(&self, id: SourceId, data: &SourceData, memo: impl FnOnce() -> Option<Value>) {
        let now = Instant::now();
        let mut slot = lock(&self.inner.slots[id as usize]);
        if let Some(last) = slot.last_try {
            let megabytes = u32::try_from(slot.bytes / 1_000_000).unwrap_or(u32::MAX);
            let wait = (self.inner.every * megabytes.max(1))
                .min(SAVE_EVERY_MAX)
                .max(self.inner.every);
            if now.duration_since(last) < wait {
                slot.pending = true;
                return;
            }
        }
        slot.last_try = Some(now);
        let fetched_at = OffsetDateTime::now_utc();
        let memo = memo();
        let (hash, bytes) = match fingerprint(data, memo.as_ref()) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(source = id.label(), error = %e, "cannot serialize for the cache");
                return;
            }
        };
        if slot.hash == Some(hash) {
            // Unchanged: the file's age is refreshed at quit.
            slot.pending = true;
            return;
        }
        slot.hash = Some(hash);
        slot.bytes = bytes;
        slot.memo = memo.map(Arc::new);
        slot.pending = false;
        slot.generation += 1;
        let generation = slot.generation;
        let memo = slot.memo.clone();
        drop(slot);
        // The poll's PRs are shared, not copied: the clone is cheap.
        let data = data.clone();
        let inner = self.inner.clone();
        let write = move || inner.write(id, generation, fetched_at, &data, memo.as_deref());
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn_blocking(write);
            }
            Err(_) => write(),
        }
    }

    /// Whether a good poll of `id` came after its last write (then [`Saver::flush`] has work).
    pub fn pending(&self, id: SourceId) -> bool {
        lock(&self.inner.slots[id as usize]).pending
    }

    /// Write `id`'s newest data now, with the memo of its last write (at quit, after the pollers
    /// stopped). Does nothing when nothing is pending.
    pub fn flush(
        &self,
        id: SourceId,
        fetched_at: OffsetDateTime,
        data: &SourceData,
    ) -> std::io::Result<()> {
        let mut slot = lock(&self.inner.slots[id as usize]);
        if !slot.pending {
            return Ok(());
        }
        slot.pending = false;
        slot.generation += 1;
        let generation = slot.generation;
        let memo = slot.memo.clone();
        drop(slot);
        self.inner
            .write(id, generation, fetched_at, data, memo.as_deref());
        Ok(())
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }
}

impl SaverInner {
    fn write(
        &self,
        id: SourceId,
        generation: u64,
        fetched_at: OffsetDateTime,
        data: &SourceData,
        memo: Option<&Value>,
    ) {
        let Some(path) = self.store.path(id) else {
            return;
        };
        let mut written = lock(&self.written[id as usize]);
        if *written >= generation {
            return;
        }
        let written_now = write_atomic_with(&path, |w| {
            compose(w, id, fetched_at, OffsetDateTime::now_utc(), data, memo)
        });
        match written_now {
            Ok(()) => *written = generation,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot write the cache");
                // Not on disk: the next due poll writes it even if unchanged, and so does quit.
                let mut slot = lock(&self.slots[id as usize]);
                slot.hash = None;
                slot.pending = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(
            clean_url("https://user:pw@prom.example.com/x/"),
            "https://prom.example.com/x"
        );
        assert_eq!(clean_url("https://a.b/c@d"), "https://a.b/c@d");
        assert_eq!(clean_url("http://h:9090"), "http://h:9090");
    }

    #[test]
    fn fnv_is_the_published_function() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
