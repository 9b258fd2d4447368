//! Graceful shutdown of the real binary: SIGTERM closes the listening socket at once, lets the
//! requests in flight finish with their normal answers, and the process exits 0.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::helpers::{BinaryServer, PASSWORD};

fn connect(port: u16) -> std::io::Result<TcpStream> {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2))
}

#[test]
fn sigterm_finishes_requests_in_flight_refuses_new_connections_and_exits_0() {
    let mut server = BinaryServer::start(&[("AUTHD_BOOTSTRAP_ADMIN", &format!("root:{PASSWORD}"))]);
    let port = server.port;
    let body = format!(r#"{{"username":"root","password":"{PASSWORD}"}}"#);
    let (first, rest) = body.split_at(10);
    // A login in flight: its headers and part of its body are sent, the rest comes after the
    // signal, and then the password is hashed: the whole request runs across the shutdown.
    let mut in_flight = connect(port).unwrap();
    write!(
        in_flight,
        "POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
        body.len()
    )
    .unwrap();
    in_flight.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));

    let pid = i32::try_from(server.child.id()).unwrap();
    // SAFETY: sends a signal to the child this test started and still owns.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);

    // New connections are refused once the signal has been handled.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match connect(port) {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => break,
            Err(e) => panic!("unexpected connect error: {e}"),
            Ok(_) => {
                assert!(Instant::now() < deadline, "still accepting after SIGTERM");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "exited with a request in flight"
    );

    // The request in flight completes with its normal answer.
    in_flight.write_all(rest.as_bytes()).unwrap();
    in_flight
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut answer = String::new();
    in_flight.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"access_token\""), "{answer}");

    // Then the process exits, with status 0, well before the 30 s bound.
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "authd did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "{status:?}");
}
