//! `.helmignore` rules and Go's `filepath.Match`, which Helm uses both for
//! ignore patterns and for `--show-only` paths.

/// One parsed `.helmignore` line.
#[derive(Debug, Clone)]
struct Rule {
    pattern: String,
    negate: bool,
    must_dir: bool,
    kind: RuleKind,
}

#[derive(Debug, Clone, Copy)]
enum RuleKind {
    /// Leading `/`: matched against the whole path from the chart root.
    Rooted,
    /// Contains `/`: matched against the whole relative path.
    Path,
    /// No `/`: matched against the last path element.
    Base,
}

/// A `.helmignore` rule set.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<Rule>,
}

impl Rules {
    /// Parses `.helmignore` text. Errors carry the 1-based line.
    pub fn parse(text: &str) -> Result<Rules, (usize, String)> {
        let mut r = Rules::default();
        for (i, line) in text.lines().enumerate() {
            r.add(line).map_err(|e| (i + 1, e))?;
        }
        Ok(r)
    }

    /// Helm always ignores hidden files under `templates/`.
    pub fn add_defaults(&mut self) {
        // The default rule is well-formed; a failure here cannot happen.
        let _ = self.add("templates/.?*");
    }

    fn add(&mut self, line: &str) -> Result<(), String> {
        let mut p = line.trim();
        if p.is_empty() || p.starts_with('#') {
            return Ok(());
        }
        if p.contains("**") {
            return Err("double-star (**) syntax is not supported".into());
        }
        // Validate now so a broken class fails at load time as in Go.
        if go_match(p, "").is_err() {
            return Err(format!("syntax error in pattern {p:?}"));
        }
        let mut negate = false;
        if let Some(rest) = p.strip_prefix('!') {
            if rest.is_empty() {
                return Ok(());
            }
            negate = true;
            p = rest;
        }
        let mut must_dir = false;
        if let Some(rest) = p.strip_suffix('/') {
            must_dir = true;
            p = rest;
        }
        let (kind, pattern) = if let Some(rest) = p.strip_prefix('/') {
            (RuleKind::Rooted, rest.to_string())
        } else if p.contains('/') {
            (RuleKind::Path, p.to_string())
        } else {
            (RuleKind::Base, p.to_string())
        };
        self.rules.push(Rule {
            pattern,
            negate,
            must_dir,
            kind,
        });
        Ok(())
    }

    /// Whether `path` (relative to the chart root) is ignored. Negated rules
    /// follow Helm's own semantics: a path a `!rule` does not match is
    /// ignored.
    pub fn ignore(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        for r in &self.rules {
            if r.negate {
                if r.must_dir && !is_dir {
                    return true;
                }
                if !r.matches(path) {
                    return true;
                }
                continue;
            }
            if r.must_dir && !is_dir {
                continue;
            }
            if r.matches(path) {
                return true;
            }
        }
        false
    }
}

impl Rule {
    fn matches(&self, path: &str) -> bool {
        let target = match self.kind {
            RuleKind::Rooted | RuleKind::Path => path,
            RuleKind::Base => path.rsplit('/').next().unwrap_or(path),
        };
        go_match(&self.pattern, target).unwrap_or(false)
    }
}

/// A malformed glob (`ErrBadPattern` in Go).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPattern;

/// Go's `path/filepath.Match` with `/` as separator: `*` and `?` never
/// cross a `/`, `[...]` classes with ranges and `^` negation, `\` escapes.
/// A malformed pattern is an error.
pub fn go_match(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = name.chars().collect();
    let ok = match_from(&p, &s)?;
    if !ok {
        // Go reports a bad pattern even when the match already failed.
        validate(&p)?;
    }
    Ok(ok)
}

