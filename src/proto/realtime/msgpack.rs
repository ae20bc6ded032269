//! MessagePack for realtime frames: inputs out (binary stays `bin`, never base64),
//! results in. Decoding is total and bounded: any bytes give a value or an error; every item
//! is kept (a length can't promise more items than bytes remain), nesting stops at `MAX_DEPTH`.

use rmp::Marker;

use crate::proto::value::{Value, MAX_DEPTH};

/// Encodes as rmp's `write_*` functions would (most compact form of every integer and length),
/// written out here: rmp's generic writers cost ~2 KB of wasm for these few lines.
pub fn encode(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write(&mut out, v);
    out
}

/// `n` low bytes of `v`, big-endian.
fn be(out: &mut Vec<u8>, v: u64, n: u32) {
    (0..n).rev().for_each(|i| out.push((v >> (8 * i)) as u8));
}

/// A length header: the fix form below `fix_limit` (0: none), else 8-bit (`m8` 0: none), 16-bit, 32-bit.
fn head(out: &mut Vec<u8>, len: usize, fix: u8, fix_limit: usize, m8: u8, m16: u8) {
    if len < fix_limit {
        out.push(fix | len as u8);
    } else if m8 != 0 && len < 256 {
        out.extend_from_slice(&[m8, len as u8]);
    } else if len < 65_536 {
        out.push(m16);
        be(out, len as u64, 2);
    } else {
        // The 32-bit marker always follows the 16-bit one.
        out.push(m16 + 1);
        be(out, len as u64, 4);
    }
}

fn int(out: &mut Vec<u8>, n: i64) {
    let (marker, bytes) = match n {
        -32..=127 => return out.push(n as u8),
        -128..=-33 => (0xd0, 1),
        -32_768..=-129 => (0xd1, 2),
        -2_147_483_648..=-32_769 => (0xd2, 4),
        i64::MIN..=-2_147_483_649 => (0xd3, 8),
        128..=255 => (0xcc, 1),
        256..=65_535 => (0xcd, 2),
        65_536..=4_294_967_295 => (0xce, 4),
        _ => (0xcf, 8),
    };
    out.push(marker);
    be(out, n as u64, bytes);
}

fn string(out: &mut Vec<u8>, s: &str) {
    head(out, s.len(), 0xa0, 32, 0xd9, 0xda);
    out.extend_from_slice(s.as_bytes());
}

/// A `bin` header for `len` bytes (the bytes follow).
pub(crate) fn bin_head(out: &mut Vec<u8>, len: usize) {
    head(out, len, 0, 0, 0xc4, 0xc5);
}

/// An array's or a map's header for `len` items (the items, or key-value pairs, follow).
pub(crate) fn container_head(out: &mut Vec<u8>, array: bool, len: usize) {
    if array {
        head(out, len, 0x90, 16, 0, 0xdc);
    } else {
        head(out, len, 0x80, 16, 0, 0xde);
    }
}

