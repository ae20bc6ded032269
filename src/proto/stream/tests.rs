use super::*;
use crate::proto::value::Value;

/// A parsed JSON value as the host would hand it (the browser's `JSON.parse`).
#[derive(Debug, Clone, PartialEq)]
struct J(Value);

impl Host for J {
    fn shape(&self, max: usize) -> Shape<J> {
        match &self.0 {
            Value::Null => Shape::Null,
            Value::Bool(b) => Shape::Bool(*b),
            Value::Num(n) => Shape::Num(*n),
            Value::Str(s) => Shape::Str(s.clone()),
            Value::Bytes(b) => Shape::Bytes(b.clone()),
            Value::Arr(a) => Shape::Array(a.iter().take(max).cloned().map(J).collect()),
            Value::Obj(m) => Shape::Object(m.iter().take(max).map(|(k, v)| (k.clone(), J(v.clone()))).collect()),
        }
    }
    fn field(&self, key: &str) -> J {
        J(self.0.get(key).cloned().unwrap_or(Value::Null))
    }
    fn same(&self, _: &J) -> bool {
        false
    }
}

type M = Machine<J, &'static str>;
type A = Action<J, &'static str>;

fn t(ms: f64) -> Instant {
    Instant::at(ms)
}

fn json(s: &str) -> Option<J> {
    let mut de = serde_json::Deserializer::from_str(s);
    Value::from_deserializer(&mut de).ok().map(J)
}

/// Runs the machine's actions, answering every parse as the edge does; returns the rest.
fn drain(m: &mut M, now: f64) -> Vec<A> {
    let mut out = Vec::new();
    while let Some(a) = m.poll_action() {
        match a {
            Action::Parse { name, data } => {
                let value = json(&data);
                m.handle(t(now), Input::Parsed { name, data, value, now_ms: 0.0 });
            }
            other => out.push(other),
        }
    }
    out
}

fn opened(body: Body) -> M {
    let mut m = M::new(Config::default(), t(0.0));
    m.handle(t(5.0), Input::Opened { body, request_id: Some("req-1".into()) });
    m
}

fn partials(actions: &[A]) -> Vec<Value> {
    actions.iter().filter_map(|a| if let Action::Partial(p) = a { Some(p.0.clone()) } else { None }).collect()
}

fn error_of(actions: &[A]) -> (ErrorInfo, Option<J>) {
    match actions.last() {
        Some(Action::Done(Err(End::Error { info, body }))) => (info.clone(), body.clone()),
        other => panic!("expected an error end, got {other:?}"),
    }
}

#[test]
fn content_types_pick_how_the_body_is_read() {
    assert_eq!(Body::of(Some("text/event-stream; charset=utf-8")), Body::Events);
    assert_eq!(Body::of(Some("Application/JSON")), Body::Json);
    assert_eq!(Body::of(Some("application/problem+json")), Body::Json);
    assert_eq!(Body::of(Some("audio/wav")), Body::Binary);
    assert_eq!(Body::of(Some("application/octet-stream")), Body::Binary);
    assert_eq!(Body::of(None), Body::Binary);
}

#[test]
fn events_are_partials_and_the_last_is_the_final_output_whatever_the_chunking() {
    let whole = b": hello\n\ndata: {\"output\":\"a\",\"partial\":true}\n\ndata: {\"output\":\"a b\",\"partial\":true}\r\n\r\ndata: {\"output\":\"a b c\",\"partial\":false}\n\n";
    for split in 0..whole.len() {
        let mut m = opened(Body::Events);
        assert!(m.wants_bytes());
        let mut acts = Vec::new();
        for piece in [&whole[..split], &whole[split..]] {
            m.handle(t(10.0), Input::Bytes(piece.to_vec()));
            acts.extend(drain(&mut m, 10.0));
        }
        m.handle(t(20.0), Input::Ended);
        acts.extend(drain(&mut m, 20.0));
        let outs: Vec<_> = partials(&acts).iter().map(|p| p.str_field("output").unwrap_or_default().to_string()).collect();
        assert_eq!(outs, ["a", "a b", "a b c"], "split at {split}");
        match acts.last() {
            Some(Action::Done(Ok(last))) => assert_eq!(last.0.get("partial"), Some(&Value::Bool(false))),
            other => panic!("{other:?}"),
        }
        assert!(m.is_done() && m.poll_timeout().is_none());
    }
}

