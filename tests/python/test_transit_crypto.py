"""Independent checks of keyward's transit crypto with Python's `cryptography`,
`hmac` and `hashlib`: we decrypt keyward's ciphertexts with exported keys,
keyward decrypts ours, and HMACs and hashes match byte for byte.

Vault's layout: `vault:v<N>:` + base64(nonce (12) || ciphertext || tag (16));
derived keys are HKDF-SHA256(key, salt=empty, info=context); convergent
encryption takes 32 more HKDF bytes as an HMAC key and uses
HMAC-SHA256(that key, plaintext)[:12] as the nonce.
"""

import base64
import hashlib
import hmac
import os

import hvac
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MOUNT = "crypto-checks"
TYPES = {
    "aes128-gcm96": (16, AESGCM),
    "aes256-gcm96": (32, AESGCM),
    "chacha20-poly1305": (32, ChaCha20Poly1305),
}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text)


@pytest.fixture(scope="module")
def client(keyward):
    c = hvac.Client(url=keyward.url, token=keyward.root_token, verify=keyward.ca)
    c.sys.enable_secrets_engine("transit", path=MOUNT)
    yield c
    c.sys.disable_secrets_engine(MOUNT)


def create(client, name, **params):
    params.setdefault("exportable", True)
    resp = client.write_data(f"{MOUNT}/keys/{name}", data=params)
    assert resp["data"]["name"] == name
    return resp["data"]


def export(client, name, kind="encryption-key"):
    keys = client.secrets.transit.export_key(name, key_type=kind, mount_point=MOUNT)["data"]["keys"]
    return {int(v): unb64(k) for v, k in keys.items()}


def split(ciphertext: str):
    prefix, version, payload = ciphertext.split(":", 2)
    assert prefix == "vault"
    raw = unb64(payload)
    return int(version[1:]), raw[:12], raw[12:]


def hkdf(key: bytes, context: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=context).derive(key)


@pytest.mark.parametrize("key_type", sorted(TYPES))
def test_both_directions_with_exported_keys(client, key_type):
    key_len, cipher = TYPES[key_type]
    name = f"plain-{key_type}"
    create(client, name, type=key_type)
    client.secrets.transit.rotate_key(name, mount_point=MOUNT)
    keys = export(client, name)
    assert sorted(keys) == [1, 2]
    assert all(len(k) == key_len for k in keys.values())
    # The encryption key is never the HMAC key.
    assert keys[2] != export(client, name, "hmac-key")[2]

    plaintext = os.urandom(1000)
    aad = b"associated data"
    for version in (1, 2):
        ct = client.write_data(
            f"{MOUNT}/encrypt/{name}",
            data={"plaintext": b64(plaintext), "key_version": version, "associated_data": b64(aad)},
        )["data"]["ciphertext"]
        v, nonce, sealed = split(ct)
        assert v == version
        assert len(sealed) == len(plaintext) + 16
        assert cipher(keys[version]).decrypt(nonce, sealed, aad) == plaintext
        # Without the associated data it does not open.
        with pytest.raises(Exception):
            cipher(keys[version]).decrypt(nonce, sealed, None)

    # Ours, decrypted by keyward.
    nonce = os.urandom(12)
    ours = cipher(keys[1]).encrypt(nonce, b"made in python", None)
    ciphertext = f"vault:v1:{b64(nonce + ours)}"
    got = client.secrets.transit.decrypt_data(name, ciphertext, mount_point=MOUNT)
    assert unb64(got["data"]["plaintext"]) == b"made in python"


@pytest.mark.parametrize("key_type", sorted(TYPES))
def test_derived_keys_use_hkdf_sha256(client, key_type):
    key_len, cipher = TYPES[key_type]
    name = f"derived-{key_type}"
    create(client, name, type=key_type, derived=True)
    base = export(client, name)[1]
    context = b"tenant-42"
    derived = hkdf(base, context, key_len)

    ct = client.secrets.transit.encrypt_data(
        name, b64(b"per tenant"), context=b64(context), mount_point=MOUNT
    )["data"]["ciphertext"]
    _, nonce, sealed = split(ct)
    assert cipher(derived).decrypt(nonce, sealed, None) == b"per tenant"
    with pytest.raises(Exception):
        cipher(hkdf(base, b"tenant-43", key_len)).decrypt(nonce, sealed, None)

    nonce = os.urandom(12)
    ours = f"vault:v1:{b64(nonce + cipher(derived).encrypt(nonce, b'from python', None))}"
    got = client.secrets.transit.decrypt_data(name, ours, context=b64(context), mount_point=MOUNT)
    assert unb64(got["data"]["plaintext"]) == b"from python"


