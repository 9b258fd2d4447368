//! argon2id password hashing on a small dedicated thread pool.
//!
//! Why a pool of our own rather than `web::block`:
//! - each hash needs 19 MiB of working memory; allocating it per hash fragments glibc's heap
//!   (measured: resident memory past 5 GiB under 500 concurrent logins), so each hashing thread
//!   keeps one buffer and reuses it: resident memory stays near `threads x 19 MiB`;
//! - the queue in front of the pool is bounded: a login flood beyond it is answered at once with
//!   429 and `Retry-After` instead of piling up work for clients that have long gone, and a queued
//!   job whose client disconnected is skipped;
//! - one client address holds at most its share of the queue (`share.rs`), so one flooding host
//!   cannot shut everyone else out;
//! - a job that waited longer than its deadline is refused (503), not hashed for a client that
//!   has most likely given up;
//! - the hashing threads run at a lower priority than the threads answering requests (by
//!   default nice 10, see `config::HashPriority`), so token verification stays fast under a
//!   login flood while logins still progress under a verification flood.

mod priority;
mod share;
mod workspace;

pub use share::Requester;
pub use workspace::{Workspace, hash_blocking};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::config::HashPriority;
use crate::telemetry;
use share::Shares;
use workspace::err;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("too many password checks waiting")]
    Busy,
    /// The client's address holds its whole share of the queue already.
    #[error("too many password checks waiting for this address")]
    Crowded,
    /// The job waited for a thread longer than its deadline and was not hashed.
    #[error("the password check waited too long for a hashing thread")]
    Overdue,
    #[error("the hashing pool has stopped")]
    Stopped,
}

/// How long a job may wait for a thread before it is refused instead of hashed. The normal wait
/// is the queue times ~12 ms over the threads (64 x 12 ms / 2 = 0.4 s on two cores); a job
/// that waited 5 s finds the machine starved, and its client has likely given up or retried.
pub const QUEUE_DEADLINE: Duration = Duration::from_secs(5);

/// How long past its deadline a caller waits for a job a thread has started: a started job
/// finishes within milliseconds, so only a stalled pool runs out this margin.
const ANSWER_MARGIN: Duration = Duration::from_secs(1);

/// What a hashing pool is allowed.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub threads: usize,
    /// Jobs that may wait for a thread.
    pub queue: usize,
    /// A job that waited longer is refused (`HashError::Overdue`).
    pub deadline: Duration,
    pub priority: HashPriority,
}

impl Limits {
    pub fn new(threads: usize, queue: usize, priority: HashPriority) -> Self {
        Self {
            threads: threads.max(1),
            queue: queue.max(1),
            deadline: QUEUE_DEADLINE,
            priority,
        }
    }

    /// Jobs one client address may have queued or running: an eighth of the queue, at least 2.
    pub fn share(&self) -> usize {
        (self.queue / 8).max(2)
    }
}

enum Job {
    Hash {
        password: String,
        reply: oneshot::Sender<Result<String, HashError>>,
    },
    /// Matches when any of `candidates` matches; every one is tried when none does, so the cost
    /// depends only on how many there are (and on nothing the stored hash says).
    Verify {
        candidates: Vec<String>,
        stored: String,
        reply: oneshot::Sender<Result<bool, HashError>>,
    },
}

impl Job {
    fn refuse(self, e: HashError) {
        match self {
            Self::Hash { reply, .. } => drop(reply.send(Err(e))),
            Self::Verify { reply, .. } => drop(reply.send(Err(e))),
        }
    }

    fn run(self, workspace: &mut Workspace) {
        match self {
            Self::Hash { password, reply } => {
                if !reply.is_closed() {
                    let _ = reply.send(workspace.hash(password.as_bytes()));
                }
            }
            Self::Verify {
                candidates,
                stored,
                reply,
            } => {
                if !reply.is_closed() {
                    let _ = reply.send(workspace.verify_any(&candidates, &stored));
                }
            }
        }
    }
}

/// A job, when it joined the queue, and how long it may wait there.
struct Queued {
    job: Job,
    since: Instant,
    deadline: Duration,
}

/// Jobs in the queue, not yet taken by a thread (the channel cannot tell its length).
#[derive(Default)]
struct Depth(AtomicUsize);

