//! The objects genwire hands to JS, built here as [`Value`]s so the edge has one converter for
//! all of them: an error's fields, field issues with their typed `ctx`, events, `client.stats()`.
//! Numbers stay numbers, absent fields are left out, keys keep the order written here.

use crate::proto::call::{Event, Spec};
use crate::proto::error::{Ctx, ErrorInfo, FieldIssue, LocPart};
use crate::proto::policy::{Policy, Transition};
use crate::proto::time::{Instant, Now};
use crate::proto::value::Value;

type Fields = Vec<(String, Value)>;

fn put(o: &mut Fields, k: &str, v: Value) {
    o.push((k.into(), v));
}
fn s(v: &str) -> Value {
    Value::Str(v.into())
}
fn n(v: f64) -> Value {
    Value::Num(v)
}
fn opt_s(o: &mut Fields, k: &str, v: Option<&str>) {
    if let Some(v) = v {
        put(o, k, s(v));
    }
}

/// The fields of a `GenwireError`, in the order of its JSON form.
pub fn error(info: &ErrorInfo) -> Fields {
    let mut o = Fields::new();
    put(&mut o, "kind", s(info.kind.as_str()));
    put(&mut o, "category", s(info.category.as_str()));
    if let Some(st) = info.status {
        put(&mut o, "status", n(f64::from(st)));
    }
    put(&mut o, "retryable", Value::Bool(info.retryable));
    if let Some(ms) = info.retry_after_ms {
        put(&mut o, "retryAfterMs", n(ms));
    }
    opt_s(&mut o, "requestId", info.request_id.as_deref());
    opt_s(&mut o, "errorType", info.error_type.as_deref());
    put(&mut o, "message", s(&info.message));
    opt_s(&mut o, "docsUrl", info.docs_url.as_deref());
    put(&mut o, "issues", issues(&info.issues));
    opt_s(&mut o, "timeoutType", info.timeout_type.as_deref());
    if info.truncated {
        put(&mut o, "truncated", Value::Bool(true));
    }
    opt_s(&mut o, "source", info.source.map(|x| x.as_str()));
    o
}

/// A place in the input: `["body", "images", 0]`.
pub fn loc(parts: &[LocPart]) -> Value {
    Value::Arr(
        parts
            .iter()
            .map(|p| match p {
                LocPart::Key(k) => s(k),
                LocPart::Index(x) => n(*x as f64),
            })
            .collect(),
    )
}

/// Field issues: `{loc, field, type, msg, ctx?, input?, url?, hint?}` (read back by
/// `error::issues::read_shaped`).
pub fn issues(list: &[FieldIssue]) -> Value {
    Value::Arr(
        list.iter()
            .map(|i| {
                let mut o = Fields::new();
                put(&mut o, "loc", loc(&i.loc));
                put(&mut o, "field", s(&i.field));
                put(&mut o, "type", s(&i.kind));
                put(&mut o, "msg", s(&i.msg));
                if let Some(c) = &i.ctx {
                    put(&mut o, "ctx", ctx(c));
                }
                if let Some(v) = &i.input {
                    put(&mut o, "input", v.clone());
                }
                opt_s(&mut o, "url", i.url.as_deref());
                opt_s(&mut o, "hint", i.hint.as_deref());
                Value::Obj(o)
            })
            .collect(),
    )
}

fn ctx(c: &Ctx) -> Value {
    let strings = |l: &[String]| Value::Arr(l.iter().map(|x| s(x)).collect());
    let f = |pairs: &[(&str, Value)]| Value::Obj(pairs.iter().map(|(k, v)| ((*k).into(), v.clone())).collect());
    match c {
        Ctx::GreaterThan { gt } => f(&[("gt", n(*gt))]),
        Ctx::GreaterThanEqual { ge } => f(&[("ge", n(*ge))]),
        Ctx::LessThan { lt } => f(&[("lt", n(*lt))]),
        Ctx::LessThanEqual { le } => f(&[("le", n(*le))]),
        Ctx::MultipleOf { multiple_of } => f(&[("multiple_of", n(*multiple_of))]),
        Ctx::MinLength { min_length } => f(&[("min_length", n(*min_length))]),
        Ctx::MaxLength { max_length } => f(&[("max_length", n(*max_length))]),
        Ctx::OneOf { expected } => f(&[("expected", Value::Arr(expected.clone()))]),
        Ctx::ImageTooSmall { min_height, min_width } => f(&[("min_height", n(*min_height)), ("min_width", n(*min_width))]),
        Ctx::ImageTooLarge { max_height, max_width } => f(&[("max_height", n(*max_height)), ("max_width", n(*max_width))]),
        Ctx::FileTooLarge { max_size } => f(&[("max_size", n(*max_size))]),
        Ctx::InvalidArchive { supported_extensions } => f(&[("supported_extensions", strings(supported_extensions))]),
        Ctx::ArchiveBelowMinimum { min_count, provided_count, supported_extensions } => {
            f(&[("min_count", n(*min_count)), ("provided_count", n(*provided_count)), ("supported_extensions", strings(supported_extensions))])
        }
        Ctx::ArchiveAboveMaximum { max_count, provided_count, supported_extensions } => {
            f(&[("max_count", n(*max_count)), ("provided_count", n(*provided_count)), ("supported_extensions", strings(supported_extensions))])
        }
        Ctx::Other(v) => v.clone(),
    }
}

