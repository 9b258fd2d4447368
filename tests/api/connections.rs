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
    let first = connect(server.port);
    let _second = connect(server.port);
    let mut third = connect(server.port);
    get_healthz(&mut third);
    let answer = read_until_closed(&mut third);
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(answer.contains("rate_limited"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after"),
        "{answer}"
    );

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
