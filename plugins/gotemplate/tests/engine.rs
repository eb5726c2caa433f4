//! Table-driven tests of the engine's behaviour beyond the conformance
//! tables: Go printing rules, missing-key modes, Helm's error forms, YAML
//! helpers, dates with a fixed clock, seeded randomness and host objects.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::collections::BTreeMap;

use manifold_gotemplate::helm_engine::{ApiVersions, Files, KubeVersion, RenderTemplate};
use manifold_gotemplate::{ExecOptions, MissingKey, NumberMode, TemplateSet, Value};

/// Which function map and options a row runs with.
#[derive(Clone, Copy)]
enum Mode {
    Go,
    Sprig,
    /// Helm's function map and engine options (missingkey=zero, `<no value>` stripped).
    Helm,
    /// missingkey=error.
    Strict,
}

struct Row {
    name: &'static str,
    mode: Mode,
    template: &'static str,
    data: &'static str,
    /// `Ok(output)` or `Err(substring of the error)`.
    want: Result<&'static str, &'static str>,
}

const fn ok(
    name: &'static str,
    mode: Mode,
    template: &'static str,
    data: &'static str,
    out: &'static str,
) -> Row {
    Row {
        name,
        mode,
        template,
        data,
        want: Ok(out),
    }
}

const fn err(
    name: &'static str,
    mode: Mode,
    template: &'static str,
    data: &'static str,
    e: &'static str,
) -> Row {
    Row {
        name,
        mode,
        template,
        data,
        want: Err(e),
    }
}

use Mode::*;

