//! JSON text for the small request bodies genwire writes itself (upload initiates and
//! completions, token requests): strings escaped as `JSON.stringify` escapes them, numbers as
//! `proto::num` writes them. Inputs never go through here: the browser stringifies those.

use crate::proto::value::Value;

/// `s` as a JSON string literal.
pub fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                for d in [(c as u32) >> 4, (c as u32) & 0xf] {
                    out.push(char::from_digit(d, 16).unwrap_or('0'));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `v` as JSON text (bytes as an array of numbers; non-finite numbers as null, like `JSON.stringify`).
pub fn write(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Num(n) if n.is_finite() => crate::proto::num::write(out, *n),
        Value::Num(_) => out.push_str("null"),
        Value::Str(s) => quote(out, s),
        Value::Bytes(b) => write(out, &Value::Arr(b.iter().map(|x| Value::Num(f64::from(*x))).collect())),
        Value::Arr(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, x);
            }
            out.push(']');
        }
        Value::Obj(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                quote(out, k);
                out.push(':');
                write(out, x);
            }
            out.push('}');
        }
    }
}

pub fn to_string(v: &Value) -> String {
    let mut s = String::new();
    write(&mut s, v);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_json_stringify_writes_it() {
        let v = Value::Obj(vec![
            ("a \"b\"".into(), Value::Str("line\nbreak\u{1} é \\ /".into())),
            ("n".into(), Value::Arr(vec![Value::Num(1.0), Value::Num(-2.5), Value::Num(f64::NAN), Value::Null, Value::Bool(true)])),
        ]);
        let text = to_string(&v);
        assert_eq!(text, r#"{"a \"b\"":"line\nbreak\u0001 é \\ /","n":[1,-2.5,null,null,true]}"#);
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["a \"b\""], "line\nbreak\u{1} é \\ /");
    }
}
