//! Thin layer over the regorus engine: adding modules with the right Rego
//! language version, turning regorus' error text into file/line locations,
//! converting values, and evaluating rules with captured `print` output.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::error::{Error, Location};

/// Which Rego syntax a `.rego` file is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RegoVersion {
    /// Try Rego v1 first and fall back to v0, so pre-OPA-1.0 conftest
    /// policies keep working next to new ones.
    #[default]
    Auto,
    /// Rego v0 (`deny[msg] { ... }`); `import rego.v1` still opts a file in
    /// to v1 keywords.
    V0,
    /// Rego v1 (`deny contains msg if { ... }`), OPA 1.0's default.
    V1,
}

/// Settings shared by every engine a policy set builds.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct EngineSettings {
    pub execution_limit: Option<Duration>,
    pub strict_builtin_errors: bool,
}

pub(crate) fn new_engine(settings: EngineSettings) -> regorus::Engine {
    let mut engine = regorus::Engine::new();
    engine.set_gather_prints(true);
    engine.set_strict_builtin_errors(settings.strict_builtin_errors);
    // `sprintf` calls are renamed to this by `compat::rewrite`. Adding an
    // extension to a fresh engine cannot clash, so the result is ignored.
    let _ = engine.add_extension(
        crate::compat::SPRINTF.to_string(),
        2,
        Box::new(crate::gofmt::extension),
    );
    for (name, arity, builtin) in crate::builtins::DEPRECATED {
        let _ = engine.add_extension(name.to_string(), *arity, Box::new(*builtin));
    }
    if let Some(limit) = settings.execution_limit {
        engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
            limit,
            // Checking the clock every few hundred work units keeps the
            // overhead negligible while still stopping loops promptly.
            check_interval: std::num::NonZeroU32::MIN.saturating_add(255),
        });
    }
    engine
}

/// A module that failed to parse, before it is tied to a user-visible file.
#[derive(Debug, Clone)]
pub(crate) struct RegoFailure {
    /// Module name regorus blamed, when it said.
    pub module: Option<String>,
    /// Line and column inside the Rego text, when regorus reported them.
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: String,
}

impl RegoFailure {
    fn position(&self) -> (u32, u32) {
        (self.line.unwrap_or(0), self.column.unwrap_or(0))
    }
}

/// Splits regorus' rendered error (`--> file:line:col`, a source excerpt and
/// `error: message`) into its position and the message proper.
pub(crate) fn parse_failure(err: &impl std::fmt::Display) -> RegoFailure {
    let text = format!("{err:#}");
    let mut module = None;
    let mut line = None;
    let mut column = None;
    let mut message = None;
    for row in text.lines() {
        let row = row.trim();
        if let Some(rest) = row.strip_prefix("--> ") {
            // The file name itself may contain ':', so split from the right.
            let mut parts = rest.rsplitn(3, ':');
            let col = parts.next().and_then(|c| c.trim().parse().ok());
            let ln = parts.next().and_then(|l| l.trim().parse().ok());
            if line.is_none() {
                line = ln;
                column = col;
                module = parts.next().map(str::to_string);
            }
        } else if let Some(rest) = row.strip_prefix("error: ") {
            message.get_or_insert_with(|| rest.to_string());
        }
    }
    let message = message.unwrap_or_else(|| {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    });
    RegoFailure {
        module,
        line,
        column,
        // Users wrote `sprintf`; the rename is ours.
        message: message.replace(crate::compat::SPRINTF, "sprintf"),
    }
}

/// The deepest nesting of `[` and `{` (arrays, sets, objects, comprehensions,
/// rule bodies) a module may have. regorus' parser tries a comprehension
/// first at each `[` and `{` and parses the content again when it is not
/// one, so its time doubles with each level: 16 levels take seconds, 20
/// over a minute, and a fuzzed policy with 29 ran for more than ten minutes.
/// Policies in the Gatekeeper library nest at most 3 deep.
pub(crate) const MAX_NESTING: usize = 8;

