//! `STOCKSYNC_BOOTSTRAP_TOKEN`: the real `serve` process, over a socket.
//! The variable is given to the child only, so parallel tests never race on
//! this process's environment.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Sandbox, TestDb};

/// A running `stocksync serve`, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(sb: &Sandbox, db: &TestDb, bootstrap: &str) -> Self {
        // A port that was free a moment ago: good enough on a test machine.
        let addr = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port");
        let child = sb
            .cmd()
            .args(["serve", "--listen", &addr.to_string(), "--database-url", &db.url])
            .env("STOCKSYNC_BOOTSTRAP_TOKEN", bootstrap)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn stocksync serve");
        let server = Self { child, addr };
        let deadline = Instant::now() + Duration::from_secs(20);
        while server.get("/healthz", None).0 != 200 {
            assert!(Instant::now() < deadline, "serve did not come up on {addr}");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// `GET path` over HTTP/1.1: the status (0 if nothing answered) and the body.
    fn get(&self, path: &str, token: Option<&str>) -> (u16, String) {
        let Ok(mut stream) = TcpStream::connect(self.addr) else { return (0, String::new()) };
        let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
        let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\n{auth}Connection: close\r\n\r\n");
        let mut answer = String::new();
        if stream.write_all(request.as_bytes()).is_err() || stream.read_to_string(&mut answer).is_err() {
            return (0, String::new());
        }
        let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
        (status, body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_bootstrap_token_is_an_admin_token_and_a_new_value_replaces_it() {
    let sb = Sandbox::new();
    let db = TestDb::new(&sb, "db");
    let (first, second) = ("first-bootstrap-token-0123456789", "second-bootstrap-token-0123456789");
    let server = Server::start(&sb, &db, first);
    assert_eq!(server.get("/api/v1/tokens", Some(first)).0, 200);
    let (status, body) = server.get("/api/v1/tokens", Some(first));
    assert_eq!(status, 200);
    assert!(body.contains("\"bootstrap\"") && body.contains("\"admin\""), "{body}");
    assert!(!body.contains(first), "the token list shows a secret: {body}");
    assert_eq!(server.get("/api/v1/tokens", Some("wrong-token-0123456789")).0, 401);
    drop(server);

    let server = Server::start(&sb, &db, second);
    assert_eq!(server.get("/api/v1/fulfillment-centers", Some(second)).0, 200);
    assert_eq!(server.get("/api/v1/fulfillment-centers", Some(first)).0, 401);
    drop(server);

    for secret in [first, second] {
        assert!(!db.holds_text(secret), "the bootstrap token is stored in plain text");
    }
}
