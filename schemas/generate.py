#!/usr/bin/env python3
"""Build the compact Kubernetes schema bundles embedded by manifold-plugin-schema.

Input: the `kubernetes-validate` wheel from PyPI (Apache-2.0), which ships the
Kubernetes OpenAPI definitions converted to JSON schema, one folder per minor
version (`vX.Y.0-local` and `vX.Y.0-local-strict`).

Output: `schemas/kubernetes-X.Y.bundle.zst`, one per version: a header line
then independent zstd frames,

    MSB3 <size of frame 0> <size of frame 1> ...\n<frame 0><frame 1>...

Frame 0 holds the index JSON

    {"format": 3, "kubernetesVersion": "1.37.0", "source": "...",
     "kinds": {"apps/v1": {"Deployment": 57, ...}, ...},
     "definitions": [[chunk, offset, length], ...]}

and frame `chunk + 1` the definitions of that chunk back to back (about
CHUNK_BYTES each, in name order so that one API group shares few chunks).
Each definition is a standalone JSON schema whose `$ref`s point at
`#/definitions/<number>`: definitions are numbered in name order, because
their names (`io.k8s.api.core.v1.PodSpec`) would triple the index that every
fresh plugin instance parses, and no message shows them. A fresh plugin
instance decompresses the index and then only the chunks holding the
definitions of the kinds it validates.

Only the non-strict schemas are stored: the plugin derives the strict variant
itself. This script checks that derivation against the wheel's `-strict`
folder so that the two cannot drift apart silently.

Usage (from the repository root):

    pip download --no-deps kubernetes-validate==1.37.0 -d /tmp/kv
    pip install zstandard
    python3 schemas/generate.py /tmp/kv/kubernetes_validate-1.37.0-py3-none-any.whl
"""

import argparse
import json
import os
import re
import sys
import zipfile

import zstandard

# Keys that carry documentation or client-side merge hints only: they never
# change a validation verdict, and dropping them makes the bundle ~5x smaller.
# A key is only dropped where its value is not an object, so a property that
# happens to be named `description` (an object: its schema) is kept.
DROPPED_KEYS = {
    "description",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-patch-strategy",
    "x-kubernetes-patch-merge-key",
    "x-kubernetes-map-type",
    "x-kubernetes-unions",
    "x-kubernetes-group-version-kind",
    "$schema",
    "$id",
}

REF_PREFIXES = ("/api/_definitions.json#/$defs/", "#/$defs/")

DEFAULT_VERSIONS = 13

# Raw bytes per definition chunk: small enough that a kind's closure skips
# most chunks, large enough that zstd still compresses well.
CHUNK_BYTES = 24 * 1024


def strip(node, ids):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in DROPPED_KEYS and not isinstance(value, dict):
                continue
            if key == "$ref" and isinstance(value, str):
                out[key] = rewrite_ref(value, ids)
                continue
            out[key] = strip(value, ids)
        return out
    if isinstance(node, list):
        return [strip(item, ids) for item in node]
    return node


def rewrite_ref(ref, ids):
    for prefix in REF_PREFIXES:
        if ref.startswith(prefix):
            return f"#/definitions/{ids[ref[len(prefix):]]}"
    raise SystemExit(f"unexpected $ref {ref!r}: update REF_PREFIXES")


def strictify(node):
    """The rule the Rust side applies (src/strict.rs), written out here only
    to prove it reproduces the wheel's -strict schemas."""
    if isinstance(node, dict):
        out = {key: strictify(value) for key, value in node.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [strictify(item) for item in node]
    return node


def api_version(gvk):
    group = gvk.get("group", "")
    return f"{group}/{gvk['version']}" if group else gvk["version"]


def build(wheel, version_dir):
    base = f"kubernetes_validate/kubernetes-json-schema/{version_dir}"
    definitions = json.loads(wheel.read(f"{base}/_definitions.json"))["$defs"]
    strict = json.loads(wheel.read(f"{base}-strict/_definitions.json"))["$defs"]
    if strictify(definitions) != strict:
        raise SystemExit(f"{version_dir}: the strict derivation no longer matches the wheel's -strict schemas")

    kinds = {}
    for name, schema in definitions.items():
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            # DeleteOptions and WatchEvent claim every group: they are not
            # manifests anyone applies, and listing them would only bloat the index.
            if gvk["kind"] in ("DeleteOptions", "WatchEvent"):
                continue
            kinds.setdefault(api_version(gvk), {})[gvk["kind"]] = name

    names = sorted(definitions)
    kinds = {group: {kind: names.index(name) for kind, name in k.items()} for group, k in kinds.items()}

    names = sorted(definitions)
    ids = {name: i for i, name in enumerate(names)}
    chunks = [bytearray()]
    offsets = []
    for name in names:
        text = json.dumps(strip(definitions[name], ids), separators=(",", ":"), sort_keys=False).encode()
        if chunks[-1] and len(chunks[-1]) + len(text) > CHUNK_BYTES:
            chunks.append(bytearray())
        offsets.append([len(chunks) - 1, len(chunks[-1]), len(text)])
        chunks[-1] += text

    version = version_dir.split("-")[0].lstrip("v")
    index = {
        "format": 3,
        "kubernetesVersion": version,
        "source": "kubernetes-validate (PyPI, Apache-2.0)",
        "kinds": {group: dict(sorted(k.items())) for group, k in sorted(kinds.items())},
        "definitions": offsets,
    }
    return [json.dumps(index, separators=(",", ":")).encode()] + [bytes(c) for c in chunks]


def pack(frames, compressor):
    """Header line with each compressed frame's size, then the frames."""
    packed = [compressor.compress(frame) for frame in frames]
    header = "MSB3 " + " ".join(str(len(p)) for p in packed) + "\n"
    return header.encode() + b"".join(packed)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", help="path to kubernetes_validate-*.whl")
    parser.add_argument("--versions", type=int, default=DEFAULT_VERSIONS, help="how many of the newest minor versions to ship")
    parser.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    args = parser.parse_args()

    with zipfile.ZipFile(args.wheel) as wheel:
        dirs = set()
        for entry in wheel.namelist():
            match = re.match(r"kubernetes_validate/kubernetes-json-schema/(v\d+\.\d+\.\d+-local)/", entry)
            if match:
                dirs.add(match.group(1))
        ordered = sorted(dirs, key=lambda d: tuple(int(p) for p in d[1:].split("-")[0].split(".")))
        chosen = ordered[-args.versions:]
        if not chosen:
            raise SystemExit("no schema folders found in the wheel")

        for old in os.listdir(args.out):
            if old.startswith("kubernetes-") and old.endswith(".bundle.zst"):
                os.remove(os.path.join(args.out, old))

        compressor = zstandard.ZstdCompressor(level=19)
        total = 0
        for version_dir in chosen:
            frames = build(wheel, version_dir)
            raw = b"".join(frames)
            packed = pack(frames, compressor)
            minor = ".".join(version_dir[1:].split("-")[0].split(".")[:2])
            path = os.path.join(args.out, f"kubernetes-{minor}.bundle.zst")
            with open(path, "wb") as f:
                f.write(packed)
            total += len(packed)
            print(f"{path}: {len(raw)} bytes raw in {len(frames)} frames, {len(packed)} compressed", file=sys.stderr)
        print(f"total {total} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
