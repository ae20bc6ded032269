use super::*;
use crate::proto::value::Value;

fn v(s: &str) -> Value {
    Value::from_deserializer(&mut serde_json::Deserializer::from_str(s)).unwrap()
}

fn flux() -> Schema {
    let doc = v(include_str!("../../../server/src/sim/schemas/fal-ai__flux__dev.json"));
    Schema::from_openapi(&doc, Some("fal-ai/flux/dev")).unwrap()
}

fn issues(schema: &Schema, input: &str) -> Vec<(String, String, String)> {
    schema.validate(&v(input)).into_iter().map(|i| (i.field, i.kind, i.msg)).collect()
}

/// The corpus (tests/validation/corpus.json): expected issues written by hand from
/// docs/validation-rules.md, checked here natively and in Chromium by tests/validation.test.mjs.
#[test]
fn the_corpus() {
    let corpus = v(include_str!("../../../tests/validation/corpus.json"));
    let cases = corpus.as_array().expect("an array");
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let mut docs: Vec<(String, Schema)> = Vec::new();
    let mut failures = Vec::new();
    for case in cases {
        let name = case.str_field("name").unwrap();
        let endpoint = case.str_field("endpoint").unwrap();
        if !docs.iter().any(|(e, _)| e == endpoint) {
            let file = endpoint.replace('/', "__");
            let text = std::fs::read_to_string(format!("{}/server/src/sim/schemas/{file}.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
            docs.push((endpoint.into(), Schema::from_openapi(&v(&text), Some(endpoint)).unwrap()));
        }
        let schema = &docs.iter().find(|(e, _)| e == endpoint).unwrap().1;
        let got: Vec<serde_json::Value> = schema
            .validate(case.get("input").unwrap())
            .iter()
            .map(|i| {
                let mut j = serde_json::to_value(i).unwrap();
                let o = j.as_object_mut().unwrap();
                o.remove("field");
                o.remove("hint");
                j
            })
            .collect();
        let want: serde_json::Value = serde_json::to_value(case.get("issues").unwrap()).unwrap();
        if !json_eq(&serde_json::Value::Array(got.clone()), &want) {
            failures.push(format!("{name}\n  want {want}\n  got  {}", serde_json::Value::Array(got)));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

/// Deep equality with numbers compared as numbers (20 == 20.0).
fn json_eq(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => x.as_f64() == y.as_f64(),
        (J::Array(x), J::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b)),
        (J::Object(x), J::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w))),
        _ => a == b,
    }
}

#[test]
fn a_valid_flux_input_has_no_issue() {
    assert!(issues(&flux(), r#"{"prompt":"a cat","image_size":{"width":1920,"height":1080},"seed":null,"num_images":4}"#).is_empty());
}

#[test]
fn wxh_strings_get_the_presets_and_a_hint() {
    let got = flux().validate(&v(r#"{"prompt":"a","image_size":"1920x1080"}"#));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].kind, "one_of");
    assert_eq!(got[0].hint.as_deref(), Some(r#"Use one of the presets, or give the size as an object: {"width": 1920, "height": 1080}"#));
}

#[test]
fn local_paths_and_browser_urls_are_not_fetchable() {
    let loc = vec![crate::proto::error::LocPart::Key("body".into()), crate::proto::error::LocPart::Key("image_url".into())];
    for (s, scheme) in [("/home/me/a.png", "path"), ("./a.png", "path"), ("C:\\a.png", "path"), ("~/a.png", "path"), ("file:///a.png", "file"), ("blob:https://x/1", "blob")] {
        let i = url_issue(s, &loc).unwrap_or_else(|| panic!("{s}"));
        assert_eq!(i.ctx, Some(crate::proto::error::Ctx::Other(v(&format!(r#"{{"scheme":"{scheme}"}}"#)))));
    }
    for ok in ["https://x/a.png", "data:image/png;base64,AA", "//cdn.example/a.png", "http://localhost/a"] {
        assert!(url_issue(ok, &loc).is_none(), "{ok}");
    }
}

#[test]
fn broken_schemas_are_errors_not_panics() {
    let loop_doc = v(r##"{"components":{"schemas":{"A":{"$ref":"#/components/schemas/B"},"B":{"$ref":"#/components/schemas/A"}}},"$ref":"#/components/schemas/A"}"##);
    assert!(matches!(Schema::from_openapi(&loop_doc, None), Err(SchemaError::RefLoop(_))));
    let missing = v(r##"{"type":"object","properties":{"a":{"$ref":"#/components/schemas/Nope"}}}"##);
    assert_eq!(Schema::from_openapi(&missing, None).unwrap_err(), SchemaError::UnresolvedRef("#/components/schemas/Nope".into()));
    let bad = v(r#"{"type":"object","properties":{"a":{"type":"integer","minimum":"3"}}}"#);
    assert_eq!(Schema::from_openapi(&bad, None).unwrap_err(), SchemaError::BadKeyword("minimum".into()));
    assert_eq!(Schema::from_openapi(&v("[1]"), None).unwrap_err(), SchemaError::NoInput);
    let two_posts = v(r#"{"paths":{"/a":{"post":{"requestBody":{"content":{"application/json":{"schema":{}}}}}},"/b":{"post":{"requestBody":{"content":{"application/json":{"schema":{}}}}}}}}"#);
    assert_eq!(Schema::from_openapi(&two_posts, Some("c/d")).unwrap_err(), SchemaError::NoInput);
}

#[test]
fn recursive_schemas_validate_finite_inputs() {
    let tree = v(r##"{"components":{"schemas":{"Node":{"type":"object","properties":{"v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#/components/schemas/Node"}}},"required":["v"]}}},"$ref":"#/components/schemas/Node"}"##);
    let s = Schema::from_openapi(&tree, None).unwrap();
    assert_eq!(issues(&s, r#"{"v":1,"kids":[{"v":2,"kids":[{"kids":[]}]}]}"#), [("kids[0].kids[0].v".into(), "missing".into(), "Field required".into())]);
}
