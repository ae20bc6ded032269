//! Realtime over WebSocket: tokens through the proxy, the socket at /sim/realtime/..., fal's
//! framing (msgpack in and out, a `timings` text message after each result), the older JSON
//! variant, buffering, faults, stats.

mod common;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde::Serialize;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const TOKENS: &str = "https://rest.fal.ai/tokens/";
const WAIT: Duration = Duration::from_secs(5);

/// What the socket delivered next.
#[derive(Debug)]
enum Got {
    Json(Value),
    Msgpack(Value),
    Close(Option<u16>, String),
    /// The stream ended (after a close handshake).
    Ended,
    /// The connection broke without a close frame (a browser sees 1006).
    Broken(String),
    Silent,
}

async fn token(s: &common::Server, apps: &[&str]) -> String {
    let (status, _, body) = s.proxy_json(Method::POST, TOKENS, Some(json!({ "allowed_apps": apps, "token_expiration": 60 }))).await;
    assert_eq!(status, 201, "{body}");
    body.as_str().expect("token is a JSON string").to_string()
}

fn ws_url(s: &common::Server, endpoint: &str, query: &str) -> String {
    format!("{}/sim/realtime/{endpoint}/realtime?{query}", s.base.replacen("http://", "ws://", 1))
}

/// Connects to `endpoint` with a fresh token, in the older JSON framing (`~json/` in the path).
async fn open_json(s: &common::Server, endpoint: &str) -> Socket {
    let alias = endpoint.split('/').nth(1).expect("alias");
    let t = token(s, &[alias]).await;
    connect(s, &format!("~json/{endpoint}"), &format!("fal_jwt_token={t}")).await
}

async fn connect(s: &common::Server, endpoint: &str, query: &str) -> Socket {
    let (socket, resp) = tokio_tungstenite::connect_async(ws_url(s, endpoint, query)).await.expect("upgrade");
    assert_eq!(resp.status().as_u16(), 101);
    socket
}

/// Connects to `endpoint` with a fresh token for its alias.
async fn open(s: &common::Server, endpoint: &str) -> Socket {
    let alias = endpoint.split('/').nth(1).expect("alias");
    let t = token(s, &[alias]).await;
    connect(s, endpoint, &format!("fal_jwt_token={t}")).await
}

async fn next(socket: &mut Socket, wait: Duration) -> Got {
    loop {
        return match tokio::time::timeout(wait, socket.next()).await {
            Err(_) => Got::Silent,
            Ok(None) => Got::Ended,
            Ok(Some(Err(e))) => Got::Broken(e.to_string()),
            Ok(Some(Ok(Message::Text(t)))) => Got::Json(serde_json::from_str(t.as_str()).expect("text frames are JSON")),
            Ok(Some(Ok(Message::Binary(b)))) => Got::Msgpack(rmp_serde::from_slice(&b).expect("binary frames are msgpack")),
            Ok(Some(Ok(Message::Close(f)))) => Got::Close(f.as_ref().map(|f| u16::from(f.code)), f.map(|f| f.reason.to_string()).unwrap_or_default()),
            Ok(Some(Ok(_))) => continue,
        };
    }
}

async fn json_frame(socket: &mut Socket) -> Value {
    match next(socket, WAIT).await {
        Got::Json(v) => v,
        other => panic!("expected a JSON frame, got {other:?}"),
    }
}

async fn send_json(socket: &mut Socket, v: Value) {
    socket.send(Message::Text(v.to_string().into())).await.expect("send");
}

/// An input as fal's apps read it: a msgpack map in a binary frame.
async fn send_input(socket: &mut Socket, v: Value) {
    socket.send(Message::Binary(rmp_serde::to_vec_named(&v).expect("encode").into())).await.expect("send");
}

