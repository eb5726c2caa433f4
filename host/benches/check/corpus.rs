//! A generated GitOps monorepo for the `check` benchmark.
//!
//! Applications, four in five a Kustomize base with dev/staging/prod
//! overlays and one in five a Helm chart with `values-<env>.yaml` files (so
//! discovery finds three chart environments), plus CRDs, custom resources,
//! conftest-style Rego policies and a `manifold.yaml` that turns on the
//! schema, labels, policy and secrets validators.
//!
//! An application has four components (api, worker, web, jobs), each a
//! Deployment with two containers, a Service, a ServiceAccount and a
//! generated ConfigMap, one component in three an HPA; the application adds
//! a PodDisruptionBudget, a NetworkPolicy and an `AlertRule` custom
//! resource. That is about 20 documents per target, so `medium` (333
//! applications, 1,001 targets) renders about 20,000 documents.
//!
//! Every byte is a function of the size: no randomness, no map iteration
//! order, so two machines generate the same corpus (its digest is printed).

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

/// How many applications each named size has.
pub const SIZES: &[(&str, usize)] = &[("small", 16), ("medium", 333), ("large", 1666)];

pub fn applications(size: &str) -> Option<usize> {
    SIZES
        .iter()
        .find(|(name, _)| *name == size)
        .map(|(_, n)| *n)
}

const COMPONENTS: &[(&str, u16)] = &[
    ("api", 8080),
    ("worker", 8081),
    ("web", 3000),
    ("jobs", 8082),
];
const ENVIRONMENTS: &[&str] = &["dev", "staging", "prod"];
const WORDS: &[&str] = &[
    "billing", "catalog", "checkout", "search", "identity", "ledger", "mailer", "orders",
    "pricing", "reviews", "shipping", "stock",
];
const TEAMS: &[&str] = &[
    "payments",
    "storefront",
    "platform",
    "growth",
    "logistics",
    "trust",
];

/// One application of the corpus.
#[derive(Debug, Clone)]
pub struct App {
    pub index: usize,
    pub name: String,
    pub chart: bool,
}

impl App {
    fn new(index: usize) -> App {
        App {
            index,
            name: format!("{}-{index:04}", WORDS[index % WORDS.len()]),
            chart: index % 5 == 4,
        }
    }

    fn team(&self) -> &'static str {
        TEAMS[self.index % TEAMS.len()]
    }

    fn minor(&self) -> usize {
        self.index % 10
    }

    /// Component `c` scales with an HPA: one component in three overall.
    fn autoscaled(&self, c: usize) -> bool {
        (self.index * COMPONENTS.len() + c).is_multiple_of(3)
    }

    /// A few applications leave the main container of `jobs` without a
    /// memory limit: the policy warns, so the report has some findings.
    fn unlimited_jobs(&self) -> bool {
        self.index % 25 == 7
    }

    pub fn dir(&self) -> String {
        if self.chart {
            format!("charts/{}", self.name)
        } else {
            format!("apps/{}", self.name)
        }
    }

    /// Repository paths of the overlays (Kustomize applications only).
    pub fn overlays(&self) -> Vec<String> {
        if self.chart {
            return Vec::new();
        }
        ENVIRONMENTS
            .iter()
            .map(|env| format!("{}/overlays/{env}", self.dir()))
            .collect()
    }
}

/// The file the incremental benchmark edits: a base Deployment of
/// application 0 (always a Kustomize one), read by its three overlays.
pub fn edited_file() -> String {
    format!("{}/base/api-deployment.yaml", App::new(0).dir())
}

/// What was written.
#[derive(Debug)]
pub struct Corpus {
    pub root: PathBuf,
    pub apps: Vec<App>,
    pub files: usize,
    pub bytes: u64,
    /// blake3 over every (path, content) in write order: equal digests, equal corpora.
    pub digest: String,
}

impl Corpus {
    pub fn overlays(&self) -> Vec<String> {
        self.apps.iter().flat_map(App::overlays).collect()
    }

    pub fn charts(&self) -> usize {
        self.apps.iter().filter(|a| a.chart).count()
    }

