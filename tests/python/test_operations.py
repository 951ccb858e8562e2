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
