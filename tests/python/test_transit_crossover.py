"""Keys that cross over between keyward and a real OpenBao 2.7.2.

For every key type the same key material ends up in both servers, three
ways: a backup from one restored into the other (each direction, with
several versions and the key's configuration), and BYOK import of material
this test generates into both. Then everything one server produces is
checked by the other, in both directions: ciphertexts (single, batch,
associated data, derived contexts), rewraps, data keys, HMACs (equal byte
for byte), signatures with every option (ed25519 and RSA PKCS#1 v1.5
byte-identical; ECDSA and PSS verify), and exports. So a Vault user can
migrate in and out.

Also: Vault's numbering of the `hmac` type in backups (11) reads in
keyward as `hmac` by its material, while OpenBao's 11
(xchacha20-poly1305) is refused by name; `byok-export` from each server
imports into the other; CSRs signed with transit keys validate in
`cryptography`, and certificate chains attached to versions show the same
way in both servers and cross over with backups.
"""

import base64
import hashlib
import json
import os

import hvac
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding

MOUNT = "xover"
MSG = b"keys that cross over"
SYMMETRIC = ["aes128-gcm96", "aes256-gcm96", "chacha20-poly1305"]
ECDSA = ["ecdsa-p256", "ecdsa-p384", "ecdsa-p521"]
RSA = ["rsa-2048", "rsa-3072", "rsa-4096"]
SIGNING = ["ed25519", *ECDSA, *RSA]
ALL_TYPES = [*SYMMETRIC, "hmac", *SIGNING]
DIRECTIONS = [("keyward", "openbao"), ("openbao", "keyward")]
ECDSA_HASHES = ["sha1", "sha2-224", "sha2-256", "sha2-384", "sha2-512",
                "sha3-224", "sha3-256", "sha3-384", "sha3-512"]
# keyward signs RSA over SHA-2 256/384/512 only (docs/compatibility/vault.md).
RSA_HASHES = ["sha2-256", "sha2-384", "sha2-512"]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def servers(keyward, openbao):
    clients = {
        "keyward": hvac.Client(url=keyward.url, token=keyward.root_token, verify=keyward.ca),
        "openbao": hvac.Client(url=openbao.url, token=openbao.root_token, verify=openbao.ca),
    }
    for c in clients.values():
        c.sys.enable_secrets_engine("transit", path=MOUNT)
    yield clients
    for c in clients.values():
        c.sys.disable_secrets_engine(MOUNT)


def post(client, path, **body):
    resp = client.adapter.post(f"/v1/{MOUNT}/{path}", json=body)
    return resp if isinstance(resp, dict) else None


def get(client, path):
    return client.adapter.get(f"/v1/{MOUNT}/{path}")


def tr(client):
    return client.secrets.transit


def create(client, name, key_type, **options):
    body = {"type": key_type, **options}
    if key_type == "hmac":
        body["key_size"] = 64
    post(client, f"keys/{name}", **body)


def read(client, name):
    return tr(client).read_key(name, mount_point=MOUNT)["data"]


# ---------------------------------------------------------------- the checks


def sign_options(key_type):
    """Every signing option that applies to `key_type`, as sign/verify bodies."""
    if key_type == "ed25519":
        return [{}, {"marshaling_algorithm": "jws"}]
    if key_type in ECDSA:
        opts = [{"hash_algorithm": h, "marshaling_algorithm": m}
                for h in ECDSA_HASHES for m in ("asn1", "jws")]
        opts.append({"hash_algorithm": "sha2-256", "prehashed": True})
        return opts
    opts = []
    for h in RSA_HASHES:
        opts.append({"hash_algorithm": h, "signature_algorithm": "pkcs1v15"})
        for salt in ("auto", "hash", "32"):
            opts.append({"hash_algorithm": h, "signature_algorithm": "pss", "salt_length": salt})
    opts.append({"hash_algorithm": "sha2-256", "prehashed": True, "signature_algorithm": "pkcs1v15"})
    opts.append({"hash_algorithm": "sha2-256", "prehashed": True, "signature_algorithm": "pss"})
    return opts