@pytest.mark.parametrize("key_type", sorted(TYPES))
def test_convergent_encryption_is_the_v3_construction(client, key_type):
    key_len, cipher = TYPES[key_type]
    name = f"convergent-{key_type}"
    create(client, name, type=key_type, derived=True, convergent_encryption=True)
    base = export(client, name)[1]
    context = b"customer-7"
    plaintext = b"same input, same output"
    stream = hkdf(base, context, key_len + 32)
    enc_key, nonce_key = stream[:key_len], stream[key_len:]
    nonce = hmac.new(nonce_key, plaintext, hashlib.sha256).digest()[:12]
    expected = f"vault:v1:{b64(nonce + cipher(enc_key).encrypt(nonce, plaintext, None))}"

    for _ in range(2):
        ct = client.secrets.transit.encrypt_data(
            name, b64(plaintext), context=b64(context), mount_point=MOUNT
        )["data"]["ciphertext"]
        assert ct == expected


@pytest.mark.parametrize(
    "algorithm,digest",
    [
        ("sha2-224", hashlib.sha224),
        ("sha2-256", hashlib.sha256),
        ("sha2-384", hashlib.sha384),
        ("sha2-512", hashlib.sha512),
        ("sha3-224", hashlib.sha3_224),
        ("sha3-256", hashlib.sha3_256),
        ("sha3-384", hashlib.sha3_384),
        ("sha3-512", hashlib.sha3_512),
    ],
)
def test_hmacs_and_hashes_match_python(client, algorithm, digest):
    data = b"the quick brown fox"
    for name, params in (("mac-aes", {}), ("mac-hmac", {"type": "hmac", "key_size": 48})):
        # Creating an existing key returns it unchanged, as in Vault.
        create(client, name, **params)
        key = export(client, name, "hmac-key")[1]
        expected = hmac.new(key, data, digest).digest()
        got = client.write_data(
            f"{MOUNT}/hmac/{name}/{algorithm}", data={"input": b64(data)}
        )["data"]["hmac"]
        assert got == f"vault:v1:{b64(expected)}"
        # hvac's allow-list has no SHA-3, so the generic write is used.
        verified = client.write_data(
            f"{MOUNT}/verify/{name}", data={"input": b64(data), "hmac": got, "hash_algorithm": algorithm}
        )
        assert verified["data"]["valid"] is True
    assert len(export(client, "mac-hmac", "hmac-key")[1]) == 48

    hashed = client.write_data(
        f"{MOUNT}/hash/{algorithm}", data={"input": b64(data), "format": "hex"}
    )["data"]["sum"]
    assert hashed == digest(data).hexdigest()


def test_datakeys_decrypt_to_their_plaintext(client):
    create(client, "datakeys")
    key = export(client, "datakeys")[1]
    for bits in (128, 256, 512):
        resp = client.secrets.transit.generate_data_key(
            "datakeys", key_type="plaintext", bits=bits, mount_point=MOUNT
        )["data"]
        plain = unb64(resp["plaintext"])
        assert len(plain) * 8 == bits
        _, nonce, sealed = split(resp["ciphertext"])
        assert AESGCM(key).decrypt(nonce, sealed, None) == plain


def test_batch_items_each_decrypt_with_the_exported_key(client):
    create(client, "batch", type="chacha20-poly1305")
    key = export(client, "batch")[1]
    items = [os.urandom(n) for n in (0, 1, 64, 4096)]
    results = client.secrets.transit.encrypt_data(
        "batch",
        batch_input=[{"plaintext": b64(p), "reference": str(i)} for i, p in enumerate(items)],
        mount_point=MOUNT,
    )["data"]["batch_results"]
    assert [r["reference"] for r in results] == ["0", "1", "2", "3"]
    for plaintext, result in zip(items, results):
        _, nonce, sealed = split(result["ciphertext"])
        assert ChaCha20Poly1305(key).decrypt(nonce, sealed, None) == plaintext