    /// Targets `manifold check` discovers: three per application, plus the
    /// two plain folders under `platform/`.
    pub fn targets(&self) -> usize {
        self.apps.len() * ENVIRONMENTS.len() + 2
    }
}

/// The edit of the incremental benchmark: the CPU request of the edited
/// Deployment, one way or back (`round` alternates), so each round is a
/// real change.
pub fn edit(root: &Path, file: &str, round: usize) -> io::Result<()> {
    let path = root.join(file);
    let text = std::fs::read_to_string(&path)?;
    let (from, to) = if round.is_multiple_of(2) {
        ("cpu: 100m", "cpu: 110m")
    } else {
        ("cpu: 110m", "cpu: 100m")
    };
    std::fs::write(&path, text.replacen(from, to, 1))
}

struct Writer {
    root: PathBuf,
    files: usize,
    bytes: u64,
    hasher: blake3::Hasher,
}

impl Writer {
    fn file(&mut self, path: &str, text: &str) -> io::Result<()> {
        let full = self.root.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&full, text)?;
        self.files += 1;
        self.bytes += text.len() as u64;
        self.hasher.update(path.as_bytes());
        self.hasher.update(b"\0");
        self.hasher.update(text.as_bytes());
        self.hasher.update(b"\0");
        Ok(())
    }
}

/// Writes the corpus of `applications` applications into `root`, which
/// must be absent or empty.
pub fn generate(root: &Path, applications: usize) -> io::Result<Corpus> {
    if std::fs::read_dir(root).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(io::Error::other(format!(
            "{} is not empty; give a new folder",
            root.display()
        )));
    }
    std::fs::create_dir_all(root)?;
    let mut w = Writer {
        root: root.to_owned(),
        files: 0,
        bytes: 0,
        hasher: blake3::Hasher::new(),
    };
    let apps: Vec<App> = (0..applications).map(App::new).collect();
    w.file("manifold.yaml", MANIFOLD_YAML)?;
    w.file("policy/workloads.rego", POLICY_WORKLOADS)?;
    w.file("policy/services.rego", POLICY_SERVICES)?;
    w.file("platform/crds/alertrule.yaml", CRD_ALERTRULE)?;
    w.file("platform/crds/backup.yaml", CRD_BACKUP)?;
    for (n, group) in apps.chunks(10).enumerate() {
        w.file(
            &format!("platform/backups/backups-{n:03}.yaml"),
            &backups(group),
        )?;
    }
    for app in &apps {
        if app.chart {
            chart(&mut w, app)?;
        } else {
            kustomize_app(&mut w, app)?;
        }
    }
    Ok(Corpus {
        root: root.to_owned(),
        apps,
        files: w.files,
        bytes: w.bytes,
        digest: w.hasher.finalize().to_hex().to_string(),
    })
}

const MANIFOLD_YAML: &str = r#"# A generated benchmark corpus (host/benches/check/corpus.rs).
version: 1
validators:
  labels:
    require:
      - key: app.kubernetes.io/name
      - key: app.kubernetes.io/part-of
        pattern: "[a-z0-9-]+"
      - key: team
        kinds: [Deployment]
      - key: env
        pattern: "dev|staging|prod"
        kinds: [Deployment, Service, ConfigMap]
    requireAnnotations:
      - key: owner
        kinds: [Deployment]
        severity: warning
  schema:
    kubeVersion: "1.31"
  secrets: {}
  policy:
    policies: [policy/]
"#;

const POLICY_WORKLOADS: &str = r#"# conftest-style rules over every rendered workload.
package main

import rego.v1

workloads := {"Deployment", "StatefulSet", "DaemonSet"}

containers contains container if {
	input.kind in workloads
	some container in input.spec.template.spec.containers
}

deny contains msg if {
	some container in containers
	endswith(container.image, ":latest")
	msg := sprintf("%s %s: container %q uses the mutable tag :latest", [input.kind, input.metadata.name, container.name])
}

deny contains msg if {
	some container in containers
	not container.resources.requests.cpu
	msg := sprintf("%s %s: container %q has no CPU request", [input.kind, input.metadata.name, container.name])
}

deny contains msg if {
	input.kind in workloads
	not input.spec.template.spec.securityContext.runAsNonRoot
	msg := sprintf("%s %s: its pods may run as root", [input.kind, input.metadata.name])
}