def deterministic(key_type, opts):
    return key_type == "ed25519" or opts.get("signature_algorithm") == "pkcs1v15"


def check_signatures(x, y, name, key_type, versions, context=None):
    extra = {"context": b64(context)} if context else {}
    for opts in sign_options(key_type):
        data = hashlib.sha256(MSG).digest() if opts.get("prehashed") else MSG
        for version in versions:
            body = {"input": b64(data), "key_version": version, **opts, **extra}
            sig_x = post(x, f"sign/{name}", **body)["data"]["signature"]
            assert sig_x.startswith(f"vault:v{version}:")
            verify = {k: v for k, v in body.items() if k != "key_version"}
            assert post(y, f"verify/{name}", signature=sig_x, **verify)["data"]["valid"], (name, opts)
            # A changed message does not verify on the other side.
            changed = {**verify, "input": b64(data[:-1] + b"!")}
            assert not post(y, f"verify/{name}", signature=sig_x, **changed)["data"]["valid"]
            if deterministic(key_type, opts):
                sig_y = post(y, f"sign/{name}", **body)["data"]["signature"]
                assert sig_x == sig_y, (name, opts)
    # A batch signed on one side verifies on the other.
    items = [{"input": b64(MSG + bytes([i])), **extra} for i in range(3)]
    signed = post(x, f"sign/{name}", batch_input=items)["data"]["batch_results"]
    checks = [{**item, "signature": r["signature"]} for item, r in zip(items, signed)]
    verified = post(y, f"verify/{name}", batch_input=checks)["data"]["batch_results"]
    assert [r["valid"] for r in verified] == [True] * 3


def check_hmacs(x, y, name, versions):
    for algorithm in ("sha2-256", "sha2-512", "sha3-256", "sha1"):
        for version in versions:
            body = {"input": b64(MSG), "key_version": version}
            mac_x = post(x, f"hmac/{name}/{algorithm}", **body)["data"]["hmac"]
            mac_y = post(y, f"hmac/{name}/{algorithm}", **body)["data"]["hmac"]
            assert mac_x == mac_y, (name, algorithm, version)
            assert post(y, f"verify/{name}/{algorithm}", input=b64(MSG), hmac=mac_x)["data"]["valid"]
    items = [{"input": b64(MSG + bytes([i]))} for i in range(3)]
    mx = post(x, f"hmac/{name}", batch_input=items)["data"]["batch_results"]
    my = post(y, f"hmac/{name}", batch_input=items)["data"]["batch_results"]
    assert [r["hmac"] for r in mx] == [r["hmac"] for r in my]


def check_encryption(x, y, name, key_type, latest, context=None):
    ctx = {"context": b64(context)} if context else {}
    aad = {"associated_data": b64(b"aad")} if key_type in SYMMETRIC else {}
    ct = post(x, f"encrypt/{name}", plaintext=b64(MSG), **ctx, **aad)["data"]["ciphertext"]
    assert ct.startswith(f"vault:v{latest}:")
    assert post(y, f"decrypt/{name}", ciphertext=ct, **ctx, **aad)["data"]["plaintext"] == b64(MSG)
    # Batches, with an older version in the mix.
    items = [{"plaintext": b64(MSG + bytes([i])), **ctx} for i in range(3)]
    if latest > 1:
        items[0]["key_version"] = latest - 1
    cts = post(x, f"encrypt/{name}", batch_input=items)["data"]["batch_results"]
    back = post(y, f"decrypt/{name}", batch_input=[{"ciphertext": r["ciphertext"], **ctx} for r in cts])
    assert [r["plaintext"] for r in back["data"]["batch_results"]] == [i["plaintext"] for i in items]
    # A rewrap on the other side moves an old ciphertext to the latest version.
    if latest > 1:
        old = post(x, f"encrypt/{name}", plaintext=b64(MSG), key_version=latest - 1, **ctx)["data"]["ciphertext"]
        new = post(y, f"rewrap/{name}", ciphertext=old, **ctx)["data"]["ciphertext"]
        assert new.startswith(f"vault:v{latest}:")
        assert post(x, f"decrypt/{name}", ciphertext=new, **ctx)["data"]["plaintext"] == b64(MSG)
    # Data keys: wrapped on one side, unwrapped on the other.
    dk = post(x, f"datakey/plaintext/{name}", bits=256, **ctx)["data"]
    assert post(y, f"decrypt/{name}", ciphertext=dk["ciphertext"], **ctx)["data"]["plaintext"] == dk["plaintext"]
    wrapped = post(x, f"datakey/wrapped/{name}", **ctx)["data"]
    assert "plaintext" not in wrapped
    assert len(base64.b64decode(post(y, f"decrypt/{name}", ciphertext=wrapped["ciphertext"], **ctx)["data"]["plaintext"])) == 32


