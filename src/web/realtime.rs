//! Realtime connections: the core's registry and connection machine, carried out with
//! WebSockets, timers, window events and the queue (the polling fallback). This file decides
//! nothing: it encodes inputs, decodes frames, and does what the machine's actions say.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{Function, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::{AbortController, WebSocket};

use super::chan::{unbounded, Receiver, Sender};
use super::error;
use super::js::{get, now, set};
use super::listen::{bump, Alarm, Listener, SOCKETS};
use super::shared::Shared;
use crate::proto::call::Spec;
use crate::proto::endpoint::EndpointId;
use crate::proto::error::ErrorInfo;
use crate::proto::options::{Codec, Realtime, Subscribe};
use crate::proto::realtime::connection::{Action, Connection, Input, JobId, SocketId, Status};
use crate::proto::realtime::frame::{self, classify, Frame as Received, Head};
use crate::proto::realtime::msgpack;
use crate::proto::realtime::registry::{Registry, Ticket};
use crate::proto::realtime::throttle::Newest;
use crate::proto::subscribe::{Config as SubscribeConfig, Mode};
use crate::proto::time::Duration;

/// A frame ready for the socket, with the input it came from (the polling fallback sends that).
pub struct Frame {
    data: Data,
    input: JsValue,
}

enum Data {
    Text(String),
    Binary(Vec<u8>),
}

enum Coder {
    MsgPack,
    Json,
    Custom { encode: Function, decode: Function },
}

/// One `connect()` call's callbacks.
#[derive(Clone)]
struct Sub {
    on_result: Option<Function>,
    on_error: Option<Function>,
    on_status: Option<Function>,
}

/// A client's realtime connections.
pub struct Hub {
    shared: Rc<Shared>,
    registry: RefCell<Registry<Rc<Conn>, Sub>>,
    /// Connections made without a `connectionKey`, each under a key of its own.
    unnamed: std::cell::Cell<u32>,
}

pub struct Conn {
    id: u32,
    tx: Sender<Msg>,
    status: RefCell<Status>,
    /// Why it ended for good, if it did: `send()` throws it, `reconnect()` starts over.
    fatal: RefCell<Option<ErrorInfo>>,
    newest: RefCell<Newest>,
    coder: Coder,
}

enum Msg {
    Input(Input<Frame, JsValue>),
    Tick,
    /// A socket's message, decoded by the driver (the codec is the connection's).
    Message(SocketId, JsValue),
}

impl Hub {
    pub fn new(shared: Rc<Shared>) -> Rc<Self> {
        Rc::new(Self { shared, registry: RefCell::new(Registry::new()), unnamed: Default::default() })
    }

    /// Connections a `connect()` can join.
    pub fn len(&self) -> usize {
        self.registry.borrow().len()
    }

    fn each(&self, conn: u32, pick: impl Fn(&Sub) -> Option<&Function>, arg: &JsValue) {
        // A copy: callbacks may connect or close.
        let subs = self.registry.borrow_mut().subscribers(conn);
        for s in &subs {
            if let Some(f) = pick(s) {
                super::js::callback(f, arg);
            }
        }
    }

    /// `client.realtime.connect(endpoint, options)`.
    pub fn connect(self: &Rc<Self>, endpoint: &str, opts: &JsValue) -> Result<RealtimeConnection, JsValue> {
        let sub = Sub { on_result: error::opt_fn(opts, "onResult")?, on_error: error::opt_fn(opts, "onError")?, on_status: error::opt_fn(opts, "onStatus")? };
        let (ticket, conn) = self.join(endpoint, opts, sub.clone())?;
        Ok(RealtimeConnection { hub: Rc::downgrade(self), conn: Some(conn), ticket, endpoint: endpoint.into(), opts: opts.clone(), sub })
    }

