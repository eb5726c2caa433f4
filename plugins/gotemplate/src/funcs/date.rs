//! Sprig's date functions and Helm's duration helpers over a `time.Time`
//! object, with Go's reference-time layouts (`2006-01-02 15:04:05`) and
//! `time.Duration` formatting and parsing. The current time comes from
//! `ExecOptions::now`; the local zone is UTC (no zone database in the sandbox).

use std::any::Any;
use std::sync::Arc;

use super::convert::to_float64;
use super::{FuncError, FuncMap, FuncResult, arg, arg_str, call_err, s};
use crate::exec::Ctx;
use crate::value::{Object, Value};

/// A point in time with a fixed zone offset (Go's `time.Time`).
#[derive(Debug, Clone, PartialEq)]
pub struct Time {
    pub secs: i64,
    pub nanos: u32,
    pub offset: i32,
    pub zone: String,
}

impl Time {
    pub fn utc(secs: i64, nanos: u32) -> Time {
        Time {
            secs,
            nanos,
            offset: 0,
            zone: "UTC".into(),
        }
    }

    fn value(self) -> Value {
        Value::Object(Arc::new(self))
    }

    /// Civil fields in the time's own zone.
    fn civil(&self) -> Civil {
        let local = self.secs.saturating_add(i64::from(self.offset));
        let days = local.div_euclid(86_400);
        let sod = local.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let yday = days - days_from_civil(y, 1, 1) + 1;
        Civil {
            year: y,
            month: m,
            day: d,
            hour: (sod / 3600) as u32,
            min: ((sod % 3600) / 60) as u32,
            sec: (sod % 60) as u32,
            weekday: ((days + 4).rem_euclid(7)) as usize,
            yday: yday as u32,
        }
    }

    pub fn format(&self, layout: &str) -> String {
        format_time(self, layout)
    }
}

impl Object for Time {
    fn type_name(&self) -> &str {
        "time.Time"
    }
    fn has_method(&self, name: &str) -> bool {
        matches!(
            name,
            "Unix"
                | "UnixNano"
                | "Year"
                | "Month"
                | "Day"
                | "Hour"
                | "Minute"
                | "Second"
                | "Nanosecond"
                | "Format"
                | "UTC"
                | "String"
                | "Weekday"
                | "YearDay"
        )
    }
    fn call_method(&self, name: &str, args: &[Value]) -> Result<Value, String> {
        let c = self.civil();
        Ok(match name {
            "Unix" => Value::Int(self.secs),
            "UnixNano" => Value::Int(
                self.secs
                    .saturating_mul(1_000_000_000)
                    .saturating_add(i64::from(self.nanos)),
            ),
            "Year" => Value::Int(c.year),
            "Month" => Value::Int(i64::from(c.month)),
            "Day" => Value::Int(i64::from(c.day)),
            "Hour" => Value::Int(i64::from(c.hour)),
            "Minute" => Value::Int(i64::from(c.min)),
            "Second" => Value::Int(i64::from(c.sec)),
            "Nanosecond" => Value::Int(i64::from(self.nanos)),
            "YearDay" => Value::Int(i64::from(c.yday)),
            "Weekday" => Value::str(WEEKDAYS.get(c.weekday).copied().unwrap_or("")),
            "UTC" => Time::utc(self.secs, self.nanos).value(),
            "String" => Value::string(self.display()),
            "Format" => match args.first() {
                Some(Value::String(l)) => Value::string(self.format(l)),
                _ => return Err("wrong number of args for Format: want 1".into()),
            },
            _ => return Err(format!("can't evaluate field {name}")),
        })
    }
    fn display(&self) -> String {
        self.format("2006-01-02 15:04:05.999999999 -0700 MST")
    }
    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::String(self.format("2006-01-02T15:04:05.999999999Z07:00"))
    }
    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    min: u32,
    sec: u32,
    weekday: usize,
    yday: u32,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Layout elements of Go's reference time, longest first where prefixes overlap.
