use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::*;
use crate::proto::host;
use crate::proto::value::MAX_ITEMS;

/// A host value with identity (so cycles can be built), counting how often its bytes are read.
#[derive(Clone)]
struct J(Rc<(RefCell<Node>, Cell<u32>)>);

enum Node {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Big,
    Bytes(Vec<u8>),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
    Map(Vec<(J, J)>),
    Fn,
    /// A class instance (`Date`, `Blob`): no fields of its own.
    Class(&'static str),
    /// A sparse array of this length (`new Array(n)`: nothing in JS, an item a slot when read).
    Holes(usize),
    /// A byte array of this length whose bytes are never read.
    LongBytes(usize),
}

fn j(n: Node) -> J {
    J(Rc::new((RefCell::new(n), Cell::new(0))))
}
fn num(n: f64) -> J {
    j(Node::Num(n))
}
fn s(x: &str) -> J {
    j(Node::Str(x.into()))
}
fn arr(items: Vec<J>) -> J {
    j(Node::Arr(items))
}
fn obj(pairs: Vec<(&str, J)>) -> J {
    j(Node::Obj(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect()))
}
fn bytes(n: usize, fill: u8) -> J {
    j(Node::Bytes(vec![fill; n]))
}

impl std::fmt::Debug for J {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("J")
    }
}

impl J {
    fn reads(&self) -> u32 {
        self.0 .1.get()
    }
    fn push(&self, key: &str, v: J) {
        if let Node::Obj(m) = &mut *self.0 .0.borrow_mut() {
            m.push((key.into(), v));
        }
    }
}

