"""TLS with the real clients against the real binary: python-arango's `tls()`
and `reload_tls()`, opensearch-py's `get_certificates`,
`get_all_certificates`, `reload_http_certificates`,
`reload_transport_certificates` and `get_sslinfo`, and curl and Python's
`ssl` module for the raw requests, the certificate served per SNI name and
the transport listener.

Every certificate is made here with `cryptography` (not keyward's rcgen), and
every value compared with is computed from the files on disk with `hashlib`
and `cryptography`, independently of keyward.
"""

import datetime as dt
import hashlib
import ipaddress
import json
import re
import socket
import ssl
import subprocess
import tempfile
from pathlib import Path

import pytest
import requests
from arango import ArangoClient
from arango.exceptions import ServerTLSError, ServerTLSReloadError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from opensearchpy import OpenSearch
from opensearchpy.exceptions import AuthorizationException, RequestError

from conftest import ADMIN_PASSWORD, ROOT_TOKEN, free_port, start

SNI_NAME = "db.example.test"
# The dev mode admin_dn.
ADMIN_DN = "CN=admin,OU=keyward,O=keyward"


def rdn(*pairs):
    return x509.RelativeDistinguishedName([x509.NameAttribute(oid, value) for oid, value in pairs])


# DER order (RFC 2253 prints it reversed). An escaped comma and a
# multi-valued RDN, so the DN renderings are put to work.
NODE = x509.Name([
    rdn((NameOID.ORGANIZATION_NAME, "keyward, py tests")),
    rdn((NameOID.ORGANIZATIONAL_UNIT_NAME, "nodes"), (NameOID.LOCALITY_NAME, "Berlin")),
    rdn((NameOID.COMMON_NAME, "localhost")),
])
NODE_SANS = [
    x509.DNSName("localhost"),
    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    x509.IPAddress(ipaddress.ip_address("::1")),
    x509.UniformResourceIdentifier("spiffe://keyward.test/node"),
    x509.RFC822Name("node@keyward.test"),
]
TRANSPORT = x509.Name([
    rdn((NameOID.ORGANIZATION_NAME, "keyward py tests")),
    rdn((NameOID.ORGANIZATIONAL_UNIT_NAME, "nodes")),
    rdn((NameOID.COMMON_NAME, "node-1")),
])
TRANSPORT_DN = "CN=node-1,OU=nodes,O=keyward py tests"
ADMIN = x509.Name([
    rdn((NameOID.ORGANIZATION_NAME, "keyward")),
    rdn((NameOID.ORGANIZATIONAL_UNIT_NAME, "keyward")),
    rdn((NameOID.COMMON_NAME, "admin")),
])
LOCAL_SANS = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]


def now():
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


class Ca:
    """A CA whose key stays in memory; issues leaves as PEM."""

    def __init__(self, cn):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([rdn((NameOID.ORGANIZATION_NAME, "keyward py tests")), rdn((NameOID.COMMON_NAME, cn))])
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(self.name)
            .issuer_name(self.name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now() - dt.timedelta(days=1))
            .not_valid_after(now() + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                              data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                              encipher_only=False, decipher_only=False),
                critical=True,
            )
            .sign(self.key, hashes.SHA256())
        )

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(self, subject, sans=(), not_before=None, not_after=None):
        """(certificate PEM, key PEM) of a leaf usable by servers and clients."""
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now() - dt.timedelta(hours=1))
            .not_valid_after(not_after or now() + dt.timedelta(days=365))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        return cert.public_bytes(serialization.Encoding.PEM), key_pem


# --- independent renderings --------------------------------------------------

def pem_blocks(data: bytes, label_test):
    """PEM blocks as ArangoDB cuts them: BEGIN line through the END line's
    closing dashes, no trailing newline."""
    text = data.decode()
    return [m.group(0) for m in re.finditer(r"-----BEGIN ([A-Z ]+)-----.*?-----END \1-----", text, re.S)
            if label_test(m.group(1))]


def summary_of(data: bytes) -> dict:
    """ArangoDB's file summary, computed with hashlib."""
    if not data:
        return {}
    sha = hashlib.sha256(data).hexdigest()
    out = {"sha256": sha, "SHA256": sha, "certificates": pem_blocks(data, lambda l: l == "CERTIFICATE")}
    keys = pem_blocks(data, lambda l: "PRIVATE KEY" in l)
    if keys:
        h = hashlib.sha256(keys[0].encode()).hexdigest()
        out["privateKeySha256"] = h
        out["privateKeySHA256"] = h
    return out


