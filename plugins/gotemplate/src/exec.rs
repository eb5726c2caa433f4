//! The executor: walks parsed templates against data with Go's rules
//! (variable scopes, pipelines passing the previous result as the last
//! argument, field and method lookup, `range`/`with`/`if`, nested templates,
//! `include` and `tpl`).

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::Error;
use crate::funcs::{FuncKind, FuncMap};
use crate::gofmt;
use crate::parse::{self, Arg, Branch, Command, Node, Pipe, Tree, is_empty_tree};
use crate::value::{Object, Value};

/// What a lookup of a missing map key yields (Go's `missingkey` option).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MissingKey {
    /// Go's default: an invalid value that prints as `<no value>`.
    #[default]
    NoValue,
    /// The map's zero value: nil for `map[string]interface{}`, so that a
    /// further field access fails with "nil pointer evaluating" (Helm).
    Zero,
    /// An error naming the key.
    Error,
}

/// Options of one execution.
#[derive(Clone, Debug)]
pub struct ExecOptions {
    pub missing_key: MissingKey,
    /// The current time as (Unix seconds, nanoseconds): what `now` returns.
    pub now: (i64, u32),
    /// Seed of the random functions (`randAlphaNum`, `uuidv4`, ...).
    pub random_seed: u64,
    /// How deep `include` may nest the same template (Helm: 1000).
    pub max_include_depth: usize,
    /// How deep templates may nest at all (`template`, `include`, `tpl`).
    pub max_depth: usize,
    /// Remove `<no value>` from the output, as Helm's engine does.
    pub strip_no_value: bool,
    /// Helm's lint mode: `required` and `fail` do not fail.
    pub lint_mode: bool,
    /// Work one execution may do, in steps: a function call, a `range`
    /// iteration and a template call are a step each, and a function's
    /// result costs one more per 256 bytes of string or 8 items of a list or
    /// map (so the default also bounds the values built, to about 256 MiB). Go has no such bound: without one, a template that loops (a
    /// `range` over a huge count, nested ranges, a template calling itself
    /// twice, a value doubled again and again) runs until the host's time
    /// limit or builds values until memory runs out.
    pub max_steps: u64,
    /// Bytes of output one execution may write (and so may each `include`
    /// and `tpl` inside it).
    pub max_output: usize,
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions {
            missing_key: MissingKey::NoValue,
            now: (0, 0),
            random_seed: 0,
            max_include_depth: 1000,
            // Nesting is bounded well below Go's 100000 so that deep
            // recursion fails cleanly within a Wasm plugin's stack.
            max_depth: 150,
            strip_no_value: false,
            lint_mode: false,
            // A range over a million items: generous for charts, and a
            // runaway template stops within seconds even in a debug build.
            max_steps: 1_000_000,
            max_output: crate::funcs::sprig::MAX_OUTPUT,
        }
    }
}

impl ExecOptions {
    /// The behaviour of Helm's engine: missing keys are zero, `<no value>`
    /// is removed from the output.
    pub fn helm() -> ExecOptions {
        ExecOptions {
            missing_key: MissingKey::Zero,
            strip_no_value: true,
            ..ExecOptions::default()
        }
    }
}

/// A set of parsed templates sharing one function map: files plus their
/// `define`d templates. Parse once, execute many times.
#[derive(Clone)]
pub struct TemplateSet {
    funcs: Arc<FuncMap>,
    trees: HashMap<String, Arc<Tree>>,
    /// File names in the order they were added.
    files: Vec<String>,
}

impl std::fmt::Debug for TemplateSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemplateSet")
            .field("files", &self.files)
            .finish()
    }
}

