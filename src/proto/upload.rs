//! Uploads, the pure parts: simple or multipart, the parts, and progress that
//! only ever rises (parts report independently, and a retried part restarts).

use std::collections::VecDeque;

use crate::proto::value::Value;

pub const PART_SIZE: u64 = 10 * 1024 * 1024;
/// Parts in flight at once: enough to fill the pipe, not enough to starve the page. Also the
/// files of one input uploaded at once.
pub const PARALLEL: usize = 3;
const STORAGE: &str = "https://rest.fal.ai/storage/upload";
/// Above this a file goes in parts (each retried alone, several at once). 90 MiB as in fal's own
/// client: the default `@fal-ai/server-proxy` allowlist refuses `initiate-multipart`.
pub const DEFAULT_MULTIPART_THRESHOLD: u64 = 90 * 1024 * 1024;

/// Splits an upload URL into `origin + pathname` and `search` (with its `?`); a fragment goes.
/// fal's multipart `upload_url` is signed (a query string), and the query must stay at the end.
/// (`split_once`, not slicing by index: slicing brings a panic path into the wasm, docs/size.md.)
fn split_query(upload_url: &str) -> (&str, Option<&str>) {
    let no_fragment = upload_url.split_once('#').map_or(upload_url, |(u, _)| u);
    match no_fragment.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (no_fragment, None),
    }
}

fn with_segment(upload_url: &str, segment: &str) -> String {
    let (base, query) = split_query(upload_url);
    let mut s = String::with_capacity(upload_url.len() + segment.len() + 1);
    s.push_str(base);
    s.push('/');
    s.push_str(segment);
    if let Some(q) = query {
        s.push('?');
        s.push_str(q);
    }
    s
}

/// Where part `n` goes: `{origin}{pathname}/{n}{search}`, as fal's own client builds it.
pub fn part_url(upload_url: &str, n: u32) -> String {
    with_segment(upload_url, &crate::proto::num::fmt_u64(u64::from(n)))
}

/// Where the parts are completed: `{origin}{pathname}/complete{search}`.
pub fn complete_url(upload_url: &str) -> String {
    with_segment(upload_url, "complete")
}

/// Where an upload is initiated (through the proxy): simple, or in parts.
pub fn initiate_url(multipart: bool) -> String {
    let mut s = String::from(STORAGE);
    s.push_str(if multipart { "/initiate-multipart" } else { "/initiate" });
    s.push_str("?storage_type=fal-cdn-v3");
    s
}

/// The content type: the caller's, else the file's own, else bytes.
pub fn content_type(given: Option<String>, of_file: Option<String>) -> String {
    given.or(of_file.filter(|t| !t.is_empty())).unwrap_or_else(|| "application/octet-stream".into())
}

/// The file's name: the caller's, else the File's, else `upload.<subtype>` of the content type.
pub fn file_name(given: Option<String>, of_file: Option<String>, content_type: &str) -> String {
    given.or(of_file.filter(|n| !n.is_empty())).unwrap_or_else(|| {
        let ext = content_type.split('/').nth(1).map(|e| e.split(['+', ';']).next().unwrap_or("bin")).unwrap_or("bin");
        let mut s = String::from("upload.");
        s.push_str(ext);
        s
    })
}

pub fn initiate_body(content_type: &str, file_name: &str) -> String {
    let f = |v: &str| Value::Str(v.into());
    crate::proto::json::to_string(&Value::Obj(vec![("content_type".into(), f(content_type)), ("file_name".into(), f(file_name))]))
}

/// The initiate's answer: `(upload_url, file_url)`.
pub fn initiated(answer: &Value) -> Option<(String, String)> {
    Some((answer.str_field("upload_url")?.into(), answer.str_field("file_url")?.into()))
}

/// A part's etag: from its JSON answer (fal), else its `ETag` header (fal's CDN, as the Python client reads it).
pub fn etag(answer: &Value, header: Option<String>) -> String {
    answer.str_field("etag").map(String::from).or(header).unwrap_or_default()
}

