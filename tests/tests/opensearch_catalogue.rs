//! The spec's catalogue of request → answer cases (opensearch-security.md
//! §19), run against the real binary. Each case names its caller, request
//! and expected answer; `P` is either prefix (alternating, as the plugin's
//! own tests pick one at random) unless the case is `_plugins` only.
//! Cases of other issues (audit #65–69, ssl #70–75) are not here.

use keyward_tests::{Client, Options, Reply, Server, Value, basic, json};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Caller {
    Nobody,
    Admin,
    AdminWrongPassword,
    Plain,
    Cert,
    RestAdmin,
}

/// What the answer must show.
enum Expect {
    /// The body holds at least these keys with these values.
    Json(Value),
    /// The body is exactly this text.
    Text(&'static str),
    /// This JSON string field starts with the text.
    StartsWith(&'static str, &'static str),
    /// This JSON string field contains the text.
    Contains(&'static str, &'static str),
    /// Only the status is checked.
    Status,
}

struct Case {
    n: u32,
    caller: Caller,
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    status: u16,
    expect: Expect,
    plugins_only: bool,
}

fn case(
    n: u32,
    caller: Caller,
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    status: u16,
    expect: Expect,
) -> Case {
    Case {
        n,
        caller,
        method,
        path,
        body,
        status,
        expect,
        plugins_only: false,
    }
}

fn plugins_only(mut c: Case) -> Case {
    c.plugins_only = true;
    c
}

/// `expected` is contained in `actual` (objects by key, the rest equal).
fn contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| contains(av, v))),
        (a, e) => a == e,
    }
}

const ADMIN_PASSWORD: &str = "Test-Admin-Password-1";
const PLAIN_PASSWORD: &str = "Hj4%kLp9@wEr";
const PLAIN_NEW_PASSWORD: &str = "Tn6*bVc3#xZq";
const RESTADMIN_PASSWORD: &str = "Rq8$wXz2!mKp";

struct World<'a> {
    server: &'a Server,
    plain_password: String,
    cert: Client,
}

impl World<'_> {
    fn send(&self, c: &Case, prefix: &str) -> Reply {
        let path = c.path.replacen("P/", &format!("{prefix}/"), 1);
        let body = c.body.map(|b| b.replace("<pw>", &self.plain_password));
        let auth = match c.caller {
            Caller::Admin => Some(basic("admin", ADMIN_PASSWORD)),
            Caller::AdminWrongPassword => Some(basic("admin", "wrong")),
            Caller::Plain => Some(basic("plain", &self.plain_password)),
            Caller::RestAdmin => Some(basic("restadmin", RESTADMIN_PASSWORD)),
            Caller::Nobody | Caller::Cert => None,
        };
        let mut headers = vec![("content-type", "application/json")];
        if let Some(a) = &auth {
            headers.push(("authorization", a.as_str()));
        }
        let client = if c.caller == Caller::Cert {
            self.cert.clone()
        } else {
            self.server.client()
        };
        client.request(
            c.method,
            &path,
            &headers,
            body.as_deref().map(str::as_bytes),
        )
    }

    fn run(&mut self, cases: &[Case]) {
        for (i, c) in cases.iter().enumerate() {
            let legacy = !c.plugins_only && i % 2 == 1;
            let prefix = if legacy {
                "/_opendistro/_security/api"
            } else {
                "/_plugins/_security/api"
            };
            let reply = self.send(c, prefix);
            let what = format!("case #{} {} {} ({prefix})", c.n, c.method, c.path);
            assert_eq!(reply.status, c.status, "{what}: {}", reply.body);
            if legacy
                && c.path.starts_with("P/")
                && ![401, 405].contains(&reply.status)
                && c.path != "P/allowlist"
            {
                let warning = reply.header("warning").unwrap_or_default();
                assert!(
                    warning.contains("[_opendistro/_security] is a deprecated endpoint path"),
                    "{what}: warning {warning:?}"
                );
            }
            match &c.expect {
                Expect::Json(e) => assert!(
                    contains(&reply.json(), e),
                    "{what}: {} does not contain {e}",
                    reply.body
                ),
                Expect::Text(t) => assert_eq!(reply.body, *t, "{what}"),
                Expect::StartsWith(f, t) => {
                    let v = reply.json();
                    let s = v[*f].as_str().unwrap_or_default();
                    assert!(s.starts_with(t), "{what}: {f} = {s:?}");
                }
                Expect::Contains(f, t) => {
                    let v = reply.json();
                    let s = v[*f]
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v[*f].to_string());
                    assert!(s.contains(t), "{what}: {f} = {s:?}");
                }
                Expect::Status => {}
            }
            if c.n == 8 {
                self.plain_password = PLAIN_NEW_PASSWORD.into();
            }
        }
    }
}