    fn join(self: &Rc<Self>, endpoint: &str, opts: &JsValue, sub: Sub) -> Result<(Ticket, Rc<Conn>), JsValue> {
        let ep = error::endpoint(endpoint)?;
        let custom = get(opts, "codec").is_object();
        let o = crate::proto::options::realtime(&error::options(opts, if custom { &["codec"] } else { &[] })?, &ep, custom).map_err(error::option)?;
        let coder = match o.codec {
            Codec::MsgPack => Coder::MsgPack,
            Codec::Json => Coder::Json,
            Codec::Custom => {
                let c = get(opts, "codec");
                let f = |k: &str| error::opt_fn(&c, k)?.ok_or_else(|| error::config(&format!("codec.{k} must be a function")));
                Coder::Custom { encode: f("encode")?, decode: f("decode")? }
            }
        };
        let token_provider = error::opt_fn(opts, "tokenProvider")?;
        let key = o.key.clone().unwrap_or_else(|| {
            self.unnamed.set(self.unnamed.get() + 1);
            let mut k = ep.full();
            k.push('#');
            crate::proto::num::write_u64(&mut k, u64::from(self.unnamed.get()));
            k
        });
        let on_status = sub.on_status.clone();
        let joined = self.registry.borrow_mut().join(&key, sub, |id| {
            let (tx, rx) = unbounded::<Msg>();
            let conn = Rc::new(Conn { id, tx, status: RefCell::new(Status::Idle), fatal: RefCell::new(None), newest: Default::default(), coder });
            let url = format!("{}/{}", self.shared.cfg().realtime_url.trim_end_matches('/'), o.app_path);
            let driver = Driver {
                hub: Rc::downgrade(self),
                shared: self.shared.clone(),
                conn: Rc::downgrade(&conn),
                ep,
                url,
                token_provider,
                ws: None,
                alarm: Alarm::default(),
                jobs: Vec::new(),
            };
            spawn_local(driver.run(o, rx));
            Ok::<_, JsValue>(conn)
        })?;
        let (ticket, conn, _) = joined;
        // Same key: the socket and its transport options are the first connect's; callbacks are each caller's own.
        if let Some(f) = on_status {
            super::js::callback(&f, &super::conv::from_value(&conn.status.borrow().to_value()));
        }
        Ok((ticket, conn))
    }

    /// A handle leaves; the last one closes the connection.
    fn leave(&self, ticket: Ticket) {
        let last = self.registry.borrow_mut().leave(ticket);
        if let Some(c) = last {
            let _ = c.tx.unbounded_send(Msg::Input(Input::Close));
        }
    }
}

impl Conn {
    fn encode(&self, input: &JsValue) -> Result<Data, JsValue> {
        match &self.coder {
            Coder::MsgPack => {
                let v = super::conv::to_value(input).map_err(|e| error::config(&format!("this input can't be sent: {e}")))?;
                Ok(Data::Binary(msgpack::encode(&v)))
            }
            Coder::Json => {
                js_sys::JSON::stringify(input).ok().and_then(|s| s.as_string()).map(Data::Text).ok_or_else(|| error::config("this input can't be sent as JSON"))
            }
            Coder::Custom { encode, .. } => {
                let out = encode.call1(&JsValue::NULL, input)?;
                Ok(match out.as_string() {
                    Some(s) => Data::Text(s),
                    None => Data::Binary(Uint8Array::new(&out).to_vec()),
                })
            }
        }
    }

    /// A message from the server, decoded and classified by the core.
    fn decode(&self, data: &JsValue) -> Received<JsValue> {
        let decoded = match (&self.coder, data.as_string()) {
            (Coder::Custom { decode, .. }, _) => decode.call1(&JsValue::NULL, data).map_err(|_| "the codec's decode threw".to_string()),
            (_, Some(text)) => js_sys::JSON::parse(&text).map_err(|_| "a text frame that is not JSON".to_string()),
            (_, None) => match msgpack::decode(&Uint8Array::new(data).to_vec()) {
                Ok(v) => return classify(&Head::of(&v), super::conv::from_value(&v)),
                Err(e) => Err(e.to_string()),
            },
        };
        match decoded {
            Ok(v) => {
                let s = |k: &str| get(&v, k).as_string();
                let head = Head { kind: s("type"), error: s("error"), reason: s("reason"), status: s("status") };
                classify(&head, v)
            }
            Err(why) => Received::Unreadable(why),
        }
    }

