//! The build driver: loads kustomizations recursively (resources, bases,
//! components), runs generators and transformers in kustomize's order, then
//! the whole-build steps (hash suffixes, name references, vars, ordering).

use crate::config::TransformerConfig;
use crate::fs::{self, FileSystem, FsError};
use crate::kustomization::{FILE_NAMES, Kustomization, Var};
use crate::resid::ResId;
use crate::resource::Res;
use crate::{Error, LoadRestrictor, Options, Resource};
use std::collections::HashSet;

/// What a kustomization (and everything below it) has produced so far.
#[derive(Debug, Default)]
pub struct Acc {
    pub res: Vec<Res>,
    pub config: TransformerConfig,
    pub vars: Vec<Var>,
}

impl Acc {
    fn new() -> Acc {
        Acc {
            res: Vec::new(),
            config: TransformerConfig::default(),
            vars: Vec::new(),
        }
    }
}

/// Reads files on behalf of one kustomization, enforcing the load restrictor.
pub struct Loader<'a> {
    pub fs: &'a dyn FileSystem,
    /// The kustomization's folder.
    pub dir: String,
    /// The kustomization file, for messages.
    pub kfile: String,
    pub restrict: bool,
    /// Namespace an enclosing kustomization gives Helm charts that set none.
    pub helm_root_ns: String,
    /// The build root when build metadata is tracked (root kustomization has `buildMetadata`).
    pub track: Option<String>,
    /// Custom OpenAPI schema in effect (kustomization `openapi:`), for strategic merges.
    pub schema: Option<std::rc::Rc<crate::smp::Schema>>,
}

/// A note for errors about an absolute reference: the plugin sees only the
/// repository, so `/etc/passwd` means `etc/passwd` in it, which a user who
/// wrote the former would not guess.
fn absolute_note(rel: &str) -> String {
    if rel.starts_with('/') {
        format!(
            " ('{rel}' is absolute: it names a file from the repository root; nothing outside the repository is read)"
        )
    } else {
        String::new()
    }
}

impl Loader<'_> {
    /// Resolves `rel` against the kustomization folder, refusing escapes.
    pub fn resolve(&self, rel: &str) -> Result<String, Error> {
        if fs::is_remote(rel) {
            return Err(Error::invalid(
                &self.kfile,
                format!(
                    "'{rel}': remote resources need network access and are not fetched; vendor the files into the repository"
                ),
            ));
        }
        fs::join(&self.dir, rel).ok_or_else(|| {
            Error::invalid(
                &self.kfile,
                format!(
                    "'{rel}' is outside the repository root; reference files inside the repository"
                ),
            )
        })
    }

    /// Loads a file the kustomization refers to (patch, generator source, configuration).
    pub fn load(&self, rel: &str) -> Result<(String, String), Error> {
        let path = self.resolve(rel)?;
        if self.restrict && !fs::is_within(&self.dir, &path) {
            return Err(Error::invalid(
                &self.kfile,
                format!(
                    "security; file '{}' is not in or below '{}' (load restrictor RootOnly); move the file under the kustomization folder or build with load_restrictor None{}",
                    fs::display(&path),
                    fs::display(&self.dir),
                    absolute_note(rel)
                ),
            ));
        }
        match self.fs.read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(s) => Ok((path, s)),
                Err(_) => Err(Error::invalid(&path, "file is not valid UTF-8")),
            },
            Err(e) => Err(Error::invalid(
                &self.kfile,
                format!("cannot read '{rel}': {e}"),
            )),
        }
    }

    /// Like `load` but keeps raw bytes (generator files may be binary).
    pub fn load_bytes(&self, rel: &str) -> Result<(String, Vec<u8>), Error> {
        let path = self.resolve(rel)?;
        if self.restrict && !fs::is_within(&self.dir, &path) {
            return Err(Error::invalid(
                &self.kfile,
                format!(
                    "security; file '{}' is not in or below '{}' (load restrictor RootOnly); move the file under the kustomization folder{}",
                    fs::display(&path),
                    fs::display(&self.dir),
                    absolute_note(rel)
                ),
            ));
        }
        self.fs
            .read(&path)
            .map(|b| (path, b))
            .map_err(|e| Error::invalid(&self.kfile, format!("cannot read '{rel}': {e}")))
    }
}

