//! Day-two endpoints through the real binary: readiness and Vault's health
//! parameters.

use keyward_tests::Server;

#[test]
fn availability_and_health_parameters() {
    let server = Server::start();
    let anon = server.client();
    for path in [
        "/_admin/server/availability",
        "/_db/_system/_admin/server/availability",
    ] {
        let r = anon.request("GET", path, &[], None);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let body = r.json();
        assert_eq!(body["mode"], "default");
        assert_eq!(body["error"], false);
    }
    let r = anon.request("GET", "/v1/sys/health?activecode=299", &[], None);
    assert_eq!(r.status, 299);
    assert_eq!(r.json()["sealed"], false);
    let r = anon.request("GET", "/v1/sys/health?activecode=204", &[], None);
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    let r = anon.request("GET", "/v1/sys/health?standbyok=maybe", &[], None);
    assert_eq!((r.status, r.body.as_str()), (400, r#"{"errors":[]}"#));
}
