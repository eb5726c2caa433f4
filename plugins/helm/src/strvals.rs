//! Helm's `--set` grammar (`pkg/strvals`): `a.b=c,d[0]=e,f={x,y}`, with
//! `\` escaping any character, and the value readers of `--set`
//! (typed), `--set-string`, `--set-json`, `--set-file` and `--set-literal`.

use serde_json::{Map, Number, Value as J};

/// Deepest `a.b.c...` nesting accepted (Helm's `MaxNestedNameLevel`).
const MAX_NESTED: usize = 30;
/// Largest list index accepted (Helm's `MaxIndex`).
const MAX_INDEX: i64 = 65536;

/// How a value's text becomes a value.
pub enum Reader<'a> {
    /// `--set`: `true`/`false`/`null`, integers without a leading zero.
    Typed,
    /// `--set-string`: always a string.
    Str,
    /// `--set-json`: one JSON value.
    Json,
    /// `--set-file`: the text names a file whose content is the value.
    File(&'a dyn Fn(&str) -> Result<J, String>),
}

enum E {
    Eof,
    NotList,
    Msg(String),
}

impl From<String> for E {
    fn from(s: String) -> E {
        E::Msg(s)
    }
}

struct Parser<'a> {
    s: Vec<char>,
    i: usize,
    reader: Reader<'a>,
}

/// Parses one `--set`-style argument into `data`.
pub fn parse_into(text: &str, data: &mut Map<String, J>, reader: Reader<'_>) -> Result<(), String> {
    let mut p = Parser {
        s: text.chars().collect(),
        i: 0,
        reader,
    };
    loop {
        match p.key(data, 0) {
            Ok(()) => {}
            Err(E::Eof) => return Ok(()),
            Err(E::NotList) => return Err("parse error: not a list".into()),
            Err(E::Msg(m)) => return Err(m),
        }
    }
}

/// `--set-literal`: the path up to the first `=`, then the rest verbatim.
pub fn parse_literal_into(text: &str, data: &mut Map<String, J>) -> Result<(), String> {
    let Some((key, value)) = text.split_once('=') else {
        return Err(format!("key {text:?} has no value"));
    };
    let mut path: Vec<String> = key.split('.').map(str::to_string).collect();
    let Some(last) = path.pop() else {
        return Err(format!("key {text:?} has no value"));
    };
    if path.len() > MAX_NESTED {
        return Err(format!(
            "value name nested level is greater than maximum supported nested level of {MAX_NESTED}"
        ));
    }
    let mut cur = data;
    for seg in path {
        let slot = cur.entry(seg).or_insert_with(|| J::Object(Map::new()));
        if !slot.is_object() {
            *slot = J::Object(Map::new());
        }
        let J::Object(m) = slot else {
            return Err("internal: expected a map".into());
        };
        cur = m;
    }
    cur.insert(last, J::String(value.to_string()));
    Ok(())
}

fn typed(text: &str) -> J {
    if text.eq_ignore_ascii_case("true") {
        return J::Bool(true);
    }
    if text.eq_ignore_ascii_case("false") {
        return J::Bool(false);
    }
    if text.eq_ignore_ascii_case("null") {
        return J::Null;
    }
    if text == "0" {
        return J::Number(Number::from(0));
    }
    // Leading zeros stay strings so that values like 0123 keep their text.
    if !text.is_empty() && !text.starts_with('0') {
        let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
        if !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && let Ok(n) = text.parse::<i64>()
        {
            return J::Number(Number::from(n));
        }
    }
    J::String(text.to_string())
}

fn kind(v: &J) -> &'static str {
    match v {
        J::Null => "<nil>",
        J::Bool(_) => "bool",
        J::Number(n) if n.is_f64() => "float64",
        J::Number(_) => "int64",
        J::String(_) => "string",
        J::Array(_) => "[]interface {}",
        J::Object(_) => "map[string]interface {}",
    }
}

fn set(data: &mut Map<String, J>, key: &str, val: J) {
    if !key.is_empty() {
        data.insert(key.to_string(), val);
    }
}

