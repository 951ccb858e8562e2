"""Audit logging with the real clients: opensearch-py's audit configuration
calls and python-arango's log level calls against keyward, and the JSON
lines they cause in the audit log (dev mode: DATA_DIR/audit.log)."""

import json
import time

import pytest
from arango import ArangoClient
from arango.exceptions import ServerLogLevelError, ServerLogLevelSetError
from opensearchpy import OpenSearch
from opensearchpy.exceptions import AuthenticationException, RequestError

from conftest import ADMIN_PASSWORD

WRONG_PASSWORD = "Not-The-Password-7"


def opensearch(keyward, **auth) -> OpenSearch:
    return OpenSearch(
        hosts=[{"host": "127.0.0.1", "port": keyward.port}],
        use_ssl=True,
        verify_certs=True,
        ca_certs=keyward.ca,
        ssl_show_warn=False,
        **auth,
    )


def audit_lines(keyward):
    path = keyward.data_dir / "audit.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def wait_for(keyward, what, pred, timeout=15.0):
    """The first audit line matching `pred`, and how many lines precede it."""
    deadline = time.time() + timeout
    while True:
        lines = audit_lines(keyward)
        for i, line in enumerate(lines):
            if pred(line):
                return line, i
        if time.time() > deadline:
            raise AssertionError(f"no audit line for {what}: {lines[-20:]}")
        time.sleep(0.05)


def failed_login_of(user):
    return lambda v: v.get("audit_category") == "FAILED_LOGIN" and v.get("audit_request_effective_user") == user


@pytest.fixture(scope="module")
def admin(keyward):
    return opensearch(keyward, http_auth=("admin", ADMIN_PASSWORD))


@pytest.fixture(scope="module")
def sys_db(keyward):
    client = ArangoClient(hosts=keyward.url, verify_override=keyward.ca)
    return client.db("_system", superuser_token=keyward.root_token)


def test_opensearch_py_reads_and_changes_the_audit_configuration(keyward, admin):
    doc = admin.security.get_audit_configuration()
    assert doc["_readonly"] == []
    config = doc["config"]
    assert config["enabled"] is True
    assert sorted(config["audit"]["disabled_rest_categories"]) == ["AUTHENTICATED", "GRANTED_PRIVILEGES"]
    assert config["audit"]["ignore_users"] == ["kibanaserver"]
    assert config["compliance"]["internal_config"] is True

    # The GET body sent back as it is: the plugin's invalid_keys.
    with pytest.raises(RequestError) as err:
        admin.security.update_audit_configuration(body=doc)
    assert err.value.status_code == 400

    config["audit"]["disabled_rest_categories"] = []
    config["audit"]["ignore_users"] = ["NONE"]
    answer = admin.security.update_audit_configuration(body=config)
    assert answer == {"status": "OK", "message": "'config' updated."}
    answer = admin.security.patch_audit_configuration(
        body=[{"op": "replace", "path": "/config/audit/log_request_body", "value": False}]
    )
    assert answer["status"] == "OK"
    after = admin.security.get_audit_configuration()["config"]
    assert after["audit"]["disabled_rest_categories"] == []
    assert after["audit"]["log_request_body"] is False

    # The change itself is a compliance event, by name.
    line, _ = wait_for(
        keyward,
        "the audit configuration change",
        lambda v: v.get("audit_category") == "COMPLIANCE_INTERNAL_CONFIG_WRITE" and v.get("audit_trace_doc_id") == "audit",
    )
    assert line["audit_request_effective_user"] == "admin"
    assert line["audit_format_version"] == 4

    # A failed login through the client: one FAILED_LOGIN line with the
    # name given, never the password.
    with pytest.raises(AuthenticationException):
        opensearch(keyward, http_auth=("py-intruder", WRONG_PASSWORD)).security.get_audit_configuration()
    line, _ = wait_for(keyward, "py-intruder's failed login", failed_login_of("py-intruder"))
    assert line["audit_rest_request_path"] == "/_plugins/_security/api/audit"
    assert line["audit_request_origin"] == "REST"
    assert line["audit_topic"] == "audit-authentication"
    # With every category on, the admin's requests are granted and audited.
    wait_for(
        keyward,
        "a granted request",
        lambda v: v.get("audit_category") == "GRANTED_PRIVILEGES" and v.get("audit_request_effective_user") == "admin",
    )
    text = (keyward.data_dir / "audit.log").read_text()
    assert WRONG_PASSWORD not in text
    assert ADMIN_PASSWORD not in text
    assert keyward.root_token not in text


