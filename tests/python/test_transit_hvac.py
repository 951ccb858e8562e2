"""hvac (the Vault client, pinned in requirements.txt) drives every transit
endpoint it has against the real keyward binary, plus the mount endpoints and
the endpoints hvac reaches through its generic read/write."""

import base64

import hvac
import pytest
from hvac import exceptions

MOUNT = "hvac-transit"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def client(keyward):
    c = hvac.Client(url=keyward.url, token=keyward.root_token, verify=keyward.ca)
    c.sys.enable_secrets_engine("transit", path=MOUNT)
    yield c
    c.sys.disable_secrets_engine(MOUNT)


@pytest.fixture()
def transit(client):
    return client.secrets.transit


def test_mounts(client, keyward):
    mounts = client.sys.list_mounted_secrets_engines()
    assert mounts["data"][f"{MOUNT}/"]["type"] == "transit"
    assert mounts["transit/"]["type"] == "transit", "dev mode mounts transit/"
    with pytest.raises(exceptions.InvalidRequest, match="path is already in use at hvac-transit/"):
        client.sys.enable_secrets_engine("transit", path=MOUNT)
    with pytest.raises(exceptions.InvalidRequest, match="plugin not found in the catalog: kv"):
        client.sys.enable_secrets_engine("kv", path="some-kv")
    # A mount of its own: keys in one are not in the other, and unmounting
    # deletes them.
    client.sys.enable_secrets_engine("transit", path="hvac-other")
    client.secrets.transit.create_key("only-here", mount_point="hvac-other")
    with pytest.raises(exceptions.InvalidPath):
        client.secrets.transit.read_key("only-here", mount_point=MOUNT)
    client.sys.disable_secrets_engine("hvac-other")
    client.sys.enable_secrets_engine("transit", path="hvac-other")
    with pytest.raises(exceptions.InvalidPath):
        client.secrets.transit.read_key("only-here", mount_point="hvac-other")
    client.sys.disable_secrets_engine("hvac-other")


def test_key_lifecycle(transit):
    created = transit.create_key("life", exportable=True, auto_rotate_period="1h", mount_point=MOUNT)
    assert created["data"]["auto_rotate_period"] == 3600
    assert created["data"]["exportable"] is True
    key = transit.read_key("life", mount_point=MOUNT)["data"]
    assert key["type"] == "aes256-gcm96"
    assert key["latest_version"] == 1
    assert key["min_decryption_version"] == 1 and key["min_encryption_version"] == 0
    assert list(key["keys"]) == ["1"]
    assert key["supports_encryption"] and not key["supports_signing"]
    assert "life" in transit.list_keys(mount_point=MOUNT)["data"]["keys"]

    for _ in range(3):
        transit.rotate_key("life", mount_point=MOUNT)
    assert transit.read_key("life", mount_point=MOUNT)["data"]["latest_version"] == 4

    updated = transit.update_key_configuration(
        "life", min_decryption_version=2, min_encryption_version=3, mount_point=MOUNT
    )["data"]
    assert sorted(updated["keys"]) == ["2", "3", "4"]
    with pytest.raises(exceptions.InvalidRequest, match="latest key version is 4"):
        transit.update_key_configuration("life", min_decryption_version=9, mount_point=MOUNT)

    trimmed = transit.trim_key("life", min_version=2, mount_point=MOUNT)["data"]
    assert trimmed["min_available_version"] == 2
    with pytest.raises(exceptions.InvalidRequest, match="should not be less then min available version"):
        transit.update_key_configuration("life", min_decryption_version=1, mount_point=MOUNT)

    exported = transit.export_key("life", key_type="encryption-key", mount_point=MOUNT)["data"]
    assert sorted(exported["keys"]) == ["2", "3", "4"]
    latest = transit.export_key("life", key_type="hmac-key", version="latest", mount_point=MOUNT)["data"]
    assert list(latest["keys"]) == ["4"]

    with pytest.raises(exceptions.InvalidRequest, match="deletion is not allowed for this key"):
        transit.delete_key("life", mount_point=MOUNT)
    transit.update_key_configuration("life", deletion_allowed=True, mount_point=MOUNT)
    assert transit.delete_key("life", mount_point=MOUNT).status_code == 204
    with pytest.raises(exceptions.InvalidPath):
        transit.read_key("life", mount_point=MOUNT)


