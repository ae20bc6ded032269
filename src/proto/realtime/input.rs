//! How a realtime input becomes a frame, for both built-in codecs, by the same rules: everything
//! is carried whole (no array or object is cut, however long) or the input is refused with a
//! typed error naming the field. Refused: cycles, nesting deeper than [`MAX_DEPTH`], BigInts,
//! functions, symbols and other values neither codec has a form for, `Map` keys that are not
//! strings; for JSON also binary data and non-finite numbers (`JSON.stringify` would send them
//! as something else).
//!
//! msgpack without copies: a binary field of at least [`SPLICE_MIN`] bytes is not read into
//! the core. The encoder writes only its header, and the frame is a list of [`Part`]s: the
//! core's bytes and the host's own byte arrays, which the edge joins in one buffer of the
//! frame's length (the bytes are copied once, host side, never through wasm memory). Joined,
//! the parts are exactly the bytes [`super::msgpack::encode`] gives for the same value.

use crate::proto::error::issues::{field_path, FieldIssue, LocPart};
use crate::proto::error::{Category, ErrorInfo, Kind};
use crate::proto::host::{Host, Shape};
use crate::proto::value::{Value, MAX_DEPTH};

use super::msgpack;

/// Binary fields from this length on stay in the host's memory (shorter ones cost less to copy
/// into the frame than to splice).
pub const SPLICE_MIN: usize = 1024;

/// Items (of arrays, objects and Maps, at every depth) one frame may hold. The host's values are
/// read a container at a time, and a JS value held by the wasm takes a slot of its reference
/// table, which traps when it can't grow (some millions): past this, the input is refused.
pub const MAX_FRAME_ITEMS: usize = 1 << 22;

/// A piece of an encoded frame.
#[derive(Debug)]
pub enum Part<H> {
    /// Bytes the core wrote (framing, and everything but long binary fields).
    Own(Vec<u8>),
    /// One of the host's byte arrays (`Uint8Array`/`ArrayBuffer`), `len` bytes, copied as is.
    Host(H, usize),
}

/// A msgpack frame as parts; `len` is the total.
#[derive(Debug)]
pub struct Framed<H> {
    pub parts: Vec<Part<H>>,
    pub len: usize,
}

/// Why an input can't be sent, and where in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Unsendable {
    pub loc: Vec<LocPart>,
    /// `bigint`, `cycle`, `too_deep`, `too_large`, `unsupported_type`, `unreadable`, `map_key`, `binary`, `non_finite`, and
    /// `file` (a `Blob`/`File`: the edge uploads it and sends the URL instead).
    pub kind: &'static str,
    pub msg: String,
}

impl Unsendable {
    /// `input.images[0]` (`input` for the whole input).
    pub fn field(&self) -> String {
        named(&self.loc)
    }

    /// The `GenwireError` `send()` throws: kind `config`, the field in the message and in `issues`.
    pub fn info(&self) -> ErrorInfo {
        let message = format!("This realtime input can't be sent: {} {}.", self.field(), self.msg);
        let mut info = ErrorInfo::local(Kind::Config, Category::Config, message);
        let mut loc = vec![LocPart::Key("body".into())];
        loc.extend(self.loc.iter().cloned());
        info.issues =
            vec![FieldIssue { field: field_path(&loc), loc, kind: self.kind.into(), msg: self.msg.clone(), ctx: None, input: None, url: None, hint: None }];
        info
    }
}

/// A place in the input as JS would write it: `input`, `input.a[0]`.
fn named(loc: &[LocPart]) -> String {
    let mut body = vec![LocPart::Key("body".into())];
    body.extend(loc.iter().cloned());
    let path = field_path(&body);
    match path.chars().next() {
        None => "input".into(),
        Some('[') => format!("input{path}"),
        Some(_) => format!("input.{path}"),
    }
}

