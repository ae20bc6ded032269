//! Realtime connections: the core's registry and connection machine, carried out with
//! WebSockets, timers, window events and the queue (the polling fallback). This file decides
//! nothing: it encodes inputs, decodes frames, and does what the machine's actions say.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{Function, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::{AbortController, WebSocket};

use super::conv;
use super::js;
use super::js::{callback, get, now, set};
use super::shared::Shared;
use super::tasks::{bump, Inbox, Listener, Sender, SOCKETS};
use crate::proto::call::Spec;
use crate::proto::endpoint::EndpointId;
use crate::proto::error::ErrorInfo;
use crate::proto::options::{Codec, Realtime, Subscribe};
use crate::proto::realtime::connection::{Action, Connection, Input, JobId, SocketId, Status};
use crate::proto::realtime::frame::{self, classify, Frame as Received, Head};
use crate::proto::realtime::input::{self as rt_input, Framed, Part, Unsendable};
use crate::proto::realtime::msgpack;
use crate::proto::realtime::registry::{Registry, Ticket};
use crate::proto::realtime::throttle::Newest;

/// An input encoded for the socket, with the input itself (the polling fallback sends that).
pub struct Frame {
    data: Data,
    input: JsValue,
}

/// What `ws.send` gets.
enum Data {
    Text(String),
    /// A frame the core wrote whole (sent from a view of wasm memory).
    Own(Vec<u8>),
    /// A frame joined in JS from the core's framing and the caller's byte arrays.
    Joined(Uint8Array),
}

enum Coder {
    MsgPack,
    Json,
    Custom { encode: Function, decode: Function },
}

/// One `connect()` call's `onResult`, `onError` and `onStatus`.
type Sub = [Option<Function>; 3];
const RESULT: usize = 0;
const ERROR: usize = 1;
const STATUS: usize = 2;

/// A client's realtime connections.
pub struct Hub {
    shared: Rc<Shared>,
    registry: RefCell<Registry<Rc<Conn>, Sub>>,
}

pub struct Conn {
    tx: Sender<Msg>,
    status: RefCell<Status>,
    /// Why it ended for good, if it did: `send()` throws it, `reconnect()` starts over.
    fatal: RefCell<Option<ErrorInfo>>,
    newest: RefCell<Newest>,
    coder: Coder,
}

enum Msg {
    Input(Input<Frame, JsValue>),
    /// A socket's message, decoded by the driver (the codec is the connection's).
    Message(SocketId, JsValue),
}

impl Hub {
    pub fn new(shared: Rc<Shared>) -> Rc<Self> {
        Rc::new(Self { shared, registry: RefCell::new(Registry::new()) })
    }

    /// Connections a `connect()` can join.
    pub fn len(&self) -> usize {
        self.registry.borrow().len()
    }

    /// Calls callback `which` of every subscriber of `conn` (a copy: callbacks may connect or close).
    fn each(&self, conn: u32, which: usize, arg: &JsValue) {
        let subs = self.registry.borrow_mut().subscribers(conn);
        subs.iter().filter_map(|s| s[which].as_ref()).for_each(|f| callback(f, arg));
    }

    /// `client.realtime.connect(endpoint, options)`.
    pub fn connect(self: &Rc<Self>, endpoint: &JsValue, opts: &JsValue) -> Result<RealtimeConnection, JsValue> {
        let id = conv::endpoint(endpoint)?.full();
        let sub = [conv::opt_fn(opts, "onResult")?, conv::opt_fn(opts, "onError")?, conv::opt_fn(opts, "onStatus")?];
        let (ticket, conn) = self.join(&id, opts, sub.clone())?;
        let joined = Joined { conn, ticket, endpoint: id, opts: opts.clone(), sub };
        Ok(RealtimeConnection { hub: Rc::downgrade(self), now: RefCell::new(Some(joined)) })
    }

