//! The listener's resource limits through the real binary: a slow client's
//! headers and body time out, connections beyond `--max-connections` are
//! closed while the admitted ones keep working, and one address's handshake
//! flood does not keep another address out.

use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use keyward_tests::tls::{TlsConn, client_config};
use keyward_tests::{Options, Server};

fn start(args: &[&str]) -> Server {
    Server::start_with(Options {
        args: args.iter().map(|a| a.to_string()).collect(),
        ..Default::default()
    })
}

fn tls(server: &Server) -> TlsConn {
    TlsConn::connect(server.addr, "localhost", &server.ca_path(), None).expect("handshake")
}

/// True when the server closes `sock` (EOF or reset) within `wait`.
fn closed_within(sock: &mut TcpStream, wait: Duration) -> bool {
    sock.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + wait;
    loop {
        match sock.read(&mut buf) {
            Ok(0) => return true,
            // TLS alert bytes or the like: keep reading until the close.
            Ok(_) if Instant::now() < deadline => continue,
            Ok(_) => return false,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

/// A TCP connection from `source` (any 127.0.0.0/8 address is local).
fn connect_from(source: &str, to: SocketAddr) -> TcpStream {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
        let stream = socket.connect(to).await.unwrap();
        let std = stream.into_std().unwrap();
        std.set_nonblocking(false).unwrap();
        std
    })
}

#[test]
fn headers_that_do_not_arrive_in_time_close_the_connection() {
    let server = start(&["--http-read-header-timeout", "1s"]);
    let mut slow = tls(&server);
    // Half a request line, then nothing: a slowloris client.
    slow.send(b"GET /v1/sys/health HTTP/1.1\r\nHost: loc")
        .unwrap();
    let error = slow
        .read_reply()
        .expect_err("the server closes the connection");
    assert!(error.contains("closed"), "{error}");
    // Others are served as before.
    let r = server.get("/v1/sys/health");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["initialized"], true);
}

#[test]
fn a_body_that_does_not_arrive_in_time_is_refused_with_408_in_the_familys_shape() {
    let server = start(&["--http-read-timeout", "1s"]);
    let token = server.root_token();
    let mut slow = tls(&server);
    let head = format!(
        "POST /v1/transit/keys/slow HTTP/1.1\r\nHost: localhost\r\nX-Vault-Token: {token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"type\":"
    );
    slow.send(head.as_bytes()).unwrap();
    let r = slow.read_reply().expect("an answer, not a hang");
    assert_eq!(r.status, 408, "{}", r.body);
    let errors = r.json()["errors"][0].as_str().unwrap().to_string();
    assert!(errors.contains("http_read_timeout"), "{errors}");
    // Nothing was half-created.
    let r = server
        .root_client()
        .request("GET", "/v1/transit/keys/slow", &[], None);
    assert_eq!(r.status, 404, "{}", r.body);

    // The same limit in OpenSearch's shape.
    let mut slow = tls(&server);
    let auth = keyward_tests::basic("admin", &server.admin_password());
    let head = format!(
        "PUT /_plugins/_security/api/internalusers/slow HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{{"
    );
    slow.send(head.as_bytes()).unwrap();
    let r = slow.read_reply().expect("an answer, not a hang");
    assert_eq!(r.status, 408, "{}", r.body);
    assert_eq!(r.json()["status"], "REQUEST_TIMEOUT", "{}", r.body);
}

#[test]
fn connections_beyond_the_limit_are_closed_and_the_admitted_ones_keep_working() {
    let server = start(&["--max-connections", "3"]);
    let mut held: Vec<TlsConn> = (0..3).map(|_| tls(&server)).collect();
    let mut extra = TcpStream::connect(server.addr).unwrap();
    assert!(
        closed_within(&mut extra, Duration::from_secs(10)),
        "a fourth connection is closed"
    );
    for conn in &mut held {
        let r = conn.request("GET", "/v1/sys/health", &[]).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
    }
    // A slot freed is a slot for the next client.
    drop(held.pop());
    let deadline = Instant::now() + Duration::from_secs(10);
    let reply = loop {
        match TlsConn::connect(server.addr, "localhost", &server.ca_path(), None)
            .and_then(|mut c| c.request("GET", "/v1/sys/health", &[]))
        {
            Ok(r) => break r,
            // The server notices the close asynchronously.
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("no slot came back: {e}"),
        }
    };
    assert_eq!(reply.status, 200);
    assert!(
        server.stderr().contains("--max-connections"),
        "the refusal is logged"
    );
}

#[test]
fn a_handshake_flood_from_one_address_does_not_keep_another_out() {
    let server = start(&["--max-handshakes-per-ip", "4"]);
    // Four connections from 127.0.0.1 that never send a ClientHello hold
    // all of that address's handshake slots.
    let _flood: Vec<TcpStream> = (0..4)
        .map(|_| connect_from("127.0.0.1", server.addr))
        .collect();
    // Give the server time to accept them before the fifth arrives.
    std::thread::sleep(Duration::from_millis(300));
    let mut fifth = connect_from("127.0.0.1", server.addr);
    assert!(
        closed_within(&mut fifth, Duration::from_secs(5)),
        "a fifth handshake from the flooding address is refused"
    );
    // Another address is served.
    let config = Arc::new(client_config(&server.ca_path(), None).unwrap());
    let sock = connect_from("127.0.0.2", server.addr);
    let mut other = TlsConn::over(sock, "localhost", config).expect("handshake from 127.0.0.2");
    let r = other.request("GET", "/v1/sys/health", &[]).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn limits_are_checked_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    for (flag, value, says) in [
        ("--http-read-timeout", "soon", "10s"),
        ("--http-read-header-timeout", "3d", "unknown unit"),
        ("--max-connections", "0", "at least 1"),
    ] {
        let out = std::process::Command::new(keyward_tests::binary())
            .args(["server", "--dev", "--data-dir"])
            .arg(tmp.path().join("data"))
            .args([flag, value])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{flag} {value} is refused");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{flag} {value}: {stderr}");
    }
}