impl Host for J {
    fn shape(&self, max: usize) -> Shape<J> {
        match &*self.0 .0.borrow() {
            Node::Null => Shape::Null,
            Node::Bool(b) => Shape::Bool(*b),
            Node::Num(n) => Shape::Num(*n),
            Node::Str(s) => Shape::Str(s.clone()),
            Node::Big => Shape::BigInt(Some(1.0)),
            Node::Bytes(b) => {
                self.0 .1.set(self.0 .1.get() + 1);
                Shape::Bytes(b.clone())
            }
            Node::Arr(a) => Shape::Array(a.iter().take(max).cloned().collect()),
            Node::Obj(m) => Shape::Object(m.iter().take(max).cloned().collect()),
            Node::Map(m) => Shape::Map(Ok(m.clone())),
            Node::Fn => Shape::Other("Function".into()),
            Node::Class(_) => Shape::Object(Vec::new()),
            Node::Holes(n) => Shape::Array(vec![j(Node::Null); (*n).min(max)]),
            Node::LongBytes(_) => Shape::Bytes(Vec::new()),
        }
    }
    fn field(&self, _: &str) -> J {
        j(Node::Null)
    }
    fn byte_len(&self) -> Option<usize> {
        match &*self.0 .0.borrow() {
            Node::Bytes(b) => Some(b.len()),
            Node::LongBytes(n) => Some(*n),
            _ => None,
        }
    }
    fn bytes(&self) -> Vec<u8> {
        self.0 .1.set(self.0 .1.get() + 1);
        match &*self.0 .0.borrow() {
            Node::Bytes(b) => b.clone(),
            _ => Vec::new(),
        }
    }
    fn class(&self) -> Option<String> {
        match &*self.0 .0.borrow() {
            Node::Class(name) => Some((*name).into()),
            _ => None,
        }
    }
    fn same(&self, other: &J) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// The frame as the edge joins it: the core's bytes and the host's arrays, in order.
fn joined(f: &Framed<J>) -> Vec<u8> {
    let mut out = Vec::new();
    for p in &f.parts {
        match p {
            Part::Own(b) => out.extend_from_slice(b),
            Part::Host(h, len) => {
                let Node::Bytes(b) = &*h.0 .0.borrow() else { panic!("a host part that is not bytes") };
                assert_eq!(b.len(), *len);
                out.extend_from_slice(b);
            }
        }
    }
    assert_eq!(out.len(), f.len, "the announced length is the frame's");
    out
}

fn sample() -> J {
    let m = j(Node::Map(vec![(s("k"), num(1.0)), (s("l"), arr(vec![]))]));
    obj(vec![
        ("seq", num(7.0)),
        ("prompt", s("a cat ✨")),
        ("strength", num(0.75)),
        ("ok", j(Node::Bool(true))),
        ("none", j(Node::Null)),
        ("image", bytes(65_536, 7)),
        ("mask", bytes(100, 1)),
        ("frames", arr(vec![bytes(SPLICE_MIN, 2), bytes(SPLICE_MIN - 1, 3), num(-1.5)])),
        ("nested", obj(vec![("m", m), ("deep", arr(vec![arr(vec![s("x")])]))])),
    ])
}

#[test]
fn the_same_bytes_as_reading_then_encoding() {
    for v in [sample(), bytes(65_536, 9), bytes(0, 0), num(3.0), s(""), arr(vec![bytes(2048, 1), bytes(2048, 2)])] {
        let before = msgpack::encode(&host::read(&v).unwrap());
        let framed = super::msgpack(&v).unwrap();
        let after = joined(&framed);
        assert_eq!(after, before);
        assert_eq!(msgpack::decode(&after), Ok(host::read(&v).unwrap()), "decodes back to the input");
    }
}

#[test]
fn long_binary_stays_with_the_host() {
    let image = bytes(65_536, 7);
    let v = obj(vec![("seq", num(1.0)), ("image", image.clone()), ("tail", s("t"))]);
    let framed = super::msgpack(&v).unwrap();
    assert_eq!(image.reads(), 0, "the 64 KiB were never copied into the core");
    let shape: Vec<_> = framed.parts.iter().map(|p| matches!(p, Part::Host(..))).collect();
    assert_eq!(shape, [false, true, false], "framing, the caller's array, the rest");
    match &framed.parts[1] {
        Part::Host(h, len) => assert!(h.same(&image) && *len == 65_536),
        Part::Own(_) => unreachable!(),
    }
    let Part::Own(head) = &framed.parts[0] else { unreachable!() };
    assert_eq!(&head[head.len() - 5..], &[0xc6, 0, 1, 0, 0], "ends with the bin32 header of 64 KiB");
    // Short arrays are copied into the frame: splicing them would cost more than the copy.
    let small = bytes(SPLICE_MIN - 1, 1);
    let framed = super::msgpack(&arr(vec![small.clone()])).unwrap();
    assert_eq!((framed.parts.len(), small.reads()), (1, 1));
}

#[test]
fn long_arrays_and_objects_go_whole() {
    let n = MAX_ITEMS + 500;
    let long = arr((0..n).map(|i| num(i as f64)).collect());
    let framed = super::msgpack(&long).unwrap();
    let bytes = joined(&framed);
    assert_eq!(&bytes[..3], &[0xdc, (n >> 8) as u8, n as u8], "an array16 header for every item");
    let text = super::json(&long).unwrap();
    let back: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(back.as_array().map(Vec::len), Some(n));
    let wide = j(Node::Obj((0..n).map(|i| (format!("k{i}"), num(1.0))).collect()));
    assert_eq!(&joined(&super::msgpack(&wide).unwrap())[..3], &[0xde, (n >> 8) as u8, n as u8]);
}

#[test]
fn more_items_than_a_frame_holds_are_refused_without_reading_them_all() {
    // Two sparse arrays cost nothing in JS; read whole, they would take more slots of the wasm's
    // reference table than it has (a trap). The bound counts every container's items.
    let half = MAX_FRAME_ITEMS / 2 + 1;
    let input = obj(vec![("a", j(Node::Holes(half))), ("b", j(Node::Holes(half)))]);
    for e in [super::msgpack(&input).unwrap_err(), super::json(&input).unwrap_err()] {
        assert_eq!((e.kind, e.field()), ("too_large", "input.b".to_string()));
        assert_eq!(e.info().kind, crate::proto::error::Kind::Config);
    }
    // Up to the bound, whole.
    let fits = obj(vec![("a", j(Node::Holes(MAX_FRAME_ITEMS - 1)))]);
    let framed = super::msgpack(&fits).unwrap();
    assert_eq!(framed.len, 1 + 2 + 5 + (MAX_FRAME_ITEMS - 1), "fixmap, \"a\", an array32 header, the nulls");
}

#[test]
fn binary_longer_than_msgpack_carries_is_refused() {
    // Only where a length can be that long (not in wasm32).
    let Some(n) = (u32::MAX as usize).checked_add(1) else { return };
    let input = obj(vec![("f", j(Node::LongBytes(n)))]);
    let e = super::msgpack(&input).unwrap_err();
    assert_eq!((e.kind, e.field()), ("too_large", "input.f".to_string()));
}

fn nested(levels: usize) -> J {
    let mut v = num(1.0);
    for _ in 0..levels {
        v = arr(vec![v]);
    }
    v
}

#[test]
fn nesting_past_the_limit_is_refused_where_it_happens() {
    assert!(super::msgpack(&nested(MAX_DEPTH)).is_ok());
    assert!(super::json(&nested(MAX_DEPTH)).is_ok());
    let e = super::msgpack(&nested(MAX_DEPTH + 1)).unwrap_err();
    assert_eq!(e.kind, "too_deep");
    assert_eq!(e.field(), format!("input{}", "[0]".repeat(MAX_DEPTH)));
    assert_eq!(super::json(&nested(MAX_DEPTH + 1)).unwrap_err(), e, "the same rule for JSON");
    // What is sent at the limit reads back whole (the decoder's own bound).
    let at_limit = joined(&super::msgpack(&nested(MAX_DEPTH)).unwrap());
    assert_eq!(msgpack::decode(&at_limit), Ok(host::read(&nested(MAX_DEPTH)).unwrap()));
}

#[test]
fn cycles_are_refused_shared_values_are_not() {
    let a = obj(vec![("x", num(1.0))]);
    a.push("me", a.clone());
    let e = super::msgpack(&a).unwrap_err();
    assert_eq!((e.kind, e.field().as_str()), ("cycle", "input.me"));
    assert!(e.msg.contains("refers back to input "), "{}", e.msg);
    let inner = obj(vec![]);
    let outer = obj(vec![("list", arr(vec![num(0.0), inner.clone()]))]);
    inner.push("up", outer.clone());
    let e = super::json(&outer).unwrap_err();
    assert_eq!((e.kind, e.field().as_str()), ("cycle", "input.list[1].up"));
    let loop_in = obj(vec![]);
    let holder = obj(vec![("a", loop_in.clone())]);
    loop_in.push("b", loop_in.clone());
    assert!(super::msgpack(&holder).unwrap_err().msg.contains("refers back to input.a "));
    // The same object twice, side by side, is no cycle: sent twice.
    let shared = obj(vec![("k", s("v"))]);
    let dag = obj(vec![("p", shared.clone()), ("q", arr(vec![shared]))]);
    assert_eq!(super::json(&dag).unwrap(), r#"{"p":{"k":"v"},"q":[{"k":"v"}]}"#);
}

#[test]
fn what_no_codec_carries_is_refused_with_its_field() {
    let cases = [
        (obj(vec![("seed", j(Node::Big))]), "bigint", "input.seed"),
        (obj(vec![("cb", j(Node::Fn))]), "unsupported_type", "input.cb"),
        (arr(vec![num(1.0), obj(vec![("m", j(Node::Map(vec![(num(1.0), num(2.0))])))])]), "map_key", "input[1].m"),
        (j(Node::Big), "bigint", "input"),
        (obj(vec![("when", j(Node::Class("Date")))]), "unsupported_type", "input.when"),
        (arr(vec![j(Node::Class("Blob"))]), "file", "input[0]"),
        (obj(vec![("weird key", obj(vec![("x", j(Node::Fn))]))]), "unsupported_type", "input.weird key.x"),
    ];
    for (v, kind, field) in cases {
        for e in [super::msgpack(&v).unwrap_err(), super::json(&v).unwrap_err()] {
            assert_eq!((e.kind, e.field().as_str()), (kind, field));
            let info = e.info();
            assert_eq!((info.kind, info.category), (Kind::Config, Category::Config));
            assert!(info.message.contains(field), "{}", info.message);
            assert_eq!(info.issues.len(), 1);
            assert_eq!(info.issues[0].kind, kind);
            assert_eq!(info.issues[0].field, field.trim_start_matches("input").trim_start_matches('.'));
        }
    }
}

#[test]
fn json_refuses_what_it_would_change() {
    for (v, kind, field) in [
        (obj(vec![("image", bytes(65_536, 1))]), "binary", "input.image"),
        (obj(vec![("b", bytes(3, 1))]), "binary", "input.b"),
        (arr(vec![num(f64::NAN)]), "non_finite", "input[0]"),
        (obj(vec![("x", num(f64::INFINITY))]), "non_finite", "input.x"),
    ] {
        let e = super::json(&v).unwrap_err();
        assert_eq!((e.kind, e.field().as_str()), (kind, field));
    }
    // msgpack carries both as given.
    let v = obj(vec![("b", bytes(3, 1)), ("x", num(f64::INFINITY))]);
    assert!(super::msgpack(&v).is_ok());
}

#[test]
fn json_text_is_what_json_stringify_writes() {
    let v = obj(vec![("prompt", s("a \"cat\"\n")), ("n", arr(vec![num(1.0), num(-2.5), j(Node::Null), j(Node::Bool(false))])), ("o", obj(vec![]))]);
    assert_eq!(super::json(&v).unwrap(), r#"{"prompt":"a \"cat\"\n","n":[1,-2.5,null,false],"o":{}}"#);
    let m = j(Node::Map(vec![(s("a"), num(1.0))]));
    assert_eq!(super::json(&m).unwrap(), r#"{"a":1}"#, "a Map's entries, as msgpack sends them");
}
