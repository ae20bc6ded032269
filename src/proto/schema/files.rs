//! Checks on a file before a byte of it is sent: type, size, image dimensions,
//! reported with the server's own types and ctx (seed 001: file_too_large,
//! image_too_small, image_too_large).

use crate::proto::error::issues::field_path;
use crate::proto::error::{Ctx, FieldIssue, LocPart};
use crate::proto::value::Value;

/// What the browser can tell about a File or Blob without uploading it.
#[derive(Debug, Clone, PartialEq)]
pub struct FileMeta {
    pub size: f64,
    pub content_type: String,
    /// For images that decoded.
    pub dimensions: Option<(f64, f64)>,
}

/// An endpoint's limits for one file field. `types` are MIME types, `image/*` style wildcards allowed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileLimits {
    pub max_size: Option<f64>,
    pub min_width: Option<f64>,
    pub min_height: Option<f64>,
    pub max_width: Option<f64>,
    pub max_height: Option<f64>,
    pub types: Vec<String>,
}

impl FileLimits {
    pub fn needs_dimensions(&self) -> bool {
        self.min_width.is_some() || self.min_height.is_some() || self.max_width.is_some() || self.max_height.is_some()
    }
}

fn issue(loc: &[LocPart], kind: &str, msg: &str, ctx: Vec<(&str, Value)>, name: &str) -> FieldIssue {
    let ctx = Value::Obj(ctx.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
    FieldIssue {
        loc: loc.to_vec(),
        field: field_path(loc),
        ctx: Ctx::read(kind, &ctx),
        kind: kind.into(),
        msg: msg.into(),
        input: Some(Value::Str(name.into())),
        url: Some(format!("https://docs.fal.ai/errors/#{kind}")),
        hint: None,
    }
}

fn type_allowed(t: &str, allowed: &[String]) -> bool {
    let t = t.to_ascii_lowercase();
    allowed.is_empty()
        || allowed.iter().any(|a| {
            let a = a.to_ascii_lowercase();
            a == t || a.strip_suffix("/*").is_some_and(|major| t.split('/').next() == Some(major))
        })
}

/// The first problem of the file, in this order: type, size, dimensions. `name` is shown as `input`.
pub fn file_issues(loc: &[LocPart], meta: &FileMeta, limits: &FileLimits, name: &str) -> Option<FieldIssue> {
    if !type_allowed(&meta.content_type, &limits.types) {
        let supported = Value::Arr(limits.types.iter().cloned().map(Value::Str).collect());
        return Some(issue(loc, "unsupported_file_type", "Unsupported file type", vec![("supported_types", supported)], name));
    }
    if let Some(max) = limits.max_size.filter(|m| meta.size > *m) {
        return Some(issue(loc, "file_too_large", "File too large", vec![("max_size", Value::Num(max))], name));
    }
    let (w, h) = meta.dimensions?;
    let too_small = limits.min_width.is_some_and(|m| w < m) || limits.min_height.is_some_and(|m| h < m);
    if too_small {
        let ctx = vec![("min_height", Value::Num(limits.min_height.unwrap_or(0.0))), ("min_width", Value::Num(limits.min_width.unwrap_or(0.0)))];
        return Some(issue(loc, "image_too_small", "Image too small", ctx, name));
    }
    let too_large = limits.max_width.is_some_and(|m| w > m) || limits.max_height.is_some_and(|m| h > m);
    if too_large {
        let ctx = vec![("max_height", Value::Num(limits.max_height.unwrap_or(f64::MAX))), ("max_width", Value::Num(limits.max_width.unwrap_or(f64::MAX)))];
        return Some(issue(loc, "image_too_large", "Image too large", ctx, name));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc() -> Vec<LocPart> {
        vec![LocPart::Key("body".into()), LocPart::Key("image_url".into())]
    }
    fn png(size: f64, w: f64, h: f64) -> FileMeta {
        FileMeta { size, content_type: "image/png".into(), dimensions: Some((w, h)) }
    }
    fn limits() -> FileLimits {
        FileLimits {
            max_size: Some(1000.0),
            min_width: Some(512.0),
            min_height: Some(512.0),
            max_width: Some(2048.0),
            max_height: Some(2048.0),
            types: vec!["image/*".into()],
        }
    }

    #[test]
    fn an_image_within_limits_passes() {
        assert_eq!(file_issues(&loc(), &png(900.0, 512.0, 1024.0), &limits(), "cat.png"), None);
    }

    #[test]
    fn each_limit_reports_the_servers_type_and_ctx() {
        let small = file_issues(&loc(), &png(10.0, 100.0, 600.0), &limits(), "cat.png").unwrap();
        assert_eq!((small.kind.as_str(), small.field.as_str()), ("image_too_small", "image_url"));
        assert_eq!(small.ctx, Some(Ctx::ImageTooSmall { min_height: 512.0, min_width: 512.0 }));
        let large = file_issues(&loc(), &png(10.0, 600.0, 4000.0), &limits(), "cat.png").unwrap();
        assert_eq!(large.ctx, Some(Ctx::ImageTooLarge { max_height: 2048.0, max_width: 2048.0 }));
        let heavy = file_issues(&loc(), &png(5000.0, 600.0, 600.0), &limits(), "cat.png").unwrap();
        assert_eq!((heavy.kind.as_str(), heavy.ctx), ("file_too_large", Some(Ctx::FileTooLarge { max_size: 1000.0 })));
        let pdf = FileMeta { size: 10.0, content_type: "application/pdf".into(), dimensions: None };
        assert_eq!(file_issues(&loc(), &pdf, &limits(), "a.pdf").unwrap().kind, "unsupported_file_type");
    }

    #[test]
    fn wildcards_and_unknown_dimensions() {
        assert!(type_allowed("IMAGE/JPEG", &["image/*".into()]));
        assert!(!type_allowed("imagex/jpeg", &["image/*".into()]));
        assert!(type_allowed("anything", &[]));
        let undecoded = FileMeta { size: 10.0, content_type: "image/png".into(), dimensions: None };
        assert_eq!(file_issues(&loc(), &undecoded, &limits(), "x"), None, "the server judges what the browser couldn't decode");
    }
}