const TOKENS: &[&str] = &[
    "January",
    "Jan",
    "Monday",
    "Mon",
    "MST",
    "2006",
    "002",
    "01",
    "02",
    "03",
    "04",
    "05",
    "06",
    "15",
    "__2",
    "_2",
    "1",
    "2",
    "3",
    "4",
    "5",
    "PM",
    "pm",
    "-07:00:00",
    "-070000",
    "-07:00",
    "-0700",
    "-07",
    "Z07:00:00",
    "Z070000",
    "Z07:00",
    "Z0700",
    "Z07",
];

fn next_token(layout: &str) -> Option<(&'static str, usize)> {
    // Fractional seconds: ".000", ".999", ",000" after a seconds field.
    let b = layout.as_bytes();
    if (b.first() == Some(&b'.') || b.first() == Some(&b','))
        && b.len() > 1
        && (b[1] == b'0' || b[1] == b'9')
    {
        let d = b[1];
        let n = b[1..].iter().take_while(|&&c| c == d).count();
        if b.get(1 + n).is_none_or(|c| !c.is_ascii_digit()) {
            return Some((if d == b'0' { ".0" } else { ".9" }, 1 + n));
        }
    }
    for t in TOKENS {
        if layout.starts_with(t) {
            // "Jan" must not be followed by a lower-case letter unless "January".
            if (*t == "Mon" || *t == "Jan")
                && layout
                    .get(3..)
                    .and_then(|r| r.chars().next())
                    .is_some_and(|c| c.is_lowercase())
            {
                continue;
            }
            return Some((t, t.len()));
        }
    }
    None
}

fn format_time(t: &Time, layout: &str) -> String {
    let c = t.civil();
    let mut out = String::new();
    let mut rest = layout;
    while !rest.is_empty() {
        if let Some((tok, len)) = next_token(rest) {
            let h12 = if c.hour.is_multiple_of(12) {
                12
            } else {
                c.hour % 12
            };
            let off = t.offset;
            let (sign, oh, om, os) = (
                if off < 0 { '-' } else { '+' },
                off.abs() / 3600,
                (off.abs() % 3600) / 60,
                off.abs() % 60,
            );
            match tok {
                "January" => out.push_str(MONTHS.get(c.month as usize - 1).copied().unwrap_or("")),
                "Jan" => out.push_str(
                    MONTHS
                        .get(c.month as usize - 1)
                        .map_or("", |m| m.get(..3).unwrap_or(m)),
                ),
                "Monday" => out.push_str(WEEKDAYS.get(c.weekday).copied().unwrap_or("")),
                "Mon" => out.push_str(
                    WEEKDAYS
                        .get(c.weekday)
                        .map_or("", |m| m.get(..3).unwrap_or(m)),
                ),
                "MST" => {
                    if t.zone.is_empty() {
                        out.push_str(&format!("{sign}{oh:02}{om:02}"));
                    } else {
                        out.push_str(&t.zone);
                    }
                }
                "2006" => out.push_str(&format!("{:04}", c.year)),
                "06" => out.push_str(&format!("{:02}", c.year.rem_euclid(100))),
                "002" => out.push_str(&format!("{:03}", c.yday)),
                "__2" => out.push_str(&format!("{:>3}", c.yday)),
                "01" => out.push_str(&format!("{:02}", c.month)),
                "1" => out.push_str(&c.month.to_string()),
                "02" => out.push_str(&format!("{:02}", c.day)),
                "_2" => out.push_str(&format!("{:>2}", c.day)),
                "2" => out.push_str(&c.day.to_string()),
                "15" => out.push_str(&format!("{:02}", c.hour)),
                "03" => out.push_str(&format!("{h12:02}")),
                "3" => out.push_str(&h12.to_string()),
                "04" => out.push_str(&format!("{:02}", c.min)),
                "4" => out.push_str(&c.min.to_string()),
                "05" => out.push_str(&format!("{:02}", c.sec)),
                "5" => out.push_str(&c.sec.to_string()),
                "PM" => out.push_str(if c.hour >= 12 { "PM" } else { "AM" }),
                "pm" => out.push_str(if c.hour >= 12 { "pm" } else { "am" }),
                ".0" | ".9" => {
                    let digits = len - 1;
                    let sep = rest.get(..1).unwrap_or(".");
                    let frac = format!("{:09}", t.nanos);
                    let mut f = frac.get(..digits.min(9)).unwrap_or("").to_string();
                    if tok == ".9" {
                        f = f.trim_end_matches('0').to_string();
                        if !f.is_empty() {
                            out.push_str(sep);
                            out.push_str(&f);
                        }
                    } else {
                        out.push_str(sep);
                        out.push_str(&f);
                    }
                }
                z => {
                    if z.starts_with('Z') && off == 0 {
                        out.push('Z');
                    } else {
                        out.push(sign);
                        out.push_str(&format!("{oh:02}"));
                        let body = z.trim_start_matches(['Z', '-']);
                        match body {
                            "07:00:00" => out.push_str(&format!(":{om:02}:{os:02}")),
                            "070000" => out.push_str(&format!("{om:02}{os:02}")),
                            "07:00" => out.push_str(&format!(":{om:02}")),
                            "0700" => out.push_str(&format!("{om:02}")),
                            _ => {}
                        }
                    }
                }
            }
            rest = rest.get(len..).unwrap_or("");
        } else {
            let ch = rest.chars().next().unwrap_or(' ');
            out.push(ch);
            rest = rest.get(ch.len_utf8()..).unwrap_or("");
        }
    }
    out
}