/// The next result as fal's apps send it: a msgpack binary frame, then a JSON text
/// `{"type": "x-fal-message", "action": "timings", "timing": <seconds>}`.
async fn result(socket: &mut Socket) -> Value {
    let r = match next(socket, WAIT).await {
        Got::Msgpack(v) => v,
        other => panic!("expected a msgpack result, got {other:?}"),
    };
    let t = json_frame(socket).await;
    assert_eq!((t["type"].as_str(), t["action"].as_str()), (Some("x-fal-message"), Some("timings")), "{t}");
    assert!(t["timing"].as_f64().is_some_and(|s| s >= 0.0), "{t}");
    r
}

/// Expects the stream to end after a close frame with `code` (and the client's reply).
async fn expect_close(socket: &mut Socket, code: u16) {
    match next(socket, WAIT).await {
        Got::Close(Some(c), _) => assert_eq!(c, code),
        other => panic!("expected close {code}, got {other:?}"),
    }
    match next(socket, WAIT).await {
        Got::Ended => {}
        other => panic!("the stream should end after the close, got {other:?}"),
    }
}

fn normal() -> CloseFrame {
    CloseFrame { code: CloseCode::Normal, reason: "done".into() }
}

async fn set_faults(s: &common::Server, faults: Value) {
    assert_eq!(s.sim_post("/__sim/realtime/faults", faults).await, 200);
}

async fn stats(s: &common::Server) -> Value {
    s.sim_get("/__sim/realtime/stats").await
}

