//! Source rewrites that make regorus evaluate Rego the way OPA does where
//! the two disagree on policies found in the wild (the Gatekeeper library).
//! Every rewrite keeps line numbers unchanged so errors still point at the
//! user's lines.
//!
//! * OPA only parses `f(x)` as a call when `(` follows the name directly;
//!   regorus also joins a name and a `(` on the next line, turning two
//!   expressions into a call of an undefined function. A `;` is inserted
//!   at the end of such a line.
//! * OPA's compiler evaluates references and nested calls in the arguments
//!   of a negated call *before* the negation (`not f(input.x)` is undefined,
//!   not true, when `input.x` is undefined: opa#1877; stages RewriteExprTerms
//!   and RewriteDynamicTerms). regorus negates the whole expression. Such
//!   arguments are bound to fresh variables first. Operators other than
//!   `==` are calls too; `==` is compiled to unification (RewriteEquals), so
//!   only call operands (`count(x) == 0`) are bound there.
//! * regorus' `sprintf` fails on a verb/argument count or type mismatch
//!   where Go prints `%!v(MISSING)` and carries on; calls are renamed to
//!   [`SPRINTF`], an extension with Go's behaviour (see `gofmt`).
//! * `[path, value] := walk(x)` yields nothing in regorus; it becomes the
//!   equivalent `walk(x, [path, value])`.
//! * Rego v0 allows several bodies after one head (`p[x] { a } { b }`),
//!   meaning separate definitions; regorus rejects that for partial set
//!   rules and treats further bodies of other rules like `else` branches
//!   (a function's second body yields `true` instead of its value). The
//!   head is repeated before each further body.

/// Name of the `sprintf` replacement registered on every engine.
pub(crate) const SPRINTF: &str = "__manifold_sprintf";

/// A lexical token of Rego source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ident,
    Number,
    String,
    Punct,
    Comment,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
    line: usize,
}

const KEYWORDS: &[&str] = &[
    "as", "contains", "default", "else", "every", "false", "if", "import", "in", "not", "null",
    "package", "some", "true", "with",
];

fn lex(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while let Some(&b) = bytes.get(i) {
        let start = i;
        let start_line = line;
        let kind = match b {
            b'\n' => {
                line += 1;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' => {
                while bytes.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
                Kind::Comment
            }
            b'"' => {
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    match c {
                        b'\\' => i += 2,
                        b'"' => {
                            i += 1;
                            break;
                        }
                        // An unterminated string: let the parser report it.
                        b'\n' => break,
                        _ => i += 1,
                    }
                }
                Kind::String
            }
            b'`' => {
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    i += 1;
                    if c == b'\n' {
                        line += 1;
                    }
                    if c == b'`' {
                        break;
                    }
                }
                Kind::String
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while bytes
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                {
                    i += 1;
                }
                Kind::Ident
            }
            c if c.is_ascii_digit() => {
                while bytes
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'.')
                {
                    i += 1;
                }
                Kind::Number
            }
            _ => {
                let two = bytes.get(i..i + 2);
                let double = matches!(two, Some(b":=" | b"==" | b"!=" | b"<=" | b">="));
                // Step over a whole UTF-8 character so slices stay valid.
                let width = text
                    .get(i..)
                    .and_then(|s| s.chars().next())
                    .map_or(1, char::len_utf8);
                i += if double { 2 } else { width };
                Kind::Punct
            }
        };
        tokens.push(Token {
            kind,
            start,
            end: i.min(bytes.len()),
            line: start_line,
        });
    }
    tokens
}

struct Source<'a> {
    text: &'a str,
    tokens: Vec<Token>,
}

impl<'a> Source<'a> {
    fn new(text: &'a str) -> Self {
        let tokens = lex(text)
            .into_iter()
            .filter(|t| t.kind != Kind::Comment)
            .collect();
        Source { text, tokens }
    }

