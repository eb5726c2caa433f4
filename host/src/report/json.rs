//! The JSON report, `{"version": 1, "diagnostics": [...], "summary": {...}}`:
//! a contract for CI users, so fields are only ever added.

use super::Report;

impl Report {
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        text.push('\n');
        text
    }
}

// In tests a panic is a failing test, which is what unwrapping means there.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::fixture;

    #[test]
    fn version_1_shape() {
        let json: serde_json::Value = serde_json::from_str(&fixture::report().to_json()).unwrap();
        let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["version", "diagnostics", "summary"]);
        assert_eq!(json["version"], 1);
        let d = &json["diagnostics"][4];
        let keys: Vec<&String> = d.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "severity", "rule", "plugin", "message", "file", "document", "line", "column",
                "path", "resource"
            ]
        );
        assert_eq!(
            json["summary"],
            serde_json::json!({"files": 3, "documents": 3, "errors": 3, "warnings": 1})
        );
    }
}
