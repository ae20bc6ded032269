//! Realtime connections: one WebSocket per connection key, shared and
//! reference-counted; the connection machine decides, this drives it.

use std::cell::RefCell;
use std::rc::Rc;

use super::chan::{unbounded, Sender as UnboundedSender};
use js_sys::{Function, Object, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::WebSocket;

use super::client::Shared;
use super::error;
use super::js::{get, now, opt_f64, opt_fn, opt_str, set};
use super::listen::{bump, Listener, Timer, SOCKETS};
use super::request::{call, Req};
use crate::proto::endpoint::EndpointId;
use crate::proto::error::{Category, ErrorInfo, Kind};
use crate::proto::realtime::connection::{Action, Config, Connection, Fatal, Input, Status};
use crate::proto::realtime::msgpack;
use crate::proto::retry::Call;

/// A frame ready for the socket, with the input it came from (the polling fallback sends that).
#[derive(Clone)]
pub struct Frame {
    data: FrameData,
    input: JsValue,
}

#[derive(Clone)]
enum FrameData {
    Text(String),
    Binary(Vec<u8>),
}

enum Codec {
    MsgPack,
    Json,
    Custom { encode: Function, decode: Function },
}

/// One subscriber: a `connect()` call and its callbacks.
struct Sub {
    id: u32,
    on_result: Option<Function>,
    on_error: Option<Function>,
    on_status: Option<Function>,
}

pub struct Conn {
    key: String,
    /// Sends counted as they are made; an upload finishing late can't send an input older than one already sent.
    sends: std::cell::Cell<u64>,
    last_sent: std::cell::Cell<u64>,
    tx: UnboundedSender<Msg>,
    subs: RefCell<Vec<Sub>>,
    status: RefCell<JsValue>,
    codec: Codec,
}

enum Msg {
    Input(Input<Frame>),
    Tick,
    /// Socket events carry the socket's generation: events of a replaced socket are dropped.
    Open(u32),
    Message(u32, JsValue),
    Closed(u32, u16),
}

fn status_object(s: &Status) -> JsValue {
    let o = Object::new();
    let (name, attempt, delay) = match s {
        Status::Idle => ("idle", None, None),
        Status::Connecting { attempt } => ("connecting", Some(*attempt), None),
        Status::Open => ("open", None, None),
        Status::Reconnecting { attempt, delay_ms } => ("reconnecting", Some(*attempt), Some(*delay_ms)),
        Status::Offline => ("offline", None, None),
        Status::Fallback => ("fallback", None, None),
        Status::Closed => ("closed", None, None),
    };
    set(&o, "status", &JsValue::from_str(name));
    if let Some(a) = attempt {
        set(&o, "attempt", &JsValue::from(a));
    }
    if let Some(d) = delay {
        set(&o, "delayMs", &JsValue::from_f64(d));
    }
    o.into()
}

impl Conn {
    fn each(&self, pick: impl Fn(&Sub) -> Option<&Function>, arg: &JsValue) {
        // Callbacks may close their own connection: call a snapshot.
        let fns: Vec<Function> = self.subs.borrow().iter().filter_map(|s| pick(s).cloned()).collect();
        for f in fns {
            if let Err(e) = f.call1(&JsValue::NULL, arg) {
                web_sys::console::error_2(&JsValue::from_str("genwire: a realtime callback threw"), &e);
            }
        }
    }

    fn encode(&self, input: &JsValue) -> Result<FrameData, JsValue> {
        match &self.codec {
            Codec::MsgPack => {
                let v = super::conv::to_value(input)
                    .map_err(|e| error::config(&format!("this input can't be sent: {e}")))?;
                Ok(FrameData::Binary(msgpack::encode(&v)))
            }
            Codec::Json => js_sys::JSON::stringify(input)
                .ok()
                .and_then(|s| s.as_string())
                .map(FrameData::Text)
                .ok_or_else(|| error::config("this input can't be sent as JSON")),
            Codec::Custom { encode, .. } => {
                let out = encode.call1(&JsValue::NULL, input)?;
                match out.as_string() {
                    Some(s) => Ok(FrameData::Text(s)),
                    None => Ok(FrameData::Binary(Uint8Array::new(&out).to_vec())),
                }
            }
        }
    }

    fn decode(&self, data: &JsValue) -> Result<JsValue, String> {
        if let Codec::Custom { decode, .. } = &self.codec {
            return decode.call1(&JsValue::NULL, data).map_err(|_| "the codec's decode threw".to_string());
        }
        match data.as_string() {
            Some(text) => js_sys::JSON::parse(&text).map_err(|_| "a text frame that is not JSON".to_string()),
            None => {
                let v = msgpack::decode(&Uint8Array::new(data).to_vec()).map_err(|e| e.to_string())?;
                Ok(super::conv::from_value(&v))
            }
        }
    }
}

/// `client.realtime.connect(endpoint, options)`.
pub fn connect(shared: &Rc<Shared>, endpoint: &str, opts: &JsValue) -> Result<RealtimeConnection, JsValue> {
    let ep = EndpointId::parse(endpoint).map_err(|e| error::config(&e.to_string()))?;
    let key = opt_str(opts, "connectionKey")?.unwrap_or_else(|| format!("{}#{}", ep.full(), next_id()));
    let sub = Sub { id: next_id(), on_result: opt_fn(opts, "onResult")?, on_error: opt_fn(opts, "onError")?, on_status: opt_fn(opts, "onStatus")? };
    let sub_id = sub.id;
    let existing = shared.realtime.borrow().get(&key).cloned();
    let conn = match existing {
        // Same key: the socket and its transport options are the first connect's; callbacks are each caller's own.
        Some(c) => c,
        None => {
            let c = start(shared.clone(), ep, key.clone(), opts)?;
            shared.realtime.borrow_mut().insert(key.clone(), c.clone());
            c
        }
    };
    if let Some(f) = &sub.on_status {
        let _ = f.call1(&JsValue::NULL, &conn.status.borrow());
    }
    conn.subs.borrow_mut().push(sub);
    Ok(RealtimeConnection { shared: Rc::downgrade(shared), conn: Some(conn), sub: sub_id })
}

fn next_id() -> u32 {
    thread_local!(static NEXT: std::cell::Cell<u32> = const { std::cell::Cell::new(1) });
    NEXT.with(|n| {
        let v = n.get();
        n.set(v.wrapping_add(1));
        v
    })
}

fn config(opts: &JsValue) -> Result<(Config, Codec, Option<f64>), JsValue> {
    let mut cfg = Config::default();
    if let Some(t) = opt_f64(opts, "throttleInterval", 0.0)? {
        cfg.throttle_ms = t;
    }
    let rc = get(opts, "reconnect");
    if let Some(v) = opt_f64(&rc, "baseDelayMs", 0.0)? {
        cfg.reconnect.base_ms = v;
    }
    if let Some(v) = opt_f64(&rc, "maxDelayMs", 0.0)? {
        cfg.reconnect.max_ms = v;
    }
    if let Some(v) = opt_f64(&rc, "minUptimeMs", 0.0)? {
        cfg.reconnect.min_uptime_ms = v;
    }
    if let Some(v) = opt_f64(&rc, "maxAttempts", 1.0)? {
        cfg.reconnect.max_attempts = Some(v as u32);
    }
    if let Some(v) = opt_f64(&rc, "fallbackAfter", 1.0)? {
        cfg.fallback_after = v as u32;
    }
    if let Some(v) = opt_f64(&rc, "fallbackRetryMs", 0.0)? {
        cfg.fallback_retry_ms = v;
    }
    if let Some(v) = opt_f64(opts, "bufferSize", 1.0)? {
        cfg.buffer = v as usize;
    }
    let codec_opt = get(opts, "codec");
    let codec = match codec_opt.as_string().as_deref() {
        None if codec_opt.is_object() => Codec::Custom {
            encode: opt_fn(&codec_opt, "encode")?.ok_or_else(|| error::config("codec.encode must be a function"))?,
            decode: opt_fn(&codec_opt, "decode")?.ok_or_else(|| error::config("codec.decode must be a function"))?,
        },
        None | Some("msgpack") => Codec::MsgPack,
        Some("json") => Codec::Json,
        Some(other) => return Err(error::config(&format!("option 'codec' must be 'msgpack', 'json' or {{encode, decode}}, not '{other}'"))),
    };
    // fal takes 1..=60 pending inputs; outside that is the caller's mistake, as in the official client.
    let max_buffering = match opt_f64(opts, "maxBuffering", 1.0)? {
        Some(m) if m > 60.0 || m.fract() != 0.0 => return Err(error::config("option 'maxBuffering' must be a whole number from 1 to 60")),
        m => m,
    };
    Ok((cfg, codec, max_buffering))
}

fn start(shared: Rc<Shared>, ep: EndpointId, key: String, opts: &JsValue) -> Result<Rc<Conn>, JsValue> {
    let (cfg, codec, max_buffering) = config(opts)?;
    let token_provider = opt_fn(opts, "tokenProvider")?;
    let app_path = ep.realtime_path(opt_str(opts, "path")?.as_deref()).map_err(|e| error::config(&format!("option 'path': {e}")))?;
    let (tx, rx) = unbounded::<Msg>();
    let conn = Rc::new(Conn { key, sends: Default::default(), last_sent: Default::default(), tx, subs: RefCell::new(Vec::new()), status: RefCell::new(status_object(&Status::Idle)), codec });
    let base = format!("{}/{}", shared.realtime_url.trim_end_matches('/'), app_path);
    let driver = Driver { shared, ep, app_path, conn: Rc::downgrade(&conn), base, max_buffering, token_provider, ws: None, gen: 0, timer: None };
    spawn_local(driver.run(cfg, rx));
    Ok(conn)
}

struct Driver {
    shared: Rc<Shared>,
    ep: EndpointId,
    /// `owner/alias[/path]/realtime`: what a `tokenProvider` is given, as fal's own client does.
    app_path: String,
    conn: std::rc::Weak<Conn>,
    base: String,
    max_buffering: Option<f64>,
    token_provider: Option<Function>,
    ws: Option<Socket>,
    gen: u32,
    timer: Option<(f64, Timer)>,
}

/// A WebSocket with its handlers; dropping it detaches them and closes the socket.
struct Socket {
    ws: WebSocket,
    _handlers: [Closure<dyn FnMut(JsValue)>; 3],
}

impl Drop for Socket {
    fn drop(&mut self) {
        for h in ["onopen", "onmessage", "onclose"] {
            set(&self.ws, h, &JsValue::NULL);
        }
        let _ = super::js::call(&self.ws, "close", Some(&JsValue::from(1000)));
        bump(&SOCKETS, -1);
    }
}

impl Driver {
    async fn run(mut self, cfg: Config, mut rx: super::chan::Receiver<Msg>) {
        let seed = (js_sys::Math::random() * 4_294_967_296.0) as u64;
        let mut machine: Connection<Frame> = Connection::new(cfg, seed);
        let tx = match self.conn.upgrade() {
            Some(c) => c.tx.clone(),
            None => return,
        };
        let send = move |tx: &UnboundedSender<Msg>, i: Input<Frame>| drop(tx.unbounded_send(Msg::Input(i)));
        let (t1, t2, t3) = (tx.clone(), tx.clone(), tx.clone());
        let _online = Listener::on_global("online", move |_| send(&t1, Input::Online));
        let _offline = Listener::on_global("offline", move |_| send(&t2, Input::Offline));
        let _visible = Listener::on_document("visibilitychange", move |_| {
            let state = js_sys::Reflect::get(&js_sys::global(), &"document".into()).map(|d| get(&d, "visibilityState"));
            if state.ok().and_then(|s| s.as_string()).as_deref() == Some("visible") {
                send(&t3, Input::Visible);
            }
        });
        loop {
            let mut closed = false;
            while let Some(action) = machine.poll_action() {
                closed |= self.act(action, &tx);
            }
            if closed {
                break;
            }
            match machine.poll_timeout() {
                None => self.timer = None,
                Some(at) if self.timer.as_ref().map(|t| t.0) != Some(at) => {
                    let tx = tx.clone();
                    let delay = (at - now()).clamp(0.0, 2_147_483_647.0) as u32;
                    self.timer = Some((at, Timer::new(delay, move || drop(tx.unbounded_send(Msg::Tick)))));
                }
                Some(_) => {}
            }
            let Some(msg) = rx.next().await else { break };
            match msg {
                Msg::Input(i) => machine.handle(now(), i),
                Msg::Tick => {
                    self.timer = None;
                    machine.handle_timeout(now());
                }
                Msg::Open(g) if g == self.gen => machine.handle(now(), Input::Opened),
                Msg::Closed(g, code) if g == self.gen => {
                    self.ws = None;
                    machine.handle(now(), Input::Closed { code });
                }
                Msg::Message(g, data) if g == self.gen => {
                    if let Some(i) = self.message(&data) {
                        machine.handle(now(), i);
                    }
                }
                _ => {} // an event of a socket already replaced
            }
        }
        self.ws = None;
        self.timer = None;
    }

    /// Carries out one action; true when the connection is over.
    fn act(&mut self, action: Action<Frame>, tx: &UnboundedSender<Msg>) -> bool {
        let Some(conn) = self.conn.upgrade() else { return true };
        match action {
            Action::FetchToken => {
                let (shared, alias, app_path, provider, tx) = (self.shared.clone(), self.ep.alias().to_string(), self.app_path.clone(), self.token_provider.clone(), tx.clone());
                spawn_local(async move {
                    let input = match token(&shared, &alias, &app_path, provider.as_ref()).await {
                        Ok(token) => Input::TokenReady { token },
                        Err(retryable) => Input::TokenFailed { retryable },
                    };
                    let _ = tx.unbounded_send(Msg::Input(input));
                });
            }
            Action::Open { token } => self.open(&token, tx),
            Action::Send(f) => {
                if let Some(s) = &self.ws {
                    let _ = match &f.data {
                        FrameData::Text(t) => super::js::call(&s.ws, "send", Some(&JsValue::from_str(t))),
                        FrameData::Binary(b) => send_bytes(&s.ws, b),
                    };
                }
            }
            Action::CloseSocket => {
                self.gen += 1;
                self.ws = None;
            }
            Action::Submit(f) => {
                let (shared, ep, tx, conn) = (self.shared.clone(), self.ep.full(), tx.clone(), conn.clone());
                spawn_local(async move {
                    let opts = Object::new();
                    set(&opts, "input", &f.input);
                    set(&opts, "mode", &JsValue::from_str("polling"));
                    set(&opts, "pollInterval", &JsValue::from_f64(100.0));
                    match super::subscribe::subscribe(shared, ep, opts.into()).await {
                        Ok(r) => conn.each(|s| s.on_result.as_ref(), &get(&r, "data")),
                        Err(e) => conn.each(|s| s.on_error.as_ref(), &e),
                    }
                    let _ = tx.unbounded_send(Msg::Input(Input::FallbackDone));
                });
            }
            Action::Status(s) => {
                let o = status_object(&s);
                *conn.status.borrow_mut() = o.clone();
                conn.each(|s| s.on_status.as_ref(), &o);
                if s == Status::Closed {
                    return true;
                }
            }
            Action::Fatal(f) => {
                let e = fatal_error(&f);
                conn.each(|s| s.on_error.as_ref(), &e);
                // A fresh connect with this key starts over.
                self.shared.realtime.borrow_mut().remove(&conn.key);
            }
        }
        false
    }

    fn open(&mut self, token: &str, tx: &UnboundedSender<Msg>) {
        self.gen += 1;
        let g = self.gen;
        let mut url = format!("{}?fal_jwt_token={}", self.base, js_sys::encode_uri_component(token));
        if let Some(m) = self.max_buffering {
            url.push_str("&max_buffering=");
            crate::proto::num::write(&mut url, m);
        }
        let ws = match WebSocket::new(&url) {
            Ok(ws) => ws,
            Err(_) => {
                let _ = tx.unbounded_send(Msg::Closed(g, 1006));
                return;
            }
        };
        set(&ws, "binaryType", &JsValue::from_str("arraybuffer"));
        let (a, b, c) = (tx.clone(), tx.clone(), tx.clone());
        let on_open = Closure::<dyn FnMut(JsValue)>::new(move |_| drop(a.unbounded_send(Msg::Open(g))));
        let on_message = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let data = get(&e, "data");
            let _ = b.unbounded_send(Msg::Message(g, data));
        });
        let on_close = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let code = get(&e, "code").as_f64().unwrap_or(1006.0) as u16;
            let _ = c.unbounded_send(Msg::Closed(g, code));
        });
        set(&ws, "onopen", on_open.as_ref());
        set(&ws, "onmessage", on_message.as_ref());
        set(&ws, "onclose", on_close.as_ref());
        bump(&SOCKETS, 1);
        self.ws = Some(Socket { ws, _handlers: [on_open, on_message, on_close] });
    }

    /// A frame from the server: control, error, or a result for the callbacks.
    fn message(&self, data: &JsValue) -> Option<Input<Frame>> {
        let conn = self.conn.upgrade()?;
        let msg = match conn.decode(data) {
            Ok(m) => m,
            Err(why) => {
                let e = error::to_js(&ErrorInfo::local(Kind::Protocol, Category::Unknown, format!("A realtime frame could not be read: {why}.")), Some(data), None);
                conn.each(|s| s.on_error.as_ref(), &e);
                return None;
            }
        };
        let kind = get(&msg, "type").as_string();
        match kind.as_deref() {
            Some("x-fal-message") => None,
            Some("x-fal-error") => {
                let code = get(&msg, "error").as_string().unwrap_or_default();
                if code == "TIMEOUT" {
                    return Some(Input::IdleNotice);
                }
                let reason = get(&msg, "reason").as_string().unwrap_or_else(|| code.clone());
                let mut info = ErrorInfo::local(Kind::Api, Category::Server, reason);
                info.error_type = Some(code);
                conn.each(|s| s.on_error.as_ref(), &error::to_js(&info, Some(&msg), None));
                None
            }
            _ if get(&msg, "status").as_string().as_deref() == Some("error") && get(&msg, "error").as_string().as_deref() == Some("Unauthorized") => {
                Some(Input::Unauthorized)
            }
            _ => {
                conn.each(|s| s.on_result.as_ref(), &msg);
                None
            }
        }
    }
}