/// `time.ParseInLocation(layout, value, UTC)` for the common layout elements.
pub fn parse_time(layout: &str, value: &str) -> Result<Time, String> {
    let err =
        || format!("parsing time {value:?} as {layout:?}: cannot parse {value:?} as {layout:?}");
    let (mut year, mut month, mut day, mut hour, mut min, mut sec, mut nanos) =
        (1i64, 1u32, 1u32, 0u32, 0u32, 0u32, 0u32);
    let mut pm: Option<bool> = None;
    let mut offset: i32 = 0;
    let mut zone = "UTC".to_string();
    let mut l = layout;
    let mut v = value;
    fn take_num(v: &mut &str, min: usize, max: usize) -> Option<i64> {
        let n = v.bytes().take(max).take_while(u8::is_ascii_digit).count();
        if n < min {
            return None;
        }
        let num = v.get(..n)?.parse().ok()?;
        *v = v.get(n..)?;
        Some(num)
    }
    while !l.is_empty() {
        if let Some((tok, len)) = next_token(l) {
            match tok {
                "2006" => year = take_num(&mut v, 4, 4).ok_or_else(err)?,
                "06" => year = 2000 + take_num(&mut v, 2, 2).ok_or_else(err)?,
                "01" => month = take_num(&mut v, 2, 2).ok_or_else(err)? as u32,
                "1" => month = take_num(&mut v, 1, 2).ok_or_else(err)? as u32,
                "02" => day = take_num(&mut v, 2, 2).ok_or_else(err)? as u32,
                "_2" => {
                    v = v.strip_prefix(' ').unwrap_or(v);
                    day = take_num(&mut v, 1, 2).ok_or_else(err)? as u32;
                }
                "2" => day = take_num(&mut v, 1, 2).ok_or_else(err)? as u32,
                "15" => hour = take_num(&mut v, 1, 2).ok_or_else(err)? as u32,
                "03" => hour = take_num(&mut v, 2, 2).ok_or_else(err)? as u32,
                "3" => hour = take_num(&mut v, 1, 2).ok_or_else(err)? as u32,
                "04" => min = take_num(&mut v, 2, 2).ok_or_else(err)? as u32,
                "4" => min = take_num(&mut v, 1, 2).ok_or_else(err)? as u32,
                "05" => sec = take_num(&mut v, 2, 2).ok_or_else(err)? as u32,
                "5" => sec = take_num(&mut v, 1, 2).ok_or_else(err)? as u32,
                "PM" | "pm" => {
                    let p = v.get(..2).ok_or_else(err)?.to_ascii_uppercase();
                    pm = Some(p == "PM");
                    v = v.get(2..).unwrap_or("");
                }
                "Jan" | "January" => {
                    let found = MONTHS.iter().enumerate().find_map(|(i, m)| {
                        let cand = if tok == "Jan" {
                            m.get(..3).unwrap_or(m)
                        } else {
                            m
                        };
                        v.starts_with(cand).then_some((i, cand.len()))
                    });
                    let (i, n) = found.ok_or_else(err)?;
                    month = i as u32 + 1;
                    v = v.get(n..).unwrap_or("");
                }
                "Mon" | "Monday" => {
                    let found = WEEKDAYS.iter().find_map(|m| {
                        let cand = if tok == "Mon" {
                            m.get(..3).unwrap_or(m)
                        } else {
                            m
                        };
                        v.starts_with(cand).then_some(cand.len())
                    });
                    v = v.get(found.ok_or_else(err)?..).unwrap_or("");
                }
                "MST" => {
                    let n = v.bytes().take_while(u8::is_ascii_uppercase).count();
                    zone = v.get(..n).unwrap_or("").to_string();
                    v = v.get(n..).unwrap_or("");
                }
                ".0" | ".9" => {
                    if v.starts_with(['.', ',']) {
                        v = v.get(1..).unwrap_or("");
                        let n = v.bytes().take_while(u8::is_ascii_digit).count();
                        let digits = v.get(..n).unwrap_or("");
                        let padded = format!("{:0<9}", digits.get(..9.min(n)).unwrap_or(""));
                        nanos = padded.parse().unwrap_or(0);
                        v = v.get(n..).unwrap_or("");
                    }
                }
                z => {
                    if z.starts_with('Z') && v.starts_with('Z') {
                        v = v.get(1..).unwrap_or("");
                        offset = 0;
                    } else {
                        let sign = match v.as_bytes().first() {
                            Some(b'+') => 1,
                            Some(b'-') => -1,
                            _ => return Err(err()),
                        };
                        v = v.get(1..).unwrap_or("");
                        let h = take_num(&mut v, 2, 2).ok_or_else(err)?;
                        v = v.strip_prefix(':').unwrap_or(v);
                        let m = take_num(&mut v, 0, 2).unwrap_or(0);
                        offset = sign * (h * 3600 + m * 60) as i32;
                    }
                    zone = String::new();
                }
            }
            l = l.get(len..).unwrap_or("");
        } else {
            let ch = l.chars().next().unwrap_or(' ');
            if !v.starts_with(ch) {
                return Err(err());
            }
            l = l.get(ch.len_utf8()..).unwrap_or("");
            v = v.get(ch.len_utf8()..).unwrap_or("");
        }
    }
    if !v.is_empty() {
        return Err(format!("parsing time {value:?}: extra text: {v:?}"));
    }
    if let Some(p) = pm {
        if p && hour < 12 {
            hour += 12;
        } else if !p && hour == 12 {
            hour = 0;
        }
    }
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 59 {
        return Err(format!("parsing time {value:?}: value out of range"));
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + i64::from(hour) * 3600 + i64::from(min) * 60 + i64::from(sec)
        - i64::from(offset);
    if zone.is_empty() && offset == 0 {
        zone = "UTC".into();
    }
    Ok(Time {
        secs,
        nanos,
        offset,
        zone,
    })
}

/// Go's `time.Duration.String`.
pub fn format_duration(d: i128) -> String {
    if d == 0 {
        return "0s".into();
    }
    let neg = d < 0;
    let u = d.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        // Sub-second: one unit with a fraction.
        let (unit, scale) = if u < 1_000 {
            ("ns", 1u128)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        out.push_str(&frac_str(u, scale));
        out.push_str(unit);
    } else {
        let secs_total = u / 1_000_000_000;
        let frac = u % 1_000_000_000;
        let h = secs_total / 3600;
        let m = (secs_total % 3600) / 60;
        let s = secs_total % 60;
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if h > 0 || m > 0 {
            out.push_str(&format!("{m}m"));
        }
        out.push_str(&frac_str(s * 1_000_000_000 + frac, 1_000_000_000));
        out.push('s');
    }
    if neg { format!("-{out}") } else { out }
}

fn frac_str(v: u128, scale: u128) -> String {
    let int = v / scale;
    let frac = v % scale;
    if frac == 0 {
        return int.to_string();
    }
    let width = scale.to_string().len() - 1;
    let f = format!("{frac:0width$}");
    format!("{int}.{}", f.trim_end_matches('0'))
}

/// Go's `time.ParseDuration`, in nanoseconds.
pub fn parse_duration(s: &str) -> Result<i128, String> {
    let orig = s;
    let err = || format!("time: invalid duration {:?}", orig);
    let (neg, mut s) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..).unwrap_or("")),
        Some(b'+') => (false, s.get(1..).unwrap_or("")),
        _ => (false, s),
    };
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(err());
    }
    let mut total: f64 = 0.0;
    while !s.is_empty() {
        let n = s
            .bytes()
            .take_while(|c| c.is_ascii_digit() || *c == b'.')
            .count();
        if n == 0 {
            return Err(err());
        }
        let num: f64 = s.get(..n).unwrap_or("").parse().map_err(|_| err())?;
        s = s.get(n..).unwrap_or("");
        let u = s
            .chars()
            .take_while(|c| !c.is_ascii_digit() && *c != '.')
            .collect::<String>();
        if u.is_empty() {
            return Err(format!("time: missing unit in duration {:?}", orig));
        }
        let mult: f64 = match u.as_str() {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(format!("time: unknown unit {:?} in duration {:?}", u, orig)),
        };
        total += num * mult;
        s = s.get(u.len()..).unwrap_or("");
    }
    if total > 9.223_372_036_854_776e18 {
        return Err(err());
    }
    let v = total.round() as i128;
    Ok(if neg { -v } else { v })
}

