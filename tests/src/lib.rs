//! The black-box harness: builds the real `keyward` binary, starts it in dev
//! mode on a free port and a temporary data dir, waits until it is healthy,
//! and stops it by its pid (SIGTERM, or SIGKILL for crash tests).
//!
//! Tests talk to it over HTTPS with a client that trusts only the CA the
//! server generated.
#![forbid(unsafe_code)]

pub mod pki;
pub mod tls;

use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

pub use serde_json::{Value, json};

/// The keyward binary: `$KEYWARD_BIN`, or `target/debug/keyward` built once
/// by this harness.
pub fn binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Ok(bin) = std::env::var("KEYWARD_BIN") {
            return PathBuf::from(bin);
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace root")
            .to_path_buf();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "keyward"])
            .current_dir(&root)
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build -p keyward failed");
        let target = std::env::var("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| root.join("target"));
        target.join("debug").join("keyward")
    })
    .clone()
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// How to start a server.
#[derive(Debug, Clone)]
pub struct Options {
    /// Serve HTTPS (the default) or plain HTTP.
    pub tls: bool,
    /// Extra flags after `server --dev`.
    pub args: Vec<String>,
    /// The root token passed with `--dev-root-token` (None: let the server generate one).
    pub root_token: Option<String>,
    /// The admin password passed with `--dev-admin-password`.
    pub admin_password: Option<String>,
    /// The CA the clients trust, when the server is given its own
    /// certificates (`--tls-cert`); None: the dev CA under the data dir.
    pub ca_file: Option<PathBuf>,
    /// A client certificate and key `client()` presents (for a server that
    /// requires one).
    pub identity: Option<(PathBuf, PathBuf)>,
    /// Extra environment variables (`KEYWARD_LOG`, say).
    pub env: Vec<(String, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tls: true,
            args: Vec::new(),
            root_token: Some(format!("kw.test-root-{}", std::process::id())),
            admin_password: Some("Test-Admin-Password-1".to_string()),
            ca_file: None,
            identity: None,
            env: Vec::new(),
        }
    }
}

/// A running keyward.
pub struct Server {
    child: Option<Child>,
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Its data dir.
    pub data_dir: PathBuf,
    /// The options it was started with.
    pub options: Options,
    _tmp: Option<Arc<tempfile::TempDir>>,
    stdout_path: PathBuf,
    stderr_path: PathBuf,
}

/// Why a server did not come up.
#[derive(Debug)]
pub struct StartError {
    /// Exit status, if it exited.
    pub status: Option<ExitStatus>,
    /// What it printed on stderr.
    pub stderr: String,
}

impl Server {
    /// Starts a dev server on a fresh temporary data dir.
    pub fn start() -> Server {
        Self::start_with(Options::default())
    }

    /// Starts a dev server on a fresh temporary data dir with `options`.
    pub fn start_with(options: Options) -> Server {
        let tmp = Arc::new(tempfile::tempdir().expect("tempdir"));
        let data_dir = tmp.path().join("data");
        Self::start_in(&data_dir, options, Some(tmp)).expect("server starts")
    }

