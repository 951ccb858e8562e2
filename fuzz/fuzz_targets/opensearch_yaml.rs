//! The OpenSearch security YAML files (`securityadmin --import`,
//! `--security-config`): every configuration type, from arbitrary text.
//! What loads must write back to YAML that loads to the same configuration.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rbac_model::{ConfigType, SecurityConfig};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for ty in ConfigType::ALL {
        let mut config = SecurityConfig::default();
        if config.load_yaml(ty, text).is_ok() {
            let written = config.to_yaml(ty);
            let mut again = SecurityConfig::default();
            again.load_yaml(ty, &written).expect("written YAML loads");
            assert_eq!(again.type_to_value(ty), config.type_to_value(ty));
        }
    }
});