    /// Passes an input to the machine unless a newer one already went (newest wins across uploads too).
    fn push(&self, n: u64, input: JsValue) -> Result<(), JsValue> {
        if self.newest.borrow_mut().admit(n) {
            let data = self.encode(&input)?;
            let _ = self.tx.unbounded_send(Msg::Input(Input::Send(Frame { data, input })));
        }
        Ok(())
    }
}

struct Driver {
    hub: Weak<Hub>,
    shared: Rc<Shared>,
    conn: Weak<Conn>,
    ep: EndpointId,
    /// The socket's URL without its query.
    url: String,
    token_provider: Option<Function>,
    ws: Option<Socket>,
    alarm: Alarm,
    /// Fallback submissions in flight.
    jobs: Vec<(JobId, AbortController)>,
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
    async fn run(mut self, o: Realtime, mut rx: Receiver<Msg>) {
        let seed = (js_sys::Math::random() * 4_294_967_296.0) as u64;
        let ttl = o.machine.token_ttl;
        let mut machine: Connection<Frame, JsValue> = Connection::new(o.machine.clone(), seed);
        let Some(tx) = self.conn.upgrade().map(|c| c.tx.clone()) else { return };
        let send = move |tx: &Sender<Msg>, i| drop(tx.unbounded_send(Msg::Input(i)));
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
            while let Some(action) = machine.poll_action() {
                self.act(action, &tx, &o, ttl);
            }
            if machine.is_closed() || self.conn.strong_count() == 0 {
                break;
            }
            let t = tx.clone();
            self.alarm.set(machine.poll_timeout(), move || drop(t.unbounded_send(Msg::Tick)));
            match rx.next().await {
                Msg::Input(i) => machine.handle(now(), i),
                Msg::Tick => {
                    self.alarm.fired();
                    machine.handle_timeout(now());
                }
                Msg::Message(socket, data) => {
                    let Some(conn) = self.conn.upgrade() else { break };
                    machine.handle(now(), Input::Frame { socket, frame: conn.decode(&data) });
                }
            }
        }
        self.ws = None;
        self.alarm.fired();
    }

    fn each(&self, pick: impl Fn(&Sub) -> Option<&Function>, arg: &JsValue) {
        if let (Some(hub), Some(conn)) = (self.hub.upgrade(), self.conn.upgrade()) {
            hub.each(conn.id, pick, arg);
        }
    }

    fn act(&mut self, action: Action<Frame, JsValue>, tx: &Sender<Msg>, o: &Realtime, ttl: Duration) {
        match action {
            Action::FetchToken(id) => {
                let (shared, alias, app_path, provider, tx) =
                    (self.shared.clone(), self.ep.alias().to_string(), o.app_path.clone(), self.token_provider.clone(), tx.clone());
                spawn_local(async move {
                    let token = token(&shared, &alias, &app_path, provider.as_ref(), ttl).await;
                    let _ = tx.unbounded_send(Msg::Input(Input::Token { id, token }));
                });
            }
            Action::Open { socket, token } => self.open(socket, &token, o.max_buffering, tx),
            Action::Send(f) => {
                if let Some(s) = &self.ws {
                    let _ = match &f.data {
                        Data::Text(t) => super::js::call(&s.ws, "send", Some(&JsValue::from_str(t))),
                        Data::Binary(b) => send_bytes(&s.ws, b),
                    };
                }
            }
            Action::CloseSocket => self.ws = None,
            Action::Submit { job, input } => self.submit(job, input.input, tx),
            Action::AbortJob(job) => {
                if let Some(i) = self.jobs.iter().position(|(j, _)| *j == job) {
                    super::js::abort(&self.jobs.remove(i).1);
                }
            }
            Action::Result(r) => self.each(|s| s.on_result.as_ref(), &r),
            Action::JobFailed(e) => self.each(|s| s.on_error.as_ref(), &e),
            Action::Report(p) => self.each(|s| s.on_error.as_ref(), &error::to_js(&p.info(), None, None)),
            Action::Status(s) => {
                let Some(conn) = self.conn.upgrade() else { return };
                let v = super::conv::from_value(&s.to_value());
                *conn.status.borrow_mut() = s;
                self.each(|s| s.on_status.as_ref(), &v);
            }
            // Before anyone is told: a subscriber that connects again from its callback gets a new connection.
            Action::Release => {
                if let (Some(hub), Some(conn)) = (self.hub.upgrade(), self.conn.upgrade()) {
                    hub.registry.borrow_mut().forget(conn.id);
                }
            }
            Action::Fatal(f) => {
                let info = f.info();
                if let Some(conn) = self.conn.upgrade() {
                    *conn.fatal.borrow_mut() = Some(info.clone());
                }
                self.each(|s| s.on_error.as_ref(), &error::to_js(&info, None, None));
            }
        }
    }

    /// A fallback submission through the queue (validated, files uploaded), polled.
    fn submit(&mut self, job: JobId, input: JsValue, tx: &Sender<Msg>) {
        let Ok(ctl) = AbortController::new() else { return };
        let signal = super::js::signal_of(&ctl);
        self.jobs.push((job, ctl));
        let (shared, ep, tx) = (self.shared.clone(), Rc::new(self.ep.clone()), tx.clone());
        spawn_local(async move {
            let opts: JsValue = js_sys::Object::new().into();
            set(&opts, "input", &input);
            let machine = SubscribeConfig { mode: Mode::Polling, poll_interval: Duration::ms(100.0), ..SubscribeConfig::default() };
            let o = Subscribe { machine, logs: false, submit: Default::default() };
            let outcome = match super::queue::prepare(&shared, &ep, &opts, &crate::proto::value::Value::Null, Some(&signal)).await {
                Ok(body) => super::subscribe::follow(shared, ep, o, body.into(), None, Some(signal)).await,
                Err(e) => Err(e),
            };
            let _ = tx.unbounded_send(Msg::Input(Input::JobDone { job, outcome: outcome.map(|r| get(&r, "data")) }));
        });
    }

    fn open(&mut self, socket: SocketId, token: &str, max_buffering: Option<u32>, tx: &Sender<Msg>) {
        let mut url = format!("{}?fal_jwt_token={}", self.url, js_sys::encode_uri_component(token));
        if let Some(m) = max_buffering {
            url.push_str("&max_buffering=");
            crate::proto::num::write(&mut url, f64::from(m));
        }
        self.ws = None;
        let Ok(ws) = WebSocket::new(&url) else {
            let _ = tx.unbounded_send(Msg::Input(Input::Closed { socket, code: 1006 }));
            return;
        };
        set(&ws, "binaryType", &JsValue::from_str("arraybuffer"));
        let (a, b, c) = (tx.clone(), tx.clone(), tx.clone());
        let on_open = Closure::<dyn FnMut(JsValue)>::new(move |_| drop(a.unbounded_send(Msg::Input(Input::Opened { socket }))));
        let on_message = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| drop(b.unbounded_send(Msg::Message(socket, get(&e, "data")))));
        let on_close = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let code = get(&e, "code").as_f64().unwrap_or(1006.0) as u16;
            let _ = c.unbounded_send(Msg::Input(Input::Closed { socket, code }));
        });
        set(&ws, "onopen", on_open.as_ref());
        set(&ws, "onmessage", on_message.as_ref());
        set(&ws, "onclose", on_close.as_ref());
        bump(&SOCKETS, 1);
        self.ws = Some(Socket { ws, _handlers: [on_open, on_message, on_close] });
    }
}