/// What each codec writes; the walk is shared.
trait Sink<H> {
    fn scalar(&mut self, v: &Value) -> Result<(), (&'static str, String)>;
    /// A byte array of `len` bytes.
    fn bytes(&mut self, h: &H, len: usize) -> Result<(), (&'static str, String)>;
    fn open(&mut self, array: bool, len: usize);
    /// Before each item (`key` for objects).
    fn item(&mut self, index: usize, key: Option<&str>);
    fn close(&mut self, array: bool);
}

/// `input` as a msgpack frame (the default codec).
pub fn msgpack<H: Host + Clone>(input: &H) -> Result<Framed<H>, Unsendable> {
    let mut sink = Msgpack { parts: Vec::new(), cur: Vec::new(), len: 0 };
    Walk { ancestors: Vec::new(), loc: Vec::new(), budget: MAX_FRAME_ITEMS }.value(input, &mut sink)?;
    let mut parts = sink.parts;
    sink.len += sink.cur.len();
    if !sink.cur.is_empty() || parts.is_empty() {
        parts.push(Part::Own(sink.cur));
    }
    Ok(Framed { parts, len: sink.len })
}

/// `input` as JSON text (`codec: "json"`).
pub fn json<H: Host + Clone>(input: &H) -> Result<String, Unsendable> {
    let mut sink = Json(String::new());
    Walk { ancestors: Vec::new(), loc: Vec::new(), budget: MAX_FRAME_ITEMS }.value(input, &mut sink)?;
    Ok(sink.0)
}

struct Walk<H> {
    /// The arrays and objects above the current value (a cycle returns to one of them).
    ancestors: Vec<H>,
    loc: Vec<LocPart>,
    /// Items still allowed ([`MAX_FRAME_ITEMS`]).
    budget: usize,
}

impl<H: Host + Clone> Walk<H> {
    fn fail(&self, kind: &'static str, msg: String) -> Unsendable {
        Unsendable { loc: self.loc.clone(), kind, msg }
    }

    fn value(&mut self, v: &H, sink: &mut dyn Sink<H>) -> Result<(), Unsendable> {
        if let Some(len) = v.byte_len() {
            return sink.bytes(v, len).map_err(|(k, m)| self.fail(k, m));
        }
        if let Some(name) = v.class() {
            return Err(match name.as_str() {
                // The edge uploads these first and sends their URLs.
                "Blob" | "File" => self.fail("file", format!("is a {name}: upload it first (send() does) and send its URL")),
                _ => self.fail(
                    "unsupported_type",
                    format!("is a {name}, which neither codec carries as given (its fields would be lost): send a plain object, or a string (e.g. date.toISOString())"),
                ),
            });
        }
        // One more than the budget: more than it allows is refused, never cut.
        let shape = v.shape(self.budget.saturating_add(1));
        let items = match &shape {
            Shape::Array(a) => Some(a.len()),
            Shape::Object(e) => Some(e.len()),
            Shape::Map(Ok(p)) => Some(p.len()),
            _ => None,
        };
        if let Some(n) = items {
            if n > self.budget {
                return Err(self.fail("too_large", format!("holds more than {MAX_FRAME_ITEMS} items in all, more than genwire sends in one frame")));
            }
            self.budget -= n;
        }
        let container = matches!(shape, Shape::Array(_) | Shape::Object(_) | Shape::Map(_));
        if container {
            if let Some(i) = self.ancestors.iter().position(|a| a.same(v)) {
                let back = named(&self.loc[..i]);
                return Err(self.fail("cycle", format!("refers back to {back} (a cycle), which no codec can carry")));
            }
            if self.ancestors.len() >= MAX_DEPTH {
                return Err(self.fail("too_deep", format!("nests deeper than {MAX_DEPTH} levels, more than genwire sends (or reads back)")));
            }
        }
        match shape {
            Shape::Null => sink.scalar(&Value::Null),
            Shape::Bool(b) => sink.scalar(&Value::Bool(b)),
            Shape::Num(n) => sink.scalar(&Value::Num(n)),
            Shape::Str(s) => sink.scalar(&Value::Str(s)),
            Shape::Bytes(b) => {
                // A host that reports bytes only here (not through `byte_len`): written by the core.
                sink.scalar(&Value::Bytes(b))
            }
            Shape::BigInt(_) => Err((
                "bigint",
                "is a BigInt, which neither codec carries as given: convert it to a Number (if it fits) or a String first".to_string(),
            )),
            Shape::Other(name) => Err(("unsupported_type", format!("is a {name}, which has no form in a realtime frame (only plain objects, arrays, Maps, strings, numbers, booleans, null and byte arrays do)"))),
            Shape::Array(items) => {
                sink.open(true, items.len());
                self.ancestors.push(v.clone());
                for (i, x) in items.iter().enumerate() {
                    sink.item(i, None);
                    self.loc.push(LocPart::Index(i as u64));
                    self.value(x, sink)?;
                    self.loc.pop();
                }
                self.ancestors.pop();
                sink.close(true);
                return Ok(());
            }
            Shape::Object(entries) => return self.entries(v, entries.iter().map(|(k, x)| (k.as_str(), x)).collect(), sink),
            Shape::Map(Err(why)) => Err(("unsupported_type", format!("is a Map that could not be read ({why})"))),
            // A getter or Proxy trap threw while it was read.
            Shape::Unreadable(why) => Err(("unreadable", format!("can't be read: {why}"))),
            Shape::Map(Ok(pairs)) => {
                let mut entries = Vec::with_capacity(pairs.len());
                for (k, x) in &pairs {
                    match k.shape(0) {
                        Shape::Str(k) => entries.push((k, x)),
                        _ => return Err(self.fail("map_key", "is a Map with a key that is not a string, which no codec can carry".into())),
                    }
                }
                return self.entries(v, entries.iter().map(|(k, x)| (k.as_str(), *x)).collect(), sink);
            }
        }
        .map_err(|(k, m)| self.fail(k, m))
    }

    fn entries(&mut self, v: &H, entries: Vec<(&str, &H)>, sink: &mut dyn Sink<H>) -> Result<(), Unsendable> {
        sink.open(false, entries.len());
        self.ancestors.push(v.clone());
        for (i, (k, x)) in entries.into_iter().enumerate() {
            sink.item(i, Some(k));
            self.loc.push(LocPart::Key(k.into()));
            self.value(x, sink)?;
            self.loc.pop();
        }
        self.ancestors.pop();
        sink.close(false);
        Ok(())
    }
}

struct Msgpack<H> {
    parts: Vec<Part<H>>,
    cur: Vec<u8>,
    /// Bytes in `parts` so far.
    len: usize,
}

impl<H: Host + Clone> Sink<H> for Msgpack<H> {
    fn scalar(&mut self, v: &Value) -> Result<(), (&'static str, String)> {
        msgpack::write(&mut self.cur, v);
        Ok(())
    }
    fn bytes(&mut self, h: &H, len: usize) -> Result<(), (&'static str, String)> {
        // msgpack's longest binary (bin 32).
        if len > u32::MAX as usize {
            return Err(("too_large", format!("is {len} bytes long, more than a msgpack frame carries (4 GiB)")));
        }
        if len < SPLICE_MIN {
            msgpack::write(&mut self.cur, &Value::Bytes(h.bytes()));
            return Ok(());
        }
        msgpack::bin_head(&mut self.cur, len);
        let own = std::mem::take(&mut self.cur);
        self.len += own.len() + len;
        self.parts.push(Part::Own(own));
        self.parts.push(Part::Host(h.clone(), len));
        Ok(())
    }
    fn open(&mut self, array: bool, len: usize) {
        msgpack::container_head(&mut self.cur, array, len);
    }
    fn item(&mut self, _: usize, key: Option<&str>) {
        if let Some(k) = key {
            msgpack::write(&mut self.cur, &Value::Str(k.into()));
        }
    }
    fn close(&mut self, _: bool) {}
}

struct Json(String);

impl<H: Host> Sink<H> for Json {
    fn scalar(&mut self, v: &Value) -> Result<(), (&'static str, String)> {
        match v {
            Value::Num(n) if !n.is_finite() => {
                Err(("non_finite", format!("is {}, which JSON can't carry (it would arrive as null)", crate::proto::num::fmt(*n))))
            }
            Value::Bytes(_) => Err(Self::binary()),
            v => {
                crate::proto::json::write(&mut self.0, v);
                Ok(())
            }
        }
    }
    fn bytes(&mut self, _: &H, _: usize) -> Result<(), (&'static str, String)> {
        Err(Self::binary())
    }
    fn open(&mut self, array: bool, _: usize) {
        self.0.push(if array { '[' } else { '{' });
    }
    fn item(&mut self, index: usize, key: Option<&str>) {
        if index > 0 {
            self.0.push(',');
        }
        if let Some(k) = key {
            crate::proto::json::quote(&mut self.0, k);
            self.0.push(':');
        }
    }
    fn close(&mut self, array: bool) {
        self.0.push(if array { ']' } else { '}' });
    }
}

impl Json {
    fn binary() -> (&'static str, String) {
        ("binary", "is binary data, which JSON can't carry: use the msgpack codec (the default) to send bytes".into())
    }
}

#[cfg(test)]
mod tests;
