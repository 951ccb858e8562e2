"""hvac drives Vault's ACL policies, tokens and the userpass login against the
real keyward binary; the capabilities the policies grant are compared with
what OpenBao's real server answers for the same documents and paths."""

import time

import hvac
import pytest
import requests
from hvac import exceptions

PASSWORD = "Userpass-Tests-1"


@pytest.fixture(scope="module")
def root(keyward):
    return hvac.Client(url=keyward.url, token=keyward.root_token, verify=keyward.ca)


def client_for(keyward, token):
    return hvac.Client(url=keyward.url, token=token, verify=keyward.ca)


def token_with(root, *policies, **kw):
    return root.auth.token.create(policies=list(policies), **kw)["auth"]["client_token"]


# --- policies ---------------------------------------------------------------


def test_policy_crud_through_hvac(root):
    hcl = 'path "transit/keys/crud-*" {\n  capabilities = ["read", "list"]\n}\n'
    root.sys.create_or_update_policy(name="crud", policy=hcl)
    assert root.sys.read_policy("crud")["data"]["rules"] == hcl
    assert "crud" in root.sys.list_policies()["data"]["policies"]
    # JSON is a policy document too; hvac serialises a dict as JSON.
    root.sys.create_or_update_policy(
        name="crud", policy={"path": {"transit/keys/crud-*": {"capabilities": ["update"]}}})
    assert '"update"' in root.sys.read_policy("crud")["data"]["rules"]
    # The newer path family sees the same registry.
    acl = root.adapter.get("/v1/sys/policies/acl/crud")["data"]
    assert acl["name"] == "crud" and '"update"' in acl["policy"]
    listed = root.adapter.list("/v1/sys/policies/acl")["data"]["keys"]
    assert "crud" in listed and "default" in listed and "root" in listed
    root.sys.delete_policy("crud")
    assert "crud" not in root.sys.list_policies()["data"]["policies"]
    with pytest.raises(exceptions.InvalidPath):
        root.adapter.get("/v1/sys/policies/acl/crud")


def test_bad_policies_are_refused_with_a_reason(root):
    with pytest.raises(exceptions.InvalidRequest, match=r"failed to parse policy: At 1:"):
        root.sys.create_or_update_policy(name="broken", policy='path "x" { capabilities = [ }')
    with pytest.raises(exceptions.InvalidRequest, match="invalid capability"):
        root.sys.create_or_update_policy(name="broken", policy='path "x" { capabilities = ["fly"] }')
    with pytest.raises(exceptions.InvalidRequest, match="cannot update \"root\" policy"):
        root.sys.create_or_update_policy(name="root", policy='path "x" { capabilities = ["read"] }')
    with pytest.raises(exceptions.InvalidRequest, match="cannot delete"):
        root.sys.delete_policy("default")
    assert "broken" not in root.sys.list_policies()["data"]["policies"]


# --- the capabilities table, evaluated by both servers ----------------------

POLICIES = {
    "cap-glob": 'path "secret/*" { capabilities = ["read", "list"] }\n'
                'path "secret/admin/*" { capabilities = ["deny"] }\n'
                'path "secret/+/team" { capabilities = ["update"] }\n',
    "cap-exact": 'path "secret/exact" { capabilities = ["create", "sudo"] }\n'
                 'path "secret/ex*" { capabilities = ["delete"] }\n',
    "cap-plus": 'path "transit/+/orders" { capabilities = ["patch"] }\n'
                'path "transit/keys/+" { capabilities = ["read"] }\n'
                'path "transit/keys/orders" { capabilities = ["update", "create"] }\n',
}
PATHS = [
    "secret/a", "secret/admin/x", "secret/admin", "secret/x/team", "secret/x/team/y",
    "secret/exact", "secret/exa", "secret/exactly", "secret", "other/path",
    "transit/keys/orders", "transit/encrypt/orders", "transit/keys/other", "transit/keys/a/b",
    "sys/policies/acl/x", "auth/token/lookup-self", "cubbyhole/x", "sys/capabilities-self",
]
TOKEN_POLICY_SETS = [["cap-glob"], ["cap-exact"], ["cap-plus"], ["cap-glob", "cap-exact", "cap-plus"], []]