/// Nesting deeper than this is charged against [`NESTING_BUDGET`].
const FREE_NESTING: usize = 4;

/// How much nesting deeper than [`FREE_NESTING`] one module may have, each
/// `[` or `{` at depth `d` costing `2^d`: a few constructs 8 deep, a few
/// dozen 6 deep. It bounds the parse time of a module to a fraction of a
/// second however often it repeats such constructs.
const NESTING_BUDGET: u64 = 1 << 12;

/// Rejects a module whose `[`/`{` nesting would make regorus' parser take
/// exponential time (see [`MAX_NESTING`]), at the bracket that goes too far.
/// Brackets in strings, raw strings and comments do not count.
pub(crate) fn check_nesting(text: &str) -> Result<(), RegoFailure> {
    // Inside a "string" (and whether the last character was a backslash),
    // a `raw string` or a # comment.
    #[derive(PartialEq)]
    enum In {
        Code,
        String { escaped: bool },
        Raw,
        Comment,
    }
    let mut state = In::Code;
    let mut depth = 0usize;
    let mut spent = 0u64;
    let (mut line, mut column) = (1u32, 0u32);
    for c in text.chars() {
        if c == '\n' {
            line = line.saturating_add(1);
            column = 0;
            if state != In::Raw {
                state = In::Code;
            }
            continue;
        }
        column = column.saturating_add(1);
        state = match (state, c) {
            (In::Code, '#') => In::Comment,
            (In::Code, '"') => In::String { escaped: false },
            (In::Code, '`') => In::Raw,
            (In::Code, '[' | '{') => {
                depth = depth.saturating_add(1);
                if depth > FREE_NESTING {
                    spent = spent.saturating_add(1u64 << depth.min(63));
                }
                let too_far = if depth > MAX_NESTING {
                    Some(format!(
                        "`[` and `{{` are nested more than {MAX_NESTING} deep here; the Rego \
                         parser's time doubles with each level, so move the inner part into a \
                         rule or variable of its own"
                    ))
                } else if spent > NESTING_BUDGET {
                    Some(format!(
                        "this module has too many `[` and `{{` nested more than {FREE_NESTING} \
                         deep (the Rego parser's time doubles with each level); move the inner \
                         parts into rules or variables of their own"
                    ))
                } else {
                    None
                };
                if let Some(message) = too_far {
                    return Err(RegoFailure {
                        module: None,
                        line: Some(line),
                        column: Some(column),
                        message,
                    });
                }
                In::Code
            }
            (In::Code, ']' | '}') => {
                depth = depth.saturating_sub(1);
                In::Code
            }
            (In::String { escaped: false }, '"') | (In::Raw, '`') => In::Code,
            (In::String { escaped: false }, '\\') => In::String { escaped: true },
            (In::String { .. }, _) => In::String { escaped: false },
            (other, _) => other,
        };
    }
    Ok(())
}

