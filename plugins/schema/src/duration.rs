//! The `duration` string format as kubeconform checks it: a Go duration
//! (`1h30m`, `5m0s`, `-1.5h`), which is what Kubernetes operators mean, or
//! an ISO 8601 duration (`PT1H`, `P3W`), which is what JSON schema means.

/// Why a string is not a duration, in kubeconform's words (for ISO 8601,
/// since a Go duration is tried first and only the ISO reason is reported).
pub fn check_duration(s: &str) -> Result<(), String> {
    if is_go_duration(s) {
        return Ok(());
    }
    check_iso8601(s)
}

/// Go's `time.ParseDuration`: an optional sign, then one or more
/// `<decimal><unit>` pairs with units ns, us, µs, μs, ms, s, m, h; a lone
/// `0` is allowed.
fn is_go_duration(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    if s == "0" {
        return true;
    }
    if s.is_empty() {
        return false;
    }
    let mut rest = s;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (_, after_int) = rest.split_at(int_len);
        let (frac_len, after_num) = match after_int.strip_prefix('.') {
            Some(after_dot) => {
                let n = after_dot.bytes().take_while(u8::is_ascii_digit).count();
                (n, after_dot.split_at(n).1)
            }
            None => (0, after_int),
        };
        // Go accepts "1." and ".5" but not ".".
        if int_len == 0 && frac_len == 0 {
            return false;
        }
        let unit_len = after_num
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() || *c == '.')
            .map_or(after_num.len(), |(i, _)| i);
        let (unit, tail) = after_num.split_at(unit_len);
        if !matches!(unit, "ns" | "us" | "µs" | "μs" | "ms" | "s" | "m" | "h") {
            return false;
        }
        rest = tail;
    }
    true
}

fn check_iso8601(s: &str) -> Result<(), String> {
    let Some(s) = s.strip_prefix('P') else {
        return Err("must start with P".to_owned());
    };
    if s.is_empty() {
        return Err("nothing after P".to_owned());
    }
    if let Some(weeks) = s.strip_suffix('W') {
        if weeks.is_empty() {
            return Err("no number in week".to_owned());
        }
        if !weeks.bytes().all(|b| b.is_ascii_digit()) {
            return Err("invalid week".to_owned());
        }
        return Ok(());
    }
    const ALL_UNITS: [&str; 2] = ["YMD", "HMS"];
    for (i, part) in s.split('T').enumerate() {
        if i != 0 && part.is_empty() {
            return Err("no time elements".to_owned());
        }
        let Some(all) = ALL_UNITS.get(i) else {
            return Err("more than one T".to_owned());
        };
        let mut units: &str = all;
        let mut rest = part;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err("missing number".to_owned());
            }
            rest = rest.split_at(digits).1;
            let Some(unit) = rest.chars().next() else {
                return Err("missing unit".to_owned());
            };
            match units.find(unit) {
                Some(j) => units = units.split_at(j + 1).1,
                None if all.contains(unit) => return Err(format!("unit {unit:?} out of order")),
                None => return Err(format!("invalid unit {unit:?}")),
            }
            rest = rest.split_at(unit.len_utf8()).1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_table() {
        let cases: &[(&str, Result<(), &str>)] = &[
            ("5s", Ok(())),
            ("5m0s", Ok(())),
            ("1h30m", Ok(())),
            ("-1.5h", Ok(())),
            ("0", Ok(())),
            ("300ms", Ok(())),
            ("2µs", Ok(())),
            (".5s", Ok(())),
            ("PT1H", Ok(())),
            ("P3W", Ok(())),
            ("P1Y2M3DT4H5M6S", Ok(())),
            ("P1D", Ok(())),
            ("test", Err("must start with P")),
            ("", Err("must start with P")),
            ("5", Err("must start with P")),
            ("5x", Err("must start with P")),
            ("P", Err("nothing after P")),
            ("PW", Err("no number in week")),
            ("P1.5W", Err("invalid week")),
            ("PT", Err("no time elements")),
            ("P1DT1HT1S", Err("more than one T")),
            ("PT1", Err("missing unit")),
            ("PTH", Err("missing number")),
            ("P1M1Y", Err("unit 'Y' out of order")),
            ("P1X", Err("invalid unit 'X'")),
        ];
        for (input, expected) in cases {
            let got = check_duration(input);
            assert_eq!(
                got.as_ref().map_err(String::as_str),
                expected.as_ref().map_err(|e| *e),
                "{input:?}"
            );
        }
    }
}