def test_encrypt_decrypt_rewrap_and_upsert(transit):
    plaintext = b64(b"hi itsame hvac")
    # Encrypting with a missing key creates it (upsert).
    ct = transit.encrypt_data("upserted", plaintext, mount_point=MOUNT)["data"]
    assert ct["key_version"] == 1 and ct["ciphertext"].startswith("vault:v1:")
    assert transit.read_key("upserted", mount_point=MOUNT)["data"]["derived"] is False
    assert transit.decrypt_data("upserted", ct["ciphertext"], mount_point=MOUNT)["data"]["plaintext"] == plaintext

    transit.rotate_key("upserted", mount_point=MOUNT)
    rewrapped = transit.rewrap_data("upserted", ct["ciphertext"], mount_point=MOUNT)["data"]
    assert rewrapped["ciphertext"].startswith("vault:v2:") and rewrapped["key_version"] == 2
    assert rewrapped["ciphertext"] != ct["ciphertext"]
    assert transit.decrypt_data("upserted", rewrapped["ciphertext"], mount_point=MOUNT)["data"]["plaintext"] == plaintext

    # A context makes the upserted key derived; then the context is required.
    context = b64(b"ctx")
    transit.encrypt_data("upserted-derived", plaintext, context=context, mount_point=MOUNT)
    assert transit.read_key("upserted-derived", mount_point=MOUNT)["data"]["derived"] is True
    with pytest.raises(exceptions.InvalidRequest, match="missing 'context' for key derivation"):
        transit.encrypt_data("upserted-derived", plaintext, mount_point=MOUNT)

    # Associated data.
    aad = b64(b"header")
    with_aad = transit.encrypt_data("upserted", plaintext, associated_data=aad, mount_point=MOUNT)["data"]["ciphertext"]
    assert transit.decrypt_data("upserted", with_aad, associated_data=aad, mount_point=MOUNT)["data"]["plaintext"] == plaintext
    with pytest.raises(exceptions.InvalidRequest, match="cipher: message authentication failed"):
        transit.decrypt_data("upserted", with_aad, mount_point=MOUNT)

    # Errors.
    with pytest.raises(exceptions.InvalidRequest, match="invalid ciphertext: no prefix"):
        transit.decrypt_data("upserted", "garbage", mount_point=MOUNT)
    with pytest.raises(exceptions.InvalidRequest, match="encryption key not found"):
        transit.decrypt_data("no-such-key", ct["ciphertext"], mount_point=MOUNT)
    with pytest.raises(exceptions.InvalidRequest, match="illegal base64 data at input byte 0"):
        transit.encrypt_data("upserted", "%%%", mount_point=MOUNT)


def test_batches(transit):
    batch = [{"plaintext": b64(f"item {i}".encode()), "reference": f"ref-{i}"} for i in range(50)]
    results = transit.encrypt_data("batches", batch_input=batch, mount_point=MOUNT)["data"]["batch_results"]
    assert [r["reference"] for r in results] == [f"ref-{i}" for i in range(50)]
    decrypted = transit.decrypt_data(
        "batches",
        batch_input=[{"ciphertext": r["ciphertext"], "reference": r["reference"]} for r in results],
        mount_point=MOUNT,
    )["data"]["batch_results"]
    assert [d["plaintext"] for d in decrypted] == [b["plaintext"] for b in batch]
    rewrapped = transit.rewrap_data(
        "batches", ciphertext=None, batch_input=[{"ciphertext": r["ciphertext"]} for r in results[:3]], mount_point=MOUNT
    )["data"]["batch_results"]
    assert len(rewrapped) == 3 and all(r["key_version"] == 1 for r in rewrapped)
    # One bad item: 400 with the results (hvac raises InvalidRequest).
    with pytest.raises(exceptions.InvalidRequest):
        transit.encrypt_data(
            "batches", batch_input=[{"plaintext": "eA=="}, {"plaintext": "%%"}], mount_point=MOUNT
        )


