"""Vault's rate-limit quotas through hvac against the real keyward binary:
the rules hvac writes are the rules enforced, per client address, before
the token is looked at; with the settings' headers, audit and exempt paths;
and they survive a restart. Exact texts and statuses are compared with
OpenBao in tests/conformance (the `quota-*` cases)."""

import http.client
import json
import ssl
import tempfile
import time
from pathlib import Path

import hvac
import pytest
import requests
from hvac import exceptions

from conftest import start


@pytest.fixture(scope="module")
def server(keyward):
    return keyward


def root_of(kw):
    return hvac.Client(url=kw.url, token=kw.root_token, verify=kw.ca)


@pytest.fixture
def root(server):
    client = root_of(server)
    yield client
    # Each test leaves no rule behind, and the default settings.
    for name in (client.sys.list_quotas()["data"]["keys"]
                 if requests.request("LIST", server.url + "/v1/sys/quotas/rate-limit",
                                     headers={"X-Vault-Token": server.root_token},
                                     verify=server.ca).status_code == 200 else []):
        client.sys.delete_quota(name)
    requests.post(server.url + "/v1/sys/quotas/config", verify=server.ca,
                  headers={"X-Vault-Token": server.root_token},
                  json={"rate_limit_exempt_paths": DEFAULT_EXEMPT})


DEFAULT_EXEMPT = [
    "sys/generate-recovery-token/attempt", "sys/generate-recovery-token/update",
    "sys/generate-root/attempt", "sys/generate-root/update", "sys/health",
    "sys/seal-status", "sys/unseal",
]


def get_from(kw, source_ip, path, token=None):
    """A request from another local address (127.0.0.0/8 is all loopback)."""
    ctx = ssl.create_default_context(cafile=kw.ca)
    conn = http.client.HTTPSConnection("127.0.0.1", kw.port, context=ctx,
                                       source_address=(source_ip, 0), timeout=10)
    headers = {"X-Vault-Token": token} if token else {}
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, resp.headers, body  # case-insensitive


def test_quota_crud_through_hvac(root):
    root.sys.enable_secrets_engine("transit", path="quota-crud")
    root.sys.create_or_update_quota(name="crud", rate=12.5, path="quota-crud/encrypt/",
                                    interval="2m", block_interval="1h")
    data = root.sys.read_quota("crud")["data"]
    assert data == {"block_interval": 3600, "inheritable": False, "interval": 120, "name": "crud",
                    "path": "quota-crud/encrypt", "rate": 12.5, "role": "", "type": "rate-limit"}
    root.sys.create_or_update_quota(name="global", rate=100000)
    assert root.sys.read_quota("global")["data"]["inheritable"] is True
    assert root.sys.list_quotas()["data"]["keys"] == ["crud", "global"]
    # A second rule for the same target is refused, naming the first.
    with pytest.raises(exceptions.InvalidRequest, match='similar properties exists under the name "crud"'):
        root.sys.create_or_update_quota(name="again", rate=1, path="/quota-crud/encrypt")
    # A rewrite replaces every field: the path not given is the whole server.
    root.sys.delete_quota("global")
    root.sys.create_or_update_quota(name="crud", rate=3)
    assert root.sys.read_quota("crud")["data"]["path"] == ""
    root.sys.delete_quota("crud")
    with pytest.raises(exceptions.InvalidPath):
        root.sys.read_quota("crud")


def test_bad_rules_are_refused_with_vaults_texts(server, root):
    with pytest.raises(exceptions.InvalidRequest, match="'rate' is invalid"):
        root.sys.create_or_update_quota(name="bad", rate=0)
    with pytest.raises(exceptions.InvalidRequest, match="below 0.5 it rounds to no request"):
        root.sys.create_or_update_quota(name="bad", rate=0.4)
    with pytest.raises(exceptions.InvalidRequest, match='invalid mount path "nowhere/"'):
        root.sys.create_or_update_quota(name="bad", rate=1, path="nowhere")
    with pytest.raises(exceptions.InvalidRequest, match="does not support use with role-based quotas"):
        root.sys.create_or_update_quota(name="bad", rate=1, path="auth/userpass/", role="r")
    with pytest.raises(exceptions.InvalidRequest, match="cannot parse value as 'float64'"):
        root.sys.create_or_update_quota(name="bad", rate="fast")
    assert requests.request("LIST", server.url + "/v1/sys/quotas/rate-limit", verify=server.ca,
                            headers={"X-Vault-Token": server.root_token}).status_code == 404


