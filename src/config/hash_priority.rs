//! How the password-hashing threads are scheduled (`AUTHD_HASH_PRIORITY`).

use std::fmt;

/// The scheduling of the hashing threads, relative to the threads that answer requests.
/// `bench/hash-priority` measures the candidates; `docs/security.md` says why the default won.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashPriority {
    /// SCHED_IDLE: only CPU time nothing else wants. A flood that saturates the CPU starves
    /// every login.
    Idle,
    /// SCHED_BATCH: the normal share, but never preempts (on wakeup) a thread answering requests.
    Batch,
    /// SCHED_OTHER at this nice value (0 to 19): a smaller, never-zero share of the CPU.
    Nice(u8),
}

impl HashPriority {
    /// Chosen from the figures in bench/BENCHMARKS.md ("Hashing under a verify flood").
    pub const DEFAULT: Self = Self::Nice(10);

    /// `idle`, `batch`, `normal` (nice 0) or a nice value `0` to `19`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "idle" => Ok(Self::Idle),
            "batch" => Ok(Self::Batch),
            "normal" => Ok(Self::Nice(0)),
            n => n
                .parse::<u8>()
                .ok()
                .filter(|n| *n <= 19)
                .map(Self::Nice)
                .ok_or_else(|| {
                    format!("expected idle, batch, normal or a nice value 0 to 19, got {s:?}")
                }),
        }
    }
}

impl Default for HashPriority {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for HashPriority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Idle => f.write_str("idle"),
            Self::Batch => f.write_str("batch"),
            Self::Nice(n) => write!(f, "nice {n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_policy_and_refuses_anything_else() {
        assert_eq!(HashPriority::parse("idle"), Ok(HashPriority::Idle));
        assert_eq!(HashPriority::parse(" Batch "), Ok(HashPriority::Batch));
        assert_eq!(HashPriority::parse("normal"), Ok(HashPriority::Nice(0)));
        assert_eq!(HashPriority::parse("19"), Ok(HashPriority::Nice(19)));
        for bad in ["20", "-1", "realtime", ""] {
            assert!(HashPriority::parse(bad).is_err(), "{bad}");
        }
    }
}
