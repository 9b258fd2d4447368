//! Graceful shutdown of the real binary: SIGTERM closes the listening socket at once, lets the
//! requests in flight finish with their normal answers, and the process exits 0.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::helpers::{PASSWORD, TestDb, authd_command};

struct Server {
    child: Child,
    port: u16,
    _db: TestDb,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Server {
    let db = TestDb::new();
    let mut child = authd_command()
        .arg("serve")
        .env("DATABASE_URL", db.url())
        .env("AUTHD_BIND", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .env("AUTHD_BOOTSTRAP_ADMIN", format!("root:{PASSWORD}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (port_tx, port_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("authd listening on http://127.0.0.1:").nth(1) {
                let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                let _ = port_tx.send(port.parse::<u16>().unwrap());
            }
        }
    });
    let port = port_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("authd did not start");
    Server {
        child,
        port,
        _db: db,
    }
}

fn connect(port: u16) -> std::io::Result<TcpStream> {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2))
}

#[test]
fn sigterm_finishes_requests_in_flight_refuses_new_connections_and_exits_0() {
    let mut server = start();
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