def java_san(cert: x509.Certificate) -> str:
    """The plugin's sorted `[[type, value], ...]` rendering."""
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ""
    pairs = set()
    for n in names:
        if isinstance(n, x509.RFC822Name):
            pairs.add((1, n.value))
        elif isinstance(n, x509.DNSName):
            pairs.add((2, n.value))
        elif isinstance(n, x509.UniformResourceIdentifier):
            pairs.add((6, n.value))
        elif isinstance(n, x509.IPAddress):
            ip = n.value
            # Java's InetAddress.getHostAddress: IPv6 in full, no zero compression.
            text = str(ip) if ip.version == 4 else ":".join(f"{int(g, 16):x}" for g in ip.exploded.split(":"))
            pairs.add((7, text))
        else:
            raise AssertionError(f"no rendering for {n}")
    return "[" + ", ".join(f"[{t}, {v}]" for t, v in sorted(pairs)) + "]"


JAVA_SPECIAL = set(',+=\n<>#;\\"')


def java_name(name: x509.Name) -> str:
    """`X500Name.toString()` (sslinfo's lists): RDNs reversed, `, ` between
    them, ` + ` inside one, values with a special character quoted."""

    def value(v):
        if any(c in JAVA_SPECIAL for c in v) or v != v.strip():
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return v

    short = {NameOID.COMMON_NAME: "CN", NameOID.ORGANIZATION_NAME: "O", NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
             NameOID.LOCALITY_NAME: "L", NameOID.COUNTRY_NAME: "C"}
    return ", ".join(" + ".join(f"{short[a.oid]}={value(a.value)}" for a in r) for r in reversed(list(name.rdns)))


def iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def load(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


def details(pem: bytes) -> dict:
    cert = load(pem)
    return {"issuer_dn": cert.issuer.rfc4514_string(), "subject_dn": cert.subject.rfc4514_string(),
            "san": java_san(cert), "not_before": iso(cert.not_valid_before_utc),
            "not_after": iso(cert.not_valid_after_utc)}


def served_cert(port, ca, server_name="localhost", identity=None) -> x509.Certificate:
    """The leaf a new TLS connection is served, asking for `server_name`."""
    ctx = ssl.create_default_context(cafile=ca)
    if identity:
        ctx.load_cert_chain(*identity)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        with ctx.wrap_socket(sock, server_hostname=server_name) as tls:
            return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))


# --- the server -----------------------------------------------------------

class Pki:
    def __init__(self, dir: Path):
        self.dir = dir
        self.ca = Ca("keyward py test CA")
        self.ca_file = dir / "ca.pem"
        self.ca_file.write_bytes(self.ca.pem())
        self.keyfile = dir / "server.pem"  # ArangoDB's --ssl.keyfile: chain + key in one file
        self.sni_file = dir / "db.pem"
        self.transport_file = dir / "transport.pem"
        self.write(self.keyfile, self.ca.issue(NODE, NODE_SANS))
        self.write(self.sni_file, self.ca.issue(
            x509.Name([rdn((NameOID.ORGANIZATION_NAME, "keyward py tests")), rdn((NameOID.COMMON_NAME, SNI_NAME))]),
            [x509.DNSName(SNI_NAME)]))
        self.write(self.transport_file, self.ca.issue(TRANSPORT, LOCAL_SANS))
        self.admin = self.identity("admin", ADMIN)

    @staticmethod
    def write(path: Path, issued):
        cert, key = issued
        path.write_bytes(cert + key)

    def identity(self, name, subject, ca=None):
        cert, key = (ca or self.ca).issue(subject)
        (self.dir / f"{name}.pem").write_bytes(cert)
        (self.dir / f"{name}-key.pem").write_bytes(key)
        return str(self.dir / f"{name}.pem"), str(self.dir / f"{name}-key.pem")


@pytest.fixture(scope="module")
def tls_server():
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pki = Pki(tmp)
        cluster_port = free_port()
        config = tmp / "keyward.toml"
        config.write_text(f'[security]\nnodes_dn = ["{TRANSPORT_DN}"]\n')
        kw = start(tmp / "data", extra=[
            "--config", str(config),
            "--tls-cert", str(pki.keyfile), "--tls-key", str(pki.keyfile),
            "--tls-client-ca", str(pki.ca_file),
            "--tls-sni", f"{SNI_NAME}={pki.sni_file}",
            "--cluster-listen", f"127.0.0.1:{cluster_port}",
            "--cluster-tls-cert", str(pki.transport_file), "--cluster-tls-key", str(pki.transport_file),
        ], ca=str(pki.ca_file))
        kw.pki = pki
        kw.cluster_port = cluster_port
        yield kw
        assert kw.stop() == 0