def capabilities_on(url, ca, root_token):
    s = requests.Session()
    s.verify = ca
    s.headers["X-Vault-Token"] = root_token
    for name, text in POLICIES.items():
        r = s.put(f"{url}/v1/sys/policies/acl/{name}", json={"policy": text})
        assert r.status_code == 204, r.text
    answers = {}
    for policies in TOKEN_POLICY_SETS:
        r = s.post(f"{url}/v1/auth/token/create", json={"policies": policies or ["default"]})
        token = r.json()["auth"]["client_token"]
        r = s.post(f"{url}/v1/sys/capabilities", json={"token": token, "paths": PATHS})
        assert r.status_code == 200, r.text
        body = r.json()
        answers[",".join(policies)] = {p: sorted(body[p]) for p in PATHS}
        # capabilities-self answers the same for the token itself.
        r = requests.post(f"{url}/v1/sys/capabilities-self", json={"paths": PATHS},
                          headers={"X-Vault-Token": token}, verify=ca)
        assert {p: sorted(r.json()[p]) for p in PATHS} == answers[",".join(policies)]
    return answers


def test_capabilities_match_openbao(keyward, openbao):
    ours = capabilities_on(keyward.url, keyward.ca, keyward.root_token)
    theirs = capabilities_on(openbao.url, openbao.ca, openbao.root_token)
    for policies in ours:
        for path in PATHS:
            assert ours[policies][path] == theirs[policies][path], (policies, path)
    # The table is not trivial: it holds grants, denials and the default policy.
    assert ours["cap-glob"]["secret/admin/x"] == ["deny"]
    assert ours["cap-exact"]["secret/exact"] == ["create", "sudo"]
    assert ours[""]["auth/token/lookup-self"] == ["read"]


# --- authorization through policies ----------------------------------------


def test_encrypt_upserts_only_with_create(root, keyward):
    root.sys.create_or_update_policy(
        name="enc-create", policy='path "transit/encrypt/*" { capabilities = ["create", "update"] }')
    root.sys.create_or_update_policy(
        name="enc-update", policy='path "transit/encrypt/*" { capabilities = ["update"] }')
    creator = client_for(keyward, token_with(root, "enc-create"))
    updater = client_for(keyward, token_with(root, "enc-update"))
    # Only `update`: the missing key is a `create`, and that is denied.
    with pytest.raises(exceptions.Forbidden, match="permission denied"):
        updater.secrets.transit.encrypt_data("upsert-me", plaintext="aGk=")
    with pytest.raises(exceptions.InvalidPath):
        root.secrets.transit.read_key("upsert-me")
    # `create`: the key springs into being.
    ct = creator.secrets.transit.encrypt_data("upsert-me", plaintext="aGk=")["data"]["ciphertext"]
    assert ct.startswith("vault:v1:")
    assert root.secrets.transit.read_key("upsert-me")["data"]["type"] == "aes256-gcm96"
    # Now the key exists, so encrypting is an `update`, which both may do.
    assert updater.secrets.transit.encrypt_data("upsert-me", plaintext="aGk=")["data"]["ciphertext"].startswith("vault:v1:")
    # Neither may decrypt: no policy names transit/decrypt.
    with pytest.raises(exceptions.Forbidden):
        creator.secrets.transit.decrypt_data("upsert-me", ciphertext=ct)