/// The completion's body: every part by number, in order.
pub fn complete_body(mut parts: Vec<(u32, String)>) -> String {
    crate::proto::sort::sort_by(&mut parts, |a, b| a.0 < b.0);
    let list =
        parts.into_iter().map(|(n, etag)| Value::Obj(vec![("partNumber".into(), Value::Num(f64::from(n))), ("etag".into(), Value::Str(etag))])).collect();
    crate::proto::json::to_string(&Value::Obj(vec![("parts".into(), Value::Arr(list))]))
}

/// What `onProgress` gets.
pub fn progress(loaded: u64, total: u64) -> Value {
    let n = |k: &str, v: f64| (k.to_string(), Value::Num(v));
    let fraction = if total == 0 { 1.0 } else { loaded as f64 / total as f64 };
    Value::Obj(vec![n("loaded", loaded as f64), n("total", total as f64), n("fraction", fraction)])
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    Simple,
    /// `(part number from 1, start, end)` byte ranges.
    Multipart(Vec<(u32, u64, u64)>),
}

pub fn plan(size: u64, threshold: u64) -> Plan {
    if size <= threshold {
        return Plan::Simple;
    }
    let parts = (0..size.div_ceil(PART_SIZE)).map(|i| (i as u32 + 1, i * PART_SIZE, ((i + 1) * PART_SIZE).min(size))).collect();
    Plan::Multipart(parts)
}

/// One upload as a sans-IO machine: the edge carries out each [`UploadAction`] (each request a
/// call under the client's policy) and feeds back what happened. The initiate goes through the
/// proxy; then one PUT of the whole file, or the parts, at most [`PARALLEL`] at once in order, a
/// part failing for good stopping the others; then the completion. Progress only rises.
#[derive(Debug)]
pub struct Upload {
    multipart: bool,
    /// `(part number, start, end)`; a simple upload is one part, number 0.
    parts: Vec<(u32, u64, u64)>,
    next: usize,
    running: usize,
    etags: Vec<(u32, String)>,
    urls: Option<(String, String)>,
    progress: Progress,
    total: u64,
    done: bool,
    /// Kept to initiate again, whole, if the proxy refuses the multipart initiate.
    initiate_body: String,
    actions: VecDeque<UploadAction>,
}

/// A multipart initiate that failed with this status was refused on the way (the proxy's
/// allowlist: `@fal-ai/server-proxy` answers 400 "Invalid request" for a URL off its list,
/// genwire's proxies 400/403 `proxy_target_rejected`, others 403/404/405), not by a failure that a
/// simple upload would hit as well (401 no key, 408/429 wait, 5xx): the file then goes whole, in
/// one PUT straight to the storage, as it would below the threshold.
pub fn multipart_refused(status: Option<u16>) -> bool {
    matches!(status, Some(400 | 403 | 404 | 405 | 412 | 413 | 422))
}