/// Waits until the server has seen every socket close.
async fn wait_all_closed(s: &common::Server) -> Value {
    for _ in 0..200 {
        let st = stats(s).await;
        if st["open"] == 0 {
            return st;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("sockets left open: {}", stats(s).await);
}

#[tokio::test]
async fn tokens_are_validated_and_need_allowed_apps() {
    let s = common::start().await;
    let t = token(&s, &["lcm-sd15-i2i"]).await;
    assert!(t.starts_with("simtok_") && t.len() > 20, "{t}");
    for (body, status) in [
        (json!({}), 422),
        (json!({"allowed_apps": []}), 422),
        (json!({"allowed_apps": "echo"}), 422),
        (json!({"allowed_apps": [1]}), 422),
        (json!({"allowed_apps": ["echo"], "token_expiration": 5}), 422),
        (json!({"allowed_apps": ["echo"], "token_expiration": 3601}), 422),
        (json!({"allowed_apps": ["echo"], "token_expiration": "60"}), 422),
        (json!(["echo"]), 422),
    ] {
        let (got, headers, answer) = s.proxy_json(Method::POST, TOKENS, Some(body.clone())).await;
        assert_eq!(got, status, "{body}: {answer}");
        assert_eq!(answer["error_type"], "bad_request", "{body}: {answer}");
        assert!(answer["detail"].is_string());
        assert_eq!(headers.get("x-fal-error-type").map(|v| v.as_bytes()), Some(&b"bad_request"[..]));
    }
    let resp = s.proxy(Method::POST, TOKENS).body("not json").send().await.expect("send");
    assert_eq!(resp.status().as_u16(), 400);
    let (status, _, _) = s.proxy_json(Method::POST, TOKENS, Some(json!({"allowed_apps": ["echo"], "token_expiration": 3600}))).await;
    assert_eq!(status, 201);
    // Only POST /tokens/ exactly: nothing else on rest.fal.ai near it, and never GET.
    for target in
        ["https://rest.fal.ai/tokens", "https://rest.fal.ai/tokens/?x=1", "https://rest.fal.ai/tokens/abc", "wss://fal.run/fal-ai/lcm-sd15-i2i/realtime"]
    {
        let (status, _, body) = s.proxy_json(Method::POST, target, Some(json!({"allowed_apps": ["echo"]}))).await;
        assert_eq!(body["error_type"], "proxy_target_rejected", "{target}: {status} {body}");
    }
    let (status, _, _) = s.proxy_json(Method::GET, TOKENS, None).await;
    assert_eq!(status, 403);
    assert_eq!(stats(&s).await["tokens_issued"], 2);
}

#[tokio::test]
async fn image_results_arrive_in_order_as_msgpack_each_followed_by_timings() {
    let s = common::start().await;
    let mut socket = open(&s, "fal-ai/lcm-sd15-i2i").await;
    // Nothing is sent before the first input.
    assert!(matches!(next(&mut socket, Duration::from_millis(150)).await, Got::Silent));
    for seq in 1..=3 {
        send_input(&mut socket, json!({"prompt": "a lighthouse", "seed": 42, "strength": 0.5, "seq": seq, "image_url": "data:image/png;base64,AAAA"})).await;
    }
    let mut urls = Vec::new();
    for seq in 1..=3 {
        let r = result(&mut socket).await;
        assert_eq!(r["seq"], seq, "{r}");
        assert_eq!(r["seed"], 42);
        assert!(r["request_id"].as_str().is_some_and(|id| id.len() == 36));
        assert!(r["timings"]["inference"].is_number());
        let image = &r["images"][0];
        assert_eq!((image["width"].as_u64(), image["height"].as_u64(), image["content_type"].as_str()), (Some(256), Some(256), Some("image/png")));
        let url = image["url"].as_str().expect("url");
        assert!(url.starts_with("data:image/png;base64,iVBORw0KGgo"), "{}", &url[..40]);
        urls.push(url.to_string());
    }
    assert!(urls.iter().all(|u| u == &urls[0]), "same prompt + seed + strength gives the same picture");
    send_input(&mut socket, json!({"prompt": "a lighthouse", "seed": 43, "strength": 0.5})).await;
    let other = result(&mut socket).await;
    assert_ne!(other["images"][0]["url"].as_str(), Some(urls[0].as_str()));
    assert!(other.get("seq").is_none(), "no seq in, none out: {}", other["seq"]);

    let mut fast = open(&s, "fal-ai/fast-lcm-diffusion").await;
    send_input(&mut fast, json!({"prompt": "x"})).await;
    assert!(result(&mut fast).await["images"][0]["url"].is_string());

    socket.close(Some(normal())).await.expect("close");
    // A close frame without a code is recorded as 1005, as a browser would report it.
    fast.close(None).await.expect("close");
    let st = wait_all_closed(&s).await;
    assert_eq!((st["opened"].as_u64(), st["inputs"].as_u64(), st["results"].as_u64()), (Some(2), Some(5), Some(5)), "{st}");
    let conns = st["connections"].as_array().expect("connections");
    assert_eq!(conns[0]["endpoint"], "fal-ai/lcm-sd15-i2i");
    assert_eq!((conns[0]["inputs"].as_u64(), conns[0]["results"].as_u64(), conns[0]["close_code"].as_u64()), (Some(4), Some(4), Some(1000)));
    assert_eq!(conns[1]["close_code"], 1005);
    assert!(conns[0]["closed_at_ms"].as_f64() >= conns[0]["opened_at_ms"].as_f64());
}

#[derive(Serialize)]
struct BinInput<'a> {
    prompt: &'a str,
    seq: u32,
    #[serde(serialize_with = "as_bin")]
    image: Vec<u8>,
    #[serde(rename = "_binary_reply", skip_serializing_if = "Option::is_none")]
    binary_reply: Option<bool>,
}

fn as_bin<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bytes(v)
}

#[tokio::test]
async fn msgpack_input_with_bytes_is_echoed_as_msgpack() {
    let s = common::start().await;
    let mut socket = open(&s, "genwire/echo").await;
    let input = BinInput { prompt: "p", seq: 7, image: vec![0xab; 65536], binary_reply: None };
    socket.send(Message::Binary(rmp_serde::to_vec_named(&input).expect("encode").into())).await.expect("send");
    let r = result(&mut socket).await;
    assert_eq!(r["seq"], 7);
    assert_eq!(r["bytes"], 65536);
    assert_eq!(r["echo"], json!({"prompt": "p", "seq": 7, "image": "<bytes:65536>"}));
    // Without timings, the results follow each other directly.
    assert_eq!(s.sim_post("/__sim/realtime/config", json!({"timings": false})).await, 200);
    send_input(&mut socket, json!({"seq": 8})).await;
    send_input(&mut socket, json!({"seq": 9})).await;
    for seq in [8, 9] {
        assert!(matches!(next(&mut socket, WAIT).await, Got::Msgpack(r) if r["seq"] == seq));
    }
}

