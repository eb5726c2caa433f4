//! The embedded Kubernetes schema bundles (built by `schemas/generate.py`):
//! choosing a version, decompressing it, and assembling the self-contained
//! JSON schema of one kind from the definitions it references.
//!
//! A bundle is a header line with the compressed size of each zstd frame,
//! then the frames: frame 0 is the index (`apiVersion` → `kind` → definition
//! number; definition number → chunk, offset, length), every later frame a
//! chunk of definitions whose `$ref`s are `#/definitions/<number>`. Opening a bundle decompresses and parses only the index; a
//! chunk is decompressed, and a definition parsed, the first time a kind that
//! reaches it is validated, because a fresh plugin instance usually sees a
//! handful of kinds out of ~200.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::Error;

/// One shipped Kubernetes minor version and its compressed bundle.
struct Embedded {
    minor: (u32, u32),
    bytes: &'static [u8],
}

macro_rules! embedded {
    ($(($major:literal, $minor:literal)),* $(,)?) => {
        &[$(Embedded {
            minor: ($major, $minor),
            bytes: include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"), "/../../schemas/kubernetes-",
                stringify!($major), ".", stringify!($minor), ".bundle.zst"
            )),
        }),*]
    };
}

/// Oldest first; `schemas/generate.py` writes exactly these files.
static EMBEDDED: &[Embedded] = embedded!(
    (1, 25),
    (1, 26),
    (1, 27),
    (1, 28),
    (1, 29),
    (1, 30),
    (1, 31),
    (1, 32),
    (1, 33),
    (1, 34),
    (1, 35),
    (1, 36),
    (1, 37),
);

/// The Kubernetes versions whose schemas are embedded, oldest first, as `"1.37"`.
pub fn shipped_versions() -> Vec<String> {
    EMBEDDED
        .iter()
        .map(|e| format!("{}.{}", e.minor.0, e.minor.1))
        .collect()
}

/// The compressed bundle of a shipped minor version, e.g. `(1, 37)`.
pub fn compressed(minor: (u32, u32)) -> Option<&'static [u8]> {
    EMBEDDED.iter().find(|e| e.minor == minor).map(|e| e.bytes)
}

/// A Kubernetes version as the user asked for it, resolved to a shipped bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedVersion {
    /// What `{{ .NormalizedKubernetesVersion }}` expands to: `v1.20.0` for an
    /// explicit request (as kubeconform prints it), `master` when none was made.
    pub normalized: String,
    /// The shipped minor version used for the embedded schemas, e.g. `(1, 25)`.
    pub shipped: (u32, u32),
}

impl ResolvedVersion {
    /// The embedded version as `"1.25"`.
    pub fn shipped_string(&self) -> String {
        format!("{}.{}", self.shipped.0, self.shipped.1)
    }
}

/// Resolve a requested Kubernetes version (`1.30`, `1.30.2`, `v1.30.0`,
/// `master`, `latest` or none) to the nearest shipped bundle. A version
/// between two shipped ones takes the lower; one outside the range takes the
/// nearest end, because kubeconform users pin old versions (1.20) that no
/// longer ship and a close schema beats no validation at all.
pub fn resolve_version(requested: Option<&str>) -> Result<ResolvedVersion, Error> {
    let newest = EMBEDDED
        .last()
        .map(|e| e.minor)
        .ok_or(Error::NoEmbeddedSchemas)?;
    let text = requested.map(str::trim).unwrap_or("");
    if text.is_empty() || text == "master" || text == "latest" {
        return Ok(ResolvedVersion {
            normalized: "master".to_owned(),
            shipped: newest,
        });
    }
    let bare = text.strip_prefix('v').unwrap_or(text);
    let mut parts = bare.split('.');
    let parse = |p: Option<&str>| -> Option<u32> { p.and_then(|s| s.parse().ok()) };
    let (major, minor) = match (parse(parts.next()), parse(parts.next())) {
        (Some(major), Some(minor)) => (major, minor),
        _ => {
            return Err(Error::InvalidKubernetesVersion {
                given: text.to_owned(),
            });
        }
    };
    let patch = match parts.next() {
        None => 0,
        Some(p) => p
            .parse::<u32>()
            .map_err(|_| Error::InvalidKubernetesVersion {
                given: text.to_owned(),
            })?,
    };
    if parts.next().is_some() {
        return Err(Error::InvalidKubernetesVersion {
            given: text.to_owned(),
        });
    }
    let wanted = (major, minor);
    let shipped = EMBEDDED
        .iter()
        .rev()
        .map(|e| e.minor)
        .find(|m| *m <= wanted)
        .or_else(|| EMBEDDED.first().map(|e| e.minor))
        .unwrap_or(newest);
    Ok(ResolvedVersion {
        normalized: format!("v{major}.{minor}.{patch}"),
        shipped,
    })
}

