"""Signing keys and BYOK against the real binary, checked independently.

- hvac drives sign, verify and export for every signing type;
- Python's `cryptography` verifies keyward's signatures with the exported
  public keys (ed25519; ECDSA in asn1 and jws; RSA PSS with each salt rule
  and PKCS#1 v1.5), makes signatures that keyward verifies, and builds BYOK
  import ciphertexts (RSA-OAEP over an ephemeral AES-256 key, then AES-KWP)
  from key material it generated, after which keyward's ciphertexts and
  signatures check out locally with that same material;
- signatures that `cryptography` makes with its own keys (imported into
  keyward as public keys) verify in keyward in every form: ECDSA in ASN.1
  and JWS and prehashed, over SHA-2 and SHA-3; RSA PSS with any salt length
  under `auto`, an exact length or `hash`, PKCS#1 v1.5 and prehashed;
  ed25519 in both marshalings. Changed messages and wrong options are
  `valid: false`.
"""

import base64
import hashlib
import hmac
import os

import hvac
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding

MOUNT = "signing-checks"
MSG = b"the quick brown fox"
HASHES = {"sha2-256": hashes.SHA256(), "sha2-384": hashes.SHA384(), "sha2-512": hashes.SHA512()}
CURVES = {"ecdsa-p256": (ec.SECP256R1(), 32), "ecdsa-p384": (ec.SECP384R1(), 48), "ecdsa-p521": (ec.SECP521R1(), 66)}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text)


def sig_bytes(signature: str, jws=False) -> bytes:
    prefix, version, payload = signature.split(":", 2)
    assert prefix == "vault" and version.startswith("v")
    if jws:
        return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return unb64(payload)


@pytest.fixture(scope="module")
def client(keyward):
    c = hvac.Client(url=keyward.url, token=keyward.root_token, verify=keyward.ca)
    c.sys.enable_secrets_engine("transit", path=MOUNT)
    yield c
    c.sys.disable_secrets_engine(MOUNT)


def transit(client):
    return client.secrets.transit


def public_key(client, name, version=1):
    keys = client.read(f"{MOUNT}/export/public-key/{name}/{version}")["data"]["keys"]
    return keys[str(version)]


def verify(client, name, signature, data=MSG, **options):
    resp = transit(client).verify_signed_data(
        name, hash_input=b64(data), signature=signature, mount_point=MOUNT, **options)
    return resp["data"]["valid"]


@pytest.mark.parametrize("key_type", ["ed25519", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "rsa-2048", "rsa-3072", "rsa-4096"])
def test_hvac_sign_verify_read_export(client, key_type):
    name = f"hvac-{key_type}"
    transit(client).create_key(name, key_type=key_type, exportable=True, mount_point=MOUNT)
    key = transit(client).read_key(name, mount_point=MOUNT)["data"]
    assert key["type"] == key_type and key["supports_signing"] is True
    assert key["supports_encryption"] is key_type.startswith("rsa")
    entry = key["keys"]["1"]
    assert entry["name"] == {"ecdsa-p256": "P-256", "ecdsa-p384": "P-384", "ecdsa-p521": "P-521"}.get(key_type, key_type)
    assert entry["public_key"] and entry["creation_time"]
    signed = transit(client).sign_data(name, hash_input=b64(MSG), mount_point=MOUNT)["data"]
    assert signed["signature"].startswith("vault:v1:") and signed["key_version"] == 1
    assert verify(client, name, signed["signature"]) is True
    assert verify(client, name, signed["signature"], data=b"another message") is False
    exported = transit(client).export_key(name, key_type="signing-key", mount_point=MOUNT)["data"]
    assert exported["type"] == key_type and list(exported["keys"]) == ["1"]
    transit(client).rotate_key(name, mount_point=MOUNT)
    v2 = transit(client).sign_data(name, hash_input=b64(MSG), mount_point=MOUNT)["data"]
    assert v2["key_version"] == 2 and v2["signature"].startswith("vault:v2:")
    assert verify(client, name, signed["signature"]) is True


def test_hvac_ed25519_ignores_rsa_options(client):
    """hvac's own integration test: pss options on an ed25519 key are ignored."""
    transit(client).create_key("hvac-ed-options", key_type="ed25519", mount_point=MOUNT)
    for salt in ["auto", "hash", "-1", "0", "1"]:
        opts = dict(hash_algorithm="sha2-256", signature_algorithm="pss", salt_length=salt)
        sig = transit(client).sign_data("hvac-ed-options", hash_input=b64(MSG), mount_point=MOUNT, **opts)["data"]["signature"]
        assert verify(client, "hvac-ed-options", sig, **opts) is True