EXPORTS = {
    **{t: ["encryption-key", "hmac-key"] for t in SYMMETRIC},
    "hmac": ["hmac-key"],
    "ed25519": ["signing-key", "public-key", "hmac-key"],
    **{t: ["signing-key", "public-key", "hmac-key"] for t in ECDSA},
    **{t: ["encryption-key", "signing-key", "public-key", "hmac-key"] for t in RSA},
}


def check_exports(a, b, name, key_type, exportable=True):
    for export in EXPORTS[key_type]:
        if not exportable and export != "public-key":
            continue
        ka = get(a, f"export/{export}/{name}")["data"]
        kb = get(b, f"export/{export}/{name}")["data"]
        assert ka == kb, (name, export)


def check_all(servers, name, key_type, latest, versions, exportable=True):
    a, b = servers["keyward"], servers["openbao"]
    for x, y in ((a, b), (b, a)):
        check_hmacs(x, y, name, versions)
        if key_type in SYMMETRIC or key_type in RSA:
            check_encryption(x, y, name, key_type, latest)
        if key_type in SIGNING:
            check_signatures(x, y, name, key_type, versions[-1:] if key_type in RSA else versions)
    check_exports(a, b, name, key_type, exportable)


KEY_FIELDS = ["type", "latest_version", "min_decryption_version", "min_encryption_version",
              "min_available_version", "deletion_allowed", "exportable", "allow_plaintext_backup",
              "derived", "auto_rotate_period", "supports_encryption", "supports_decryption",
              "supports_signing", "supports_derivation", "imported_key"]


def same_key(a, b, name, same_times=True):
    """The same key on both sides; `same_times` when the versions came with
    their creation times (a restore), not made by each server (an import)."""
    ka, kb = read(a, name), read(b, name)
    assert {f: ka.get(f) for f in KEY_FIELDS} == {f: kb.get(f) for f in KEY_FIELDS}
    if ka.get("keys") is None or kb.get("keys") is None:
        assert ka.get("keys") == kb.get("keys")
    elif isinstance(next(iter(ka["keys"].values())), dict):
        strip = lambda keys: {v: {f: e[f] for f in ("name", "public_key", "certificate_chain")} for v, e in keys.items()}
        assert strip(ka["keys"]) == strip(kb["keys"])
    elif same_times:
        assert ka["keys"] == kb["keys"]
    else:
        assert sorted(ka["keys"]) == sorted(kb["keys"])
    return ka


# ------------------------------------------------------------ backup/restore