/// A short-lived token: the app's `tokenProvider(app_path)` (the full path, e.g.
/// `fal-ai/fast-lcm-diffusion/realtime`, as fal's own client passes it), or fal's token
/// endpoint through the proxy for the app's alias. `Err(retryable)`.
async fn token(shared: &Shared, alias: &str, app_path: &str, provider: Option<&Function>, ttl: Duration) -> Result<String, bool> {
    let value = match provider {
        Some(f) => {
            let p = f.call1(&JsValue::NULL, &JsValue::from_str(app_path)).map_err(|_| false)?;
            wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&p)).await.map_err(|_| true)?
        }
        None => {
            let body = frame::token_request(alias, ttl);
            let proxy = Some(shared.cfg().proxy_url.as_str());
            super::call::json(shared, Spec::token(), proxy, "POST", frame::TOKEN_URL, Some(&body), &[], None, None)
                .await
                .map(|a| a.body)
                .map_err(|e| get(&e, "retryable").as_bool().unwrap_or(false))?
        }
    };
    frame::token_from_answer(&super::conv::to_value(&value).unwrap_or(crate::proto::value::Value::Null)).ok_or(false)
}

/// What `connect()` returns: send, close, reconnect, status.
#[wasm_bindgen]
pub struct RealtimeConnection {
    hub: Weak<Hub>,
    conn: Option<Rc<Conn>>,
    ticket: Ticket,
    endpoint: String,
    opts: JsValue,
    sub: Sub,
}

