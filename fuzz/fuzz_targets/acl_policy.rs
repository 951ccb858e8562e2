//! Vault ACL policy text (HCL or JSON) from an untrusted `PUT sys/policies/acl`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rbac_model::acl::{Acl, AclPolicy, PolicyName};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let name = PolicyName::new("fuzz").expect("valid name");
    if let Ok(policy) = AclPolicy::parse(name, text) {
        let acl = Acl::new([&policy]);
        for path in ["", "a", "a/b", "transit/encrypt/k", "sys/mounts/", "+/x"] {
            let _ = acl.capabilities(path);
        }
    }
});