fn fatal_error(f: &Fatal) -> JsValue {
    let (category, message) = match f {
        Fatal::Closed { code: 1008 } => (Category::Forbidden, "The realtime server closed the connection for a policy violation (1008).".to_string()),
        Fatal::Closed { code } => (Category::Server, format!("The realtime server closed the connection with an error ({code}).")),
        Fatal::Unauthorized => (Category::Auth, "The realtime server refused the token, even a fresh one. Check that the proxy allows rest.fal.ai/tokens/ and that the key may use this app.".into()),
        Fatal::Token => (Category::Auth, "A realtime token could not be had from the proxy.".into()),
        Fatal::Attempts => (Category::Unavailable, "The realtime connection could not be re-established.".into()),
    };
    let mut info = ErrorInfo::local(Kind::Api, category, message);
    if let Fatal::Closed { code } = f {
        info.status = Some(*code);
    }
    error::to_js(&info, None, None)
}

/// A short-lived token: the app's `tokenProvider(app_path)` (the full path, e.g.
/// `fal-ai/fast-lcm-diffusion/realtime`, as fal's own client passes it), or fal's token
/// endpoint through the proxy for the app's alias. `Err(retryable)`.
async fn token(shared: &Shared, alias: &str, app_path: &str, provider: Option<&Function>) -> Result<String, bool> {
    let value = match provider {
        Some(f) => {
            let p = f.call1(&JsValue::NULL, &JsValue::from_str(app_path)).map_err(|_| false)?;
            wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&p)).await.map_err(|_| true)?
        }
        None => {
            let body = format!(r#"{{"allowed_apps":[{}],"token_expiration":120}}"#, js_sys::JSON::stringify(&JsValue::from_str(alias)).ok().and_then(|s| s.as_string()).unwrap_or_default());
            let req = Req { call: Call::Run, endpoint: "tokens", method: "POST", url: "https://rest.fal.ai/tokens/", body: Some(&body), headers: &[] };
            call(shared, &req, None).await.map(|(v, _)| v).map_err(|e| get(&e, "retryable").as_bool().unwrap_or(false))?
        }
    };
    // A JSON string; older proxies wrap it as {detail: token}.
    value.as_string().or_else(|| get(&value, "detail").as_string()).or_else(|| get(&value, "token").as_string()).filter(|t| !t.is_empty()).ok_or(false)
}