impl parse::FuncNames for FuncMap {
    fn has_func(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

impl TemplateSet {
    /// An empty set using `funcs`.
    pub fn new(funcs: FuncMap) -> TemplateSet {
        TemplateSet {
            funcs: Arc::new(funcs),
            trees: HashMap::new(),
            files: Vec::new(),
        }
    }

    /// Parses files given as (name, text); each file is a template named
    /// after it, and its `define`s are added to the set.
    pub fn parse(files: &[(&str, &str)], funcs: FuncMap) -> Result<TemplateSet, Error> {
        let mut set = TemplateSet::new(funcs);
        for (name, text) in files {
            set.add_file(name, text)?;
        }
        Ok(set)
    }

    /// Adds one more file (later definitions of a name replace earlier ones,
    /// except that an empty definition never replaces a non-empty one).
    pub fn add_file(&mut self, name: &str, text: &str) -> Result<(), Error> {
        let parsed = parse::parse(name, text, self.funcs.as_ref())?;
        self.insert_tree(parsed.main);
        for d in parsed.defines {
            self.insert_tree(d);
        }
        if !self.files.iter().any(|f| f == name) {
            self.files.push(name.to_string());
        }
        Ok(())
    }

    fn insert_tree(&mut self, tree: Tree) {
        if let Some(old) = self.trees.get(&tree.name)
            && is_empty_tree(&tree.root)
            && !is_empty_tree(&old.root)
        {
            return;
        }
        self.trees.insert(tree.name.clone(), Arc::new(tree));
    }

    /// Names of the files added, in order.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// Whether a template (file or definition) of that name exists.
    pub fn has_template(&self, name: &str) -> bool {
        self.trees.contains_key(name)
    }

    /// All template names (files and definitions), sorted.
    pub fn template_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.trees.keys().cloned().collect();
        v.sort();
        v
    }

    pub fn funcs(&self) -> &FuncMap {
        &self.funcs
    }

    /// Executes the template `name` with `data` as dot.
    pub fn execute(&self, name: &str, data: &Value, opts: &ExecOptions) -> Result<String, Error> {
        let mut state = State::new(self, opts);
        let mut out = String::new();
        state.execute_named(name, data.clone(), &mut out, "")?;
        if opts.strip_no_value {
            out = out.replace("<no value>", "");
        }
        Ok(out)
    }
}

/// What a `range` walks over.
enum RangeItems {
    List(Arc<Vec<Value>>),
    Pairs(Vec<(Value, Value)>),
    Count(i64),
}

impl RangeItems {
    fn len(&self) -> usize {
        match self {
            RangeItems::List(l) => l.len(),
            RangeItems::Pairs(p) => p.len(),
            RangeItems::Count(n) => usize::try_from(*n).unwrap_or(usize::MAX),
        }
    }

    /// (index or key, element) of iteration `i` (< len).
    fn get(&self, i: usize) -> (Value, Value) {
        match self {
            RangeItems::List(l) => (
                Value::Int(i as i64),
                l.get(i).cloned().unwrap_or(Value::Nil),
            ),
            RangeItems::Pairs(p) => p.get(i).cloned().unwrap_or((Value::Nil, Value::Nil)),
            RangeItems::Count(_) => (Value::Int(i as i64), Value::Int(i as i64)),
        }
    }
}

/// Non-local control flow inside a walk.
enum Flow {
    Normal,
    Break,
    Continue,
}

type ExecResult<T> = Result<T, Error>;

/// Execution state shared by one top-level execution and everything it
/// includes.
pub(crate) struct State<'a> {
    set: &'a TemplateSet,
    pub(crate) opts: &'a ExecOptions,
    /// Templates defined by `tpl` text, visible while that text executes.
    overlays: Vec<HashMap<String, Arc<Tree>>>,
    include_counts: HashMap<String, usize>,
    depth: usize,
    rng_state: u64,
    /// Steps taken so far (see [`ExecOptions::max_steps`]).
    steps: u64,
}

/// Per-template frame: the tree for error positions and the variables.
struct Frame {
    tree: Arc<Tree>,
    vars: Vec<(String, Value)>,
}

