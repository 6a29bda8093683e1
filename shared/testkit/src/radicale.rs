//! A real CalDAV server for tests: Radicale (pinned in `infra/requirements.txt`, installed into
//! the repository's `.venv` by `infra/emulator.sh install`, which `make test` runs).
//!
//! [`Radicale::start`] runs one server per call on a free loopback port with its own temporary
//! directory: htpasswd auth (plain) with one user, filesystem storage, no web UI, no delays on
//! failed logins or errors, and one calendar collection made with MKCALENDAR. Dropping it kills
//! the process and removes the directory. A missing Radicale is a failure, never a skip.
//!
//! Radicale answers HTTP/1.0 and closes the connection after every response; the helpers here
//! speak just enough HTTP for setting up fixtures (a foreign client's events, more calendars).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// How long a server may take to answer its first request (a busy CI machine included).
const READY_WITHIN: Duration = Duration::from_secs(15);

const USER: &str = "praxis";
const PASSWORD: &str = "termin-geheim";
const CALENDAR: &str = "/praxis/termine/";

/// A running Radicale; stopped and cleaned up on drop.
pub struct Radicale {
    child: Child,
    dir: PathBuf,
    port: u16,
}

/// The directory holding `.venv`, walking up from this crate.
fn repo_root() -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|dir| dir.join(".venv").is_dir())
        .map(Path::to_path_buf)
}

fn radicale_bin() -> PathBuf {
    let found = repo_root()
        .map(|root| root.join(".venv/bin/radicale"))
        .filter(|bin| bin.is_file());
    match found {
        Some(bin) => bin,
        None => panic!(
            "Radicale is not installed: no .venv/bin/radicale above {}; run `infra/emulator.sh install` (make test does it)",
            env!("CARGO_MANIFEST_DIR")
        ),
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

fn temp_dir() -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!(
        "radicale-test-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("create Radicale's temporary directory");
    dir
}

/// Standard base64 (for the Basic credentials of the fixture requests).
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

impl Radicale {
    /// Starts a server and creates [`Radicale::calendar_path`]; panics with the server's log if
    /// it does not come up within 15 s.
    pub fn start() -> Radicale {
        let bin = radicale_bin();
        let dir = temp_dir();
        let port = free_port();
        std::fs::write(dir.join("users"), format!("{USER}:{PASSWORD}\n")).expect("write the htpasswd file");
        let config = format!(
            "[server]\nhosts = 127.0.0.1:{port}\ndelay_on_error = 0\n\
             [auth]\ntype = htpasswd\nhtpasswd_filename = {users}\nhtpasswd_encryption = plain\ndelay = 0\n\
             [rights]\ntype = owner_only\n\
             [storage]\nfilesystem_folder = {collections}\n\
             [web]\ntype = none\n\
             [logging]\nlevel = info\n",
            users = dir.join("users").display(),
            collections = dir.join("collections").display(),
        );
        std::fs::write(dir.join("config"), config).expect("write Radicale's config");
        let log = std::fs::File::create(dir.join("log")).expect("create Radicale's log");
        let child = Command::new(&bin)
            .arg("-C")
            .arg(dir.join("config"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut server = Radicale { child, dir, port };
        server.wait_until_ready();
        let status = server.mkcalendar(CALENDAR);
        assert_eq!(status, 201, "MKCALENDAR {CALENDAR}: {status}\n{}", server.log());
        server
    }

    fn wait_until_ready(&mut self) {
        let started = Instant::now();
        loop {
            if let Ok(Some(exit)) = self.child.try_wait() {
                panic!("Radicale exited at start ({exit}):\n{}", self.log());
            }
            if let Ok((status, _)) = self.try_request("OPTIONS", "/", &[], "", false)
                && status > 0
            {
                return;
            }
            if started.elapsed() > READY_WITHIN {
                panic!("Radicale did not answer within {READY_WITHIN:?}:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:PORT`, for a `UrlPolicy` allow-list.
    pub fn host_port(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    pub fn username(&self) -> &'static str {
        USER
    }

    pub fn password(&self) -> &'static str {
        PASSWORD
    }

    /// The calendar collection made at start, `/praxis/termine/`.
    pub fn calendar_path(&self) -> String {
        CALENDAR.to_string()
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// Creates another calendar collection (under `/praxis/`); the HTTP status.
    pub fn mkcalendar(&self, path: &str) -> u16 {
        let body = r#"<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set><D:prop>
    <D:displayname>Termine</D:displayname>
    <C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>
  </D:prop></D:set>
</C:mkcalendar>"#;
        self.request(
            "MKCALENDAR",
            path,
            &[("Content-Type", "application/xml; charset=utf-8")],
            body,
        )
        .0
    }

    /// Stores a calendar object as another CalDAV client would (`PUT`, no conditions); the status.
    pub fn put(&self, path: &str, ics: &str) -> u16 {
        self.request("PUT", path, &[("Content-Type", "text/calendar; charset=utf-8")], ics)
            .0
    }

    /// One request as the test user; the status and the body.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
        self.try_request(method, path, headers, body, true)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}\n{}", self.log()))
    }

    fn try_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
        authenticated: bool,
    ) -> std::io::Result<(u16, String)> {
        let mut stream = TcpStream::connect_timeout(&self.addr(), Duration::from_secs(2))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut head = format!(
            "{method} {path} HTTP/1.0\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.host_port(),
            body.len()
        );
        if authenticated {
            let credentials = base64(format!("{USER}:{PASSWORD}").as_bytes());
            head.push_str(&format!("Authorization: Basic {credentials}\r\n"));
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes())?;
        stream.write_all(body.as_bytes())?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer)?;
        let answer = String::from_utf8_lossy(&answer);
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(0);
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        Ok((status, body))
    }
}

impl Drop for Radicale {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"alice:secret1"), "YWxpY2U6c2VjcmV0MQ==");
    }
}