def test_a_mount_quota_limits_each_client_before_its_token_is_checked(server, root):
    root.sys.enable_secrets_engine("transit", path="quota-limit")
    root.secrets.transit.create_key("k", mount_point="quota-limit")
    root.sys.create_or_update_quota(name="per-client", rate=3, interval="1h", path="quota-limit/")
    for _ in range(3):
        root.secrets.transit.encrypt_data("k", "aGk=", mount_point="quota-limit")
    with pytest.raises(exceptions.RateLimitExceeded) as refused:
        root.secrets.transit.encrypt_data("k", "aGk=", mount_point="quota-limit")
    assert refused.value.errors == ['request path "quota-limit/encrypt/k": rate limit quota exceeded']
    # Without a token too: the quota comes before authentication.
    status, _, body = get_from(server, "127.0.0.1", "/v1/quota-limit/keys/k")
    assert status == 429 and b"rate limit quota exceeded" in body
    # Another address has its own count, and other paths are not limited.
    status, _, body = get_from(server, "127.0.0.2", "/v1/quota-limit/keys/k", server.root_token)
    assert status == 200, body
    # Deleting the rule lifts it at once.
    root.sys.delete_quota("per-client")
    root.secrets.transit.encrypt_data("k", "aGk=", mount_point="quota-limit")


def test_the_most_specific_rule_counts_and_exempt_paths_are_never_counted(server, root):
    root.sys.enable_secrets_engine("transit", path="quota-specific")
    # The rules below must not lock this test out of sys/quotas.
    requests.post(server.url + "/v1/sys/quotas/config", verify=server.ca,
                  headers={"X-Vault-Token": server.root_token},
                  json={"rate_limit_exempt_paths": [*DEFAULT_EXEMPT, "sys/quotas"]}).raise_for_status()
    root.sys.create_or_update_quota(name="whole", rate=1, interval="1h")
    root.sys.create_or_update_quota(name="keys", rate=100000, path="quota-specific/keys/*")
    # Under the prefix rule: the whole-server rule does not count these.
    for _ in range(5):
        status, _, _ = get_from(server, "127.0.0.3", "/v1/quota-specific/keys/a", server.root_token)
        assert status in (200, 404)
    # sys/health is exempt by default.
    for _ in range(5):
        assert get_from(server, "127.0.0.3", "/v1/sys/health")[0] == 200
    # Elsewhere the whole-server rule admits one request per hour.
    assert get_from(server, "127.0.0.3", "/v1/sys/mounts", server.root_token)[0] == 200
    assert get_from(server, "127.0.0.3", "/v1/sys/mounts", server.root_token)[0] == 429
    # An exempt prefix (a trailing * is the same prefix) lifts it.
    requests.post(server.url + "/v1/sys/quotas/config", verify=server.ca,
                  headers={"X-Vault-Token": server.root_token},
                  json={"rate_limit_exempt_paths": ["sys/mou*", "sys/quotas"]}).raise_for_status()
    assert get_from(server, "127.0.0.3", "/v1/sys/mounts", server.root_token)[0] == 200
    assert get_from(server, "127.0.0.3", "/v1/sys/health")[0] == 429