/// The older framing, per connection (`~json/`) or for all (`encoding: "json"`): JSON text
/// results, msgpack only when the input asks `_binary_reply`.
#[tokio::test]
async fn json_variant_answers_text_unless_binary_reply_is_asked() {
    let s = common::start().await;
    assert_eq!(s.sim_post("/__sim/realtime/config", json!({"timings": false})).await, 200);
    let mut socket = open_json(&s, "genwire/echo").await;
    let input = BinInput { prompt: "p", seq: 7, image: vec![0xab; 65536], binary_reply: None };
    socket.send(Message::Binary(rmp_serde::to_vec_named(&input).expect("encode").into())).await.expect("send");
    let r = json_frame(&mut socket).await;
    assert_eq!((r["seq"].as_u64(), r["bytes"].as_u64()), (Some(7), Some(65536)));

    let input = BinInput { prompt: "q", seq: 8, image: vec![1, 2, 3], binary_reply: Some(true) };
    socket.send(Message::Binary(rmp_serde::to_vec_named(&input).expect("encode").into())).await.expect("send");
    match next(&mut socket, WAIT).await {
        Got::Msgpack(r) => {
            assert_eq!((r["seq"].as_u64(), r["bytes"].as_u64()), (Some(8), Some(3)), "{r}");
            assert_eq!(r["echo"]["_binary_reply"], true);
        }
        other => panic!("expected msgpack, got {other:?}"),
    }
    // JSON input: echoed as is, no bytes; `_binary_reply` works from JSON too.
    send_json(&mut socket, json!({"a": [1, {"b": null}], "seq": 9})).await;
    let r = json_frame(&mut socket).await;
    assert_eq!((r["echo"].clone(), r["bytes"].as_u64()), (json!({"a": [1, {"b": null}], "seq": 9}), Some(0)));
    send_json(&mut socket, json!({"seq": 10, "_binary_reply": true})).await;
    assert!(matches!(next(&mut socket, WAIT).await, Got::Msgpack(r) if r["seq"] == 10));
    // The same for every connection that does not choose.
    assert_eq!(s.sim_post("/__sim/realtime/config", json!({"encoding": "json"})).await, 200);
    let mut plain = open(&s, "genwire/echo").await;
    send_json(&mut plain, json!({"seq": 11})).await;
    assert_eq!(json_frame(&mut plain).await["seq"], 11);
    // `~msgpack/` picks fal's framing whatever the config says.
    assert_eq!(s.sim_post("/__sim/realtime/config", json!({"timings": true})).await, 200);
    let t = token(&s, &["echo"]).await;
    let mut fal = connect(&s, "~msgpack/genwire/echo", &format!("fal_jwt_token={t}")).await;
    send_input(&mut fal, json!({"seq": 12})).await;
    assert_eq!(result(&mut fal).await["seq"], 12);
}

#[tokio::test]
async fn malformed_frames_get_bad_input_and_the_socket_stays_open_in_the_json_variant() {
    let s = common::start().await;
    let mut socket = open_json(&s, "genwire/echo").await;
    socket.send(Message::Text("{not json".into())).await.expect("send");
    socket.send(Message::Text("[1, 2]".into())).await.expect("send");
    socket.send(Message::Binary(vec![0xc1, 0x00].into())).await.expect("send");
    socket.send(Message::Binary(rmp_serde::to_vec(&"just a string").expect("encode").into())).await.expect("send");
    for _ in 0..4 {
        let e = json_frame(&mut socket).await;
        assert_eq!((e["type"].as_str(), e["error"].as_str()), (Some("x-fal-error"), Some("BAD_INPUT")), "{e}");
        assert!(e["reason"].is_string());
    }
    send_json(&mut socket, json!({"seq": 1})).await;
    assert_eq!(json_frame(&mut socket).await["seq"], 1);
}