@pytest.mark.parametrize("source,target", DIRECTIONS)
@pytest.mark.parametrize("key_type", ALL_TYPES)
def test_backup_restores_on_the_other_side(servers, key_type, source, target):
    src, dst = servers[source], servers[target]
    name = f"bk-{key_type}-{source}"
    create(src, name, key_type, exportable=True, allow_plaintext_backup=True)
    for _ in range(3):
        tr(src).rotate_key(name, mount_point=MOUNT)
    # Something made with version 1 before the minimum goes up.
    if key_type in SYMMETRIC:
        v1 = post(src, f"encrypt/{name}", plaintext=b64(MSG), key_version=1)["data"]["ciphertext"]
    tr(src).update_key_configuration(name, min_decryption_version=2, min_encryption_version=3,
                                     deletion_allowed=True, auto_rotate_period="72h", mount_point=MOUNT)
    blob = tr(src).backup_key(name, mount_point=MOUNT)["data"]["backup"]
    tr(dst).restore_key(blob, name=name, mount_point=MOUNT)

    key = same_key(src, dst, name)
    assert (key["latest_version"], key["min_decryption_version"], key["min_encryption_version"]) == (4, 2, 3)
    assert key["deletion_allowed"] and key["auto_rotate_period"] == 72 * 3600
    check_all(servers, name, key_type, latest=4, versions=[3, 4])
    if key_type in SYMMETRIC:
        for c in (src, dst):
            with pytest.raises(hvac.exceptions.InvalidRequest, match="too old"):
                post(c, f"decrypt/{name}", ciphertext=v1)
    # The restored key keeps working on its own: it rotates, and its blob
    # goes back where it came from under a new name.
    tr(dst).rotate_key(name, mount_point=MOUNT)
    back = tr(dst).backup_key(name, mount_point=MOUNT)["data"]["backup"]
    tr(src).restore_key(back, name=f"{name}-back", mount_point=MOUNT)
    assert read(src, f"{name}-back")["latest_version"] == 5
    # deletion_allowed came along: both sides may delete.
    for c in (src, dst):
        tr(c).delete_key(name, mount_point=MOUNT)


@pytest.mark.parametrize("source,target", DIRECTIONS)
def test_convergent_and_derived_keys_are_byte_identical(servers, source, target):
    src, dst = servers[source], servers[target]
    name = f"conv-{source}"
    create(src, name, "aes256-gcm96", derived=True, convergent_encryption=True,
           exportable=True, allow_plaintext_backup=True)
    tr(src).rotate_key(name, mount_point=MOUNT)
    ed = f"ed-derived-{source}"
    create(src, ed, "ed25519", derived=True, exportable=True, allow_plaintext_backup=True)
    for key in (name, ed):
        blob = tr(src).backup_key(key, mount_point=MOUNT)["data"]["backup"]
        tr(dst).restore_key(blob, mount_point=MOUNT)
    for context in (b"tenant-1", b"tenant-2"):
        body = {"plaintext": b64(MSG), "context": b64(context)}
        assert post(src, f"encrypt/{name}", **body)["data"]["ciphertext"] == \
            post(dst, f"encrypt/{name}", **body)["data"]["ciphertext"]
        for version in (1, 2):
            old = {**body, "key_version": version}
            assert post(src, f"encrypt/{name}", **old)["data"]["ciphertext"] == \
                post(dst, f"encrypt/{name}", **old)["data"]["ciphertext"]
        batch = [{"plaintext": b64(MSG + bytes([i])), "context": b64(context)} for i in range(3)]
        assert post(src, f"encrypt/{name}", batch_input=batch)["data"] == \
            post(dst, f"encrypt/{name}", batch_input=batch)["data"]
        check_encryption(src, dst, name, "aes256-gcm96", 2, context=context)
        # Derived ed25519: the same signature and the same derived public key.
        sx = post(src, f"sign/{ed}", input=b64(MSG), context=b64(context))["data"]
        sy = post(dst, f"sign/{ed}", input=b64(MSG), context=b64(context))["data"]
        assert sx == sy
        assert get(src, f"keys/{ed}?context={b64(context)}")["data"]["keys"]["1"]["public_key"] == \
            get(dst, f"keys/{ed}?context={b64(context)}")["data"]["keys"]["1"]["public_key"]
        check_signatures(dst, src, ed, "ed25519", [1], context=context)


# -------------------------------------------------------------- BYOK import


def wrap_for(client, material: bytes) -> str:
    """The import ciphertext of `material` for `client`'s wrapping key."""
    pem = get(client, "wrapping_key")["data"]["public_key"]
    public = serialization.load_pem_public_key(pem.encode())
    ephemeral = os.urandom(32)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    return b64(public.encrypt(ephemeral, oaep) + aes_key_wrap_with_padding(ephemeral, material))