def arango(kw, **auth):
    auth = auth or {"superuser_token": ROOT_TOKEN}
    return ArangoClient(hosts=kw.url, verify_override=kw.ca).db("_system", **auth)


def opensearch(kw, **auth) -> OpenSearch:
    return OpenSearch(hosts=[{"host": "127.0.0.1", "port": kw.port}], use_ssl=True, verify_certs=True,
                      ca_certs=kw.ca, ssl_show_warn=False, **auth)


def cert_client(kw) -> OpenSearch:
    return opensearch(kw, client_cert=kw.pki.admin[0], client_key=kw.pki.admin[1])


# --- python-arango ---------------------------------------------------------

def test_python_arango_tls_summary_is_the_files(tls_server):
    kw, pki = tls_server, tls_server.pki
    result = arango(kw).tls()
    assert result == {
        "keyfile": summary_of(pki.keyfile.read_bytes()),
        "clientCA": summary_of(pki.ca_file.read_bytes()),
        "SNI": {SNI_NAME: summary_of(pki.sni_file.read_bytes())},
    }
    assert list(result["keyfile"]) == ["sha256", "SHA256", "certificates", "privateKeySha256", "privateKeySHA256"]
    assert "privateKeySha256" not in result["clientCA"]
    # Any authenticated user reads it; python-arango with Basic auth.
    assert arango(kw, username="admin", password=ADMIN_PASSWORD).tls() == result
    with pytest.raises(ServerTLSError) as err:
        arango(kw, superuser_token="bad_token").tls()
    assert err.value.error_code == 11 and err.value.http_code == 401


def test_python_arango_reload_tls_serves_the_new_key_file(tls_server):
    kw, pki = tls_server, tls_server.pki
    db = arango(kw)
    old = served_cert(kw.port, kw.ca)
    assert old.subject == NODE
    Pki.write(pki.keyfile, pki.ca.issue(NODE, NODE_SANS))
    result = db.reload_tls()
    assert result["keyfile"] == summary_of(pki.keyfile.read_bytes())
    assert db.tls() == result
    new = served_cert(kw.port, kw.ca)
    assert new.public_bytes(serialization.Encoding.PEM) == load(pki.keyfile.read_bytes()).public_bytes(
        serialization.Encoding.PEM)
    assert new.serial_number != old.serial_number


def test_python_arango_a_broken_key_file_is_refused_and_the_old_certificate_stays(tls_server):
    kw, pki = tls_server, tls_server.pki
    db = arango(kw)
    good = pki.keyfile.read_bytes()
    before = db.tls()
    served = served_cert(kw.port, kw.ca)
    try:
        # The certificate of another key.
        other_cert, _ = pki.ca.issue(NODE, NODE_SANS)
        pki.keyfile.write_bytes(other_cert + good[good.index(b"-----BEGIN PRIVATE KEY"):])
        with pytest.raises(ServerTLSReloadError) as err:
            db.reload_tls()
        assert err.value.http_code == 400 and err.value.error_code == 34
        assert err.value.error_message.startswith("Could not reload TLS context from files.")
        assert str(pki.keyfile) in err.value.error_message
        # Not PEM at all.
        pki.keyfile.write_bytes(b"garbage")
        with pytest.raises(ServerTLSReloadError) as err:
            db.reload_tls()
        assert err.value.error_code == 34
        assert db.tls() == before, "nothing changed"
        assert served_cert(kw.port, kw.ca).serial_number == served.serial_number
    finally:
        pki.keyfile.write_bytes(good)


def test_python_arango_reload_tls_needs_a_superuser(tls_server):
    with pytest.raises(ServerTLSReloadError) as err:
        arango(tls_server, superuser_token="bad_token").reload_tls()
    assert err.value.error_code == 11 and err.value.http_code == 401


# --- SNI, curl ---------------------------------------------------------------