struct Builder<'a> {
    fs: &'a dyn FileSystem,
    opts: &'a Options,
    /// Folders being built, outermost first, to catch cycles.
    stack: Vec<String>,
    /// The last `openapi:` schema loaded; like kustomize's global schema it stays in effect.
    schema: Option<std::rc::Rc<crate::smp::Schema>>,
    /// Set to the build root when the root kustomization asks for build metadata.
    track: Option<String>,
    /// Helm namespace inherited from enclosing kustomizations.
    helm_root_ns: String,
}

pub fn run(fs: &dyn FileSystem, target: &str, opts: &Options) -> Result<Vec<Resource>, Error> {
    let root = fs::join("", target)
        .ok_or_else(|| Error::invalid(target, "the build target is outside the repository root"))?;
    let mut b = Builder {
        fs,
        opts,
        stack: Vec::new(),
        schema: None,
        track: None,
        helm_root_ns: String::new(),
    };
    let (k, kfile) = b.load_kustomization(&root)?;
    if !k.build_metadata.is_empty() {
        b.track = Some(root.clone());
    }
    b.stack.push(root.clone());
    let mut acc = b.accumulate(&root, &kfile, &k, Acc::new())?;
    b.stack.pop();

    for r in &mut acc.res {
        if r.needs_hash {
            let h = crate::hash::name_hash(&r.value);
            r.store_previous_id();
            let name = format!("{}-{}", r.name(), h);
            r.set_name(&name);
        }
    }
    crate::nameref::fix(&mut acc.res, &acc.config).map_err(|m| Error::invalid(&kfile, m))?;
    crate::vars::resolve(&mut acc.res, &acc.vars, &acc.config)
        .map_err(|m| Error::invalid(&kfile, m))?;
    acc.res.retain(|r| {
        r.annotations()
            .get("config.kubernetes.io/local-config")
            .map(String::as_str)
            != Some("true")
    });

    let order = crate::order::sort_mode(&k, opts.reorder).map_err(|m| Error::invalid(&kfile, m))?;
    crate::order::apply(&mut acc.res, &order);

    if k.build_metadata.iter().any(|m| m == "originAnnotations") {
        for r in &mut acc.res {
            let text = origin_annotation(&root, r);
            crate::transform::set_map_entries(
                r,
                "annotations",
                &[("config.kubernetes.io/origin".to_string(), text)],
            );
        }
    }

    if k.build_metadata
        .iter()
        .any(|m| m == "transformerAnnotations")
    {
        for r in &mut acc.res {
            if !r.transformations.is_empty() {
                let text = r.transformations.clone();
                crate::transform::set_map_entries(
                    r,
                    "annotations",
                    &[(
                        "alpha.config.kubernetes.io/transformations".to_string(),
                        text,
                    )],
                );
            }
        }
    }

    if opts.enable_managedby_label || k.build_metadata.iter().any(|m| m == "managedByLabel") {
        for r in &mut acc.res {
            crate::transform::set_map_entries(
                r,
                "labels",
                &[(
                    "app.kubernetes.io/managed-by".to_string(),
                    opts.managed_by_value.clone(),
                )],
            );
        }
    }
    Ok(acc
        .res
        .into_iter()
        .map(|r| Resource {
            value: r.value,
            origin: r.origin,
        })
        .collect())
}

impl<'a> Builder<'a> {
    fn restrict(&self) -> bool {
        self.opts.load_restrictor == LoadRestrictor::RootOnly
    }