fn time_arg(v: &Value) -> Option<Time> {
    match v {
        Value::Object(o) => o.as_any().and_then(|a| a.downcast_ref::<Time>()).cloned(),
        _ => None,
    }
}

fn now(c: &Ctx<'_, '_>) -> Time {
    let (secs, nanos) = c.now();
    Time::utc(secs, nanos)
}

/// Sprig's formatDate: times, or Unix seconds as int; anything else is now.
fn format_date(c: &Ctx<'_, '_>, layout: &str, date: &Value, zone: &str) -> String {
    let t = match date {
        Value::Int(i) => Time::utc(*i, 0),
        v => time_arg(v).unwrap_or_else(|| now(c)),
    };
    in_zone(t, zone).format(layout)
}

/// Only UTC (and Local, which is UTC here) and fixed offsets are known.
fn in_zone(t: Time, zone: &str) -> Time {
    // Fixed-offset zones of the tz database: Etc/GMT+5 is five hours
    // *behind* UTC (POSIX sign), abbreviated "-05".
    if let Some(rest) = zone.strip_prefix("Etc/GMT")
        && let Ok(h) = rest.parse::<i32>()
        && (-14..=12).contains(&h)
        && (rest.starts_with(['+', '-']) || h == 0)
    {
        let offset = -h * 3600;
        let abbr = if h == 0 {
            "GMT".to_string()
        } else {
            format!("{}{:02}", if offset < 0 { '-' } else { '+' }, h.abs())
        };
        return Time {
            secs: t.secs,
            nanos: t.nanos,
            offset,
            zone: abbr,
        };
    }
    // Local is UTC in the sandbox; names the tz database would know are
    // unavailable and fall back to UTC, as Sprig does for unknown zones.
    Time::utc(t.secs, t.nanos)
}