def test_sni_picks_the_certificate_of_the_name_asked_for(tls_server):
    kw, pki = tls_server, tls_server.pki
    assert served_cert(kw.port, kw.ca, SNI_NAME).subject == load(pki.sni_file.read_bytes()).subject
    assert served_cert(kw.port, kw.ca, "localhost").subject == NODE
    # curl verifies the name it asked for against what it was served.
    out = subprocess.run(
        ["curl", "-sS", "--fail", "--cacert", kw.ca, "--resolve", f"{SNI_NAME}:{kw.port}:127.0.0.1",
         "-H", f"Authorization: bearer {ROOT_TOKEN}", f"https://{SNI_NAME}:{kw.port}/_admin/server/tls"],
        capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert '"SNI":{"db.example.test":' in out.stdout


def test_curl_sslinfo_with_the_admin_certificate(tls_server):
    kw, pki = tls_server, tls_server.pki
    out = subprocess.run(
        ["curl", "-sS", "--fail", "--cacert", kw.ca, "--cert", pki.admin[0], "--key", pki.admin[1],
         f"{kw.url}/_opendistro/_security/sslinfo?show_dn=true"],
        capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["principal"] == ADMIN_DN
    # OpenSSL (curl) completes the client chain from its trust store: the
    # peer sent the leaf and the CA.
    assert info["peer_certificates"] == "2"
    assert info["peer_certificates_list"] == [java_name(ADMIN), java_name(pki.ca.name)]
    assert info["local_certificates_list"] == [java_name(load(pki.keyfile.read_bytes()).subject)]


# --- opensearch-py -----------------------------------------------------------

def test_opensearch_py_get_certificates(tls_server):
    kw, pki = tls_server, tls_server.pki
    certs = cert_client(kw).security.get_certificates()
    # The node's own leaves: the default key file's, then each SNI name's.
    assert certs == {
        "http_certificates_list": [details(pki.keyfile.read_bytes()), details(pki.sni_file.read_bytes())],
        "transport_certificates_list": [details(pki.transport_file.read_bytes())],
    }
    http = certs["http_certificates_list"][0]
    # Java keeps a multi-valued RDN in its encoded (DER-sorted) order, as
    # cryptography does; `openssl -nameopt RFC2253` would print L=Berlin+OU=nodes.
    assert http["subject_dn"] == "CN=localhost,OU=nodes+L=Berlin,O=keyward\\, py tests"
    assert http["san"] == ("[[1, node@keyward.test], [2, localhost], [6, spiffe://keyward.test/node], "
                           "[7, 0:0:0:0:0:0:0:1], [7, 127.0.0.1]]")
    # The REST admin only: the admin user (all_access) is refused.
    with pytest.raises(AuthorizationException):
        opensearch(kw, http_auth=("admin", ADMIN_PASSWORD)).security.get_certificates()


def test_opensearch_py_get_all_certificates_has_not_before_right(tls_server):
    kw, pki = tls_server, tls_server.pki
    answer = cert_client(kw).security.get_all_certificates()
    assert answer["_nodes"] == {"total": 1, "successful": 1, "failed": 0}
    node = next(iter(answer["nodes"].values()))
    leaf = load(pki.keyfile.read_bytes())
    http = node["certificates"]["http"]
    # The trusted CA (no key), then the node's leaves (default, then SNI).
    assert [(c["subject_dn"], c["has_private_key"]) for c in http] == [
        (pki.ca.name.rfc4514_string(), False),
        (leaf.subject.rfc4514_string(), True),
        (load(pki.sni_file.read_bytes()).subject.rfc4514_string(), True),
    ]
    for entry, cert in zip(http, [pki.ca.cert, leaf, load(pki.sni_file.read_bytes())]):
        assert entry["format"] == "pem" and entry["alias"] is None
        assert entry["serial_number"] == str(cert.serial_number)
        assert entry["issuer_dn"] == cert.issuer.rfc4514_string()
        assert entry["san"] == java_san(cert)
        assert entry["not_before"] == iso(cert.not_valid_before_utc), "not_before is notBefore (the plugin: notAfter)"
        assert entry["not_after"] == iso(cert.not_valid_after_utc)


def test_opensearch_py_reload_http_certificates(tls_server):
    kw, pki = tls_server, tls_server.pki
    client = cert_client(kw)
    good = pki.keyfile.read_bytes()
    assert client.security.reload_http_certificates() == {"message": "updated http certs"}

    # Another subject: the plugin's message, nothing changes.
    served = served_cert(kw.port, kw.ca)
    other = x509.Name([rdn((NameOID.ORGANIZATION_NAME, "keyward py tests")), rdn((NameOID.COMMON_NAME, "other"))])
    Pki.write(pki.keyfile, pki.ca.issue(other, NODE_SANS))
    try:
        with pytest.raises(RequestError) as err:
            client.security.reload_http_certificates()
        assert err.value.status_code == 400
        # Every key-material certificate of the layer (the SNI leaf too), sorted.
        sni = load(pki.sni_file.read_bytes()).subject.rfc4514_string()
        current = ", ".join(sorted([served.subject.rfc4514_string(), sni]))
        new = ", ".join(sorted([other.rfc4514_string(), sni]))
        reason = (f"New certificates do not have valid Subject DNs. Current Subject DNs [{current}]"
                  f" new Subject DNs [{new}]")
        assert err.value.info["error"]["caused_by"]["reason"] == reason
        assert err.value.info["error"]["root_cause"][0]["reason"] == f"java.security.cert.CertificateException: {reason}"
        assert served_cert(kw.port, kw.ca).serial_number == served.serial_number

        # Same names but another SAN list.
        Pki.write(pki.keyfile, pki.ca.issue(NODE, LOCAL_SANS))
        with pytest.raises(RequestError) as err:
            client.security.reload_http_certificates()
        assert err.value.info["error"]["caused_by"]["reason"].startswith("New certificates do not have valid SANs.")

        # Expired.
        Pki.write(pki.keyfile, pki.ca.issue(NODE, NODE_SANS, now() - dt.timedelta(days=2),
                                            now() - dt.timedelta(days=1)))
        with pytest.raises(RequestError) as err:
            client.security.reload_http_certificates()
        assert err.value.info["error"]["reason"].startswith(
            "java.security.cert.CertificateExpiredException: NotAfter: ")
        assert served_cert(kw.port, kw.ca).serial_number == served.serial_number
    finally:
        pki.keyfile.write_bytes(good)

    # The same names, a new certificate: taken.
    Pki.write(pki.keyfile, pki.ca.issue(NODE, NODE_SANS))
    assert client.security.reload_http_certificates() == {"message": "updated http certs"}
    assert served_cert(kw.port, kw.ca).serial_number == load(pki.keyfile.read_bytes()).serial_number


def test_opensearch_py_reload_transport_certificates(tls_server):
    kw, pki = tls_server, tls_server.pki
    identity = pki.identity("node", TRANSPORT)
    before = served_cert(kw.cluster_port, kw.ca, identity=identity)
    assert before.subject == TRANSPORT
    Pki.write(pki.transport_file, pki.ca.issue(TRANSPORT, LOCAL_SANS))
    assert cert_client(kw).security.reload_transport_certificates() == {"message": "updated transport certs"}
    after = served_cert(kw.cluster_port, kw.ca, identity=identity)
    assert after.serial_number == load(pki.transport_file.read_bytes()).serial_number != before.serial_number
    assert cert_client(kw).security.get_certificates()["transport_certificates_list"] == [
        details(pki.transport_file.read_bytes())]


def test_opensearch_py_get_sslinfo(tls_server):
    kw, pki = tls_server, tls_server.pki
    info = cert_client(kw).security.get_sslinfo(params={"show_dn": "true"})
    assert info["principal"] == ADMIN_DN
    # Python's ssl is OpenSSL too: the leaf and the CA are sent.
    assert info["peer_certificates_list"][0] == java_name(ADMIN)
    assert info["peer_certificates"] == str(len(info["peer_certificates_list"]))
    assert info["local_certificates_list"] == [java_name(load(pki.keyfile.read_bytes()).subject)]
    assert info["ssl_protocol"] in ("TLSv1.3", "TLSv1.2")
    assert info["ssl_cipher"].startswith("TLS_")
    basic = opensearch(kw, http_auth=("admin", ADMIN_PASSWORD)).security.get_sslinfo()
    assert basic["principal"] is None and basic["peer_certificates"] == "0"


# --- the transport listener --------------------------------------------------

def test_the_transport_listener_admits_listed_node_dns_only(tls_server):
    kw, pki = tls_server, tls_server.pki
    url = f"https://127.0.0.1:{kw.cluster_port}/_keyward/cluster/health"
    node = requests.get(url, verify=kw.ca, cert=pki.identity("peer", TRANSPORT), timeout=30)
    assert node.status_code == 200 and node.json() == {"status": "UP", "peer": TRANSPORT_DN}
    stranger = requests.get(url, verify=kw.ca, cert=pki.admin, timeout=30)
    assert stranger.status_code == 403
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(url, verify=kw.ca, timeout=30)
