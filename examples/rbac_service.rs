//! Access control as a library: a small notes service on plain hyper that
//! authorizes its own routes with `rbac-model`, from OpenSearch Security
//! YAML files (`examples/security/*.yml`), with HTTP Basic logins through
//! the same cache the keyward server uses ([`LoginCache`]).
//!
//! Each route names the action it needs (`notes:data/read`, ...); roles
//! grant actions directly or through action groups, role mappings give
//! roles to users and backend roles, exactly as in the plugin. The
//! configuration is compiled once into an [`Evaluator`]; a request costs a
//! cache lookup and a bit test.
//!
//! The example starts the service on a free port, sends requests as alice
//! (reader), bob (writer), carol (admin by a direct role) and strangers,
//! and asserts every answer (401 without or with bad credentials, 403
//! without the action, 2xx with it).
//!
//! Usage: `cargo run -p keyward-examples --example rbac_service`

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use keyward_examples::http1;
use rbac_model::settings::RolesMappingResolution;
use rbac_model::{ConfigType, Evaluator, LoginCache, Principal, SecurityConfig, Subject};
use secrecy::SecretString;

/// The service's route table: method, path, the action it needs.
const ROUTES: &[(Method, &str, &str)] = &[
    (Method::GET, "/notes", "notes:data/read"),
    (Method::POST, "/notes", "notes:data/write"),
    (Method::DELETE, "/notes", "notes:data/delete"),
    (Method::DELETE, "/auth/cache", "notes:admin/flush-cache"),
];

/// Reads every OpenSearch Security YAML file present in `dir`.
fn load_security(dir: &Path) -> Result<SecurityConfig, Box<dyn std::error::Error>> {
    let mut config = SecurityConfig::default();
    for ty in ConfigType::ALL {
        let path = dir.join(ty.file_name());
        if path.exists() {
            config.load_yaml(ty, &std::fs::read_to_string(&path)?)?;
        }
    }
    Ok(config)
}

struct Service {
    config: SecurityConfig,
    evaluator: Evaluator,
    logins: LoginCache,
    notes: Mutex<Vec<String>>,
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Reply {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r
}

impl Service {
    fn new(config: SecurityConfig) -> Service {
        let actions: Vec<&str> = ROUTES.iter().map(|(_, _, a)| *a).collect();
        // Compiled once: a configuration change compiles a new evaluator.
        let evaluator = Evaluator::compile(&config, RolesMappingResolution::MappingOnly, &actions);
        Service {
            config,
            evaluator,
            logins: LoginCache::new(Duration::from_secs(60)),
            notes: Mutex::new(Vec::new()),
        }
    }

    /// HTTP Basic → principal, through the login cache.
    async fn authenticate(&self, req: &Request<Incoming>) -> Option<Principal> {
        let header = req
            .headers()
            .get(http::header::AUTHORIZATION)?
            .to_str()
            .ok()?;
        let encoded = header.strip_prefix("Basic ")?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (user, password) = decoded.split_once(':')?;
        let generation = self.logins.generation();
        self.logins
            .login(
                user,
                SecretString::from(password.to_string()),
                &self.config,
                generation,
            )
            .await
    }

