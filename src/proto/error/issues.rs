//! Field issues of a 422 (`detail: [{loc, msg, type, url, ctx, input}]`, seed 001),
//! with `ctx` typed for every type the seed documents. Unknown types and
//! shapes are kept as they came, never dropped.

use serde::Serialize;

use crate::proto::value::Value;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum LocPart {
    Key(String),
    Index(u64),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldIssue {
    pub loc: Vec<LocPart>,
    /// The input path without the leading `body`: `image_size.width`, `images[0]`; empty for the whole input.
    pub field: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub msg: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ctx: Option<Ctx>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A suggestion beyond the server's message, added by client-side validation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// `ctx` per error type (seed 001). `Other` keeps what didn't match the documented shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Ctx {
    GreaterThan { gt: f64 },
    GreaterThanEqual { ge: f64 },
    LessThan { lt: f64 },
    LessThanEqual { le: f64 },
    MultipleOf { multiple_of: f64 },
    MinLength { min_length: f64 },
    MaxLength { max_length: f64 },
    OneOf { expected: Vec<Value> },
    ImageTooSmall { min_height: f64, min_width: f64 },
    ImageTooLarge { max_height: f64, max_width: f64 },
    FileTooLarge { max_size: f64 },
    InvalidArchive { supported_extensions: Vec<String> },
    ArchiveBelowMinimum { min_count: f64, provided_count: f64, supported_extensions: Vec<String> },
    ArchiveAboveMaximum { max_count: f64, provided_count: f64, supported_extensions: Vec<String> },
    Other(Value),
}

fn num(ctx: &Value, key: &str) -> Option<f64> {
    ctx.get(key).and_then(Value::as_f64)
}

fn strings(ctx: &Value, key: &str) -> Option<Vec<String>> {
    ctx.get(key)?.as_array()?.iter().map(|v| v.as_str().map(String::from)).collect()
}

impl Ctx {
    fn typed(kind: &str, c: &Value) -> Option<Ctx> {
        Some(match kind {
            "greater_than" => Ctx::GreaterThan { gt: num(c, "gt")? },
            "greater_than_equal" => Ctx::GreaterThanEqual { ge: num(c, "ge")? },
            "less_than" => Ctx::LessThan { lt: num(c, "lt")? },
            "less_than_equal" => Ctx::LessThanEqual { le: num(c, "le")? },
            "multiple_of" => Ctx::MultipleOf { multiple_of: num(c, "multiple_of")? },
            "sequence_too_short" | "string_too_short" | "too_short" => Ctx::MinLength { min_length: num(c, "min_length")? },
            "sequence_too_long" | "string_too_long" | "too_long" => Ctx::MaxLength { max_length: num(c, "max_length")? },
            "one_of" | "enum" | "literal_error" => Ctx::OneOf { expected: c.get("expected")?.as_array()?.to_vec() },
            "image_too_small" => Ctx::ImageTooSmall { min_height: num(c, "min_height")?, min_width: num(c, "min_width")? },
            "image_too_large" => Ctx::ImageTooLarge { max_height: num(c, "max_height")?, max_width: num(c, "max_width")? },
            "file_too_large" => Ctx::FileTooLarge { max_size: num(c, "max_size")? },
            "invalid_archive" => Ctx::InvalidArchive { supported_extensions: strings(c, "supported_extensions")? },
            "archive_file_count_below_minimum" => Ctx::ArchiveBelowMinimum {
                min_count: num(c, "min_count")?,
                provided_count: num(c, "provided_count")?,
                supported_extensions: strings(c, "supported_extensions")?,
            },
            "archive_file_count_exceeds_maximum" => Ctx::ArchiveAboveMaximum {
                max_count: num(c, "max_count")?,
                provided_count: num(c, "provided_count")?,
                supported_extensions: strings(c, "supported_extensions")?,
            },
            _ => return None,
        })
    }

    pub fn read(kind: &str, ctx: &Value) -> Option<Ctx> {
        if ctx.is_null() {
            return None;
        }
        Some(Ctx::typed(kind, ctx).unwrap_or_else(|| Ctx::Other(ctx.clone())))
    }
}

/// `["body", "image_size", "width"]` -> `image_size.width`; `["body", "images", 0]` -> `images[0]`.
pub fn field_path(loc: &[LocPart]) -> String {
    let mut out = String::new();
    let rest = match loc.first() {
        Some(LocPart::Key(k)) if k == "body" => &loc[1..],
        _ => loc,
    };
    for part in rest {
        match part {
            LocPart::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            LocPart::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

pub fn loc_of(v: Option<&Value>) -> Vec<LocPart> {
    let Some(items) = v.and_then(Value::as_array) else {
        // A bare string loc (seen from odd gateways) still names the place.
        return v.and_then(Value::as_str).map(|s| vec![LocPart::Key(s.into())]).unwrap_or_default();
    };
    items
        .iter()
        .filter_map(|p| match p {
            Value::Str(s) => Some(LocPart::Key(s.clone())),
            Value::Num(n) if *n >= 0.0 && n.fract() == 0.0 => Some(LocPart::Index(*n as u64)),
            _ => None,
        })
        .collect()
}

/// One item of a `detail` array. Never fails: what is missing gets a neutral value.
pub fn read_issue(item: &Value) -> FieldIssue {
    if let Value::Str(s) = item {
        return FieldIssue { loc: Vec::new(), field: String::new(), kind: "unknown".into(), msg: s.clone(), ctx: None, input: None, url: None, hint: None };
    }
    let loc = loc_of(item.get("loc"));
    let kind = item.str_field("type").unwrap_or("unknown").to_string();
    let msg = item.str_field("msg").map(String::from).unwrap_or_else(|| default_msg(&kind));
    FieldIssue {
        field: field_path(&loc),
        loc,
        ctx: item.get("ctx").and_then(|c| Ctx::read(&kind, c)),
        input: item.get("input").cloned(),
        url: item.str_field("url").map(String::from),
        hint: None,
        msg,
        kind,
    }
}

/// An issue as `shapes::issues` wrote it (the validator module's answer to the core): all of
/// [`read_issue`], the client's `hint`, and `field` as written (a union member's label in `loc`
/// is not part of the field).
#[cfg_attr(not(all(target_arch = "wasm32", feature = "client")), allow(dead_code))]
pub fn read_shaped(item: &Value) -> FieldIssue {
    let issue = read_issue(item);
    FieldIssue { hint: item.str_field("hint").map(String::from), field: item.str_field("field").map(String::from).unwrap_or(issue.field.clone()), ..issue }
}

fn default_msg(kind: &str) -> String {
    match kind {
        "missing" => "Field required".into(),
        "unknown" => "Invalid input".into(),
        other => other.replace('_', " "),
    }
}

/// Another API's `errors: ["Missing required field: prompt", ...]` (seed 004) as field issues.
pub fn read_message_issue(text: &str) -> FieldIssue {
    let named = |prefix: &str| text.strip_prefix(prefix).map(|rest| rest.split(':').next().unwrap_or("").trim().to_string());
    let (kind, field) = if let Some(f) = named("Missing required field:") {
        ("missing", f)
    } else if let Some(f) = named("Invalid value for ") {
        ("invalid_value", f)
    } else {
        ("unknown", String::new())
    };
    let loc = if field.is_empty() || field.contains(' ') { Vec::new() } else { vec![LocPart::Key("body".into()), LocPart::Key(field.clone())] };
    FieldIssue { field: field_path(&loc), loc, kind: kind.into(), msg: text.into(), ctx: None, input: None, url: None, hint: None }
}
