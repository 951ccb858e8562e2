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