    async fn handle(&self, req: Request<Incoming>, peer: IpAddr) -> Reply {
        let Some((_, _, action)) = ROUTES
            .iter()
            .find(|(m, p, _)| m == req.method() && *p == req.uri().path())
        else {
            return reply(StatusCode::NOT_FOUND, "no such route\n");
        };
        let Some(principal) = self.authenticate(&req).await else {
            let mut r = reply(StatusCode::UNAUTHORIZED, "authentication required\n");
            r.headers_mut().insert(
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static("Basic realm=\"notes\""),
            );
            return r;
        };
        let roles = self.evaluator.map_roles(&Subject {
            name: principal.name(),
            backend_roles: principal.backend_roles(),
            direct_roles: principal.direct_roles(),
            address: Some(peer),
        });
        if !self.evaluator.allows(&roles, action) {
            return reply(
                StatusCode::FORBIDDEN,
                format!(
                    "no permissions for [{action}] and User [name={}]\n",
                    principal.name()
                ),
            );
        }
        match (req.method().clone(), req.uri().path()) {
            (Method::GET, _) => {
                let notes = self.notes.lock().expect("notes").join("\n");
                reply(StatusCode::OK, notes)
            }
            (Method::POST, _) => {
                let body = req.into_body().collect().await.map(|b| b.to_bytes());
                let Ok(body) = body else {
                    return reply(StatusCode::BAD_REQUEST, "unreadable body\n");
                };
                let note = String::from_utf8_lossy(&body).into_owned();
                self.notes.lock().expect("notes").push(note);
                reply(StatusCode::CREATED, "")
            }
            (Method::DELETE, "/notes") => {
                self.notes.lock().expect("notes").clear();
                reply(StatusCode::NO_CONTENT, "")
            }
            _ => {
                self.logins.flush();
                reply(StatusCode::OK, "cache flushed\n")
            }
        }
    }
}

async fn serve(listener: tokio::net::TcpListener, service: Arc<Service>) {
    loop {
        let Ok((tcp, peer)) = listener.accept().await else {
            continue;
        };
        let service = service.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let service = service.clone();
                async move { Ok::<_, Infallible>(service.handle(req, peer.ip()).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), svc)
                .await;
        });
    }
}

fn basic(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: &str,
) -> Result<(u16, String), Box<dyn std::error::Error>> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
    let answer = http1(tcp, method, path, &headers, body).await?;
    Ok((answer.status, answer.body))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("security");
    let service = Arc::new(Service::new(load_security(&dir)?));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(serve(listener, service.clone()));

    let alice = basic("alice", "Alice-Reads-2024!");
    let bob = basic("bob", "Bob-Writes-2024!");
    let carol = basic("carol", "Carol-Admin-2024!");
    let wrong = basic("alice", "not-her-password");
    let stranger = basic("mallory", "Alice-Reads-2024!");

    let checks: Vec<(&str, &str, Option<&str>, &str, u16)> = vec![
        ("GET", "/notes", None, "", 401),
        ("GET", "/notes", Some(&wrong), "", 401),
        ("GET", "/notes", Some(&stranger), "", 401),
        ("GET", "/notes", Some(&alice), "", 200),
        ("POST", "/notes", Some(&alice), "alice was here", 403),
        ("POST", "/notes", Some(&bob), "first note", 201),
        // notes:data/delete reaches bob through the notes_write action group.
        ("DELETE", "/notes", Some(&bob), "", 204),
        ("POST", "/notes", Some(&bob), "second note", 201),
        ("GET", "/notes", Some(&alice), "", 200),
        ("DELETE", "/auth/cache", Some(&bob), "", 403),
        // carol holds notes:* through a security role given directly.
        ("DELETE", "/auth/cache", Some(&carol), "", 200),
        ("GET", "/nowhere", Some(&carol), "", 404),
    ];
    for (method, path, auth, body, want) in &checks {
        let (status, text) = call(addr, method, path, *auth, body).await?;
        assert_eq!(
            status, *want,
            "{method} {path}: expected {want}, got {status}: {text}"
        );
    }
    let (_, notes) = call(addr, "GET", "/notes", Some(&alice), "").await?;
    assert_eq!(notes, "second note");
    // Repeated logins were served from the cache: bcrypt ran once per
    // distinct (user, password) until carol flushed it.
    let (hits, misses) = service.logins.counts();
    assert!(hits >= 4, "cache hits: {hits}");
    assert!(misses <= 7, "cache misses: {misses}");

    server.abort();
    println!(
        "rbac_service: ok: {} requests authorized from the YAML files ({hits} cached logins, {misses} bcrypt checks)",
        checks.len() + 1
    );
    Ok(())
}