    fn join(self: &Rc<Self>, endpoint: &str, opts: &JsValue, sub: Sub) -> Result<(Ticket, Rc<Conn>), JsValue> {
        let ep = conv::endpoint(&JsValue::from_str(endpoint))?;
        let codec = get(opts, "codec");
        let plain = conv::options(opts, if codec.is_object() { &["codec"] } else { &[] })?;
        self.shared.warn_unknown("realtime", opts, &plain);
        let o = crate::proto::options::realtime(&plain, &ep, codec.is_object(), &self.shared.cfg().realtime_url).map_err(conv::option)?;
        let coder = match o.codec {
            Codec::MsgPack => Coder::MsgPack,
            Codec::Json => Coder::Json,
            Codec::Custom => {
                let f = |k: &str| conv::opt_fn(&codec, k)?.ok_or_else(|| conv::config(&format!("codec.{k} must be a function")));
                Coder::Custom { encode: f("encode")?, decode: f("decode")? }
            }
        };
        let token_provider = conv::opt_fn(opts, "tokenProvider")?;
        let (on_status, key) = (sub[STATUS].clone(), o.key.clone());
        // Same key: the socket and its transport options are the first connect's; callbacks are each caller's own.
        let (ticket, conn, _) = self.registry.borrow_mut().join(key.as_deref(), &ep.full(), sub, |id| {
            let (tx, inbox) = Inbox::<Msg>::new();
            let conn = Rc::new(Conn { tx, status: RefCell::new(Status::Idle), fatal: RefCell::new(None), newest: Default::default(), coder });
            let (hub, shared, ep) = (Rc::downgrade(self), self.shared.clone(), Rc::new(ep));
            let driver = Driver { hub, shared, conn: Rc::downgrade(&conn), id, ep, token_provider, ws: None, jobs: Vec::new(), o };
            spawn_local(driver.run(inbox));
            Ok::<_, JsValue>(conn)
        })?;
        if let Some(f) = on_status {
            // Read before the call: no borrow is held while the caller's code runs.
            let status = conv::from_value(&conn.status.borrow().to_value());
            callback(&f, &status);
        }
        Ok((ticket, conn))
    }
}

impl Conn {
    /// The frame for `input`, by the core's rules (`proto::realtime::input`): refused with a
    /// `GenwireError` naming the field, or carried whole. `Ok(None)`: it holds a `Blob` or a
    /// `File`, to upload first.
    fn encode(&self, input: &JsValue) -> Result<Option<Data>, JsValue> {
        let refused = |e: Unsendable| if e.kind == "file" { Ok(None) } else { Err(conv::to_js(&e.info(), None, None)) };
        let unsendable = |why: &str| conv::config(&format!("this input can't be sent: {why}"));
        Ok(Some(match &self.coder {
            Coder::MsgPack => join(match rt_input::msgpack(input) {
                Ok(framed) => framed,
                Err(e) => return refused(e),
            })
            .map_err(unsendable)?,
            Coder::Json => Data::Text(match rt_input::json(input) {
                Ok(text) => text,
                Err(e) => return refused(e),
            }),
            Coder::Custom { .. } if super::storage::has_blob(input, 0) => return Ok(None),
            Coder::Custom { encode, .. } => {
                let out = encode.call1(&JsValue::NULL, input).map_err(|e| unsendable(&format!("the codec's encode threw: {}", js::message(&e))))?;
                // What js/index.d.ts promises it returns: a string, a Uint8Array or an ArrayBuffer.
                let bytes = (out.is_instance_of::<Uint8Array>() && js_sys::ArrayBuffer::is_view(&out)) || out.is_instance_of::<js_sys::ArrayBuffer>();
                match out.as_string() {
                    Some(text) => Data::Text(text),
                    None if bytes => Data::Joined(
                        js::uint8(&out).map_err(|e| unsendable(&format!("the codec's encode returned bytes that can't be read: {}", js::message(&e))))?,
                    ),
                    None => {
                        let what = crate::proto::host::what_host(&out);
                        return Err(unsendable(&format!("the codec's encode returned {what}, not a string, a Uint8Array or an ArrayBuffer")));
                    }
                }
            }
        }))
    }