impl<'a> State<'a> {
    fn new(set: &'a TemplateSet, opts: &'a ExecOptions) -> State<'a> {
        State {
            set,
            opts,
            overlays: Vec::new(),
            include_counts: HashMap::new(),
            depth: 0,
            rng_state: opts.random_seed ^ 0x9E37_79B9_7F4A_7C15,
            steps: 0,
        }
    }

    /// Takes `cost` steps of the execution's budget; fails, at the node at
    /// `pos`, once the budget is spent or `out` has grown past its limit.
    /// The error comes boxed: callers sit in the recursive walk, where an
    /// unboxed error would grow every frame (debug builds keep a slot for
    /// each temporary) and so the depth a stack allows.
    #[inline(never)]
    fn charge(
        &mut self,
        cost: u64,
        out: &str,
        frame: &Frame,
        pos: usize,
        context: impl FnOnce() -> String,
    ) -> Result<(), Box<Error>> {
        self.steps = self.steps.saturating_add(cost);
        let message = if self.steps > self.opts.max_steps {
            format!(
                "execution stopped after {} steps, its limit (a range over a huge count, or runaway recursion?)",
                self.opts.max_steps
            )
        } else if out.len() > self.opts.max_output {
            format!(
                "execution stopped: its output passed {} MiB, its limit",
                self.opts.max_output >> 20
            )
        } else {
            return Ok(());
        };
        Err(Box::new(self.err(frame, pos, context(), message)))
    }

    /// splitmix64: small, seedable, good enough for test data and passwords
    /// that must be reproducible.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.rng_state = self.rng_state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng_state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn lookup(&self, name: &str) -> Option<Arc<Tree>> {
        for o in self.overlays.iter().rev() {
            if let Some(t) = o.get(name) {
                return Some(t.clone());
            }
        }
        self.set.trees.get(name).cloned()
    }

    fn execute_named(
        &mut self,
        name: &str,
        data: Value,
        out: &mut String,
        set_name: &str,
    ) -> ExecResult<()> {
        let Some(tree) = self.lookup(name) else {
            return Err(Error::NoTemplate {
                name: name.to_string(),
                set: if set_name.is_empty() {
                    name.to_string()
                } else {
                    set_name.to_string()
                },
            });
        };
        self.run_tree(tree, data, out)
    }

    fn run_tree(&mut self, tree: Arc<Tree>, data: Value, out: &mut String) -> ExecResult<()> {
        let mut frame = Frame {
            tree: tree.clone(),
            vars: vec![("$".to_string(), data.clone())],
        };
        self.walk_list(&mut frame, &data, &tree.root, out)
            .map(|_| ())
    }

    /// Executes `name` into a new string (Helm's `include`).
    pub(crate) fn include(&mut self, name: &str, data: Value) -> Result<String, String> {
        // Look up before inserting so that repeated includes do not allocate.
        let count = match self.include_counts.get_mut(name) {
            Some(c) => c,
            None => self.include_counts.entry(name.to_string()).or_insert(0),
        };
        if *count > self.opts.max_include_depth {
            return Err(format!(
                "rendering template has a nested reference name: {name}: unable to execute template"
            ));
        }
        if self.depth >= self.opts.max_depth {
            return Err(format!(
                "rendering template has a nested reference name: {name}: unable to execute template (nesting deeper than {})",
                self.opts.max_depth
            ));
        }
        *count += 1;
        let mut out = String::new();
        self.depth += 1;
        let r = self.execute_named(name, data, &mut out, "gotpl");
        self.depth -= 1;
        if let Some(c) = self.include_counts.get_mut(name) {
            *c = c.saturating_sub(1);
        }
        r.map_err(|e| e.to_string())?;
        Ok(out)
    }

    /// Parses and executes `text` with the templates defined so far plus
    /// the ones `text` defines (Helm's `tpl`).
    pub(crate) fn tpl(
        &mut self,
        text: &str,
        data: Value,
        parent_name: &str,
    ) -> Result<String, String> {
        let parsed = parse::parse(parent_name, text, self.set.funcs.as_ref())
            .map_err(|e| format!("cannot parse template {text:?}: {e}"))?;
        let mut layer = HashMap::new();
        for d in parsed.defines {
            layer.insert(d.name.clone(), Arc::new(d));
        }
        if self.depth >= self.opts.max_depth {
            return Err(format!(
                "exceeded maximum template depth ({})",
                self.opts.max_depth
            ));
        }
        self.overlays.push(layer);
        let mut out = String::new();
        self.depth += 1;
        let r = self.run_tree(Arc::new(parsed.main), data, &mut out);
        self.depth -= 1;
        self.overlays.pop();
        r.map_err(|e| format!("error during tpl function execution for {text:?}: {e}"))?;
        Ok(out.replace("<no value>", ""))
    }

    fn err(&self, frame: &Frame, pos: usize, context: String, message: String) -> Error {
        Error::Exec {
            location: frame.tree.location(pos),
            template: frame.tree.name.clone(),
            context,
            message,
        }
    }

    fn walk_list(
        &mut self,
        frame: &mut Frame,
        dot: &Value,
        nodes: &[Node],
        out: &mut String,
    ) -> ExecResult<Flow> {
        for node in nodes {
            match self.walk(frame, dot, node, out)? {
                Flow::Normal => {}
                f => return Ok(f),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(
        &mut self,
        frame: &mut Frame,
        dot: &Value,
        node: &Node,
        out: &mut String,
    ) -> ExecResult<Flow> {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Action(pipe) => {
                let v = self.eval_pipeline(frame, dot, pipe)?;
                if pipe.decl.is_empty() {
                    print_value(&v, out);
                    if let Err(e) = self.charge(0, out, frame, pipe.pos, || pipe_string(pipe)) {
                        return Err(*e);
                    }
                }
            }
            Node::If(b) => return self.walk_if_with(frame, dot, b, false, out),
            Node::With(b) => return self.walk_if_with(frame, dot, b, true, out),
            Node::Range(b) => return self.walk_range(frame, dot, b, out),
            Node::Break(_) => return Ok(Flow::Break),
            Node::Continue(_) => return Ok(Flow::Continue),
            Node::Template { pos, name, pipe } => {
                let Some(tree) = self.lookup(name) else {
                    return Err(self.err(
                        frame,
                        *pos,
                        template_context(name, pipe.as_ref()),
                        format!("template {name:?} not defined"),
                    ));
                };
                if self.depth >= self.opts.max_depth {
                    return Err(self.err(
                        frame,
                        *pos,
                        template_context(name, pipe.as_ref()),
                        format!("exceeded maximum template depth ({})", self.opts.max_depth),
                    ));
                }
                let data = match pipe {
                    Some(p) => self.eval_pipeline(frame, dot, p)?,
                    None => Value::Missing,
                };
                let context = || template_context(name, pipe.as_ref());
                if let Err(e) = self.charge(1, out, frame, *pos, context) {
                    return Err(*e);
                }
                self.depth += 1;
                let r = self.run_tree(tree, data, out);
                self.depth -= 1;
                r?;
            }
        }
        Ok(Flow::Normal)
    }

    fn walk_if_with(
        &mut self,
        frame: &mut Frame,
        dot: &Value,
        b: &Branch,
        is_with: bool,
        out: &mut String,
    ) -> ExecResult<Flow> {
        let mark = frame.vars.len();
        let val = self.eval_pipeline(frame, dot, &b.pipe)?;
        let r = if val.is_true() {
            if is_with {
                self.walk_list(frame, &val, &b.list, out)
            } else {
                self.walk_list(frame, dot, &b.list, out)
            }
        } else if let Some(el) = &b.else_list {
            self.walk_list(frame, dot, el, out)
        } else {
            Ok(Flow::Normal)
        };
        frame.vars.truncate(mark);
        r
    }

    fn walk_range(
        &mut self,
        frame: &mut Frame,
        dot: &Value,
        b: &Branch,
        out: &mut String,
    ) -> ExecResult<Flow> {
        let mark = frame.vars.len();
        let val = self.eval_pipeline(frame, dot, &b.pipe)?;
        let inner_mark = frame.vars.len();
        // Lists and counts are walked in place; maps and objects are
        // snapshotted since the body may change them.
        let items = match &val {
            Value::List(l) => RangeItems::List(l.clone()),
            Value::Map(m) => RangeItems::Pairs(
                m.entries()
                    .into_iter()
                    .map(|(k, v)| (Value::string(k), v))
                    .collect(),
            ),
            Value::Int(n) => {
                if b.pipe.decl.len() > 1 {
                    frame.vars.truncate(mark);
                    return Err(self.err(
                        frame,
                        b.pos,
                        range_context(b),
                        format!("can't use {n} to iterate over more than one variable"),
                    ));
                }
                RangeItems::Count((*n).max(0))
            }
            Value::Missing | Value::Nil => RangeItems::Count(0),
            Value::Object(o) => match o.range_entries() {
                Some(entries) => RangeItems::Pairs(entries),
                None => {
                    frame.vars.truncate(mark);
                    return Err(self.err(
                        frame,
                        b.pos,
                        range_context(b),
                        format!("range can't iterate over {}", o.display()),
                    ));
                }
            },
            other => {
                frame.vars.truncate(mark);
                let shown = gofmt::sprint_value(other);
                return Err(self.err(
                    frame,
                    b.pos,
                    range_context(b),
                    format!("range can't iterate over {shown}"),
                ));
            }
        };
        if items.len() == 0 {
            let r = match &b.else_list {
                Some(el) => self.walk_list(frame, dot, el, out),
                None => Ok(Flow::Normal),
            };
            frame.vars.truncate(mark);
            return r.map(|_| Flow::Normal);
        }
        for i in 0..items.len() {
            if let Err(e) = self.charge(1, out, frame, b.pos, || range_context(b)) {
                frame.vars.truncate(mark);
                return Err(*e);
            }
            let (index, elem) = items.get(i);
            let decl = &b.pipe.decl;
            if b.pipe.is_assign {
                if decl.len() > 1 {
                    set_var(frame, &decl[0], index.clone());
                    set_var(frame, &decl[1], elem.clone());
                } else if let Some(d) = decl.first() {
                    set_var(frame, d, elem.clone());
                }
            } else {
                // The pipeline pushed the declared variables; overwrite them.
                let n = frame.vars.len();
                if decl.len() == 1 {
                    if let Some(slot) = frame.vars.get_mut(n - 1) {
                        slot.1 = elem.clone();
                    }
                } else if decl.len() == 2 && n >= 2 {
                    if let Some(slot) = frame.vars.get_mut(n - 1) {
                        slot.1 = elem.clone();
                    }
                    if let Some(slot) = frame.vars.get_mut(n - 2) {
                        slot.1 = index.clone();
                    }
                }
            }
            let r = self.walk_list(frame, &elem, &b.list, out);
            frame.vars.truncate(inner_mark);
            match r {
                Ok(Flow::Break) => break,
                Ok(_) => {}
                Err(e) => {
                    frame.vars.truncate(mark);
                    return Err(e);
                }
            }
        }
        frame.vars.truncate(mark);
        Ok(Flow::Normal)
    }

    fn eval_pipeline(&mut self, frame: &mut Frame, dot: &Value, pipe: &Pipe) -> ExecResult<Value> {
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            let v = self.eval_command(frame, dot, cmd, value.take())?;
            // Go unwraps interface values after each command: nil becomes
            // the invalid value.
            value = Some(match v {
                Value::Nil => Value::Missing,
                v => v,
            });
        }
        let value = value.unwrap_or(Value::Missing);
        for (i, d) in pipe.decl.iter().enumerate() {
            if pipe.is_assign {
                if !set_var(frame, d, value.clone()) {
                    // Go reports it at the last node it evaluated.
                    let (lpos, lctx) = pipe
                        .cmds
                        .last()
                        .and_then(|c| c.args.last())
                        .map_or((pipe.pos, d.clone()), |(p, a)| (*p, arg_string(a)));
                    return Err(self.err(frame, lpos, lctx, format!("undefined variable: {d}")));
                }
            } else {
                let _ = i;
                frame.vars.push((d.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn eval_command(
        &mut self,
        frame: &mut Frame,
        dot: &Value,
        cmd: &Command,
        fin: Option<Value>,
    ) -> ExecResult<Value> {
        let Some((pos, first)) = cmd.args.first() else {
            return Ok(Value::Missing);
        };
        let rest = cmd.args.get(1..).unwrap_or(&[]);
        match first {
            Arg::Field(idents) => {
                self.eval_field_chain(frame, dot, dot.clone(), *pos, first, idents, rest, fin)
            }
            Arg::Variable(name, idents) => {
                let v = self.var_value(frame, *pos, name)?;
                if idents.is_empty() {
                    if !rest.is_empty() || fin.is_some() {
                        return Err(self.err(
                            frame,
                            *pos,
                            arg_string(first),
                            format!("can't give argument to non-function {name}"),
                        ));
                    }
                    return Ok(v);
                }
                self.eval_field_chain(frame, dot, v, *pos, first, idents, rest, fin)
            }
            Arg::Pipe(p, idents) => {
                let v = self.eval_pipeline_scoped(frame, dot, p)?;
                if idents.is_empty() {
                    if !rest.is_empty() || fin.is_some() {
                        return Err(self.err(
                            frame,
                            *pos,
                            arg_string(first),
                            format!("can't give argument to non-function {}", arg_string(first)),
                        ));
                    }
                    return Ok(v);
                }
                self.eval_field_chain(frame, dot, v, *pos, first, idents, rest, fin)
            }
            Arg::Ident(name) => self.eval_function(frame, dot, *pos, cmd, name, rest, fin),
            _ => {
                if !rest.is_empty() || fin.is_some() {
                    return Err(self.err(
                        frame,
                        *pos,
                        arg_string(first),
                        format!("can't give argument to non-function {}", arg_string(first)),
                    ));
                }
                match first {
                    Arg::Nil => {
                        Err(self.err(frame, *pos, "nil".into(), "nil is not a command".into()))
                    }
                    Arg::Dot => Ok(dot.clone()),
                    _ => self.eval_arg(frame, dot, *pos, first),
                }
            }
        }
    }

    /// A parenthesized pipeline: its declarations do not leak out.
    fn eval_pipeline_scoped(
        &mut self,
        frame: &mut Frame,
        dot: &Value,
        pipe: &Pipe,
    ) -> ExecResult<Value> {
        let mark = frame.vars.len();
        let v = self.eval_pipeline(frame, dot, pipe);
        if pipe.decl.is_empty() || !pipe.is_assign {
            // Go keeps declarations made in parentheses until the enclosing
            // scope ends; only pop when nothing was declared.
            if pipe.decl.is_empty() {
                frame.vars.truncate(mark);
            }
        }
        v
    }

    fn var_value(&self, frame: &Frame, pos: usize, name: &str) -> ExecResult<Value> {
        for (n, v) in frame.vars.iter().rev() {
            if n == name {
                return Ok(v.clone());
            }
        }
        Err(self.err(
            frame,
            pos,
            name.to_string(),
            format!("undefined variable: {name}"),
        ))
    }

    /// Evaluates an operand used as a function argument.
    fn eval_arg(
        &mut self,
        frame: &mut Frame,
        dot: &Value,
        pos: usize,
        arg: &Arg,
    ) -> ExecResult<Value> {
        match arg {
            Arg::Dot => Ok(dot.clone()),
            Arg::Nil => Ok(Value::Nil),
            Arg::Bool(b) => Ok(Value::Bool(*b)),
            Arg::String(s) => Ok(Value::String(s.clone())),
            Arg::Number(n) => {
                if n.is_complex {
                    return Ok(Value::Complex(n.float.unwrap_or(0.0), n.imag));
                }
                if n.float.is_some()
                    && !is_hex_int(&n.text)
                    && !n.is_char
                    && n.text.contains(['.', 'e', 'E', 'p', 'P'])
                {
                    return Ok(Value::Float(n.float.unwrap_or(0.0)));
                }
                if let Some(i) = n.int {
                    return Ok(Value::Int(i));
                }
                if n.uint.is_some() {
                    return Err(self.err(
                        frame,
                        pos,
                        n.text.clone(),
                        format!("{} overflows int", n.text),
                    ));
                }
                Ok(Value::Float(n.float.unwrap_or(0.0)))
            }
            Arg::Field(idents) => {
                self.eval_field_chain(frame, dot, dot.clone(), pos, arg, idents, &[], None)
            }
            Arg::Variable(name, idents) => {
                let v = self.var_value(frame, pos, name)?;
                if idents.is_empty() {
                    return Ok(v);
                }
                self.eval_field_chain(frame, dot, v, pos, arg, idents, &[], None)
            }
            Arg::Pipe(p, idents) => {
                let v = self.eval_pipeline_scoped(frame, dot, p)?;
                if idents.is_empty() {
                    return Ok(v);
                }
                self.eval_field_chain(frame, dot, v, pos, arg, idents, &[], None)
            }
            Arg::Ident(name) => {
                let cmd = Command {
                    pos,
                    args: vec![(pos, arg.clone())],
                };
                self.eval_function(frame, dot, pos, &cmd, name, &[], None)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_field_chain(
        &mut self,
        frame: &mut Frame,
        dot: &Value,
        receiver: Value,
        pos: usize,
        node: &Arg,
        idents: &[String],
        args: &[(usize, Arg)],
        fin: Option<Value>,
    ) -> ExecResult<Value> {
        let n = idents.len();
        let mut cur = receiver;
        for (i, ident) in idents.iter().enumerate() {
            let last = i + 1 == n;
            cur = if last {
                self.eval_field(frame, dot, cur, pos, node, ident, args, fin.clone())?
            } else {
                self.eval_field(frame, dot, cur, pos, node, ident, &[], None)?
            };
        }
        Ok(cur)
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_field(
        &mut self,
        frame: &mut Frame,
        dot: &Value,
        receiver: Value,
        pos: usize,
        node: &Arg,
        name: &str,
        args: &[(usize, Arg)],
        fin: Option<Value>,
    ) -> ExecResult<Value> {
        let has_args = !args.is_empty() || fin.is_some();
        match &receiver {
            Value::Missing => {
                if self.opts.missing_key == MissingKey::Error {
                    return Err(self.err(
                        frame,
                        pos,
                        arg_string(node),
                        format!("nil data; no entry for key {name:?}"),
                    ));
                }
                Ok(Value::Missing)
            }
            Value::Nil => Err(self.err(
                frame,
                pos,
                arg_string(node),
                format!("nil pointer evaluating interface {{}}.{name}"),
            )),
            Value::Map(m) => {
                if has_args {
                    return Err(self.err(
                        frame,
                        pos,
                        arg_string(node),
                        format!("{name} is not a method but has arguments"),
                    ));
                }
                match m.get(name) {
                    Some(v) => Ok(v),
                    None => match self.opts.missing_key {
                        MissingKey::NoValue => Ok(Value::Missing),
                        MissingKey::Zero => Ok(Value::Nil),
                        MissingKey::Error => Err(self.err(
                            frame,
                            pos,
                            arg_string(node),
                            format!("map has no entry for key {name:?}"),
                        )),
                    },
                }
            }
            Value::Object(o) => {
                if o.has_method(name) {
                    let mut argv = Vec::with_capacity(args.len() + 1);
                    for (p, a) in args {
                        argv.push(self.eval_arg(frame, dot, *p, a)?.or_nil());
                    }
                    if let Some(f) = fin {
                        argv.push(f.or_nil());
                    }
                    return o.call_method(name, &argv).map_err(|e| {
                        self.err(
                            frame,
                            pos,
                            arg_string(node),
                            format!("error calling {name}: {e}"),
                        )
                    });
                }
                if let Some(v) = o.field(name) {
                    if has_args {
                        return Err(self.err(
                            frame,
                            pos,
                            arg_string(node),
                            format!("{name} has arguments but cannot be invoked as function"),
                        ));
                    }
                    return Ok(v);
                }
                Err(self.err(
                    frame,
                    pos,
                    arg_string(node),
                    format!("can't evaluate field {name} in type {}", o.type_name()),
                ))
            }
            other => Err(self.err(
                frame,
                pos,
                arg_string(node),
                format!("can't evaluate field {name} in type {}", other.type_name()),
            )),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_function(
        &mut self,
        frame: &mut Frame,
        dot: &Value,
        pos: usize,
        cmd: &Command,
        name: &str,
        args: &[(usize, Arg)],
        fin: Option<Value>,
    ) -> ExecResult<Value> {
        let Some(func) = self.set.funcs.get(name).cloned() else {
            return Err(self.err(
                frame,
                pos,
                name.to_string(),
                format!("{name:?} is not a defined function"),
            ));
        };
        let cpos = cmd.pos;
        let nargs = args.len() + usize::from(fin.is_some());
        if nargs < func.min_args || func.max_args.is_some_and(|m| nargs > m) {
            // Go reports arity at the function name.
            let msg = match func.max_args {
                Some(m) if m == func.min_args => {
                    format!("wrong number of args for {name}: want {m} got {nargs}")
                }
                _ => format!(
                    "wrong number of args for {name}: want at least {} got {}",
                    func.min_args,
                    args.len()
                ),
            };
            return Err(self.err(frame, pos, name.to_string(), msg));
        }
        match func.kind {
            FuncKind::And | FuncKind::Or => {
                // Short-circuit: stop at the first false (and) / true (or) argument.
                let is_and = matches!(func.kind, FuncKind::And);
                let mut last = Value::Nil;
                for (p, a) in args {
                    let v = self.eval_arg(frame, dot, *p, a)?.or_nil();
                    let t = v.is_true();
                    last = v;
                    if t != is_and {
                        return Ok(last);
                    }
                }
                if let Some(f) = fin {
                    last = f.or_nil();
                }
                Ok(last)
            }
            FuncKind::Native(_) | FuncKind::Closure(_) => {
                let mut argv = Vec::with_capacity(nargs);
                // Which arguments were invalid (missing) before becoming nil:
                // Go words type errors differently for them.
                let mut missing: u64 = 0;
                let mut types: [&'static str; 8] = [""; 8];
                for (i, (p, a)) in args.iter().enumerate() {
                    let v = self.eval_arg(frame, dot, *p, a)?;
                    if matches!(v, Value::Missing) && i < 64 {
                        missing |= 1 << i;
                    }
                    if let Some(t) = types.get_mut(i) {
                        *t = static_type_name(&v);
                    }
                    argv.push(v.or_nil());
                }
                if let Some(v) = fin {
                    if matches!(v, Value::Missing) && args.len() < 64 {
                        missing |= 1 << args.len();
                    }
                    if let Some(t) = types.get_mut(args.len()) {
                        *t = static_type_name(&v);
                    }
                    argv.push(v.or_nil());
                }
                let mut ctx = Ctx { state: self };
                let result = match &func.kind {
                    FuncKind::Native(f) => f(&mut ctx, argv),
                    FuncKind::Closure(f) => f(&mut ctx, argv),
                    FuncKind::And | FuncKind::Or => Ok(Value::Nil),
                };
                match result {
                    // Charged on return (a call that recurses, `include`,
                    // is bounded by the depth limit until it returns);
                    // functions write no output, so only steps count.
                    Ok(v) => {
                        let cost = 1 + weight(&v);
                        match self.charge(cost, "", frame, cpos, || command_string(cmd)) {
                            Ok(()) => Ok(v),
                            Err(e) => Err(*e),
                        }
                    }
                    // The node text is only built when an error needs it.
                    Err(crate::funcs::FuncError::Call(msg)) => Err(self.err(
                        frame,
                        cpos,
                        command_string(cmd),
                        format!("error calling {name}: {msg}"),
                    )),
                    Err(crate::funcs::FuncError::Arg(msg)) => {
                        Err(self.err(frame, cpos, command_string(cmd), msg))
                    }
                    Err(crate::funcs::FuncError::Type { index, expected }) => {
                        let was_missing = index < 64 && missing & (1 << index) != 0;
                        // The error sits at the argument's node; a piped-in
                        // value is checked after the last argument (or the name).
                        let (apos, node) = match args.get(index).or(args.last()) {
                            Some((p, a)) => (*p, Some(a)),
                            None => (pos, None),
                        };
                        let context = node.map_or_else(|| name.to_string(), arg_string);
                        let literal = args.get(index).map(|(_, a)| a);
                        let got = types.get(index).copied().unwrap_or("interface {}");
                        let msg = type_error(literal, was_missing, expected, got);
                        Err(self.err(frame, apos, context, msg))
                    }
                }
            }
        }
    }
}

/// What functions see of the execution: the clock, the random source, and
/// `include`/`tpl`.
pub struct Ctx<'s, 'a> {
    pub(crate) state: &'s mut State<'a>,
}

impl Ctx<'_, '_> {
    pub fn options(&self) -> &ExecOptions {
        self.state.opts
    }
    /// The configured current time (Unix seconds, nanoseconds).
    pub fn now(&self) -> (i64, u32) {
        self.state.opts.now
    }
    /// The next pseudo-random number of this execution.
    pub fn next_u64(&mut self) -> u64 {
        self.state.next_u64()
    }
    pub fn include(&mut self, name: &str, data: Value) -> Result<String, String> {
        self.state.include(name, data)
    }
    pub fn tpl(&mut self, text: &str, data: Value) -> Result<String, String> {
        // Helm names tpl text after the top-level template ("gotpl").
        self.state.tpl(text, data, "gotpl")
    }
}

/// The Go type of an argument as a type error reports it (a nil held in
/// an interface is `interface {}`).
fn static_type_name(v: &Value) -> &'static str {
    match v {
        Value::Missing => "",
        Value::Nil => "interface {}",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Uint(_) => "uint",
        Value::Float(_) => "float64",
        Value::Complex(..) => "complex128",
        Value::String(_) => "string",
        Value::List(_) => "[]interface {}",
        Value::Map(_) => "map[string]interface {}",
        Value::Object(_) => "struct",
    }
}

/// Go's wording for an argument that does not fit a typed parameter.
fn type_error(literal: Option<&Arg>, was_missing: bool, expected: &str, got: &str) -> String {
    let kind_word = match expected {
        "string" => Some("string"),
        "int" => Some("integer"),
        "bool" => Some("bool"),
        "float64" => Some("float"),
        _ => None,
    };
    match literal {
        Some(a @ (Arg::Number(_) | Arg::String(_) | Arg::Bool(_))) => match kind_word {
            Some(k) => format!("expected {k}; found {}", arg_string(a)),
            None => format!("can't handle {} for arg of type {expected}", arg_string(a)),
        },
        Some(Arg::Nil) => format!("cannot assign nil to {expected}"),
        _ if was_missing => format!("invalid value; expected {expected}"),
        _ => format!("wrong type for value; expected {expected}; got {got}"),
    }
}

fn set_var(frame: &mut Frame, name: &str, value: Value) -> bool {
    for (n, v) in frame.vars.iter_mut().rev() {
        if n == name {
            *v = value;
            return true;
        }
    }
    false
}

fn is_hex_int(text: &str) -> bool {
    let t = text.trim_start_matches(['+', '-']);
    (t.starts_with("0x") || t.starts_with("0X")) && !t.contains(['p', 'P'])
}

/// Writes a pipeline result the way Go prints it into the output.
/// Steps a function's result costs beyond the call: what it may have
/// allocated, roughly.
fn weight(v: &Value) -> u64 {
    let size = match v {
        Value::String(s) => s.len() / 256,
        Value::List(l) => l.len() / 8,
        Value::Map(m) => m.len() / 8,
        _ => 0,
    };
    size as u64
}

fn print_value(v: &Value, out: &mut String) {
    match v {
        Value::Missing => out.push_str("<no value>"),
        Value::String(s) => out.push_str(s),
        other => gofmt::write_value(out, other, 0),
    }
}

/// Go's source form of a template node: `{{template "name" pipeline}}`.
fn template_context(name: &str, pipe: Option<&Pipe>) -> String {
    match pipe {
        Some(p) => format!("{{{{template {} {}}}}}", gofmt::quote(name), pipe_string(p)),
        None => format!("{{{{template {}}}}}", gofmt::quote(name)),
    }
}

/// Go's source form of a range node, body included.
fn range_context(b: &Branch) -> String {
    let mut s = format!("{{{{range {}}}}}", pipe_string(&b.pipe));
    list_string(&mut s, &b.list);
    if let Some(el) = &b.else_list {
        s.push_str("{{else}}");
        list_string(&mut s, el);
    }
    s.push_str("{{end}}");
    s
}

/// Go's source form of a list of nodes (`Node.String`).
fn list_string(out: &mut String, nodes: &[Node]) {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Action(p) => {
                out.push_str("{{");
                out.push_str(&pipe_string(p));
                out.push_str("}}");
            }
            Node::If(b) | Node::With(b) => {
                let kw = if matches!(n, Node::If(_)) {
                    "if"
                } else {
                    "with"
                };
                out.push_str(&format!("{{{{{kw} {}}}}}", pipe_string(&b.pipe)));
                list_string(out, &b.list);
                if let Some(el) = &b.else_list {
                    out.push_str("{{else}}");
                    list_string(out, el);
                }
                out.push_str("{{end}}");
            }
            Node::Range(b) => out.push_str(&range_context(b)),
            Node::Template { name, pipe, .. } => {
                out.push_str(&template_context(name, pipe.as_ref()))
            }
            Node::Break(_) => out.push_str("{{break}}"),
            Node::Continue(_) => out.push_str("{{continue}}"),
        }
    }
}

/// The source form of an operand, as Go prints nodes in error messages.
pub(crate) fn arg_string(a: &Arg) -> String {
    match a {
        Arg::Dot => ".".into(),
        Arg::Nil => "nil".into(),
        Arg::Bool(b) => b.to_string(),
        Arg::Number(n) => n.text.clone(),
        Arg::String(s) => gofmt::quote(s),
        Arg::Field(f) => f.iter().map(|x| format!(".{x}")).collect(),
        Arg::Variable(v, f) => {
            let mut s = v.clone();
            for x in f {
                s.push('.');
                s.push_str(x);
            }
            s
        }
        Arg::Ident(i) => i.clone(),
        Arg::Pipe(p, f) => {
            let mut s = format!("({})", pipe_string(p));
            for x in f {
                s.push('.');
                s.push_str(x);
            }
            s
        }
    }
}

fn command_string(c: &Command) -> String {
    c.args
        .iter()
        .map(|(_, a)| arg_string(a))
        .collect::<Vec<_>>()
        .join(" ")
}

fn pipe_string(p: &Pipe) -> String {
    let mut s = String::new();
    if !p.decl.is_empty() {
        s.push_str(&p.decl.join(", "));
        s.push_str(if p.is_assign { " = " } else { " := " });
    }
    s.push_str(
        &p.cmds
            .iter()
            .map(command_string)
            .collect::<Vec<_>>()
            .join(" | "),
    );
    s
}

/// Lets host objects be printed by `Object::display` in `%v`.
pub(crate) fn object_display(o: &dyn Object) -> String {
    o.display()
}