def test_headers_blocking_metrics_and_audit(server, root):
    requests.post(server.url + "/v1/sys/quotas/config", verify=server.ca,
                  headers={"X-Vault-Token": server.root_token},
                  json={"enable_rate_limit_response_headers": True,
                        "enable_rate_limit_audit_logging": True,
                        "rate_limit_exempt_paths": ["sys/quotas", "sys/metrics"]}).raise_for_status()
    config = requests.get(server.url + "/v1/sys/quotas/config", verify=server.ca,
                          headers={"X-Vault-Token": server.root_token}).json()["data"]
    assert config == {"enable_rate_limit_audit_logging": True, "enable_rate_limit_response_headers": True,
                      "rate_limit_exempt_paths": ["sys/quotas", "sys/metrics"]}
    root.sys.create_or_update_quota(name="blocking", rate=2, interval="1s", block_interval="30s",
                                    path="sys/policy")

    def metric():
        text = requests.get(server.url + "/v1/sys/metrics?format=prometheus", verify=server.ca,
                            headers={"X-Vault-Token": server.root_token}).text
        line = next(l for l in text.splitlines() if l.startswith("keyward_rate_limit_refusals_total"))
        return int(float(line.split()[-1]))

    before = metric()
    status, headers, _ = get_from(server, "127.0.0.4", "/v1/sys/policy", server.root_token)
    assert status == 200
    assert (headers["X-Ratelimit-Limit"], headers["X-Ratelimit-Remaining"]) == ("2", "1")
    assert int(headers["X-Ratelimit-Reset"]) <= 1
    get_from(server, "127.0.0.4", "/v1/sys/policy", server.root_token)
    status, headers, body = get_from(server, "127.0.0.4", "/v1/sys/policy", server.root_token)
    assert status == 429 and int(headers["Retry-After"]) in (29, 30)
    # The window is over, the block is not: refused, with only Retry-After.
    time.sleep(1.2)
    status, headers, _ = get_from(server, "127.0.0.4", "/v1/sys/policy", server.root_token)
    assert status == 429
    assert 20 <= int(headers["Retry-After"]) <= 29 and "X-Ratelimit-Limit" not in headers
    assert metric() == before + 2
    # Each refusal is audited as the plugin audits a blocked client (the
    # audit log is written by its own thread: wait for the lines).
    def refusals():
        events = [json.loads(l) for l in (server.data_dir / "audit.log").read_text().splitlines() if l]
        return [e for e in events if e.get("audit_category") == "FAILED_LOGIN"
                and e.get("audit_rest_request_path") == "/v1/sys/policy"
                and e.get("audit_request_remote_address") == "127.0.0.4"]

    deadline = time.time() + 15
    while len(refusals()) < 2 and time.time() < deadline:
        time.sleep(0.1)
    assert len(refusals()) == 2, refusals()


def test_rules_and_settings_survive_a_restart():
    with tempfile.TemporaryDirectory() as tmp:
        kw = start(Path(tmp) / "data")
        client = root_of(kw)
        client.sys.create_or_update_quota(name="kept", rate=1, interval="1h", path="sys/")
        requests.post(kw.url + "/v1/sys/quotas/config", verify=kw.ca,
                      headers={"X-Vault-Token": kw.root_token},
                      json={"enable_rate_limit_response_headers": True,
                            "rate_limit_exempt_paths": ["sys/health", "sys/quotas"]}).raise_for_status()
        assert kw.stop() == 0
        kw = start(Path(tmp) / "data")
        try:
            client = root_of(kw)
            assert client.sys.read_quota("kept")["data"]["path"] == "sys/"
            assert get_from(kw, "127.0.0.5", "/v1/sys/mounts", kw.root_token)[0] == 200
            status, headers, _ = get_from(kw, "127.0.0.5", "/v1/sys/mounts", kw.root_token)
            assert status == 429 and headers["X-Ratelimit-Limit"] == "1"
        finally:
            assert kw.stop() == 0


def test_quota_writes_need_update_as_in_vault(server, root):
    """No existence check on quotas: creating one is an `update`, as OpenBao
    answers (checked by hand against 2.7.2: update-only creates, create-only
    is refused)."""
    root.sys.create_or_update_policy(name="quota-update", policy='path "sys/quotas/*" { capabilities = ["update"] }')
    root.sys.create_or_update_policy(name="quota-create", policy='path "sys/quotas/*" { capabilities = ["create"] }')
    update = hvac.Client(url=server.url, verify=server.ca,
                         token=root.auth.token.create(policies=["quota-update"])["auth"]["client_token"])
    create = hvac.Client(url=server.url, verify=server.ca,
                         token=root.auth.token.create(policies=["quota-create"])["auth"]["client_token"])
    update.sys.create_or_update_quota(name="by-update", rate=100000)
    with pytest.raises(exceptions.Forbidden):
        create.sys.create_or_update_quota(name="by-create", rate=100000, path="sys/")
    assert root.sys.list_quotas()["data"]["keys"] == ["by-update"]
