"""Operating keyward with the clients operators already use: hvac takes a
snapshot of the whole store and restores it into the running server."""

import hvac
import pytest
from hvac import exceptions


@pytest.fixture(scope="module")
def client(keyward):
    return hvac.Client(url=keyward.url, token=keyward.root_token, verify=keyward.ca)


def test_hvac_snapshot_round_trip(client):
    transit = client.secrets.transit
    transit.create_key("ops-kept")
    ciphertext = transit.encrypt_data("ops-kept", plaintext="b3Bz")["data"]["ciphertext"]

    response = client.sys.take_raft_snapshot()
    assert response.status_code == 200
    snapshot = response.content
    assert snapshot.startswith(b"KEYWARD-SNAPSHOT\n") and len(snapshot) > 1000
    assert b"b3Bz" not in snapshot

    transit.create_key("ops-later")
    transit.rotate_key("ops-kept")
    assert transit.read_key("ops-kept")["data"]["latest_version"] == 2

    assert client.sys.restore_raft_snapshot(snapshot).status_code == 204
    assert transit.read_key("ops-kept")["data"]["latest_version"] == 1
    with pytest.raises(exceptions.InvalidPath):
        transit.read_key("ops-later")
    assert transit.decrypt_data("ops-kept", ciphertext=ciphertext)["data"]["plaintext"] == "b3Bz"

    damaged = bytearray(snapshot)
    damaged[len(damaged) // 2] ^= 1
    with pytest.raises(exceptions.InvalidRequest, match="checksum"):
        client.sys.restore_raft_snapshot(bytes(damaged))


def test_snapshot_needs_sudo(client, keyward):
    client.sys.create_or_update_policy(
        name="snap-read", policy='path "sys/storage/raft/snapshot" { capabilities = ["read"] }')
    client.sys.create_or_update_policy(
        name="snap-sudo", policy='path "sys/storage/raft/snapshot" { capabilities = ["read", "sudo"] }')
    without = hvac.Client(url=keyward.url, verify=keyward.ca,
                          token=client.auth.token.create(policies=["snap-read"])["auth"]["client_token"])
    with pytest.raises(exceptions.Forbidden):
        without.sys.take_raft_snapshot()
    with_sudo = hvac.Client(url=keyward.url, verify=keyward.ca,
                            token=client.auth.token.create(policies=["snap-sudo"])["auth"]["client_token"])
    assert with_sudo.sys.take_raft_snapshot().content.startswith(b"KEYWARD-SNAPSHOT\n")


def test_metrics_in_prometheus_text_and_vault_json(client, keyward):
    from prometheus_client.parser import text_string_to_metric_families

    client.secrets.transit.create_key("metrics-key", key_type="chacha20-poly1305")
    for _ in range(3):
        client.secrets.transit.encrypt_data("metrics-key", plaintext="bWV0cmljcw==")
    bad = hvac.Client(url=keyward.url, verify=keyward.ca, token="kw.no-such-token")
    with pytest.raises(exceptions.Forbidden):
        bad.secrets.transit.list_keys()

    text = client.adapter.get("/v1/sys/metrics", params={"format": "prometheus"}, raise_exception=True)
    text = text.text if hasattr(text, "text") else text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    ops = {(s.labels["operation"], s.labels["key_type"]): s.value
           for s in families["keyward_transit_operations"].samples}
    assert ops[("encrypt", "chacha20-poly1305")] == 3
    auth = {(s.labels["method"], s.labels["outcome"]): s.value for s in families["keyward_auth_attempts"].samples}
    assert auth[("token", "failure")] >= 1 and auth[("token", "success")] >= 4
    requests_family = families["keyward_http_request_duration_seconds"]
    assert requests_family.type == "histogram"
    counts = {(s.labels["family"], s.labels["status"]): s.value
              for s in requests_family.samples if s.name.endswith("_count")}
    assert counts[("vault", "200")] >= 3 and counts[("vault", "403")] >= 1
    assert families["keyward_storage_write_duration_seconds"].type == "summary"
    assert families["keyward_vault_tokens"].samples[0].value >= 1

    data = client.adapter.get("/v1/sys/metrics")
    assert set(data) == {"Timestamp", "Gauges", "Points", "Counters", "Samples"}
    assert data["Timestamp"].endswith(" +0000 UTC")
    counters = {(c["Name"], c["Labels"].get("operation"), c["Labels"].get("key_type")): c["Count"]
                for c in data["Counters"]}
    assert counters[("keyward.transit.operations_total", "encrypt", "chacha20-poly1305")] == 3

    with pytest.raises(exceptions.InvalidRequest, match='metric response format "xml" unknown'):
        client.adapter.get("/v1/sys/metrics", params={"format": "xml"})
    with pytest.raises(exceptions.Forbidden):
        hvac.Client(url=keyward.url, verify=keyward.ca).adapter.get("/v1/sys/metrics")


def scrape(keyward, token=None):
    """Every sample of `?format=prometheus`, parsed by prometheus-client, by
    (sample name, labels)."""
    from prometheus_client.parser import text_string_to_metric_families

    r = keyward.session().get(keyward.url + "/v1/sys/metrics", params={"format": "prometheus"},
                              headers={"X-Vault-Token": token or keyward.root_token})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    out = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def test_every_counter_of_the_issue_moves_when_its_operation_happens(client, keyward):
    """Audit queue, TLS reloads, rotations of every kind, transit operations
    per key type, authentication outcomes and cache hits: each counter is
    read before and after the operation it counts."""
    import shutil
    import time

    s = keyward.session()
    admin = ("admin", keyward.admin_password)
    before = scrape(keyward)

    # Transit operations per key type, and a transit key rotation.
    client.secrets.transit.create_key("metrics-ed", key_type="ed25519")
    client.secrets.transit.sign_data("metrics-ed", hash_input="bWV0cmljcw==")
    client.secrets.transit.sign_data("metrics-ed", hash_input="bWV0cmljcw==")
    client.secrets.transit.rotate_key("metrics-ed")
    # AES secret key rotation and encryption-at-rest rotation.
    assert s.post(keyward.url + "/rest/secrets/1.0/keys/rotate", auth=admin).status_code == 200
    assert s.post(keyward.url + "/_admin/server/encryption", auth=admin).status_code == 200
    # Basic logins: one bcrypt check, then a cache hit; one failure.
    for _ in range(2):
        assert s.get(keyward.url + "/_plugins/_security/authinfo", auth=admin).status_code == 200
    assert s.get(keyward.url + "/_plugins/_security/authinfo", auth=("admin", "wrong")).status_code == 401
    # A TLS reload that works, and one refused (a key that does not match).
    tls = keyward.data_dir / "tls"
    assert s.post(keyward.url + "/_admin/server/tls", auth=admin).status_code == 200
    shutil.copy(tls / "server-key.pem", tls / "server-key.pem.kept")
    shutil.copy(tls / "admin-key.pem", tls / "server-key.pem")
    try:
        assert s.post(keyward.url + "/_admin/server/tls", auth=admin).status_code == 400
    finally:
        shutil.move(tls / "server-key.pem.kept", tls / "server-key.pem")

    after = scrape(keyward)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    ops = "keyward_transit_operations_total"
    assert moved(ops, operation="sign", key_type="ed25519") == 2
    assert moved(ops, operation="keys", key_type="ed25519") >= 1
    rot = "keyward_rotations_total"
    assert moved(rot, kind="transit_key") == 1
    assert moved(rot, kind="secrets_aes_key") == 1
    assert moved(rot, kind="encryption_at_rest") == 1
    assert value(after, rot, kind="transit_key_auto") == 0, "listed before any auto-rotation"
    auth = "keyward_auth_attempts_total"
    assert moved(auth, method="basic", outcome="success") >= 2 + 4
    assert moved(auth, method="basic", outcome="failure") == 1
    assert moved(auth, method="token", outcome="success") >= 5
    assert moved("keyward_auth_cache_hits_total") >= 1
    assert value(after, "keyward_auth_cache_entries") >= 1
    assert value(after, "keyward_transit_keys_cached") >= 1
    assert ("keyward_transit_cache_hits_total", ()) in after
    tls_total = "keyward_tls_reloads_total"
    assert moved(tls_total, listener="http", outcome="success") == 1
    assert moved(tls_total, listener="http", outcome="failure") == 1
    # The audit queue: dev mode writes an audit log; events are written
    # by the writer thread after the answer, so give it a moment.
    assert value(after, "keyward_audit_log_enabled") == 1
    assert value(after, "keyward_audit_queue_capacity") > 0
    assert ("keyward_audit_queue_length", ()) in after
    assert ("keyward_audit_events_dropped_total", ()) in after
    deadline = time.time() + 10
    while moved("keyward_audit_events_written_total") < 1 and time.time() < deadline:
        time.sleep(0.1)
        after = scrape(keyward)
    assert moved("keyward_audit_events_written_total") >= 1


def test_dropped_audit_events_are_counted_in_sys_metrics(tmp_path):
    """A one-event audit queue flooded by requests on several threads drops
    events; /v1/sys/metrics counts them (and the written ones)."""
    from concurrent.futures import ThreadPoolExecutor

    from conftest import start

    config = tmp_path / "keyward.toml"
    config.write_text("[audit]\nqueue_capacity = 1\n")
    kw = start(tmp_path / "data", extra=["--config", str(config)])
    try:
        # Every request is a failed login (an unknown token: no bcrypt to
        # wait for), an audit event each.
        def burst(_):
            s = kw.session()
            for _ in range(50):
                s.get(kw.url + "/_plugins/_security/authinfo", headers={"X-Vault-Token": "kw.unknown"})
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(burst, range(8)))
        samples = scrape(kw)
        assert value(samples, "keyward_audit_queue_capacity") == 1
        dropped = value(samples, "keyward_audit_events_dropped_total")
        written = value(samples, "keyward_audit_events_written_total")
        assert dropped >= 1, samples
        assert dropped + written <= 400 + 50
    finally:
        assert kw.stop() == 0