const ROWS: &[Row] = &[
    // Printing
    ok(
        "float shortest",
        Go,
        "{{ 1.5 }} {{ 0.1 }} {{ 100000.0 }}",
        "null",
        "1.5 0.1 100000",
    ),
    ok(
        "float exponent like Go",
        Go,
        "{{ .a }} {{ .b }}",
        r#"{"a": 1000000.0, "b": 123456789.0}"#,
        "1e+06 1.23456789e+08",
    ),
    ok(
        "float64 values print as integers",
        Helm,
        "{{ .port }}",
        r#"{"port": 8080}"#,
        "8080",
    ),
    ok(
        "map printing sorted",
        Go,
        "{{ . }}",
        r#"{"b": 2, "a": [1, "x", null]}"#,
        "map[a:[1 x <nil>] b:2]",
    ),
    ok(
        "printf verbs",
        Go,
        r#"{{ printf "%5.2f|%-4d|%x|%q|%t|%T|%v" 3.14159 7 255 "hi" true 1.0 .l }}"#,
        r#"{"l": [1, 2]}"#,
        " 3.14|7   |ff|\"hi\"|true|float64|[1 2]",
    ),
    ok(
        "printf bad verb and missing",
        Go,
        r#"{{ printf "%d %s" "x" }}"#,
        "null",
        "%!d(string=x) %!s(MISSING)",
    ),
    ok(
        "printf extra",
        Go,
        r#"{{ printf "a" 1 }}"#,
        "null",
        "a%!(EXTRA int=1)",
    ),
    ok(
        "print spacing",
        Go,
        r#"{{ print 1 2 "a" 3 "b" "c" }}"#,
        "null",
        "1 2a3bc",
    ),
    ok(
        "printf g precision",
        Go,
        r#"{{ printf "%.3g %e %08.3f" 1234.5678 1234.5678 -3.5 }}"#,
        "null",
        "1.23e+03 1.234568e+03 -003.500",
    ),
    // Whitespace control, comments, raw strings, chars
    ok(
        "trim markers",
        Go,
        "a  {{- 1 -}}  b {{- /* c */ -}} c",
        "null",
        "a1bc",
    ),
    ok(
        "char constant",
        Go,
        "{{ 'a' }} {{ printf \"%c\" 'b' }}",
        "null",
        "97 b",
    ),
    ok("raw string", Go, "{{ `a\\n{{b}}` }}", "null", "a\\n{{b}}"),
    // Variables and control flow
    ok(
        "range map sorted with vars",
        Go,
        "{{ range $k, $v := . }}{{ $k }}={{ $v }};{{ end }}",
        r#"{"b": 1, "a": 2}"#,
        "a=2;b=1;",
    ),
    ok(
        "range int",
        Go,
        "{{ range 3 }}{{ . }}{{ end }}",
        "null",
        "012",
    ),
    ok(
        "range else",
        Go,
        "{{ range .x }}x{{ else }}none{{ end }}",
        r#"{"x": []}"#,
        "none",
    ),
    ok(
        "break continue",
        Go,
        "{{ range . }}{{ if eq . 2 }}{{ continue }}{{ end }}{{ if eq . 4 }}{{ break }}{{ end }}{{ . }}{{ end }}",
        "[1, 2, 3, 4, 5]",
        "13",
    ),
    ok(
        "with else with",
        Go,
        "{{ with .a }}A{{ else with .b }}B{{ . }}{{ else }}C{{ end }}",
        r#"{"b": 7}"#,
        "B7",
    ),
    ok(
        "variable scope",
        Go,
        "{{ $x := 1 }}{{ range . }}{{ $x = . }}{{ end }}{{ $x }}",
        "[5, 6]",
        "6",
    ),
    ok(
        "define template block",
        Go,
        r#"{{ define "x" }}[{{ . }}]{{ end }}{{ template "x" 1 }}{{ block "b" 2 }}<{{ . }}>{{ end }}"#,
        "null",
        "[1]<2>",
    ),
    ok(
        "eq many and mixed ints",
        Go,
        "{{ eq 3 1 2 3 }} {{ lt 1 2 }} {{ ne \"a\" \"b\" }}",
        "null",
        "true true true",
    ),
    err(
        "eq int float",
        Go,
        "{{ eq 1 1.0 }}",
        "null",
        "incompatible types for comparison",
    ),
    ok(
        "and or values",
        Go,
        "{{ and 1 \"x\" }} {{ or 0 \"\" }} {{ or 0 \"y\" }}",
        "null",
        "x  y",
    ),
    // Missing keys
    ok("missing no value", Go, "{{ .a.b }}", "{}", "<no value>"),
    ok("missing zero helm strips", Helm, "[{{ .a }}]", "{}", "[]"),
    err(
        "helm nil pointer",
        Helm,
        "{{ .a.b }}",
        "{}",
        "nil pointer evaluating interface {}.b",
    ),
    err(
        "strict missing",
        Strict,
        "{{ .a }}",
        "{}",
        "map has no entry for key \"a\"",
    ),
    // Errors
    err(
        "undefined function",
        Go,
        "{{ nope 1 }}",
        "null",
        "template: t:1: function \"nope\" not defined",
    ),
    err(
        "unclosed action",
        Go,
        "{{ if 1 }}x",
        "null",
        "template: t:1: unexpected EOF",
    ),
    err(
        "wrong arg count",
        Sprig,
        "{{ upper }}",
        "null",
        "wrong number of args for upper: want 1 got 0",
    ),
    err(
        "literal arg type",
        Sprig,
        "{{ upper 1 }}",
        "null",
        "template: t:1:9: executing \"t\" at <1>: expected string; found 1",
    ),
    err(
        "value arg type",
        Sprig,
        "{{ upper .n }}",
        r#"{"n": 1}"#,
        "at <.n>: wrong type for value; expected string; got int",
    ),
    err(
        "missing piped arg",
        Sprig,
        "{{ .nope | upper }}",
        "{}",
        "invalid value; expected string",
    ),
    err(
        "helm zero arg",
        Helm,
        "{{ upper .nope }}",
        "{}",
        "wrong type for value; expected string; got interface {}",
    ),
    err(
        "exec location",
        Go,
        "x\n  {{ index .a 5 }}",
        r#"{"a": [1]}"#,
        "template: t:2:5: executing \"t\" at <index .a 5>: error calling index: index out of range: 5",
    ),
    err(
        "undefined variable",
        Go,
        "{{ $x }}",
        "null",
        "undefined variable \"$x\"",
    ),
    err(
        "duplicate define in one file",
        Go,
        r#"{{ define "a" }}1{{ end }}{{ define "a" }}2{{ end }}"#,
        "null",
        "multiple definition of template \"a\"",
    ),
    ok(
        "empty define keeps earlier",
        Go,
        r#"{{ define "a" }}1{{ end }}{{ define "a" }} {{ end }}{{ template "a" }}"#,
        "null",
        "1",
    ),
    ok(
        "htpasswd verifies",
        Sprig,
        r#"{{ $h := htpasswd "user" "pw" }}{{ hasPrefix "user:$2a$10$" $h }} {{ len $h }}"#,
        "null",
        "true 65",
    ),
    err(
        "template not defined",
        Go,
        r#"{{ template "nope" . }}"#,
        "null",
        "template: t:1:12: executing \"t\" at <{{template \"nope\" .}}>: template \"nope\" not defined",
    ),
    ok(
        "toYamlPretty indents nested sequences",
        Helm,
        "{{ toYamlPretty . }}",
        r#"{"a": {"b": [1, {"c": "d", "e": ["x", ["y", "z"]], "s": "l1\nl2"}]}}"#,
        "a:\n  b:\n    - 1\n    - c: d\n      e:\n        - x\n        - - \"y\"\n          - z\n      s: |-\n        l1\n        l2",
    ),
    ok(
        "printf bad width",
        Go,
        r#"{{ printf "%*d|%.*d|%99999999d" 9999999 1 -1 2 3 }}"#,
        "null",
        "%!(BADWIDTH)1|%!(BADPREC)2|%!(NOVERB)%!(EXTRA int=3)",
    ),
    ok(
        "extreme integers do not overflow",
        Sprig,
        "{{ seq 9223372036854775807 9223372036854775807 }} {{ add1 9223372036854775807 }} {{ date \"2006\" 9223372036854775807 | len }}",
        "null",
        " -9223372036854775808 12",
    ),
    err(
        "break in block body",
        Go,
        r#"{{ range . }}{{ block "b" . }}{{ break }}{{ end }}{{ end }}"#,
        "[1]",
        "{{break}} outside {{range}}",
    ),
    err(
        "assignment to undeclared variable fails at run time",
        Go,
        "{{ $y = 1 }}",
        "null",
        "template: t:1:8: executing \"t\" at <1>: undefined variable: $y",
    ),
    err(
        "range position is its pipeline",
        Go,
        "{{ range  . }}x{{ end }}",
        "3.5",
        "template: t:1:10: executing \"t\" at <{{range .}}x{{end}}>: range can't iterate over 3.5",
    ),
    ok(
        "float edge cases",
        Go,
        "{{ .a }} {{ .b }} {{ .c }} {{ .d }} {{ .e }} {{ .f }}",
        r#"{"a": 999999.0, "b": 1000000.0, "c": 0.000015, "d": 1e21, "e": 0.0001, "f": 12345678.9}"#,
        "999999 1e+06 1.5e-05 1e+21 0.0001 1.23456789e+07",
    ),
    ok(
        "js and html escaping",
        Go,
        r#"{{ js "a'b\"<\n=" }} {{ html "<'&\">" }}"#,
        "null",
        r#"a\'b\"\u003C\u000A\u003D &lt;&#39;&amp;&#34;&gt;"#,
    ),
    ok(
        "unencodable json and yaml are empty",
        Helm,
        r#"{{ $m := dict "x" (float64 "NaN") }}[{{ toJson $m }}][{{ toYaml $m }}]"#,
        "null",
        "[][]",
    ),
    err(
        "mustToJson reports unencodable",
        Helm,
        r#"{{ mustToJson (list 1.5i) }}"#,
        "null",
        "error calling mustToJson: json: unsupported type: complex128",
    ),
    ok(
        "printf explicit argument indexes",
        Go,
        r#"{{ printf "%[2]s-%[1]s %[1]d|%[3]d" 1 "b" }}"#,
        "null",
        "b-%!s(int=1) 1|%!d(BADINDEX)",
    ),
    ok(
        "dateInZone fixed offsets",
        Sprig,
        r#"{{ dateInZone "15:04 MST -0700" 0 "Etc/GMT-2" }}|{{ dateInZone "15:04 MST" 0 "UTC" }}"#,
        "null",
        "02:00 +02 +0200|00:00 UTC",
    ),
    ok(
        "ed25519 private key",
        Sprig,
        r#"{{ $k := genPrivateKey "ed25519" }}{{ hasPrefix "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI" $k }} {{ len $k }} {{ genPrivateKey "x" }}"#,
        "null",
        "true 119 Unknown type x",
    ),
    // Sprig and Helm helpers
    ok(
        "default and empty",
        Sprig,
        r#"{{ .x | default "d" }} {{ empty .y }}"#,
        r#"{"y": {}}"#,
        "d true",
    ),
    ok(
        "dict set shared",
        Sprig,
        r#"{{ $d := dict "a" 1 }}{{ $_ := set $d "b" 2 }}{{ $d }}"#,
        "null",
        "map[a:1 b:2]",
    ),
    ok(
        "merge keeps dst",
        Sprig,
        r#"{{ merge .a .b | toJson }}"#,
        r#"{"a": {"x": 1, "n": {"p": 1}}, "b": {"x": 2, "y": 3, "n": {"q": 2}}}"#,
        r#"{"n":{"p":1,"q":2},"x":1,"y":3}"#,
    ),
    ok(
        "toJson escapes html",
        Sprig,
        r#"{{ toJson "<a>" }} {{ toRawJson "<a>" }}"#,
        "null",
        r#""\u003ca\u003e" "<a>""#,
    ),
    ok(
        "semverCompare",
        Sprig,
        r#"{{ semverCompare ">=1.19-0" "v1.20.3" }} {{ semverCompare "~1.2" "1.3.0" }} {{ semverCompare "1.2 - 1.4" "1.4.9" }}"#,
        "null",
        "true false true",
    ),
    ok(
        "regex replace",
        Sprig,
        r#"{{ regexReplaceAll "a(?P<x>b)" "abab" "${x}-" }}"#,
        "null",
        "b-b-",
    ),
    ok(
        "toYaml",
        Helm,
        "{{ toYaml . }}",
        r#"{"b": [1, "two"], "a": {"c": true}, "s": "multi\nline"}"#,
        "a:\n  c: true\nb:\n- 1\n- two\ns: |-\n  multi\n  line",
    ),
    ok(
        "fromYaml roundtrip",
        Helm,
        r#"{{ (fromYaml "a: 1\nb: [x]").b }} {{ (fromYaml "a: 1").a }}"#,
        "null",
        "[x] 1",
    ),
    ok(
        "fromYaml error map",
        Helm,
        r#"{{ hasKey (fromYaml "- a") "Error" }}"#,
        "null",
        "true",
    ),
    ok(
        "include and nindent",
        Helm,
        r#"{{ define "x" }}a: {{ . }}{{ end }}b:{{ include "x" 1 | nindent 2 }}"#,
        "null",
        "b:\n  a: 1",
    ),
    ok(
        "tpl sees values",
        Helm,
        r#"{{ tpl "{{ .v }}!" . }}"#,
        r#"{"v": "hi"}"#,
        "hi!",
    ),
    err(
        "include recursion bounded",
        Helm,
        r#"{{ define "r" }}{{ include "r" . }}{{ end }}{{ include "r" . }}"#,
        "null",
        "rendering template has a nested reference name: r",
    ),
    err(
        "required",
        Helm,
        r#"{{ required "need x" .x }}"#,
        "{}",
        "need x",
    ),
    ok(
        "durations",
        Helm,
        r#"{{ durationSeconds "1m30s" }} {{ mustToDuration 90 }}"#,
        "null",
        "90 1m30s",
    ),
    // Helm values are float64, which TOML prints with a fraction.
    ok(
        "toToml",
        Helm,
        "{{ toToml . }}",
        r#"{"a": 1, "t": {"b": "x"}}"#,
        "a = 1.0\n\n[t]\n  b = \"x\"\n",
    ),
];