/// Passes an input to the machine unless a newer one already went (newest wins across uploads too).
fn push(c: &Conn, n: u64, input: JsValue) -> Result<(), JsValue> {
    if n < c.last_sent.get() {
        return Ok(());
    }
    c.last_sent.set(n);
    let data = c.encode(&input)?;
    let _ = c.tx.unbounded_send(Msg::Input(Input::Send(Frame { data, input })));
    Ok(())
}

/// What `connect()` returns: send, close, reconnect, status.
#[wasm_bindgen]
pub struct RealtimeConnection {
    shared: std::rc::Weak<Shared>,
    conn: Option<Rc<Conn>>,
    sub: u32,
}

#[wasm_bindgen]
impl RealtimeConnection {
    /// Sends an input: throttled, newest wins; kept and sent after a reconnect. Files and Blobs
    /// in it are uploaded first and replaced by their URLs; byte arrays go as binary.
    pub fn send(&self, input: JsValue) -> Result<(), JsValue> {
        let Some(c) = &self.conn else { return Err(error::config("this realtime connection is closed")) };
        let n = c.sends.get() + 1;
        c.sends.set(n);
        if !super::storage::has_blob(&input, 0) {
            return push(c, n, input);
        }
        let (c, shared) = (c.clone(), self.shared.upgrade());
        spawn_local(async move {
            let Some(shared) = shared else { return };
            match super::storage::upload_blobs(&shared, &input).await {
                Ok(uploaded) => drop(push(&c, n, uploaded)),
                Err(e) => c.each(|s| s.on_error.as_ref(), &e),
            }
        });
        Ok(())
    }