warn contains msg if {
	some container in containers
	not container.resources.limits.memory
	msg := sprintf("%s %s: container %q has no memory limit", [input.kind, input.metadata.name, container.name])
}
"#;

const POLICY_SERVICES: &str = r#"# conftest-style rules over services, autoscalers and namespaces.
package main

import rego.v1

deny contains msg if {
	input.kind == "Service"
	input.spec.type == "NodePort"
	msg := sprintf("Service %s: NodePort services bypass the ingress", [input.metadata.name])
}

deny contains msg if {
	input.metadata.namespace == "default"
	msg := sprintf("%s %s: nothing is deployed to the default namespace", [input.kind, input.metadata.name])
}

warn contains msg if {
	input.kind == "HorizontalPodAutoscaler"
	input.spec.maxReplicas < 3
	msg := sprintf("HorizontalPodAutoscaler %s: fewer than 3 replicas at most", [input.metadata.name])
}
"#;

const CRD_ALERTRULE: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: alertrules.monitoring.example.com
  labels:
    app.kubernetes.io/name: alertrules
    app.kubernetes.io/part-of: platform
spec:
  group: monitoring.example.com
  scope: Namespaced
  names:
    kind: AlertRule
    listKind: AlertRuleList
    plural: alertrules
    singular: alertrule
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [expr, severity]
              properties:
                expr:
                  type: string
                for:
                  type: string
                  pattern: "^[0-9]+[smh]$"
                severity:
                  type: string
                  enum: [info, warning, critical]
                summary:
                  type: string
"#;

const CRD_BACKUP: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: backups.ops.example.com
  labels:
    app.kubernetes.io/name: backups
    app.kubernetes.io/part-of: platform
spec:
  group: ops.example.com
  scope: Namespaced
  names:
    kind: Backup
    plural: backups
    singular: backup
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [schedule, target]
              properties:
                schedule:
                  type: string
                target:
                  type: string
                retentionDays:
                  type: integer
                  minimum: 1
"#;

/// Nightly backups of the production namespaces of ten applications.
fn backups(apps: &[App]) -> String {
    let mut text = String::new();
    for (i, app) in apps.iter().enumerate() {
        if i > 0 {
            text.push_str("---\n");
        }
        let _ = write!(
            text,
            "apiVersion: ops.example.com/v1
kind: Backup
metadata:
  name: {name}-nightly
  namespace: {name}-prod
  labels:
    app.kubernetes.io/name: {name}-nightly
    app.kubernetes.io/part-of: platform
spec:
  schedule: \"{minute} 3 * * *\"
  target: {name}
  retentionDays: {days}
",
            name = app.name,
            minute = app.index % 60,
            days = 7 + app.index % 24,
        );
    }
    text
}

