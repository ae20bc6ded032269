//! Incremental parser for `text/event-stream` (the WHATWG rules that matter here).
//!
//! Bytes arrive in arbitrary chunks: a line, a UTF-8 sequence or a `\r\n` pair
//! may be split between two chunks. Lines are bounded so a misbehaving peer
//! can't make us buffer without limit.

/// Whether a `content-type` is `text/event-stream` (case and parameters aside).
pub fn is_event_stream(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or("").trim();
    media.eq_ignore_ascii_case("text/event-stream")
}

/// One dispatched event: its `event:` name (default "message") and joined `data:` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub name: String,
    pub data: String,
    pub id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseError {
    LineTooLong { limit: usize },
}

impl core::fmt::Display for SseError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::LineTooLong { limit } => write!(f, "event stream line longer than {limit} bytes"),
        }
    }
}

#[derive(Debug)]
pub struct Parser {
    line: Vec<u8>,
    data: String,
    name: String,
    id: Option<String>,
    has_data: bool,
    /// The previous chunk ended in `\r`: a leading `\n` in the next one belongs to it.
    after_cr: bool,
    started: bool,
    max_line: usize,
}

impl Default for Parser {
    fn default() -> Self {
        Self::new(1 << 20)
    }
}

impl Parser {
    pub fn new(max_line: usize) -> Self {
        Self { line: Vec::new(), data: String::new(), name: String::new(), id: None, has_data: false, after_cr: false, started: false, max_line }
    }

    /// Feeds one chunk; complete events are appended to `out`.
    pub fn feed(&mut self, mut chunk: &[u8], out: &mut Vec<Event>) -> Result<(), SseError> {
        if !self.started && !chunk.is_empty() {
            self.started = true;
            chunk = chunk.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(chunk);
        }
        for &b in chunk {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\n' => self.end_line(out),
                b'\r' => {
                    self.after_cr = true;
                    self.end_line(out);
                }
                _ => {
                    if self.line.len() >= self.max_line {
                        return Err(SseError::LineTooLong { limit: self.max_line });
                    }
                    self.line.push(b);
                }
            }
        }
        Ok(())
    }

    /// The body ended: a last line without its line break counts, and an event without its blank
    /// line is dispatched (an output stream's last event must not be lost to a missing `\n\n`).
    pub fn finish(&mut self, out: &mut Vec<Event>) -> Result<(), SseError> {
        if !self.line.is_empty() {
            self.end_line(out);
        }
        self.dispatch(out);
        Ok(())
    }

    fn end_line(&mut self, out: &mut Vec<Event>) {
        let line = core::mem::take(&mut self.line);
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        let text = String::from_utf8_lossy(&line);
        // (split_once, not slicing: no panic path to carry in the wasm)
        let (field, value) = match text.split_once(':') {
            Some(("", _)) => return, // comment: a keep-alive
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (&text[..], ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.name = value.into(),
            "id" if !value.contains('\0') => self.id = Some(value.into()),
            _ => {} // `retry` and unknown fields are ignored
        }
    }

    fn dispatch(&mut self, out: &mut Vec<Event>) {
        let name = core::mem::take(&mut self.name);
        if !self.has_data {
            return;
        }
        self.has_data = false;
        out.push(Event { name: if name.is_empty() { "message".into() } else { name }, data: core::mem::take(&mut self.data), id: self.id.clone() });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_chunks(chunks: &[&[u8]]) -> Vec<Event> {
        let mut p = Parser::default();
        let mut out = Vec::new();
        for c in chunks {
            p.feed(c, &mut out).unwrap();
        }
        out
    }

    fn datas(events: &[Event]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    #[test]
    fn one_event_per_blank_line() {
        let ev = parse_chunks(&[b"data: {\"status\":\"IN_QUEUE\"}\n\ndata: {\"status\":\"COMPLETED\"}\n\n"]);
        assert_eq!(datas(&ev), ["{\"status\":\"IN_QUEUE\"}", "{\"status\":\"COMPLETED\"}"]);
        assert_eq!(ev[0].name, "message");
    }

    #[test]
    fn every_split_point_gives_the_same_events() {
        let whole: &[u8] = b": keep-alive\r\n\r\nevent: status\r\ndata: {\"a\":\"\xC3\xA9t\xC3\xA9\"}\r\n\r\ndata: x\rdata: y\r\r";
        let expected = parse_chunks(&[whole]);
        assert_eq!(datas(&expected), ["{\"a\":\"été\"}", "x\ny"]);
        assert_eq!(expected[0].name, "status");
        for i in 0..whole.len() {
            for j in i..whole.len() {
                let got = parse_chunks(&[&whole[..i], &whole[i..j], &whole[j..]]);
                assert_eq!(got, expected, "split at {i},{j}");
            }
        }
    }

    #[test]
    fn comments_alone_dispatch_nothing() {
        assert!(parse_chunks(&[b": ping\n\n: ping\n\n"]).is_empty());
    }

    #[test]
    fn incomplete_event_is_not_dispatched() {
        assert!(parse_chunks(&[b"data: half"]).is_empty());
    }

    #[test]
    fn multi_line_data_and_no_space_after_colon() {
        let ev = parse_chunks(&[b"data:one\ndata: two\nid: 7\n\n"]);
        assert_eq!(ev[0].data, "one\ntwo");
        assert_eq!(ev[0].id.as_deref(), Some("7"));
    }

    #[test]
    fn bom_is_stripped_once() {
        let ev = parse_chunks(&[b"\xEF\xBB\xBFdata: a\n\n"]);
        assert_eq!(datas(&ev), ["a"]);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        let ev = parse_chunks(&[b"data: \xFF\xFE\n\n"]);
        assert_eq!(ev.len(), 1);
        assert!(ev[0].data.contains('\u{FFFD}'));
    }

    #[test]
    fn finish_dispatches_an_event_cut_before_its_blank_line() {
        let mut p = Parser::default();
        let mut out = Vec::new();
        p.feed(b"data: a\n\ndata: {\"b\":1}", &mut out).unwrap();
        assert_eq!(datas(&out), ["a"]);
        p.finish(&mut out).unwrap();
        assert_eq!(datas(&out), ["a", "{\"b\":1}"]);
        p.finish(&mut out).unwrap();
        assert_eq!(out.len(), 2, "nothing twice");
    }

    #[test]
    fn long_lines_are_refused() {
        let mut p = Parser::new(8);
        let mut out = Vec::new();
        assert_eq!(p.feed(b"data: 0123456789", &mut out), Err(SseError::LineTooLong { limit: 8 }));
    }
}