    /// Leaves the connection; the last one to leave closes the socket and frees everything.
    pub fn close(&mut self) {
        let Some(c) = self.conn.take() else { return };
        c.subs.borrow_mut().retain(|s| s.id != self.sub);
        if c.subs.borrow().is_empty() {
            if let Some(shared) = self.shared.upgrade() {
                let mut map = shared.realtime.borrow_mut();
                if map.get(&c.key).is_some_and(|x| Rc::ptr_eq(x, &c)) {
                    map.remove(&c.key);
                }
            }
            let _ = c.tx.unbounded_send(Msg::Input(Input::Close));
        }
    }

    /// Reconnects now, with the backoff started over.
    pub fn reconnect(&self) {
        if let Some(c) = &self.conn {
            let _ = c.tx.unbounded_send(Msg::Input(Input::Reconnect));
        }
    }

    /// `{status, attempt?, delayMs?}`.
    #[wasm_bindgen(getter)]
    pub fn status(&self) -> JsValue {
        self.conn.as_ref().map_or_else(|| status_object(&Status::Closed), |c| c.status.borrow().clone())
    }
}

/// `ws.send(bytes)` without copying the frame out of wasm memory first: `send` copies the bytes
/// itself before it returns. The view is made after the method is looked up, and nothing between
/// it and the call allocates, so the memory can't grow under it.
fn send_bytes(ws: &JsValue, bytes: &[u8]) -> Result<JsValue, JsValue> {
    let send = get(ws, "send");
    if !send.is_function() {
        return Err(JsValue::UNDEFINED);
    }
    let send: &Function = send.unchecked_ref();
    // SAFETY: the view lives only for this call, during which no wasm allocation happens.
    let view = unsafe { Uint8Array::view(bytes) };
    send.call1(ws, &view)
}