fn run(row: &Row) -> Result<String, String> {
    let (funcs, opts) = match row.mode {
        Go => (manifold_gotemplate::go_builtins(), ExecOptions::default()),
        Sprig => (manifold_gotemplate::sprig(), ExecOptions::default()),
        Helm => (manifold_gotemplate::helm(), ExecOptions::helm()),
        Strict => (
            manifold_gotemplate::helm(),
            ExecOptions {
                missing_key: MissingKey::Error,
                ..ExecOptions::default()
            },
        ),
    };
    let mode = if matches!(row.mode, Helm) {
        NumberMode::Float64
    } else {
        NumberMode::GoTyped
    };
    let json: serde_json::Value = serde_json::from_str(row.data).map_err(|e| e.to_string())?;
    let data = Value::from_json(&json, mode);
    let set = TemplateSet::parse(&[("t", row.template)], funcs).map_err(|e| e.to_string())?;
    set.execute("t", &data, &opts).map_err(|e| e.to_string())
}

#[test]
fn engine_rows() {
    let mut failures = Vec::new();
    for row in ROWS {
        let got = run(row);
        let good = match (&got, &row.want) {
            (Ok(out), Ok(want)) => out == want,
            (Err(e), Err(want)) => e.contains(want),
            _ => false,
        };
        if !good {
            failures.push(format!("{}: got {:?}, want {:?}", row.name, got, row.want));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing rows:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn clock_and_seed_are_parameters() {
    let set = TemplateSet::parse(
        &[("t", r#"{{ now | date "2006-01-02T15:04:05Z07:00" }} {{ now | unixEpoch }} {{ randAlphaNum 8 }} {{ uuidv4 }}"#)],
        manifold_gotemplate::sprig(),
    )
    .unwrap();
    let opts = ExecOptions {
        now: (1_700_000_000, 0),
        random_seed: 42,
        ..ExecOptions::default()
    };
    let a = set.execute("t", &Value::Nil, &opts).unwrap();
    let b = set.execute("t", &Value::Nil, &opts).unwrap();
    assert_eq!(a, b, "same seed and clock give the same output");
    assert!(a.starts_with("2023-11-14T22:13:20Z 1700000000 "), "{a}");
    let c = set
        .execute(
            "t",
            &Value::Nil,
            &ExecOptions {
                random_seed: 43,
                ..opts.clone()
            },
        )
        .unwrap();
    assert_ne!(a, c, "another seed gives other random values");
}

#[test]
fn helm_objects_and_engine_render() {
    let mut files = BTreeMap::new();
    files.insert("conf/a.txt".to_string(), b"alpha".to_vec());
    files.insert("conf/b.txt".to_string(), b"beta".to_vec());
    files.insert("other.md".to_string(), b"x".to_vec());
    let mut caps = BTreeMap::new();
    caps.insert(
        "APIVersions".to_string(),
        Value::Object(std::sync::Arc::new(ApiVersions(vec![
            "v1".into(),
            "apps/v1".into(),
        ]))),
    );
    caps.insert(
        "KubeVersion".to_string(),
        Value::Object(std::sync::Arc::new(KubeVersion {
            version: "v1.30.0".into(),
            major: "1".into(),
            minor: "30".into(),
        })),
    );
    let mut top = BTreeMap::new();
    top.insert("Files".to_string(), Files::new(files).into_value());
    top.insert("Capabilities".to_string(), Value::map(caps));
    top.insert("Values".to_string(), Value::empty_map());
    let top = Value::map(top);
    let templates = vec![
        RenderTemplate {
            name: "c/templates/cm.yaml".into(),
            text: r#"{{ range $p, $_ := .Files.Glob "conf/*" }}{{ $p }},{{ end }}{{ range .Capabilities.APIVersions }}{{ . }};{{ end }}{{ .Files.Get "conf/a.txt" }}|{{ (.Files.Glob "conf/*").AsConfig }}|{{ .Capabilities.APIVersions.Has "apps/v1" }}|{{ .Capabilities.KubeVersion }}|{{ semverCompare ">=1.29" .Capabilities.KubeVersion.Version }}|{{ .Template.Name }}|{{ include "c.helper" . }}"#.into(),
            values: top.clone(),
            base_path: "c/templates".into(),
        },
        RenderTemplate {
            name: "c/templates/_helpers.tpl".into(),
            text: r#"{{ define "c.helper" }}{{ .Template.BasePath }}{{ .Values.missing }}{{ end }}"#.into(),
            values: top,
            base_path: "c/templates".into(),
        },
    ];
    let out = manifold_gotemplate::helm_engine::render(
        &templates,
        manifold_gotemplate::helm(),
        &Default::default(),
    )
    .unwrap();
    assert_eq!(out.len(), 1, "partials are not rendered: {out:?}");
    assert_eq!(
        out["c/templates/cm.yaml"],
        "conf/a.txt,conf/b.txt,v1;apps/v1;alpha|a.txt: alpha\nb.txt: beta|true|v1.30.0|true|c/templates/cm.yaml|c/templates"
    );
}

/// Every name in Sprig's `TxtFuncMap` and Helm's engine map resolves.
#[test]
fn function_maps_are_complete() {
    const SPRIG: &str = "hello ago date date_in_zone date_modify dateInZone dateModify duration durationRound htmlDate htmlDateInZone must_date_modify mustDateModify mustToDate now toDate unixEpoch abbrev abbrevboth trunc trim upper lower title untitle substr repeat trimall trimAll trimSuffix trimPrefix nospace initials randAlphaNum randAlpha randAscii randNumeric swapcase shuffle snakecase camelcase kebabcase wrap wrapWith contains hasPrefix hasSuffix quote squote cat indent nindent replace plural sha1sum sha256sum sha512sum adler32sum toString atoi int64 int float64 seq toDecimal split splitList splitn toStrings until untilStep add1 add sub div mod mul randInt add1f addf subf divf mulf biggest max min maxf minf ceil floor round join sortAlpha default empty coalesce all any compact mustCompact fromJson toJson toPrettyJson toRawJson mustFromJson mustToJson mustToPrettyJson mustToRawJson ternary deepCopy mustDeepCopy typeOf typeIs typeIsLike kindOf kindIs deepEqual env expandenv getHostByName base dir clean ext isAbs osBase osClean osDir osExt osIsAbs b64enc b64dec b32enc b32dec tuple list dict get set unset hasKey pluck keys pick omit merge mergeOverwrite mustMerge mustMergeOverwrite values append push mustAppend mustPush prepend mustPrepend first mustFirst rest mustRest last mustLast initial mustInitial reverse mustReverse uniq mustUniq without mustWithout has mustHas slice mustSlice concat dig chunk mustChunk bcrypt htpasswd genPrivateKey derivePassword buildCustomCert genCA genCAWithKey genSelfSignedCert genSelfSignedCertWithKey genSignedCert genSignedCertWithKey encryptAES decryptAES randBytes uuidv4 semver semverCompare fail regexMatch mustRegexMatch regexFindAll mustRegexFindAll regexFind mustRegexFind regexReplaceAll mustRegexReplaceAll regexReplaceAllLiteral mustRegexReplaceAllLiteral regexSplit mustRegexSplit regexQuoteMeta urlParse urlJoin";
    const HELM: &str = "toToml mustToToml fromToml toYaml mustToYaml toYamlPretty fromYaml fromYamlArray toJson mustToJson fromJson fromJsonArray mustToDuration durationSeconds durationMilliseconds durationMicroseconds durationNanoseconds durationMinutes durationHours durationDays durationWeeks durationRoundTo durationTruncateTo include tpl required lookup";
    const GO: &str =
        "and or not len index slice print printf println html js urlquery eq ne lt le gt ge call";
    let sprig = manifold_gotemplate::sprig();
    let helm = manifold_gotemplate::helm();
    let missing: Vec<&str> = SPRIG
        .split_whitespace()
        .chain(GO.split_whitespace())
        .filter(|n| sprig.get(n).is_none())
        .chain(HELM.split_whitespace().filter(|n| helm.get(n).is_none()))
        .collect();
    assert!(missing.is_empty(), "missing functions: {missing:?}");
    assert!(helm.get("env").is_none() && helm.get("expandenv").is_none());
}

/// Helm's golden error for a nil value piped into a string function
/// (`helm template --debug` on chart-with-template-with-invalid-template-expr).
#[test]
fn helm_error_trace_for_invalid_pipe_value() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"{{.Release.Name}}-{{.Values.Name}}\"\nspec:\n  containers:\n  - name: {{ .Values.nonExistentKey | b64enc }}\n";
    let values: serde_json::Value =
        serde_json::json!({"Release": {"Name": "release-name"}, "Values": {"Name": "x"}});
    let t = RenderTemplate {
        name: "c/templates/alpine-pod.yaml".into(),
        text: text.into(),
        values: Value::from_json(&values, NumberMode::Float64),
        base_path: "c/templates".into(),
    };
    let err = manifold_gotemplate::helm_engine::render(
        &[t],
        manifold_gotemplate::helm(),
        &Default::default(),
    )
    .unwrap_err();
    assert_eq!(err.template, "c/templates/alpine-pod.yaml");
    assert_eq!(
        err.message,
        "c/templates/alpine-pod.yaml:7:38\n  executing \"c/templates/alpine-pod.yaml\" at <b64enc>:\n    invalid value; expected string"
    );
}

/// Hostile nesting fails with an error instead of exhausting the stack, and
/// the template set can be shared across threads.
#[test]
fn deep_nesting_is_an_error() {
    let deep_parens = format!("{{{{ {}1{} }}}}", "(".repeat(5000), ")".repeat(5000));
    let deep_ifs = format!(
        "{}x{}",
        "{{ if true }}".repeat(5000),
        "{{ end }}".repeat(5000)
    );
    for text in [deep_parens, deep_ifs] {
        let e = TemplateSet::parse(&[("t", text.as_str())], manifold_gotemplate::go_builtins())
            .unwrap_err();
        assert!(e.to_string().contains("nested more than"), "{e}");
    }
    fn shareable<T: Send + Sync>() {}
    shareable::<TemplateSet>();
    shareable::<Value>();
}
