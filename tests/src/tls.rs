//! A raw TLS connection for tests that need to see the certificate the
//! server presented, pick the SNI name, keep one connection open across a
//! reload, or present a client certificate: rustls over a `TcpStream`,
//! HTTP/1.1 keep-alive written and read by hand.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use crate::Reply;

/// One open TLS connection.
pub struct TlsConn {
    stream: StreamOwned<ClientConnection, TcpStream>,
}

/// Who the client is: a certificate chain file and its key file.
pub type Identity<'a> = (&'a Path, &'a Path);

/// A client configuration trusting only the CA certificates in `ca`,
/// presenting `identity` if any, offering HTTP/1.1 by ALPN.
pub fn client_config(ca: &Path, identity: Option<Identity<'_>>) -> Result<ClientConfig, String> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).map_err(|e| e.to_string())? {
        roots
            .add(cert.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    let builder =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots);
    let mut config = match identity {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .map_err(|e| e.to_string())?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| e.to_string())?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| e.to_string())?
        }
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

impl TlsConn {
    /// Connects to `addr`, asking for `server_name` (SNI and the name the
    /// certificate must carry), trusting only the CA certificates in `ca`;
    /// completes the handshake.
    pub fn connect(
        addr: SocketAddr,
        server_name: &str,
        ca: &Path,
        identity: Option<Identity<'_>>,
    ) -> Result<TlsConn, String> {
        let config = Arc::new(client_config(ca, identity)?);
        TlsConn::connect_with(addr, server_name, config)
    }

    /// As [`TlsConn::connect`], with a configuration built once (a benchmark
    /// opening many connections).
    pub fn connect_with(
        addr: SocketAddr,
        server_name: &str,
        config: Arc<ClientConfig>,
    ) -> Result<TlsConn, String> {
        let sock = TcpStream::connect(addr).map_err(|e| e.to_string())?;
        TlsConn::over(sock, server_name, config)
    }

    /// Completes a handshake over a TCP connection the caller opened (from
    /// a chosen source address, say).
    pub fn over(
        sock: TcpStream,
        server_name: &str,
        config: Arc<ClientConfig>,
    ) -> Result<TlsConn, String> {
        let name = ServerName::try_from(server_name.to_string()).map_err(|e| e.to_string())?;
        let conn = ClientConnection::new(config, name).map_err(|e| e.to_string())?;
        sock.set_read_timeout(Some(Duration::from_secs(60)))
            .map_err(|e| e.to_string())?;
        let mut stream = StreamOwned::new(conn, sock);
        while stream.conn.is_handshaking() {
            stream
                .conn
                .complete_io(&mut stream.sock)
                .map_err(|e| e.to_string())?;
        }
        Ok(TlsConn { stream })
    }

    /// The leaf certificate the server presented (DER).
    pub fn peer_leaf(&self) -> Vec<u8> {
        self.stream
            .conn
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| c.as_ref().to_vec())
            .expect("the server presented a certificate")
    }

    /// Sends one HTTP/1.1 request on this connection and reads the answer
    /// (the connection stays open).
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<Reply, String> {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\n");
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("Content-Length: 0\r\n\r\n");
        self.send(head.as_bytes())?;
        self.read_reply()
    }

    /// Writes raw bytes on the connection (a partial request, a slow body).
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream.write_all(bytes).map_err(|e| e.to_string())?;
        self.stream.flush().map_err(|e| e.to_string())
    }

    /// Reads one HTTP/1.1 answer (headers and a `Content-Length` body).
    pub fn read_reply(&mut self) -> Result<Reply, String> {
        let mut buf = Vec::new();
        let mut byte = [0u8; 1];
        while !buf.ends_with(b"\r\n\r\n") {
            let n = self.stream.read(&mut byte).map_err(|e| e.to_string())?;
            if n == 0 {
                return Err(format!(
                    "connection closed after {} bytes of the answer",
                    buf.len()
                ));
            }
            buf.push(byte[0]);
        }
        let text = String::from_utf8_lossy(&buf).to_string();
        let mut lines = text.split("\r\n");
        let status: u16 = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("no status line in {text:?}"))?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; length];
        self.stream
            .read_exact(&mut body)
            .map_err(|e| e.to_string())?;
        Ok(Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&body).to_string(),
        })
    }
}