fn set_index(mut list: Vec<J>, index: i64, val: J) -> Result<Vec<J>, String> {
    if index < 0 {
        return Err(format!("negative {index} index not allowed"));
    }
    if index > MAX_INDEX {
        return Err(format!(
            "index of {index} is greater than maximum supported index of {MAX_INDEX}"
        ));
    }
    let i = index as usize;
    if list.len() <= i {
        list.resize(i + 1, J::Null);
    }
    if let Some(slot) = list.get_mut(i) {
        *slot = val;
    }
    Ok(list)
}

impl Parser<'_> {
    fn next(&mut self) -> Option<char> {
        let c = self.s.get(self.i).copied();
        if c.is_some() {
            self.i += 1;
        }
        c
    }

    /// Characters up to one of `stop` (consumed); `None` at the end.
    fn until(&mut self, stop: &[char]) -> (String, Option<char>) {
        let mut v = String::new();
        loop {
            match self.next() {
                None => return (v, None),
                Some(c) if stop.contains(&c) => return (v, Some(c)),
                Some('\\') => match self.next() {
                    Some(n) => v.push(n),
                    None => return (v, None),
                },
                Some(c) => v.push(c),
            }
        }
    }

    fn read(&self, text: &str) -> Result<J, String> {
        match &self.reader {
            Reader::Typed => Ok(typed(text)),
            Reader::Str | Reader::Json => Ok(J::String(text.to_string())),
            Reader::File(f) => f(text),
        }
    }

    fn key(&mut self, data: &mut Map<String, J>, level: usize) -> Result<(), E> {
        let (k, last) = self.until(&['=', '[', ',', '.']);
        match last {
            None => {
                if k.is_empty() {
                    Err(E::Eof)
                } else {
                    Err(E::Msg(format!("key {k:?} has no value")))
                }
            }
            Some('[') => {
                let i = self
                    .key_index()
                    .map_err(|e| E::Msg(format!("error parsing index: {}", msg(e))))?;
                let list = match data.get(&k) {
                    None => Vec::new(),
                    Some(J::Array(a)) => a.clone(),
                    Some(other) => {
                        return Err(E::Msg(format!(
                            "unable to parse key: interface conversion: interface {{}} is {}, not []interface {{}}",
                            kind(other)
                        )));
                    }
                };
                let (list, err) = self.list_item(list, i, level);
                set(data, &k, J::Array(list));
                match err {
                    Some(e) => Err(e),
                    None => Ok(()),
                }
            }
            Some('=') => {
                if matches!(self.reader, Reader::Json) {
                    let v = self.json_value()?;
                    set(data, &k, v);
                    return self.after_json();
                }
                match self.val_list() {
                    Ok(vl) => {
                        set(data, &k, J::Array(vl));
                        Ok(())
                    }
                    Err(E::Eof) => {
                        set(data, &k, J::String(String::new()));
                        Err(E::Eof)
                    }
                    Err(E::NotList) => {
                        let (rs, _) = self.until(&[',']);
                        let v = self.read(&rs)?;
                        set(data, &k, v);
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            Some(',') => {
                set(data, &k, J::String(String::new()));
                Err(E::Msg(format!(
                    "key {k:?} has no value (cannot end with ,)"
                )))
            }
            Some(_) => {
                let level = level + 1;
                if level > MAX_NESTED {
                    return Err(E::Msg(format!(
                        "value name nested level is greater than maximum supported nested level of {MAX_NESTED}"
                    )));
                }
                let mut inner = match data.get(&k) {
                    None => Map::new(),
                    Some(J::Object(m)) => m.clone(),
                    Some(other) => {
                        return Err(E::Msg(format!(
                            "unable to parse key: interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                            kind(other)
                        )));
                    }
                };
                let e = self.key(&mut inner, level);
                if e.is_ok() && inner.is_empty() {
                    return Err(E::Msg(format!("key map {k:?} has no value")));
                }
                if !inner.is_empty() {
                    set(data, &k, J::Object(inner));
                }
                e
            }
        }
    }

    fn key_index(&mut self) -> Result<i64, E> {
        let (v, last) = self.until(&[']']);
        if last.is_none() {
            return Err(E::Eof);
        }
        v.parse::<i64>()
            .map_err(|_| E::Msg(format!("strconv.Atoi: parsing {v:?}: invalid syntax")))
    }

    /// Returns the list even on error: Helm stores it before reporting.
    fn list_item(&mut self, list: Vec<J>, i: i64, level: usize) -> (Vec<J>, Option<E>) {
        if i < 0 {
            return (
                list,
                Some(E::Msg(format!("negative {i} index not allowed"))),
            );
        }
        let (k, last) = self.until(&['[', '.', '=']);
        if !k.is_empty() {
            return (
                list,
                Some(E::Msg(format!(
                    "unexpected data at end of array index: {k:?}"
                ))),
            );
        }
        let wrap = |r: Result<Vec<J>, String>, orig: &Vec<J>| match r {
            Ok(l) => (l, None),
            Err(m) => (orig.clone(), Some(E::Msg(m))),
        };
        match last {
            None => (list, Some(E::Eof)),
            Some('=') => {
                if matches!(self.reader, Reader::Json) {
                    let v = match self.json_value() {
                        Ok(v) => v,
                        Err(e) => return (list, Some(e)),
                    };
                    let r = set_index(list.clone(), i, v);
                    let (l, e) = wrap(r, &list);
                    if e.is_some() {
                        return (l, e);
                    }
                    return (l, self.after_json().err());
                }
                match self.val_list() {
                    Ok(vl) => wrap(set_index(list.clone(), i, J::Array(vl)), &list),
                    Err(E::Eof) => {
                        wrap(set_index(list.clone(), i, J::String(String::new())), &list)
                    }
                    Err(E::NotList) => {
                        let (rs, _) = self.until(&[',']);
                        match self.read(&rs) {
                            Ok(v) => wrap(set_index(list.clone(), i, v), &list),
                            Err(m) => (list, Some(E::Msg(m))),
                        }
                    }
                    Err(e) => (list, Some(e)),
                }
            }
            Some('[') => {
                let next_i = match self.key_index() {
                    Ok(n) => n,
                    Err(e) => {
                        return (
                            list,
                            Some(E::Msg(format!("error parsing index: {}", msg(e)))),
                        );
                    }
                };
                let current = match list.get(i as usize) {
                    Some(J::Array(a)) => a.clone(),
                    Some(J::Null) | None => Vec::new(),
                    Some(other) => {
                        return (
                            list.clone(),
                            Some(E::Msg(format!(
                                "error processing index {i}: interface conversion: interface {{}} is {}, not []interface {{}}",
                                kind(other)
                            ))),
                        );
                    }
                };
                let (inner, e) = self.list_item(current, next_i, level);
                if let Some(e) = e {
                    return (list, Some(e));
                }
                wrap(set_index(list.clone(), i, J::Array(inner)), &list)
            }
            Some(_) => {
                let mut inner = match list.get(i as usize) {
                    Some(J::Object(m)) => m.clone(),
                    _ => Map::new(),
                };
                if let Err(e) = self.key(&mut inner, level) {
                    return (list, Some(e));
                }
                wrap(set_index(list.clone(), i, J::Object(inner)), &list)
            }
        }
    }

    fn val_list(&mut self) -> Result<Vec<J>, E> {
        match self.next() {
            None => return Err(E::Eof),
            Some('{') => {}
            Some(_) => {
                self.i -= 1;
                return Err(E::NotList);
            }
        }
        let mut list = Vec::new();
        loop {
            let (rs, last) = self.until(&[',', '}']);
            match last {
                None => return Err(E::Msg("list must terminate with '}'".into())),
                Some('}') => {
                    if let Some(c) = self.next()
                        && c != ','
                    {
                        self.i -= 1;
                    }
                    list.push(self.read(&rs)?);
                    return Ok(list);
                }
                Some(_) => list.push(self.read(&rs)?),
            }
        }
    }

    /// Skips blanks; true at the end or after a consumed `,`.
    fn empty_val(&mut self) -> bool {
        loop {
            match self.next() {
                None | Some(',') => return true,
                Some(c) if c.is_whitespace() => {}
                Some(_) => {
                    self.i -= 1;
                    return false;
                }
            }
        }
    }

    fn json_value(&mut self) -> Result<J, E> {
        if self.empty_val() {
            return Ok(J::Null);
        }
        let rest: String = self.s.get(self.i..).unwrap_or(&[]).iter().collect();
        let mut stream = serde_json::Deserializer::from_str(&rest).into_iter::<J>();
        match stream.next() {
            Some(Ok(v)) => {
                let used = rest
                    .get(..stream.byte_offset())
                    .unwrap_or("")
                    .chars()
                    .count();
                self.i += used;
                Ok(crate::chart::floatify(v))
            }
            Some(Err(e)) => Err(E::Msg(e.to_string())),
            None => Ok(J::Null),
        }
    }

    fn after_json(&mut self) -> Result<(), E> {
        self.empty_val();
        Ok(())
    }
}

fn msg(e: E) -> String {
    match e {
        E::Eof => "EOF".into(),
        E::NotList => "not a list".into(),
        E::Msg(m) => m,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(text: &str, reader: Reader<'_>) -> Result<J, String> {
        let mut m = Map::new();
        parse_into(text, &mut m, reader).map(|()| J::Object(m))
    }

    #[test]
    fn set_table() {
        let rows: &[(&str, Result<J, ()>)] = &[
            ("name=value", Ok(json!({"name": "value"}))),
            (
                "long_int_string=1234567890",
                Ok(json!({"long_int_string": 1234567890})),
            ),
            ("boolean=true", Ok(json!({"boolean": true}))),
            ("is_null=null", Ok(json!({"is_null": null}))),
            ("zero=0", Ok(json!({"zero": 0}))),
            ("leading_zeros=00009", Ok(json!({"leading_zeros": "00009"}))),
            (
                "name=value,foo=bar",
                Ok(json!({"name": "value", "foo": "bar"})),
            ),
            (
                "outer.inner=value",
                Ok(json!({"outer": {"inner": "value"}})),
            ),
            ("name1.name2=", Ok(json!({"name1": {"name2": ""}}))),
            ("list={a,b,c}", Ok(json!({"list": ["a", "b", "c"]}))),
            (
                "list[0]=foo,list[2]=bar",
                Ok(json!({"list": ["foo", null, "bar"]})),
            ),
            ("list[0].a=1", Ok(json!({"list": [{"a": 1}]}))),
            ("nested[0][1]=x", Ok(json!({"nested": [[null, "x"]]}))),
            ("name=one\\,two", Ok(json!({"name": "one,two"}))),
            ("a\\.b=c", Ok(json!({"a.b": "c"}))),
            ("name", Err(())),
            ("name1,name2=", Err(())),
            ("list={a,b", Err(())),
            ("list[-1]=x", Err(())),
            ("list[x]=x", Err(())),
            ("a=1,a.b=2", Err(())),
        ];
        for (text, want) in rows {
            let got = run(text, Reader::Typed).map_err(|_| ());
            assert_eq!(&got, want, "--set {text}");
        }
    }

    #[test]
    fn set_string_and_json() {
        assert_eq!(
            run("a=true,b=10", Reader::Str).unwrap(),
            json!({"a": "true", "b": "10"})
        );
        assert_eq!(
            run("a={\"x\":[1,2]},b=\"s\"", Reader::Json).unwrap(),
            json!({"a": {"x": [1.0, 2.0]}, "b": "s"})
        );
        assert_eq!(run("a=", Reader::Json).unwrap(), json!({"a": null}));
    }

    #[test]
    fn set_literal_keeps_text() {
        let mut m = Map::new();
        parse_literal_into("a.b=x,y={z}", &mut m).unwrap();
        assert_eq!(J::Object(m), json!({"a": {"b": "x,y={z}"}}));
    }
}
