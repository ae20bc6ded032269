//! Endpoint ids and the upstream URLs built from them.
//!
//! `fal-ai/flux/dev` submits to the full id, but status, result and cancel live
//! under `owner/alias` only (`fal-ai/flux`). Ids under a namespace
//! (`workflows/owner/alias/...`) keep the namespace in that base.

use core::fmt::Write;

pub const QUEUE_HOST: &str = "https://queue.fal.run";
pub const RUN_HOST: &str = "https://fal.run";

pub const NAMESPACES: [&str; 2] = ["workflows", "comfy"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointId {
    namespace: Option<String>,
    owner: String,
    alias: String,
    path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointError {
    Empty,
    /// `fal-ai` alone: an endpoint needs at least `owner/alias`.
    MissingAlias,
    /// Empty segment, `.`/`..`, or a character that would change the URL's meaning.
    BadSegment(String),
}

impl core::fmt::Display for EndpointError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Empty => f.write_str("the endpoint id is empty; expected 'owner/alias', e.g. 'fal-ai/flux/dev'"),
            Self::MissingAlias => f.write_str("the endpoint id needs an owner and an alias, e.g. 'fal-ai/flux/dev'"),
            Self::BadSegment(s) => write!(f, "the endpoint id has an invalid part '{s}': use letters, digits, '-', '_' and '.' between slashes"),
        }
    }
}

fn valid_segment(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl EndpointId {
    pub fn parse(id: &str) -> Result<Self, EndpointError> {
        let id = id.trim().trim_matches('/');
        if id.is_empty() {
            return Err(EndpointError::Empty);
        }
        let mut parts: Vec<&str> = id.split('/').collect();
        if let Some(bad) = parts.iter().find(|p| !valid_segment(p)) {
            return Err(EndpointError::BadSegment(String::from(*bad)));
        }
        // Legacy numeric app ids: `12345-alias` means `12345/alias`.
        if parts.len() == 1 {
            let only = parts[0];
            match only.split_once('-') {
                Some((num, alias)) if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) && !alias.is_empty() => {
                    parts = vec![num, alias];
                }
                _ => return Err(EndpointError::MissingAlias),
            }
        }
        let namespace = if NAMESPACES.contains(&parts[0]) && parts.len() >= 3 { Some(String::from(parts.remove(0))) } else { None };
        let rest = if parts.len() > 2 { Some(parts[2..].join("/")) } else { None };
        Ok(Self { namespace, owner: parts[0].into(), alias: parts[1].into(), path: rest })
    }

    /// The full id, as used for submit and run.
    pub fn full(&self) -> String {
        let mut s = self.app();
        if let Some(p) = &self.path {
            s.push('/');
            s.push_str(p);
        }
        s
    }

    /// `[namespace/]owner/alias`: the base of status, result and cancel URLs.
    pub fn app(&self) -> String {
        let mut s = String::new();
        if let Some(ns) = &self.namespace {
            s.push_str(ns);
            s.push('/');
        }
        s.push_str(&self.owner);
        s.push('/');
        s.push_str(&self.alias);
        s
    }

    pub fn alias(&self) -> &str {
        &self.alias
    }

    pub fn submit_url(&self, webhook: Option<&str>) -> String {
        let mut u = format!("{QUEUE_HOST}/{}", self.full());
        if let Some(w) = webhook {
            u.push_str("?fal_webhook=");
            percent_encode_into(&mut u, w);
        }
        u
    }

    pub fn run_url(&self) -> String {
        format!("{RUN_HOST}/{}", self.full())
    }

    /// `fal.run/{id}/stream`; an id that already ends in `/stream` is not given the suffix twice.
    pub fn stream_url(&self) -> String {
        let mut u = self.run_url();
        if self.path.as_deref().is_none_or(|p| p != "stream" && !p.ends_with("/stream")) {
            u.push_str("/stream");
        }
        u
    }

    fn request_base(&self, request_id: &RequestId) -> String {
        format!("{QUEUE_HOST}/{}/requests/{}", self.app(), request_id.0)
    }

    pub fn status_url(&self, id: &RequestId, logs: bool) -> String {
        format!("{}/status?logs={}", self.request_base(id), logs as u8)
    }

    pub fn status_stream_url(&self, id: &RequestId, logs: bool) -> String {
        format!("{}/status/stream?logs={}", self.request_base(id), logs as u8)
    }

    pub fn result_url(&self, id: &RequestId) -> String {
        self.request_base(id)
    }

    pub fn cancel_url(&self, id: &RequestId) -> String {
        format!("{}/cancel", self.request_base(id))
    }

    /// The app's realtime path as fal and its official client name it: the full id, then
    /// `/realtime` unless the id already ends in it; an explicit `path` gets exactly one
    /// leading `/` instead. What a `tokenProvider` is given, and the socket's path.
    pub fn realtime_path(&self, path: Option<&str>) -> Result<String, EndpointError> {
        let mut s = self.full();
        match path.map(|p| p.trim_start_matches('/')).filter(|p| !p.is_empty()) {
            Some(p) => {
                if let Some(bad) = p.split('/').find(|seg| !valid_segment(seg)) {
                    return Err(EndpointError::BadSegment(bad.into()));
                }
                s.push('/');
                s.push_str(p);
            }
            None if self.path.as_deref().is_some_and(|p| p == "realtime" || p.ends_with("/realtime")) => {}
            None => s.push_str("/realtime"),
        }
        Ok(s)
    }
}