/// Adds one module, choosing the language version per `version`. On failure
/// the engine is unchanged (regorus only records modules that parsed).
pub(crate) fn add_module(
    engine: &mut regorus::Engine,
    name: &str,
    text: &str,
    version: RegoVersion,
) -> Result<String, RegoFailure> {
    check_nesting(text).map_err(|failure| RegoFailure {
        module: Some(name.to_string()),
        ..failure
    })?;
    // Rewrites keep line numbers, so failures still point at user lines.
    let rewritten = crate::compat::rewrite(text);
    let mut try_version = |v0: bool| {
        engine.set_rego_v0(v0);
        let mut text = if v0 {
            crate::compat::split_bodies(&rewritten)
        } else {
            rewritten.clone()
        };
        // Each round splits one multi-body rule; the bound only guards
        // against a rewrite that fails to make progress.
        for _ in 0..256 {
            let failure = match engine.add_policy(name.to_string(), text.clone()) {
                Ok(package) => return Ok(package),
                Err(e) => parse_failure(&e),
            };
            let split = match (failure.line, failure.column) {
                (Some(line), Some(column))
                    if v0
                        && failure
                            .message
                            .contains("else cannot be used with set rules") =>
                {
                    crate::compat::split_body(&text, line as usize, column as usize)
                }
                _ => None,
            };
            match split {
                Some(next) => text = next,
                None => return Err(failure),
            }
        }
        Err(RegoFailure {
            module: Some(name.to_string()),
            line: None,
            column: None,
            message: "too many rule bodies to split".to_string(),
        })
    };
    match version {
        RegoVersion::V0 => try_version(true),
        RegoVersion::V1 => try_version(false),
        RegoVersion::Auto => match try_version(false) {
            Ok(package) => Ok(package),
            Err(v1_failure) => match try_version(true) {
                Ok(package) => Ok(package),
                // The parse that got further is the one whose grammar the
                // author most likely meant, so its error is the useful one.
                Err(v0_failure) if v0_failure.position() > v1_failure.position() => Err(v0_failure),
                Err(_) => Err(v1_failure),
            },
        },
    }
}

/// Forces regorus' whole-program analysis (which otherwise runs lazily on
/// the first evaluation), so unsafe variables and similar compile errors are
/// reported at load time rather than on the first manifest.
pub(crate) fn prepare(engine: &mut regorus::Engine) -> Result<(), RegoFailure> {
    engine
        .eval_query("true".to_string(), false)
        .map(|_| ())
        .map_err(|e| parse_failure(&e))?;
    check_recursion(engine)
}

/// Rego forbids recursion; OPA refuses it when compiling
/// (`rego_recursion_error`). regorus stops a rule that depends on itself
/// while evaluating, but a *function* that calls itself recurses natively
/// until the plugin's stack runs out, which ends the whole call without a
/// word about which policy did it. So cycles among functions are found here,
/// before any manifest is evaluated, and reported at the function's head.
fn check_recursion(engine: &mut regorus::Engine) -> Result<(), RegoFailure> {
    use regorus::unstable::{Rule, RuleHead};

    struct Function {
        file: String,
        line: u32,
        column: u32,
        calls: BTreeSet<String>,
    }
    let mut functions: BTreeMap<String, Function> = BTreeMap::new();
    for module in engine.get_modules() {
        let Some(package) = ref_path(&module.package.refr) else {
            continue;
        };
        for rule in &module.policy {
            let Rule::Spec {
                head: RuleHead::Func {
                    span, refr, assign, ..
                },
                bodies,
                ..
            } = rule.as_ref()
            else {
                continue;
            };
            let Some(name) = ref_path(refr) else {
                continue;
            };
            let mut roots = Vec::new();
            roots.extend(assign.iter().map(|a| Node::Expr(a.value.clone())));
            for body in bodies {
                roots.extend(body.assign.iter().map(|a| Node::Expr(a.value.clone())));
                roots.push(Node::Query(body.query.clone()));
            }
            let calls = called(roots).into_iter().map(|call| {
                if call.starts_with("data.") {
                    call
                } else {
                    format!("data.{package}.{call}")
                }
            });
            functions
                .entry(format!("data.{package}.{name}"))
                .or_insert_with(|| Function {
                    file: span.source.file().clone(),
                    line: span.line,
                    column: span.col,
                    calls: BTreeSet::new(),
                })
                .calls
                .extend(calls);
        }
    }
    // Depth-first search for a cycle; names not in `functions` (builtins,
    // rules) end a path.
    let mut done: BTreeSet<&str> = BTreeSet::new();
    for start in functions.keys() {
        let mut path: Vec<&str> = vec![start];
        let mut pending: Vec<Vec<&str>> = vec![Vec::new()];
        if let Some(f) = functions.get(start.as_str()) {
            pending[0] = f.calls.iter().map(String::as_str).collect();
        }
        while let Some(next) = pending.last_mut() {
            let Some(callee) = next.pop() else {
                pending.pop();
                if let Some(finished) = path.pop() {
                    done.insert(finished);
                }
                continue;
            };
            if let Some(at) = path.iter().position(|p| *p == callee) {
                let mut cycle: Vec<&str> = path[at..].to_vec();
                cycle.push(callee);
                let first = functions.get(callee);
                let short = |n: &str| n.rsplit('.').next().unwrap_or(n).to_owned();
                return Err(RegoFailure {
                    module: first.map(|f| f.file.clone()),
                    line: first.map(|f| f.line),
                    column: first.map(|f| f.column),
                    message: format!(
                        "function {} calls itself ({}); Rego does not allow recursion",
                        short(callee),
                        cycle
                            .iter()
                            .map(|n| short(n))
                            .collect::<Vec<_>>()
                            .join(" -> ")
                    ),
                });
            }
            if done.contains(callee) {
                continue;
            }
            if let Some(f) = functions.get(callee) {
                path.push(callee);
                pending.push(f.calls.iter().map(String::as_str).collect());
            }
        }
    }
    Ok(())
}