impl Depth {
    fn add(&self) {
        telemetry::hash_queue_depth(self.0.fetch_add(1, Ordering::Relaxed) + 1);
    }

    fn sub(&self) {
        telemetry::hash_queue_depth(self.0.fetch_sub(1, Ordering::Relaxed).saturating_sub(1));
    }
}

#[derive(Clone)]
pub struct Hasher {
    queue: SyncSender<Queued>,
    depth: Arc<Depth>,
    shares: Arc<Shares>,
    deadline: Duration,
    /// Verified against when the username is unknown, so that answer costs the same as a wrong
    /// password.
    dummy_hash: Arc<str>,
}

fn worker(jobs: Arc<Mutex<Receiver<Queued>>>, depth: Arc<Depth>, priority: HashPriority) {
    priority::apply(priority);
    let mut workspace = Workspace::default();
    loop {
        // The lock is held only while taking a job, never while hashing.
        let taken = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        let Ok(Queued {
            job,
            since,
            deadline,
        }) = taken
        else {
            return;
        };
        depth.sub();
        let waited = since.elapsed();
        telemetry::hash_wait(waited);
        if waited >= deadline {
            job.refuse(HashError::Overdue);
        } else {
            job.run(&mut workspace);
        }
    }
}

impl Hasher {
    pub fn new(limits: Limits) -> Result<Self, HashError> {
        let mut random = [0u8; 24];
        aws_lc_rs::rand::fill(&mut random).map_err(err)?;
        let dummy = Workspace::default().hash(&random)?;
        let (tx, rx) = sync_channel(limits.queue);
        let rx = Arc::new(Mutex::new(rx));
        let depth = Arc::new(Depth::default());
        for i in 0..limits.threads {
            let (rx, depth) = (rx.clone(), depth.clone());
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || worker(rx, depth, limits.priority))
                .map_err(err)?;
        }
        Ok(Self {
            queue: tx,
            depth,
            shares: Shares::new(limits.share()),
            deadline: limits.deadline,
            dummy_hash: dummy.into(),
        })
    }

    /// Jobs one client address may have queued or running.
    pub fn share(&self) -> usize {
        self.shares.cap()
    }

    fn submit(&self, job: Job) -> Result<(), HashError> {
        // Counted before it is sent, so a thread taking it at once never counts below zero.
        self.depth.add();
        let queued = Queued {
            job,
            since: Instant::now(),
            deadline: self.deadline,
        };
        self.queue.try_send(queued).map_err(|e| {
            self.depth.sub();
            match e {
                TrySendError::Full(_) => HashError::Busy,
                TrySendError::Disconnected(_) => HashError::Stopped,
            }
        })
    }

    /// Queues the job `make` builds within `requester`'s share and waits for its answer.
    async fn run<T>(
        &self,
        requester: Requester<'_>,
        make: impl FnOnce(oneshot::Sender<Result<T, HashError>>) -> Job,
    ) -> Result<T, HashError> {
        // Held until the answer is in (or this future is dropped with its client).
        let _slot = self.shares.take(requester).ok_or(HashError::Crowded)?;
        let (reply, answer) = oneshot::channel();
        self.submit(make(reply))?;
        // The threads refuse a job past its deadline; this bounds the wait when they are stalled
        // altogether. Dropping `answer` makes a thread skip the job.
        match tokio::time::timeout(self.deadline + ANSWER_MARGIN, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(HashError::Stopped),
            Err(_) => Err(HashError::Overdue),
        }
    }

    pub async fn hash(
        &self,
        password: String,
        requester: Requester<'_>,
    ) -> Result<String, HashError> {
        self.run(requester, |reply| Job::Hash { password, reply })
            .await
    }

    /// Whether any of `candidates` (the forms of one typed password, see
    /// `domain::Password::candidates`) matches `stored`. `stored` is `None` for an unknown user:
    /// the dummy hash is checked instead, with as many candidates, and the answer is `false`
    /// after the same work.
    pub async fn verify(
        &self,
        candidates: Vec<String>,
        stored: Option<String>,
        requester: Requester<'_>,
    ) -> Result<bool, HashError> {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy_hash.to_string());
        let matches = self
            .run(requester, |reply| Job::Verify {
                candidates,
                stored,
                reply,
            })
            .await?;
        Ok(known && matches)
    }
}