    /// A message from the server, decoded and classified by the core.
    fn decode(&self, data: &JsValue) -> Received<JsValue> {
        let decoded = match (&self.coder, data.as_string()) {
            (Coder::Custom { decode, .. }, _) => decode.call1(&JsValue::NULL, data).map_err(|_| "the codec's decode threw".into()),
            (_, Some(text)) => js_sys::JSON::parse(&text).map_err(|_| "a text frame that is not JSON".into()),
            (_, None) => match msgpack::decode(&js::bytes(data).unwrap_or_default()) {
                Ok(v) => return classify(&Head::of(&v), conv::from_value(&v)),
                Err(e) => Err(e.to_string()),
            },
        };
        match decoded {
            Ok(v) => {
                let s = |k: &str| get(&v, k).as_string();
                classify(&Head { kind: s("type"), error: s("error"), reason: s("reason"), status: s("status") }, v)
            }
            Err(why) => Received::Unreadable(why),
        }
    }

    /// Passes an input to the machine unless a newer one already went (newest wins across
    /// uploads too). `Ok(false)`: it holds files, to upload first.
    fn push(&self, n: u64, input: JsValue) -> Result<bool, JsValue> {
        let Some(data) = self.encode(&input)? else { return Ok(false) };
        if self.newest.borrow_mut().admit(n) {
            self.tx.send(Msg::Input(Input::Send(Frame { data, input })));
        }
        Ok(true)
    }
}

struct Driver {
    hub: Weak<Hub>,
    shared: Rc<Shared>,
    conn: Weak<Conn>,
    id: u32,
    ep: Rc<EndpointId>,
    token_provider: Option<Function>,
    ws: Option<Socket>,
    /// Fallback submissions in flight.
    jobs: Vec<(JobId, AbortController)>,
    o: Realtime,
}