enum Node {
    Expr(regorus::unstable::Ref<regorus::unstable::Expr>),
    Query(regorus::unstable::Ref<regorus::unstable::Query>),
}

/// `a.b.c` of a variable or a chain of `.field` references.
fn ref_path(expr: &regorus::unstable::Expr) -> Option<String> {
    use regorus::unstable::Expr;
    match expr {
        Expr::Var { value, .. } => value.as_string().ok().map(|s| s.to_string()),
        Expr::RefDot { refr, field, .. } => {
            Some(format!("{}.{}", ref_path(refr)?, field.1.as_string().ok()?))
        }
        _ => None,
    }
}

/// The names of the functions called anywhere under `roots`, as written.
/// Walked with an explicit stack: the AST of a hostile policy may be deep.
fn called(roots: Vec<Node>) -> Vec<String> {
    use regorus::unstable::{Expr, Literal};
    let mut calls = Vec::new();
    let mut stack = roots;
    while let Some(node) = stack.pop() {
        let expr = match node {
            Node::Query(query) => {
                for stmt in &query.stmts {
                    match &stmt.literal {
                        Literal::SomeIn {
                            key,
                            value,
                            collection,
                            ..
                        } => {
                            stack.extend(key.iter().cloned().map(Node::Expr));
                            stack.push(Node::Expr(value.clone()));
                            stack.push(Node::Expr(collection.clone()));
                        }
                        Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => {
                            stack.push(Node::Expr(expr.clone()));
                        }
                        Literal::Every { domain, query, .. } => {
                            stack.push(Node::Expr(domain.clone()));
                            stack.push(Node::Query(query.clone()));
                        }
                        Literal::SomeVars { .. } => {}
                    }
                    for with in &stmt.with_mods {
                        stack.push(Node::Expr(with.refr.clone()));
                        stack.push(Node::Expr(with.r#as.clone()));
                    }
                }
                continue;
            }
            Node::Expr(expr) => expr,
        };
        let mut push = |e: &regorus::unstable::Ref<Expr>| stack.push(Node::Expr(e.clone()));
        match expr.as_ref() {
            Expr::Call { fcn, params, .. } => {
                calls.extend(ref_path(fcn));
                params.iter().for_each(&mut push);
            }
            Expr::Array { items, .. } | Expr::Set { items, .. } => items.iter().for_each(&mut push),
            Expr::Object { fields, .. } => {
                for (_, key, value) in fields {
                    push(key);
                    push(value);
                }
            }
            Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
                push(term);
                stack.push(Node::Query(query.clone()));
            }
            Expr::ObjectCompr {
                key, value, query, ..
            } => {
                push(key);
                push(value);
                stack.push(Node::Query(query.clone()));
            }
            Expr::UnaryExpr { expr, .. } => push(expr),
            Expr::RefDot { refr, .. } => push(refr),
            Expr::RefBrack { refr, index, .. } => {
                push(refr);
                push(index);
            }
            Expr::BinExpr { lhs, rhs, .. }
            | Expr::BoolExpr { lhs, rhs, .. }
            | Expr::ArithExpr { lhs, rhs, .. }
            | Expr::AssignExpr { lhs, rhs, .. } => {
                push(lhs);
                push(rhs);
            }
            Expr::Membership {
                key,
                value,
                collection,
                ..
            } => {
                key.iter().for_each(&mut push);
                push(value);
                push(collection);
            }
            _ => {}
        }
    }
    calls
}

/// Turns a failure reported for `file` into the crate error.
pub(crate) fn syntax_error(file: &str, context: String, failure: RegoFailure) -> Error {
    Error::RegoSyntax {
        location: Location {
            file: file.to_string(),
            line: failure.line,
            column: failure.column,
        },
        context,
        message: failure.message,
    }
}

pub(crate) fn to_regorus(value: &serde_json::Value) -> Result<regorus::Value, Error> {
    // Read through the reference: `from_value` would need a clone of the
    // whole document first.
    <regorus::Value as serde::Deserialize>::deserialize(value)
        .map_err(|e| Error::Engine(format!("cannot convert document for Rego: {e}")))
}

pub(crate) fn to_json(value: &regorus::Value) -> Result<serde_json::Value, Error> {
    serde_json::to_value(value)
        .map_err(|e| Error::Engine(format!("cannot convert Rego value to JSON: {e}")))
}

/// Evaluates `data.<path>` and returns its value, `None` when undefined.
pub(crate) fn eval_rule(
    engine: &mut regorus::Engine,
    path: &str,
    policy_file: &str,
) -> Result<Option<regorus::Value>, Error> {
    // A panic inside regorus is its bug, not the policy's; where unwinding
    // exists (native hosts) it becomes an error for this rule instead of
    // taking the whole run down. Wasm builds abort on panic regardless.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        engine.eval_rule(path.to_string())
    }));
    let error = |message: String| Error::Evaluation {
        rule: path.to_string(),
        policy_file: policy_file.to_string(),
        message,
    };
    match outcome {
        Ok(Ok(regorus::Value::Undefined)) => Ok(None),
        Ok(Ok(value)) => Ok(Some(value)),
        Ok(Err(e)) => Err(error(parse_failure(&e).message)),
        Err(_) => Err(error(
            "the Rego engine crashed on this input (a regorus defect); simplify the rule or \
             report it"
                .to_string(),
        )),
    }
}