def test_deny_beats_allow(root, keyward):
    root.secrets.transit.create_key("deny-open")
    root.secrets.transit.create_key("deny-secret")
    root.sys.create_or_update_policy(
        name="read-keys", policy='path "transit/keys/*" { capabilities = ["read"] }')
    root.sys.create_or_update_policy(
        name="no-secret", policy='path "transit/keys/deny-secret" { capabilities = ["deny"] }')
    both = client_for(keyward, token_with(root, "read-keys", "no-secret"))
    assert both.secrets.transit.read_key("deny-open")["data"]["name"] == "deny-open"
    with pytest.raises(exceptions.Forbidden, match="permission denied"):
        both.secrets.transit.read_key("deny-secret")
    # Deny in the same policy, on a more general path, still loses to the
    # more specific grant: most specific path first, deny within a path.
    root.sys.create_or_update_policy(
        name="specific",
        policy='path "transit/keys/*" { capabilities = ["deny"] }\n'
               'path "transit/keys/deny-open" { capabilities = ["read"] }\n')
    specific = client_for(keyward, token_with(root, "specific"))
    assert specific.secrets.transit.read_key("deny-open")["data"]["name"] == "deny-open"
    with pytest.raises(exceptions.Forbidden):
        specific.secrets.transit.read_key("deny-secret")


def test_missing_invalid_and_revoked_tokens_are_permission_denied(keyward, root):
    for token in (None, "", "kw.not-a-token"):
        with pytest.raises(exceptions.Forbidden, match="permission denied"):
            client_for(keyward, token).secrets.transit.list_keys()
    token = token_with(root, "default")
    root.auth.token.revoke(token)
    with pytest.raises(exceptions.Forbidden, match="permission denied"):
        client_for(keyward, token).auth.token.lookup_self()


# --- tokens -------------------------------------------------------------------


def test_token_lifecycle_through_hvac(root, keyward):
    created = root.auth.token.create(
        policies=["default"], ttl="1h", explicit_max_ttl="2h", display_name="my app!", meta={"team": "blue"},
        num_uses=0, renewable=True)["auth"]
    token, accessor = created["client_token"], created["accessor"]
    assert created["lease_duration"] == 3600 and created["renewable"] is True
    assert created["policies"] == ["default"] and created["metadata"] == {"team": "blue"}
    me = client_for(keyward, token)
    data = me.auth.token.lookup_self()["data"]
    assert data["display_name"] == "token-my-app"
    assert data["accessor"] == accessor and data["explicit_max_ttl"] == 7200
    assert 3590 <= data["ttl"] <= 3600 and data["meta"] == {"team": "blue"}
    assert root.auth.token.lookup(token)["data"]["accessor"] == accessor
    assert root.auth.token.lookup_accessor(accessor)["data"]["accessor"] == accessor
    assert "id" not in root.auth.token.lookup_accessor(accessor)["data"] or \
        root.auth.token.lookup_accessor(accessor)["data"]["id"] == ""
    assert accessor in root.auth.token.list_accessors()["data"]["keys"]
    # Renewal cannot pass the explicit max TTL.
    renewed = me.auth.token.renew_self(increment="3h")["auth"]
    assert 7100 <= renewed["lease_duration"] <= 7200
    assert root.auth.token.renew(token, increment="30m")["auth"]["lease_duration"] == 1800
    assert root.auth.token.renew_accessor(accessor, increment="40m")["auth"]["lease_duration"] == 2400
    root.auth.token.revoke_accessor(accessor)
    with pytest.raises(exceptions.Forbidden):
        me.auth.token.lookup_self()
    with pytest.raises(exceptions.InvalidRequest, match="invalid accessor"):
        root.auth.token.lookup_accessor(accessor)
    with pytest.raises(exceptions.InvalidRequest, match="token not found"):
        root.auth.token.renew(token)
    # A token with uses left is spent by each request, the last one included.
    limited = client_for(keyward, root.auth.token.create(policies=["default"], num_uses=2)["auth"]["client_token"])
    assert limited.auth.token.lookup_self()["data"]["num_uses"] == 1
    limited.auth.token.lookup_self()
    with pytest.raises(exceptions.Forbidden):
        limited.auth.token.lookup_self()
    # A caller may revoke its own token.
    own = client_for(keyward, token_with(root, "default"))
    own.auth.token.revoke_self()
    with pytest.raises(exceptions.Forbidden):
        own.auth.token.lookup_self()


