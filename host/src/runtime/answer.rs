//! Checks on a plugin's answer before the host trusts it: the size cap and
//! the manifest indices of diagnostics. Plain functions over the decoded
//! answer, apart from the wasmtime calls, so they can be tested and fuzzed
//! without running a plugin.

use super::{CallFailure, Diagnostic, RenderOutput};

/// A validator's diagnostics: within `limit` bytes of strings, and every
/// manifest index inside the batch of `batch` manifests it was given.
pub fn check_validated(
    diagnostics: &[Diagnostic],
    batch: usize,
    limit: usize,
) -> Result<(), CallFailure> {
    let bytes = diagnostics.iter().map(diagnostic_bytes).sum();
    if bytes > limit {
        return Err(CallFailure::OutputTooLarge { bytes, limit });
    }
    for d in diagnostics {
        if let Some(i) = d.manifest
            && i as usize >= batch
        {
            return Err(CallFailure::Malformed(format!(
                "a diagnostic ({}) names manifest {i} of a batch of {batch}",
                d.rule
            )));
        }
    }
    Ok(())
}

/// A renderer's output: within `limit` bytes of strings.
pub fn check_rendered(output: &RenderOutput, limit: usize) -> Result<(), CallFailure> {
    let bytes = output
        .manifests
        .iter()
        .map(|m| m.json.len() + m.origin.file.len())
        .sum::<usize>()
        + output
            .diagnostics
            .iter()
            .map(diagnostic_bytes)
            .sum::<usize>();
    if bytes > limit {
        return Err(CallFailure::OutputTooLarge { bytes, limit });
    }
    Ok(())
}

fn diagnostic_bytes(d: &Diagnostic) -> usize {
    d.rule.len()
        + d.message.len()
        + d.path.as_ref().map_or(0, String::len)
        + d.location.as_ref().map_or(0, |l| l.file.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{Location, Manifest, Origin, Severity};

    fn diagnostic(manifest: Option<u32>, message: &str) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            rule: "p/r".into(),
            message: message.into(),
            manifest,
            path: Some("/a".into()),
            location: Some(Location {
                file: "f".into(),
                line: 1,
                column: 1,
            }),
        }
    }

    #[test]
    fn validated() {
        // (manifest index, message length, batch, limit, outcome)
        let cases = [
            (Some(0), 1, 1, 100, "ok"),
            (None, 1, 0, 100, "ok"),
            (Some(1), 1, 1, 100, "malformed"),
            (Some(u32::MAX), 1, 3, 100, "malformed"),
            // 3 (rule) + 2 (path) + 1 (file) + the message.
            (Some(0), 94, 1, 100, "ok"),
            (Some(0), 95, 1, 100, "too large"),
        ];
        for (index, len, batch, limit, expected) in cases {
            let d = [diagnostic(index, &"m".repeat(len))];
            let got = match check_validated(&d, batch, limit) {
                Ok(()) => "ok",
                Err(CallFailure::Malformed(_)) => "malformed",
                Err(CallFailure::OutputTooLarge { .. }) => "too large",
                Err(_) => "other",
            };
            assert_eq!(got, expected, "{index:?} {len} {batch} {limit}");
        }
    }

    #[test]
    fn rendered() {
        let output = RenderOutput {
            manifests: vec![Manifest {
                origin: Origin {
                    file: "a.yaml".into(),
                    document: 0,
                    line: 1,
                },
                json: "{}".into(),
            }],
            diagnostics: vec![diagnostic(None, "")],
        };
        // 6 + 2 for the manifest, 3 + 2 + 1 for the diagnostic.
        assert!(check_rendered(&output, 14).is_ok());
        assert!(matches!(
            check_rendered(&output, 13),
            Err(CallFailure::OutputTooLarge {
                bytes: 14,
                limit: 13
            })
        ));
    }
}