/// fal's app server reads each input with `receive_bytes` and msgpack: a text frame or bytes
/// that are not a msgpack map end the session with `INTERNAL_ERROR` and a close.
#[tokio::test]
async fn anything_but_a_msgpack_map_is_an_internal_error_then_a_close() {
    let s = common::start().await;
    let bad: [Message; 3] = [
        Message::Text(json!({"seq": 1}).to_string().into()),
        Message::Binary(vec![0xc1].into()),
        Message::Binary(rmp_serde::to_vec(&[1, 2]).expect("encode").into()),
    ];
    for frame in bad {
        let mut socket = open(&s, "genwire/echo").await;
        socket.send(frame).await.expect("send");
        let e = json_frame(&mut socket).await;
        assert_eq!((e["type"].as_str(), e["error"].as_str()), (Some("x-fal-error"), Some("INTERNAL_ERROR")), "{e}");
        assert!(e["reason"].as_str().is_some_and(|r| !r.is_empty()));
        expect_close(&mut socket, 1000).await;
    }
}

/// At most `max_buffering` inputs wait while one is worked on; the oldest are dropped.
#[tokio::test]
async fn max_buffering_keeps_the_newest_pending_inputs() {
    let s = common::start().await;
    assert_eq!(s.sim_post("/__sim/realtime/config", json!({"result_delay_ms": 300})).await, 200);
    let t = token(&s, &["echo"]).await;
    let mut socket = connect(&s, "genwire/echo", &format!("fal_jwt_token={t}&max_buffering=2")).await;
    for seq in 1..=6 {
        send_input(&mut socket, json!({ "seq": seq })).await;
    }
    let seqs = [result(&mut socket).await["seq"].clone(), result(&mut socket).await["seq"].clone(), result(&mut socket).await["seq"].clone()];
    // 1 was being worked on when the rest arrived; of 2..6 only the newest two waited.
    assert_eq!(seqs, [json!(1), json!(5), json!(6)]);
    assert!(matches!(next(&mut socket, Duration::from_millis(500)).await, Got::Silent));
    let st = stats(&s).await;
    assert_eq!((st["inputs"].as_u64(), st["results"].as_u64(), st["dropped_inputs"].as_u64()), (Some(6), Some(3), Some(3)), "{st}");
    // Without max_buffering every input gets its result.
    assert_eq!(s.sim_post("/__sim/realtime/config", json!({"result_delay_ms": 20})).await, 200);
    let mut all = open(&s, "genwire/echo").await;
    for seq in 1..=6 {
        send_input(&mut all, json!({ "seq": seq })).await;
    }
    for seq in 1..=6 {
        assert_eq!(result(&mut all).await["seq"], seq);
    }
}

async fn expect_unauthorized(s: &common::Server, endpoint: &str, query: &str, why: &str) {
    let mut socket = connect(s, endpoint, query).await;
    let e = json_frame(&mut socket).await;
    assert_eq!((e["status"].as_str(), e["error"].as_str()), (Some("error"), Some("Unauthorized")), "{e}");
    assert!(e["reason"].as_str().is_some_and(|r| r.contains(why)), "{e}");
    expect_close(&mut socket, 1008).await;
}

