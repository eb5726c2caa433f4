//! Rego policy loading: the input is an archive of policy files, `.rego`
//! (conftest style; v0 or v1 by content) or YAML with Gatekeeper
//! ConstraintTemplates and constraints, loaded and compiled by the policy
//! plugin's library (regorus underneath) as `manifold validate --policy`
//! does.

#![no_main]

use libfuzzer_sys::fuzz_target;
use manifold_fuzz_seed::unpack;
use manifold_plugin_policy::{LoadOptions, PolicySet, Source};

fuzz_target!(|data: &[u8]| {
    let sources: Vec<Source> = unpack(data, "policy.rego")
        .into_iter()
        .map(|(name, text)| Source::new(name, text))
        .collect();
    let _ = PolicySet::load(&sources, &LoadOptions::default());
});
