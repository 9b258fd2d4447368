//! What one client connection may hold, against the real binary: a body that never arrives in
//! full is answered and closed; connections beyond the caps do not take the service down.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::helpers::BinaryServer;

const QUIET: (&str, &str) = ("RUST_LOG", "info,authd::access=off");

fn connect(port: u16) -> TcpStream {
    let s =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(5)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

/// Everything the server sends until it closes the connection (a generous 30 s bound).
fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .expect("the server closes the connection");
    String::from_utf8_lossy(&answer).into_owned()
}

fn get_healthz(stream: &mut TcpStream) {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: authd\r\nConnection: close\r\n\r\n")
        .unwrap();
}

#[test]
fn a_body_that_never_arrives_in_full_is_answered_408_and_the_connection_closed() {
    let server = BinaryServer::start(&[QUIET, ("AUTHD_BODY_TIMEOUT", "1")]);
    let mut slow = connect(server.port);
    slow.write_all(
        b"POST /api/auth/login HTTP/1.1\r\nHost: authd\r\nContent-Type: application/json\r\n\
          Content-Length: 2000\r\n\r\n{",
    )
    .unwrap();
    let started = Instant::now();
    let answer = read_until_closed(&mut slow);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains(r#""code":"invalid_request""#), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn connections_over_the_per_address_cap_get_429_and_a_place_frees_when_one_closes() {
    // 127.0.0.1 is not a trusted proxy here: the peer is the client, and it can be counted.
    let server = BinaryServer::start(&[
        QUIET,
        ("AUTHD_TRUSTED_PROXIES", "10.0.0.0/8"),
        ("AUTHD_MAX_CONNECTIONS_PER_ADDRESS", "2"),
    ]);
    // Which of three connections is the third depends on the order the workers took them:
    // exactly one is over the cap.
    let mut open: Vec<TcpStream> = (0..3).map(|_| connect(server.port)).collect();
    let mut statuses = Vec::new();
    for stream in &mut open {
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: authd\r\n\r\n")
            .unwrap();
        let mut head = [0u8; 512];
        let n = stream.read(&mut head).unwrap();
        statuses.push(String::from_utf8_lossy(&head[..n]).into_owned());
    }
    let refused: Vec<&String> = statuses
        .iter()
        .filter(|s| s.starts_with("HTTP/1.1 429"))
        .collect();
    assert_eq!(refused.len(), 1, "{statuses:?}");
    assert!(refused[0].contains("rate_limited"), "{statuses:?}");
    assert!(refused[0].contains("retry-after"), "{statuses:?}");
    let over = statuses
        .iter()
        .position(|s| s.starts_with("HTTP/1.1 429"))
        .unwrap();
    drop(open.remove(over));

    // The two served connections stay open: a newcomer is over the cap too.
    let mut third = connect(server.port);
    get_healthz(&mut third);
    let answer = read_until_closed(&mut third);
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");

    let first = open.remove(0);
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut fresh = connect(server.port);
        get_healthz(&mut fresh);
        let answer = read_until_closed(&mut fresh);
        if answer.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "never served again: {answer}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn beyond_the_connection_cap_a_client_waits_and_is_served_once_others_close() {
    // Two workers, one connection each.
    let server = BinaryServer::start(&[QUIET, ("AUTHD_MAX_CONNECTIONS", "2")]);
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = connect(server.port);
        // A head in progress: the connection is taken, not idle.
        s.write_all(b"GET /healthz HTTP/1.1\r\n").unwrap();
        held.push(s);
    }
    std::thread::sleep(Duration::from_millis(200));
    let mut waiting = connect(server.port);
    get_healthz(&mut waiting);
    waiting
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let mut byte = [0u8; 1];
    match waiting.read(&mut byte) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("answered beyond the cap: {other:?}"),
    }

    drop(held);
    waiting
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let answer = read_until_closed(&mut waiting);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// Resident memory of a process, bytes (`VmRSS` of /proc/PID/status).
fn resident_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status");
    kib * 1024
}

/// A client that will read none of its answers: a small receive window, so the server's
/// answers back up at once, as over a slow link.
fn reads_nothing(port: u16) -> TcpStream {
    use socket2::{Domain, SockAddr, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    socket
        .connect_timeout(&SockAddr::from(addr), Duration::from_secs(5))
        .unwrap();
    socket.set_nonblocking(true).unwrap();
    socket.into()
}

const MEMORY_BOUND: u64 = 256 * 1024 * 1024;

#[test]
fn a_pipelining_flood_that_reads_no_answers_stays_under_256_mib_and_others_are_served() {
    let server = BinaryServer::start(&[QUIET]);
    let pid = server.child.id();
    let request = b"GET /healthz HTTP/1.1\r\nHost: authd\r\n\r\n";
    let burst: Vec<u8> = request.repeat(4000);
    let mut flood: Vec<(TcpStream, usize)> =
        (0..100).map(|_| (reads_nothing(server.port), 0)).collect();
    let mut peak = resident_bytes(pid);
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline && flood.iter().any(|(_, sent)| *sent < burst.len()) {
        for (stream, sent) in &mut flood {
            if *sent < burst.len() {
                match stream.write(&burst[*sent..]) {
                    Ok(n) => *sent += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => panic!("flood connection failed: {e}"),
                }
            }
        }
        peak = peak.max(resident_bytes(pid));
        std::thread::sleep(Duration::from_millis(10));
    }
    // The flood stays in place (nothing read) while the server works through what it took.
    for _ in 0..30 {
        peak = peak.max(resident_bytes(pid));
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut fresh = connect(server.port);
    get_healthz(&mut fresh);
    let answer = read_until_closed(&mut fresh);
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "{answer} (resident memory reached {} MiB)",
        peak >> 20
    );
    assert!(
        peak < MEMORY_BOUND,
        "resident memory reached {} MiB during the flood",
        peak >> 20
    );

    // Closing them with their answers unread: what the server still held must go, not grow.
    drop(flood);
    let mut after = 0;
    for _ in 0..40 {
        std::thread::sleep(Duration::from_millis(100));
        after = after.max(resident_bytes(pid));
    }
    assert!(
        after < MEMORY_BOUND,
        "resident memory {} MiB after the flood",
        after >> 20
    );
}