fn kustomize_app(w: &mut Writer, app: &App) -> io::Result<()> {
    let dir = app.dir();
    let name = &app.name;
    let team = app.team();
    let minor = app.minor();
    let mut kustomization = format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
labels:
  - pairs:
      app.kubernetes.io/part-of: {name}
      team: {team}
resources:
"
    );
    let mut generators = String::from("configMapGenerator:\n");
    for (c, (component, port)) in COMPONENTS.iter().enumerate() {
        for kind in ["deployment", "service", "serviceaccount"] {
            let _ = writeln!(kustomization, "  - {component}-{kind}.yaml");
        }
        if app.autoscaled(c) {
            let _ = writeln!(kustomization, "  - {component}-hpa.yaml");
        }
        let limits = if *component == "jobs" && app.unlimited_jobs() {
            String::new()
        } else {
            "\n            limits:\n              memory: 256Mi".to_owned()
        };
        w.file(
            &format!("{dir}/base/{component}-deployment.yaml"),
            &format!(
                "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {component}
  labels:
    app.kubernetes.io/name: {component}
  annotations:
    owner: {team}@example.com
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {component}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {component}
    spec:
      serviceAccountName: {component}
      securityContext:
        runAsNonRoot: true
      containers:
        - name: {component}
          image: registry.example.com/{name}/{component}:1.{minor}.0
          ports:
            - name: http
              containerPort: {port}
          envFrom:
            - configMapRef:
                name: {component}-settings
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
          resources:
            requests:
              cpu: 100m
              memory: 128Mi{limits}
        - name: proxy
          image: registry.example.com/mesh/proxy:2.3.1
          args:
            - --upstream=127.0.0.1:{port}
          ports:
            - name: proxy
              containerPort: 15001
          resources:
            requests:
              cpu: 50m
              memory: 64Mi
"
            ),
        )?;
        w.file(
            &format!("{dir}/base/{component}-service.yaml"),
            &format!(
                "apiVersion: v1
kind: Service
metadata:
  name: {component}
  labels:
    app.kubernetes.io/name: {component}
spec:
  selector:
    app.kubernetes.io/name: {component}
  ports:
    - name: http
      port: 80
      targetPort: http
"
            ),
        )?;
        w.file(
            &format!("{dir}/base/{component}-serviceaccount.yaml"),
            &format!(
                "apiVersion: v1
kind: ServiceAccount
metadata:
  name: {component}
  labels:
    app.kubernetes.io/name: {component}
"
            ),
        )?;
        if app.autoscaled(c) {
            w.file(
                &format!("{dir}/base/{component}-hpa.yaml"),
                &format!(
                    "apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {component}
  labels:
    app.kubernetes.io/name: {component}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {component}
  minReplicas: 1
  maxReplicas: 5
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 70
"
                ),
            )?;
        }
        w.file(
            &format!("{dir}/base/{component}.env"),
            &format!(
                "LOG_LEVEL=info\nPORT={port}\nUPSTREAM_URL=http://api.{name}.svc:80\nFEATURES=search,recommendations\n"
            ),
        )?;
        let _ = write!(
            generators,
            "  - name: {component}-settings
    envs:
      - {component}.env
    options:
      labels:
        app.kubernetes.io/name: {component}
"
        );
    }
    kustomization.push_str("  - pdb.yaml\n  - networkpolicy.yaml\n  - alertrule.yaml\n");
    kustomization.push_str(&generators);
    w.file(&format!("{dir}/base/kustomization.yaml"), &kustomization)?;
    w.file(
        &format!("{dir}/base/pdb.yaml"),
        "apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: api
  labels:
    app.kubernetes.io/name: api
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: api
",
    )?;
    w.file(
        &format!("{dir}/base/networkpolicy.yaml"),
        &format!(
            "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: ingress
  labels:
    app.kubernetes.io/name: {name}
spec:
  podSelector:
    matchExpressions:
      - key: app.kubernetes.io/name
        operator: In
        values: [api, web]
  policyTypes: [Ingress]
  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: ingress
      ports:
        - protocol: TCP
          port: 8080
        - protocol: TCP
          port: 3000
"
        ),
    )?;
    w.file(
        &format!("{dir}/base/alertrule.yaml"),
        &format!(
            "apiVersion: monitoring.example.com/v1
kind: AlertRule
metadata:
  name: errors
  labels:
    app.kubernetes.io/name: {name}
spec:
  expr: 'sum(rate(http_requests_total{{app=\"{name}\",code=~\"5..\"}}[5m])) > 1'
  for: 10m
  severity: warning
  summary: {name} answers with server errors
"
        ),
    )?;

    for (e, env) in ENVIRONMENTS.iter().enumerate() {
        let mut overlay = format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base
namespace: {name}-{env}
namePrefix: {env}-
labels:
  - pairs:
      env: {env}
images:
"
        );
        for (component, _) in COMPONENTS {
            let _ = write!(
                overlay,
                "  - name: registry.example.com/{name}/{component}
    newTag: 1.{minor}.{patch}-{env}
",
                patch = e + 1
            );
        }
        let _ = write!(
            overlay,
            "  - name: registry.example.com/mesh/proxy
    newTag: 2.{proxy}.0
replicas:
",
            proxy = 3 + e
        );
        for (component, _) in COMPONENTS {
            let _ = write!(
                overlay,
                "  - name: {component}
    count: {count}
",
                count = 1 + e
            );
        }
        overlay.push_str("configMapGenerator:\n");
        for (component, _) in COMPONENTS {
            let _ = write!(
                overlay,
                "  - name: {component}-settings
    behavior: merge
    literals:
      - ENVIRONMENT={env}
      - LOG_LEVEL={level}
",
                level = if *env == "dev" { "debug" } else { "info" }
            );
        }
        overlay.push_str(
            "patches:
  - path: resources.yaml
    target:
      kind: Deployment
",
        );
        w.file(
            &format!("{dir}/overlays/{env}/kustomization.yaml"),
            &overlay,
        )?;
        w.file(
            &format!("{dir}/overlays/{env}/resources.yaml"),
            &format!(
                "apiVersion: apps/v1
kind: Deployment
metadata:
  name: any
spec:
  template:
    spec:
      containers:
        - name: proxy
          resources:
            limits:
              memory: {memory}Mi
",
                memory = 128 << e
            ),
        )?;
    }
    Ok(())
}