    /// Finds and parses the kustomization file of `dir`.
    fn load_kustomization(&self, dir: &str) -> Result<(Kustomization, String), Error> {
        let mut found = Vec::new();
        for name in FILE_NAMES {
            let path = fs::join(dir, name).unwrap_or_default();
            match self.fs.read(&path) {
                Ok(bytes) => found.push((path, bytes)),
                Err(FsError::NotFound(_)) => {}
                Err(e) => return Err(Error::invalid(&path, e.to_string())),
            }
        }
        if found.len() > 1 {
            return Err(Error::invalid(
                dir,
                "Found multiple kustomization files under this folder; keep only one of kustomization.yaml, kustomization.yml, Kustomization",
            ));
        }
        let Some((path, bytes)) = found.pop() else {
            return Err(Error::invalid(
                dir,
                "unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory; a base or component must be a folder with a kustomization file",
            ));
        };
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::invalid(&path, "file is not valid UTF-8"))?;
        let value = crate::yaml::parse_one(&text, &path)?;
        let k = Kustomization::from_value(&value).map_err(|m| Error::invalid(&path, m))?;
        Ok((k, path))
    }

    fn loader(&self, dir: &str, kfile: &str) -> Loader<'a> {
        Loader {
            fs: self.fs,
            dir: dir.to_string(),
            kfile: kfile.to_string(),
            restrict: self.restrict(),
            schema: self.schema.clone(),
            track: self.track.clone(),
            helm_root_ns: self.helm_root_ns.clone(),
        }
    }

    fn accumulate(
        &mut self,
        dir: &str,
        kfile: &str,
        k: &Kustomization,
        acc: Acc,
    ) -> Result<Acc, Error> {
        // Children see this kustomization's namespace (or what it inherited) for Helm charts.
        let inherited = self.helm_root_ns.clone();
        let result = self.accumulate_inner(dir, kfile, k, acc);
        self.helm_root_ns = inherited;
        result
    }

    fn accumulate_inner(
        &mut self,
        dir: &str,
        kfile: &str,
        k: &Kustomization,
        mut acc: Acc,
    ) -> Result<Acc, Error> {
        if !k.namespace.is_empty() {
            self.helm_root_ns = k.namespace.clone();
        }
        if let Some(v) = k.openapi.get("version").filter(|v| *v != "v1.21.2") {
            return Err(Error::invalid(
                kfile,
                format!(
                    "openapi version '{v}' is not built in; the only built-in Kubernetes schema is v1.21.2 (or give `openapi: {{path: ...}}`)"
                ),
            ));
        }
        if let Some(p) = k.openapi.get("path") {
            let (path, text) = self.loader(dir, kfile).load(p)?;
            let doc = crate::yaml::parse_one(&text, &path)?;
            self.schema = Some(std::rc::Rc::new(crate::smp::Schema::from_value(&doc)));
        }
        let ldr = self.loader(dir, kfile);
        for entry in &k.resources {
            self.add_resource_entry(&ldr, entry, &mut acc)
                .map_err(|e| e.context(format!("accumulating resources from '{entry}'")))?;
        }
        let ldr = self.loader(dir, kfile);
        // This kustomization's configuration: its `configurations` files, then kustomize's
        // defaults. A user field spec for a path shadows a broader default for the same path.
        if k.configurations.is_empty() {
            acc.config.merge(TransformerConfig::defaults());
        } else {
            let mut own = TransformerConfig::default();
            for c in &k.configurations {
                let (path, text) = ldr.load(c)?;
                for (doc, _) in crate::yaml::parse_stream(&text, &path)? {
                    own.merge_document(&doc)
                        .map_err(|m| Error::invalid(&path, m))?;
                }
            }
            own.merge(TransformerConfig::defaults());
            acc.config.merge_owned(own);
        }
        for c in &k.crds {
            let (path, text) = ldr.load(c)?;
            for (doc, _) in crate::yaml::parse_stream(&text, &path)? {
                crate::transform::config_from_crd(&doc, &mut acc.config);
            }
        }
        let generated = crate::generators::generate(&ldr, k, self.opts)?;
        for r in generated {
            absorb(&mut acc.res, r).map_err(|m| Error::invalid(kfile, m))?;
        }
        for entry in &k.generators {
            let docs = self.plugin_docs(&ldr, entry)?;
            crate::transform::run_generator_entry(&ldr, k, docs, &mut acc)?;
        }
        for entry in &k.components {
            let path = ldr.resolve(entry)?;
            if self.fs.list(&path).is_err() {
                return Err(Error::invalid(
                    kfile,
                    format!(
                        "components entry '{entry}': must build at directory: '{}' is not a folder",
                        fs::display(&path)
                    ),
                ));
            }
            let (ck, cfile) = self
                .load_kustomization(&path)
                .map_err(|e| e.context(format!("components entry '{entry}'")))?;
            if !ck.is_component() {
                return Err(Error::invalid(
                    &cfile,
                    format!(
                        "expected kind 'Component' for path '{}' but got '{}'",
                        fs::display(&path),
                        ck.kind
                    ),
                ));
            }
            self.enter(&path, kfile)?;
            acc = self
                .accumulate(&path, &cfile, &ck, acc)
                .map_err(|e| e.context(format!("accumulating components from '{entry}'")))?;
            self.stack.pop();
        }
        // Bases and components may have loaded an `openapi:` schema that now applies here too.
        let ldr = self.loader(dir, kfile);
        crate::transform::run_builtin(&ldr, k, &mut acc)?;
        if let Some(v) = k.validators.first() {
            return Err(Error::invalid(
                kfile,
                format!(
                    "validators ('{v}') are external plugins, which this sandboxed builder cannot run; remove the 'validators' entry"
                ),
            ));
        }
        for entry in &k.transformers {
            let docs = self.plugin_docs(&ldr, entry)?;
            crate::transform::run_transformer_entry(&ldr, docs, &mut acc)?;
        }
        for v in k.vars.iter().flatten() {
            if acc.vars.iter().any(|x| x.name == v.name) {
                return Err(Error::invalid(
                    kfile,
                    format!(
                        "var '{}' already encountered; var names must be unique",
                        v.name
                    ),
                ));
            }
            crate::vars::bind(&mut acc.res, v).map_err(|m| Error::invalid(kfile, m))?;
            acc.vars.push(v.clone());
        }
        Ok(acc)
    }

    /// Plugin configurations of a `transformers:`/`generators:` entry; a folder is
    /// built as a kustomization and its objects are the configurations.
    fn plugin_docs(
        &mut self,
        ldr: &Loader<'a>,
        entry: &str,
    ) -> Result<Vec<(serde_json::Value, String)>, Error> {
        if !entry.contains('\n') {
            let path = ldr.resolve(entry)?;
            if self.fs.list(&path).is_ok() {
                let (sk, sfile) = self.load_kustomization(&path)?;
                self.enter(&path, &ldr.kfile)?;
                let sub = self.accumulate(&path, &sfile, &sk, Acc::new());
                self.stack.pop();
                return Ok(sub?.res.into_iter().map(|r| (r.value, r.origin)).collect());
            }
        }
        crate::transform::plugin_docs(ldr, entry)
    }

    fn enter(&mut self, path: &str, kfile: &str) -> Result<(), Error> {
        if self.stack.iter().any(|p| p == path) {
            let chain: Vec<&str> = self.stack.iter().map(|s| fs::display(s)).collect();
            return Err(Error::invalid(
                kfile,
                format!(
                    "cycle detected: '{}' is already being built ({} -> {})",
                    fs::display(path),
                    chain.join(" -> "),
                    fs::display(path)
                ),
            ));
        }
        self.stack.push(path.to_string());
        Ok(())
    }

    fn add_resource_entry(
        &mut self,
        ldr: &Loader<'_>,
        entry: &str,
        acc: &mut Acc,
    ) -> Result<(), Error> {
        let path = ldr.resolve(entry)?;
        match self.fs.read(&path) {
            Ok(bytes) => {
                if ldr.restrict && !fs::is_within(&ldr.dir, &path) {
                    return Err(Error::invalid(
                        &ldr.kfile,
                        format!(
                            "security; file '{}' is not in or below '{}'; move it under the kustomization folder or make its folder a kustomization and list that",
                            fs::display(&path),
                            fs::display(&ldr.dir)
                        ),
                    ));
                }
                let text = String::from_utf8(bytes)
                    .map_err(|_| Error::invalid(&path, "file is not valid UTF-8"))?;
                let objs = crate::yaml::resources_from(&text, &path)?;
                let mut seen: HashSet<ResId> =
                    acc.res.iter().map(|r| norm_id(r.cur_id())).collect();
                for v in objs {
                    let r = Res::new(v, &path);
                    let id = norm_id(r.cur_id());
                    if !seen.insert(id) {
                        return Err(Error::invalid(
                            &path,
                            format!(
                                "may not add resource with an already registered id: {}",
                                r.cur_id()
                            ),
                        ));
                    }
                    acc.res.push(r);
                }
                Ok(())
            }
            // Hosts differ in what reading a folder returns, so any read failure on a
            // path that lists as a folder means "this is a base".
            Err(read_err) => {
                if self.fs.list(&path).is_err() {
                    return Err(match read_err {
                        FsError::NotFound(_) => Error::invalid(
                            &ldr.kfile,
                            format!(
                                "resource '{entry}' not found: '{}' is neither a file nor a folder{}",
                                fs::display(&path),
                                absolute_note(entry)
                            ),
                        ),
                        e => Error::invalid(
                            &ldr.kfile,
                            format!("cannot read resource '{entry}': {e}"),
                        ),
                    });
                }
                let (sk, sfile) = self.load_kustomization(&path)?;
                if sk.is_component() {
                    return Err(Error::invalid(
                        &sfile,
                        format!(
                            "expected kind != 'Component' for path '{}'; list components under 'components'",
                            fs::display(&path)
                        ),
                    ));
                }
                self.enter(&path, &ldr.kfile)?;
                let sub = self.accumulate(&path, &sfile, &sk, Acc::new());
                self.stack.pop();
                let sub = sub?;
                merge_acc(acc, sub).map_err(|m| Error::invalid(&ldr.kfile, m))
            }
        }
    }
}