fn can_login(server: &Server, user: &str, password: &str) -> bool {
    server
        .client()
        .request(
            "GET",
            "/_plugins/_security/api/account",
            &[("authorization", &basic(user, password))],
            None,
        )
        .status
        == 200
}

fn create_plain(server: &Server) {
    let reply = server.client().request(
        "PUT",
        "/_plugins/_security/api/internalusers/plain",
        &[
            ("authorization", &basic("admin", ADMIN_PASSWORD)),
            ("content-type", "application/json"),
        ],
        Some(format!(r#"{{"password":"{PLAIN_PASSWORD}"}}"#).as_bytes()),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
}

#[test]
fn the_catalogue_against_a_dev_server() {
    use Caller::*;
    use Expect::*;
    let server = Server::start();
    create_plain(&server);
    let mut world = World {
        server: &server,
        plain_password: PLAIN_PASSWORD.into(),
        cert: server.admin_cert_client(),
    };

    let accounts = vec![
        case(1, Nobody, "GET", "P/roles", None, 401, Text("Unauthorized")),
        case(
            2,
            AdminWrongPassword,
            "GET",
            "P/account",
            None,
            401,
            Text("Unauthorized"),
        ),
        case(
            4,
            Plain,
            "GET",
            "P/roles",
            None,
            403,
            StartsWith(
                "message",
                "No permission to access REST API: User plain with Security roles []",
            ),
        ),
        case(
            4,
            Plain,
            "GET",
            "P/roles",
            None,
            403,
            Contains(
                "message",
                "does not have any role privileged for admin access",
            ),
        ),
        case(
            5,
            Plain,
            "GET",
            "P/account",
            None,
            200,
            Json(
                json!({"user_name":"plain","is_reserved":false,"is_hidden":false,"is_internal_user":true,"user_requested_tenant":null,"backend_roles":[],"custom_attribute_names":[],"tenants":{"plain":true}}),
            ),
        ),
        case(
            6,
            Plain,
            "PUT",
            "P/account",
            Some(r#"{"current_password":"nope","password":"Tn6*bVc3#xZq"}"#),
            400,
            Json(
                json!({"status":"BAD_REQUEST","message":"Could not validate your current password."}),
            ),
        ),
        case(
            7,
            Plain,
            "PUT",
            "P/account",
            Some(r#"{"password":"Tn6*bVc3#xZq"}"#),
            400,
            Json(
                json!({"status":"error","reason":"Invalid configuration","missing_mandatory_keys":{"keys":"current_password"}}),
            ),
        ),
        case(
            8,
            Plain,
            "PUT",
            "P/account",
            Some(r#"{"current_password":"Hj4%kLp9@wEr","password":"Tn6*bVc3#xZq"}"#),
            200,
            Json(json!({"status":"OK","message":"'plain' updated."})),
        ),
        case(
            9,
            Plain,
            "PUT",
            "P/account",
            Some(r#"{"current_password":"<pw>"}"#),
            400,
            Json(
                json!({"status":"BAD_REQUEST","message":"Both provided password and hash cannot be null/empty."}),
            ),
        ),
        case(
            10,
            Plain,
            "PUT",
            "P/account",
            Some(r#"{"current_password":"<pw>","password":""}"#),
            400,
            Json(json!({"status":"error","reason":"Password is too short"})),
        ),
        case(
            11,
            Plain,
            "PUT",
            "P/account",
            Some(r#"{"current_password":"<pw>","backend_roles":[]}"#),
            400,
            Json(json!({"invalid_keys":{"keys":"backend_roles"}})),
        ),
        case(
            12,
            Admin,
            "PUT",
            "P/account",
            Some(r#"{"current_password":"Test-Admin-Password-1","password":"Mf2!gHs8$dKw"}"#),
            403,
            Json(json!({"status":"FORBIDDEN","message":"Resource 'admin' is reserved."})),
        ),
        case(
            13,
            Cert,
            "PUT",
            "P/account",
            Some(r#"{"current_password":"x","password":"Mf2!gHs8$dKw"}"#),
            404,
            Json(
                json!({"status":"NOT_FOUND","message":"account 'CN=admin,OU=keyward,O=keyward' not found."}),
            ),
        ),
    ];
    world.run(&accounts);
    assert!(can_login(&server, "plain", PLAIN_NEW_PASSWORD));
    assert!(!can_login(&server, "plain", PLAIN_PASSWORD));

    let users = vec![
        case(
            14,
            Admin,
            "PUT",
            "P/internalusers/kirk",
            Some(r#"{"password":"Xk9#qLm2$vTr","backend_roles":["captains"]}"#),
            201,
            Json(json!({"status":"CREATED","message":"'kirk' created."})),
        ),
        case(
            15,
            Admin,
            "PUT",
            "P/internalusers/kirk",
            Some(r#"{"password":"Xk9#qLm2$vTr","backend_roles":["captains"]}"#),
            200,
            Json(json!({"status":"OK","message":"'kirk' updated."})),
        ),
        case(
            16,
            Admin,
            "GET",
            "P/internalusers/kirk",
            None,
            200,
            Json(
                json!({"kirk":{"hash":"","reserved":false,"hidden":false,"backend_roles":["captains"],"attributes":{},"opendistro_security_roles":[],"static":false}}),
            ),
        ),
        case(
            17,
            Admin,
            "PUT",
            "P/internalusers/kirk",
            Some(r#"{"backend_roles":["x"]}"#),
            200,
            Json(json!({"message":"'kirk' updated."})),
        ),
    ];
    world.run(&users);
    assert!(
        can_login(&server, "kirk", "Xk9#qLm2$vTr"),
        "an update without a password keeps the old one"
    );

    let long = Box::leak(format!(r#"{{"password":"{}"}}"#, "Aa1$".repeat(26)).into_boxed_str());
    let users = vec![
        case(
            18,
            Admin,
            "PUT",
            "P/internalusers/newbie",
            Some(r#"{"backend_roles":["x"]}"#),
            400,
            Json(
                json!({"status":"BAD_REQUEST","message":"Please specify either 'hash' or 'password' when creating a new internal user."}),
            ),
        ),
        case(
            19,
            Admin,
            "PUT",
            "P/internalusers/weak",
            Some(r#"{"password":"kirkpass"}"#),
            400,
            Json(json!({"status":"error","reason":"Weak password"})),
        ),
        case(
            20,
            Admin,
            "PUT",
            "P/internalusers/some_user_name",
            Some(r#"{"password":"H3235,cc,some_User_Name"}"#),
            400,
            Json(json!({"status":"error","reason":"Password is similar to user name"})),
        ),
        case(
            21,
            Admin,
            "PUT",
            "P/internalusers/long",
            Some(long),
            400,
            Json(json!({"status":"error","reason":"Password is too long"})),
        ),
        case(
            22,
            Admin,
            "PUT",
            "P/internalusers/a%3Ab",
            Some(r#"{"password":"Xk9#qLm2$vTr"}"#),
            400,
            Json(
                json!({"status":"BAD_REQUEST","message":"A restricted character(s) was detected in the account name. Please remove: ':'"}),
            ),
        ),
        case(
            23,
            Admin,
            "PUT",
            "P/internalusers/u1",
            Some(
                r#"{"password":["a"],"hash":null,"backend_roles":"c","attributes":"d","opendistro_security_roles":"e"}"#,
            ),
            400,
            Json(
                json!({"status":"error","reason":"Wrong datatype","password":"String expected","hash":"String expected","backend_roles":"Array expected","attributes":"Object expected","opendistro_security_roles":"Array expected"}),
            ),
        ),
        case(
            24,
            Admin,
            "PUT",
            "P/internalusers/u1",
            Some(r#"{"password":"Xk9#qLm2$vTr","unknown":1}"#),
            400,
            Json(json!({"reason":"Invalid configuration","invalid_keys":{"keys":"unknown"}})),
        ),
        case(
            25,
            Admin,
            "PUT",
            "P/internalusers/u1",
            Some(r#"{"password":"Xk9#qLm2$vTr","hidden":true}"#),
            400,
            Json(json!({"invalid_keys":{"keys":"hidden"}})),
        ),
        case(
            26,
            Admin,
            "PUT",
            "P/internalusers/u1",
            Some(r#"{"password":"Xk9#qLm2$vTr","opendistro_security_roles":["nope"]}"#),
            404,
            Json(json!({"status":"NOT_FOUND","message":"role 'nope' not found."})),
        ),
        case(
            27,
            Admin,
            "PUT",
            "P/internalusers/u1",
            Some(r#"{"password":"Xk9#qLm2$vTr","backend_roles":["a",""]}"#),
            400,
            Json(
                json!({"status":"error","reason":"`null` or blank values are not allowed as json array elements"}),
            ),
        ),
        case(
            28,
            Admin,
            "PUT",
            "P/internalusers/u1",
            Some("{}"),
            400,
            Json(json!({"status":"error","reason":"Request body required for this action."})),
        ),
        case(
            29,
            Admin,
            "PUT",
            "P/internalusers/u1",
            Some(r#"{"backend_roles":[],"backend_roles":[]}"#),
            400,
            Json(json!({"status":"error","reason":"Could not parse content of request."})),
        ),
        case(
            30,
            Admin,
            "DELETE",
            "P/internalusers/kirk",
            None,
            200,
            Json(json!({"status":"OK","message":"'kirk' deleted."})),
        ),
        case(
            30,
            Admin,
            "GET",
            "P/internalusers/kirk",
            None,
            404,
            Json(json!({"status":"NOT_FOUND","message":"user 'kirk' not found."})),
        ),
        case(
            31,
            Admin,
            "DELETE",
            "P/internalusers/admin",
            None,
            403,
            Json(json!({"status":"FORBIDDEN","message":"Resource 'admin' is reserved."})),
        ),
        case(
            32,
            Admin,
            "PATCH",
            "P/internalusers",
            Some(
                r#"[{"op":"add","path":"/spock","value":{"password":"Xk9#qLm2$vTr","backend_roles":["r1"]}},{"op":"add","path":"/worf","value":{"password":"Wq7!pLz3#nDs","backend_roles":["r2"]}}]"#,
            ),
            200,
            Json(json!({"status":"OK","message":"Resource updated."})),
        ),
        case(
            33,
            Admin,
            "PATCH",
            "P/internalusers/spock",
            Some(r#"[{"op":"replace","path":"/backend_roles","value":["klingons"]}]"#),
            200,
            Json(json!({"status":"OK","message":"'spock' updated."})),
        ),
        case(
            34,
            Admin,
            "PATCH",
            "P/internalusers/spock",
            Some(r#"[{"op":"replace","path":"/backend_roles","value":["klingons"]}]"#),
            200,
            Json(json!({"status":"OK","message":"No updates required"})),
        ),
        // keyward accepts all six RFC 6902 operations: `move` from a missing path is a 400.
        case(
            35,
            Admin,
            "PATCH",
            "P/internalusers/spock",
            Some(r#"[{"op":"move","from":"/a","path":"/b"}]"#),
            400,
            Json(json!({"status":"BAD_REQUEST"})),
        ),
        case(
            36,
            Admin,
            "PATCH",
            "P/internalusers/spock",
            Some(r#"{"op":"add"}"#),
            400,
            Json(json!({"status":"BAD_REQUEST","message":"Wrong request body"})),
        ),
        case(
            37,
            Admin,
            "PATCH",
            "P/internalusers/ghost",
            Some(r#"[{"op":"replace","path":"/backend_roles","value":[]}]"#),
            404,
            Json(json!({"status":"NOT_FOUND","message":"user 'ghost' not found."})),
        ),
        case(
            38,
            Admin,
            "PATCH",
            "P/internalusers",
            Some(r#"[{"op":"remove","path":"/admin"}]"#),
            403,
            Json(json!({"status":"FORBIDDEN","message":"Resource 'admin' is reserved."})),
        ),
        case(
            39,
            Admin,
            "GET",
            "P/internalusers?aaaaa=b",
            None,
            400,
            Contains("error", "unrecognized parameter: [aaaaa]"),
        ),
    ];
    world.run(&users);
    assert!(
        can_login(&server, "spock", "Xk9#qLm2$vTr") && can_login(&server, "worf", "Wq7!pLz3#nDs")
    );
    assert!(can_login(&server, "admin", ADMIN_PASSWORD));

    let roles = vec![
        case(
            40,
            Admin,
            "PUT",
            "P/roles/test-role",
            Some(
                r#"{"cluster_permissions":["cluster_composite_ops"],"index_permissions":[{"index_patterns":["movies*"],"allowed_actions":["read"]}]}"#,
            ),
            201,
            Json(json!({"message":"'test-role' created."})),
        ),
        case(
            40,
            Admin,
            "GET",
            "P/roles/test-role",
            None,
            200,
            Json(
                json!({"test-role":{"reserved":false,"hidden":false,"static":false,"cluster_permissions":["cluster_composite_ops"],"index_permissions":[{"index_patterns":["movies*"],"fls":[],"masked_fields":[],"allowed_actions":["read"]}],"tenant_permissions":[]}}),
            ),
        ),
        case(
            41,
            Admin,
            "PUT",
            "P/roles/r2",
            Some(r#"{"cluster_permissions":"a","index_permissions":"b"}"#),
            400,
            Json(
                json!({"reason":"Wrong datatype","cluster_permissions":"Array expected","index_permissions":"Array expected"}),
            ),
        ),
        case(
            42,
            Admin,
            "PUT",
            "P/roles/all_access",
            Some(r#"{"cluster_permissions":["*"]}"#),
            403,
            Json(json!({"status":"FORBIDDEN","message":"Resource 'all_access' is static."})),
        ),
        case(
            43,
            Admin,
            "DELETE",
            "P/roles/all_access",
            None,
            403,
            Json(json!({"message":"Resource 'all_access' is static."})),
        ),
        case(
            44,
            Admin,
            "GET",
            "P/roles/all_access",
            None,
            200,
            Json(
                json!({"all_access":{"reserved":true,"hidden":false,"static":true,"cluster_permissions":["*"]}}),
            ),
        ),
        case(
            45,
            Admin,
            "PUT",
            "P/roles/r3",
            Some(r#"{"cluster_permissions":["restapi:admin/roles"]}"#),
            403,
            Json(json!({"status":"FORBIDDEN","message":"Access denied"})),
        ),
        case(
            45,
            Cert,
            "PUT",
            "P/roles/r3",
            Some(r#"{"cluster_permissions":["restapi:admin/roles"]}"#),
            403,
            Json(json!({"status":"FORBIDDEN","message":"Access denied"})),
        ),
        case(
            45,
            Admin,
            "PUT",
            "P/rolesmapping/security_rest_api_full_access",
            Some(r#"{"users":["x"]}"#),
            403,
            Json(json!({"status":"FORBIDDEN","message":"Access denied"})),
        ),
        case(
            45,
            Cert,
            "PUT",
            "P/rolesmapping/security_rest_api_full_access",
            Some(r#"{"users":["x"]}"#),
            403,
            Json(json!({"status":"FORBIDDEN","message":"Access denied"})),
        ),
        case(
            46,
            Admin,
            "GET",
            "P/roles/nope",
            None,
            404,
            Json(json!({"status":"NOT_FOUND","message":"role 'nope' not found."})),
        ),
        case(47, Admin, "POST", "P/roles/x", Some("{}"), 405, Status),
        case(
            48,
            Admin,
            "PUT",
            "P/rolesmapping/test-role",
            Some(r#"{"users":["kirk"]}"#),
            201,
            Json(json!({"message":"'test-role' created."})),
        ),
        case(
            48,
            Admin,
            "GET",
            "P/rolesmapping/test-role",
            None,
            200,
            Json(
                json!({"test-role":{"users":["kirk"],"backend_roles":[],"and_backend_roles":[],"hosts":[],"reserved":false,"hidden":false}}),
            ),
        ),
        case(
            49,
            Admin,
            "PUT",
            "P/rolesmapping/unknown_role",
            Some(r#"{"users":[]}"#),
            404,
            Json(json!({"status":"NOT_FOUND","message":"role 'unknown_role' not found."})),
        ),
        case(
            50,
            Admin,
            "PUT",
            "P/rolesmapping/test-role",
            Some(r#"{"description":"x"}"#),
            400,
            Json(
                json!({"reason":"Invalid configuration","specify_one_of":{"keys":"and_backend_roles,backend_roles,hosts,users"}}),
            ),
        ),
        case(
            51,
            Admin,
            "PUT",
            "P/rolesmapping/kibana_server",
            Some(r#"{"users":["x"]}"#),
            403,
            Json(json!({"message":"Resource 'kibana_server' is reserved."})),
        ),
        case(
            52,
            Admin,
            "PUT",
            "P/actiongroups/ag1",
            Some(r#"{"allowed_actions":["indices:data/read*"],"type":"index"}"#),
            201,
            Json(json!({"message":"'ag1' created."})),
        ),
        case(
            53,
            Admin,
            "PUT",
            "P/actiongroups/ag2",
            Some(r#"{"type":"index"}"#),
            400,
            Json(json!({"missing_mandatory_keys":{"keys":"allowed_actions"}})),
        ),
        case(
            54,
            Admin,
            "PUT",
            "P/actiongroups/ag3",
            Some(r#"{"type":"asdasdsad","allowed_actions":["a"]}"#),
            400,
            Json(
                json!({"status":"BAD_REQUEST","message":"Invalid action group type: asdasdsad. Supported types are: cluster, index."}),
            ),
        ),
        case(
            55,
            Admin,
            "PUT",
            "P/actiongroups/selfref",
            Some(r#"{"allowed_actions":["selfref"]}"#),
            400,
            Json(
                json!({"status":"BAD_REQUEST","message":"selfref cannot be an allowed_action of itself"}),
            ),
        ),
        case(
            56,
            Admin,
            "PUT",
            "P/actiongroups/kibana_user",
            Some(r#"{"allowed_actions":["a"]}"#),
            400,
            Json(
                json!({"status":"BAD_REQUEST","message":"kibana_user is an existing role. A action group cannot be named with an existing role name."}),
            ),
        ),
        case(
            57,
            Admin,
            "GET",
            "P/actiongroups/read",
            None,
            200,
            Json(
                json!({"read":{"reserved":true,"static":true,"type":"index","allowed_actions":["indices:data/read*","indices:admin/mappings/fields/get*","indices:admin/resolve/index"]}}),
            ),
        ),
        case(
            58,
            Admin,
            "PUT",
            "P/tenants/hr",
            Some(r#"{"description":"HR"}"#),
            201,
            Json(json!({"message":"'hr' created."})),
        ),
        case(
            58,
            Admin,
            "GET",
            "P/tenants/hr",
            None,
            200,
            Json(json!({"hr":{"reserved":false,"hidden":false,"description":"HR","static":false}})),
        ),
        case(
            59,
            Admin,
            "PUT",
            "P/tenants/global_tenant",
            Some(r#"{"description":"x"}"#),
            403,
            Json(json!({"message":"Resource 'global_tenant' is static."})),
        ),
        case(
            60,
            Admin,
            "PATCH",
            "P/tenants",
            Some(
                r#"[{"op":"add","path":"/t2","value":{"description":"d"}},{"op":"replace","path":"/hr/description","value":"HR2"}]"#,
            ),
            200,
            Json(json!({"message":"Resource updated."})),
        ),
        case(
            61,
            Admin,
            "GET",
            "P/securityconfig",
            None,
            200,
            Json(
                json!({"config":{"dynamic":{"authc":{"basic_internal_auth_domain":{"http_enabled":true}}}}}),
            ),
        ),
        case(
            62,
            Admin,
            "PUT",
            "P/securityconfig/config",
            Some(r#"{"dynamic":{}}"#),
            403,
            Json(json!({"status":"FORBIDDEN","message":"Access denied"})),
        ),
        case(64, Admin, "DELETE", "P/securityconfig", None, 405, Status),
        case(
            76,
            Admin,
            "DELETE",
            "P/cache",
            None,
            200,
            Json(json!({"status":"OK","message":"Cache flushed successfully."})),
        ),
        // keyward accepts the PUT opensearch-py's cache() sends (the plugin answers 405).
        case(
            77,
            Admin,
            "PUT",
            "P/cache",
            None,
            200,
            Json(json!({"status":"OK","message":"Cache flushed successfully."})),
        ),
        case(
            78,
            Admin,
            "GET",
            "/_plugins/_security/authinfo",
            None,
            200,
            Json(json!({"user_name":"admin","backend_roles":["admin"],"peer_certificates":"0"})),
        ),
        case(
            78,
            Admin,
            "GET",
            "/_plugins/_security/authinfo",
            None,
            200,
            StartsWith(
                "user",
                "User [name=admin, backend_roles=[admin], requestedTenant=",
            ),
        ),
        case(
            78,
            Admin,
            "GET",
            "/_plugins/_security/authinfo",
            None,
            200,
            Contains("roles", "all_access"),
        ),
        case(
            79,
            Admin,
            "GET",
            "/_plugins/_security/authinfo?verbose=true",
            None,
            200,
            Contains("size_of_user", "b"),
        ),
        case(
            80,
            Plain,
            "GET",
            "P/permissionsinfo",
            None,
            200,
            Json(json!({"user_name":"plain","has_api_access":false})),
        ),
        case(
            80,
            Plain,
            "GET",
            "P/permissionsinfo",
            None,
            200,
            Contains("disabled_endpoints", "\"ROLESMAPPING\""),
        ),
        case(
            82,
            Cert,
            "PUT",
            "P/nodesdn/cluster1",
            Some(r#"{"nodes_dn":["CN=cluster1.example.com"]}"#),
            201,
            Json(json!({"message":"'cluster1' created."})),
        ),
        case(
            82,
            Cert,
            "GET",
            "P/nodesdn/cluster1",
            None,
            200,
            Json(json!({"cluster1":{"nodes_dn":["CN=cluster1.example.com"]}})),
        ),
        case(
            83,
            Admin,
            "GET",
            "P/nodesdn",
            None,
            403,
            Json(json!({"status":"FORBIDDEN","message":"Access denied"})),
        ),
        plugins_only(case(
            84,
            Cert,
            "PUT",
            "P/allowlist",
            Some(r#"{"enabled":true,"requests":{"/_cat/nodes":["GET"]}}"#),
            200,
            Json(json!({"status":"OK","message":"'config' updated."})),
        )),
        case(
            85,
            Plain,
            "GET",
            "/_cat/indices",
            None,
            403,
            Json(json!({"error":"GET /_cat/indices API not allowlisted","status":"FORBIDDEN"})),
        ),
        case(
            86,
            Plain,
            "GET",
            "/_cat/nodes/",
            None,
            400,
            Contains("error", "no handler found"),
        ),
        plugins_only(case(
            84,
            Cert,
            "PUT",
            "P/allowlist",
            Some(r#"{"enabled":false}"#),
            200,
            Json(json!({"status":"OK"})),
        )),
        plugins_only(case(
            87,
            Admin,
            "GET",
            "P/allowlist",
            None,
            403,
            Json(json!({"status":"FORBIDDEN","message":"Access denied"})),
        )),
        case(
            88,
            Admin,
            "GET",
            "/_opendistro/_security/api/allowlist",
            None,
            400,
            Status,
        ),
        case(
            3,
            Nobody,
            "GET",
            "/_plugins/_security/health",
            None,
            200,
            Json(json!({"status":"UP","mode":"strict","message":null})),
        ),
    ];
    world.run(&roles);
    let reply = server.get("/_plugins/_security/api/roles");
    assert_eq!(
        reply.header("www-authenticate"),
        Some("Basic realm=\"OpenSearch Security\"")
    );
}

/// Cases with other settings: `allow_securityconfig_modification`, nodes DN
/// off (#63, #81); `restapi.admin.enabled` with a REST admin from YAML
/// (#89, #90).
#[test]
fn the_catalogue_cases_with_other_settings() {
    use Caller::*;
    use Expect::*;
    let dir = tempfile_dir();
    let config = dir.join("keyward.toml");
    std::fs::write(
        &config,
        "[security]\nunsupported.restapi.allow_securityconfig_modification = true\nnodes_dn_dynamic_config_enabled = false\n",
    )
    .unwrap();
    let server = Server::start_with(Options {
        args: vec!["--config".into(), config.display().to_string()],
        ..Options::default()
    });
    let mut world = World {
        server: &server,
        plain_password: PLAIN_PASSWORD.into(),
        cert: server.admin_cert_client(),
    };
    world.run(&[
        case(63, Admin, "PATCH", "P/securityconfig", Some(r#"[{"op":"add","path":"/config/dynamic/hosts_resolver_mode","value":"other"}]"#), 200, Json(json!({"status":"OK","message":"Resource updated."}))),
        case(63, Admin, "PATCH", "P/securityconfig", Some(r#"[{"op":"replace","path":"/config/dynamic/hosts_resolver_mode","value":"other"}]"#), 200, Json(json!({"status":"OK","message":"No updates required"}))),
        case(81, Admin, "GET", "P/nodesdn", None, 400, Contains("error", "no handler found")),
    ]);
    drop(server);

    // A REST admin needs its role from YAML: the API refuses to grant restapi:admin/*.
    let yaml = dir.join("security");
    std::fs::create_dir_all(&yaml).unwrap();
    for (ty, text) in rbac_demo_files() {
        std::fs::write(yaml.join(ty), text).unwrap();
    }
    let mut users = std::fs::read_to_string(yaml.join("internal_users.yml")).unwrap();
    users.push_str(&format!(
        "restadmin:\n  hash: \"{}\"\n  opendistro_security_roles: [\"security_rest_api_full_access\", \"security_rest_api_access\"]\n",
        bcrypt_of(RESTADMIN_PASSWORD)
    ));
    std::fs::write(yaml.join("internal_users.yml"), users).unwrap();
    std::fs::write(&config, "[security]\nrestapi.admin.enabled = true\n").unwrap();
    let server = Server::start_with(Options {
        args: vec![
            "--config".into(),
            config.display().to_string(),
            "--security-config".into(),
            yaml.display().to_string(),
        ],
        ..Options::default()
    });
    let mut world = World {
        server: &server,
        plain_password: PLAIN_PASSWORD.into(),
        cert: server.admin_cert_client(),
    };
    world.run(&[
        case(
            89,
            RestAdmin,
            "PUT",
            "P/roles/hidden_r",
            Some(r#"{"hidden":true,"cluster_permissions":[]}"#),
            201,
            Json(json!({"message":"'hidden_r' created."})),
        ),
        case(
            89,
            Admin,
            "GET",
            "P/roles/hidden_r",
            None,
            404,
            Json(json!({"status":"NOT_FOUND","message":"Resource 'hidden_r' is not available."})),
        ),
        case(
            89,
            RestAdmin,
            "GET",
            "P/roles/hidden_r",
            None,
            200,
            Json(json!({"hidden_r":{"hidden":true}})),
        ),
        case(
            90,
            RestAdmin,
            "PUT",
            "P/roles/r9",
            Some(r#"{"static":true}"#),
            400,
            Json(json!({"invalid_keys":{"keys":"static"}})),
        ),
        case(
            45,
            RestAdmin,
            "PUT",
            "P/roles/r3",
            Some(r#"{"cluster_permissions":["restapi:admin/roles"]}"#),
            403,
            Json(json!({"message":"Access denied"})),
        ),
        plugins_only(case(
            87,
            Admin,
            "GET",
            "P/allowlist",
            None,
            403,
            Json(json!({"message":"Access denied"})),
        )),
        plugins_only(case(
            87,
            RestAdmin,
            "GET",
            "P/allowlist",
            None,
            200,
            Json(json!({"config":{"enabled":false}})),
        )),
    ]);
    let all = server.client().request(
        "GET",
        "/_plugins/_security/api/roles",
        &[("authorization", &basic("admin", ADMIN_PASSWORD))],
        None,
    );
    assert!(
        all.json().get("hidden_r").is_none(),
        "a hidden role is not listed to a non-REST-admin"
    );
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "kw-catalogue-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// The demo set's files, exported from a running dev server.
fn rbac_demo_files() -> Vec<(String, String)> {
    let server = Server::start();
    let out = tempfile_dir();
    let status = std::process::Command::new(keyward_tests::binary())
        .args(["securityadmin", "--export"])
        .arg(&out)
        .arg("--url")
        .arg(server.base_url())
        .arg("--data-dir")
        .arg(&server.data_dir)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    std::fs::read_dir(&out)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().to_string(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect()
}

fn bcrypt_of(password: &str) -> String {
    // Ask a dev server to hash it: create a user, export, read the hash back.
    let server = Server::start();
    let reply = server.client().request(
        "PUT",
        "/_plugins/_security/api/internalusers/hashme",
        &[
            ("authorization", &basic("admin", ADMIN_PASSWORD)),
            ("content-type", "application/json"),
        ],
        Some(format!(r#"{{"password":"{password}"}}"#).as_bytes()),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let doc = server.root_client().request(
        "GET",
        "/_plugins/_security/api/securityadmin/internalusers",
        &[],
        None,
    );
    doc.json()["hashme"]["hash"].as_str().unwrap().to_string()
}