def test_datakeys_random_hash_hmac_verify(transit):
    transit.create_key("tools", mount_point=MOUNT)
    plain = transit.generate_data_key("tools", key_type="plaintext", bits=256, mount_point=MOUNT)["data"]
    assert len(base64.b64decode(plain["plaintext"])) == 32
    assert transit.decrypt_data("tools", plain["ciphertext"], mount_point=MOUNT)["data"]["plaintext"] == plain["plaintext"]
    wrapped = transit.generate_data_key("tools", key_type="wrapped", bits=512, mount_point=MOUNT)["data"]
    assert "plaintext" not in wrapped and wrapped["ciphertext"].startswith("vault:v1:")

    one = transit.generate_random_bytes(n_bytes=48, mount_point=MOUNT)["data"]["random_bytes"]
    two = transit.generate_random_bytes(n_bytes=48, mount_point=MOUNT)["data"]["random_bytes"]
    assert len(base64.b64decode(one)) == 48 and one != two
    hexed = transit.generate_random_bytes(n_bytes=16, output_format="hex", mount_point=MOUNT)["data"]["random_bytes"]
    assert len(hexed) == 32 and int(hexed, 16) >= 0

    fox = b64(b"the quick brown fox")
    summed = transit.hash_data(fox, algorithm="sha2-256", output_format="hex", mount_point=MOUNT)["data"]["sum"]
    assert summed == "9ecb36561341d18eb65484e833efea61edc74b84cf5e6ae1b81c63533e25fc8f"

    mac = transit.generate_hmac("tools", fox, algorithm="sha2-512", mount_point=MOUNT)["data"]["hmac"]
    assert mac.startswith("vault:v1:")
    ok = transit.verify_signed_data("tools", fox, hmac=mac, hash_algorithm="sha2-512", mount_point=MOUNT)
    assert ok["data"]["valid"] is True
    # hvac sends `name` in the body: Vault warns that the URL's value wins.
    assert any("replaced the value" in w for w in ok["warnings"])
    bad = transit.verify_signed_data("tools", b64(b"other"), hmac=mac, hash_algorithm="sha2-512", mount_point=MOUNT)
    assert bad["data"]["valid"] is False
    # hvac refuses this one client-side; the server's answer, raw:
    with pytest.raises(exceptions.InvalidRequest, match="missing one of 'signature', 'hmac' or 'cmac'"):
        transit._adapter.post(f"/v1/{MOUNT}/verify/tools", json={"input": fox})


def test_backup_and_restore(transit):
    transit.create_key("backed", exportable=True, allow_plaintext_backup=True, mount_point=MOUNT)
    ct = transit.encrypt_data("backed", b64(b"keep me"), mount_point=MOUNT)["data"]["ciphertext"]
    backup = transit.backup_key("backed", mount_point=MOUNT)["data"]["backup"]
    assert transit.read_key("backed", mount_point=MOUNT)["data"]["backup_info"]["version"] == 1

    # Vault answers these with 500; keyward with 400 and the same text.
    with pytest.raises(exceptions.InvalidRequest, match="already exists"):
        transit.restore_key(backup, mount_point=MOUNT)
    transit.create_key("no-backup", exportable=True, mount_point=MOUNT)
    with pytest.raises(exceptions.InvalidRequest, match="plaintext backup is disallowed on the policy"):
        transit.backup_key("no-backup", mount_point=MOUNT)

    assert transit.restore_key(backup, name="restored", mount_point=MOUNT).status_code == 204
    restored = transit.read_key("restored", mount_point=MOUNT)["data"]
    assert restored["restore_info"]["version"] == 1
    assert transit.decrypt_data("restored", ct, mount_point=MOUNT)["data"]["plaintext"] == b64(b"keep me")

    transit.rotate_key("backed", mount_point=MOUNT)
    assert transit.restore_key(backup, force=True, mount_point=MOUNT).status_code == 204
    assert transit.read_key("backed", mount_point=MOUNT)["data"]["latest_version"] == 1


def test_generic_endpoints(client):
    assert client.read(f"{MOUNT}/cache-config")["data"] == {"size": 0}
    with pytest.raises(exceptions.InvalidRequest, match="size must be 0 or a value greater or equal to 10"):
        client.write_data(f"{MOUNT}/cache-config", data={"size": 5})
    assert client.write_data(f"{MOUNT}/cache-config", data={"size": 12345})["data"] == {"size": 12345}
    assert client.read(f"{MOUNT}/cache-config")["data"] == {"size": 12345}
    client.write_data(f"{MOUNT}/cache-config", data={"size": 0})

    client.write_data(f"{MOUNT}/config/keys", data={"disable_upsert": True})
    assert client.read(f"{MOUNT}/config/keys")["data"] == {"disable_upsert": True}
    with pytest.raises(exceptions.InvalidRequest, match="encryption key not found"):
        client.secrets.transit.encrypt_data("never-created", b64(b"x"), mount_point=MOUNT)
    client.write_data(f"{MOUNT}/config/keys", data={"disable_upsert": False})

    # Key types hvac's own allow-list does not know yet.
    created = client.write_data(f"{MOUNT}/keys/aes128", data={"type": "aes128-gcm96"})["data"]
    assert created["type"] == "aes128-gcm96"
    hmac_key = client.write_data(f"{MOUNT}/keys/hmac-only", data={"type": "hmac", "key_size": 64})["data"]
    assert hmac_key["key_size"] == 64 and "keys" not in hmac_key
    with pytest.raises(exceptions.InvalidRequest, match="message encryption not supported for key type hmac"):
        client.secrets.transit.encrypt_data("hmac-only", b64(b"x"), mount_point=MOUNT)


def test_permission_denied_without_a_token(keyward):
    anonymous = hvac.Client(url=keyward.url, verify=keyward.ca)
    with pytest.raises(exceptions.Forbidden, match="permission denied"):
        anonymous.secrets.transit.list_keys(mount_point=MOUNT)