#[derive(Deserialize)]
struct Index {
    format: u32,
    #[serde(rename = "kubernetesVersion")]
    kubernetes_version: String,
    kinds: BTreeMap<String, BTreeMap<String, usize>>,
    definitions: Vec<(usize, usize, usize)>,
}

const MAGIC: &str = "MSB3";

/// An opened bundle: the index, the compressed chunks, the chunks
/// decompressed so far and the definitions parsed so far.
pub struct Bundle {
    kubernetes_version: String,
    kinds: BTreeMap<String, BTreeMap<String, usize>>,
    /// Chunk, offset and length of each definition, by number.
    ranges: Vec<(usize, usize, usize)>,
    frames: Vec<&'static [u8]>,
    chunks: Vec<Option<Vec<u8>>>,
    parsed: HashMap<usize, Value>,
}

impl std::fmt::Debug for Bundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bundle")
            .field("kubernetes_version", &self.kubernetes_version)
            .field("definitions", &self.ranges.len())
            .field("chunks", &self.chunks.len())
            .field(
                "decompressed",
                &self.chunks.iter().filter(|c| c.is_some()).count(),
            )
            .field("parsed", &self.parsed.len())
            .finish()
    }
}

fn corrupt(reason: impl Into<String>) -> Error {
    Error::CorruptBundle {
        reason: reason.into(),
    }
}

/// Decompress one zstd frame.
fn decompress(frame: &[u8]) -> Result<Vec<u8>, Error> {
    let mut decoder =
        ruzstd::decoding::StreamingDecoder::new(frame).map_err(|e| corrupt(e.to_string()))?;
    let mut out = Vec::with_capacity(frame.len().saturating_mul(8));
    decoder
        .read_to_end(&mut out)
        .map_err(|e| corrupt(e.to_string()))?;
    Ok(out)
}

