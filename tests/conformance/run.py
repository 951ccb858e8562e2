#!/usr/bin/env python3
"""Differential conformance: the same requests to OpenBao and to keyward.

Starts `bao server -dev -dev-tls` and `keyward server --dev` on free loopback
ports, replays the cases of vault_cases.json against both, normalises what
legitimately differs (request ids, times, random bytes, ciphertexts,
signatures, tokens), and compares status and body.

    run.py --keyward BIN --bao BIN [--report FILE] [--check]

--report writes the markdown table of docs/compatibility/vault-conformance.md;
--check exits 1 when a case differs that vault_known_differences.json does
not list (with its reason), or when a listed case no longer differs.
"""

import argparse
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
# requests lets these override a session's own `verify`; trust exactly the servers' CAs.
for _var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
    os.environ.pop(_var, None)
ROOT_TOKEN = "conformance-root"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, name, url, ca, token, proc, tmp):
        self.name, self.url, self.ca, self.token, self.proc, self.tmp = name, url, ca, token, proc, tmp
        self.session = requests.Session()
        self.session.verify = ca

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def announce(self, method, path, token, size):
        """Announces a body of `size` bytes and reads the answer without sending it."""
        import http.client
        import ssl
        ctx = ssl.create_default_context(cafile=self.ca)
        host, port = self.url.split("//")[1].split(":")
        conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=30)
        conn.putrequest(method, path)
        if token:
            conn.putheader("X-Vault-Token", token)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(size))
        conn.endheaders()
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        try:
            return resp.status, json.loads(data) if data else None
        except ValueError:
            return resp.status, data.decode(errors="replace")

    def send(self, method, path, token=None, body=None, raw=None, headers=None):
        h = dict(headers or {})
        if token:
            h["X-Vault-Token"] = token
        data = raw.encode() if isinstance(raw, str) else raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        r = self.session.request(method, self.url + path, data=data, headers=h, timeout=60)
        try:
            parsed = r.json() if r.content else None
        except ValueError:
            parsed = r.text
        return r.status_code, parsed


def wait_healthy(url, ca, proc, log):
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {Path(log).read_text()[-2000:]}")
        try:
            if ca is None or Path(ca).exists():
                r = requests.get(url + "/v1/sys/health", verify=ca, timeout=2)
                if r.status_code == 200:
                    return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not become healthy: {Path(log).read_text()[-2000:]}")


def start_keyward(binary):
    tmp = tempfile.mkdtemp(prefix="kw-conf-")
    port = free_port()
    log = os.path.join(tmp, "keyward.log")
    proc = subprocess.Popen(
        [binary, "server", "--dev", "--data-dir", os.path.join(tmp, "data"), "--listen", f"127.0.0.1:{port}",
         "--dev-root-token", ROOT_TOKEN, "--dev-admin-password", "Conformance-Admin-1"],
        stdout=open(log, "w"), stderr=subprocess.STDOUT)
    ca = os.path.join(tmp, "data", "tls", "ca.pem")
    wait_healthy(f"https://127.0.0.1:{port}", ca, proc, log)
    return Server("keyward", f"https://127.0.0.1:{port}", ca, ROOT_TOKEN, proc, tmp)


def start_bao(binary):
    tmp = tempfile.mkdtemp(prefix="bao-conf-")
    port = free_port()
    log = os.path.join(tmp, "bao.log")
    proc = subprocess.Popen(
        [binary, "server", "-dev", "-dev-tls", f"-dev-tls-cert-dir={tmp}", f"-dev-root-token-id={ROOT_TOKEN}",
         f"-dev-listen-address=127.0.0.1:{port}"],
        stdout=open(log, "w"), stderr=subprocess.STDOUT, env={**os.environ, "HOME": tmp})
    ca = os.path.join(tmp, "vault-ca.pem")
    wait_healthy(f"https://127.0.0.1:{port}", ca, proc, log)
    server = Server("openbao", f"https://127.0.0.1:{port}", ca, ROOT_TOKEN, proc, tmp)
    status, body = server.send("POST", "/v1/sys/mounts/transit", token=ROOT_TOKEN, body={"type": "transit"})
    if status != 204:
        raise RuntimeError(f"cannot mount transit on OpenBao: {status} {body}")
    return server


# --- normalisation: only what legitimately differs between two servers ---

VOLATILE_KEYS = {
    "request_id", "server_time_utc", "cluster_name", "cluster_id", "version", "creation_time",
    "accessor", "client_token", "id", "issue_time", "expire_time", "entity_id", "uuid",
    "random_bytes", "backup", "public_key", "wrapping_key", "time", "modified",
}
# Fields only OpenBao has (its additions to Vault); keyward follows Vault and
# does not build them (docs/compatibility/vault.md lists them).
OPENBAO_ONLY_KEYS = {"soft_deleted"}
CIPHER_RE = re.compile(r"^vault:v(\d+):[A-Za-z0-9+/=_-]+$")


def normalise(value, key=None):
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in VOLATILE_KEYS and v not in (None, "", [], {}):
                out[k] = f"<{k}>"
            elif key == "keys" and isinstance(v, int):
                out[k] = "<unix time>"
            else:
                out[k] = normalise(v, k)
        return out
    if isinstance(value, list):
        return [normalise(v, key) for v in value]
    if isinstance(value, str):
        m = CIPHER_RE.match(value)
        if m:
            return f"vault:v{m.group(1)}:<bytes>"
        if key in ("plaintext", "sum", "hmac", "signature", "ciphertext") and value:
            return f"<{key}>" if key != "plaintext" else value
    return value