/// Drains `print` output gathered since the last call.
pub(crate) fn take_prints(engine: &mut regorus::Engine, out: &mut Vec<String>) {
    // regorus only fails here when gathering is off, which never happens for
    // engines built by `new_engine`; losing log lines is not worth an error.
    if let Ok(prints) = engine.take_prints() {
        out.extend(prints);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let cases = [
            // (source, version, expected line)
            (
                "package p\n\ndeny[msg] {\n  msg := \"open\n}\n",
                RegoVersion::V0,
                4,
            ),
            ("package p\n\nallow if {\n  1 = \n}\n", RegoVersion::V1, 4),
            ("package p\nx := [1,\n", RegoVersion::Auto, 3),
        ];
        for (source, version, line) in cases {
            let mut engine = new_engine(EngineSettings::default());
            let failure = add_module(&mut engine, "p.rego", source, version)
                .err()
                .unwrap_or_else(|| panic!("{source:?} should not parse"));
            assert_eq!(failure.line, Some(line), "{source:?}: {failure:?}");
            assert!(failure.column.is_some(), "{source:?}: {failure:?}");
            assert!(!failure.message.is_empty());
        }
    }

    #[test]
    fn recursive_functions_are_refused_at_their_head() {
        let cases = [
            (
                "package p\nf(x) := y if {\n  y := f(x + 1)\n}\n",
                Some((2, "f -> f")),
            ),
            (
                "package p\na(x) := b(x)\n\nb(x) := y if { y := [z | z := a(x)] }\n",
                Some((2, "a -> b -> a")),
            ),
            ("package p\nf(x) := data.p.f(x)\n", Some((2, "f -> f"))),
            ("package p\nf(x) := g(x)\ng(x) := count(x)\n", None),
        ];
        for (source, expected) in cases {
            let mut engine = new_engine(EngineSettings::default());
            add_module(&mut engine, "p.rego", source, RegoVersion::V1).unwrap();
            match (prepare(&mut engine), expected) {
                (Ok(()), None) => {}
                (Err(failure), Some((line, cycle))) => {
                    assert_eq!(failure.module.as_deref(), Some("p.rego"), "{source}");
                    assert_eq!(failure.line, Some(line), "{source}: {failure:?}");
                    assert!(failure.message.contains(cycle), "{source}: {failure:?}");
                }
                (other, _) => panic!("{source}: {other:?}"),
            }
        }
    }

    #[test]
    fn nesting_is_limited_outside_strings_and_comments() {
        let nested = |depth: usize| format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        // Depth counts the rule body's braces.
        let ok = [
            format!("package p\nx := {}\n", nested(MAX_NESTING)),
            format!("package p\ny {{ x := {} }}\n", nested(MAX_NESTING - 1)),
            format!(
                "package p\n# {deep}\nx := \"{deep}\\\"{deep}\"\ny := `\n{deep}`\n",
                deep = "[".repeat(40)
            ),
            // Closing more than was opened does not go negative.
            "package p\n]]]]\nx := [[1]]\n".to_string(),
        ];
        for source in &ok {
            assert!(check_nesting(source).is_ok(), "{source}");
        }

        let too_deep = format!("package p\n\ny {{\n  x := {}\n}}\n", nested(MAX_NESTING));
        let failure = check_nesting(&too_deep).expect_err("too deep");
        assert_eq!((failure.line, failure.column), (Some(4), Some(15)));
        assert!(failure.message.contains("nested more than 8 deep"));

        // Under the depth limit, but too often.
        let repeated = format!("package p\n{}", format!("x := {}\n", nested(7)).repeat(40));
        let failure = check_nesting(&repeated).expect_err("over budget");
        assert!(failure.line > Some(2), "{failure:?}");
        assert!(failure.message.contains("too many"), "{failure:?}");

        // The check runs before regorus parses anything.
        let mut engine = new_engine(EngineSettings::default());
        let failure =
            add_module(&mut engine, "p.rego", &too_deep, RegoVersion::Auto).expect_err("rejected");
        assert_eq!(failure.module.as_deref(), Some("p.rego"));
        assert_eq!(failure.line, Some(4));
    }

    #[test]
    fn auto_accepts_both_syntaxes() {
        let cases = [
            ("package p\ndeny[msg] { msg := \"v0\" }\n", "v0"),
            ("package p\ndeny contains msg if { msg := \"v1\" }\n", "v1"),
            (
                "package p\nimport rego.v1\ndeny contains msg if { msg := \"mixed\" }\n",
                "mixed",
            ),
        ];
        for (source, expected) in cases {
            let mut engine = new_engine(EngineSettings::default());
            let package = add_module(&mut engine, "p.rego", source, RegoVersion::Auto);
            assert_eq!(package.ok().as_deref(), Some("data.p"), "{source}");
            let value = eval_rule(&mut engine, "data.p.deny", "p.rego")
                .ok()
                .flatten()
                .map(|v| to_json(&v).ok());
            assert_eq!(value, Some(Some(serde_json::json!([expected]))), "{source}");
        }
    }
}
