"""python-arango against keyward's encryption-at-rest endpoint."""

import hashlib

import pytest
from arango import ArangoClient
from arango.exceptions import ServerEncryptionError


def folder_hashes(kw):
    return sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in (kw.data_dir / "keyfolder").iterdir())


def test_encryption_returns_the_key_hashes_with_a_superuser_token(keyward):
    client = ArangoClient(hosts=keyward.url, verify_override=keyward.ca)
    db = client.db("_system", superuser_token=keyward.root_token)
    result = db.encryption()
    assert sorted(k["sha256"] for k in result["encryption-keys"]) == folder_hashes(keyward)


def test_encryption_with_basic_auth_as_admin(keyward):
    client = ArangoClient(hosts=keyward.url, verify_override=keyward.ca)
    db = client.db("_system", username="admin", password=keyward.admin_password)
    result = db.encryption()
    assert [k["sha256"] for k in result["encryption-keys"]] == folder_hashes(keyward)


def test_a_bad_token_fails_with_error_code_11(keyward):
    client = ArangoClient(hosts=keyward.url, verify_override=keyward.ca)
    db = client.db("_system", superuser_token="bad_token")
    with pytest.raises(ServerEncryptionError) as err:
        db.encryption()
    assert err.value.error_code == 11
    assert err.value.http_code == 401


def test_rotation_picks_up_a_new_key_file(keyward):
    new_key = keyward.data_dir / "keyfolder" / "python.key"
    new_key.write_bytes(bytes(range(32)))
    try:
        db = ArangoClient(hosts=keyward.url, verify_override=keyward.ca).db("_system", superuser_token=keyward.root_token)
        hashes = sorted(k["sha256"] for k in db.encryption()["encryption-keys"])
        assert hashlib.sha256(bytes(range(32))).hexdigest() in hashes
        assert hashes == folder_hashes(keyward)
    finally:
        new_key.unlink()
        db.encryption()
