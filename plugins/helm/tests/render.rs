//! Behaviour tests beyond Helm's golden files: small charts in memory, each
//! row with the exact `helm template` output (or the error) Helm gives for
//! it. Covers aliases, conditions, tags, import-values, globals, value
//! precedence, `.Files`, hooks, CRDs, archives and error reporting.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use manifold_plugin_helm::{MemFs, Options, render};

enum Want {
    /// The whole printed stream.
    Text(&'static str),
    /// The error message contains this.
    Err(&'static str),
}

struct Case {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    opts: fn(&mut Options),
    want: Want,
}

const CHART: &str = "apiVersion: v2\nname: c\nversion: 0.1.0\n";

fn none(_: &mut Options) {}

const CASES: &[Case] = &[
    Case {
        name: "aliases and conditions",
        files: &[
            (
                "c/Chart.yaml",
                "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n- name: sub\n  version: ~0.1.0\n  alias: one\n- name: sub\n  version: ~0.1.0\n  alias: two\n  condition: two.enabled\n",
            ),
            ("c/values.yaml", "one:\n  x: b\ntwo:\n  enabled: false\n"),
            (
                "c/charts/sub/Chart.yaml",
                "apiVersion: v2\nname: sub\nversion: 0.1.2\n",
            ),
            ("c/charts/sub/values.yaml", "x: a\n"),
            (
                "c/charts/sub/templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Chart.Name }}-{{ .Values.x }}\n",
            ),
        ],
        opts: none,
        want: Want::Text(
            "---\n# Source: c/charts/one/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one-b\n",
        ),
    },
    Case {
        name: "tags switch off, conditions win over tags",
        files: &[
            (
                "c/Chart.yaml",
                "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n- name: a\n  version: 1.0.0\n  tags: [front]\n- name: b\n  version: 1.0.0\n  tags: [front]\n  condition: b.enabled\n",
            ),
            (
                "c/values.yaml",
                "tags:\n  front: false\nb:\n  enabled: true\n",
            ),
            (
                "c/charts/a/Chart.yaml",
                "apiVersion: v2\nname: a\nversion: 1.0.0\n",
            ),
            ("c/charts/a/templates/x.yaml", "kind: A\n"),
            (
                "c/charts/b/Chart.yaml",
                "apiVersion: v2\nname: b\nversion: 1.0.0\n",
            ),
            ("c/charts/b/templates/x.yaml", "kind: B\n"),
        ],
        opts: none,
        want: Want::Text("---\n# Source: c/charts/b/templates/x.yaml\nkind: B\n"),
    },
    Case {
        name: "import-values in both forms; parent values win",
        files: &[
            (
                "c/Chart.yaml",
                "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n- name: sub\n  version: 1.0.0\n  import-values:\n  - data\n  - child: conf\n    parent: imported\n",
            ),
            ("c/values.yaml", "imported:\n  keep: parent\n"),
            (
                "c/charts/sub/Chart.yaml",
                "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
            ),
            (
                "c/charts/sub/values.yaml",
                "exports:\n  data:\n    port: 80\nconf:\n  keep: child\n  extra: 1\n",
            ),
            (
                "c/templates/cm.yaml",
                "kind: ConfigMap\ndata:\n  port: {{ .Values.port | quote }}\n  keep: {{ .Values.imported.keep }}\n  extra: {{ .Values.imported.extra | quote }}\n",
            ),
        ],
        opts: none,
        want: Want::Text(
            "---\n# Source: c/templates/cm.yaml\nkind: ConfigMap\ndata:\n  port: \"80\"\n  keep: parent\n  extra: \"1\"\n",
        ),
    },
    Case {
        name: "globals reach subcharts, parent overrides subchart values",
        files: &[
            ("c/Chart.yaml", CHART),
            (
                "c/values.yaml",
                "global:\n  env: prod\nsub:\n  name: fromparent\n",
            ),
            (
                "c/charts/sub/Chart.yaml",
                "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
            ),
            (
                "c/charts/sub/values.yaml",
                "name: own\nglobal:\n  env: dev\n  region: eu\n",
            ),
            (
                "c/charts/sub/templates/x.yaml",
                "kind: X\nenv: {{ .Values.global.env }}\nregion: {{ .Values.global.region }}\nname: {{ .Values.name }}\n",
            ),
        ],
        opts: none,
        want: Want::Text(
            "---\n# Source: c/charts/sub/templates/x.yaml\nkind: X\nenv: prod\nregion: eu\nname: fromparent\n",
        ),
    },
    Case {
        name: "null from --set deletes a default; -f files later win; --set last",
        files: &[
            ("c/Chart.yaml", CHART),
            ("c/values.yaml", "a:\n  b: 1\n  c: 2\nd: x\n"),
            ("one.yaml", "d: one\ne: one\n"),
            ("two.yaml", "e: two\n"),
            ("c/templates/x.yaml", "{{- toYaml .Values }}\n"),
        ],
        opts: |o| {
            o.values_files = vec!["one.yaml".into(), "two.yaml".into()];
            o.set = vec!["a.b=null".into(), "f={p,q}".into()];
        },
        want: Want::Text(
            "---\n# Source: c/templates/x.yaml\na:\n  c: 2\nd: one\ne: two\nf:\n- p\n- q\n",
        ),
    },
    Case {
        name: "--set integers stay integers, YAML numbers are float64",
        files: &[
            ("c/Chart.yaml", CHART),
            ("c/values.yaml", "fromfile: 1000000\n"),
            (
                "c/templates/x.yaml",
                "kind: X\na: {{ .Values.fromset }}\nb: {{ .Values.fromfile }}\nc: {{ .Values.str }}\n",
            ),
        ],
        opts: |o| {
            o.set = vec!["fromset=1000000".into()];
            o.set_string = vec!["str=true".into()];
        },
        want: Want::Text(
            "---\n# Source: c/templates/x.yaml\nkind: X\na: 1000000\nb: 1e+06\nc: true\n",
        ),
    },
    Case {
        name: "inline values maps act like later -f files",
        files: &[
            ("c/Chart.yaml", CHART),
            ("c/values.yaml", "a: 1\nb: 1\n"),
            ("f.yaml", "a: 2\nb: 2\n"),
            (
                "c/templates/x.yaml",
                "kind: X\na: {{ .Values.a }}\nb: {{ .Values.b }}\nbig: {{ .Values.big }}\n",
            ),
        ],
        opts: |o| {
            o.values_files = vec!["f.yaml".into()];
            let v = serde_json::json!({"b": 3, "big": 2000000});
            o.values = vec![v.as_object().unwrap().clone()];
        },
        want: Want::Text("---\n# Source: c/templates/x.yaml\nkind: X\na: 2\nb: 3\nbig: 2e+06\n"),
    },
    Case {
        name: "--set-file and --set-json",
        files: &[
            ("c/Chart.yaml", CHART),
            ("script.sh", "echo hi"),
            (
                "c/templates/x.yaml",
                "kind: X\nscript: {{ .Values.script | quote }}\nn: {{ .Values.j.n }}\n",
            ),
        ],
        opts: |o| {
            o.set_file = vec!["script=script.sh".into()];
            o.set_json = vec!["j={\"n\": [1, 2]}".into()];
        },
        want: Want::Text(
            "---\n# Source: c/templates/x.yaml\nkind: X\nscript: \"echo hi\"\nn: [1 2]\n",
        ),
    },
    Case {
        name: ".Files, .helmignore and partials",
        files: &[
            ("c/Chart.yaml", CHART),
            ("c/.helmignore", "secret.txt\n"),
            ("c/secret.txt", "hidden"),
            ("c/conf/a.conf", "A=1"),
            ("c/conf/b.conf", "B=2"),
            ("c/lines.txt", "x\ny"),
            (
                "c/templates/_h.tpl",
                "{{- define \"c.name\" -}}{{ .Chart.Name }}-{{ .Release.Name }}{{- end -}}",
            ),
            (
                "c/templates/cm.yaml",
                "kind: ConfigMap\nmetadata:\n  name: {{ include \"c.name\" . }}\ndata:\n{{ (.Files.Glob \"conf/*\").AsConfig | indent 2 }}\n  secret: {{ .Files.Get \"secret.txt\" | quote }}\n  lines: {{ len (.Files.Lines \"lines.txt\") }}\n",
            ),
        ],
        opts: none,
        want: Want::Text(
            "---\n# Source: c/templates/cm.yaml\nkind: ConfigMap\nmetadata:\n  name: c-release-name\ndata:\n  a.conf: A=1\n  b.conf: B=2\n  secret: \"\"\n  lines: 2\n",
        ),
    },
    Case {
        name: "hooks after manifests, tests dropped with skip_tests, unknown hooks dropped",
        files: &[
            ("c/Chart.yaml", CHART),
            (
                "c/templates/a.yaml",
                "kind: Job\nmetadata:\n  name: j\n  annotations:\n    helm.sh/hook: pre-install\n---\nkind: Pod\nmetadata:\n  name: t\n  annotations:\n    helm.sh/hook: test\n---\nkind: Pod\nmetadata:\n  name: u\n  annotations:\n    helm.sh/hook: nonsense\n",
            ),
            (
                "c/templates/b.yaml",
                "kind: Service\nmetadata:\n  name: s\n",
            ),
            (
                "c/templates/empty.yaml",
                "{{- if false }}\nkind: Nothing\n{{- end }}\n",
            ),
            (
                "c/templates/NOTES.txt",
                "Thanks for installing {{ .Chart.Name }}",
            ),
        ],
        opts: |o| o.skip_tests = true,
        want: Want::Text(
            "---\n# Source: c/templates/b.yaml\nkind: Service\nmetadata:\n  name: s\n---\n# Source: c/templates/a.yaml\nkind: Job\nmetadata:\n  name: j\n  annotations:\n    helm.sh/hook: pre-install\n\n",
        ),
    },
    Case {
        name: "CRDs first with include_crds, subcharts' too",
        files: &[
            ("c/Chart.yaml", CHART),
            (
                "c/crds/crd.yaml",
                "kind: CustomResourceDefinition\nmetadata:\n  name: a\n",
            ),
            ("c/crds/notes.txt", "not a manifest"),
            (
                "c/charts/sub/Chart.yaml",
                "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
            ),
            (
                "c/charts/sub/crds/b.yml",
                "kind: CustomResourceDefinition\nmetadata:\n  name: b\n",
            ),
            ("c/templates/x.yaml", "kind: X\n"),
        ],
        opts: |o| o.include_crds = true,
        want: Want::Text(
            "---\n# Source: c/crds/crd.yaml\nkind: CustomResourceDefinition\nmetadata:\n  name: a\n\n---\n# Source: c/charts/sub/crds/b.yml\nkind: CustomResourceDefinition\nmetadata:\n  name: b\n\n---\n# Source: c/templates/x.yaml\nkind: X\n",
        ),
    },
    Case {
        name: "release, chart, template and capabilities objects",
        files: &[
            (
                "c/Chart.yaml",
                "apiVersion: v2\nname: c\nversion: 0.1.0\nappVersion: 1.0\n",
            ),
            (
                "c/templates/x.yaml",
                "kind: X\nrel: {{ .Release.Name }}/{{ .Release.Namespace }}/{{ .Release.IsInstall }}/{{ .Release.IsUpgrade }}/{{ .Release.Revision }}/{{ .Release.Service }}\nchart: {{ .Chart.Name }}/{{ .Chart.Version }}/{{ .Chart.AppVersion }}/{{ .Chart.IsRoot }}\ntpl: {{ .Template.Name }} {{ .Template.BasePath }}\nkube: {{ .Capabilities.KubeVersion.Version }} {{ .Capabilities.KubeVersion.Major }} {{ .Capabilities.KubeVersion.Minor }}\napps: {{ .Capabilities.APIVersions.Has \"apps/v1\" }} {{ .Capabilities.APIVersions.Has \"x/v9\" }}\n",
            ),
        ],
        opts: |o| {
            o.release_name = "rel".into();
            o.namespace = "ns".into();
            o.is_upgrade = true;
            o.api_versions = vec!["x/v9".into()];
        },
        want: Want::Text(
            "---\n# Source: c/templates/x.yaml\nkind: X\nrel: rel/ns/false/true/1/Helm\nchart: c/0.1.0/1.0/true\ntpl: c/templates/x.yaml c/templates\nkube: v1.36.0 1 36\napps: true true\n",
        ),
    },
    Case {
        name: "kube version text and normalized form",
        files: &[
            ("c/Chart.yaml", CHART),
            (
                "c/templates/x.yaml",
                "kind: X\nv: {{ .Capabilities.KubeVersion.Version }}\ns: {{ .Capabilities.KubeVersion }}\ng: {{ .Capabilities.KubeVersion.GitVersion }}\nok: {{ semverCompare \">=1.30-0\" .Capabilities.KubeVersion.GitVersion }}\nh: {{ .Capabilities.HelmVersion.Version | hasPrefix \"v\" }}\n",
            ),
        ],
        opts: |o| o.kube_version = Some("1.33.4-gke.1".into()),
        want: Want::Text(
            "---\n# Source: c/templates/x.yaml\nkind: X\nv: v1.33.4-gke.1\ns: v1.33.4\ng: v1.33.4-gke.1\nok: true\nh: true\n",
        ),
    },
    Case {
        name: "gzipped subchart archive",
        files: &[
            (
                "c/Chart.yaml",
                "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n- name: arc\n  version: 0.2.0\n",
            ),
            ("c/values.yaml", "arc:\n  v: set-by-parent\n"),
        ],
        opts: none,
        want: Want::Text(
            "---\n# Source: c/charts/arc/templates/x.yaml\nkind: X\nv: set-by-parent\n",
        ),
    },
    Case {
        name: "requirements.yaml with apiVersion v1",
        files: &[
            ("c/Chart.yaml", "apiVersion: v1\nname: c\nversion: 0.1.0\n"),
            (
                "c/requirements.yaml",
                "dependencies:\n- name: s\n  version: 1.0.0\n  condition: s.enabled\n",
            ),
            ("c/values.yaml", "s:\n  enabled: false\n"),
            (
                "c/charts/s/Chart.yaml",
                "apiVersion: v1\nname: s\nversion: 1.0.0\n",
            ),
            ("c/charts/s/templates/x.yaml", "kind: S\n"),
            ("c/templates/y.yaml", "kind: Main\n"),
        ],
        opts: none,
        want: Want::Text("---\n# Source: c/templates/y.yaml\nkind: Main\n"),
    },
    Case {
        name: "show_only keeps the matching documents",
        files: &[
            ("c/Chart.yaml", CHART),
            ("c/templates/a.yaml", "kind: A\n---\nkind: A2\n"),
            ("c/templates/b.yaml", "kind: B\n"),
        ],
        opts: |o| o.show_only = vec!["templates/a.yaml".into()],
        want: Want::Text(
            "---\n# Source: c/templates/a.yaml\nkind: A\n\n\n---\n# Source: c/templates/a.yaml\nkind: A2\n\n\n",
        ),
    },
    Case {
        name: "show_only without a match",
        files: &[("c/Chart.yaml", CHART), ("c/templates/a.yaml", "kind: A\n")],
        opts: |o| o.show_only = vec!["templates/nope.yaml".into()],
        want: Want::Err("could not find template templates/nope.yaml in chart"),
    },
    Case {
        name: "required names the template position",
        files: &[
            ("c/Chart.yaml", CHART),
            (
                "c/templates/a.yaml",
                "kind: A\ntag: {{ required \"image.tag is required\" .Values.tag }}\n",
            ),
        ],
        opts: none,
        want: Want::Err("execution error at (c/templates/a.yaml:2:"),
    },
    Case {
        name: "fail message",
        files: &[
            ("c/Chart.yaml", CHART),
            ("c/templates/a.yaml", "{{ fail \"set .Values.mode\" }}"),
        ],
        opts: none,
        want: Want::Err("set .Values.mode"),
    },
    Case {
        name: "template syntax error",
        files: &[
            ("c/Chart.yaml", CHART),
            ("c/templates/a.yaml", "kind: A\n{{ if }}\n"),
        ],
        opts: none,
        want: Want::Err("c/templates/a.yaml:2"),
    },
    Case {
        name: "rendered YAML that does not parse",
        files: &[
            ("c/Chart.yaml", CHART),
            ("c/templates/bad.yaml", "kind: A\n  b: c\n"),
        ],
        opts: none,
        want: Want::Err(
            "YAML parse error on c/templates/bad.yaml: error converting YAML to JSON: yaml: line 2",
        ),
    },
    Case {
        name: "schema violation",
        files: &[
            ("c/Chart.yaml", CHART),
            ("c/values.yaml", "replicas: 1\n"),
            (
                "c/values.schema.json",
                "{\"type\": \"object\", \"properties\": {\"replicas\": {\"type\": \"integer\"}}, \"required\": [\"replicas\"]}",
            ),
            ("c/templates/a.yaml", "kind: A\n"),
        ],
        opts: |o| o.set = vec!["replicas=many".into()],
        want: Want::Err(
            "values don't meet the specifications of the schema(s) in the following chart(s):\nc:\n- at '/replicas': got string, want integer",
        ),
    },
    Case {
        name: "schema errors for subcharts, numbers printed as Go does",
        files: &[
            ("c/Chart.yaml", CHART),
            ("c/values.yaml", "sub:\n  age: -5\n"),
            (
                "c/charts/sub/Chart.yaml",
                "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
            ),
            (
                "c/charts/sub/values.schema.json",
                "{\"properties\": {\"age\": {\"minimum\": 0}}, \"required\": [\"name\"]}",
            ),
        ],
        opts: none,
        want: Want::Err(
            "in the following chart(s):\nsub:\n- at '': missing property 'name'\n- at '/age': minimum: got -5, want 0\n",
        ),
    },
    Case {
        name: "schema satisfied by float64 integers",
        files: &[
            ("c/Chart.yaml", CHART),
            ("c/values.yaml", "replicas: 3\n"),
            (
                "c/values.schema.json",
                "{\"type\": \"object\", \"properties\": {\"replicas\": {\"type\": \"integer\", \"minimum\": 1}}}",
            ),
            ("c/templates/a.yaml", "kind: A\nr: {{ .Values.replicas }}\n"),
        ],
        opts: none,
        want: Want::Text("---\n# Source: c/templates/a.yaml\nkind: A\nr: 3\n"),
    },
    Case {
        name: "library chart is not installable",
        files: &[(
            "c/Chart.yaml",
            "apiVersion: v2\nname: c\nversion: 0.1.0\ntype: library\n",
        )],
        opts: none,
        want: Want::Err("library charts are not installable"),
    },
    Case {
        name: "kubeVersion constraint",
        files: &[
            (
                "c/Chart.yaml",
                "apiVersion: v2\nname: c\nversion: 0.1.0\nkubeVersion: \">=1.25.0-0\"\n",
            ),
            ("c/templates/a.yaml", "kind: A\n"),
        ],
        opts: |o| o.kube_version = Some("1.20.0".into()),
        want: Want::Err(
            "chart requires kubeVersion: >=1.25.0-0 which is incompatible with Kubernetes v1.20.0",
        ),
    },
    Case {
        name: "values file that is not a map",
        files: &[("c/Chart.yaml", CHART), ("v.yaml", "- a\n- b\n")],
        opts: |o| o.values_files = vec!["v.yaml".into()],
        want: Want::Err("failed to parse v.yaml"),
    },
    Case {
        name: "unparsable --set",
        files: &[("c/Chart.yaml", CHART)],
        opts: |o| o.set = vec!["a,b=c".into()],
        want: Want::Err("failed parsing --set data: key \"a\" has no value (cannot end with ,)"),
    },
    Case {
        name: "dependency not vendored in charts/",
        files: &[(
            "c/Chart.yaml",
            "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n- name: redis\n  version: 1.0.0\n  repository: https://example.invalid\n",
        )],
        opts: none,
        want: Want::Err("found in Chart.yaml, but missing in charts/ directory: redis"),
    },
    Case {
        name: "invalid release name",
        files: &[("c/Chart.yaml", CHART)],
        opts: |o| o.release_name = "Bad_Name".into(),
        want: Want::Err(
            "release name check failed: release name \"Bad_Name\": invalid release name",
        ),
    },
    Case {
        name: "name template",
        files: &[
            ("c/Chart.yaml", CHART),
            ("c/templates/a.yaml", "kind: A\nname: {{ .Release.Name }}\n"),
        ],
        opts: |o| o.name_template = Some("foobar-{{ b64enc \"abc\" | lower }}-baz".into()),
        want: Want::Text("---\n# Source: c/templates/a.yaml\nkind: A\nname: foobar-ywjj-baz\n"),
    },
    Case {
        name: "Chart.yaml without a name",
        files: &[("c/Chart.yaml", "apiVersion: v2\nversion: 1.0.0\n")],
        opts: none,
        want: Want::Err("validation: chart.metadata.name is required"),
    },
    Case {
        name: "Chart.yaml with a bad version",
        files: &[("c/Chart.yaml", "apiVersion: v2\nname: c\nversion: banana\n")],
        opts: none,
        want: Want::Err("validation: chart.metadata.version \"banana\" is invalid"),
    },
    Case {
        name: "short versions are valid semver for Helm",
        files: &[
            ("c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0\n"),
            ("c/templates/a.yaml", "kind: A\nv: {{ .Chart.Version }}\n"),
        ],
        opts: none,
        want: Want::Text("---\n# Source: c/templates/a.yaml\nkind: A\nv: 1.0\n"),
    },
    Case {
        name: "alias with disallowed characters",
        files: &[(
            "c/Chart.yaml",
            "apiVersion: v2\nname: c\nversion: 1.0.0\ndependencies:\n- name: s\n  version: 1.0.0\n  alias: bad.alias\n",
        )],
        opts: none,
        want: Want::Err("validation: dependency \"s\" has disallowed characters in the alias"),
    },
    Case {
        name: "duplicate dependency names",
        files: &[(
            "c/Chart.yaml",
            "apiVersion: v2\nname: c\nversion: 1.0.0\ndependencies:\n- name: s\n  version: 1.0.0\n- name: s\n  version: 1.0.0\n",
        )],
        opts: none,
        want: Want::Err("validation: more than one dependency with name or alias \"s\""),
    },
    Case {
        name: "unparsable --set-json object",
        files: &[("c/Chart.yaml", CHART)],
        opts: |o| o.set_json = vec!["{\"a\": ".into()],
        want: Want::Err("failed parsing --set-json data JSON: {\"a\": "),
    },
    Case {
        name: "unparsable --set-json value",
        files: &[("c/Chart.yaml", CHART)],
        opts: |o| o.set_json = vec!["a={nope".into()],
        want: Want::Err("failed parsing --set-json data a={nope"),
    },
    Case {
        name: "missing Chart.yaml",
        files: &[("c/values.yaml", "a: 1\n")],
        opts: none,
        want: Want::Err("Chart.yaml file is missing"),
    },
    Case {
        name: "include recursion is bounded",
        files: &[
            ("c/Chart.yaml", CHART),
            (
                "c/templates/a.yaml",
                "{{ define \"loop\" }}{{ include \"loop\" . }}{{ end }}{{ include \"loop\" . }}",
            ),
        ],
        opts: none,
        want: Want::Err("c/templates/a.yaml"),
    },
];

/// A `.tgz` holding chart `arc` (folder `arc/` inside, as `helm package` makes).
fn archive() -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, body) in [
        (
            "arc/Chart.yaml",
            "apiVersion: v2\nname: arc\nversion: 0.2.0\n",
        ),
        ("arc/values.yaml", "v: own\n"),
        ("arc/templates/x.yaml", "kind: X\nv: {{ .Values.v }}\n"),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, name, body.as_bytes()).unwrap();
    }
    let raw = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &raw).unwrap();
    gz.finish().unwrap()
}