    fn str(&self, t: &Token) -> &'a str {
        self.text.get(t.start..t.end).unwrap_or("")
    }

    fn is(&self, index: usize, s: &str) -> bool {
        self.tokens.get(index).is_some_and(|t| self.str(t) == s)
    }

    /// Index of the bracket closing the one at `open`.
    fn closing(&self, open: usize) -> Option<usize> {
        let mut depth = 0usize;
        for (i, t) in self.tokens.iter().enumerate().skip(open) {
            match self.str(t) {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// Index of the bracket opening the one at `close`.
    fn opening(&self, close: usize) -> Option<usize> {
        let mut depth = 0usize;
        for i in (0..=close).rev() {
            match self.tokens.get(i).map(|t| self.str(t)) {
                Some(")" | "]" | "}") => depth += 1,
                Some("(" | "[" | "{") => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
        }
        None
    }
}

/// A replacement of `text[start..end]`.
struct Edit {
    start: usize,
    end: usize,
    with: String,
}

fn apply(text: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|e| (e.start, e.end));
    let mut out = String::with_capacity(text.len() + edits.len() * 16);
    let mut at = 0;
    for e in edits {
        if e.start < at {
            continue;
        }
        out.push_str(text.get(at..e.start).unwrap_or(""));
        out.push_str(&e.with);
        at = e.end;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out
}

/// Applies the proactive rewrites (newline calls, negated call arguments).
pub(crate) fn rewrite(text: &str) -> String {
    let src = Source::new(text);
    let mut edits = newline_calls(&src);
    edits.extend(negated_call_arguments(&src));
    edits.extend(sprintf_calls(&src));
    edits.extend(walk_assignments(&src));
    if edits.is_empty() {
        text.to_string()
    } else {
        apply(text, edits)
    }
}

fn newline_calls(src: &Source<'_>) -> Vec<Edit> {
    let mut edits = Vec::new();
    let mut depth = 0i64;
    for (i, t) in src.tokens.iter().enumerate() {
        let s = src.str(t);
        let prev = i.checked_sub(1).and_then(|p| src.tokens.get(p));
        if let (true, Some(prev)) = (s == "(" && depth == 0, prev) {
            let name_like = (prev.kind == Kind::Ident && !KEYWORDS.contains(&src.str(prev)))
                || src.str(prev) == "]";
            if name_like && prev.line < t.line {
                edits.push(Edit {
                    start: prev.end,
                    end: prev.end,
                    with: ";".to_string(),
                });
            }
        }
        match s {
            "(" | "[" => depth += 1,
            ")" | "]" => depth -= 1,
            _ => {}
        }
    }
    edits
}

fn sprintf_calls(src: &Source<'_>) -> Vec<Edit> {
    let mut edits = Vec::new();
    for (i, t) in src.tokens.iter().enumerate() {
        let is_call = src.str(t) == "sprintf"
            && src
                .tokens
                .get(i + 1)
                .is_some_and(|p| src.str(p) == "(" && p.start == t.end)
            && !(i > 0 && src.is(i - 1, "."));
        if is_call {
            edits.push(Edit {
                start: t.start,
                end: t.end,
                with: SPRINTF.to_string(),
            });
        }
    }
    edits
}

/// `[path, value] := walk(x)` (or `=`): regorus yields nothing for the
/// assignment form of this relation, while OPA iterates it like the
/// output-argument form `walk(x, [path, value])`, which regorus supports.
fn walk_assignments(src: &Source<'_>) -> Vec<Edit> {
    let mut edits = Vec::new();
    for (i, t) in src.tokens.iter().enumerate() {
        if src.str(t) != "walk" || !(i > 1 && (src.is(i - 1, ":=") || src.is(i - 1, "="))) {
            continue;
        }
        let open = i + 1;
        let adjacent = src
            .tokens
            .get(open)
            .is_some_and(|p| src.str(p) == "(" && p.start == t.end);
        let Some(close) = adjacent.then(|| src.closing(open)).flatten() else {
            continue;
        };
        // The call must end the expression, on the same line.
        let ends = match src.tokens.get(close + 1) {
            None => true,
            Some(next) => next.line > t.line || matches!(src.str(next), ";" | "}"),
        };
        let one_line = src.tokens.get(close).is_some_and(|c| c.line == t.line);
        if !ends || !one_line || split_commas(src, open + 1, close).len() != 1 {
            continue;
        }
        // The target: a variable or an array pattern starting the expression.
        let op = i - 1;
        let lhs_start = match src.tokens.get(op - 1).map(|l| src.str(l)) {
            Some("]") => match src.opening(op - 1) {
                Some(o) => o,
                None => continue,
            },
            Some(_)
                if src
                    .tokens
                    .get(op - 1)
                    .is_some_and(|l| l.kind == Kind::Ident) =>
            {
                op - 1
            }
            _ => continue,
        };
        let starts = lhs_start == 0
            || src.tokens.get(lhs_start - 1).is_some_and(|p| {
                src.tokens.get(lhs_start).is_some_and(|l| p.line < l.line)
                    || matches!(src.str(p), "{" | ";" | "|")
            });
        if !starts {
            continue;
        }
        let (Some(l0), Some(l1), Some(a0), Some(a1)) = (
            src.tokens.get(lhs_start),
            src.tokens.get(op - 1),
            src.tokens.get(open + 1),
            src.tokens.get(close - 1),
        ) else {
            continue;
        };
        let (Some(lhs), Some(arg)) = (
            src.text.get(l0.start..l1.end),
            src.text.get(a0.start..a1.end),
        ) else {
            continue;
        };
        let Some(end) = src.tokens.get(close).map(|c| c.end) else {
            continue;
        };
        edits.push(Edit {
            start: l0.start,
            end,
            with: format!("walk({arg}, {lhs})"),
        });
    }
    edits
}

/// Is `tokens[from..to]` a reference with at least one selector
/// (`a.b`, `a[0]`, `a.b["c"]`) or a call, and free of `_`?
fn hoistable(src: &Source<'_>, from: usize, to: usize) -> bool {
    let Some(first) = src.tokens.get(from) else {
        return false;
    };
    if first.kind != Kind::Ident || KEYWORDS.contains(&src.str(first)) || to <= from + 1 {
        return false;
    }
    let mut i = from + 1;
    let mut selectors = 0;
    while i < to {
        match src.tokens.get(i).map(|t| src.str(t)) {
            Some(".") if src.tokens.get(i + 1).is_some_and(|t| t.kind == Kind::Ident) => {
                i += 2;
            }
            Some("[" | "(") => match src.closing(i) {
                Some(close) if close < to => i = close + 1,
                _ => return false,
            },
            _ => return false,
        }
        selectors += 1;
    }
    let wildcard = (from..to).any(|k| src.is(k, "_"));
    selectors > 0 && !wildcard
}

/// Relational operators; at most one appears at the top of an expression.
/// `in` is membership, compiled to a call like `!=` or `<`.
const RELATIONAL: &[&str] = &["==", "!=", "<", "<=", ">", ">=", "=", "in"];

/// Arithmetic and set operators: an operand using them is a call.
const ARITHMETIC: &[&str] = &["+", "-", "*", "/", "%", "&", "|"];

/// Indexes of tokens in `tokens[from..to]`, outside any brackets, whose
/// text satisfies `wanted`.
fn top_level(
    src: &Source<'_>,
    from: usize,
    to: usize,
    wanted: impl Fn(&str) -> bool,
) -> Vec<usize> {
    let mut found = Vec::new();
    let mut j = from;
    while j < to {
        let s = src.tokens.get(j).map_or("", |t| src.str(t));
        match s {
            "(" | "[" | "{" => {
                j = src.closing(j).map_or(to, |c| c + 1);
                continue;
            }
            _ if wanted(s) => found.push(j),
            _ => {}
        }
        j += 1;
    }
    found
}

/// Splits `tokens[from..to]` at top-level commas (call arguments).
fn split_commas(src: &Source<'_>, from: usize, to: usize) -> Vec<(usize, usize)> {
    let mut parts = Vec::new();
    let mut start = from;
    for comma in top_level(src, from, to, |s| s == ",") {
        parts.push((start, comma));
        start = comma + 1;
    }
    parts.push((start, to));
    parts.into_iter().filter(|(a, b)| a < b).collect()
}

/// Does the operand `tokens[from..to]` need a call to evaluate (a function
/// call or arithmetic)? OPA's compiler binds such operands to variables
/// before the expression, hence outside a negation.
fn is_call_term(src: &Source<'_>, from: usize, to: usize) -> bool {
    let wildcard = (from..to).any(|k| src.is(k, "_"));
    let negative_literal = to == from + 2
        && src.is(from, "-")
        && src
            .tokens
            .get(from + 1)
            .is_some_and(|t| t.kind == Kind::Number);
    let arithmetic =
        !negative_literal && !top_level(src, from, to, |s| ARITHMETIC.contains(&s)).is_empty();
    let call = hoistable(src, from, to) && (from..to).any(|k| src.is(k, "("));
    from < to && !wildcard && (arithmetic || call)
}

fn negated_call_arguments(src: &Source<'_>) -> Vec<Edit> {
    let mut edits = Vec::new();
    let mut counter = 0usize;
    for (i, t) in src.tokens.iter().enumerate() {
        if src.str(t) != "not" {
            continue;
        }
        // `not` must start an expression.
        let starts = i == 0
            || src
                .tokens
                .get(i - 1)
                .is_some_and(|p| p.line < t.line || matches!(src.str(p), "{" | ";" | "|"));
        if !starts {
            continue;
        }
        // The negated expression: up to the end of the line, a `;` or the
        // bracket closing its enclosing body, all on this line.
        let mut end = i + 1;
        let mut whole_line = true;
        while let Some(tok) = src.tokens.get(end) {
            if tok.line > t.line {
                break;
            }
            match src.str(tok) {
                ";" | "}" | "]" | ")" => break,
                "(" | "[" | "{" => match src.closing(end) {
                    Some(c) => end = c,
                    None => {
                        whole_line = false;
                        break;
                    }
                },
                "with" | "some" | "every" => {
                    whole_line = false;
                    break;
                }
                _ => {}
            }
            end += 1;
        }
        let on_line = src
            .tokens
            .get(end.saturating_sub(1))
            .is_some_and(|c| c.line == t.line);
        if !whole_line || !on_line || end <= i + 1 {
            continue;
        }
        if !top_level(src, i + 1, end, |s| s == ":=").is_empty() {
            continue;
        }
        let relational = top_level(src, i + 1, end, |s| RELATIONAL.contains(&s));
        let hoist: Vec<(usize, usize)> = match relational.as_slice() {
            [op] => {
                // `==` is compiled to unification (`=`), which keeps plain
                // references in place; other operators are calls whose
                // reference operands are bound first.
                let unify = src.is(*op, "==") || src.is(*op, "=");
                [(i + 1, *op), (*op + 1, end)]
                    .into_iter()
                    .filter(|&(a, b)| is_call_term(src, a, b) || (!unify && hoistable(src, a, b)))
                    .collect()
            }
            [] if top_level(src, i + 1, end, |s| ARITHMETIC.contains(&s)).is_empty() => {
                // A lone call: its arguments are what OPA evaluates first.
                let (from, to) = (i + 1, end);
                let mut k = from;
                while src.is(k + 1, ".")
                    && src.tokens.get(k + 2).is_some_and(|c| c.kind == Kind::Ident)
                {
                    k += 2;
                }
                let open = k + 1;
                let is_call = src.tokens.get(from).is_some_and(|c| c.kind == Kind::Ident)
                    && match (src.tokens.get(k), src.tokens.get(open)) {
                        (Some(name), Some(paren)) => {
                            src.str(paren) == "(" && paren.start == name.end
                        }
                        _ => false,
                    }
                    && src.closing(open) == Some(to - 1);
                if !is_call {
                    continue;
                }
                split_commas(src, open + 1, to - 1)
                    .into_iter()
                    .filter(|&(a, b)| hoistable(src, a, b))
                    .collect()
            }
            _ => continue,
        };
        let mut prefix = String::new();
        for (from, to) in hoist {
            let (Some(a), Some(b)) = (src.tokens.get(from), src.tokens.get(to - 1)) else {
                continue;
            };
            let name = format!("__manifold_arg{counter}");
            counter += 1;
            prefix.push_str(&format!(
                "{name} := {}; ",
                src.text.get(a.start..b.end).unwrap_or("")
            ));
            edits.push(Edit {
                start: a.start,
                end: b.end,
                with: name,
            });
        }
        if !prefix.is_empty() {
            edits.push(Edit {
                start: t.start,
                end: t.start,
                with: prefix,
            });
        }
    }
    edits
}

/// First token of the rule whose head ends right before token `end`:
/// walks back to a line break outside brackets or the end of the previous
/// rule.
fn statement_start(src: &Source<'_>, end: usize) -> Option<usize> {
    let mut head = end;
    let mut depth = 0usize;
    while head > 0 {
        let prev = src.tokens.get(head - 1)?;
        let s = src.str(prev);
        if depth == 0 {
            let line_break = src.tokens.get(head).is_some_and(|t| prev.line < t.line);
            if s == "}" || (head < end && line_break) {
                break;
            }
        }
        match s {
            "]" | ")" | "}" => depth += 1,
            "[" | "(" | "{" => depth = depth.checked_sub(1)?,
            _ => {}
        }
        head -= 1;
    }
    Some(head)
}

/// Tokens after which a `{` starts a value (object or set literal), not a
/// rule body.
const VALUE_CONTEXT: &[&str] = &[
    "=", ":=", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "&", "|", ",", "(", "[",
    ":", "in", "contains", "else", "default",
];

/// Rego v0 rules with several bodies (`head { a } { b }`): repeats the head
/// before every body after the first, which is what they mean in OPA.
/// regorus rejects them for partial set rules and treats further bodies of
/// other rules like `else` branches (a function's second body then yields
/// `true` instead of its value).
pub(crate) fn split_bodies(text: &str) -> String {
    let src = Source::new(text);
    let mut edits = Vec::new();
    let mut i = 0;
    while let Some(t) = src.tokens.get(i) {
        match src.str(t) {
            "(" | "[" => {
                i = src.closing(i).map_or(src.tokens.len(), |c| c + 1);
                continue;
            }
            "{" => {}
            _ => {
                i += 1;
                continue;
            }
        }
        // A chain of adjacent top-level brace groups.
        let mut groups = Vec::new();
        let mut at = i;
        while src.is(at, "{") {
            let Some(close) = src.closing(at) else { break };
            groups.push(at);
            at = close + 1;
        }
        if groups.is_empty() {
            break;
        }
        let value_first = i.checked_sub(1).is_some_and(|p| {
            src.tokens
                .get(p)
                .is_some_and(|p| VALUE_CONTEXT.contains(&src.str(p)))
        });
        let bodies = if value_first {
            groups.get(1..).unwrap_or(&[])
        } else {
            &groups[..]
        };
        if let (Some(&first), true) = (bodies.first(), bodies.len() > 1) {
            let head = statement_start(&src, i);
            let head_text = head
                .and_then(|h| src.tokens.get(h))
                .zip(src.tokens.get(first))
                .and_then(|(h, f)| text.get(h.start..f.start))
                .map(|h| h.split_whitespace().collect::<Vec<_>>().join(" "))
                .unwrap_or_default();
            if !head_text.is_empty() {
                for &body in bodies.iter().skip(1) {
                    if let Some(b) = src.tokens.get(body) {
                        edits.push(Edit {
                            start: b.start,
                            end: b.start,
                            with: format!("{head_text} "),
                        });
                    }
                }
            }
        }
        i = at;
    }
    if edits.is_empty() {
        text.to_string()
    } else {
        apply(text, edits)
    }
}

/// Repeats a rule's head before the extra body that starts at `line`/`column`
/// (1-based, where regorus reported "else cannot be used with set rules").
/// Returns `None` when the text there is not a `} {` body boundary.
pub(crate) fn split_body(text: &str, line: usize, column: usize) -> Option<String> {
    let src = Source::new(text);
    let line_start = if line <= 1 {
        0
    } else {
        text.match_indices('\n').nth(line - 2).map(|(i, _)| i + 1)?
    };
    let offset = line_start
        + text
            .get(line_start..)?
            .chars()
            .take(column.saturating_sub(1))
            .map(char::len_utf8)
            .sum::<usize>();
    let body = src
        .tokens
        .iter()
        .position(|t| t.start >= offset && src.str(t) == "{")?;
    // Walk back over the preceding bodies to the first one.
    let mut first_body = body;
    while first_body > 0 && src.is(first_body - 1, "}") {
        first_body = src.opening(first_body - 1)?;
    }
    if first_body == body {
        return None;
    }
    let head = statement_start(&src, first_body)?;
    let head_text = text
        .get(src.tokens.get(head)?.start..src.tokens.get(first_body)?.start)?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if head_text.is_empty() {
        return None;
    }
    let at = src.tokens.get(body)?.start;
    Some(apply(
        text,
        vec![Edit {
            start: at,
            end: at,
            with: format!("{head_text} "),
        }],
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn rewrites() {
        let cases = [
            // Newline before `(` ends the expression.
            (
                "p {\n  input.a\n  (input.b - 1) > 0\n}\n",
                "p {\n  input.a;\n  (input.b - 1) > 0\n}\n",
            ),
            // A real call, or `(` after an operator, stays.
            (
                "p {\n  f(\n    x)\n  y :=\n  (1)\n}\n",
                "p {\n  f(\n    x)\n  y :=\n  (1)\n}\n",
            ),
            // Refs and calls in a negated call's arguments are bound first.
            (
                "p {\n  not f(rule, params.ranges)\n}\n",
                "p {\n  __manifold_arg0 := params.ranges; not f(rule, __manifold_arg0)\n}\n",
            ),
            (
                "p { x := 1; not g(x, h(input.y)) }\n",
                "p { x := 1; __manifold_arg0 := h(input.y); not g(x, __manifold_arg0) }\n",
            ),
            // Plain variables, literals, wildcards and non-calls stay.
            (
                "p {\n  not f(x, \"a\", 1)\n}\n",
                "p {\n  not f(x, \"a\", 1)\n}\n",
            ),
            (
                "p {\n  not f(input.x[_])\n}\n",
                "p {\n  not f(input.x[_])\n}\n",
            ),
            ("p {\n  not input.x = 1\n}\n", "p {\n  not input.x = 1\n}\n"),
            ("p {\n  not input.x\n}\n", "p {\n  not input.x\n}\n"),
            (
                "p {\n  not f(x) with input as 1\n}\n",
                "p {\n  not f(x) with input as 1\n}\n",
            ),
            // Operands of operators (calls in OPA) are bound first too.
            // `==` becomes unification in OPA: plain references stay.
            (
                "p {\n  not input.x == 1\n}\n",
                "p {\n  not input.x == 1\n}\n",
            ),
            (
                "p {\n  not input.x != 1\n}\n",
                "p {\n  __manifold_arg0 := input.x; not __manifold_arg0 != 1\n}\n",
            ),
            (
                "p {\n  not input.x + 1 == input.y\n}\n",
                "p {\n  __manifold_arg0 := input.x + 1; not __manifold_arg0 == input.y\n}\n",
            ),
            (
                "p {\n  not f(input.x) == 1\n}\n",
                "p {\n  __manifold_arg0 := f(input.x); not __manifold_arg0 == 1\n}\n",
            ),
            (
                "p { not count(input.x) > -1; y }\n",
                "p { __manifold_arg0 := count(input.x); not __manifold_arg0 > -1; y }\n",
            ),
            (
                "p {\n  not \"a\" in input.list\n}\n",
                "p {\n  __manifold_arg0 := input.list; not \"a\" in __manifold_arg0\n}\n",
            ),
            // walk's assignment form becomes its output-argument form.
            (
                "p {\n  [path, value] := walk(input)\n  value == 1\n}\n",
                "p {\n  walk(input, [path, value])\n  value == 1\n}\n",
            ),
            (
                "p { x = walk(input.a); x[1] == 2 }\n",
                "p { walk(input.a, x); x[1] == 2 }\n",
            ),
            (
                "p { y := count(walk(input)) }\n",
                "p { y := count(walk(input)) }\n",
            ),
            // Strings and comments are not code.
            (
                "p {\n  x := \"not f(a.b)\" # not f(a.b)\n}\n",
                "p {\n  x := \"not f(a.b)\" # not f(a.b)\n}\n",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(rewrite(input), expected, "{input}");
            assert_eq!(
                rewrite(input).lines().count(),
                input.lines().count(),
                "{input}"
            );
        }
    }

    #[test]
    fn never_panics_and_keeps_lines_on_truncated_input() {
        let samples = [
            "package x\n\nviolation[{\"msg\": msg}] {\n  not f(input.a, \"s\\\"q\")\n  x := `raw\nstring`\n  msg := sprintf(\"%v\", [x]) # c\n} {\n  input.b\n  (1 + 2) > 0\n}\n",
            "package y\nimport rego.v1\ndeny contains m if { not count(input.x) > 0; m := \"é∂\" }\n",
        ];
        for sample in samples {
            for (end, _) in sample.char_indices() {
                let prefix = &sample[..end];
                let out = rewrite(prefix);
                assert_eq!(out.lines().count(), prefix.lines().count(), "{prefix:?}");
                for line in 1..6 {
                    for column in 1..12 {
                        let _ = split_body(prefix, line, column);
                    }
                }
            }
        }
    }

    #[test]
    fn splits_every_multi_body_rule() {
        let cases = [
            (
                "package x\np { false } { true }\n",
                "package x\np { false } p { true }\n",
            ),
            (
                "package x\nf(x) = y { x == 1; y := \"one\" } {\n  x == 2; y := \"two\"\n}\n",
                "package x\nf(x) = y { x == 1; y := \"one\" } f(x) = y {\n  x == 2; y := \"two\"\n}\n",
            ),
            (
                "package x\nv[{\"msg\": m}] {\n  m := 1\n} {\n  m := 2\n}\n",
                "package x\nv[{\"msg\": m}] {\n  m := 1\n} v[{\"msg\": m}] {\n  m := 2\n}\n",
            ),
            // A set or object literal value is not a body.
            (
                "package x\np = {\"a\"} { true } { false }\n",
                "package x\np = {\"a\"} { true } p = {\"a\"} { false }\n",
            ),
            (
                "package x\np := {\"a\": 1}\nq = {1} { true }\n",
                "package x\np := {\"a\": 1}\nq = {1} { true }\n",
            ),
            // else chains and single bodies stay.
            (
                "package x\np = 1 { false } else = 2 { true }\n",
                "package x\np = 1 { false } else = 2 { true }\n",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(split_bodies(input), expected, "{input}");
        }
    }

    #[test]
    fn split_body_at_error_position() {
        let cases = [
            (
                "package x\n\nv[{\"msg\": m}] {\n  m := 1\n} {\n  m := 2\n}\n",
                (5, 3),
                Some(
                    "package x\n\nv[{\"msg\": m}] {\n  m := 1\n} v[{\"msg\": m}] {\n  m := 2\n}\n",
                ),
            ),
            (
                "package x\np := 1\nv[m] { m := 1 } { m := 2 }\n",
                (3, 17),
                Some("package x\np := 1\nv[m] { m := 1 } v[m] { m := 2 }\n"),
            ),
            ("package x\nv[m] { m := 1 }\n", (2, 6), None),
        ];
        for (input, (line, col), expected) in cases {
            assert_eq!(split_body(input, line, col).as_deref(), expected, "{input}");
        }
    }
}
