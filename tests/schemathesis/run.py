#!/usr/bin/env python3
"""`cargo xtask schemathesis`: schema-driven testing of every operation of
docs/openapi.json against a dev server.

Two runs share one server: the Vault family (`/v1/...`) with the root token,
every other family with the admin's Basic credentials (a request carrying
both would be authenticated by the token alone, which the other families do
not take). Checks: no 5xx, responses in the documented status codes, content
types, headers and schemas, authentication enforced, methods not in the
document refused. Not checked: `positive_data_acceptance` (ST202), because
the document describes the routes, not their request bodies: a body the
handler needs and schemathesis did not send is refused with 400 and the
family's message, which is the behaviour we want.

Operations left out, each because it ends the run's own access, not because
it fails (the stateful phase feeds `lookup-self`'s `id` and `accessor` into
them):
- the token revocations (`revoke`, `revoke-self`, `revoke-accessor`)
  would revoke the root token the run uses; they are tested
  in tests/python/test_vault_tokens_acl.py;
- `POST /v1/sys/storage/raft/snapshot` would replace the whole store if
  schemathesis ever produced a valid snapshot (it is tested in
  tests/tests/snapshot.rs);
- creating a rate-limit quota (`POST`/`PUT /v1/sys/quotas/rate-limit/{name}`)
  with the rate schemathesis picks would throttle the rest of the run to
  429s (tested in tests/python/test_vault_quotas.py and the conformance
  cases).
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import ssl
import urllib.request

ROOT_TOKEN = "kw-schemathesis-root"
ADMIN_PASSWORD = "Schemathesis-Admin-1"
EXCLUDED = [
    *(f"{method} /v1/auth/token/{op}" for method in ("POST", "PUT")
      for op in ("revoke", "revoke-self", "revoke-accessor")),
    "POST /v1/sys/storage/raft/snapshot",
    *(f"{method} /v1/sys/quotas/rate-limit/{{name}}" for method in ("POST", "PUT")),
]
CHECKS_EXCLUDED = "positive_data_acceptance"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_keyward(binary, tmp):
    port = free_port()
    data = os.path.join(tmp, "data")
    log = open(os.path.join(tmp, "keyward.log"), "w")
    proc = subprocess.Popen(
        [binary, "server", "--dev", "--data-dir", data, "--listen", f"127.0.0.1:{port}",
         "--dev-root-token", ROOT_TOKEN, "--dev-admin-password", ADMIN_PASSWORD,
         "--log-format", "json"],
        stdout=log, stderr=subprocess.STDOUT)
    ca = os.path.join(data, "tls", "ca.pem")
    ctx = None
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"keyward exited with {proc.returncode}; see {log.name}")
        try:
            if ctx is None and os.path.exists(ca):
                ctx = ssl.create_default_context(cafile=ca)
            if ctx is not None:
                urllib.request.urlopen(f"https://127.0.0.1:{port}/v1/sys/health", context=ctx, timeout=2)
                return proc, f"https://127.0.0.1:{port}", ca
        except Exception:
            pass
        time.sleep(0.2)
    proc.kill()
    sys.exit("keyward did not become healthy within 60 s")


def run_st(st, schema, url, ca, auth_args, selection, args, report_dir, name):
    cmd = [st, "run", schema, "--url", url, "--tls-verify", ca,
           "--max-examples", str(args.max_examples), "--max-time", str(args.max_time),
           "--workers", "2", "--exclude-checks", CHECKS_EXCLUDED,
           "--seed", str(args.seed), "--no-color",
           "--report", "junit", "--report-junit-path", os.path.join(report_dir, f"{name}.xml")]
    cmd += auth_args + selection
    for op in EXCLUDED:
        cmd += ["--exclude-name", op]
    print(f"schemathesis: the {name} operations", flush=True)
    return subprocess.run(cmd).returncode


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--keyward", required=True)
    p.add_argument("--st", required=True)
    p.add_argument("--schema", default="docs/openapi.json")
    p.add_argument("--max-examples", type=int, default=10)
    p.add_argument("--max-time", type=int, default=120, help="seconds per family group")
    p.add_argument("--seed", type=int, default=20261127)
    p.add_argument("--report-dir", default="target/schemathesis")
    args = p.parse_args()

    schema = os.path.abspath(args.schema)
    tmp = tempfile.mkdtemp(prefix="kw-st-")
    os.makedirs(args.report_dir, exist_ok=True)

    proc, url, ca = start_keyward(args.keyward, tmp)
    try:
        vault = run_st(args.st, schema, url, ca, ["--header", f"X-Vault-Token: {ROOT_TOKEN}"],
                       ["--include-path-regex", "^/v1/"], args, args.report_dir, "vault")
        others = run_st(args.st, schema, url, ca, ["--auth", f"admin:{ADMIN_PASSWORD}"],
                        ["--exclude-path-regex", "^/v1/"], args, args.report_dir, "others")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    # Every answer the server gave, from its request log: none may be a 5xx.
    server_errors = 0
    with open(os.path.join(tmp, "keyward.log")) as log:
        for line in log:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            status = event.get("fields", {}).get("status")
            if event.get("target") == "keyward::request" and isinstance(status, int) and status >= 500:
                server_errors += 1
                print("schemathesis: 5xx:", line.strip())
    print(f"schemathesis: 5xx answers in the server log: {server_errors}")
    if vault or others or server_errors:
        print(f"schemathesis: failures (log and schema in {tmp}, reports in {args.report_dir})")
        sys.exit(1)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