#[test]
fn render_cases() {
    let mut failures = Vec::new();
    for case in CASES {
        let mut fs = MemFs::new();
        for (path, body) in case.files {
            fs.insert(path, *body);
        }
        if case.name == "gzipped subchart archive" {
            fs.insert("c/charts/arc-0.2.0.tgz", archive());
        }
        let mut opts = Options::default();
        (case.opts)(&mut opts);
        let got = render(&fs, "c", &opts);
        let ok = match (&case.want, &got) {
            (Want::Text(t), Ok(r)) => r.text == *t,
            (Want::Err(e), Err(err)) => err.to_string().contains(e),
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{}:\n got: {:?}",
                case.name,
                got.map(|r| r.text).map_err(|e| e.to_string())
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn documents_follow_the_text() {
    let mut fs = MemFs::new();
    fs.insert("c/Chart.yaml", CHART);
    fs.insert(
        "c/templates/a.yaml",
        "kind: Deployment\n---\nkind: Namespace\n",
    );
    let r = render(&fs, "c", &Options::default()).unwrap();
    let kinds: Vec<&str> = r
        .documents
        .iter()
        .map(|d| d.value["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["Namespace", "Deployment"]);
    assert!(r.documents.iter().all(|d| d.source == "c/templates/a.yaml"));
}

#[test]
fn root_chart_from_an_archive() {
    let mut fs = MemFs::new();
    fs.insert("arc-0.2.0.tgz", archive());
    let r = render(&fs, "arc-0.2.0.tgz", &Options::default()).unwrap();
    assert_eq!(
        r.text,
        "---\n# Source: arc/templates/x.yaml\nkind: X\nv: own\n"
    );
}

#[test]
fn corrupt_archive_is_an_error_naming_the_file() {
    let mut fs = MemFs::new();
    fs.insert("c/Chart.yaml", CHART);
    fs.insert("c/charts/broken-1.0.0.tgz", b"not gzip".to_vec());
    let err = render(&fs, "c", &Options::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("c/charts/broken-1.0.0.tgz"), "{err}");
}
