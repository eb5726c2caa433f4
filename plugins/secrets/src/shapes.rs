//! Recognising credential-shaped strings. Hand-written scanners rather than
//! regexes: the shapes are simple, and a fresh plugin instance then pays no
//! regex compilation.

/// A kind of credential a string can look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Shape {
    /// `-----BEGIN ... PRIVATE KEY-----`.
    PemPrivateKey,
    /// `AKIA` / `ASIA` followed by 16 upper-case letters or digits.
    AwsAccessKeyId,
    /// `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` or `github_pat_` tokens.
    GitHubToken,
    /// `xoxb-`, `xoxp-`, `xoxa-`, `xoxo-`, `xoxr-`, `xoxs-` tokens.
    SlackToken,
}

impl Shape {
    /// Words for a message.
    pub fn description(self) -> &'static str {
        match self {
            Shape::PemPrivateKey => "a PEM private key",
            Shape::AwsAccessKeyId => "an AWS access key id",
            Shape::GitHubToken => "a GitHub token",
            Shape::SlackToken => "a Slack token",
        }
    }
}

/// The first credential shape found in `text`, if any.
pub fn find_shape(text: &str) -> Option<Shape> {
    if has_pem_private_key(text) {
        return Some(Shape::PemPrivateKey);
    }
    if has_aws_key(text) {
        return Some(Shape::AwsAccessKeyId);
    }
    if has_github_token(text) {
        return Some(Shape::GitHubToken);
    }
    if has_slack_token(text) {
        return Some(Shape::SlackToken);
    }
    None
}

fn has_pem_private_key(text: &str) -> bool {
    let mut rest = text;
    while let Some(at) = rest.find("-----BEGIN ") {
        let after = rest.split_at(at + "-----BEGIN ".len()).1;
        let Some(end) = after.find("-----") else {
            return false;
        };
        let label = after.split_at(end).0;
        if label.ends_with("PRIVATE KEY") || label.ends_with("PRIVATE KEY BLOCK") {
            return true;
        }
        rest = after;
    }
    false
}

/// Whether the byte before `at` (if any) ends a word, so `xAKIA...` or
/// `fooghp_...` are not matched.
fn starts_word(bytes: &[u8], at: usize) -> bool {
    at == 0
        || bytes
            .get(at - 1)
            .is_none_or(|b| !b.is_ascii_alphanumeric() && *b != b'_')
}

/// Positions where `needle` occurs in `text`.
fn occurrences<'a>(text: &'a str, needle: &'a str) -> impl Iterator<Item = usize> + 'a {
    text.match_indices(needle).map(|(i, _)| i)
}

/// Length of the run of bytes from `from` that satisfy `ok`.
fn run(bytes: &[u8], from: usize, ok: impl Fn(u8) -> bool) -> usize {
    bytes
        .get(from..)
        .map_or(0, |tail| tail.iter().take_while(|b| ok(**b)).count())
}

fn has_aws_key(text: &str) -> bool {
    let bytes = text.as_bytes();
    ["AKIA", "ASIA"].iter().any(|prefix| {
        occurrences(text, prefix).any(|at| {
            let body = at + prefix.len();
            let n = run(bytes, body, |b| {
                b.is_ascii_uppercase() || b.is_ascii_digit()
            });
            starts_word(bytes, at)
                && n == 16
                && bytes
                    .get(body + n)
                    .is_none_or(|b| !b.is_ascii_alphanumeric())
        })
    })
}

fn has_github_token(text: &str) -> bool {
    let bytes = text.as_bytes();
    let classic = ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]
        .iter()
        .any(|prefix| {
            occurrences(text, prefix).any(|at| {
                starts_word(bytes, at)
                    && run(bytes, at + prefix.len(), |b| b.is_ascii_alphanumeric()) >= 36
            })
        });
    classic
        || occurrences(text, "github_pat_").any(|at| {
            starts_word(bytes, at)
                && run(bytes, at + "github_pat_".len(), |b| {
                    b.is_ascii_alphanumeric() || b == b'_'
                }) >= 22
        })
}

fn has_slack_token(text: &str) -> bool {
    let bytes = text.as_bytes();
    occurrences(text, "xox").any(|at| {
        let kind = bytes.get(at + 3).copied();
        starts_word(bytes, at)
            && matches!(kind, Some(b'a' | b'b' | b'o' | b'p' | b'r' | b's'))
            && bytes.get(at + 4) == Some(&b'-')
            && run(bytes, at + 5, |b| b.is_ascii_alphanumeric() || b == b'-') >= 10
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_table() {
        let github = format!("ghp_{}", "a1B2".repeat(9));
        let cases: Vec<(String, Option<Shape>)> = vec![
            (
                "-----BEGIN RSA PRIVATE KEY-----\nMIIE...".into(),
                Some(Shape::PemPrivateKey),
            ),
            (
                "-----BEGIN OPENSSH PRIVATE KEY-----".into(),
                Some(Shape::PemPrivateKey),
            ),
            (
                "-----BEGIN PRIVATE KEY-----".into(),
                Some(Shape::PemPrivateKey),
            ),
            (
                "-----BEGIN PGP PRIVATE KEY BLOCK-----".into(),
                Some(Shape::PemPrivateKey),
            ),
            ("-----BEGIN CERTIFICATE-----\nMIIB".into(), None),
            ("-----BEGIN PUBLIC KEY-----".into(), None),
            ("AKIAIOSFODNN7EXAMPLE".into(), Some(Shape::AwsAccessKeyId)),
            (
                "key=ASIAIOSFODNN7EXAMPLE;".into(),
                Some(Shape::AwsAccessKeyId),
            ),
            ("AKIAIOSFODNN7EXAMPLEX".into(), None),
            ("AKIAshort".into(), None),
            ("XAKIAIOSFODNN7EXAMPLE".into(), None),
            (github.clone(), Some(Shape::GitHubToken)),
            (format!("token {github}"), Some(Shape::GitHubToken)),
            ("ghp_tooShort123".into(), None),
            (format!("x{github}"), None),
            (
                format!("github_pat_{}", "A1_".repeat(10)),
                Some(Shape::GitHubToken),
            ),
            (
                "xoxb-123456789012-abcdefABCDEF".into(),
                Some(Shape::SlackToken),
            ),
            ("xoxp-12-34".into(), None),
            ("xoxz-123456789012-abcdef".into(), None),
            ("just a value".into(), None),
            ("".into(), None),
            ("ünïcödé AKIA ghp_ xox".into(), None),
        ];
        for (text, expected) in cases {
            assert_eq!(find_shape(&text), expected, "{text:?}");
        }
    }
}
