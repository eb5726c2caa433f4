//! Values the way Helm combines them: `-f` files merged in order, chart
//! defaults coalesced under user values (a user `null` deletes a default),
//! subchart values under the subchart's name, and `global` copied down.

use std::collections::BTreeSet;

use serde_json::{Map, Value as J};

use crate::chart::Chart;

/// `loader.MergeMaps`: `b` wins; maps merge recursively.
pub fn merge_maps(mut a: Map<String, J>, b: Map<String, J>) -> Map<String, J> {
    for (k, v) in b {
        match (a.get_mut(&k), v) {
            (Some(J::Object(av)), J::Object(bv)) => {
                let merged = merge_maps(std::mem::take(av), bv);
                *av = merged;
            }
            (_, v) => {
                a.insert(k, v);
            }
        }
    }
    a
}

/// `CoalesceValues` (merge = false) or `MergeValues` (merge = true): the
/// chart's defaults, recursively with its subcharts', under `vals`.
pub fn coalesce_values(
    chart: &Chart,
    vals: &Map<String, J>,
    merge: bool,
) -> Result<Map<String, J>, String> {
    let mut dest = vals.clone();
    coalesce(chart, &mut dest, "", merge, 0)?;
    Ok(dest)
}

fn concat_prefix(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}.{b}")
    }
}

fn coalesce(
    ch: &Chart,
    dest: &mut Map<String, J>,
    prefix: &str,
    merge: bool,
    depth: usize,
) -> Result<(), String> {
    if depth > 64 {
        return Err(format!("subcharts of {} nest too deeply", ch.name()));
    }
    coalesce_own(ch, dest, merge);
    for sub in &ch.dependencies {
        let name = sub.name().to_string();
        let mut sub_map = match dest.remove(&name) {
            None => Map::new(),
            Some(J::Object(m)) => m,
            Some(other) => {
                return Err(format!(
                    "type mismatch on {name}: values for a subchart must be a map, got {}; fix the value of {}",
                    crate::chart::json_kind(&other),
                    concat_prefix(prefix, &name)
                ));
            }
        };
        let sub_prefix = concat_prefix(prefix, ch.name());
        coalesce_globals(&mut sub_map, dest.get("global"));
        coalesce(sub, &mut sub_map, &sub_prefix, merge, depth + 1)?;
        dest.insert(name, J::Object(sub_map));
    }
    Ok(())
}

/// Copies the parent's `global` into a subchart's values; the parent wins
/// on scalars, tables merge.
fn coalesce_globals(dest: &mut Map<String, J>, src_global: Option<&J>) {
    let mut dg = match dest.get("global") {
        None => Map::new(),
        Some(J::Object(m)) => m.clone(),
        // Helm skips globals with a warning when either side is not a table.
        Some(_) => return,
    };
    let sg = match src_global {
        None => Map::new(),
        Some(J::Object(m)) => m.clone(),
        Some(_) => return,
    };
    for (key, val) in sg {
        match val {
            J::Object(vv) => match dg.get(&key) {
                None => {
                    dg.insert(key, J::Object(vv));
                }
                Some(J::Object(destv)) => {
                    let mut vv = vv;
                    coalesce_tables(&mut vv, destv.clone(), true);
                    dg.insert(key, J::Object(vv));
                }
                Some(_) => {}
            },
            other => {
                if !matches!(dg.get(&key), Some(J::Object(_))) {
                    dg.insert(key, other);
                }
            }
        }
    }
    dest.insert("global".into(), J::Object(dg));
}

fn coalesce_own(ch: &Chart, v: &mut Map<String, J>, merge: bool) {
    let sub_names: BTreeSet<&str> = ch.dependencies.iter().map(|d| d.name()).collect();
    for (key, val) in ch.values.clone() {
        match v.get_mut(&key) {
            Some(J::Null) if !merge => {
                v.remove(&key);
            }
            Some(J::Object(dest)) => {
                if let J::Object(mut src) = val {
                    let merge = merge || sub_names.contains(key.as_str());
                    if !merge {
                        clean_nil(&mut src);
                    }
                    coalesce_tables(dest, src, merge);
                }
            }
            Some(_) => {}
            None => {
                let mut val = val;
                if !merge {
                    if val.is_null() {
                        continue;
                    }
                    if let J::Object(m) = &mut val {
                        clean_nil(m);
                    }
                }
                v.insert(key, val);
            }
        }
    }
}