/// A WebSocket with its handlers; dropping it detaches them and closes the socket.
struct Socket(WebSocket, #[allow(dead_code)] [Closure<dyn FnMut(JsValue)>; 3]);

impl Drop for Socket {
    fn drop(&mut self) {
        for h in ["onopen", "onmessage", "onclose"] {
            set(&self.0, h, &JsValue::NULL);
        }
        let _ = js::call(&self.0, "close", Some(&JsValue::from(1000)));
        bump(SOCKETS, -1);
    }
}

impl Driver {
    async fn run(mut self, mut inbox: Inbox<Msg>) {
        let mut machine: Connection<Frame, JsValue> = Connection::new(self.o.machine.clone(), (js_sys::Math::random() * 4e9) as u64);
        let Some(tx) = self.conn.upgrade().map(|c| c.tx.clone()) else { return };
        let on = |target: JsValue, name, input: fn() -> Input<Frame, JsValue>| {
            let tx = tx.clone();
            Listener::new(target, name, move |_| {
                let visible = get(&get(&js_sys::global(), "document"), "visibilityState").as_string();
                if name != "visibilitychange" || visible.as_deref() == Some("visible") {
                    tx.send(Msg::Input(input()));
                }
            })
        };
        let g: JsValue = js_sys::global().into();
        let _listeners = [
            on(g.clone(), "online", || Input::Online),
            on(g.clone(), "offline", || Input::Offline),
            on(get(&g, "document"), "visibilitychange", || Input::Visible),
        ];
        loop {
            while let Some(action) = machine.poll_action() {
                self.act(action, &tx);
            }
            if machine.is_closed() || self.conn.strong_count() == 0 {
                break;
            }
            match inbox.next(machine.poll_timeout()).await {
                Some(Msg::Input(i)) => machine.handle(now(), i),
                Some(Msg::Message(socket, data)) => {
                    let Some(conn) = self.conn.upgrade() else { break };
                    machine.handle(now(), Input::Frame { socket, frame: conn.decode(&data) });
                }
                None => machine.handle_timeout(now()),
            }
        }
        self.ws = None;
    }

    fn each(&self, which: usize, arg: &JsValue) {
        if let Some(hub) = self.hub.upgrade() {
            hub.each(self.id, which, arg);
        }
    }

    fn act(&mut self, action: Action<Frame, JsValue>, tx: &Sender<Msg>) {
        match action {
            Action::FetchToken(id) => {
                let (shared, ep, app_path, provider, tx) =
                    (self.shared.clone(), self.ep.clone(), self.o.app_path.clone(), self.token_provider.clone(), tx.clone());
                let ttl = self.o.machine.token_ttl;
                spawn_local(async move {
                    let token = match provider {
                        Some(f) => provided(&f, &app_path).await,
                        None => {
                            let body = frame::token_request(ep.alias(), ttl);
                            let req = super::call::Req::new(Some(&shared.cfg().proxy_url), "POST", frame::TOKEN_URL, Some(&body));
                            let r = super::call::json(&shared, Spec::token(), req, None).await;
                            r.map(|a| a.body).map_err(|e| get(&e, "retryable").as_bool() == Some(true))
                        }
                    };
                    let token = token.and_then(|v| frame::token_from_answer(&conv::to_value(&v).unwrap_or(crate::proto::value::Value::Null)).ok_or(false));
                    tx.send(Msg::Input(Input::Token { id, token }));
                });
            }
            Action::Open { socket, token } => self.open(socket, &token, tx),
            Action::Send(f) => {
                if let Some(Socket(ws, _)) = &self.ws {
                    let _ = match &f.data {
                        Data::Text(text) => js::call(ws, "send", Some(&JsValue::from_str(text))),
                        Data::Own(bytes) => send_bytes(ws, bytes),
                        Data::Joined(bytes) => js::call(ws, "send", Some(bytes)),
                    };
                }
            }
            Action::CloseSocket => self.ws = None,
            Action::Submit { job, input } => self.submit(job, input.input, tx),
            Action::AbortJob(job) => {
                if let Some(i) = self.jobs.iter().position(|(j, _)| *j == job) {
                    js::abort(&self.jobs.remove(i).1);
                }
            }
            Action::Result(r) => self.each(RESULT, &r),
            Action::JobFailed(e) => self.each(ERROR, &e),
            Action::Report(p) => self.each(ERROR, &conv::to_js(&p.info(), None, None)),
            Action::Status(s) => {
                let v = conv::from_value(&s.to_value());
                if let Some(conn) = self.conn.upgrade() {
                    *conn.status.borrow_mut() = s;
                }
                self.each(STATUS, &v);
            }
            // Before anyone is told: a subscriber that connects again from its callback gets a new connection.
            Action::Release => {
                if let Some(hub) = self.hub.upgrade() {
                    hub.registry.borrow_mut().forget(self.id);
                }
            }
            Action::Fatal(f) => {
                let info = f.info();
                self.each(ERROR, &conv::to_js(&info, None, None));
                if let Some(conn) = self.conn.upgrade() {
                    *conn.fatal.borrow_mut() = Some(info);
                }
            }
        }
    }

    /// A fallback submission through the queue (validated, files uploaded), polled.
    fn submit(&mut self, job: JobId, input: JsValue, tx: &Sender<Msg>) {
        let Ok(ctl) = AbortController::new() else { return };
        let signal = js::signal_of(&ctl);
        self.jobs.push((job, ctl));
        let (shared, ep, tx) = (self.shared.clone(), self.ep.clone(), tx.clone());
        spawn_local(async move {
            let opts: JsValue = js_sys::Object::new().into();
            set(&opts, "input", &input);
            let outcome = match super::queue::prepare(&shared, &ep, &opts, &crate::proto::value::Value::Null, Some(&signal)).await {
                Ok(body) => super::subscribe::follow(shared, ep, Subscribe::fallback(), body.into(), Some(signal)).await,
                Err(e) => Err(e),
            };
            tx.send(Msg::Input(Input::JobDone { job, outcome: outcome.map(|r| get(&r, "data")) }));
        });
    }

    fn open(&mut self, socket: SocketId, token: &str, tx: &Sender<Msg>) {
        self.ws = None;
        let Ok(ws) = WebSocket::new(&self.o.socket_url(token)) else {
            tx.send(Msg::Input(Input::Closed { socket, code: 1006 }));
            return;
        };
        set(&ws, "binaryType", &JsValue::from_str("arraybuffer"));
        let handler = |f: fn(SocketId, JsValue) -> Msg| {
            let tx = tx.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |e| {
                tx.send(f(socket, e));
            })
        };
        let handlers = [
            handler(|socket, _| Msg::Input(Input::Opened { socket })),
            handler(|socket, e| Msg::Message(socket, get(&e, "data"))),
            handler(|socket, e| Msg::Input(Input::Closed { socket, code: get(&e, "code").as_f64().unwrap_or(1006.0) as u16 })),
        ];
        for (name, h) in ["onopen", "onmessage", "onclose"].iter().zip(&handlers) {
            set(&ws, name, h.as_ref());
        }
        bump(SOCKETS, 1);
        self.ws = Some(Socket(ws, handlers));
    }
}