fn dur_string_arg(v: &Value) -> i128 {
    match v {
        Value::String(st) => parse_duration(st).unwrap_or(0),
        _ => 0,
    }
}

pub(crate) fn register() -> FuncMap {
    let mut m = FuncMap::new();
    m.insert("now", 0, Some(0), |c, _| Ok(now(c).value()));
    m.insert("date", 2, Some(2), |c, a| {
        s(format_date(c, arg_str(&a, 0)?, &a[1], "Local"))
    });
    for name in ["dateInZone", "date_in_zone"] {
        m.insert(name, 3, Some(3), |c, a| {
            s(format_date(c, arg_str(&a, 0)?, &a[1], arg_str(&a, 2)?))
        });
    }
    m.insert("htmlDate", 1, Some(1), |c, a| {
        s(format_date(c, "2006-01-02", &a[0], "Local"))
    });
    m.insert("htmlDateInZone", 2, Some(2), |c, a| {
        s(format_date(c, "2006-01-02", &a[0], arg_str(&a, 1)?))
    });
    for name in [
        "dateModify",
        "date_modify",
        "mustDateModify",
        "must_date_modify",
    ] {
        m.insert(name, 2, Some(2), |_, a| {
            let f = arg_str(&a, 0)?;
            let t = time_arg(&a[1]).ok_or_else(|| {
                FuncError::Arg(format!(
                    "wrong type for value; expected time.Time; got {}",
                    a[1].type_name()
                ))
            })?;
            match parse_duration(f) {
                Ok(d) => {
                    let total = i128::from(t.secs) * 1_000_000_000 + i128::from(t.nanos) + d;
                    Ok(Time {
                        secs: total.div_euclid(1_000_000_000) as i64,
                        nanos: total.rem_euclid(1_000_000_000) as u32,
                        ..t
                    }
                    .value())
                }
                Err(_) => Ok(t.value()),
            }
        });
    }
    m.insert("mustDateModify", 2, Some(2), |_, a| {
        let f = arg_str(&a, 0)?;
        let t = time_arg(&a[1]).ok_or_else(|| {
            FuncError::Arg(format!(
                "wrong type for value; expected time.Time; got {}",
                a[1].type_name()
            ))
        })?;
        let d = parse_duration(f).map_err(call_err)?;
        let total = i128::from(t.secs) * 1_000_000_000 + i128::from(t.nanos) + d;
        Ok(Time {
            secs: total.div_euclid(1_000_000_000) as i64,
            nanos: total.rem_euclid(1_000_000_000) as u32,
            ..t
        }
        .value())
    });
    m.insert("toDate", 2, Some(2), |_, a| {
        Ok(parse_time(arg_str(&a, 0)?, arg_str(&a, 1)?)
            .unwrap_or_else(|_| Time::utc(-62_135_596_800, 0))
            .value())
    });
    m.insert("mustToDate", 2, Some(2), |_, a| {
        parse_time(arg_str(&a, 0)?, arg_str(&a, 1)?)
            .map(Time::value)
            .map_err(call_err)
    });
    m.insert("unixEpoch", 1, Some(1), |_, a| {
        let t = time_arg(&a[0]).ok_or_else(|| {
            FuncError::Arg(format!(
                "wrong type for value; expected time.Time; got {}",
                a[0].type_name()
            ))
        })?;
        s(t.secs.to_string())
    });
    m.insert("ago", 1, Some(1), |c, a| {
        let n = now(c);
        let t = match &a[0] {
            Value::Int(i) => Time::utc(*i, 0),
            v => time_arg(v).unwrap_or_else(|| n.clone()),
        };
        let d = (i128::from(n.secs) - i128::from(t.secs)) * 1_000_000_000
            + (i128::from(n.nanos) - i128::from(t.nanos));
        // Round to whole seconds, halves away from zero.
        let r =
            (d + if d >= 0 { 500_000_000 } else { -500_000_000 }) / 1_000_000_000 * 1_000_000_000;
        s(format_duration(r))
    });
    m.insert("duration", 1, Some(1), |_, a| {
        // Sprig reads only strings and int64; Go ints and floats give 0s.
        let n: i64 = match &a[0] {
            Value::String(st) => st.parse().unwrap_or(0),
            _ => 0,
        };
        s(format_duration(i128::from(n) * 1_000_000_000))
    });
    m.insert("durationRound", 1, Some(1), |c, a| {
        let d: i128 = match &a[0] {
            Value::String(_) => dur_string_arg(&a[0]),
            v => match time_arg(v) {
                Some(t) => {
                    let n = now(c);
                    (i128::from(n.secs) - i128::from(t.secs)) * 1_000_000_000
                }
                None => 0,
            },
        };
        let u = d.unsigned_abs();
        let hour: u128 = 3_600_000_000_000;
        let (year, month, day, minute, second) = (
            hour * 24 * 365,
            hour * 24 * 30,
            hour * 24,
            60_000_000_000u128,
            1_000_000_000u128,
        );
        let out = if u > year {
            format!("{}y", u / year)
        } else if u > month {
            format!("{}mo", u / month)
        } else if u > day {
            format!("{}d", u / day)
        } else if u > hour {
            format!("{}h", u / hour)
        } else if u > minute {
            format!("{}m", u / minute)
        } else if u > second {
            format!("{}s", u / second)
        } else {
            "0s".into()
        };
        s(out)
    });
    m
}