/// Ids compared with kustomize's effective namespaces.
pub fn norm_id(mut id: ResId) -> ResId {
    id.namespace = id.effective_namespace().to_string();
    id
}

fn merge_acc(acc: &mut Acc, sub: Acc) -> Result<(), String> {
    let mut seen: HashSet<ResId> = acc.res.iter().map(|r| norm_id(r.cur_id())).collect();
    for r in sub.res {
        if !seen.insert(norm_id(r.cur_id())) {
            return Err(format!(
                "may not add resource with an already registered id: {}",
                r.cur_id()
            ));
        }
        acc.res.push(r);
    }
    acc.config.merge_owned(sub.config);
    for v in sub.vars {
        if acc.vars.iter().any(|x| x.name == v.name) {
            return Err(format!("var '{}' already encountered", v.name));
        }
        acc.vars.push(v);
    }
    Ok(())
}

/// Adds a generated object: creates it, or merges/replaces the existing one per its behavior.
pub fn absorb(list: &mut Vec<Res>, mut r: Res) -> Result<(), String> {
    let id = norm_id(r.cur_id());
    let matches: Vec<usize> = list
        .iter()
        .enumerate()
        // The name test first: it needs no id built, and few objects pass it.
        .filter(|(_, x)| {
            (x.name() == id.name || x.prev.iter().any(|p| p.name == id.name))
                && x.all_ids().into_iter().any(|i| norm_id(i) == id)
        })
        .map(|(i, _)| i)
        .collect();
    match matches.as_slice() {
        [] => {
            if r.behavior == "merge" || r.behavior == "replace" {
                return Err(format!(
                    "id {} does not exist; cannot merge or replace",
                    r.cur_id()
                ));
            }
            list.push(r);
            Ok(())
        }
        [i] => {
            let Some(old) = list.get(*i) else {
                return Err("id lookup failure".into());
            };
            match r.behavior.as_str() {
                "replace" => copy_merge_meta(&mut r, old),
                "merge" => {
                    copy_merge_meta(&mut r, old);
                    for key in ["data", "binaryData"] {
                        let mut merged = crate::resource::string_map(old.value.get(key));
                        let mine = crate::resource::string_map(r.value.get(key));
                        merged.extend(mine);
                        if let Some(obj) = r.value.as_object_mut()
                            && !merged.is_empty()
                        {
                            obj.insert(
                                key.into(),
                                serde_json::Value::Object(
                                    merged
                                        .into_iter()
                                        .map(|(k, v)| (k, serde_json::Value::String(v)))
                                        .collect(),
                                ),
                            );
                        }
                    }
                    r.origin = old.origin.clone();
                }
                other => {
                    return Err(format!(
                        "id {} exists; cannot use behavior: '{other}', behavior must be merge or replace",
                        r.cur_id()
                    ));
                }
            }
            if let Some(slot) = list.get_mut(*i) {
                *slot = r;
            }
            Ok(())
        }
        _ => Err(format!(
            "found multiple objects that could accept merge of {}",
            r.cur_id()
        )),
    }
}

