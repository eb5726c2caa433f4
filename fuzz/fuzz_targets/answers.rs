//! The host's handling of plugin answers, without running a plugin. The
//! input is an archive (see manifold-fuzz-seed):
//!
//! - `batch.yaml` (or the text before any header): the manifests a
//!   validator is given, read as the host reads manifest files;
//! - `diagnostics`: the validator's answer, one per line:
//!   `SEVERITY<TAB>MANIFEST<TAB>RULE<TAB>PATH<TAB>MESSAGE` (`-` for none);
//! - `render`: a renderer's manifests, one per line: `FILE<TAB>JSON`;
//! - `limit`: the answer-size cap in bytes (default: the host's).
//!
//! The answers go through the size and index checks; what passes is turned
//! into findings, or decoded into objects and printed as `kustomize build`
//! would print them, which must read back.

#![no_main]

use libfuzzer_sys::fuzz_target;
use manifold::manifest::{Inputs, parse_into};
use manifold::render::{self, Kind, Target};
use manifold::runtime::{
    Diagnostic, Limits, Location, Manifest, Origin, RenderOutput, Severity, answer,
};
use manifold::validate;
use manifold_fuzz_seed::unpack;
use manifold_yaml::{Duplicates, ParseOptions};

fuzz_target!(|data: &[u8]| {
    let files = unpack(data, "batch.yaml");
    let file = |name: &str| {
        files
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, text)| text.as_str())
    };
    let limit = file("limit")
        .trim()
        .parse()
        .unwrap_or(Limits::default().output);

    let mut inputs = Inputs::default();
    parse_into(
        "batch.yaml",
        file("batch.yaml").as_bytes(),
        Duplicates::LastWins,
        &mut inputs,
    );
    let batch: Vec<&_> = inputs.objects.iter().collect();
    let diagnostics: Vec<Diagnostic> = file("diagnostics").lines().map(diagnostic).collect();
    if answer::check_validated(&diagnostics, batch.len(), limit).is_ok() {
        for d in diagnostics.iter().cloned() {
            let index = d.manifest;
            let finding = validate::convert("p", &batch, d);
            assert!(finding.rule.starts_with("p/"), "{}", finding.rule);
            if let Some(i) = index {
                // Checked answers only name manifests of the batch.
                let object = batch[i as usize];
                assert_eq!(finding.file.as_deref(), Some(&*object.file));
                assert_eq!(finding.document, Some(object.document));
            }
        }
    }

    let output = RenderOutput {
        manifests: file("render").lines().map(manifest).collect(),
        diagnostics,
    };
    if answer::check_rendered(&output, limit).is_err() {
        return;
    }
    let Ok(objects) = render::decode(&output.manifests) else {
        return;
    };
    let target = Target {
        root: "/nonexistent".into(),
        path: String::new(),
        kind: Kind::Kustomization,
    };
    let printed = render::to_stream(&target, &objects);
    if let Err(e) = manifold_yaml::parse_documents(&printed, &ParseOptions::default()) {
        panic!("rendered objects print as YAML that does not parse: {e}\n{printed}");
    }
});

fn diagnostic(line: &str) -> Diagnostic {
    let mut fields = line.splitn(5, '\t');
    let mut next = || fields.next().filter(|f| *f != "-");
    let severity = match next() {
        Some("error") => Severity::Error,
        Some("warning") => Severity::Warning,
        _ => Severity::Info,
    };
    let manifest = next().and_then(|n| n.parse().ok());
    let rule = next().unwrap_or_default().to_owned();
    let path = next().map(str::to_owned);
    let message = next().unwrap_or_default().to_owned();
    Diagnostic {
        severity,
        rule,
        message,
        manifest,
        location: path.as_ref().map(|p| Location {
            file: p.clone(),
            line: 1,
            column: 1,
        }),
        path,
    }
}

fn manifest(line: &str) -> Manifest {
    let (file, json) = line.split_once('\t').unwrap_or(("", line));
    Manifest {
        origin: Origin {
            file: file.to_owned(),
            document: 0,
            line: 0,
        },
        json: json.to_owned(),
    }
}