#[derive(Debug, Clone, PartialEq)]
pub enum UploadInput {
    /// The initiate's answer.
    Initiated(Value),
    /// Part `part` (an index of the plan) was stored: its answer, and its `ETag` header.
    Stored {
        part: usize,
        answer: Value,
        etag: Option<String>,
    },
    /// Bytes of part `part` sent so far (a retried part starts again from 0).
    Sent {
        part: usize,
        loaded: u64,
    },
    Completed,
    /// A request failed for good with this HTTP status (`None`: no answer, or aborted): its
    /// error is the edge's to give, unless it was a refused multipart initiate.
    Failed(Option<u16>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum UploadAction {
    Initiate {
        url: String,
        body: String,
    },
    /// PUT bytes `start..end` to `url`, straight to the storage.
    Put {
        part: usize,
        url: String,
        start: u64,
        end: u64,
    },
    /// Stop the parts still out: one failed for good.
    StopParts,
    /// POST `body` to `url`, straight to the storage.
    Complete {
        url: String,
        body: String,
    },
    /// For `onProgress`.
    Progress(Value),
    /// The file's URL; or the failure, or the initiate's answer that named no URLs.
    Done(Result<String, Option<Value>>),
}

impl Upload {
    pub fn new(size: u64, threshold: u64, content_type: &str, file_name: &str) -> Self {
        let (multipart, parts) = match plan(size, threshold) {
            Plan::Simple => (false, vec![(0, 0, size)]),
            Plan::Multipart(p) => (true, p),
        };
        let body = initiate_body(content_type, file_name);
        let initiate = UploadAction::Initiate { url: initiate_url(multipart), body: body.clone() };
        let progress = Progress::new(size, parts.len());
        let actions = VecDeque::from([initiate]);
        Self { multipart, parts, next: 0, running: 0, etags: Vec::new(), urls: None, progress, total: size, done: false, initiate_body: body, actions }
    }

    /// Whether the upload goes in parts (it stops doing so when the proxy refuses them).
    pub fn multipart(&self) -> bool {
        self.multipart
    }

    pub fn poll_action(&mut self) -> Option<UploadAction> {
        self.actions.pop_front()
    }

    pub fn handle(&mut self, input: UploadInput) {
        if self.done {
            return;
        }
        match input {
            UploadInput::Initiated(answer) => match initiated(&answer) {
                Some(urls) => {
                    self.urls = Some(urls);
                    self.start_parts();
                }
                None => self.finish(Err(Some(answer))),
            },
            UploadInput::Stored { part, answer, etag: header } => {
                self.running -= 1;
                if let Some((n, _, _)) = self.parts.get(part).filter(|_| self.multipart) {
                    self.etags.push((*n, etag(&answer, header)));
                }
                self.start_parts();
                match (self.running, &self.urls) {
                    (0, Some((upload_url, _))) if self.next == self.parts.len() && self.multipart => {
                        let (url, body) = (complete_url(upload_url), complete_body(std::mem::take(&mut self.etags)));
                        self.actions.push_back(UploadAction::Complete { url, body });
                    }
                    (0, Some((_, file_url))) if self.next == self.parts.len() => self.finish(Ok(file_url.clone())),
                    _ => {}
                }
            }
            UploadInput::Sent { part, loaded } => {
                if let Some(sent) = self.progress.update(part, loaded) {
                    self.actions.push_back(UploadAction::Progress(progress(sent, self.total)));
                }
            }
            // Before the URLs, the initiate is the only request out.
            UploadInput::Failed(status) if self.multipart && self.urls.is_none() && multipart_refused(status) => {
                self.multipart = false;
                self.parts = vec![(0, 0, self.total)];
                self.progress = Progress::new(self.total, 1);
                self.actions.push_back(UploadAction::Initiate { url: initiate_url(false), body: self.initiate_body.clone() });
            }
            UploadInput::Completed => {
                let url = self.urls.as_ref().map(|u| u.1.clone()).unwrap_or_default();
                self.finish(Ok(url));
            }
            UploadInput::Failed(_) => {
                if self.running > 0 {
                    self.actions.push_back(UploadAction::StopParts);
                }
                self.finish(Err(None));
            }
        }
    }

    fn start_parts(&mut self) {
        let Some((upload_url, _)) = &self.urls else { return };
        while self.running < PARALLEL && self.next < self.parts.len() {
            let (n, start, end) = self.parts[self.next];
            let url = if self.multipart { part_url(upload_url, n) } else { upload_url.clone() };
            self.actions.push_back(UploadAction::Put { part: self.next, url, start, end });
            self.next += 1;
            self.running += 1;
        }
    }

    fn finish(&mut self, r: Result<String, Option<Value>>) {
        if let (Ok(_), Some(sent)) = (&r, self.progress.finish()) {
            self.actions.push_back(UploadAction::Progress(progress(sent, self.total)));
        }
        self.done = true;
        self.actions.push_back(UploadAction::Done(r));
    }
}

/// Bytes sent per part; reports the total only when it grew.
#[derive(Debug, Clone)]
pub struct Progress {
    total: u64,
    parts: Vec<u64>,
    reported: u64,
}

impl Progress {
    pub fn new(total: u64, parts: usize) -> Self {
        Self { total, parts: vec![0; parts.max(1)], reported: 0 }
    }

    /// Part `i` (from 0) has `loaded` bytes sent. Returns the new total if it rose.
    pub fn update(&mut self, i: usize, loaded: u64) -> Option<u64> {
        let slot = self.parts.get_mut(i)?;
        // A retried part starts again from 0; what it had sent is not counted twice, nor taken back.
        *slot = (*slot).max(loaded);
        let sum: u64 = self.parts.iter().sum::<u64>().min(self.total);
        (sum > self.reported).then(|| {
            self.reported = sum;
            sum
        })
    }

    /// Everything arrived: the final report, if not already made.
    pub fn finish(&mut self) -> Option<u64> {
        (self.reported < self.total || self.total == 0).then(|| {
            self.reported = self.total;
            self.total
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_files_go_whole_large_ones_in_10_mib_parts() {
        assert_eq!(plan(1_000, DEFAULT_MULTIPART_THRESHOLD), Plan::Simple);
        assert_eq!(plan(DEFAULT_MULTIPART_THRESHOLD, DEFAULT_MULTIPART_THRESHOLD), Plan::Simple);
        let mib = 1024 * 1024;
        assert_eq!(plan(25 * mib, DEFAULT_MULTIPART_THRESHOLD), Plan::Simple, "up to 90 MiB in one PUT, as fal's own client");
        assert_eq!(plan(25 * mib, 16 * mib), Plan::Multipart(vec![(1, 0, 10 * mib), (2, 10 * mib, 20 * mib), (3, 20 * mib, 25 * mib)]));
        assert!(matches!(plan(91 * mib, DEFAULT_MULTIPART_THRESHOLD), Plan::Multipart(p) if p.len() == 10));
        assert_eq!(plan(20 * mib, 0), Plan::Multipart(vec![(1, 0, 10 * mib), (2, 10 * mib, 20 * mib)]));
    }

    #[test]
    fn part_and_complete_urls_keep_a_signed_query_at_the_end() {
        let signed = "https://storage.example/v3/upload/abc?X-Goog-Signature=s%2F1&expires=99";
        assert_eq!(part_url(signed, 3), "https://storage.example/v3/upload/abc/3?X-Goog-Signature=s%2F1&expires=99");
        assert_eq!(complete_url(signed), "https://storage.example/v3/upload/abc/complete?X-Goog-Signature=s%2F1&expires=99");
        assert_eq!(part_url("http://127.0.0.1:8/sim/upload/id", 1), "http://127.0.0.1:8/sim/upload/id/1");
        assert_eq!(complete_url("http://h/u/id#frag"), "http://h/u/id/complete");
        assert_eq!(part_url("http://h/u/id?a=1#frag", 2), "http://h/u/id/2?a=1");
    }

    fn v(j: &str) -> Value {
        Value::from_deserializer(&mut serde_json::Deserializer::from_str(j)).unwrap()
    }
    fn drain(u: &mut Upload) -> Vec<UploadAction> {
        std::iter::from_fn(|| u.poll_action()).collect()
    }
    fn urls() -> Value {
        v(r#"{"upload_url":"https://s/u?sig=1","file_url":"https://f/x.bin"}"#)
    }

    #[test]
    fn a_simple_upload_is_one_put() {
        let mut u = Upload::new(1_000, DEFAULT_MULTIPART_THRESHOLD, "image/png", "x.png");
        assert_eq!(drain(&mut u), vec![UploadAction::Initiate { url: initiate_url(false), body: initiate_body("image/png", "x.png") }]);
        u.handle(UploadInput::Initiated(urls()));
        assert_eq!(drain(&mut u), vec![UploadAction::Put { part: 0, url: "https://s/u?sig=1".into(), start: 0, end: 1_000 }]);
        u.handle(UploadInput::Sent { part: 0, loaded: 400 });
        u.handle(UploadInput::Stored { part: 0, answer: Value::Null, etag: None });
        assert_eq!(
            drain(&mut u),
            vec![
                UploadAction::Progress(progress(400, 1_000)),
                UploadAction::Progress(progress(1_000, 1_000)),
                UploadAction::Done(Ok("https://f/x.bin".into()))
            ]
        );
    }

    #[test]
    fn parts_go_a_few_at_once_then_complete_in_order() {
        let mib = 1024 * 1024;
        let mut u = Upload::new(45 * mib, 16 * mib, "application/octet-stream", "f");
        drain(&mut u);
        u.handle(UploadInput::Initiated(urls()));
        let puts: Vec<usize> = drain(&mut u).iter().map(|a| if let UploadAction::Put { part, .. } = a { *part } else { 99 }).collect();
        assert_eq!(puts, [0, 1, 2], "three at once");
        u.handle(UploadInput::Stored { part: 1, answer: v(r#"{"etag":"b"}"#), etag: None });
        assert_eq!(drain(&mut u), vec![UploadAction::Put { part: 3, url: "https://s/u/4?sig=1".into(), start: 30 * mib, end: 40 * mib }]);
        for (part, etag) in [(0, "a"), (3, "d"), (2, "c")] {
            u.handle(UploadInput::Stored { part, answer: Value::Null, etag: Some(etag.into()) });
        }
        assert_eq!(drain(&mut u), vec![UploadAction::Put { part: 4, url: "https://s/u/5?sig=1".into(), start: 40 * mib, end: 45 * mib }]);
        u.handle(UploadInput::Stored { part: 4, answer: Value::Null, etag: Some("e".into()) });
        let body = complete_body(vec![(1, "a".into()), (2, "b".into()), (3, "c".into()), (4, "d".into()), (5, "e".into())]);
        assert_eq!(drain(&mut u), vec![UploadAction::Complete { url: "https://s/u/complete?sig=1".into(), body }]);
        u.handle(UploadInput::Completed);
        assert_eq!(drain(&mut u).last(), Some(&UploadAction::Done(Ok("https://f/x.bin".into()))));
    }

    #[test]
    fn a_part_failing_for_good_stops_the_others_and_nothing_completes() {
        let mut u = Upload::new(30 * 1024 * 1024, 0, "a/b", "f");
        drain(&mut u);
        u.handle(UploadInput::Initiated(urls()));
        drain(&mut u);
        u.handle(UploadInput::Failed(None));
        assert_eq!(drain(&mut u), vec![UploadAction::StopParts, UploadAction::Done(Err(None))]);
        u.handle(UploadInput::Stored { part: 1, answer: Value::Null, etag: None });
        u.handle(UploadInput::Completed);
        assert!(drain(&mut u).is_empty(), "nothing after the end");
        let mut u = Upload::new(10, 100, "a/b", "f");
        drain(&mut u);
        u.handle(UploadInput::Initiated(v(r#"{"upload_url":"u"}"#)));
        assert_eq!(drain(&mut u), vec![UploadAction::Done(Err(Some(v(r#"{"upload_url":"u"}"#))))]);
    }

    #[test]
    fn a_refused_multipart_initiate_falls_back_to_one_put() {
        let mib = 1024 * 1024;
        let mut u = Upload::new(25 * mib, 16 * mib, "video/mp4", "v.mp4");
        assert_eq!(drain(&mut u), vec![UploadAction::Initiate { url: initiate_url(true), body: initiate_body("video/mp4", "v.mp4") }]);
        // @fal-ai/server-proxy's default allowlist: 400 "Invalid request".
        u.handle(UploadInput::Failed(Some(400)));
        assert!(!u.multipart());
        assert_eq!(drain(&mut u), vec![UploadAction::Initiate { url: initiate_url(false), body: initiate_body("video/mp4", "v.mp4") }]);
        u.handle(UploadInput::Initiated(urls()));
        assert_eq!(drain(&mut u), vec![UploadAction::Put { part: 0, url: "https://s/u?sig=1".into(), start: 0, end: 25 * mib }]);
        u.handle(UploadInput::Stored { part: 0, answer: Value::Null, etag: None });
        assert_eq!(drain(&mut u).last(), Some(&UploadAction::Done(Ok("https://f/x.bin".into()))));
        // Once: a refused simple initiate is the end.
        let mut u = Upload::new(25 * mib, 16 * mib, "a/b", "f");
        drain(&mut u);
        u.handle(UploadInput::Failed(Some(403)));
        drain(&mut u);
        u.handle(UploadInput::Failed(Some(403)));
        assert_eq!(drain(&mut u), vec![UploadAction::Done(Err(None))]);
    }

    #[test]
    fn a_multipart_initiate_failing_otherwise_is_the_uploads_failure() {
        for status in [None, Some(401), Some(429), Some(500), Some(503)] {
            let mut u = Upload::new(25 * 1024 * 1024, 0, "a/b", "f");
            drain(&mut u);
            u.handle(UploadInput::Failed(status));
            assert_eq!(drain(&mut u), vec![UploadAction::Done(Err(None))], "{status:?}");
            assert!(u.multipart());
        }
    }

    #[test]
    fn the_storage_protocol() {
        assert_eq!(initiate_url(true), "https://rest.fal.ai/storage/upload/initiate-multipart?storage_type=fal-cdn-v3");
        assert_eq!(initiate_body("image/png", "a \"b\".png"), r#"{"content_type":"image/png","file_name":"a \"b\".png"}"#);
        assert_eq!(file_name(None, None, "image/svg+xml"), "upload.svg");
        assert_eq!(file_name(None, Some(String::new()), "application/x"), "upload.x");
        assert_eq!(file_name(None, Some("f.png".into()), "image/png"), "f.png");
        assert_eq!(content_type(None, Some(String::new())), "application/octet-stream");
        let parts = vec![(2, "\"b\"".to_string()), (1, "a".to_string())];
        assert_eq!(complete_body(parts), r#"{"parts":[{"partNumber":1,"etag":"a"},{"partNumber":2,"etag":"\"b\""}]}"#);
        let v = |j: &str| Value::from_deserializer(&mut serde_json::Deserializer::from_str(j)).unwrap();
        assert_eq!(etag(&v(r#"{"etag":"x"}"#), Some("h".into())), "x");
        assert_eq!(etag(&v("{}"), Some("h".into())), "h");
        assert_eq!(initiated(&v(r#"{"upload_url":"u","file_url":"f"}"#)), Some(("u".into(), "f".into())));
        assert_eq!(initiated(&v(r#"{"upload_url":"u"}"#)), None);
        assert_eq!(
            progress(0, 0),
            Value::Obj(vec![("loaded".into(), Value::Num(0.0)), ("total".into(), Value::Num(0.0)), ("fraction".into(), Value::Num(1.0))])
        );
    }

    #[test]
    fn progress_only_rises_and_ends_at_the_total() {
        let mut p = Progress::new(100, 3);
        assert_eq!(p.update(0, 10), Some(10));
        assert_eq!(p.update(1, 20), Some(30));
        assert_eq!(p.update(1, 5), None, "a retried part restarting does not go back");
        assert_eq!(p.update(1, 20), None);
        assert_eq!(p.update(2, 40), Some(70));
        assert_eq!(p.update(7, 40), None, "no such part");
        assert_eq!(p.finish(), Some(100));
        assert_eq!(p.finish(), None);
        let mut empty = Progress::new(0, 1);
        assert_eq!(empty.finish(), Some(0), "an empty file still reports its end");
    }
}
