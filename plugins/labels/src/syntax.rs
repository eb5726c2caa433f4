//! Kubernetes' syntax for label and annotation keys and values
//! (apimachinery's `IsQualifiedName` and `IsValidLabelValue`).

/// Why a key is not a qualified name, or `None` when it is one.
pub fn key_error(key: &str) -> Option<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            return Some("prefix part must be non-empty".into());
        }
        if prefix.len() > 253 {
            return Some("prefix part must be no more than 253 characters".into());
        }
        if !is_dns_subdomain(prefix) {
            return Some(format!(
                "prefix part {prefix:?} must be a DNS subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
            ));
        }
    }
    if name.is_empty() {
        return Some("name part must be non-empty".into());
    }
    if name.len() > 63 {
        return Some("name part must be no more than 63 characters".into());
    }
    if !is_name(name) {
        return Some(format!(
            "name part {name:?} must consist of letters, digits, '-', '_' or '.', and must start and end with a letter or digit"
        ));
    }
    None
}

/// Why a string is not a valid label value, or `None` when it is one.
pub fn value_error(value: &str) -> Option<String> {
    if value.len() > 63 {
        return Some("must be no more than 63 characters".into());
    }
    if !value.is_empty() && !is_name(value) {
        return Some(
            "must be empty or consist of letters, digits, '-', '_' or '.', and must start and end with a letter or digit"
                .into(),
        );
    }
    None
}

fn is_name(s: &str) -> bool {
    let bytes = s.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

fn is_dns_subdomain(s: &str) -> bool {
    s.split('.').all(|label| {
        let bytes = label.as_bytes();
        match (bytes.first(), bytes.last()) {
            (Some(first), Some(last)) => {
                is_lower_alnum(*first)
                    && is_lower_alnum(*last)
                    && bytes.iter().all(|b| is_lower_alnum(*b) || *b == b'-')
            }
            _ => false,
        }
    })
}

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        let valid = [
            "app",
            "app.kubernetes.io/name",
            "a",
            "A_b-c.d",
            "example.com/x",
            "x.y/Z9",
        ];
        for key in valid {
            assert_eq!(key_error(key), None, "{key}");
        }
        let invalid = [
            ("", "name part must be non-empty"),
            ("/app", "prefix part must be non-empty"),
            ("Example.com/app", "DNS subdomain"),
            ("example.com/", "name part must be non-empty"),
            ("-app", "must start and end"),
            ("app_", "must start and end"),
            ("a b", "must consist"),
            ("a/b/c", "must consist"),
        ];
        for (key, want) in invalid {
            let got = key_error(key).unwrap_or_default();
            assert!(got.contains(want), "{key:?}: {got:?} lacks {want:?}");
        }
        assert!(key_error(&"a".repeat(64)).is_some());
        assert!(key_error(&format!("{}/a", "a".repeat(254))).is_some());
    }

    #[test]
    fn values() {
        for value in ["", "prod", "v1.2.3", "a_b-c"] {
            assert_eq!(value_error(value), None, "{value}");
        }
        for value in ["-prod", "prod.", "a b", "é", &"a".repeat(64)] {
            assert!(value_error(value).is_some(), "{value}");
        }
    }
}