/// The app's `tokenProvider(app_path)`: given the full path (`fal-ai/x/realtime`), as fal's own
/// client passes it. `Err(retryable)`: a throw is final, a rejection may pass.
async fn provided(f: &Function, app_path: &str) -> Result<JsValue, bool> {
    let p = f.call1(&JsValue::NULL, &JsValue::from_str(app_path)).map_err(|_| false)?;
    wasm_bindgen_futures::JsFuture::from(js::resolved(&p)).await.map_err(|_| true)
}

/// What `connect()` returns: send, close, reconnect, status. Every method takes `&self` and
/// borrows its cell only between calls out to JS, so a getter of an input or a callback that
/// calls back in (`close()` from inside `send()`) finds nothing borrowed.
#[wasm_bindgen]
pub struct RealtimeConnection {
    hub: Weak<Hub>,
    /// While joined (none once closed): the connection, this handle's place in it, and what a
    /// reconnect after a fatal close starts over with. Let go on `close()`: the caller's options
    /// and callbacks usually hold the caller's object, which holds this handle, and a JS value kept
    /// by the wasm is a root the garbage collector can't see through (the handle, its options, its
    /// callbacks and all they hold would stay for ever).
    now: RefCell<Option<Joined>>,
}

struct Joined {
    conn: Rc<Conn>,
    ticket: Ticket,
    endpoint: String,
    opts: JsValue,
    sub: Sub,
}

#[wasm_bindgen]
impl RealtimeConnection {
    /// Sends an input: throttled, newest wins; kept and sent after a reconnect. Files and Blobs
    /// in it are uploaded first and replaced by their URLs; byte arrays go as binary. Throws a
    /// `GenwireError` once the connection is closed (after a fatal close, saying why), and one of
    /// kind `config` naming the field for an input the codec can't carry whole.
    pub fn send(&self, input: JsValue) -> Result<(), JsValue> {
        let joined = self.now.borrow().as_ref().map(|j| (j.conn.clone(), j.sub[ERROR].clone()));
        let Some((c, on_error)) = joined else { return Err(conv::to_js(&frame::after_close(), None, None)) };
        if let Some(f) = c.fatal.borrow().as_ref() {
            return Err(conv::to_js(&frame::after_fatal(f), None, None));
        }
        if matches!(c.coder, Coder::MsgPack | Coder::Json) {
            crate::proto::host::input(&input, false).map_err(|e| conv::config(&e))?;
        }
        let n = c.newest.borrow_mut().number();
        if c.push(n, input.clone())? {
            return Ok(());
        }
        let Some(hub) = self.hub.upgrade() else { return Ok(()) };
        let (c, shared) = (c.clone(), hub.shared.clone());
        spawn_local(async move {
            // After the upload, an input that can't be encoded is reported like a failed upload.
            let sent = super::storage::upload_blobs(&shared, &input).await.and_then(|uploaded| c.push(n, uploaded));
            if let Err(e) = sent {
                on_error.iter().for_each(|f| callback(f, &e));
            }
        });
        Ok(())
    }