#[cfg(test)]
mod tests {
    use std::future::{Future, poll_fn};
    use std::pin::pin;
    use std::task::Poll;

    use super::*;

    fn hasher(threads: usize, queue: usize) -> Hasher {
        Hasher::new(Limits::new(threads, queue, HashPriority::DEFAULT)).unwrap()
    }

    const ANYONE: Requester<'static> = Requester::Operator;

    /// Polls `fut` once: starts it (it takes its share and queues its job) without finishing it.
    async fn poll_once<F: Future>(mut fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
        poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await
    }

    #[actix_web::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let hasher = hasher(2, 8);
        let phc = hasher
            .hash("correct horse battery".into(), ANYONE)
            .await
            .unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(
            hasher
                .verify(
                    vec!["correct horse battery".into()],
                    Some(phc.clone()),
                    ANYONE
                )
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify(vec!["correct horse batterY".into()], Some(phc), ANYONE)
                .await
                .unwrap()
        );
    }

    #[actix_web::test]
    async fn an_unknown_user_never_verifies() {
        let hasher = hasher(1, 8);
        let twice = vec!["anything at all".into(), "ａｎｙｔｈｉｎｇ".into()];
        assert!(!hasher.verify(twice, None, ANYONE).await.unwrap());
    }

    #[actix_web::test]
    async fn a_full_queue_is_refused_at_once() {
        let hasher = hasher(1, 1);
        // Occupy the one thread and the one queue slot, then one more must be refused.
        let jobs: Vec<_> = (0..6)
            .map(|_| hasher.hash("queued password".into(), ANYONE))
            .collect();
        let results = futures_util::future::join_all(jobs).await;
        assert!(results.iter().any(|r| matches!(r, Err(HashError::Busy))));
        assert!(results.iter().any(|r| r.is_ok()));
    }

    #[actix_web::test]
    async fn any_form_of_the_password_may_match() {
        let hasher = hasher(1, 8);
        let phc = hasher
            .hash("as typed long ago".into(), ANYONE)
            .await
            .unwrap();
        let forms = vec!["as normalised".into(), "as typed long ago".into()];
        assert!(hasher.verify(forms, Some(phc), ANYONE).await.unwrap());
    }

    #[actix_web::test]
    async fn a_job_past_its_deadline_is_refused_and_not_hashed() {
        let limits = Limits {
            deadline: Duration::ZERO,
            ..Limits::new(1, 8, HashPriority::DEFAULT)
        };
        let hasher = Hasher::new(limits).unwrap();
        // Hashing this garbled hash would be a `Hash` error: `Overdue` shows it was not looked at.
        let garbled = Some("not a phc string".to_owned());
        let verify = hasher.verify(vec!["x".into()], garbled, ANYONE).await;
        assert!(matches!(verify, Err(HashError::Overdue)), "{verify:?}");
        let hash = hasher.hash("never hashed".into(), ANYONE).await;
        assert!(matches!(hash, Err(HashError::Overdue)), "{hash:?}");
    }

    #[actix_web::test]
    async fn one_address_gets_its_share_of_the_queue_and_another_still_gets_in() {
        let hasher = hasher(1, 16);
        assert_eq!(hasher.share(), 2);
        let flooder = Requester::Client(Some("203.0.113.9"));
        // Two jobs of one address in flight (started, not finished: their share is held).
        let mut first = pin!(hasher.hash("first of the flood".into(), flooder));
        let mut second = pin!(hasher.hash("second of the flood".into(), flooder));
        assert!(poll_once(first.as_mut()).await.is_pending());
        assert!(poll_once(second.as_mut()).await.is_pending());
        let third = hasher.hash("third of the flood".into(), flooder).await;
        assert!(matches!(third, Err(HashError::Crowded)), "{third:?}");
        let other = Requester::Client(Some("198.51.100.20"));
        assert!(hasher.hash("someone else".into(), other).await.is_ok());
        assert!(first.await.is_ok() && second.await.is_ok());
        // Its jobs answered, the address has its share back.
        assert!(hasher.hash("later".into(), flooder).await.is_ok());
    }
}