fn chart(w: &mut Writer, app: &App) -> io::Result<()> {
    let dir = app.dir();
    let name = &app.name;
    let team = app.team();
    let minor = app.minor();
    w.file(
        &format!("{dir}/Chart.yaml"),
        &format!(
            "apiVersion: v2
name: {name}
description: The {name} application, one release per environment.
type: application
version: 0.{minor}.0
appVersion: \"1.{minor}.0\"
"
        ),
    )?;
    let mut values = format!(
        "env: base
namespace: {name}
team: {team}
owner: {team}@example.com
replicas: 1
image:
  registry: registry.example.com/{name}
  tag: 1.{minor}.0
proxy:
  image: registry.example.com/mesh/proxy:2.3.1
  resources:
    requests:
      cpu: 50m
      memory: 64Mi
    limits:
      memory: 128Mi
resources:
  requests:
    cpu: 100m
    memory: 128Mi
  limits:
    memory: 256Mi
settings:
  LOG_LEVEL: info
  FEATURES: search,recommendations
alert:
  severity: warning
components:
"
    );
    for (c, (component, port)) in COMPONENTS.iter().enumerate() {
        let _ = write!(
            values,
            "  - name: {component}
    port: {port}
    autoscaling: {}
",
            app.autoscaled(c)
        );
    }
    w.file(&format!("{dir}/values.yaml"), &values)?;
    for (e, env) in ENVIRONMENTS.iter().enumerate() {
        w.file(
            &format!("{dir}/values-{env}.yaml"),
            &format!(
                "env: {env}
namespace: {name}-{env}
replicas: {replicas}
image:
  tag: 1.{minor}.{patch}-{env}
settings:
  ENVIRONMENT: {env}
  LOG_LEVEL: {level}
",
                replicas = 1 + e,
                patch = e + 1,
                level = if *env == "dev" { "debug" } else { "info" }
            ),
        )?;
    }
    for (file, text) in CHART_TEMPLATES {
        w.file(&format!("{dir}/templates/{file}"), text)?;
    }
    Ok(())
}