#[wasm_bindgen]
impl RealtimeConnection {
    /// Sends an input: throttled, newest wins; kept and sent after a reconnect. Files and Blobs
    /// in it are uploaded first and replaced by their URLs; byte arrays go as binary. Throws a
    /// `GenwireError` once the connection is closed (after a fatal close, saying why).
    pub fn send(&self, input: JsValue) -> Result<(), JsValue> {
        let Some(c) = &self.conn else { return Err(error::to_js(&frame::after_close(), None, None)) };
        if let Some(f) = c.fatal.borrow().as_ref() {
            return Err(error::to_js(&frame::after_fatal(f), None, None));
        }
        let n = c.newest.borrow_mut().number();
        if !super::storage::has_blob(&input, 0) {
            return c.push(n, input);
        }
        let Some(hub) = self.hub.upgrade() else { return Ok(()) };
        let (c, shared) = (c.clone(), hub.shared.clone());
        let on_error = self.sub.on_error.clone();
        spawn_local(async move {
            match super::storage::upload_blobs(&shared, &input).await {
                Ok(uploaded) => drop(c.push(n, uploaded)),
                Err(e) => on_error.iter().for_each(|f| super::js::callback(f, &e)),
            }
        });
        Ok(())
    }

    /// Leaves the connection; the last one to leave closes the socket and frees everything.
    pub fn close(&mut self) {
        if self.conn.take().is_some() {
            if let Some(hub) = self.hub.upgrade() {
                hub.leave(self.ticket);
            }
        }
    }

    /// Reconnects now, with the backoff started over. After a fatal close, starts over: a new
    /// connection with this handle's options (joining the key's current one, if any).
    pub fn reconnect(&mut self) -> Result<(), JsValue> {
        let Some(c) = &self.conn else { return Ok(()) };
        if c.fatal.borrow().is_none() {
            let _ = c.tx.unbounded_send(Msg::Input(Input::Reconnect));
            return Ok(());
        }
        let Some(hub) = self.hub.upgrade() else { return Ok(()) };
        self.close();
        let (ticket, conn) = hub.join(&self.endpoint, &self.opts, self.sub.clone())?;
        let _ = conn.tx.unbounded_send(Msg::Input(Input::Reconnect));
        self.ticket = ticket;
        self.conn = Some(conn);
        Ok(())
    }

    /// `{status, attempt?, delayMs?}`.
    #[wasm_bindgen(getter)]
    pub fn status(&self) -> JsValue {
        let s = self.conn.as_ref().map_or(Status::Closed, |c| c.status.borrow().clone());
        super::conv::from_value(&s.to_value())
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