def diff_paths(a, b, where=""):
    """Every JSON pointer where two answers differ, with both values."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += diff_paths(a.get(k, "<absent>"), b.get(k, "<absent>"), f"{where}/{k}")
        return out
    return [] if a == b else [(where or "/", a, b)]


def drop_keys(value, keys):
    if isinstance(value, dict):
        return {k: drop_keys(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [drop_keys(v, keys) for v in value]
    return value


def blank(body, pointer):
    """Replaces the value at a JSON pointer with a placeholder (case-specific randomness)."""
    parts = pointer.strip("/").split("/")
    target = body
    for part in parts[:-1]:
        target = target.get(part) if isinstance(target, dict) else None
    if isinstance(target, dict) and parts[-1] in target:
        target[parts[-1]] = f"<{parts[-1]}>"


def substitute(obj, variables):
    if isinstance(obj, str):
        for k, v in variables.items():
            obj = obj.replace("{" + k + "}", v)
        return obj
    if isinstance(obj, dict):
        return {k: substitute(v, variables) for k, v in obj.items()}
    if isinstance(obj, list):
        return [substitute(v, variables) for v in obj]
    return obj


def run_case(server, case, variables):
    for step in case.get("setup", []):
        st, body = server.send(step["method"], substitute(step["path"], variables), token=server.token,
                               body=substitute(step.get("body"), variables))
        if st >= 400 and not step.get("may_fail"):
            return ("setup-failed", {"step": step["path"], "status": st, "body": body})
        if "capture" in step and isinstance(body, dict):
            for var, pointer in step["capture"].items():
                v = body
                for part in pointer.strip("/").split("/"):
                    v = v.get(part) if isinstance(v, dict) else None
                variables[var] = str(v)
    token = {"root": server.token, "none": None}.get(case.get("token", "root"), case.get("token"))
    if isinstance(token, str):
        token = substitute(token, variables)
    if "announce_size" in case:
        return server.announce(case["method"], substitute(case["path"], variables), token, case["announce_size"])
    raw = case.get("raw")
    return server.send(case["method"], substitute(case["path"], variables), token=token,
                       body=substitute(case.get("body"), variables), raw=raw, headers=case.get("headers"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keyward", required=True)
    ap.add_argument("--bao", required=True)
    ap.add_argument("--cases", default=str(HERE / "vault_cases.json"))
    ap.add_argument("--known", default=str(HERE / "vault_known_differences.json"))
    ap.add_argument("--report")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()

    cases = json.loads(Path(args.cases).read_text())
    known = json.loads(Path(args.known).read_text())
    servers = [start_bao(args.bao), start_keyward(args.keyward)]
    results = []
    try:
        for case in cases:
            answers = []
            for server in servers:
                variables = {"case": case["name"]}
                status, body = run_case(server, case, variables)
                if server.name == "openbao":
                    body = drop_keys(body, OPENBAO_ONLY_KEYS)
                body = normalise(body)
                for pointer in case.get("volatile", []):
                    blank(body, pointer)
                answers.append((status, body))
            same = answers[0] == answers[1]
            results.append((case, same, answers))
    finally:
        for s in servers:
            s.stop()

    unlisted = [c["name"] for c, same, _ in results if not same and c["name"] not in known]
    stale = [name for name in known if any(c["name"] == name and same for c, same, _ in results)]
    lines = [
        "# Vault conformance: keyward against OpenBao 2.7.2",
        "",
        "Generated by `cargo xtask conformance vault` (tests/conformance/run.py) from",
        "tests/conformance/vault_cases.json. Both servers get the same requests; request ids,",
        "times, random bytes, ciphertexts, signatures and tokens are normalised before comparing;",
        "OpenBao-only fields (`soft_deleted`) are left out of its answers.",
        "",
        f"{sum(1 for _, s, _ in results if s)} of {len(results)} cases answer the same.",
        "",
        "| case | request | result | OpenBao | keyward | why they differ |",
        "|---|---|---|---|---|---|",
    ]

    def cell(answer):
        text = json.dumps(answer[1], sort_keys=True)
        text = text if len(text) <= 160 else text[:157] + "..."
        return f"`{answer[0]}` `{text}`".replace("|", "\\|")

    for case, same, answers in results:
        why = known.get(case["name"], "") if not same else ""
        lines.append(f"| {case['name']} | `{case['method']} {case['path']}` | {'same' if same else 'differs'} | "
                     f"{cell(answers[0])} | {cell(answers[1])} | {why} |")
    report = "\n".join(lines) + "\n"
    if args.report:
        Path(args.report).write_text(report)
    for case, same, answers in results:
        mark = "same   " if same else "DIFFERS"
        print(f"{mark} {case['name']}")
        if not same:
            a, b = answers[0][1], answers[1][1]
            if answers[0][0] == answers[1][0] and isinstance(a, dict) and isinstance(b, dict):
                for where, va, vb in diff_paths(a, b):
                    print(f"    at {where}: openbao {json.dumps(va)[:200]} | keyward {json.dumps(vb)[:200]}")
                continue
            print(f"    openbao: {answers[0][0]} {json.dumps(a, sort_keys=True)[:300]}")
            print(f"    keyward: {answers[1][0]} {json.dumps(b, sort_keys=True)[:300]}")
    print(f"\n{sum(1 for _, s, _ in results if s)}/{len(results)} the same; "
          f"{len(unlisted)} unlisted differences; {len(stale)} listed cases now the same")
    if args.check and (unlisted or stale):
        for name in unlisted:
            print(f"unlisted difference: {name}", file=sys.stderr)
        for name in stale:
            print(f"listed as a difference but now the same: {name}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