const CHART_TEMPLATES: &[(&str, &str)] = &[
    (
        "_helpers.tpl",
        r#"{{- define "app.labels" -}}
app.kubernetes.io/name: {{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/part-of: {{ .root.Chart.Name }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
team: {{ .root.Values.team }}
env: {{ .root.Values.env }}
{{- end }}

{{- define "app.selector" -}}
app.kubernetes.io/name: {{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end }}
"#,
    ),
    (
        "deployment.yaml",
        r#"{{- range $c := .Values.components }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $.Release.Name }}-{{ $c.name }}
  namespace: {{ $.Values.namespace }}
  labels:
    {{- include "app.labels" (dict "root" $ "component" $c.name) | nindent 4 }}
  annotations:
    owner: {{ $.Values.owner }}
spec:
  replicas: {{ $.Values.replicas }}
  selector:
    matchLabels:
      {{- include "app.selector" (dict "root" $ "component" $c.name) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "app.selector" (dict "root" $ "component" $c.name) | nindent 8 }}
      annotations:
        checksum/settings: {{ toYaml $.Values.settings | sha256sum | trunc 16 }}
    spec:
      serviceAccountName: {{ $.Release.Name }}-{{ $c.name }}
      securityContext:
        runAsNonRoot: true
      containers:
        - name: {{ $c.name }}
          image: "{{ $.Values.image.registry }}/{{ $c.name }}:{{ $.Values.image.tag }}"
          ports:
            - name: http
              containerPort: {{ $c.port }}
          envFrom:
            - configMapRef:
                name: {{ $.Release.Name }}-{{ $c.name }}-settings
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
          resources:
            {{- toYaml $.Values.resources | nindent 12 }}
        - name: proxy
          image: {{ $.Values.proxy.image | quote }}
          args:
            - --upstream=127.0.0.1:{{ $c.port }}
          ports:
            - name: proxy
              containerPort: 15001
          resources:
            {{- toYaml $.Values.proxy.resources | nindent 12 }}
{{- end }}
"#,
    ),
    (
        "service.yaml",
        r#"{{- range $c := .Values.components }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $.Release.Name }}-{{ $c.name }}
  namespace: {{ $.Values.namespace }}
  labels:
    {{- include "app.labels" (dict "root" $ "component" $c.name) | nindent 4 }}
spec:
  selector:
    {{- include "app.selector" (dict "root" $ "component" $c.name) | nindent 4 }}
  ports:
    - name: http
      port: 80
      targetPort: http
{{- end }}
"#,
    ),
    (
        "serviceaccount.yaml",
        r#"{{- range $c := .Values.components }}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $.Release.Name }}-{{ $c.name }}
  namespace: {{ $.Values.namespace }}
  labels:
    {{- include "app.labels" (dict "root" $ "component" $c.name) | nindent 4 }}
{{- end }}
"#,
    ),
    (
        "configmap.yaml",
        r#"{{- range $c := .Values.components }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $.Release.Name }}-{{ $c.name }}-settings
  namespace: {{ $.Values.namespace }}
  labels:
    {{- include "app.labels" (dict "root" $ "component" $c.name) | nindent 4 }}
data:
  {{- range $key, $value := $.Values.settings }}
  {{ $key }}: {{ $value | quote }}
  {{- end }}
  PORT: {{ $c.port | quote }}
{{- end }}
"#,
    ),
    (
        "hpa.yaml",
        r#"{{- range $c := .Values.components }}
{{- if $c.autoscaling }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $.Release.Name }}-{{ $c.name }}
  namespace: {{ $.Values.namespace }}
  labels:
    {{- include "app.labels" (dict "root" $ "component" $c.name) | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $.Release.Name }}-{{ $c.name }}
  minReplicas: {{ $.Values.replicas }}
  maxReplicas: {{ add $.Values.replicas 4 }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 70
{{- end }}
{{- end }}
"#,
    ),
    (
        "pdb.yaml",
        r#"apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .Release.Name }}-api
  namespace: {{ .Values.namespace }}
  labels:
    {{- include "app.labels" (dict "root" . "component" "api") | nindent 4 }}
spec:
  minAvailable: 1
  selector:
    matchLabels:
      {{- include "app.selector" (dict "root" . "component" "api") | nindent 6 }}
"#,
    ),
    (
        "networkpolicy.yaml",
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ .Release.Name }}-ingress
  namespace: {{ .Values.namespace }}
  labels:
    {{- include "app.labels" (dict "root" . "component" .Release.Name) | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/instance: {{ .Release.Name }}
  policyTypes: [Ingress]
  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: ingress
      ports:
      {{- range $c := .Values.components }}
        - protocol: TCP
          port: {{ $c.port }}
      {{- end }}
"#,
    ),
    (
        "alertrule.yaml",
        r#"apiVersion: monitoring.example.com/v1
kind: AlertRule
metadata:
  name: {{ .Release.Name }}-errors
  namespace: {{ .Values.namespace }}
  labels:
    {{- include "app.labels" (dict "root" . "component" .Release.Name) | nindent 4 }}
spec:
  expr: {{ printf "sum(rate(http_requests_total{app=%q,code=~\"5..\"}[5m])) > 1" .Release.Name | squote }}
  for: 10m
  severity: {{ .Values.alert.severity }}
  summary: {{ .Release.Name }} answers with server errors
"#,
    ),
];