    /// Leaves the connection; the last one to leave closes the socket and frees everything.
    pub fn close(&self) {
        drop(self.leave());
    }

    /// Reconnects now, with the backoff started over. After a fatal close, starts over: a new
    /// connection with this handle's options (joining the key's current one, if any).
    pub fn reconnect(&self) -> Result<(), JsValue> {
        let conn = self.now.borrow().as_ref().map(|j| j.conn.clone());
        let (Some(c), Some(hub)) = (conn, self.hub.upgrade()) else { return Ok(()) };
        let fatal = c.fatal.borrow().is_some();
        let c = if fatal {
            let Some(Joined { endpoint, opts, sub, .. }) = self.leave() else { return Ok(()) };
            let (ticket, conn) = hub.join(&endpoint, &opts, sub.clone())?;
            *self.now.borrow_mut() = Some(Joined { conn: conn.clone(), ticket, endpoint, opts, sub });
            conn
        } else {
            c
        };
        c.tx.send(Msg::Input(Input::Reconnect));
        Ok(())
    }

    /// `{status, attempt?, delayMs?}`.
    #[wasm_bindgen(getter)]
    pub fn status(&self) -> JsValue {
        let s = self.now.borrow().as_ref().map_or(Status::Closed, |j| j.conn.status.borrow().clone());
        conv::from_value(&s.to_value())
    }
}

impl RealtimeConnection {
    /// Leaves the connection (the last handle to leave closes it) and gives back what this handle
    /// held, so that nothing of the caller's stays in the wasm once it is dropped.
    fn leave(&self) -> Option<Joined> {
        let joined = self.now.borrow_mut().take()?;
        let last = self.hub.upgrade().and_then(|h| h.registry.borrow_mut().leave(joined.ticket));
        if let Some(c) = last {
            c.tx.send(Msg::Input(Input::Close));
        }
        Some(joined)
    }
}

/// A frame in parts as `ws.send` takes it: the core's bytes alone as they are; with the caller's
/// byte arrays, one `Uint8Array` of the frame's length that each part is copied into once (the
/// caller's bytes never pass through wasm memory). `Err`: a byte array changed after it was
/// measured (a getter later in the input detached or resized it), or the frame can't be allocated.
fn join(framed: Framed<JsValue>) -> Result<Data, &'static str> {
    let Framed { mut parts, len } = framed;
    if let [Part::Own(_)] = parts.as_slice() {
        if let Some(Part::Own(bytes)) = parts.pop() {
            return Ok(Data::Own(bytes));
        }
    }
    let too_large = "a frame this large can't be allocated";
    if len > u32::MAX as usize {
        return Err(too_large);
    }
    let out = js::uint8(&JsValue::from_f64(len as f64)).map_err(|_| too_large)?;
    let changed = "a byte array in it changed (detached or resized) while the input was read";
    let mut at = 0usize;
    for part in &parts {
        let n = match part {
            Part::Own(bytes) => bytes.len(),
            Part::Host(_, n) => *n,
        };
        if at + n > len {
            return Err(changed);
        }
        match part {
            Part::Own(bytes) => out.subarray(at as u32, (at + n) as u32).copy_from(bytes),
            Part::Host(h, n) => {
                // An ArrayBuffer: a view of it, no copy. Measured again: `set` copies what is there now.
                let view = if h.is_instance_of::<Uint8Array>() { h.clone().unchecked_into() } else { js::uint8(h).map_err(|_| changed)? };
                if js::byte_length(&view).ok() != Some(*n) {
                    return Err(changed);
                }
                js::call2(&out, "set", &view, &JsValue::from_f64(at as f64)).map_err(|_| changed)?;
            }
        }
        at += n;
    }
    Ok(Data::Joined(out))
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