def pkcs8(private) -> bytes:
    return private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())


def generate_material(key_type) -> bytes:
    if key_type in ("aes128-gcm96",):
        return os.urandom(16)
    if key_type in ("aes256-gcm96", "chacha20-poly1305"):
        return os.urandom(32)
    if key_type == "hmac":
        return os.urandom(48)
    if key_type == "ed25519":
        return pkcs8(ed25519.Ed25519PrivateKey.generate())
    if key_type in ECDSA:
        curve = {"ecdsa-p256": ec.SECP256R1(), "ecdsa-p384": ec.SECP384R1(), "ecdsa-p521": ec.SECP521R1()}
        return pkcs8(ec.generate_private_key(curve[key_type]))
    return pkcs8(rsa.generate_private_key(public_exponent=65537, key_size=int(key_type.split("-")[1])))


@pytest.mark.parametrize("key_type", ALL_TYPES)
def test_byok_material_is_the_same_key_on_both_sides(servers, key_type):
    name = f"byok-{key_type}"
    material = generate_material(key_type)
    second = generate_material(key_type)
    for c in servers.values():
        post(c, f"keys/{name}/import", ciphertext=wrap_for(c, material), type=key_type,
             exportable=True, allow_plaintext_backup=True)
        post(c, f"keys/{name}/import_version", ciphertext=wrap_for(c, second))
    same_key(servers["keyward"], servers["openbao"], name, same_times=False)
    # HMACs are per version and made by each server on import, except for
    # type `hmac`, whose key is the material: only those agree.
    a, b = servers["keyward"], servers["openbao"]
    for x, y in ((a, b), (b, a)):
        if key_type == "hmac":
            check_hmacs(x, y, name, [1, 2])
        if key_type in SYMMETRIC or key_type in RSA:
            check_encryption(x, y, name, key_type, 2)
        if key_type in SIGNING:
            check_signatures(x, y, name, key_type, [1, 2] if key_type not in RSA else [2])
    exports = [e for e in EXPORTS[key_type] if e != "hmac-key" or key_type == "hmac"]
    for export in exports:
        assert get(a, f"export/{export}/{name}")["data"] == get(b, f"export/{export}/{name}")["data"]
    # And the imported keys back up and restore across as well.
    blob = tr(a).backup_key(name, mount_point=MOUNT)["data"]["backup"]
    tr(b).restore_key(blob, name=f"{name}-kw", mount_point=MOUNT)
    assert read(b, f"{name}-kw")["imported_key"] is True
    # The backup carries every version's HMAC key: the copy's HMACs are the
    # original's, whatever the type.
    for version in (1, 2):
        body = {"input": b64(MSG), "key_version": version}
        assert post(a, f"hmac/{name}", **body)["data"]["hmac"] == \
            post(b, f"hmac/{name}-kw", **body)["data"]["hmac"]


# ---------------------------------------------------- hmac type numbering


def blob_json(blob: str) -> dict:
    return json.loads(base64.b64decode(blob))


def json_blob(data: dict) -> str:
    return b64(json.dumps(data).encode())