    /// Starts a dev server on `data_dir` (kept by the caller).
    pub fn start_in(
        data_dir: &Path,
        options: Options,
        tmp: Option<Arc<tempfile::TempDir>>,
    ) -> Result<Server, StartError> {
        let mut last = None;
        // A free port can be taken between asking and binding: try again.
        for _ in 0..3 {
            match Self::try_start(data_dir, options.clone(), tmp.clone()) {
                Ok(s) => return Ok(s),
                Err(e) if e.stderr.contains("cannot listen") => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("at least one attempt"))
    }

    fn try_start(
        data_dir: &Path,
        options: Options,
        tmp: Option<Arc<tempfile::TempDir>>,
    ) -> Result<Server, StartError> {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
        let logs = data_dir.parent().unwrap_or(Path::new("/tmp")).to_path_buf();
        std::fs::create_dir_all(&logs).expect("log dir");
        let stdout_path = logs.join(format!("keyward-{}.out", addr.port()));
        let stderr_path = logs.join(format!("keyward-{}.err", addr.port()));
        let mut cmd = Command::new(binary());
        cmd.arg("server")
            .arg("--dev")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg(addr.to_string());
        if !options.tls {
            cmd.arg("--tls-disable");
        }
        if let Some(t) = &options.root_token {
            cmd.arg("--dev-root-token").arg(t);
        }
        if let Some(p) = &options.admin_password {
            cmd.arg("--dev-admin-password").arg(p);
        }
        cmd.args(&options.args);
        cmd.envs(options.env.iter().map(|(k, v)| (k, v)));
        cmd.stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
            .stderr(std::fs::File::create(&stderr_path).expect("stderr file"));
        let child = cmd.spawn().expect("spawn keyward");
        let mut server = Server {
            child: Some(child),
            addr,
            data_dir: data_dir.to_path_buf(),
            options,
            _tmp: tmp,
            stdout_path,
            stderr_path,
        };
        server.wait_healthy()?;
        Ok(server)
    }

    fn wait_healthy(&mut self) -> Result<(), StartError> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                return Err(StartError {
                    status: Some(status),
                    stderr: self.stderr(),
                });
            }
            // The CA exists once the server has written its certificates.
            let ready = (!self.options.tls || self.ca_path().exists())
                && self
                    .client()
                    .try_request("GET", "/v1/sys/health", &[])
                    .is_ok_and(|r| r.status == 200);
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                let stderr = self.stderr();
                self.kill9();
                return Err(StartError {
                    status: None,
                    stderr,
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the server printed on stdout so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout_path).unwrap_or_default()
    }

    /// What the server printed on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// The CA the clients trust: `Options::ca_file`, or the dev CA.
    pub fn ca_path(&self) -> PathBuf {
        self.options
            .ca_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("tls").join("ca.pem"))
    }

    /// Sends SIGHUP (reload TLS).
    pub fn hangup(&self) {
        signal(self.pid(), "HUP");
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child
            .as_ref()
            .map(Child::id)
            .expect("server is running")
    }

    /// `https://127.0.0.1:PORT` (or http).
    pub fn base_url(&self) -> String {
        let scheme = if self.options.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The root token (as passed, or as printed by the server).
    pub fn root_token(&self) -> String {
        match &self.options.root_token {
            Some(t) => t.clone(),
            None => self.printed("root token:"),
        }
    }

    /// The admin password (as passed, or as printed by the server).
    pub fn admin_password(&self) -> String {
        match &self.options.admin_password {
            Some(p) => p.clone(),
            None => self.printed("admin password:"),
        }
    }

    fn printed(&self, label: &str) -> String {
        self.stdout()
            .lines()
            .find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("server did not print {label:?}"))
    }

    /// An HTTP client that trusts only the server's CA (and presents
    /// `Options::identity`, if any).
    pub fn client(&self) -> Client {
        match &self.options.identity {
            Some((cert, key)) if self.options.tls => {
                Client::with_identity(self.base_url(), self.ca_path(), cert, key)
            }
            _ => Client::new(self.base_url(), self.options.tls.then(|| self.ca_path())),
        }
    }

    /// A client that presents the dev admin certificate (`DIR/tls/admin.pem`).
    pub fn admin_cert_client(&self) -> Client {
        let tls = self.data_dir.join("tls");
        Client::with_identity(
            self.base_url(),
            self.ca_path(),
            &tls.join("admin.pem"),
            &tls.join("admin-key.pem"),
        )
    }

    /// A client that sends the root token with every request.
    pub fn root_client(&self) -> Client {
        let mut c = self.client();
        c.token = Some(self.root_token());
        c
    }

    /// A GET without credentials.
    pub fn get(&self, path: &str) -> Reply {
        self.client().request("GET", path, &[], None)
    }

    /// Sends SIGTERM and waits for the process; returns its exit status.
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("server is running");
        signal(child.id(), "TERM");
        wait_timeout(&mut child, Duration::from_secs(60))
            .expect("server stops within 60 s after SIGTERM")
    }

    /// Sends SIGKILL and reaps the process.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same data dir with the same options.
    pub fn restart(&mut self) -> Result<(), StartError> {
        if self.child.is_some() {
            let status = self.stop();
            assert!(status.success(), "server exited with {status}");
        }
        *self = Server::start_in(&self.data_dir, self.options.clone(), self._tmp.clone())?;
        Ok(())
    }

    /// Starts the server again with other options.
    pub fn restart_with(&mut self, options: Options) -> Result<(), StartError> {
        self.options = options;
        self.restart()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status();
}

fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An answer: status, headers and body text.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Response headers (lower-case names).
    pub headers: Vec<(String, String)>,
    /// Body as text.
    pub body: String,
}

impl Reply {
    /// The body as JSON (panics with the body when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A blocking HTTP(S) client for tests.
#[derive(Clone)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
    token: Option<String>,
}

impl Client {
    /// A client for `base`, trusting only the CA in `ca` (for HTTPS).
    pub fn new(base: String, ca: Option<PathBuf>) -> Client {
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)));
        if let Some(ca) = ca {
            let pem = std::fs::read(&ca).expect("CA file");
            let cert = ureq::tls::Certificate::from_pem(&pem).expect("CA PEM");
            let tls = ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::new_with_certs(&[cert]))
                .build();
            config = config.tls_config(tls);
        }
        Client {
            base,
            agent: config.build().new_agent(),
            token: None,
        }
    }

    /// A client that trusts the CA in `ca` and presents the certificate
    /// chain in `cert` with the key in `key`.
    pub fn with_identity(base: String, ca: PathBuf, cert: &Path, key: &Path) -> Client {
        let pem = std::fs::read(&ca).expect("CA file");
        let ca = ureq::tls::Certificate::from_pem(&pem).expect("CA PEM");
        let chain: Vec<_> = ureq::tls::parse_pem(&std::fs::read(cert).expect("cert file"))
            .filter_map(|i| match i {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        let key = ureq::tls::PrivateKey::from_pem(&std::fs::read(key).expect("key file"))
            .expect("key PEM");
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::new_with_certs(&[ca]))
            .client_cert(Some(ureq::tls::ClientCert::new_with_certs(&chain, key)))
            .build();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .tls_config(tls);
        Client {
            base,
            agent: config.build().new_agent(),
            token: None,
        }
    }

    /// The same client, sending `token` as `X-Vault-Token`.
    pub fn with_token(&self, token: &str) -> Client {
        Client {
            token: Some(token.to_string()),
            ..self.clone()
        }
    }

    /// Sends one request. `headers` are added as given; `body` is sent as is.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        self.send(method, path, headers, body)
            .unwrap_or_else(|e| panic!("{method} {}{path} failed: {e}", self.base))
    }

    /// As [`Client::request`] (the token, the body), returning a transport
    /// error instead of panicking: for a server that may be killed mid-request.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Reply, String> {
        let url = format!("{}{}", self.base, path);
        let mut builder = ureq::http::Request::builder().method(method).uri(&url);
        if let Some(t) = &self.token {
            builder = builder.header("x-vault-token", t.as_str());
        }
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let req = builder
            .body(body.map(<[u8]>::to_vec).unwrap_or_default())
            .map_err(|e| e.to_string())?;
        let mut resp = self.agent.run(req).map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let mut body = String::new();
        let _ = resp.body_mut().as_reader().read_to_string(&mut body);
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    /// Like [`Client::request`] but returns the transport error instead of panicking.
    pub fn try_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<Reply, String> {
        let url = format!("{}{}", self.base, path);
        let mut builder = ureq::http::Request::builder().method(method).uri(&url);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let req = builder.body(Vec::new()).map_err(|e| e.to_string())?;
        let mut resp = self.agent.run(req).map_err(|e| e.to_string())?;
        let mut body = String::new();
        let _ = resp.body_mut().as_reader().read_to_string(&mut body);
        Ok(Reply {
            status: resp.status().as_u16(),
            headers: Vec::new(),
            body,
        })
    }
}

/// SHA-256 of every file under `dir`, by relative path: to prove a directory
/// did not change.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read dir")
            .filter_map(Result::ok)
            .collect();
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p
                    .strip_prefix(base)
                    .expect("under base")
                    .to_string_lossy()
                    .to_string();
                out.push((rel, std::fs::read(&p).expect("read file")));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

/// True when `needle` occurs in any file under `dir`.
pub fn dir_contains(dir: &Path, needle: &[u8]) -> Option<String> {
    assert!(!needle.is_empty(), "an empty needle is everywhere");
    snapshot(dir)
        .into_iter()
        .find(|(_, bytes)| bytes.windows(needle.len()).any(|w| w == needle))
        .map(|(name, _)| name)
}

/// The value of an `Authorization: Basic` header.
pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}