// ---------------------------------------------------------------- Helm duration helpers

/// Helm's asDuration: duration strings, numeric strings and numbers as seconds.
pub(crate) fn as_duration(v: &Value) -> Result<i128, String> {
    match v {
        Value::String(st) => {
            let t = st.trim();
            if t.is_empty() {
                return Err("empty duration".into());
            }
            if let Ok(d) = parse_duration(t) {
                return Ok(d);
            }
            if let Ok(f) = t.parse::<f64>() {
                return secs_float(f);
            }
            Err(format!("could not parse duration {:?}", st.as_ref()))
        }
        Value::Nil | Value::Missing => Err("invalid duration".into()),
        Value::Int(i) => Ok(i128::from(*i) * 1_000_000_000),
        Value::Uint(u) => Ok(i128::from(*u) * 1_000_000_000),
        Value::Float(f) => secs_float(*f),
        other => Err(format!("unsupported duration type {}", other.type_name())),
    }
}

fn secs_float(f: f64) -> Result<i128, String> {
    if !f.is_finite() {
        return Err(format!("invalid duration seconds: {f}"));
    }
    let n = f * 1e9;
    if n.abs() > 9.2e18 {
        return Err(format!("duration seconds overflow: {f}"));
    }
    Ok(n as i128)
}

pub(crate) fn register_helm(m: &mut FuncMap) {
    m.insert("mustToDuration", 1, Some(1), |_, a| {
        as_duration(&arg(&a, 0))
            .map(|d| Value::string(format_duration(d)))
            .map_err(call_err)
    });
    fn unit(a: &[Value], div: f64) -> FuncResult {
        let d = as_duration(&arg(a, 0)).unwrap_or(0);
        Ok(Value::Float(d as f64 / div))
    }
    m.insert("durationSeconds", 1, Some(1), |_, a| unit(&a, 1e9));
    m.insert("durationMilliseconds", 1, Some(1), |_, a| {
        Ok(Value::Int(
            (as_duration(&arg(&a, 0)).unwrap_or(0) / 1_000_000) as i64,
        ))
    });
    m.insert("durationMicroseconds", 1, Some(1), |_, a| {
        Ok(Value::Int(
            (as_duration(&arg(&a, 0)).unwrap_or(0) / 1_000) as i64,
        ))
    });
    m.insert("durationNanoseconds", 1, Some(1), |_, a| {
        Ok(Value::Int(as_duration(&arg(&a, 0)).unwrap_or(0) as i64))
    });
    m.insert("durationMinutes", 1, Some(1), |_, a| unit(&a, 60e9));
    m.insert("durationHours", 1, Some(1), |_, a| unit(&a, 3600e9));
    m.insert("durationDays", 1, Some(1), |_, a| unit(&a, 86_400e9));
    m.insert("durationWeeks", 1, Some(1), |_, a| unit(&a, 604_800e9));
    m.insert("durationRoundTo", 2, Some(2), |_, a| round_to(&a, true));
    m.insert("durationTruncateTo", 2, Some(2), |_, a| round_to(&a, false));
    let _ = to_float64;
}

/// Helm's durationRoundTo/durationTruncateTo: `v` unchanged when `m` is
/// invalid or not positive.
fn round_to(a: &[Value], round: bool) -> FuncResult {
    let d = as_duration(&arg(a, 0)).unwrap_or(0);
    let m = as_duration(&arg(a, 1)).unwrap_or(0);
    if m <= 0 {
        return s(format_duration(d));
    }
    let r = if round {
        // time.Duration.Round: halves away from zero.
        let rem = d % m;
        if d < 0 {
            let rem = -rem;
            if rem + rem < m { d + rem } else { d + rem - m }
        } else if rem + rem < m {
            d - rem
        } else {
            d + m - rem
        }
    } else {
        d - d % m
    };
    s(format_duration(r))
}