def test_ed25519_signatures_verify_in_cryptography(client):
    transit(client).create_key("ed", key_type="ed25519", mount_point=MOUNT)
    raw = unb64(transit(client).read_key("ed", mount_point=MOUNT)["data"]["keys"]["1"]["public_key"])
    pub = ed25519.Ed25519PublicKey.from_public_bytes(raw)
    sig = transit(client).sign_data("ed", hash_input=b64(MSG), mount_point=MOUNT)["data"]["signature"]
    pub.verify(sig_bytes(sig), MSG)
    jws = transit(client).sign_data("ed", hash_input=b64(MSG), marshaling_algorithm="jws", mount_point=MOUNT)["data"]["signature"]
    pub.verify(sig_bytes(jws, jws=True), MSG)
    # Derived keys: the public key of the context comes back and verifies.
    transit(client).create_key("ed-derived", key_type="ed25519", derived=True, mount_point=MOUNT)
    ctx = b64(b"tenant-1")
    signed = transit(client).sign_data("ed-derived", hash_input=b64(MSG), context=ctx, mount_point=MOUNT)["data"]
    derived = ed25519.Ed25519PublicKey.from_public_bytes(unb64(signed["public_key"]))
    derived.verify(sig_bytes(signed["signature"]), MSG)
    read = client.adapter.get(f"/v1/{MOUNT}/keys/ed-derived", params={"context": ctx})["data"]["keys"]["1"]["public_key"]
    assert read == signed["public_key"]


@pytest.mark.parametrize("key_type", list(CURVES))
def test_ecdsa_asn1_and_jws_verify_in_cryptography(client, key_type):
    curve, size = CURVES[key_type]
    name = f"ec-{key_type}"
    transit(client).create_key(name, key_type=key_type, mount_point=MOUNT)
    pub = serialization.load_pem_public_key(public_key(client, name).encode())
    assert isinstance(pub.curve, type(curve))
    for hname, h in HASHES.items():
        sig = transit(client).sign_data(name, hash_input=b64(MSG), hash_algorithm=hname, mount_point=MOUNT)["data"]["signature"]
        pub.verify(sig_bytes(sig), MSG, ec.ECDSA(h))
        jws = transit(client).sign_data(name, hash_input=b64(MSG), hash_algorithm=hname, marshaling_algorithm="jws",
                                        mount_point=MOUNT)["data"]["signature"]
        raw = sig_bytes(jws, jws=True)
        assert len(raw) == 2 * size
        r, s = int.from_bytes(raw[:size], "big"), int.from_bytes(raw[size:], "big")
        pub.verify(encode_dss_signature(r, s), MSG, ec.ECDSA(h))


def test_rsa_pss_salt_rules_and_pkcs1_verify_in_cryptography(client):
    transit(client).create_key("rsa", key_type="rsa-2048", mount_point=MOUNT)
    pub = serialization.load_pem_public_key(public_key(client, "rsa").encode())
    for hname, h in HASHES.items():
        for salt, expected in [("auto", padding.PSS.MAX_LENGTH), ("hash", padding.PSS.DIGEST_LENGTH), ("20", 20)]:
            sig = transit(client).sign_data("rsa", hash_input=b64(MSG), hash_algorithm=hname, salt_length=salt,
                                            mount_point=MOUNT)["data"]["signature"]
            pub.verify(sig_bytes(sig), MSG, padding.PSS(mgf=padding.MGF1(h), salt_length=expected), h)
            # auto verifies every salt length, as Go's.
            assert verify(client, "rsa", sig, hash_algorithm=hname, salt_length="auto") is True
        sig = transit(client).sign_data("rsa", hash_input=b64(MSG), hash_algorithm=hname, signature_algorithm="pkcs1v15",
                                        mount_point=MOUNT)["data"]["signature"]
        pub.verify(sig_bytes(sig), MSG, padding.PKCS1v15(), h)


def wrapping_key(client):
    pem = client.read(f"{MOUNT}/wrapping_key")["data"]["public_key"]
    key = serialization.load_pem_public_key(pem.encode())
    assert key.key_size == 4096
    assert client.read(f"{MOUNT}/wrapping_key")["data"]["public_key"] == pem
    return key