/// The event types `onEvent` sees (`schema` is the edge's: a schema that could not be had).
pub const EVENT_TYPES: [&str; 6] = ["attempt", "success", "retry", "error", "breaker", "schema"];

/// An event of a call, without its `at` and its `error` (the edge adds them). `url` is the attempt's.
pub fn event(e: &Event, spec: &Spec, url: &str, now: Now) -> Fields {
    let mut o = Fields::new();
    let head = |o: &mut Fields, kind: &str, attempt: u32| {
        put(o, "type", s(kind));
        put(o, "call", s(spec.call.as_str()));
        put(o, "endpoint", s(&spec.key));
        put(o, "attempt", n(f64::from(attempt)));
    };
    match e {
        Event::Attempt { attempt } => {
            head(&mut o, "attempt", *attempt);
            put(&mut o, "url", s(url));
        }
        Event::Success { attempt, latency } => {
            head(&mut o, "success", *attempt);
            put(&mut o, "latencyMs", n(latency.as_ms()));
        }
        Event::Retry { attempt, delay, server_named } => {
            head(&mut o, "retry", *attempt);
            put(&mut o, "delayMs", n(delay.as_ms()));
            put(&mut o, "serverNamed", Value::Bool(*server_named));
        }
        Event::Error { attempt, reason } => {
            head(&mut o, "error", *attempt);
            put(&mut o, "reason", s(reason.as_str()));
        }
        Event::Rejected { attempt, .. } => head(&mut o, "error", *attempt),
        Event::Breaker(t) => return breaker(t, now),
    }
    o
}

/// An event that is not a request's: an input refused before sending (`error`, call `validate`),
/// or a schema that could not be had (`schema`). The edge adds the error.
pub fn refused(kind: &str, endpoint: &str) -> Fields {
    let mut o = Fields::new();
    put(&mut o, "type", s(kind));
    if kind == "error" {
        put(&mut o, "call", s("validate"));
    }
    put(&mut o, "endpoint", s(endpoint));
    o
}

fn breaker(t: &Transition, now: Now) -> Fields {
    let mut o = Fields::new();
    put(&mut o, "type", s("breaker"));
    put(&mut o, "endpoint", s(&t.key));
    put(&mut o, "from", s(t.from));
    put(&mut o, "to", s(t.to));
    if let Some(at) = t.reopens_at {
        put(&mut o, "reopensAt", n(at.to_wall(now).0));
    }
    o
}

/// `client.stats()`: the rolling summary, the breakers of troubled endpoints, the retry budget.
pub fn stats(policy: &mut Policy, now: Now) -> Value {
    let sum = policy.summary(now.mono);
    let opt = |v: Option<f64>| v.map_or(Value::Null, n);
    let mut o = Fields::new();
    put(&mut o, "windowMs", n(sum.window_ms));
    put(&mut o, "calls", n(sum.calls as f64));
    put(&mut o, "successes", n(sum.successes as f64));
    put(&mut o, "successRate", opt(sum.success_rate));
    put(&mut o, "latencyP50Ms", opt(sum.latency_p50_ms));
    put(&mut o, "latencyP95Ms", opt(sum.latency_p95_ms));
    put(&mut o, "retries", n(f64::from(sum.retries)));
    put(&mut o, "errorsByType", Value::Arr(sum.errors_by_type.iter().map(|(t, c)| Value::Arr(vec![s(t), n(*c as f64)])).collect()));
    let breakers = policy
        .breakers()
        .map(|(k, st)| {
            let mut b = vec![("state".to_string(), s(st.name()))];
            if let crate::proto::breaker::State::Open { until } = st {
                b.push(("reopensAt".into(), n(until.to_wall(now).0)));
            }
            (k.clone(), Value::Obj(b))
        })
        .collect();
    put(&mut o, "breakers", Value::Obj(breakers));
    put(&mut o, "retryBudget", n(policy.budget()));
    Value::Obj(o)
}

