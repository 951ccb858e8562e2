"""opensearch-py's security client (the pinned 3.2.0) against keyward: every
method of the spec's section 17 that keyward serves."""

import pytest
from opensearchpy import OpenSearch
from opensearchpy.exceptions import AuthorizationException, NotFoundError, RequestError

from conftest import ADMIN_PASSWORD

PASSWORD = "opensearchpy@123"
NEW_PASSWORD = "123@opensearchpy"


def client(keyward, **auth) -> OpenSearch:
    return OpenSearch(
        hosts=[{"host": "127.0.0.1", "port": keyward.port}],
        use_ssl=True,
        verify_certs=True,
        ca_certs=keyward.ca,
        ssl_show_warn=False,
        **auth,
    )


@pytest.fixture(scope="module")
def admin(keyward):
    return client(keyward, http_auth=("admin", ADMIN_PASSWORD))


@pytest.fixture(scope="module")
def cert(keyward):
    tls = keyward.data_dir / "tls"
    return client(keyward, client_cert=str(tls / "admin.pem"), client_key=str(tls / "admin-key.pem"))


def ok(response):
    assert response["status"] in ("CREATED", "OK"), response
    assert "errors" not in response


def test_users_crud_patch_and_legacy(admin):
    ok(admin.security.create_user(username="py-user", body={"password": PASSWORD, "backend_roles": ["b1"]}))
    user = admin.security.get_user(username="py-user")["py-user"]
    assert user["hash"] == "" and user["backend_roles"] == ["b1"]
    assert "py-user" in admin.security.get_users()
    ok(admin.security.patch_user(username="py-user", body=[{"op": "add", "path": "/backend_roles/-", "value": "b2"}]))
    assert admin.security.get_user(username="py-user")["py-user"]["backend_roles"] == ["b1", "b2"]
    ok(admin.security.patch_users(body=[{"op": "add", "path": "/py-user2", "value": {"password": NEW_PASSWORD}}]))
    ok(admin.security.create_user_legacy(username="py-legacy", body={"password": PASSWORD}))
    assert "py-legacy" in admin.security.get_user_legacy(username="py-legacy")
    assert "py-legacy" in admin.security.get_users_legacy()
    ok(admin.security.delete_user_legacy(username="py-legacy"))
    ok(admin.security.delete_user(username="py-user2"))
    with pytest.raises(NotFoundError):
        admin.security.get_user(username="py-user2")
    with pytest.raises(RequestError):
        admin.security.create_user(username="weak", body={"password": "test_password"})


def test_roles_mappings_action_groups_tenants(admin):
    ok(admin.security.create_role(role="py-role", body={"cluster_permissions": ["cluster_monitor"]}))
    assert admin.security.get_role(role="py-role")["py-role"]["cluster_permissions"] == ["cluster_monitor"]
    assert "all_access" in admin.security.get_roles()
    ok(admin.security.patch_role(role="py-role", body=[{"op": "add", "path": "/description", "value": "d"}]))
    ok(admin.security.patch_roles(body=[{"op": "add", "path": "/py-role2", "value": {"cluster_permissions": []}}]))

    ok(admin.security.create_role_mapping(role="py-role", body={"users": ["py-user"]}))
    assert admin.security.get_role_mapping(role="py-role")["py-role"]["users"] == ["py-user"]
    assert "py-role" in admin.security.get_role_mappings()
    ok(admin.security.patch_role_mapping(role="py-role", body=[{"op": "add", "path": "/backend_roles", "value": ["x"]}]))
    ok(admin.security.patch_role_mappings(body=[{"op": "add", "path": "/py-role2", "value": {"users": ["u"]}}]))
    ok(admin.security.delete_role_mapping(role="py-role2"))

    ok(admin.security.create_action_group(action_group="py-group", body={"allowed_actions": ["indices:data/read*"]}))
    assert admin.security.get_action_group(action_group="py-group")["py-group"]["allowed_actions"] == ["indices:data/read*"]
    assert "read" in admin.security.get_action_groups()
    ok(admin.security.patch_action_group(action_group="py-group", body=[{"op": "add", "path": "/type", "value": "index"}]))
    ok(admin.security.patch_action_groups(body=[{"op": "remove", "path": "/py-group"}]))

    ok(admin.security.create_tenant(tenant="py-tenant", body={"description": "t"}))
    assert admin.security.get_tenant(tenant="py-tenant")["py-tenant"]["description"] == "t"
    assert "global_tenant" in admin.security.get_tenants()
    ok(admin.security.patch_tenant(tenant="py-tenant", body=[{"op": "replace", "path": "/description", "value": "t2"}]))
    ok(admin.security.patch_tenants(body=[{"op": "add", "path": "/py-tenant2", "value": {"description": "x"}}]))
    ok(admin.security.delete_tenant(tenant="py-tenant2"))
    ok(admin.security.delete_role(role="py-role2"))