def wrap(wk, material: bytes, h=hashes.SHA256()) -> str:
    """Vault's BYOK ciphertext: RSA-OAEP(ephemeral AES-256 key) || AES-KWP(material)."""
    ephemeral = os.urandom(32)
    wrapped_key = wk.encrypt(ephemeral, padding.OAEP(mgf=padding.MGF1(h), algorithm=h, label=None))
    return b64(wrapped_key + aes_key_wrap_with_padding(ephemeral, material))


def pkcs8(private_key) -> bytes:
    return private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())


def test_byok_symmetric_and_hmac_keys_with_every_hash(client):
    wk = wrapping_key(client)
    for hname, h in [("SHA1", hashes.SHA1()), ("SHA256", hashes.SHA256()), ("sha384", hashes.SHA384()), ("SHA512", hashes.SHA512())]:
        key = os.urandom(32)
        name = f"byok-aes-{hname.lower()}"
        client.write_data(f"{MOUNT}/keys/{name}/import", data={"ciphertext": wrap(wk, key, h), "hash_function": hname})
        read = transit(client).read_key(name, mount_point=MOUNT)["data"]
        assert read["imported_key"] is True and read["imported_key_allow_rotation"] is False
        ct = transit(client).encrypt_data(name, plaintext=b64(MSG), mount_point=MOUNT)["data"]["ciphertext"]
        raw = unb64(ct.split(":", 2)[2])
        assert AESGCM(key).decrypt(raw[:12], raw[12:], None) == MSG
    # import_version adds version 2 from new material.
    key2 = os.urandom(32)
    client.write_data(f"{MOUNT}/keys/byok-aes-sha256/import_version", data={"ciphertext": wrap(wk, key2)})
    ct = transit(client).encrypt_data("byok-aes-sha256", plaintext=b64(MSG), mount_point=MOUNT)["data"]["ciphertext"]
    assert ct.startswith("vault:v2:")
    raw = unb64(ct.split(":", 2)[2])
    assert AESGCM(key2).decrypt(raw[:12], raw[12:], None) == MSG
    # HMAC keys: the imported bytes are the HMAC key.
    mac_key = os.urandom(48)
    client.write_data(f"{MOUNT}/keys/byok-hmac/import", data={"ciphertext": wrap(wk, mac_key), "type": "hmac"})
    mac = transit(client).generate_hmac("byok-hmac", hash_input=b64(MSG), mount_point=MOUNT)["data"]["hmac"]
    assert unb64(mac.split(":", 2)[2]) == hmac.new(mac_key, MSG, hashlib.sha256).digest()


def test_byok_asymmetric_keys_sign_and_encrypt_with_our_material(client):
    wk = wrapping_key(client)
    # RSA: keyward encrypts for our key and signs with it.
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    client.write_data(f"{MOUNT}/keys/byok-rsa/import", data={"ciphertext": wrap(wk, pkcs8(rsa_key)), "type": "rsa-2048"})
    ct = transit(client).encrypt_data("byok-rsa", plaintext=b64(MSG), mount_point=MOUNT)["data"]["ciphertext"]
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    assert rsa_key.decrypt(unb64(ct.split(":", 2)[2]), oaep) == MSG
    ours = rsa_key.public_key().encrypt(MSG, oaep)
    plain = transit(client).decrypt_data("byok-rsa", ciphertext="vault:v1:" + b64(ours), mount_point=MOUNT)["data"]["plaintext"]
    assert unb64(plain) == MSG
    sig = transit(client).sign_data("byok-rsa", hash_input=b64(MSG), signature_algorithm="pkcs1v15", mount_point=MOUNT)["data"]["signature"]
    rsa_key.public_key().verify(sig_bytes(sig), MSG, padding.PKCS1v15(), hashes.SHA256())
    ours = rsa_key.sign(MSG, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH), hashes.SHA256())
    assert verify(client, "byok-rsa", "vault:v1:" + b64(ours)) is True
    # ECDSA P-384 and ed25519: keyward's signatures verify under our public keys, ours under keyward.
    ec_key = ec.generate_private_key(ec.SECP384R1())
    client.write_data(f"{MOUNT}/keys/byok-ec/import", data={"ciphertext": wrap(wk, pkcs8(ec_key)), "type": "ecdsa-p384"})
    sig = transit(client).sign_data("byok-ec", hash_input=b64(MSG), hash_algorithm="sha2-384", mount_point=MOUNT)["data"]["signature"]
    ec_key.public_key().verify(sig_bytes(sig), MSG, ec.ECDSA(hashes.SHA384()))
    ours = ec_key.sign(MSG, ec.ECDSA(hashes.SHA256()))
    assert verify(client, "byok-ec", "vault:v1:" + b64(ours)) is True
    ed_key = ed25519.Ed25519PrivateKey.generate()
    client.write_data(f"{MOUNT}/keys/byok-ed/import", data={"ciphertext": wrap(wk, pkcs8(ed_key)), "type": "ed25519"})
    sig = transit(client).sign_data("byok-ed", hash_input=b64(MSG), mount_point=MOUNT)["data"]["signature"]
    # Ed25519 is deterministic: the same signature as ours.
    assert sig_bytes(sig) == ed_key.sign(MSG)
    # The exported signing key is Go's 64-byte form: seed || public key.
    client.write_data(f"{MOUNT}/keys/byok-ed/config", data={"exportable": True})
    exported = unb64(transit(client).export_key("byok-ed", key_type="signing-key", mount_point=MOUNT)["data"]["keys"]["1"])
    seed = ed_key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    assert exported[:32] == seed


