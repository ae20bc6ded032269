//! `decodeError`: the decoder on its own, for the app's own fetches.

use wasm_bindgen::prelude::*;

use super::call::{decoded, error_from};
use super::conv;
use super::js;
use super::js::{get, promise};

/// `decodeError(response)` resolves to a GenwireError; `decodeError({status, headers, body})`
/// and `decodeError(thrownError)` return one at once. Never throws: every read catches (a header,
/// a body whose getter or Proxy trap throws reads as nothing), and a value whose `status` can't be
/// read at all (a Proxy of a Response: its getters check what they are called on; a revoked Proxy)
/// is a `config` error saying so.
#[wasm_bindgen(js_name = decodeError)]
pub fn decode_error(value: JsValue) -> JsValue {
    let response = value.is_instance_of::<web_sys::Response>();
    // Its `status`, as any field: an error when it can't be read at all (a getter or a Proxy trap
    // threw, a revoked Proxy, a Proxy of a Response).
    let Ok(status) = (if value.is_object() { js_sys::Reflect::get(&value, &JsValue::from_str("status")).map(|s| s.as_f64()) } else { Ok(None) }) else {
        let e = conv::config(if response {
            "decodeError(): this Response can't be read (a Proxy of one? Its fields read only on the Response itself); pass the Response"
        } else {
            "decodeError(): this value can't be read (a getter or a Proxy trap threw)"
        });
        return if response { js_sys::Promise::resolve(&e).into() } else { e }; // a Response's answer is a promise
    };
    if response {
        let resp: web_sys::Response = value.clone().unchecked_into();
        return promise(async move { Ok(error_from(&resp, None).await.1) }).into();
    }
    match status {
        Some(s) if (100.0..=999.0).contains(&s) && !value.is_instance_of::<js_sys::Error>() => {
            let headers = get(&value, "headers");
            let header = |n: &str| header_of(&headers, n);
            let raw = get(&value, "body");
            let text = match raw.as_string() {
                Some(text) => text,
                None if raw.is_undefined() || raw.is_null() => String::new(),
                None => js_sys::JSON::stringify(&raw).ok().and_then(|s| s.as_string()).unwrap_or_default(),
            };
            decoded(s as u16, &header, &text, false, None).1
        }
        _ => conv::thrown(&value).1,
    }
}

/// A header from a `Headers` object or a plain `{name: value}` object, case-insensitively.
fn header_of(headers: &JsValue, name: &str) -> Option<String> {
    if let Some(h) = headers.dyn_ref::<web_sys::Headers>() {
        return js::call(h, "get", Some(&JsValue::from_str(name))).ok().and_then(|v| v.as_string());
    }
    if !headers.is_object() {
        return None;
    }
    let entries = js::entries(headers, crate::proto::value::MAX_ITEMS).ok()?;
    entries.into_iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).and_then(|(_, v)| v.as_string().or_else(|| v.as_f64().map(crate::proto::num::fmt)))
}