def test_hmac_type_numbering_vault_and_openbao(servers):
    a, b = servers["keyward"], servers["openbao"]
    create(b, "num-hmac", "hmac", exportable=True, allow_plaintext_backup=True)
    theirs = blob_json(tr(b).backup_key("num-hmac", mount_point=MOUNT)["data"]["backup"])
    assert theirs["policy"]["type"] == 10
    # keyward writes OpenBao's number.
    create(a, "num-hmac-kw", "hmac", exportable=True, allow_plaintext_backup=True)
    ours = blob_json(tr(a).backup_key("num-hmac-kw", mount_point=MOUNT)["data"]["backup"])
    assert ours["policy"]["type"] == 10
    # Vault's number for the same key: keyward reads it as hmac (the key is
    # its own HMAC key), and the HMACs are OpenBao's.
    theirs["policy"]["type"] = 11
    tr(a).restore_key(json_blob(theirs), name="num-vault", mount_point=MOUNT)
    assert read(a, "num-vault")["type"] == "hmac"
    body = {"input": b64(MSG)}
    assert post(a, "hmac/num-vault", **body)["data"]["hmac"] == post(b, "hmac/num-hmac", **body)["data"]["hmac"]
    # OpenBao's 11 is xchacha20-poly1305, which keyward does not have.
    post(b, "keys/num-xchacha", type="xchacha20-poly1305", exportable=True, allow_plaintext_backup=True)
    xchacha = tr(b).backup_key("num-xchacha", mount_point=MOUNT)["data"]["backup"]
    assert blob_json(xchacha)["policy"]["type"] == 11
    with pytest.raises(hvac.exceptions.InvalidRequest, match="xchacha20-poly1305"):
        tr(a).restore_key(xchacha, mount_point=MOUNT)


# ------------------------------------------------------------- byok-export


@pytest.mark.parametrize("source,target", DIRECTIONS)
@pytest.mark.parametrize("key_type", ["aes256-gcm96", "chacha20-poly1305", "hmac", "ed25519", "ecdsa-p384", "rsa-2048"])
def test_byok_export_imports_on_the_other_side(servers, key_type, source, target):
    """`byok-export` wraps a key for the other server's wrapping key (imported
    on the exporting side as a public RSA key); the other side imports it,
    and both then hold the same key."""
    src, dst = servers[source], servers[target]
    wrap_name = f"wrap-{target}"
    try:
        read(src, wrap_name)
    except hvac.exceptions.InvalidPath:
        pem = get(dst, "wrapping_key")["data"]["public_key"]
        post(src, f"keys/{wrap_name}/import", public_key=pem, type="rsa-4096")
    name = f"bx-{key_type}-{source}"
    create(src, name, key_type, exportable=True)
    tr(src).rotate_key(name, mount_point=MOUNT)
    exported = get(src, f"byok-export/{wrap_name}/{name}")["data"]
    assert exported["name"] == name and exported["type"] == key_type
    assert sorted(exported["keys"]) == ["1", "2"]
    post(dst, f"keys/{name}/import", ciphertext=exported["keys"]["1"], type=key_type, exportable=True)
    post(dst, f"keys/{name}/import_version", ciphertext=exported["keys"]["2"])
    # One version alone, by number with a `v`, with another OAEP hash.
    one = get(src, f"byok-export/{wrap_name}/{name}/v2?hash=SHA512")["data"]["keys"]
    assert list(one) == ["2"]
    post(dst, f"keys/{name}-v2/import", ciphertext=one["2"], type=key_type, hash_function="SHA512",
         exportable=True)
    a, b = src, dst
    for x, y in ((a, b), (b, a)):
        if key_type == "hmac":
            check_hmacs(x, y, name, [1, 2])
        if key_type in SYMMETRIC or key_type in RSA:
            check_encryption(x, y, name, key_type, 2)
        if key_type in SIGNING:
            check_signatures(x, y, name, key_type, [2] if key_type in RSA else [1, 2])
    for export in [e for e in EXPORTS[key_type] if e != "hmac-key" or key_type == "hmac"]:
        assert get(a, f"export/{export}/{name}")["data"]["keys"] == get(b, f"export/{export}/{name}")["data"]["keys"]
        assert get(a, f"export/{export}/{name}/2")["data"]["keys"]["2"] == \
            get(b, f"export/{export}/{name}-v2/1")["data"]["keys"]["1"]


# ------------------------------------------------- csr and set-certificate


