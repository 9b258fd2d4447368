//! argon2-time [N]: hashes N (default 20) passwords with argon2id m=19456 KiB t=2 p=1 (the argon2
//! crate's default, which is what authd uses) on one thread; prints the median seconds per hash.
use std::time::Instant;

use argon2::password_hash::PasswordHasher as _;
use argon2::Argon2;

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(20);
    let a = Argon2::default();
    let _ = a.hash_password(b"warm-up password").expect("hash");
    let mut times: Vec<f64> = (0..n)
        .map(|i| {
            let pw = format!("benchmark password {i}");
            let t = Instant::now();
            let _ = a.hash_password(pw.as_bytes()).expect("hash");
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    println!("{:.6}", times[times.len() / 2]);
}
