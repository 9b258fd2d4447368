//! argon2id password hashing on a small dedicated thread pool.
//!
//! Why a pool of our own rather than `web::block`:
//! - each hash needs 19 MiB of working memory; allocating it per hash fragments glibc's heap
//!   (measured: resident memory past 5 GiB under 500 concurrent logins), so each hashing thread
//!   keeps one buffer and reuses it: resident memory stays near `threads x 19 MiB`;
//! - the queue in front of the pool is bounded: a login flood beyond it is answered at once with
//!   429 and `Retry-After` instead of piling up work for clients that have long gone, and a queued
//!   job whose client disconnected is skipped;
//! - the hashing threads run under SCHED_IDLE (Linux) so token verification and every other
//!   request preempt them at once, while logins still use every otherwise idle cycle.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

use super::secrets::constant_time_eq;
use crate::telemetry;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("too many password checks waiting")]
    Busy,
    #[error("the hashing pool has stopped")]
    Stopped,
}

/// The parameters new hashes get: argon2id, m=19456 KiB, t=2, p=1 (OWASP's recommendation).
fn params() -> Params {
    Params::default()
}

/// Stored hashes asking for more memory than this are refused rather than honoured.
const MAX_MEMORY_KIB: u32 = 256 * 1024;

fn err(e: impl std::fmt::Display) -> HashError {
    HashError::Hash(e.to_string())
}

/// A hashing thread's reusable working memory.
#[derive(Default)]
pub struct Workspace {
    blocks: Vec<Block>,
}

impl Workspace {
    fn blocks(&mut self, params: &Params) -> &mut [Block] {
        let needed = params.block_count();
        if self.blocks.len() < needed {
            self.blocks.resize(needed, Block::default());
        }
        &mut self.blocks[..needed]
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) for `password`.
    pub fn hash(&mut self, password: &[u8]) -> Result<String, HashError> {
        let params = params();
        let mut salt = [0u8; 16];
        aws_lc_rs::rand::fill(&mut salt).map_err(err)?;
        let mut out = [0u8; 32];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password_into_with_memory(password, &salt, &mut out, self.blocks(&params))
            .map_err(err)?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(err)?,
            salt: Some(Salt::new(&salt).map_err(err)?),
            hash: Some(Output::new(&out).map_err(err)?),
        };
        Ok(phc.to_string())
    }

    /// Whether `password` matches the PHC string `stored` (with the parameters stored in it).
    pub fn verify(&mut self, password: &[u8], stored: &str) -> Result<bool, HashError> {
        let parsed = PasswordHash::new(stored).map_err(err)?;
        let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).map_err(err)?;
        let version = parsed
            .version
            .map(Version::try_from)
            .transpose()
            .map_err(err)?
            .unwrap_or_default();
        let params = Params::try_from(&parsed).map_err(err)?;
        if params.m_cost() > MAX_MEMORY_KIB {
            return Err(HashError::Hash(
                "stored hash asks for too much memory".into(),
            ));
        }
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Err(HashError::Hash("stored hash lacks salt or output".into()));
        };
        let mut out = vec![0u8; expected.len()];
        Argon2::new(algorithm, version, params.clone())
            .hash_password_into_with_memory(password, salt.as_ref(), &mut out, self.blocks(&params))
            .map_err(err)?;
        Ok(constant_time_eq(&out, expected.as_bytes()))
    }
}

/// Hashes on the calling thread: for the command line and start-up, never for a request.
pub fn hash_blocking(password: &str) -> Result<String, HashError> {
    Workspace::default().hash(password.as_bytes())
}

enum Job {
    Hash {
        password: String,
        reply: oneshot::Sender<Result<String, HashError>>,
    },
    Verify {
        password: String,
        stored: String,
        reply: oneshot::Sender<Result<bool, HashError>>,
    },
}

/// A job and when it joined the queue.
struct Queued {
    job: Job,
    since: Instant,
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
    /// Verified against when the username is unknown, so that answer costs the same as a wrong
    /// password.
    dummy_hash: Arc<str>,
}

/// Puts the calling thread in the idle scheduling class: it runs only on CPU time that nothing
/// else wants (Linux; elsewhere the priority is left as it is).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: `param` is a valid sched_param for the call's duration; pid 0 is this thread.
        let rc = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) };
        if rc != 0 {
            log::debug!("could not move the hashing thread to SCHED_IDLE");
        }
    }
}