def make_ca():
    import datetime
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "crossover test CA")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def issue(ca, csr):
    import datetime
    from cryptography import x509
    key, cert = ca
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(cert.subject)
               .public_key(csr.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
    for ext in csr.extensions:
        builder = builder.add_extension(ext.value, critical=ext.critical)
    return builder.sign(key, hashes.SHA256())


def pem_of(cert) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.mark.parametrize("key_type", SIGNING)
def test_csr_certificate_chain_round_trip(servers, key_type):
    """A CSR signed with a transit key is valid for `cryptography`, carries the
    key's public key and the template's subject and SANs; the certificate a
    CA issues for it attaches to the version, shows on read and in
    `export/certificate-chain` the same way in both servers, and crosses
    over with a backup."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    kw, bao = servers["keyward"], servers["openbao"]
    name = f"cert-{key_type}"
    create(kw, name, key_type, exportable=True, allow_plaintext_backup=True)
    template_key = ec.generate_private_key(ec.SECP256R1())
    template = (x509.CertificateSigningRequestBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "svc.example"),
                                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "keyward")]))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName("svc.example"), x509.DNSName("alt.example")]), critical=False)
                .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
                .sign(template_key, hashes.SHA256()))
    answer = post(kw, f"keys/{name}/csr", csr=template.public_bytes(serialization.Encoding.PEM).decode())["data"]
    assert (answer["name"], answer["type"]) == (name, key_type)
    csr = x509.load_pem_x509_csr(answer["csr"].encode())
    assert csr.is_signature_valid
    assert csr.subject == template.subject
    assert csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName) == ["svc.example", "alt.example"]
    assert csr.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    exported = get(kw, f"export/public-key/{name}/1")["data"]["keys"]["1"]
    spki = csr.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    if key_type == "ed25519":
        raw = csr.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        assert b64(raw) == exported
    else:
        assert spki.decode().strip() == exported.strip()
    # An empty template gives an empty subject; the key is the same.
    empty = x509.load_pem_x509_csr(post(kw, f"keys/{name}/csr")["data"]["csr"].encode())
    assert empty.is_signature_valid and len(empty.subject) == 0

    ca = make_ca()
    leaf = issue(ca, csr)
    chain = pem_of(leaf) + pem_of(ca[1])
    set_answer = post(kw, f"keys/{name}/set-certificate", certificate_chain=chain)["data"]
    assert set_answer == {"name": name, "type": key_type, "certificate_chain": chain}
    shown = read(kw, name)["keys"]["1"]["certificate_chain"]
    assert shown == pem_of(leaf).strip() + "\n" + pem_of(ca[1]).strip()
    assert get(kw, f"export/certificate-chain/{name}")["data"]["keys"] == {"1": shown}
    # The chain crosses over with the key: OpenBao shows it the same way.
    blob = tr(kw).backup_key(name, mount_point=MOUNT)["data"]["backup"]
    tr(bao).restore_key(blob, mount_point=MOUNT)
    assert read(bao, name)["keys"]["1"]["certificate_chain"] == shown
    assert get(bao, f"export/certificate-chain/{name}")["data"] == get(kw, f"export/certificate-chain/{name}")["data"]
    # And back: OpenBao attaches a new chain to a new version, keyward reads it.
    tr(bao).rotate_key(name, mount_point=MOUNT)
    csr2 = x509.load_pem_x509_csr(post(bao, f"keys/{name}/csr", version=2)["data"]["csr"].encode())
    chain2 = pem_of(issue(ca, csr2)) + pem_of(ca[1])
    post(bao, f"keys/{name}/set-certificate", certificate_chain=chain2, version=2)
    back = tr(bao).backup_key(name, mount_point=MOUNT)["data"]["backup"]
    tr(kw).restore_key(back, name=f"{name}-back", mount_point=MOUNT)
    kb, bb = read(kw, f"{name}-back")["keys"], read(bao, name)["keys"]
    assert [kb[v]["certificate_chain"] for v in ("1", "2")] == [bb[v]["certificate_chain"] for v in ("1", "2")]
    # A leaf for another key is refused (OpenBao: 500, keyward: 400).
    other = issue(ca, x509.load_pem_x509_csr(post(kw, f"keys/{name}-back/csr", version=2)["data"]["csr"].encode()))
    with pytest.raises(hvac.exceptions.InvalidRequest, match="does not match the selected key version"):
        post(kw, f"keys/{name}/set-certificate", certificate_chain=pem_of(other), version=1)