#[tokio::test]
async fn bad_tokens_are_unauthorized_then_closed_1008() {
    let s = common::start().await;
    let echo = token(&s, &["echo"]).await;
    expect_unauthorized(&s, "genwire/echo", "", "missing").await;
    expect_unauthorized(&s, "genwire/echo", "fal_jwt_token=simtok_nope", "unknown").await;
    expect_unauthorized(&s, "fal-ai/lcm-sd15-i2i", &format!("fal_jwt_token={echo}"), "not valid for app 'lcm-sd15-i2i'").await;

    set_faults(&s, json!({"reject_token_next": 1})).await;
    expect_unauthorized(&s, "genwire/echo", &format!("fal_jwt_token={echo}"), "simulated").await;
    let mut ok = connect(&s, "genwire/echo", &format!("fal_jwt_token={echo}&max_buffering=5")).await;
    send_input(&mut ok, json!({"seq": 1})).await;
    assert_eq!(result(&mut ok).await["seq"], 1);
    drop(ok);

    // A token minted while token_ttl_ms is set expires that soon.
    assert_eq!(s.sim_post("/__sim/realtime/config", json!({"token_ttl_ms": 200})).await, 200);
    let short = token(&s, &["echo"]).await;
    assert_eq!(s.sim_post("/__sim/realtime/config", json!({"token_ttl_ms": null})).await, 200);
    assert_eq!(
        s.sim_get("/__sim/realtime/config").await,
        json!({"idle_timeout_ms": 8000, "encoding": "msgpack", "timings": true, "result_delay_ms": 0, "token_ttl_ms": null})
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    expect_unauthorized(&s, "genwire/echo", &format!("fal_jwt_token={short}"), "expired").await;

    let st = wait_all_closed(&s).await;
    assert_eq!((st["unauthorized"].as_u64(), st["opened"].as_u64()), (Some(5), Some(6)), "{st}");
    let log = s.sim_log(0).await;
    let realtime: Vec<&Value> = log.iter().filter(|e| e["step"] == "realtime").collect();
    assert_eq!(realtime.len(), 6);
    assert!(realtime.iter().all(|e| e["status"] == 101 && e["t_ms"].is_f64()));
    assert_eq!(realtime.iter().filter(|e| e["fault"] == "unauthorized").count(), 5);
}

#[tokio::test]
async fn unknown_apps_and_bad_parameters_are_refused_on_the_socket() {
    let s = common::start().await;
    let t = token(&s, &["nothing-here", "echo"]).await;
    let mut socket = connect(&s, "fal-ai/nothing-here", &format!("fal_jwt_token={t}")).await;
    let e = json_frame(&mut socket).await;
    assert_eq!((e["type"].as_str(), e["error"].as_str()), (Some("x-fal-error"), Some("NOT_FOUND")), "{e}");
    expect_close(&mut socket, 1008).await;

    for bad in ["0", "61", "x"] {
        let mut socket = connect(&s, "genwire/echo", &format!("fal_jwt_token={t}&max_buffering={bad}")).await;
        let e = json_frame(&mut socket).await;
        assert_eq!((e["type"].as_str(), e["error"].as_str()), (Some("x-fal-error"), Some("BAD_REQUEST")), "{e}");
        expect_close(&mut socket, 1008).await;
    }
    // The path must end in /realtime.
    let url = format!("{}/sim/realtime/genwire/echo?fal_jwt_token={t}", s.base.replacen("http://", "ws://", 1));
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.expect("upgrade");
    assert_eq!(json_frame(&mut socket).await["error"], "NOT_FOUND");
    expect_close(&mut socket, 1008).await;
    // A plain GET is not an upgrade.
    let resp = s.client.get(s.url("/sim/realtime/genwire/echo/realtime")).send().await.expect("send");
    assert!(resp.status().is_client_error());
}

#[tokio::test]
async fn idle_sockets_get_timeout_then_a_normal_close() {
    let s = common::start().await;
    assert_eq!(s.sim_post("/__sim/realtime/config", json!({"idle_timeout_ms": 300})).await, 200);
    let mut socket = open(&s, "genwire/echo").await;
    let started = std::time::Instant::now();
    send_input(&mut socket, json!({"seq": 1})).await;
    assert_eq!(result(&mut socket).await["seq"], 1);
    let e = json_frame(&mut socket).await;
    assert_eq!(e, json!({"type": "x-fal-error", "error": "TIMEOUT", "reason": "no inputs, reconnect when needed!"}));
    assert!(started.elapsed() >= Duration::from_millis(290), "{:?}", started.elapsed());
    expect_close(&mut socket, 1000).await;
    let st = wait_all_closed(&s).await;
    assert_eq!(st["connections"][0]["close_code"], 1000);
}

#[tokio::test]
async fn refused_upgrades_answer_503() {
    let s = common::start().await;
    let t = token(&s, &["echo"]).await;
    set_faults(&s, json!({"refuse_next": 2})).await;
    for _ in 0..2 {
        match tokio_tungstenite::connect_async(ws_url(&s, "genwire/echo", &format!("fal_jwt_token={t}"))).await {
            Err(WsError::Http(resp)) => assert_eq!(resp.status().as_u16(), 503),
            other => panic!("expected 503, got {:?}", other.map(|(_, r)| r.status())),
        }
    }
    let mut socket = connect(&s, "genwire/echo", &format!("fal_jwt_token={t}")).await;
    send_input(&mut socket, json!({"seq": 1})).await;
    assert_eq!(result(&mut socket).await["seq"], 1);
    let st = stats(&s).await;
    assert_eq!((st["refused"].as_u64(), st["opened"].as_u64()), (Some(2), Some(1)), "{st}");
    let log = s.sim_log(0).await;
    let statuses: Vec<Value> = log.iter().filter(|e| e["step"] == "realtime").map(|e| e["status"].clone()).collect();
    assert_eq!(statuses, [json!(503), json!(503), json!(101)]);
}

#[tokio::test]
async fn drop_after_cuts_every_connection_without_a_close_frame() {
    let s = common::start().await;
    set_faults(&s, json!({"drop_after": 2})).await;
    for _ in 0..2 {
        let mut socket = open(&s, "genwire/echo").await;
        for seq in 1..=3 {
            send_input(&mut socket, json!({ "seq": seq })).await;
        }
        assert_eq!(result(&mut socket).await["seq"], 1);
        assert_eq!(result(&mut socket).await["seq"], 2);
        match next(&mut socket, WAIT).await {
            Got::Broken(e) => assert!(e.contains("closing handshake"), "{e}"),
            other => panic!("expected an abrupt end, got {other:?}"),
        }
    }
    assert_eq!(s.sim_get("/__sim/realtime/faults").await["drop_after"], 2);
    assert_eq!(s.client.delete(s.url("/__sim/realtime/faults")).send().await.expect("send").status().as_u16(), 200);
    let mut socket = open(&s, "genwire/echo").await;
    for seq in 1..=3 {
        send_input(&mut socket, json!({ "seq": seq })).await;
        assert_eq!(result(&mut socket).await["seq"], seq);
    }
    socket.close(Some(normal())).await.expect("close");
    let st = wait_all_closed(&s).await;
    assert_eq!(st["dropped"], 2, "{st}");
    let codes: Vec<Value> = st["connections"].as_array().expect("list").iter().map(|c| c["close_code"].clone()).collect();
    assert_eq!(codes, [json!(1006), json!(1006), json!(1000)]);
}

#[tokio::test]
async fn drop_once_after_and_close_code_next_apply_to_the_next_connection_only() {
    let s = common::start().await;
    set_faults(&s, json!({"drop_once_after": 0})).await;
    let mut socket = open(&s, "genwire/echo").await;
    assert!(matches!(next(&mut socket, WAIT).await, Got::Broken(e) if e.contains("closing handshake")));

    set_faults(&s, json!({"close_code_next": {"code": 1011, "reason": "boom"}})).await;
    let mut socket = open(&s, "genwire/echo").await;
    send_input(&mut socket, json!({"seq": 1})).await;
    send_input(&mut socket, json!({"seq": 2})).await;
    assert_eq!(result(&mut socket).await["seq"], 1);
    match next(&mut socket, WAIT).await {
        Got::Close(Some(1011), reason) => assert_eq!(reason, "boom"),
        other => panic!("expected close 1011, got {other:?}"),
    }
    assert!(matches!(next(&mut socket, WAIT).await, Got::Ended));
    // Neither fault is left for the next connection.
    let mut socket = open(&s, "genwire/echo").await;
    for seq in 1..=2 {
        send_input(&mut socket, json!({ "seq": seq })).await;
        assert_eq!(result(&mut socket).await["seq"], seq);
    }
    assert_eq!(s.sim_post("/__sim/realtime/faults", json!({"close_code_next": {"code": 1006}})).await, 400);
    assert_eq!(s.sim_post("/__sim/realtime/faults", json!({"nope": 1})).await, 400);
    drop(socket);
    let st = wait_all_closed(&s).await;
    let codes: Vec<Value> = st["connections"].as_array().expect("list").iter().map(|c| c["close_code"].clone()).collect();
    assert_eq!(codes, [json!(1006), json!(1011), json!(1006)]);
    assert_eq!(st["dropped"], 1);
}

#[tokio::test]
async fn heartbeats_and_delays() {
    let s = common::start().await;
    set_faults(&s, json!({"control_every": 2, "slow_ms": 50})).await;
    assert_eq!(s.sim_post("/__sim/realtime/config", json!({"result_delay_ms": 50})).await, 200);
    assert_eq!(s.sim_post("/__sim/realtime/config", json!({"timings": false})).await, 200);
    let mut socket = open_json(&s, "genwire/echo").await;
    let started = std::time::Instant::now();
    for seq in 1..=4 {
        send_json(&mut socket, json!({ "seq": seq, "_binary_reply": seq == 4 })).await;
    }
    let mut frames = Vec::new();
    for _ in 0..6 {
        match next(&mut socket, WAIT).await {
            Got::Json(v) => frames.push(("text", v)),
            Got::Msgpack(v) => frames.push(("msgpack", v)),
            other => panic!("{other:?}"),
        }
    }
    assert!(started.elapsed() >= Duration::from_millis(400), "{:?}", started.elapsed());
    let heartbeat = json!({"type": "x-fal-message", "message": "heartbeat"});
    // Before the 2nd and the 4th result (the 4th asked for msgpack, its heartbeat is msgpack too).
    assert_eq!(frames[1], ("text", heartbeat.clone()));
    assert_eq!(frames[4], ("msgpack", heartbeat.clone()));
    assert_eq!(frames[5].1.get("seq"), Some(&json!(4)));
    let seqs: Vec<Value> = frames.iter().filter_map(|f| f.1.get("seq").cloned()).collect();
    assert_eq!(seqs, [json!(1), json!(2), json!(3), json!(4)]);

    // fal's framing: heartbeats in msgpack like the results, and each result's timings after it.
    assert_eq!(s.sim_post("/__sim/realtime/config", json!({"timings": true})).await, 200);
    let mut socket = open(&s, "genwire/echo").await;
    for seq in 1..=2 {
        send_input(&mut socket, json!({ "seq": seq })).await;
    }
    assert_eq!(result(&mut socket).await["seq"], 1);
    assert!(matches!(next(&mut socket, WAIT).await, Got::Msgpack(v) if v == heartbeat));
    assert_eq!(result(&mut socket).await["seq"], 2);
}

#[tokio::test]
async fn many_clients_close_and_nothing_stays_open() {
    let s = common::start().await;
    let mut sockets = Vec::new();
    for _ in 0..5 {
        sockets.push(open(&s, "genwire/echo").await);
    }
    for (i, socket) in sockets.iter_mut().enumerate() {
        send_input(socket, json!({ "seq": i })).await;
        assert_eq!(result(socket).await["seq"], i);
    }
    assert_eq!(stats(&s).await["open"], 5);
    for (i, mut socket) in sockets.into_iter().enumerate() {
        if i % 2 == 0 {
            socket.close(Some(CloseFrame { code: CloseCode::Away, reason: "bye".into() })).await.expect("close");
        }
        // Odd ones just vanish (dropped without a close frame).
    }
    let st = wait_all_closed(&s).await;
    assert_eq!((st["opened"].as_u64(), st["inputs"].as_u64(), st["results"].as_u64()), (Some(5), Some(5), Some(5)), "{st}");
    let codes: Vec<Value> = st["connections"].as_array().expect("list").iter().map(|c| c["close_code"].clone()).collect();
    assert_eq!(codes, [json!(1001), json!(1006), json!(1001), json!(1006), json!(1001)]);
}