/// A circuit-open refusal: nothing was sent; retry after `reopens_at`.
pub fn circuit_open(key: &str, reopens_at: Instant, now: Now) -> (ErrorInfo, Fields) {
    let wait = now.mono.until(reopens_at).as_ms();
    let mut info = ErrorInfo::local(
        crate::proto::error::Kind::CircuitOpen,
        crate::proto::error::Category::CircuitOpen,
        format!("Requests to {key} are paused after repeated failures; retrying in {} s.", crate::proto::num::fmt((wait / 1000.0).ceil().max(1.0))),
    );
    info.retryable = true;
    info.retry_after_ms = Some(wait);
    let extra = vec![("reopensAt".into(), n(reopens_at.to_wall(now).0)), ("endpoint".into(), s(key))];
    (info, extra)
}

/// A subscribe whose `timeout` ran out (the job was cancelled upstream).
pub fn timed_out(ms: f64) -> (ErrorInfo, Fields) {
    let info = ErrorInfo::local(
        crate::proto::error::Kind::Timeout,
        crate::proto::error::Category::Timeout,
        format!("No result within {} ms; the job was cancelled.", crate::proto::num::fmt(ms)),
    );
    (info, vec![("timeoutMs".into(), n(ms))])
}

/// A single call (run, a queue call) whose `timeout` ran out: its request was abandoned. A `run`
/// or a submit may still have reached the server (a run may complete, a job may be queued).
pub fn call_timed_out(ms: f64) -> (ErrorInfo, Fields) {
    let info = ErrorInfo::local(
        crate::proto::error::Kind::Timeout,
        crate::proto::error::Category::Timeout,
        format!("No answer within {} ms; the request was abandoned.", crate::proto::num::fmt(ms)),
    );
    (info, vec![("timeoutMs".into(), n(ms))])
}