def test_token_past_its_ttl_is_refused(root, keyward):
    short = client_for(keyward, root.auth.token.create(policies=["default"], ttl="1s")["auth"]["client_token"])
    assert short.auth.token.lookup_self()["data"]["ttl"] <= 1
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            short.auth.token.lookup_self()
        except exceptions.Forbidden:
            return
        time.sleep(0.2)
    pytest.fail("a token with ttl=1s was still accepted 10 s later")


def test_revoked_parent_takes_its_children(root, keyward):
    root.sys.create_or_update_policy(
        name="token-maker",
        policy='path "auth/token/create" { capabilities = ["update"] }\n'
               'path "auth/token/create-orphan" { capabilities = ["update"] }\n')
    parent_token = token_with(root, "token-maker")
    parent = client_for(keyward, parent_token)
    child = client_for(keyward, parent.auth.token.create(policies=["default"])["auth"]["client_token"])
    orphan = client_for(keyward, parent.auth.token.create_orphan(policies=["default"])["auth"]["client_token"])
    # A child cannot hold a policy its parent lacks.
    with pytest.raises(exceptions.InvalidRequest, match="child policies must be subset of parent"):
        parent.auth.token.create(policies=["enc-create-not-held"])
    assert child.auth.token.lookup_self()["data"]["orphan"] is False
    assert orphan.auth.token.lookup_self()["data"]["orphan"] is True
    root.auth.token.revoke(parent_token)
    for revoked in (parent, child):
        with pytest.raises(exceptions.Forbidden, match="permission denied"):
            revoked.auth.token.lookup_self()
    assert orphan.auth.token.lookup_self()["data"]["policies"] == ["default"]


# --- userpass -------------------------------------------------------------------


def test_userpass_login_gives_the_role_named_policies(root, keyward):
    s = keyward.session()
    s.auth = ("admin", keyward.admin_password)
    api = keyward.url + "/_plugins/_security/api"
    for role in ("vault-encrypt", "vault-unused"):
        assert s.put(f"{api}/roles/{role}", json={"cluster_permissions": []}).status_code in (200, 201)
    r = s.put(f"{api}/internalusers/vaulter",
              json={"password": PASSWORD, "opendistro_security_roles": ["vault-encrypt", "vault-unused"]})
    assert r.status_code in (200, 201), r.text
    root.sys.create_or_update_policy(
        name="vault-encrypt", policy='path "transit/encrypt/login-key" { capabilities = ["create", "update"] }')

    c = hvac.Client(url=keyward.url, verify=keyward.ca)
    auth = c.auth.userpass.login(username="vaulter", password=PASSWORD)["auth"]
    # Every role becomes a policy name; only existing policies grant anything.
    assert set(auth["policies"]) == {"default", "vault-encrypt", "vault-unused"}
    assert auth["metadata"] == {"username": "vaulter"}
    assert c.token == auth["client_token"] and c.is_authenticated()
    assert c.secrets.transit.encrypt_data("login-key", plaintext="aGk=")["data"]["ciphertext"].startswith("vault:v1:")
    with pytest.raises(exceptions.Forbidden):
        c.secrets.transit.encrypt_data("another-key", plaintext="aGk=")
    assert c.auth.token.lookup_self()["data"]["display_name"] == "userpass-vaulter"

    with pytest.raises(exceptions.InvalidRequest, match="invalid username or password"):
        hvac.Client(url=keyward.url, verify=keyward.ca).auth.userpass.login(username="vaulter", password="wrong")
    with pytest.raises(exceptions.InvalidRequest, match="invalid username or password"):
        hvac.Client(url=keyward.url, verify=keyward.ca).auth.userpass.login(username="nobody", password=PASSWORD)


def test_all_access_logs_in_as_root(keyward):
    c = hvac.Client(url=keyward.url, verify=keyward.ca)
    auth = c.auth.userpass.login(username="admin", password=keyward.admin_password)["auth"]
    assert auth["policies"] == ["root"]
    # root may do what no policy names.
    c.sys.create_or_update_policy(name="made-by-admin", policy='path "x" { capabilities = ["read"] }')
    assert "made-by-admin" in c.sys.list_policies()["data"]["policies"]