def test_account_and_change_password(keyward, admin):
    ok(admin.security.create_user(username="py-self", body={"password": PASSWORD}))
    me = client(keyward, http_auth=("py-self", PASSWORD))
    details = me.security.get_account_details()
    assert details["user_name"] == "py-self" and details["is_internal_user"] is True
    ok(me.security.change_password(body={"current_password": PASSWORD, "password": NEW_PASSWORD}))
    with pytest.raises(Exception):
        me.security.get_account_details()
    assert client(keyward, http_auth=("py-self", NEW_PASSWORD)).security.get_account_details()["user_name"] == "py-self"


def test_configuration_cache_health_and_info(keyward, admin):
    config = admin.security.get_configuration()
    assert "authc" in config["config"]["dynamic"]
    with pytest.raises(AuthorizationException):
        admin.security.update_configuration(body={"dynamic": config["config"]["dynamic"]})
    with pytest.raises(AuthorizationException):
        admin.security.patch_configuration(body=[{"op": "add", "path": "/config/dynamic/hosts_resolver_mode", "value": "x"}])
    ok(admin.security.flush_cache())
    ok(admin.security.cache())
    assert admin.security.health()["status"] == "UP"
    assert client(keyward).security.health()["status"] == "UP"
    info = admin.security.authinfo()
    assert info["user_name"] == "admin" and "all_access" in info["roles"]
    perms = admin.security.get_permissions_info()
    assert perms["has_api_access"] is True
    tenancy = admin.security.get_tenancy_config()
    assert tenancy["multitenancy_enabled"] is True
    assert admin.security.create_update_tenancy_config(body={"default_tenant": "global_tenant"})["default_tenant"] == "global_tenant"


def test_admin_certificate_endpoints(cert, admin):
    assert cert.security.who_am_i()["is_admin"] is True
    ok(cert.security.update_distinguished_name(cluster_name="py-cluster", body={"nodes_dn": ["CN=py.example.com"]}))
    assert cert.security.get_distinguished_name(cluster_name="py-cluster")["py-cluster"]["nodes_dn"] == ["CN=py.example.com"]
    assert "py-cluster" in cert.security.get_distinguished_names()
    ok(cert.security.patch_distinguished_names(body=[{"op": "add", "path": "/py-cluster2", "value": {"nodes_dn": ["CN=b"]}}]))
    ok(cert.security.delete_distinguished_name(cluster_name="py-cluster2"))
    with pytest.raises(AuthorizationException):
        admin.security.get_distinguished_names()

    assert cert.security.get_allowlist()["config"]["enabled"] is False
    ok(cert.security.create_allowlist(body={"enabled": False, "requests": {"/_cat/nodes": ["GET"]}}))
    ok(cert.security.patch_allowlist(body=[{"op": "add", "path": "/config/requests/~1_cat~1health", "value": ["GET"]}]))
    assert "/_cat/health" in cert.security.get_allowlist()["config"]["requests"]
    with pytest.raises(AuthorizationException):
        admin.security.get_allowlist()


def test_dashboards_info_and_whoami_protected(admin, cert, keyward):
    info = admin.security.get_dashboards_info()
    assert info["user_name"] == "admin" and info["multitenancy_enabled"] is True
    assert "password_validation_regex" in admin.security.post_dashboards_info()
    assert admin.security.who_am_i_protected()["is_admin"] is False
    assert cert.security.who_am_i_protected()["is_admin"] is True
    ok(admin.security.create_user(username="py-nobody", body={"password": PASSWORD}))
    with pytest.raises(AuthorizationException):
        client(keyward, http_auth=("py-nobody", PASSWORD)).security.who_am_i_protected()
