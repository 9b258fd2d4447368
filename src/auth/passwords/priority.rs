//! Puts a hashing thread at its configured scheduling priority (Linux; elsewhere the priority
//! is left as it is).

use crate::config::HashPriority;

/// Applies `priority` to the calling thread. Only ever lowers it, which needs no privilege.
pub fn apply(priority: HashPriority) {
    #[cfg(target_os = "linux")]
    {
        let (policy, nice) = match priority {
            HashPriority::Idle => (libc::SCHED_IDLE, 0),
            HashPriority::Batch => (libc::SCHED_BATCH, 0),
            HashPriority::Nice(n) => (libc::SCHED_OTHER, libc::c_int::from(n)),
        };
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: `param` is a valid sched_param for the call's duration; pid 0 is this thread.
        if unsafe { libc::sched_setscheduler(0, policy, &param) } != 0 {
            log::warn!("could not move a hashing thread to {priority}");
        }
        if nice != 0 {
            // SAFETY: plain syscalls on this thread's own id; on Linux the nice value is a
            // per-thread attribute.
            let rc = unsafe {
                let tid = libc::gettid();
                libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice)
            };
            if rc != 0 {
                log::warn!("could not set a hashing thread to {priority}");
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = priority;
}