/// kustomize's CopyMergeMetaDataFieldsFrom: labels and annotations unioned (new wins),
/// name, namespace and build bookkeeping taken from the old object.
fn copy_merge_meta(r: &mut Res, old: &Res) {
    let mut labels = old.labels();
    labels.extend(r.labels());
    r.set_string_map("labels", &labels);
    let mut ann = old.annotations();
    ann.extend(r.annotations());
    r.set_string_map("annotations", &ann);
    r.set_name(old.name());
    r.set_namespace(old.namespace());
    r.prev = old.prev.clone();
    r.prefixes = old.prefixes.clone();
    r.suffixes = old.suffixes.clone();
    r.ref_vars = old.ref_vars.clone();
    // Build annotations come from the old object, and the hash request must be on both.
    r.needs_hash = r.needs_hash && old.needs_hash;
}

/// `path` of `to` relative to the folder `from` (both repository-relative).
pub fn relative(from: &str, to: &str) -> String {
    let f: Vec<&str> = from.split('/').filter(|s| !s.is_empty()).collect();
    let t: Vec<&str> = to.split('/').filter(|s| !s.is_empty()).collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; f.len() - common];
    parts.extend(t.iter().skip(common));
    parts.join("/")
}

/// The `config.kubernetes.io/origin` annotation kustomize writes with `buildMetadata: [originAnnotations]`.
fn origin_annotation(root: &str, r: &Res) -> String {
    let rel = relative(root, &r.origin);
    match &r.generated_by {
        None => format!("path: {rel}\n"),
        Some((kind, name)) => {
            let mut s = format!(
                "configuredIn: {rel}\nconfiguredBy:\n  apiVersion: builtin\n  kind: {kind}\n"
            );
            if !name.is_empty() {
                s.push_str(&format!("  name: {name}\n"));
            }
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// In-memory repository; reading a folder fails with `Io`, as some hosts do.
    struct MemFs(BTreeMap<String, String>);

    impl FileSystem for MemFs {
        fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
            if let Some(c) = self.0.get(path) {
                return Ok(c.clone().into_bytes());
            }
            if self.0.keys().any(|k| k.starts_with(&format!("{path}/"))) {
                return Err(FsError::Io(format!("{path}: is a directory")));
            }
            Err(FsError::NotFound(path.to_string()))
        }

        fn list(&self, path: &str) -> Result<Vec<(String, bool)>, FsError> {
            let prefix = if path.is_empty() {
                String::new()
            } else {
                format!("{path}/")
            };
            let mut out: Vec<(String, bool)> = self
                .0
                .keys()
                .filter_map(|k| k.strip_prefix(&prefix))
                .map(|rest| match rest.split_once('/') {
                    Some((dir, _)) => (dir.to_string(), true),
                    None => (rest.to_string(), false),
                })
                .collect();
            out.dedup();
            if out.is_empty() {
                Err(FsError::NotFound(path.to_string()))
            } else {
                Ok(out)
            }
        }
    }

    fn fs(files: &[(&str, &str)]) -> MemFs {
        MemFs(
            files
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    /// (case name, files, target, expected error fragment)
    type ErrCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str, &'a str);

    const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n";

    #[test]
    fn errors_name_the_file_and_entry() {
        let cases: Vec<ErrCase> = vec![
            (
                "cycle",
                vec![
                    ("a/kustomization.yaml", "resources:\n- ../b\n"),
                    ("b/kustomization.yaml", "resources:\n- ../a\n"),
                ],
                "a",
                "cycle detected",
            ),
            (
                "outside",
                vec![("a/kustomization.yaml", "resources:\n- ../../x\n")],
                "a",
                "outside the repository root",
            ),
            (
                "remote",
                vec![(
                    "kustomization.yaml",
                    "resources:\n- https://example.com/x.yaml\n",
                )],
                "",
                "remote resources need network access",
            ),
            (
                "missing",
                vec![("kustomization.yaml", "resources:\n- nope.yaml\n")],
                "",
                "'nope.yaml' not found",
            ),
            (
                "root only",
                vec![
                    ("a/kustomization.yaml", "resources:\n- ../cm.yaml\n"),
                    ("cm.yaml", CM),
                ],
                "a",
                "is not in or below",
            ),
            (
                "bad patch",
                vec![
                    (
                        "kustomization.yaml",
                        "resources:\n- cm.yaml\npatches:\n- path: p.yaml\n",
                    ),
                    ("cm.yaml", CM),
                    ("p.yaml", "data: {}\n"),
                ],
                "",
                "p.yaml",
            ),
            (
                "no match",
                vec![
                    (
                        "kustomization.yaml",
                        "resources:\n- cm.yaml\npatchesStrategicMerge:\n- p.yaml\n",
                    ),
                    ("cm.yaml", CM),
                    (
                        "p.yaml",
                        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n",
                    ),
                ],
                "",
                "no matches for Id",
            ),
        ];
        for (name, files, target, want) in cases {
            let err = build_and_err(&fs(&files), target);
            assert!(err.contains(want), "{name}: {err}");
        }
    }

    fn build_and_err(f: &MemFs, target: &str) -> String {
        match run(f, target, &Options::default()) {
            Ok(r) => format!("unexpected success: {} objects", r.len()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn folders_are_bases_even_when_reading_them_fails_with_io() {
        let f = fs(&[
            (
                "app/kustomization.yaml",
                "resources:\n- ../base\nnamePrefix: p-\n",
            ),
            ("base/kustomization.yaml", "resources:\n- cm.yaml\n"),
            ("base/cm.yaml", CM),
        ]);
        let out = run(&f, "app", &Options::default()).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].value["metadata"]["name"], "p-cm");
        assert_eq!(out[0].origin, "base/cm.yaml");
    }

    #[test]
    fn relative_paths() {
        let cases = [
            ("prod", "base/x.yaml", "../base/x.yaml"),
            ("", "a/b.yaml", "a/b.yaml"),
            ("a/b", "a/b/c.yaml", "c.yaml"),
        ];
        for (from, to, want) in cases {
            assert_eq!(relative(from, to), want);
        }
    }
}
