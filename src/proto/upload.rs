//! Uploads, the pure parts: simple or multipart, the parts, and progress that
//! only ever rises (parts report independently, and a retried part restarts).

pub const PART_SIZE: u64 = 10 * 1024 * 1024;
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