def test_byok_public_key_only_then_private(client):
    ed_key = ed25519.Ed25519PrivateKey.generate()
    pem = ed_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    client.write_data(f"{MOUNT}/keys/pub-ed/import", data={"public_key": pem, "type": "ed25519"})
    assert verify(client, "pub-ed", "vault:v1:" + b64(ed_key.sign(MSG))) is True
    with pytest.raises(hvac.exceptions.InvalidRequest, match="does not contain a private part"):
        transit(client).sign_data("pub-ed", hash_input=b64(MSG), mount_point=MOUNT)
    # The private half fills in version 1.
    wk = wrapping_key(client)
    client.write_data(f"{MOUNT}/keys/pub-ed/import_version", data={"ciphertext": wrap(wk, pkcs8(ed_key)), "version": 1})
    signed = transit(client).sign_data("pub-ed", hash_input=b64(MSG), mount_point=MOUNT)["data"]
    assert signed["key_version"] == 1 and sig_bytes(signed["signature"]) == ed_key.sign(MSG)


def test_byok_errors_are_4xx(client):
    wk = wrapping_key(client)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(hvac.exceptions.InvalidRequest, match="invalid curve: expected P-384, got P-256"):
        client.write_data(f"{MOUNT}/keys/bad-curve/import", data={"ciphertext": wrap(wk, pkcs8(ec_key)), "type": "ecdsa-p384"})
    with pytest.raises(hvac.exceptions.InvalidRequest, match="unknown hash function: SHA-256"):
        client.write_data(f"{MOUNT}/keys/bad-hash/import", data={"ciphertext": wrap(wk, os.urandom(32)), "hash_function": "SHA-256"})
    with pytest.raises(hvac.exceptions.InvalidRequest, match="crypto/rsa: decryption error"):
        client.write_data(f"{MOUNT}/keys/wrong-hash/import", data={"ciphertext": wrap(wk, os.urandom(32), hashes.SHA1())})
    # Tampered key wrap.
    raw = bytearray(unb64(wrap(wk, os.urandom(32))))
    raw[-1] ^= 1
    with pytest.raises(hvac.exceptions.InvalidRequest, match="kwp: unwrap failed integrity check"):
        client.write_data(f"{MOUNT}/keys/tampered/import", data={"ciphertext": b64(bytes(raw))})


def import_public(client, name, key_type, private_key):
    pem = private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    client.write_data(f"{MOUNT}/keys/{name}/import", data={"public_key": pem, "type": key_type})