def test_python_arango_log_levels(keyward, sys_db):
    first = sys_db.log_levels()
    assert isinstance(first, dict)
    for topic in ("audit-authentication", "audit-authorization", "audit-document", "general", "agency"):
        assert topic in first
    assert first["audit-authentication"] == "INFO"
    # python-arango sends withAppenders=1, which ArangoDB reads as false: the flat map.
    flat = sys_db.log_levels(with_appenders=True)
    assert flat.keys() == first.keys()

    result = sys_db.set_log_levels(agency="DEBUG", engines="INFO", threads="WARNING")
    assert result["agency"] == "DEBUG" and result["engines"] == "INFO" and result["threads"] == "WARNING"
    assert sys_db.log_levels() == result

    with pytest.raises(ServerLogLevelSetError) as err:
        sys_db.set_log_levels(invalidTopic="info")
    assert err.value.http_code == 400
    assert sys_db.log_levels() == result, "a refused change changes nothing"

    reset = sys_db.reset_log_levels()
    assert reset.keys() == first.keys()
    assert reset == first

    bad = ArangoClient(hosts=keyward.url, verify_override=keyward.ca).db("_system", superuser_token="bad_token")
    with pytest.raises(ServerLogLevelError) as err:
        bad.log_levels()
    assert err.value.error_code in (11, 1228)


def test_an_audit_topic_at_warning_silences_its_events(keyward, admin, sys_db):
    # Every category on (the first test may not have run).
    config = admin.security.get_audit_configuration()["config"]
    config["audit"]["disabled_rest_categories"] = []
    config["audit"]["ignore_users"] = ["NONE"]
    admin.security.update_audit_configuration(body=config)

    assert sys_db.set_log_levels(**{"audit-authentication": "WARNING"})["audit-authentication"] == "WARNING"
    # The level change is audited (audit-service), and marks the point from which to look.
    _, start = wait_for(
        keyward,
        "the log level change",
        lambda v: v.get("audit_trace_doc_id") == "log-levels" and "audit-authentication" in (v.get("audit_trace_resources") or []),
    )
    with pytest.raises(AuthenticationException):
        opensearch(keyward, http_auth=("py-silenced", WRONG_PASSWORD)).security.get_audit_configuration()
    # A request filed under audit-authorization is still written: it marks
    # the point by which the failed login would have been written too.
    admin.security.get_audit_configuration()
    granted = lambda v: (
        v.get("audit_category") == "GRANTED_PRIVILEGES"
        and v.get("audit_rest_request_method") == "GET"
        and v.get("audit_rest_request_path") == "/_plugins/_security/api/audit"
    )
    deadline = time.time() + 15
    while not any(granted(v) for v in audit_lines(keyward)[start + 1:]):
        assert time.time() < deadline, "no granted request after the level change"
        time.sleep(0.05)
    lines = audit_lines(keyward)
    assert not any(failed_login_of("py-silenced")(v) for v in lines), "audit-authentication at WARNING still wrote"

    sys_db.reset_log_levels()
    with pytest.raises(AuthenticationException):
        opensearch(keyward, http_auth=("py-heard", WRONG_PASSWORD)).security.get_audit_configuration()
    wait_for(keyward, "the failed login after the reset", failed_login_of("py-heard"))