pub(crate) fn write(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.push(0xc0),
        Value::Bool(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Num(n) if n.fract() == 0.0 && *n >= i64::MIN as f64 && *n < i64::MAX as f64 => int(out, *n as i64),
        Value::Num(n) => {
            out.push(0xcb);
            be(out, n.to_bits(), 8);
        }
        Value::Str(s) => string(out, s),
        Value::Bytes(b) => {
            bin_head(out, b.len());
            out.extend_from_slice(b);
        }
        Value::Arr(a) => {
            container_head(out, true, a.len());
            a.iter().for_each(|x| write(out, x));
        }
        Value::Obj(m) => {
            container_head(out, false, m.len());
            for (k, x) in m {
                string(out, k);
                write(out, x);
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    Truncated,
    /// An extension type, a non-string map key, bad UTF-8, or trailing bytes.
    Unsupported(&'static str),
    TooDeep,
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Truncated => f.write_str("msgpack frame ends early"),
            Self::Unsupported(what) => write!(f, "msgpack frame has {what}"),
            Self::TooDeep => f.write_str("msgpack frame nests too deep"),
        }
    }
}

pub fn decode(bytes: &[u8]) -> Result<Value, DecodeError> {
    let mut r = Reader { b: bytes, at: 0 };
    let v = r.value(0)?;
    if r.at != bytes.len() {
        return Err(DecodeError::Unsupported("trailing bytes"));
    }
    Ok(v)
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.b.len()).ok_or(DecodeError::Truncated)?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn uint(&mut self, n: usize) -> Result<u64, DecodeError> {
        Ok(self.take(n)?.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }
    fn string(&mut self, n: usize) -> Result<String, DecodeError> {
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| DecodeError::Unsupported("a string that is not UTF-8"))
    }
    fn len(&mut self, n: usize) -> Result<usize, DecodeError> {
        let len = self.uint(n)? as usize;
        // A length can't promise more items than bytes remain (each takes one at least).
        if len > self.b.len() - self.at {
            return Err(DecodeError::Truncated);
        }
        Ok(len)
    }

    fn value(&mut self, depth: usize) -> Result<Value, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(DecodeError::TooDeep);
        }
        let m = Marker::from_u8(self.take(1)?[0]);
        Ok(match m {
            Marker::Null => Value::Null,
            Marker::True => Value::Bool(true),
            Marker::False => Value::Bool(false),
            Marker::FixPos(n) => Value::Num(f64::from(n)),
            Marker::FixNeg(n) => Value::Num(f64::from(n)),
            Marker::U8 => Value::Num(self.uint(1)? as f64),
            Marker::U16 => Value::Num(self.uint(2)? as f64),
            Marker::U32 => Value::Num(self.uint(4)? as f64),
            Marker::U64 => Value::Num(self.uint(8)? as f64),
            Marker::I8 => Value::Num(f64::from(self.uint(1)? as u8 as i8)),
            Marker::I16 => Value::Num(f64::from(self.uint(2)? as u16 as i16)),
            Marker::I32 => Value::Num(f64::from(self.uint(4)? as u32 as i32)),
            Marker::I64 => Value::Num(self.uint(8)? as i64 as f64),
            Marker::F32 => Value::Num(f64::from(f32::from_bits(self.uint(4)? as u32))),
            Marker::F64 => Value::Num(f64::from_bits(self.uint(8)?)),
            Marker::FixStr(n) => Value::Str(self.string(n as usize)?),
            Marker::Str8 => {
                let n = self.len(1)?;
                Value::Str(self.string(n)?)
            }
            Marker::Str16 => {
                let n = self.len(2)?;
                Value::Str(self.string(n)?)
            }
            Marker::Str32 => {
                let n = self.len(4)?;
                Value::Str(self.string(n)?)
            }
            Marker::Bin8 => {
                let n = self.len(1)?;
                Value::Bytes(self.take(n)?.to_vec())
            }
            Marker::Bin16 => {
                let n = self.len(2)?;
                Value::Bytes(self.take(n)?.to_vec())
            }
            Marker::Bin32 => {
                let n = self.len(4)?;
                Value::Bytes(self.take(n)?.to_vec())
            }
            Marker::FixArray(n) => self.array(n as usize, depth)?,
            Marker::Array16 => {
                let n = self.len(2)?;
                self.array(n, depth)?
            }
            Marker::Array32 => {
                let n = self.len(4)?;
                self.array(n, depth)?
            }
            Marker::FixMap(n) => self.map(n as usize, depth)?,
            Marker::Map16 => {
                let n = self.len(2)?;
                self.map(n, depth)?
            }
            Marker::Map32 => {
                let n = self.len(4)?;
                self.map(n, depth)?
            }
            _ => return Err(DecodeError::Unsupported("an extension type")),
        })
    }

    /// Every item: a length can't promise more items than bytes remain, so nothing is cut.
    fn array(&mut self, n: usize, depth: usize) -> Result<Value, DecodeError> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.value(depth + 1)?);
        }
        Ok(Value::Arr(out))
    }

    /// Every entry; of a key given twice, the first (as `Value` keeps objects).
    fn map(&mut self, n: usize, depth: usize) -> Result<Value, DecodeError> {
        let mut out: Vec<(String, Value)> = Vec::with_capacity(n);
        for _ in 0..n {
            let k = match self.value(depth + 1)? {
                Value::Str(s) => s,
                _ => return Err(DecodeError::Unsupported("a map key that is not a string")),
            };
            out.push((k, self.value(depth + 1)?));
        }
        // Duplicates found by sorting positions (n log n, however many keys there are).
        let mut order: Vec<usize> = (0..out.len()).collect();
        crate::proto::sort::sort_by(&mut order, |a, b| (&out[*a].0, a) < (&out[*b].0, b));
        let mut keep = vec![true; out.len()];
        for w in order.windows(2) {
            if out[w[0]].0 == out[w[1]].0 {
                keep[w[1]] = false;
            }
        }
        let mut i = 0;
        out.retain(|_| {
            i += 1;
            keep[i - 1]
        });
        Ok(Value::Obj(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(pairs: Vec<(&str, Value)>) -> Value {
        Value::Obj(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    #[test]
    fn round_trips_every_kind() {
        let v = obj(vec![
            ("prompt", Value::Str("a cat ✨".into())),
            ("strength", Value::Num(0.75)),
            ("seed", Value::Num(-42.0)),
            ("big", Value::Num(1e15)),
            ("steps", Value::Num(4.0)),
            ("sync", Value::Bool(true)),
            ("none", Value::Null),
            ("image", Value::Bytes(vec![0u8; 65_536])),
            ("list", Value::Arr(vec![Value::Num(1.0), Value::Str("x".into())])),
        ]);
        let bytes = encode(&v);
        assert_eq!(decode(&bytes), Ok(v));
    }

    #[test]
    fn binary_stays_binary() {
        let bytes = encode(&Value::Bytes(vec![1, 2, 3]));
        assert_eq!(bytes, [0xc4, 3, 1, 2, 3], "bin8, not a base64 string");
        let big = encode(&Value::Bytes(vec![7; 65_536]));
        assert_eq!(&big[..5], &[0xc6, 0, 1, 0, 0], "bin32 header for 64 KiB");
        assert_eq!(big.len(), 65_536 + 5);
    }

    #[test]
    fn integers_are_compact() {
        assert_eq!(encode(&Value::Num(5.0)), [5]);
        assert_eq!(encode(&Value::Num(-1.0)), [0xff]);
        assert_eq!(encode(&Value::Num(0.5)).len(), 9);
    }

    /// The old encoder, through rmp: the bytes must not change.
    fn rmp_encode(out: &mut Vec<u8>, v: &Value) {
        use rmp::encode as enc;
        match v {
            Value::Null => drop(enc::write_nil(out)),
            Value::Bool(b) => drop(enc::write_bool(out, *b)),
            Value::Num(n) if n.fract() == 0.0 && *n >= i64::MIN as f64 && *n < i64::MAX as f64 => drop(enc::write_sint(out, *n as i64)),
            Value::Num(n) => drop(enc::write_f64(out, *n)),
            Value::Str(s) => drop(enc::write_str(out, s)),
            Value::Bytes(b) => drop(enc::write_bin(out, b)),
            Value::Arr(a) => {
                let _ = enc::write_array_len(out, a.len() as u32);
                a.iter().for_each(|x| rmp_encode(out, x));
            }
            Value::Obj(m) => {
                let _ = enc::write_map_len(out, m.len() as u32);
                for (k, x) in m {
                    let _ = enc::write_str(out, k);
                    rmp_encode(out, x);
                }
            }
        }
    }

    #[test]
    fn bytes_are_rmps() {
        let mut values = vec![Value::Null, Value::Bool(false), Value::Bool(true), Value::Num(f64::NAN), Value::Num(-0.0), Value::Num(1e300), Value::Num(0.1)];
        for n in [0i64, 1, 31, 32, 127, 128, 255, 256, 65_535, 65_536, 4_294_967_295, 4_294_967_296, 1 << 53] {
            for x in [n, -n, n - 1, -n - 1] {
                values.push(Value::Num(x as f64));
            }
        }
        values.push(Value::Num(i64::MIN as f64));
        for len in [0usize, 1, 15, 16, 31, 32, 255, 256, 65_535, 65_536, 70_000] {
            values.push(Value::Str("é".repeat(len / 2) + &"x".repeat(len % 2)));
            values.push(Value::Bytes(vec![9; len]));
            values.push(Value::Arr(vec![Value::Null; len]));
            values.push(Value::Obj((0..len.min(20_000)).map(|i| (i.to_string(), Value::Num(i as f64))).collect()));
        }
        for v in values {
            let mut want = Vec::new();
            rmp_encode(&mut want, &v);
            assert_eq!(encode(&v), want);
        }
    }

    #[test]
    fn long_frames_decode_whole() {
        let n = crate::proto::value::MAX_ITEMS + 2_000;
        let list = Value::Arr((0..n).map(|i| Value::Num(i as f64)).collect());
        let map = Value::Obj((0..n).map(|i| (format!("k{i}"), Value::Num(i as f64))).collect());
        let v = obj(vec![("list", list), ("map", map)]);
        assert_eq!(decode(&encode(&v)), Ok(v), "no item is cut");
        // A key given twice keeps its first value, in place.
        let twice = [0x83, 0xa1, b'a', 1, 0xa1, b'b', 2, 0xa1, b'a', 3];
        assert_eq!(decode(&twice), Ok(obj(vec![("a", Value::Num(1.0)), ("b", Value::Num(2.0))])));
    }

    #[test]
    fn garbage_is_an_error_never_a_panic() {
        assert_eq!(decode(&[]), Err(DecodeError::Truncated));
        assert_eq!(decode(&[0xc6, 0xff, 0xff, 0xff, 0xff]), Err(DecodeError::Truncated), "a huge length promise");
        assert_eq!(decode(&[0xdd, 0xff, 0xff, 0xff, 0xff]), Err(DecodeError::Truncated));
        assert_eq!(decode(&[0xa2, 0xff, 0xfe]), Err(DecodeError::Unsupported("a string that is not UTF-8")));
        assert_eq!(decode(&[0x81, 0x01, 0x02]), Err(DecodeError::Unsupported("a map key that is not a string")));
        assert_eq!(decode(&[0xd4, 0x01, 0x00]), Err(DecodeError::Unsupported("an extension type")));
        assert_eq!(decode(&[0x01, 0x02]), Err(DecodeError::Unsupported("trailing bytes")));
        assert_eq!(decode(&[0x91; 200]), Err(DecodeError::TooDeep));
    }
}