def jws(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def verify_any(client, name, signature, data=MSG, hash_algorithm="sha2-256", **options):
    """verify with the hash in the URL, by a raw write: hvac's verify_signed_data knows no SHA-3."""
    if hash_algorithm.startswith("sha2-"):
        return verify(client, name, signature, data=data, hash_algorithm=hash_algorithm, **options)
    resp = client.write_data(f"{MOUNT}/verify/{name}/{hash_algorithm}",
                             data=dict(input=b64(data), signature=signature, **options))
    return resp["data"]["valid"]


@pytest.mark.parametrize("key_type", list(CURVES))
def test_ecdsa_signatures_from_cryptography_verify_in_keyward(client, key_type):
    """ECDSA made by `cryptography`: ASN.1, JWS (r || s) and prehashed, each hash; wrong ones are false."""
    curve, size = CURVES[key_type]
    key = ec.generate_private_key(curve)
    name = f"theirs-{key_type}"
    import_public(client, name, key_type, key)
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature
    hash_names = dict(HASHES, **{"sha3-256": hashes.SHA3_256(), "sha3-512": hashes.SHA3_512()})
    for hname, h in hash_names.items():
        der = key.sign(MSG, ec.ECDSA(h))
        assert verify_any(client, name, "vault:v1:" + b64(der), hash_algorithm=hname) is True
        assert verify_any(client, name, "vault:v1:" + b64(der), data=MSG + b"!", hash_algorithm=hname) is False
        r, s = decode_dss_signature(der)
        raw = r.to_bytes(size, "big") + s.to_bytes(size, "big")
        assert verify_any(client, name, "vault:v1:" + jws(raw), hash_algorithm=hname, marshaling_algorithm="jws") is True
        digest = hashes.Hash(h)
        digest.update(MSG)
        digest = digest.finalize()
        pre = key.sign(digest, ec.ECDSA(Prehashed(h)))
        assert verify_any(client, name, "vault:v1:" + b64(pre), data=digest, hash_algorithm=hname, prehashed=True) is True
    # Signed over SHA-384, checked as SHA-256: not valid.
    der = key.sign(MSG, ec.ECDSA(hashes.SHA384()))
    assert verify(client, name, "vault:v1:" + b64(der), hash_algorithm="sha2-256") is False


def test_rsa_signatures_from_cryptography_verify_in_keyward(client):
    """RSA made by `cryptography`: PSS with each salt rule, PKCS#1 v1.5, prehashed."""
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    import_public(client, "theirs-rsa", "rsa-3072", key)
    for hname, h in HASHES.items():
        pss = {salt: key.sign(MSG, padding.PSS(mgf=padding.MGF1(h), salt_length=salt), h)
               for salt in (padding.PSS.DIGEST_LENGTH, padding.PSS.MAX_LENGTH, 0, 20)}
        max_salt = (3072 + 7) // 8 - 2 - h.digest_size
        for salt, sig in pss.items():
            sig = "vault:v1:" + b64(sig)
            # auto accepts any salt length, as Go does.
            assert verify(client, "theirs-rsa", sig, hash_algorithm=hname, salt_length="auto") is True
            length = {padding.PSS.DIGEST_LENGTH: h.digest_size, padding.PSS.MAX_LENGTH: max_salt}.get(salt, salt)
            assert verify(client, "theirs-rsa", sig, hash_algorithm=hname, salt_length=str(length)) is True
            assert verify(client, "theirs-rsa", sig, hash_algorithm=hname,
                          salt_length="hash") is (length == h.digest_size)
            assert verify(client, "theirs-rsa", sig, hash_algorithm=hname,
                          signature_algorithm="pkcs1v15") is False
        v15 = "vault:v1:" + b64(key.sign(MSG, padding.PKCS1v15(), h))
        assert verify(client, "theirs-rsa", v15, hash_algorithm=hname, signature_algorithm="pkcs1v15") is True
        assert verify(client, "theirs-rsa", v15, data=b"other", hash_algorithm=hname,
                      signature_algorithm="pkcs1v15") is False
        assert verify(client, "theirs-rsa", v15, hash_algorithm=hname) is False
        digest = hashes.Hash(h)
        digest.update(MSG)
        digest = digest.finalize()
        pre = key.sign(digest, padding.PKCS1v15(), Prehashed(h))
        assert verify(client, "theirs-rsa", "vault:v1:" + b64(pre), data=digest, hash_algorithm=hname,
                      signature_algorithm="pkcs1v15", prehashed=True) is True


def test_ed25519_signatures_from_cryptography_verify_in_keyward(client):
    key = ed25519.Ed25519PrivateKey.generate()
    import_public(client, "theirs-ed", "ed25519", key)
    sig = key.sign(MSG)
    assert verify(client, "theirs-ed", "vault:v1:" + b64(sig)) is True
    assert verify(client, "theirs-ed", "vault:v1:" + jws(sig), marshaling_algorithm="jws") is True
    assert verify(client, "theirs-ed", "vault:v1:" + b64(sig), data=MSG + b"!") is False
    other = ed25519.Ed25519PrivateKey.generate().sign(MSG)
    assert verify(client, "theirs-ed", "vault:v1:" + b64(other)) is False