/// A request id as the queue returned it. Checked so it can't smuggle path
/// segments or a query into the URLs built from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    pub fn parse(id: &str) -> Option<Self> {
        let ok = !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
        ok.then(|| Self(id.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// RFC 3986 unreserved characters pass; everything else is %XX.
pub fn percent_encode_into(out: &mut String, s: &str) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> EndpointId {
        EndpointId::parse(s).unwrap()
    }
    fn rid(s: &str) -> RequestId {
        RequestId::parse(s).unwrap()
    }

    #[test]
    fn subpath_submits_to_full_id_but_polls_owner_alias() {
        let e = id("fal-ai/flux/dev");
        assert_eq!(e.submit_url(None), "https://queue.fal.run/fal-ai/flux/dev");
        let r = rid("abc-123");
        assert_eq!(e.status_url(&r, true), "https://queue.fal.run/fal-ai/flux/requests/abc-123/status?logs=1");
        assert_eq!(e.stream_url(), "https://fal.run/fal-ai/flux/dev/stream");
        assert_eq!(EndpointId::parse("fal-ai/any-llm/stream").unwrap().stream_url(), "https://fal.run/fal-ai/any-llm/stream");
        assert_eq!(EndpointId::parse("fal-ai/any-llm").unwrap().stream_url(), "https://fal.run/fal-ai/any-llm/stream");
        assert_eq!(EndpointId::parse("fal-ai/x/streamer").unwrap().stream_url(), "https://fal.run/fal-ai/x/streamer/stream");
        assert_eq!(e.status_stream_url(&r, false), "https://queue.fal.run/fal-ai/flux/requests/abc-123/status/stream?logs=0");
        assert_eq!(e.result_url(&r), "https://queue.fal.run/fal-ai/flux/requests/abc-123");
        assert_eq!(e.cancel_url(&r), "https://queue.fal.run/fal-ai/flux/requests/abc-123/cancel");
        assert_eq!(e.run_url(), "https://fal.run/fal-ai/flux/dev");
    }

    #[test]
    fn deep_subpaths_and_plain_ids() {
        let e = id("fal-ai/flux-lora/image-to-image/extra");
        assert_eq!(e.full(), "fal-ai/flux-lora/image-to-image/extra");
        assert_eq!(e.app(), "fal-ai/flux-lora");
        let e = id("fal-ai/fast-sdxl");
        assert_eq!(e.full(), "fal-ai/fast-sdxl");
        assert_eq!(e.app(), "fal-ai/fast-sdxl");
        assert_eq!(e.alias(), "fast-sdxl");
    }

    #[test]
    fn namespaces_stay_in_the_base() {
        let e = id("workflows/acme/my-flow/run");
        assert_eq!(e.app(), "workflows/acme/my-flow");
        assert_eq!(e.full(), "workflows/acme/my-flow/run");
        // A two-part id whose owner happens to be called `comfy` is not a namespace.
        assert_eq!(id("comfy/alias").app(), "comfy/alias");
    }

    #[test]
    fn legacy_numeric_ids() {
        assert_eq!(id("12345-sdxl").app(), "12345/sdxl");
        assert_eq!(EndpointId::parse("flux"), Err(EndpointError::MissingAlias));
    }

    #[test]
    fn surrounding_slashes_and_space_are_trimmed() {
        assert_eq!(id(" /fal-ai/flux/dev/ ").full(), "fal-ai/flux/dev");
    }

    #[test]
    fn rejects_ids_that_would_change_the_url() {
        for bad in ["fal-ai//flux", "fal-ai/../admin", "fal-ai/flux?x=1", "fal-ai/fl ux", "fal-ai/flux#x", "a/b%2f", "a/./b", "fal-ai/flüx"] {
            assert!(matches!(EndpointId::parse(bad), Err(EndpointError::BadSegment(_))), "{bad}");
        }
        assert_eq!(EndpointId::parse("  "), Err(EndpointError::Empty));
    }

    #[test]
    fn request_ids_cannot_inject_paths() {
        assert!(RequestId::parse("../x").is_none());
        assert!(RequestId::parse("a/b").is_none());
        assert!(RequestId::parse("a?b").is_none());
        assert!(RequestId::parse("").is_none());
        assert!(RequestId::parse("764cabcf-b745-4b3e-ae38-1200304cf45b").is_some());
    }

    #[test]
    fn realtime_paths_as_the_official_client_builds_them() {
        assert_eq!(id("fal-ai/fast-lcm-diffusion").realtime_path(None).unwrap(), "fal-ai/fast-lcm-diffusion/realtime");
        assert_eq!(id("fal-ai/fast-lcm-diffusion/realtime").realtime_path(None).unwrap(), "fal-ai/fast-lcm-diffusion/realtime");
        assert_eq!(id("fal-ai/x/v2/realtime").realtime_path(None).unwrap(), "fal-ai/x/v2/realtime");
        assert_eq!(id("fal-ai/x").realtime_path(Some("/ws")).unwrap(), "fal-ai/x/ws");
        assert_eq!(id("fal-ai/x").realtime_path(Some("///ws/v2")).unwrap(), "fal-ai/x/ws/v2");
        assert_eq!(id("fal-ai/x/realtime").realtime_path(Some("stream")).unwrap(), "fal-ai/x/realtime/stream");
        assert_eq!(id("12345-sdxl").realtime_path(None).unwrap(), "12345/sdxl/realtime");
        // An alias that merely ends in the word is not the realtime path.
        assert_eq!(id("fal-ai/myrealtime").realtime_path(None).unwrap(), "fal-ai/myrealtime/realtime");
        assert_eq!(id("fal-ai/x").realtime_path(Some("")).unwrap(), "fal-ai/x/realtime", "empty means the default, as in the official client");
        for bad in ["a?b", "a/../b", "a//b", "x y"] {
            assert!(id("fal-ai/x").realtime_path(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn webhook_is_percent_encoded() {
        let u = id("fal-ai/flux/dev").submit_url(Some("https://me.dev/hook?a=1&b=2"));
        assert_eq!(u, "https://queue.fal.run/fal-ai/flux/dev?fal_webhook=https%3A%2F%2Fme.dev%2Fhook%3Fa%3D1%26b%3D2");
    }
}