/// An output stream given up: silent for `ms` (`stalled: true`, the only way a stream times out).
pub fn stream_stalled(ms: f64) -> (ErrorInfo, Fields) {
    let message = format!("The output stream sent nothing for {} ms.", crate::proto::num::fmt(ms));
    let info = ErrorInfo::local(crate::proto::error::Kind::Timeout, crate::proto::error::Category::Timeout, message);
    (info, vec![("timeoutMs".into(), n(ms)), ("stalled".into(), Value::Bool(true))])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::error::{decode_http, Body};
    use crate::proto::time::{Duration, Wall};

    #[test]
    fn an_error_and_its_issues() {
        let body = Value::from_deserializer(&mut serde_json::Deserializer::from_str(
            r#"{"detail":[{"loc":["body","guidance_scale"],"msg":"too big","type":"less_than_equal","ctx":{"le":20},"input":25}]}"#,
        ))
        .unwrap();
        let info = decode_http(422, &|_: &str| None, &Body::Json(body), false, None, 0.0);
        let f = error(&info);
        let keys: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["kind", "category", "status", "retryable", "errorType", "message", "docsUrl", "issues", "source"]);
        let Value::Arr(list) = &f.iter().find(|(k, _)| k == "issues").unwrap().1 else { panic!() };
        let Value::Obj(issue) = &list[0] else { panic!() };
        let keys: Vec<&str> = issue.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["loc", "field", "type", "msg", "ctx", "input"]);
        assert_eq!(issue[4].1, Value::Obj(vec![("le".into(), Value::Num(20.0))]));
    }

    /// The validator module answers the core with `issues` as written here; the core reads them
    /// back (`read_shaped`) and must get the very issues the validator found.
    #[test]
    fn issues_cross_between_modules_unchanged() {
        use crate::proto::error::issues::{loc_of, read_shaped};
        use crate::proto::schema::{Options, Schema};
        let json = |t: &str| Value::from_deserializer(&mut serde_json::Deserializer::from_str(t)).unwrap();
        let schema = Schema::from_openapi(
            &json(
                r##"{"type":"object","required":["prompt"],"properties":{
                "prompt":{"type":"string","maxLength":3},"n":{"type":"integer","minimum":1,"maximum":4,"multipleOf":1},
                "size":{"enum":["square","portrait"]},"image_url":{"type":"string","format":"uri"},
                "scale":{"type":"number","exclusiveMinimum":0},"tags":{"type":"array","minItems":2,"items":{"type":"string"}},
                "image_size":{"anyOf":[{"$ref":"#/components/schemas/ImageSize"},{"enum":["square_hd","portrait_4_3"]}]},
                "mode":{"anyOf":[{"type":"integer","minimum":1},{"const":"auto"}]}},
                "components":{"schemas":{"ImageSize":{"title":"ImageSize","type":"object","properties":{"width":{"type":"integer"},"height":{"type":"integer"}}}}}}"##,
            ),
            None,
        )
        .unwrap();
        let input = json(
            r#"{"prompt":"long","n":9,"size":"wide","image_url":"/local.png","scale":0,"tags":["x"],"image_size":"512x512","mode":0.5,"extra":[1.5,null]}"#,
        );
        let lone = vec![vec![LocPart::Key("prompt".into())]];
        let found = schema.validate_with(&input, &Options { client: true, lone_surrogates: lone.clone() });
        assert!(found.len() >= 6 && found.iter().any(|i| i.hint.is_some()) && found.iter().any(|i| i.ctx.is_some()), "{found:?}");
        // A union's members are labelled in `loc`, not in `field`.
        assert!(found.iter().any(|i| i.field == "image_size" && i.loc.len() == 3), "{found:?}");
        let Value::Arr(shaped) = issues(&found) else { panic!() };
        assert_eq!(shaped.iter().map(read_shaped).collect::<Vec<_>>(), found);
        // Every documented ctx, a url, a bare issue.
        let ctx = |k: &str, c: &str| FieldIssue {
            loc: vec![LocPart::Key("body".into()), LocPart::Key("a".into()), LocPart::Index(2)],
            field: "a[2]".into(),
            kind: k.into(),
            msg: format!("{k}!"),
            ctx: Ctx::read(k, &json(c)),
            input: Some(json(r#"{"x":[1,"y"]}"#)),
            url: Some("https://errors.pydantic.dev/2/v/x".into()),
            hint: None,
        };
        let all = vec![
            ctx("greater_than", r#"{"gt":1}"#),
            ctx("less_than_equal", r#"{"le":2.5}"#),
            ctx("string_too_short", r#"{"min_length":3}"#),
            ctx("literal_error", r#"{"expected":["a",1]}"#),
            ctx("image_too_large", r#"{"max_height":9,"max_width":8}"#),
            ctx("archive_file_count_below_minimum", r#"{"min_count":2,"provided_count":1,"supported_extensions":[".zip"]}"#),
            ctx("odd", r#"{"anything":[true]}"#),
            FieldIssue {
                loc: vec![],
                field: String::new(),
                kind: "missing".into(),
                msg: "Field required".into(),
                ctx: None,
                input: None,
                url: None,
                hint: Some("h".into()),
            },
        ];
        let Value::Arr(shaped) = issues(&all) else { panic!() };
        assert_eq!(shaped.iter().map(read_shaped).collect::<Vec<_>>(), all);
        // Lone-surrogate places go over as locs and come back the same.
        assert_eq!(loc_of(Some(&loc(&lone[0]))), lone[0]);
    }

    #[test]
    fn times_shown_to_people_are_wall_clock() {
        let now = Now { mono: Instant::at(10_000.0), wall: Wall(1.7e12) };
        let (info, extra) = circuit_open("fal-ai/flux", Instant::at(12_500.0), now);
        assert_eq!(
            (info.retry_after_ms, info.message.as_str()),
            (Some(2_500.0), "Requests to fal-ai/flux are paused after repeated failures; retrying in 3 s.")
        );
        assert_eq!(extra[0], ("reopensAt".to_string(), Value::Num(1.7e12 + 2_500.0)));
        let t = Transition { key: "k".into(), from: "closed", to: "open", reopens_at: Some(Instant::at(40_000.0)) };
        let spec = Spec::upload();
        let f = event(&Event::Breaker(t), &spec, "", now);
        assert_eq!(f.last().unwrap(), &("reopensAt".to_string(), Value::Num(1.7e12 + 30_000.0)));
        let f = event(&Event::Retry { attempt: 1, delay: Duration::ms(20.0), server_named: false }, &spec, "", now);
        let keys: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["type", "call", "endpoint", "attempt", "delayMs", "serverNamed"]);
    }
}