fn clean_nil(m: &mut Map<String, J>) {
    m.retain(|_, v| !v.is_null());
    for v in m.values_mut() {
        if let J::Object(sub) = v {
            clean_nil(sub);
        }
    }
}

/// `CoalesceTables` / `MergeTables`: `dst` wins, `src` fills in; with
/// merge off, a `null` in `dst` deletes what `src` would have added.
pub fn coalesce_tables(dst: &mut Map<String, J>, mut src: Map<String, J>, merge: bool) {
    let src_non_nil: BTreeSet<String> = src
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, _)| k.clone())
        .collect();
    for (k, v) in dst.iter() {
        if v.is_null() {
            src.insert(k.clone(), J::Null);
        }
    }
    for (key, val) in src {
        match dst.get_mut(&key) {
            Some(J::Null) if !merge && src_non_nil.contains(&key) => {
                dst.remove(&key);
            }
            None => {
                dst.insert(key, val);
            }
            Some(J::Object(dv)) => {
                if let J::Object(sv) = val {
                    coalesce_tables(dv, sv, merge);
                }
            }
            Some(_) => {}
        }
    }
}

/// `Values.Table`: the map at a dotted path.
pub fn table<'a>(v: &'a Map<String, J>, path: &str) -> Option<&'a Map<String, J>> {
    let mut cur = v;
    for part in path.split('.') {
        match cur.get(part) {
            Some(J::Object(m)) => cur = m,
            _ => return None,
        }
    }
    Some(cur)
}

/// `Values.PathValue`: the non-table value at a dotted path.
pub fn path_value<'a>(v: &'a Map<String, J>, path: &str) -> Option<&'a J> {
    if path.is_empty() {
        return None;
    }
    let (parent, key) = match path.rsplit_once('.') {
        Some((p, k)) => (table(v, p)?, k),
        None => (v, path),
    };
    parent.get(key).filter(|x| !x.is_object())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: J) -> Map<String, J> {
        match v {
            J::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn coalesce_tables_table() {
        let rows = [
            // dst, src, merge, want
            (
                json!({"a": 1}),
                json!({"a": 2, "b": 3}),
                false,
                json!({"a": 1, "b": 3}),
            ),
            (json!({"a": null}), json!({"a": 2}), false, json!({})),
            (
                json!({"a": null}),
                json!({"a": 2}),
                true,
                json!({"a": null}),
            ),
            (
                json!({"m": {"x": 1}}),
                json!({"m": {"x": 2, "y": 2}}),
                false,
                json!({"m": {"x": 1, "y": 2}}),
            ),
            (
                json!({"m": 1}),
                json!({"m": {"x": 2}}),
                false,
                json!({"m": 1}),
            ),
        ];
        for (dst, src, merge, want) in rows {
            let mut d = obj(dst.clone());
            coalesce_tables(&mut d, obj(src.clone()), merge);
            assert_eq!(J::Object(d), want, "{dst} <- {src}");
        }
    }

    #[test]
    fn merge_maps_later_wins() {
        let a = obj(json!({"a": {"x": 1, "y": 1}, "b": 1}));
        let b = obj(json!({"a": {"x": 2}, "b": {"z": 1}}));
        assert_eq!(
            J::Object(merge_maps(a, b)),
            json!({"a": {"x": 2, "y": 1}, "b": {"z": 1}})
        );
    }

    #[test]
    fn path_value_skips_tables() {
        let v = obj(json!({"a": {"b": true, "t": {}}}));
        assert_eq!(path_value(&v, "a.b"), Some(&json!(true)));
        assert_eq!(path_value(&v, "a.t"), None);
        assert_eq!(path_value(&v, "a.c"), None);
    }
}
