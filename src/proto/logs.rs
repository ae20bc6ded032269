//! Merging a job's log lines, whatever shape the queue sends them in.
//!
//! fal's status stream sends only the new lines of each event; a status poll
//! answers the lines of a five-minute window; older proxies and other services
//! send the whole list every time (shared/reference/fal-protocol.md). One merge
//! covers all three: a line is known by `(timestamp, message)`, as fal's own CLI
//! de-duplicates them, and a batch adds only the occurrences of a key beyond those
//! already seen. So a delta adds every line, a snapshot or a window adds only its
//! tail, and nothing is lost, repeated or reordered. (Two identical lines with the
//! same timestamp sent in *different* delta events count as one: no source can
//! tell them apart from a repeat.)

use crate::proto::map::Map;

/// What identifies a log line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogKey {
    pub timestamp: String,
    pub message: String,
}

impl LogKey {
    pub fn new(timestamp: impl Into<String>, message: impl Into<String>) -> Self {
        Self { timestamp: timestamp.into(), message: message.into() }
    }

    /// One string per key for the map; the separator can't occur in a timestamp
    /// field that JSON text carried (it is a control character).
    fn joined(&self) -> String {
        let mut s = String::with_capacity(self.timestamp.len() + 1 + self.message.len());
        s.push_str(&self.timestamp);
        s.push('\u{1}');
        s.push_str(&self.message);
        s
    }
}

/// The lines of one job seen so far, by key, with how often each was seen.
#[derive(Debug, Default, Clone)]
pub struct LogBook {
    seen: Map<u32>,
    lines: usize,
}

impl LogBook {
    /// Merges one batch (in the order the server listed it) and returns the indices,
    /// into `batch`, of the lines that are new, in order.
    pub fn merge(&mut self, batch: &[LogKey]) -> Vec<usize> {
        // Occurrences of each key in this batch so far, to add only those past the seen count.
        let mut in_batch: Map<u32> = Map::new();
        let mut fresh = Vec::new();
        for (i, key) in batch.iter().enumerate() {
            let k = key.joined();
            let n = in_batch.get_or_insert_with(&k, || 0);
            *n += 1;
            let nth = *n;
            let seen = self.seen.get_or_insert_with(&k, || 0);
            if nth > *seen {
                *seen = nth;
                fresh.push(i);
            }
        }
        self.lines += fresh.len();
        fresh
    }

    /// Lines merged so far.
    pub fn len(&self) -> usize {
        self.lines
    }

    pub fn is_empty(&self) -> bool {
        self.lines == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(spec: &[(u32, &str)]) -> Vec<LogKey> {
        spec.iter().map(|(t, m)| LogKey::new(format!("2026-01-01T00:00:{t:02}.000Z"), *m)).collect()
    }

    /// Replays the batches and returns the merged list of messages.
    fn replay(batches: &[Vec<LogKey>]) -> Vec<String> {
        let mut book = LogBook::default();
        let mut out = Vec::new();
        for b in batches {
            for i in book.merge(b) {
                out.push(b[i].message.clone());
            }
        }
        assert_eq!(book.len(), out.len());
        out
    }

    fn lines(n: u32) -> Vec<LogKey> {
        (0..n).map(|i| LogKey::new(format!("t{i:03}"), format!("line {i}"))).collect()
    }

    #[test]
    fn deltas_snapshots_and_windows_give_the_same_list() {
        let all = lines(30);
        let expected: Vec<String> = all.iter().map(|k| k.message.clone()).collect();
        // Deltas: each event only the new lines, a few at a time, some events empty.
        let deltas: Vec<Vec<LogKey>> = all.chunks(4).flat_map(|c| [c.to_vec(), vec![]]).collect();
        assert_eq!(replay(&deltas), expected);
        // Snapshots: every event the whole list so far.
        let snaps: Vec<Vec<LogKey>> = (0..=30).step_by(3).map(|n| all[..n].to_vec()).chain([all.clone()]).collect();
        assert_eq!(replay(&snaps), expected);
        // A sliding window of at most 8 lines, advancing by up to 5.
        let windows: Vec<Vec<LogKey>> = (0..=30usize).step_by(5).map(|end| all[end.saturating_sub(8)..end].to_vec()).chain([all[22..].to_vec()]).collect();
        assert_eq!(replay(&windows), expected);
        // Mixed: deltas on the stream, then a polling window after a fallback.
        let mixed = vec![all[..10].to_vec(), all[10..12].to_vec(), all[5..20].to_vec(), all[18..].to_vec(), all[25..].to_vec()];
        assert_eq!(replay(&mixed), expected);
    }

    #[test]
    fn identical_lines_inside_one_batch_are_all_kept() {
        let twice = keys(&[(1, "step"), (1, "step"), (2, "done")]);
        assert_eq!(replay(std::slice::from_ref(&twice)), ["step", "step", "done"]);
        // ...and a snapshot repeating them adds nothing, a longer one only the extra copy.
        let thrice = keys(&[(1, "step"), (1, "step"), (1, "step"), (2, "done")]);
        assert_eq!(replay(&[twice.clone(), twice.clone(), thrice]), ["step", "step", "done", "step"]);
    }

    #[test]
    fn the_same_message_at_another_time_is_another_line() {
        assert_eq!(replay(&[keys(&[(1, "tick")]), keys(&[(2, "tick")]), keys(&[(1, "tick"), (2, "tick")])]), ["tick", "tick"]);
    }

    #[test]
    fn random_splits_never_lose_repeat_or_reorder() {
        let all = lines(60);
        let expected: Vec<String> = all.iter().map(|k| k.message.clone()).collect();
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..500 {
            // Each batch reaches back no further than the end of the one before (no line is skipped
            // by the server), so the merge alone must make the list whole.
            let mut batches = Vec::new();
            let mut end = 0;
            while end < all.len() {
                let start = next(end + 1);
                end = (end + next(7)).min(all.len());
                batches.push(all[start..end].to_vec());
            }
            assert_eq!(replay(&batches), expected);
        }
    }
}
