//! The regular expressions kustomize matches with: selector fields, anchored
//! whole, and `images` names. Nearly all of them are plain names, and
//! compiling a regex costs more inside the plugin than the rest of a small
//! build, so plain ones are matched by hand with the regex's exact meaning;
//! the others still go to the regex crate.

use regex::Regex;

/// Characters with a meaning in the regex crate's syntax outside a class
/// (`-`, `&`, `~` and `#` only have one inside a class or in verbose mode).
fn is_meta(c: char) -> bool {
    matches!(
        c,
        '\\' | '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$'
    )
}

/// `^(?:p)$` for a selector field.
#[derive(Debug)]
pub enum Anchored {
    Text(String),
    Regex(Regex),
}

impl Anchored {
    /// `None` for an empty pattern, which selects everything.
    pub fn new(p: &str) -> Result<Option<Anchored>, String> {
        if p.is_empty() {
            return Ok(None);
        }
        if !p.chars().any(is_meta) {
            return Ok(Some(Anchored::Text(p.to_string())));
        }
        Regex::new(&format!("^(?:{p})$"))
            .map(|re| Some(Anchored::Regex(re)))
            .map_err(|e| format!("invalid selector regex '{p}': {e}"))
    }

    pub fn is_match(&self, s: &str) -> bool {
        match self {
            Anchored::Text(t) => t == s,
            Anchored::Regex(re) => re.is_match(s),
        }
    }
}

/// Whether `field`'s pattern (`None`: empty) accepts `value`.
pub fn accepts(field: &Option<Anchored>, value: &str) -> bool {
    field.as_ref().is_none_or(|p| p.is_match(value))
}

/// kustomize's test for "`image` is the `images` entry `name`": the name as a
/// regex, then an optional tag and an optional digest, to the end.
#[derive(Debug)]
pub enum ImageName {
    /// No regex syntax but `.` (any character but a newline), which image
    /// names are full of.
    Plain(Vec<char>),
    Regex(Regex),
    /// kustomize ignores an entry whose name is not a valid regex.
    Invalid,
}

/// Longer names go to the regex crate, so that its size limit still refuses
/// them as it would.
const MAX_PLAIN: usize = 1024;

impl ImageName {
    pub fn new(name: &str) -> ImageName {
        if name.len() <= MAX_PLAIN && !name.chars().any(|c| c != '.' && is_meta(c)) {
            return ImageName::Plain(name.chars().collect());
        }
        let pattern = format!(
            "^{name}(:[a-zA-Z0-9_.{{}}-]*)?(@[a-zA-Z0-9]+([.+_-][a-zA-Z0-9]+)*:[a-zA-Z0-9_.{{}}-]*)?$"
        );
        Regex::new(&pattern).map_or(ImageName::Invalid, ImageName::Regex)
    }

    pub fn is_match(&self, image: &str) -> bool {
        match self {
            ImageName::Plain(name) => {
                let mut rest = image.chars();
                let named = name.iter().all(|&n| match rest.next() {
                    Some(c) if n == '.' => c != '\n',
                    Some(c) => c == n,
                    None => false,
                });
                named && tag_and_digest(rest.as_str())
            }
            ImageName::Regex(re) => re.is_match(image),
            ImageName::Invalid => false,
        }
    }
}

/// `(:[a-zA-Z0-9_.{}-]*)?(@[a-zA-Z0-9]+([.+_-][a-zA-Z0-9]+)*:[a-zA-Z0-9_.{}-]*)?$`.
/// No character a part may hold can also start the next part, so taking the
/// longest run at each step decides the match.
fn tag_and_digest(s: &str) -> bool {
    fn tag_char(b: u8) -> bool {
        b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'{' | b'}' | b'-')
    }
    fn alnum_run(s: &[u8]) -> usize {
        s.iter().take_while(|b| b.is_ascii_alphanumeric()).count()
    }
    let mut s = s.as_bytes();
    if let [b':', rest @ ..] = s {
        s = &rest[rest.iter().take_while(|&&b| tag_char(b)).count()..];
    }
    let [b'@', rest @ ..] = s else {
        return s.is_empty();
    };
    s = rest;
    loop {
        let run = alnum_run(s);
        if run == 0 {
            return false;
        }
        s = &s[run..];
        match s {
            [b'.' | b'+' | b'_' | b'-', rest @ ..] => s = rest,
            [b':', rest @ ..] => return rest.iter().all(|&b| tag_char(b)),
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand matchers against the regexes they stand for.
    #[test]
    fn plain_patterns_match_as_their_regexes_do() {
        let names = [
            "nginx",
            "registry.example.com/app",
            "my.app",
            "localhost:5000/x",
            "a-b_c",
            "ünï",
            "",
        ];
        let images = [
            "nginx",
            "nginx:1.2",
            "nginx:",
            "nginx:1.2@sha256:abc",
            "nginx@sha256:abc",
            "nginx@sha256:",
            "nginx@sha256",
            "nginx@sha256:abc:def",
            "nginx@sha.256+x_y-z:abc{1}",
            "nginx@sha..256:abc",
            "nginx@:abc",
            "nginx:1.2:3",
            "nginx:1/2",
            "nginxx",
            "ngin",
            "registry.example.com/app:v1",
            "registryXexampleYcom/app:v1",
            "registry\nexample.com/app",
            "myXapp",
            "my\napp",
            "localhost:5000/x:1",
            "a-b_c@d:e",
            "ünï:1",
            "ünï",
            ":tag",
            "@a:b",
            "",
        ];
        for name in names {
            let re = Regex::new(&format!(
                "^{name}(:[a-zA-Z0-9_.{{}}-]*)?(@[a-zA-Z0-9]+([.+_-][a-zA-Z0-9]+)*:[a-zA-Z0-9_.{{}}-]*)?$"
            ))
            .unwrap();
            let plain = ImageName::new(name);
            assert!(matches!(plain, ImageName::Plain(_)), "{name}");
            for image in images {
                assert_eq!(
                    plain.is_match(image),
                    re.is_match(image),
                    "name {name:?}, image {image:?}"
                );
            }
        }
    }

    #[test]
    fn selectors_match_as_anchored_regexes_do() {
        let patterns = ["Deployment", "app-1", "a.b", "web|api", "ap+", "a#b~c&d-e"];
        let values = [
            "Deployment",
            "deployment",
            "app-1",
            "app-12",
            "a.b",
            "axb",
            "web",
            "app",
            "a#b~c&d-e",
        ];
        for p in patterns {
            let re = Regex::new(&format!("^(?:{p})$")).unwrap();
            let ours = Anchored::new(p).unwrap().unwrap();
            for v in values {
                assert_eq!(
                    ours.is_match(v),
                    re.is_match(v),
                    "pattern {p:?}, value {v:?}"
                );
            }
        }
        assert!(matches!(
            Anchored::new("Deployment"),
            Ok(Some(Anchored::Text(_)))
        ));
        assert!(Anchored::new("").unwrap().is_none());
        assert!(Anchored::new("(").is_err());
    }

    #[test]
    fn image_names_with_regex_syntax_still_use_it() {
        assert!(ImageName::new("ngin[x]").is_match("nginx:1"));
        assert!(!ImageName::new("ngin(").is_match("ngin("));
    }
}