fn worker(jobs: Arc<Mutex<Receiver<Queued>>>, depth: Arc<Depth>) {
    lower_priority();
    let mut workspace = Workspace::default();
    loop {
        // The lock is held only while taking a job, never while hashing.
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        let job = job.map(|Queued { job, since }| {
            depth.sub();
            telemetry::hash_wait(since.elapsed());
            job
        });
        match job {
            Ok(Job::Hash { password, reply }) => {
                if !reply.is_closed() {
                    let _ = reply.send(workspace.hash(password.as_bytes()));
                }
            }
            Ok(Job::Verify {
                password,
                stored,
                reply,
            }) => {
                if !reply.is_closed() {
                    let _ = reply.send(workspace.verify(password.as_bytes(), &stored));
                }
            }
            Err(_) => return,
        }
    }
}

impl Hasher {
    /// `threads` hashing threads behind a queue of `queue` waiting jobs.
    pub fn new(threads: usize, queue: usize) -> Result<Self, HashError> {
        let mut random = [0u8; 24];
        aws_lc_rs::rand::fill(&mut random).map_err(err)?;
        let dummy = Workspace::default().hash(&random)?;
        let (tx, rx) = sync_channel(queue);
        let rx = Arc::new(Mutex::new(rx));
        let depth = Arc::new(Depth::default());
        for i in 0..threads.max(1) {
            let (rx, depth) = (rx.clone(), depth.clone());
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || worker(rx, depth))
                .map_err(err)?;
        }
        Ok(Self {
            queue: tx,
            depth,
            dummy_hash: dummy.into(),
        })
    }

    fn submit(&self, job: Job) -> Result<(), HashError> {
        // Counted before it is sent, so a thread taking it at once never counts below zero.
        self.depth.add();
        let since = Instant::now();
        self.queue.try_send(Queued { job, since }).map_err(|e| {
            self.depth.sub();
            match e {
                TrySendError::Full(_) => HashError::Busy,
                TrySendError::Disconnected(_) => HashError::Stopped,
            }
        })
    }

    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Hash { password, reply })?;
        answer.await.map_err(|_| HashError::Stopped)?
    }

    /// `stored` is `None` for an unknown user: the dummy hash is checked instead and the answer is
    /// `false`, after the same work.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, HashError> {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy_hash.to_string());
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Verify {
            password,
            stored,
            reply,
        })?;
        let matches = answer.await.map_err(|_| HashError::Stopped)??;
        Ok(known && matches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let hasher = Hasher::new(2, 8).unwrap();
        let phc = hasher.hash("correct horse battery".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(
            hasher
                .verify("correct horse battery".into(), Some(phc.clone()))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify("correct horse batterY".into(), Some(phc))
                .await
                .unwrap()
        );
    }

    #[actix_web::test]
    async fn an_unknown_user_never_verifies() {
        let hasher = Hasher::new(1, 8).unwrap();
        assert!(!hasher.verify("anything at all".into(), None).await.unwrap());
    }

    #[test]
    fn hashes_are_interchangeable_with_the_argon2_crates_own() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let ours = hash_blocking("interoperable secret").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"interoperable secret", &parsed)
                .is_ok()
        );
        let theirs = Argon2::default()
            .hash_password(b"interoperable secret")
            .unwrap()
            .to_string();
        let mut ws = Workspace::default();
        assert!(ws.verify(b"interoperable secret", &theirs).unwrap());
        assert!(!ws.verify(b"interoperable secreT", &theirs).unwrap());
    }

    #[test]
    fn hashes_with_other_parameters_still_verify() {
        let weaker = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8192, 1, 1, None).unwrap(),
        );
        use argon2::password_hash::PasswordHasher;
        let old = weaker
            .hash_password(b"legacy password")
            .unwrap()
            .to_string();
        assert!(
            Workspace::default()
                .verify(b"legacy password", &old)
                .unwrap()
        );
    }

    #[test]
    fn a_garbled_stored_hash_is_an_error_not_a_match() {
        let mut ws = Workspace::default();
        assert!(ws.verify(b"x", "not a phc string").is_err());
        assert!(
            ws.verify(
                b"x",
                "$argon2id$v=19$m=999999999,t=2,p=1$c2FsdHNhbHQ$aGFzaA"
            )
            .is_err()
        );
    }

    #[actix_web::test]
    async fn a_full_queue_is_refused_at_once() {
        let hasher = Hasher::new(1, 1).unwrap();
        // Occupy the one thread and the one queue slot, then one more must be refused.
        let jobs: Vec<_> = (0..6)
            .map(|_| hasher.hash("queued password".into()))
            .collect();
        let results = futures_util::future::join_all(jobs).await;
        assert!(results.iter().any(|r| matches!(r, Err(HashError::Busy))));
        assert!(results.iter().any(|r| r.is_ok()));
    }
}