#[test]
fn the_last_event_counts_even_without_its_blank_line() {
    let mut m = opened(Body::Events);
    m.handle(t(10.0), Input::Bytes(b"data: {\"n\":1}\n\ndata: {\"n\":2}".to_vec()));
    assert_eq!(partials(&drain(&mut m, 10.0)).len(), 1);
    m.handle(t(11.0), Input::Ended);
    let acts = drain(&mut m, 11.0);
    assert_eq!(partials(&acts), [json(r#"{"n":2}"#).unwrap().0]);
    assert!(matches!(acts.last(), Some(Action::Done(Ok(J(v)))) if v.get("n") == Some(&Value::Num(2.0))));
}

#[test]
fn an_error_event_mid_stream_ends_it_typed_with_the_request_id() {
    // A fal error document as a plain event, after partials.
    let mut m = opened(Body::Events);
    m.handle(t(10.0), Input::Bytes(b"data: {\"output\":\"x\"}\n\ndata: {\"detail\":\"The runner disconnected.\",\"error_type\":\"runner_disconnected\"}\n\ndata: {\"output\":\"late\"}\n\n".to_vec()));
    let acts = drain(&mut m, 10.0);
    assert_eq!(partials(&acts).len(), 1, "nothing after the error");
    let (info, body) = error_of(&acts);
    assert_eq!(
        (info.kind, info.status, info.error_type.as_deref(), info.request_id.as_deref()),
        (Kind::Api, Some(503), Some("runner_disconnected"), Some("req-1"))
    );
    assert_eq!(info.message, "The runner disconnected.");
    assert!(info.retryable);
    assert!(body.is_some());
    m.handle(t(11.0), Input::Ended);
    assert!(drain(&mut m, 11.0).is_empty(), "one end only");

    // An event named `error`: whatever it carries, JSON or a sentence.
    let mut m = opened(Body::Events);
    m.handle(t(10.0), Input::Bytes(b"event: error\ndata: {\"message\":\"GPU fell over\"}\n\n".to_vec()));
    let (info, _) = error_of(&drain(&mut m, 10.0));
    assert_eq!((info.kind, info.message.as_str()), (Kind::Api, "GPU fell over"));
    let mut m = opened(Body::Events);
    m.handle(t(10.0), Input::Bytes(b"event: error\ndata: out of memory\n\n".to_vec()));
    let (info, body) = error_of(&drain(&mut m, 10.0));
    assert_eq!((info.kind, info.message.as_str(), body), (Kind::Api, "out of memory", None));
    // A model error list (seed 001) mid-stream.
    let mut m = opened(Body::Events);
    m.handle(t(10.0), Input::Bytes(b"data: {\"detail\":[{\"loc\":[\"body\"],\"msg\":\"Generation timed out\",\"type\":\"generation_timeout\"}]}\n\n".to_vec()));
    let (info, _) = error_of(&drain(&mut m, 10.0));
    assert_eq!((info.status, info.error_type.as_deref()), (Some(504), Some("generation_timeout")));
}

#[test]
fn an_output_with_an_error_field_of_its_own_is_an_output() {
    let mut m = opened(Body::Events);
    m.handle(t(10.0), Input::Bytes(b"data: {\"output\":\"hi\",\"partial\":false,\"error\":null}\n\ndata: {\"error\":null,\"output\":\"x\"}\n\n".to_vec()));
    m.handle(t(10.0), Input::Ended);
    let acts = drain(&mut m, 10.0);
    assert_eq!(partials(&acts).len(), 2);
    assert!(matches!(acts.last(), Some(Action::Done(Ok(_)))));
}

#[test]
fn broken_bodies_are_protocol_errors() {
    let mut m = opened(Body::Events);
    m.handle(t(10.0), Input::Bytes(b"data: not json\n\n".to_vec()));
    let (info, _) = error_of(&drain(&mut m, 10.0));
    assert_eq!((info.kind, info.request_id.as_deref()), (Kind::Protocol, Some("req-1")));
    assert!(info.message.contains("not JSON"), "{}", info.message);

    let mut m = opened(Body::Events);
    m.handle(t(10.0), Input::Bytes(b": only a comment\n\n".to_vec()));
    m.handle(t(10.0), Input::Ended);
    let (info, _) = error_of(&drain(&mut m, 10.0));
    assert_eq!((info.kind, info.message.as_str()), (Kind::Protocol, "The output stream ended without any output."));

    let mut m = opened(Body::Binary);
    m.handle(t(10.0), Input::Ended);
    assert_eq!(error_of(&drain(&mut m, 10.0)).0.kind, Kind::Protocol);
}

#[test]
fn binary_chunks_are_partials_and_the_last_chunk_is_the_final_output() {
    let mut m = opened(Body::Binary);
    assert!(!m.wants_bytes());
    let chunk = |b: &[u8]| J(Value::Bytes(b.to_vec()));
    m.handle(t(10.0), Input::Chunk(chunk(b"RIFF")));
    m.handle(t(20.0), Input::Chunk(chunk(b"data")));
    m.handle(t(30.0), Input::Ended);
    let acts = drain(&mut m, 30.0);
    assert_eq!(partials(&acts), [Value::Bytes(b"RIFF".to_vec()), Value::Bytes(b"data".to_vec())]);
    assert_eq!(acts.last(), Some(&Action::Done(Ok(chunk(b"data")))));
}

#[test]
fn a_json_answer_is_the_one_output_unless_it_is_an_error_document() {
    let mut m = opened(Body::Json);
    m.handle(t(10.0), Input::Bytes(b"{\"output\":".to_vec()));
    m.handle(t(10.0), Input::Bytes(b"\"whole\"}".to_vec()));
    assert!(drain(&mut m, 10.0).is_empty());
    m.handle(t(10.0), Input::Ended);
    let acts = drain(&mut m, 10.0);
    assert_eq!(partials(&acts).len(), 1);
    assert!(matches!(acts.last(), Some(Action::Done(Ok(J(v)))) if v.str_field("output") == Some("whole")));

    // A proxy that answers everything 200: fal's error document is the error.
    let mut m = opened(Body::Json);
    m.handle(t(10.0), Input::Bytes(b"{\"detail\":\"Rate limited\",\"error_type\":\"rate_limited\"}".to_vec()));
    m.handle(t(10.0), Input::Ended);
    let (info, _) = error_of(&drain(&mut m, 10.0));
    assert_eq!(info.error_type.as_deref(), Some("rate_limited"));
}

#[test]
fn silence_past_the_stall_window_ends_the_stream_and_bytes_keep_it_alive() {
    let cfg = Config { stall: Duration::ms(1_000.0) };
    let mut m = M::new(cfg, t(0.0));
    assert_eq!(m.poll_timeout(), Some(t(1_000.0)), "waiting for the head counts");
    m.handle_timeout(t(999.0));
    assert!(drain(&mut m, 999.0).is_empty(), "woken early: nothing");
    m.handle(t(900.0), Input::Opened { body: Body::Events, request_id: None });
    m.handle(t(1_500.0), Input::Bytes(b": keep-alive\n\n".to_vec()));
    assert_eq!(m.poll_timeout(), Some(t(2_500.0)), "any byte counts, a comment too");
    m.handle_timeout(t(2_500.0));
    assert_eq!(drain(&mut m, 2_500.0), [Action::Done(Err(End::Stalled(Duration::ms(1_000.0))))]);
    m.handle(t(2_600.0), Input::Bytes(b"data: {}\n\n".to_vec()));
    assert!(drain(&mut m, 2_600.0).is_empty(), "nothing after the end");
}

#[test]
fn a_busy_stream_runs_as_long_as_it_sends() {
    // No deadline of its own: chunks a second apart for a minute, with a 2 s stall window.
    let mut m = M::new(Config { stall: Duration::ms(2_000.0) }, t(0.0));
    m.handle(t(100.0), Input::Opened { body: Body::Binary, request_id: None });
    for i in 1..=60 {
        let now = f64::from(i) * 1_000.0;
        m.handle_timeout(t(now - 1.0));
        m.handle(t(now), Input::Chunk(J(Value::Bytes(vec![1]))));
        assert_eq!(m.poll_timeout(), Some(t(now + 2_000.0)));
    }
    assert!(drain(&mut m, 60_000.0).iter().all(|a| matches!(a, Action::Partial(_))), "never given up");
    m.handle(t(60_500.0), Input::Ended);
    assert!(matches!(drain(&mut m, 60_500.0).last(), Some(Action::Done(Ok(_)))));
}

#[test]
fn abort_and_failures_end_it_once() {
    let mut m = opened(Body::Events);
    m.handle(t(10.0), Input::Abort);
    m.handle(t(11.0), Input::Failed("late"));
    assert_eq!(drain(&mut m, 11.0), [Action::Done(Err(End::Aborted))]);
    let mut m = M::new(Config::default(), t(0.0));
    m.handle(t(10.0), Input::Failed("503"));
    assert_eq!(drain(&mut m, 10.0), [Action::Done(Err(End::Failed("503")))]);
}

#[test]
fn random_chunkings_and_inputs_never_end_twice_or_emit_after_the_end() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let pieces: [&[u8]; 7] = [
        b"data: {\"a\":1}\n\n",
        b"data: {\"detail\":\"x\",\"error_type\":\"internal_error\"}\n\n",
        b": k\n",
        b"\n",
        b"event: error\n",
        b"data: [1,",
        b"2]\n\n",
    ];
    for _ in 0..500 {
        let mut m = M::new(Config { stall: Duration::ms(50.0) }, t(0.0));
        let mut now = 0.0;
        let (mut ends, mut after_end) = (0, 0);
        for step in 0..30 {
            now += (next() % 40) as f64;
            match next() % 10 {
                0 if step == 0 => m.handle(t(now), Input::Opened { body: Body::Events, request_id: None }),
                0 => m.handle(t(now), Input::Ended),
                1 => {
                    let due = m.poll_timeout().is_some_and(|at| at <= t(now));
                    m.handle_timeout(t(now));
                    assert!(!due || m.is_done(), "a deadline that is due ends the stream");
                }
                2 => m.handle(t(now), Input::Abort),
                _ => m.handle(t(now), Input::Bytes(pieces[(next() % 7) as usize].to_vec())),
            }
            for a in drain(&mut m, now) {
                if ends > 0 {
                    after_end += 1;
                }
                if matches!(a, Action::Done(_)) {
                    ends += 1;
                }
            }
        }
        assert!(ends <= 1 && after_end == 0, "{ends} ends, {after_end} actions after the end");
    }
}