fn validate(p: &[char]) -> Result<(), BadPattern> {
    let mut i = 0;
    while i < p.len() {
        match p.get(i) {
            Some('\\') => {
                if i + 1 >= p.len() {
                    return Err(BadPattern);
                }
                i += 2;
            }
            Some('[') => {
                let (_, end) = class(p, i, None)?;
                i = end;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Parses a class at `p[start] == '['`; returns whether `c` is in it and
/// the index after `]`.
fn class(p: &[char], start: usize, c: Option<char>) -> Result<(bool, usize), BadPattern> {
    let mut i = start + 1;
    let mut negated = false;
    if p.get(i) == Some(&'^') {
        negated = true;
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    loop {
        let ch = *p.get(i).ok_or(BadPattern)?;
        if ch == ']' && !first {
            i += 1;
            break;
        }
        first = false;
        let (lo, next) = class_char(p, i)?;
        i = next;
        let mut hi = lo;
        if p.get(i) == Some(&'-') {
            let (h, next) = class_char(p, i + 1)?;
            hi = h;
            i = next;
        }
        if let Some(c) = c
            && lo <= c
            && c <= hi
        {
            hit = true;
        }
    }
    Ok((hit != negated, i))
}

fn class_char(p: &[char], i: usize) -> Result<(char, usize), BadPattern> {
    match p.get(i) {
        None | Some('-') | Some(']') => Err(BadPattern),
        Some('\\') => p.get(i + 1).map(|c| (*c, i + 2)).ok_or(BadPattern),
        Some(c) => Ok((*c, i + 1)),
    }
}

fn match_from(p: &[char], s: &[char]) -> Result<bool, BadPattern> {
    let Some(&pc) = p.first() else {
        return Ok(s.is_empty());
    };
    match pc {
        '*' => {
            let rest = p.get(1..).unwrap_or(&[]);
            let mut i = 0;
            loop {
                if match_from(rest, s.get(i..).unwrap_or(&[]))? {
                    return Ok(true);
                }
                match s.get(i) {
                    None | Some('/') => return Ok(false),
                    _ => i += 1,
                }
            }
        }
        '?' => match s.first() {
            Some(c) if *c != '/' => {
                match_from(p.get(1..).unwrap_or(&[]), s.get(1..).unwrap_or(&[]))
            }
            _ => Ok(false),
        },
        '[' => {
            let Some(&c) = s.first() else {
                return Ok(false);
            };
            let (hit, end) = class(p, 0, Some(c))?;
            if !hit || c == '/' {
                return Ok(false);
            }
            match_from(p.get(end..).unwrap_or(&[]), s.get(1..).unwrap_or(&[]))
        }
        '\\' => {
            let lit = *p.get(1).ok_or(BadPattern)?;
            if s.first() != Some(&lit) {
                return Ok(false);
            }
            match_from(p.get(2..).unwrap_or(&[]), s.get(1..).unwrap_or(&[]))
        }
        c => {
            if s.first() != Some(&c) {
                return Ok(false);
            }
            match_from(p.get(1..).unwrap_or(&[]), s.get(1..).unwrap_or(&[]))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn go_match_table() {
        let rows: &[(&str, &str, Result<bool, BadPattern>)] = &[
            ("abc", "abc", Ok(true)),
            ("*", "abc", Ok(true)),
            ("*c", "abc", Ok(true)),
            ("a*", "a/b", Ok(false)),
            ("a*/b", "abc/b", Ok(true)),
            ("a?c", "abc", Ok(true)),
            ("a[b-d]c", "acc", Ok(true)),
            ("a[^b]c", "abc", Ok(false)),
            ("a\\*b", "a*b", Ok(true)),
            (
                "templates/subdir/role*",
                "templates/subdir/rolebinding.yaml",
                Ok(true),
            ),
            ("[", "a", Err(BadPattern)),
            ("a[", "b", Err(BadPattern)),
        ];
        for (p, s, want) in rows {
            assert_eq!(go_match(p, s), *want, "{p} ~ {s}");
        }
    }

    #[test]
    fn helmignore_table() {
        let rules = Rules::parse("# c\n*.txt\n/top.md\nsub/x.yaml\nbuild/\n").unwrap();
        let rows = [
            ("a.txt", false, true),
            ("dir/b.txt", false, true),
            ("top.md", false, true),
            ("dir/top.md", false, false),
            ("sub/x.yaml", false, true),
            ("build", true, true),
            ("build", false, false),
            ("values.yaml", false, false),
        ];
        for (path, dir, want) in rows {
            assert_eq!(rules.ignore(path, dir), want, "{path}");
        }
        assert!(Rules::parse("a/**/b").is_err());
    }
}