/// Split a bundle into its frames, using the sizes in its header line.
fn split_frames(bytes: &'static [u8]) -> Result<Vec<&'static [u8]>, Error> {
    let newline = bytes
        .iter()
        .position(|b| *b == b'\n')
        .ok_or_else(|| corrupt("no header line"))?;
    let (header, rest) = bytes.split_at(newline);
    let header = std::str::from_utf8(header).map_err(|_| corrupt("header is not text"))?;
    let mut fields = header.split(' ');
    if fields.next() != Some(MAGIC) {
        return Err(corrupt(format!("header does not start with {MAGIC}")));
    }
    let mut rest = rest.get(1..).unwrap_or_default();
    let mut frames = Vec::new();
    for field in fields {
        let size: usize = field
            .parse()
            .map_err(|_| corrupt(format!("frame size {field:?}")))?;
        if size > rest.len() {
            return Err(corrupt("a frame runs past the end"));
        }
        let (frame, tail) = rest.split_at(size);
        frames.push(frame);
        rest = tail;
    }
    if frames.is_empty() || !rest.is_empty() {
        return Err(corrupt("frame sizes do not add up"));
    }
    Ok(frames)
}

impl Bundle {
    /// Open the embedded bundle of a shipped minor version.
    pub fn open(shipped: (u32, u32)) -> Result<Bundle, Error> {
        let embedded = EMBEDDED
            .iter()
            .find(|e| e.minor == shipped)
            .ok_or(Error::NoEmbeddedSchemas)?;
        Bundle::from_compressed(embedded.bytes)
    }

    /// Open a bundle in the `schemas/generate.py` format: only its index is
    /// decompressed and parsed here.
    pub fn from_compressed(bytes: &'static [u8]) -> Result<Bundle, Error> {
        let frames = split_frames(bytes)?;
        let index_frame = frames.first().ok_or_else(|| corrupt("no index frame"))?;
        let index: Index = serde_json::from_slice(&decompress(index_frame)?)
            .map_err(|e| corrupt(format!("index: {e}")))?;
        if index.format != 3 {
            return Err(corrupt(format!(
                "format {} is not supported (expected 3)",
                index.format
            )));
        }
        let chunk_frames: Vec<&'static [u8]> = frames.into_iter().skip(1).collect();
        Ok(Bundle {
            kubernetes_version: index.kubernetes_version,
            kinds: index.kinds,
            ranges: index.definitions,
            chunks: vec![None; chunk_frames.len()],
            frames: chunk_frames,
            parsed: HashMap::new(),
        })
    }

    /// How many chunks the bundle has and how many are decompressed.
    pub fn chunks_decompressed(&self) -> (usize, usize) {
        (
            self.chunks.iter().filter(|c| c.is_some()).count(),
            self.chunks.len(),
        )
    }

    /// The full Kubernetes version the bundle was generated from, e.g. `1.37.0`.
    pub fn kubernetes_version(&self) -> &str {
        &self.kubernetes_version
    }

    /// Whether the bundle has a schema for this `apiVersion` and `kind`.
    pub fn has_kind(&self, api_version: &str, kind: &str) -> bool {
        self.definition_id(api_version, kind).is_some()
    }

    /// Every `(apiVersion, kind)` in the bundle.
    pub fn kinds(&self) -> impl Iterator<Item = (&str, &str)> {
        self.kinds
            .iter()
            .flat_map(|(av, kinds)| kinds.keys().map(move |k| (av.as_str(), k.as_str())))
    }

    fn definition_id(&self, api_version: &str, kind: &str) -> Option<usize> {
        self.kinds
            .get(api_version)
            .and_then(|kinds| kinds.get(kind))
            .copied()
    }

    /// How many definitions the bundle has (they are numbered from 0).
    pub fn definition_count(&self) -> usize {
        self.ranges.len()
    }

    /// One definition, parsed on first use (decompressing its chunk if need be).
    pub fn definition(&mut self, name: usize) -> Result<&Value, Error> {
        if !self.parsed.contains_key(&name) {
            let (chunk, start, len) = *self
                .ranges
                .get(name)
                .ok_or_else(|| corrupt(format!("definition {name} is referenced but missing")))?;
            let slot = self
                .chunks
                .get_mut(chunk)
                .ok_or_else(|| corrupt(format!("definition {name} is in a missing chunk")))?;
            if slot.is_none() {
                let frame = self
                    .frames
                    .get(chunk)
                    .ok_or_else(|| corrupt(format!("chunk {chunk} is missing")))?;
                *slot = Some(decompress(frame)?);
            }
            let text = slot
                .as_deref()
                .zip(start.checked_add(len))
                .and_then(|(bytes, end)| bytes.get(start..end))
                .ok_or_else(|| corrupt(format!("definition {name} lies outside its chunk")))?;
            let value: Value = serde_json::from_slice(text)
                .map_err(|e| corrupt(format!("definition {name}: {e}")))?;
            self.parsed.insert(name, value);
        }
        self.parsed
            .get(&name)
            .ok_or_else(|| corrupt(format!("definition {name} vanished")))
    }

    /// The self-contained schema of one kind: its definition at the root and
    /// every definition it reaches under `definitions`, so that the schema
    /// compiles without any resolver. `None` if the kind is not in the bundle.
    pub fn kind_schema(&mut self, api_version: &str, kind: &str) -> Result<Option<Value>, Error> {
        let Some(root_id) = self.definition_id(api_version, kind) else {
            return Ok(None);
        };
        let mut pending = vec![root_id];
        let mut closure: Map<String, Value> = Map::new();
        while let Some(id) = pending.pop() {
            let key = id.to_string();
            if closure.contains_key(&key) {
                continue;
            }
            let def = self.definition(id)?.clone();
            let mut targets = Vec::new();
            collect_refs(&def, &mut |target| targets.push(target.to_owned()));
            for target in targets {
                let target_id: usize = target
                    .parse()
                    .map_err(|_| corrupt(format!("definition {id} refers to {target:?}")))?;
                if !closure.contains_key(&target) {
                    pending.push(target_id);
                }
            }
            closure.insert(key, def);
        }
        let mut root = match closure.get(&root_id.to_string()) {
            Some(Value::Object(map)) => map.clone(),
            _ => return Err(corrupt(format!("definition {root_id} is not an object"))),
        };
        // The document root is never null, and kubeconform's per-kind files
        // say `"type": "object"` where the shared definition allows null.
        root.insert("type".to_owned(), Value::String("object".to_owned()));
        root.insert("definitions".to_owned(), Value::Object(closure));
        Ok(Some(Value::Object(root)))
    }
}

const REF_PREFIX: &str = "#/definitions/";

/// Call `found` with the target (a definition number) of every `$ref`
/// below `node`. Only
/// string values count: `JSONSchemaProps` has a *property* named `$ref`.
fn collect_refs(node: &Value, found: &mut impl FnMut(&str)) {
    match node {
        Value::Object(map) => {
            for (key, value) in map {
                if key == "$ref"
                    && let Some(target) = value.as_str().and_then(|r| r.strip_prefix(REF_PREFIX))
                {
                    found(target);
                    continue;
                }
                collect_refs(value, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, found)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// kubeconform's strict schemas add `additionalProperties: false` to
    /// every JSON object with `properties`, schema or not; the validator
    /// only walks schema positions. Prove the two agree on every shipped
    /// definition, so the strict verdicts are kubeconform's.
    #[test]
    fn schema_aware_strict_matches_kubeconforms_rule_on_every_definition() {
        fn naive(node: &mut Value) {
            match node {
                Value::Object(map) => {
                    if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                        map.insert("additionalProperties".to_owned(), Value::Bool(false));
                    }
                    map.values_mut().for_each(naive);
                }
                Value::Array(items) => items.iter_mut().for_each(naive),
                _ => {}
            }
        }
        for e in EMBEDDED {
            let mut bundle = Bundle::open(e.minor).unwrap();
            for name in 0..bundle.definition_count() {
                let def = bundle.definition(name).unwrap().clone();
                let (mut ours, mut theirs) = (def.clone(), def);
                crate::strict::strictify(&mut ours);
                naive(&mut theirs);
                assert_eq!(ours, theirs, "{name} in {:?}", e.minor);
            }
        }
    }

    #[test]
    fn versions_resolve_to_the_nearest_shipped_one() {
        let newest = EMBEDDED.last().map(|e| e.minor).unwrap();
        let oldest = EMBEDDED.first().map(|e| e.minor).unwrap();
        let cases: &[(Option<&str>, &str, (u32, u32))] = &[
            (None, "master", newest),
            (Some("master"), "master", newest),
            (Some("latest"), "master", newest),
            (Some(""), "master", newest),
            (Some("1.20.0"), "v1.20.0", oldest),
            (Some("v1.30"), "v1.30.0", (1, 30)),
            (Some("1.30.4"), "v1.30.4", (1, 30)),
            (Some("1.99"), "v1.99.0", newest),
            (Some("2.0.0"), "v2.0.0", newest),
        ];
        for (given, normalized, shipped) in cases {
            let got = resolve_version(*given).unwrap();
            assert_eq!(got.normalized, *normalized, "{given:?}");
            assert_eq!(got.shipped, *shipped, "{given:?}");
        }
    }

    #[test]
    fn malformed_versions_are_errors() {
        for bad in ["one.two", "1", "1.x", "1.2.3.4", "v1.2.x"] {
            let err = resolve_version(Some(bad)).unwrap_err();
            assert!(
                matches!(err, Error::InvalidKubernetesVersion { .. }),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn every_embedded_bundle_opens_and_knows_deployments() {
        for e in EMBEDDED {
            let mut bundle = Bundle::open(e.minor).unwrap();
            assert!(
                bundle
                    .kubernetes_version()
                    .starts_with(&format!("{}.{}.", e.minor.0, e.minor.1))
            );
            let schema = bundle
                .kind_schema("apps/v1", "Deployment")
                .unwrap()
                .unwrap();
            let defs = schema["definitions"].as_object().unwrap();
            // Deployment reaches the pod spec and its ~120 definitions.
            assert!(defs.len() > 100, "{}", defs.len());
            assert!(
                defs.values()
                    .any(|d| d["properties"].get("containers").is_some())
            );
            // Every reference in the assembled schema resolves inside it.
            collect_refs(&schema, &mut |target| {
                assert!(defs.contains_key(target), "{target} missing");
            });
            assert!(
                bundle
                    .kind_schema("apps/v1", "NoSuchKind")
                    .unwrap()
                    .is_none()
            );
        }
    }

    #[test]
    fn corrupt_bundles_are_reported() {
        fn pack(frames: &[&[u8]]) -> &'static [u8] {
            let packed: Vec<Vec<u8>> = frames
                .iter()
                .map(|f| {
                    ruzstd::encoding::compress_to_vec(
                        *f,
                        ruzstd::encoding::CompressionLevel::Fastest,
                    )
                })
                .collect();
            let sizes: Vec<String> = packed.iter().map(|p| p.len().to_string()).collect();
            let mut out = format!("{MAGIC} {}\n", sizes.join(" ")).into_bytes();
            packed.iter().for_each(|p| out.extend_from_slice(p));
            Box::leak(out.into_boxed_slice())
        }
        let index = |format: u32, def: &str| {
            format!(
                "{{\"format\":{format},\"kubernetesVersion\":\"1\",\"kinds\":{{\"v1\":{{\"A\":0}}}},\"definitions\":[{def}]}}"
            )
        };
        let unopenable: Vec<&'static [u8]> = vec![
            b"",
            b"no header",
            b"XXXX 3\nabc",
            b"MSB3 5\nabc",
            b"MSB3 3\nabcdef",
            b"MSB3 x\nabc",
            b"MSB3\n",
            b"MSB3 3\nabc",
            pack(&[b"not json"]),
            pack(&[index(2, "[0,0,2]").as_bytes(), b"{}"]),
        ];
        for bytes in unopenable {
            assert!(
                matches!(
                    Bundle::from_compressed(bytes),
                    Err(Error::CorruptBundle { .. })
                ),
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
        let broken_definitions = [
            index(3, "[5,0,2]"),   // chunk missing
            index(3, "[0,1,100]"), // outside the chunk
            index(3, "[0,0,1]"),   // not JSON
        ];
        for idx in broken_definitions {
            let mut bundle = Bundle::from_compressed(pack(&[idx.as_bytes(), b"{}"])).unwrap();
            assert!(
                matches!(
                    bundle.kind_schema("v1", "A"),
                    Err(Error::CorruptBundle { .. })
                ),
                "{idx}"
            );
        }
        let mut fine =
            Bundle::from_compressed(pack(&[index(3, "[0,2,2]").as_bytes(), b"[]{}"])).unwrap();
        assert_eq!(fine.chunks_decompressed(), (0, 1));
        assert!(fine.kind_schema("v1", "A").unwrap().is_some());
        assert_eq!(fine.chunks_decompressed(), (1, 1));
    }

    #[test]
    fn a_kind_decompresses_only_the_chunks_it_needs() {
        let mut bundle = Bundle::open((1, 37)).unwrap();
        bundle.kind_schema("v1", "ConfigMap").unwrap().unwrap();
        let (used, total) = bundle.chunks_decompressed();
        assert!(used * 2 < total, "{used} of {total}");
    }
}
