//! Kustomization parsing and strategic merge patching: the input is an
//! archive of a repository (see manifold-fuzz-seed) built from the folder
//! of its first file, which is the kustomization; then the first documents
//! of the next files are strategic-merged directly: object, patch and, when
//! there is a third, a custom OpenAPI schema.

#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use manifold_fuzz_seed::unpack;
use manifold_plugin_kustomize::{FileSystem, FsError, Options, build, fs, smp};
use manifold_yaml::ParseOptions;

fuzz_target!(|data: &[u8]| {
    let files = unpack(data, "kustomization.yaml");
    let target = files
        .first()
        .and_then(|(name, _)| fs::join("", name))
        .map(|path| fs::parent(&path).to_owned())
        .unwrap_or_default();
    let repo = MemFs(
        files
            .iter()
            .filter_map(|(name, text)| Some((fs::join("", name)?, text.clone())))
            .collect(),
    );
    let _ = build(&repo, &target, &Options::default());

    let first_doc = |text: &str| {
        manifold_yaml::parse_documents(text, &ParseOptions::default())
            .ok()
            .and_then(|docs| docs.into_iter().next())
            .map(|d| d.value)
    };
    let mut others = files.iter().skip(1).filter_map(|(_, text)| first_doc(text));
    if let (Some(object), Some(patch)) = (others.next(), others.next()) {
        let schema = others.next().map(|doc| smp::Schema::from_value(&doc));
        let _ = smp::merge_with_schema(&object, &patch, schema.as_ref());
    }
});

/// The archive as a read-only repository.
struct MemFs(BTreeMap<String, String>);

impl FileSystem for MemFs {
    fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        match self.0.get(path) {
            Some(text) => Ok(text.clone().into_bytes()),
            None if self.0.keys().any(|k| k.starts_with(&format!("{path}/"))) => {
                Err(FsError::Io(format!("{path}: is a directory")))
            }
            None => Err(FsError::NotFound(path.to_owned())),
        }
    }

    fn list(&self, path: &str) -> Result<Vec<(String, bool)>, FsError> {
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("{path}/")
        };
        let mut entries: Vec<(String, bool)> = self
            .0
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .map(|rest| match rest.split_once('/') {
                Some((dir, _)) => (dir.to_owned(), true),
                None => (rest.to_owned(), false),
            })
            .collect();
        entries.dedup();
        if entries.is_empty() {
            Err(FsError::NotFound(path.to_owned()))
        } else {
            Ok(entries)
        }
    }
}
