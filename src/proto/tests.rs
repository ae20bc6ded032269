//! Property tests: the machines driven by random environments (a seeded generator, so a failure
//! names its seed and replays), with the invariants every run must keep. And the clock test: the
//! wall clock stepped backwards and forwards moves no deadline.

use crate::proto::breaker::BreakerConfig;
use crate::proto::call::{self, CallMachine, Spec};
use crate::proto::endpoint::{EndpointId, RequestId};
use crate::proto::error::{decode_http, decode_thrown, Body, ErrorInfo};
use crate::proto::logs::LogKey;
use crate::proto::policy::Policy;
use crate::proto::rand::Rng;
use crate::proto::realtime::connection::{self as rt, Connection, JobId, SocketId, Status, TokenId};
use crate::proto::realtime::frame::Frame;
use crate::proto::realtime::reconnect::{Notice, ReconnectConfig};
use crate::proto::retry::{GiveUp, Idempotency, RetryConfig};
use crate::proto::status::{Phase, Status as QueueStatus};
use crate::proto::subscribe::{self as sub, Machine, Mode};
use crate::proto::time::{Duration, Instant, Now, Wall};
use crate::proto::upload::{self as up, Upload, UploadAction, UploadInput, PARALLEL, PART_SIZE};
use crate::proto::value::Value;

const RUNS: u64 = 400;

struct Gen(Rng);

impl Gen {
    fn new(seed: u64) -> Self {
        Self(Rng::new(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
    }
    fn below(&mut self, n: u64) -> u64 {
        (self.0.next01() * n as f64) as u64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.0.next01() < p
    }
    fn ms(&mut self, max: f64) -> Duration {
        Duration::ms((self.0.next01() * max).round())
    }
    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize].clone()
    }
}

fn error(status: u16, headers: &[(&str, &str)]) -> ErrorInfo {
    let get = |n: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.to_string());
    decode_http(status, &get, &Body::Empty, false, None, 0.0)
}

/// Failures a request may meet: the ones that show nothing ran, and the ones that may hide work.
fn failure(g: &mut Gen) -> ErrorInfo {
    match g.below(7) {
        0 => error(429, &[("retry-after", "1")]),
        1 => error(503, &[]),
        2 => error(503, &[("x-fal-error-type", "runner_disconnected")]),
        3 => error(504, &[]),
        4 => error(502, &[]),
        5 => error(422, &[]),
        _ => decode_thrown("TypeError", "Failed to fetch"),
    }
}

/// Whether an unsafe request may go again after `e` (the README's rule for submit and run).
fn shows_nothing_ran(e: &ErrorInfo) -> bool {
    matches!(e.status, Some(429 | 503))
}

#[test]
fn the_call_machine_keeps_its_invariants() {
    for seed in 0..RUNS * 3 {
        let mut g = Gen::new(seed);
        let retry = RetryConfig { max_retries: g.below(5) as u32, base_delay: g.ms(300.0), ..RetryConfig::default() };
        let breaker = g.chance(0.7).then(|| BreakerConfig { failure_threshold: 1 + g.below(4) as u32, open: g.ms(2_000.0) });
        let mut p = Policy::new(retry.clone(), breaker, seed);
        let mut now = Instant::at(g.ms(1e6).as_ms());
        for _ in 0..1 + g.below(6) {
            let spec = g.pick(&[Spec::submit(&ep()), Spec::run(&ep()), Spec::status(&ep()), Spec::upload(), Spec::token()]);
            let unsafe_ = spec.idempotency == Idempotency::UnsafeIfMaybeProcessed;
            let mut m = CallMachine::new(spec, now, &mut p);
            let (mut done, mut records, mut sends, mut in_flight, mut sleeping) = (0, 0, 0, false, None::<Instant>);
            let mut last_failure: Option<ErrorInfo> = None;
            for _ in 0..200 {
                while let Some(a) = m.poll_action() {
                    assert_eq!(done, 0, "seed {seed}: {a:?} after Done");
                    match a {
                        call::Action::Send { attempt } => {
                            assert!(!in_flight && sleeping.is_none_or(|u| now >= u), "seed {seed}: a send while one is out or before the wait ended");
                            if let (true, Some(e)) = (unsafe_, &last_failure) {
                                assert!(
                                    shows_nothing_ran(e) || e.error_type.is_some() && !matches!(e.status, Some(504)),
                                    "seed {seed}: an unsafe request sent again after {e:?}"
                                );
                            }
                            sends += 1;
                            assert_eq!(attempt, sends, "seed {seed}");
                            assert!(sends <= retry.max_retries + 1, "seed {seed}: more attempts than allowed");
                            (in_flight, sleeping) = (true, None);
                        }
                        call::Action::Sleep { until } => {
                            assert!(until >= now, "seed {seed}: a wait that ended before it began");
                            sleeping = Some(until);
                        }
                        call::Action::Record(_) => records += 1,
                        call::Action::Done(_) => done += 1,
                        call::Action::Emit(_) => {}
                    }
                }
                if done > 0 {
                    break;
                }
                now = now + g.ms(400.0);
                if in_flight && g.chance(0.7) {
                    in_flight = false;
                    let input = match g.below(10) {
                        0..=3 => call::Input::Succeeded,
                        9 => call::Input::Aborted,
                        _ => {
                            let e = failure(&mut g);
                            last_failure = Some(e.clone());
                            call::Input::Failed(e)
                        }
                    };
                    m.handle(now, input, &mut p);
                } else if let Some(until) = m.poll_timeout() {
                    // Sometimes woken early (a timer rounding), sometimes exactly, sometimes late.
                    let late = until + g.ms(50.0);
                    let at = g.pick(&[until, Instant::at(until.as_ms() - 1.0), late]);
                    now = if at > now { at } else { now };
                    m.handle_timeout(now, &mut p);
                    if now < until {
                        assert_eq!(m.poll_action(), Some(call::Action::Sleep { until }), "seed {seed}: woken early, it must only sleep on");
                    }
                } else if g.chance(0.05) {
                    m.handle(now, call::Input::Aborted, &mut p);
                }
            }
            assert!(done <= 1 && records <= 1, "seed {seed}: {done} Done, {records} samples");
            if done == 0 {
                // The run ended mid-call: an abort ends it, once.
                m.handle(now, call::Input::Aborted, &mut p);
                assert!(matches!(m.poll_action(), Some(call::Action::Done(Err(call::Failure::Aborted)))), "seed {seed}");
                assert_eq!(m.poll_action(), None);
            }
        }
    }
}

fn ep() -> EndpointId {
    EndpointId::parse("fal-ai/flux/dev").unwrap()
}

fn queue_status(g: &mut Gen, logs: &mut usize) -> QueueStatus {
    let phase = g.pick(&[Phase::InQueue, Phase::InProgress, Phase::InProgress, Phase::Completed]);
    *logs += g.below(3) as usize;
    let from = if g.chance(0.5) { 0 } else { *logs / 2 }; // a snapshot, or a window
    QueueStatus {
        phase,
        queue_position: (phase == Phase::InQueue).then(|| g.below(5)),
        logs: (from..*logs).map(|i| LogKey::new(format!("t{i}"), "line")).collect(),
        request_id: None,
        failed: phase == Phase::Completed && g.chance(0.2),
    }
}

#[test]
fn the_subscribe_machine_keeps_its_invariants() {
    type M = Machine<u32, &'static str>;
    for seed in 0..RUNS {
        let mut g = Gen::new(seed);
        let mode = if g.chance(0.5) { Mode::Streaming } else { Mode::Polling };
        let (cancel_on_abort, fetch_result) = (g.chance(0.7), g.chance(0.7));
        let cfg = sub::Config {
            mode,
            poll_interval: g.ms(600.0),
            stall: g.ms(3_000.0),
            timeout: g.chance(0.4).then(|| g.ms(20_000.0)),
            cancel_on_abort,
            fetch_result,
        };
        let mut now = Instant::at(g.ms(1e6).as_ms());
        let id = RequestId::parse("req").unwrap();
        // Submitted here, or followed by its id (no submit, no `Enqueued`).
        let followed = g.chance(0.4);
        let mut m = if followed { M::follow(cfg, id.clone(), now) } else { M::new(cfg, now) };
        let (mut done, mut submits, mut last_phase, mut logs, mut n) = (0, 0, None::<Phase>, 0, 0u32);
        // What the environment holds: an unanswered submit, poll, result fetch; an open stream.
        let (mut submit_out, mut poll_out, mut result_out, mut stream_open, mut cancels) = (false, false, false, false, 0);
        let (mut enqueued, mut completed, mut aborted) = (0, false, false);
        for _ in 0..300 {
            while let Some(a) = m.poll_action() {
                assert_eq!(done, 0, "seed {seed}: {a:?} after Done");
                match a {
                    sub::Action::Submit => {
                        assert!(!followed, "seed {seed}: a followed job submitted");
                        submits += 1;
                        submit_out = true;
                    }
                    sub::Action::Enqueued(_) => {
                        assert!(!followed && last_phase.is_none(), "seed {seed}: Enqueued after a status, or for a followed job");
                        enqueued += 1;
                    }
                    sub::Action::OpenStream(_) => {
                        assert!(!stream_open, "seed {seed}: two streams");
                        stream_open = true;
                    }
                    sub::Action::CloseStream => stream_open = false,
                    sub::Action::Poll(_) => {
                        assert!(!poll_out, "seed {seed}: a poll while one is out");
                        poll_out = true;
                    }
                    sub::Action::FetchResult(_) => {
                        assert!(fetch_result, "seed {seed}: a result fetched for a stream of statuses");
                        assert!(!result_out, "seed {seed}: two result fetches");
                        result_out = true;
                    }
                    sub::Action::Cancel(_) => {
                        assert!(cancel_on_abort || !aborted, "seed {seed}: a job let go on abort was cancelled");
                        cancels += 1
                    }
                    sub::Action::Emit { phase, .. } => {
                        assert!(followed || enqueued == 1, "seed {seed}: a status before Enqueued");
                        completed |= phase == Phase::Completed;
                        assert!(last_phase.is_none_or(|p| phase >= p), "seed {seed}: the phase went back from {last_phase:?} to {phase:?}");
                        last_phase = Some(phase);
                    }
                    sub::Action::Done(r) => {
                        assert!(fetch_result || r.is_err() || completed, "seed {seed}: a stream of statuses ended Ok before COMPLETED");
                        done += 1
                    }
                }
            }
            assert!(submits <= 1 && cancels <= 1 && enqueued <= 1, "seed {seed}");
            if done > 0 {
                break;
            }
            now = now + g.ms(300.0);
            n += 1;
            match g.below(12) {
                0 | 1 if submit_out => {
                    submit_out = false;
                    let input = if g.chance(0.9) {
                        sub::Input::Submitted { request_id: id.clone(), status: queue_status(&mut g, &mut logs), raw: n }
                    } else {
                        sub::Input::SubmitFailed("submit")
                    };
                    m.handle(now, input);
                }
                2 | 3 if poll_out => {
                    poll_out = false;
                    let input = if g.chance(0.95) { sub::Input::PollStatus(queue_status(&mut g, &mut logs), n) } else { sub::Input::PollFailed("poll") };
                    m.handle(now, input);
                }
                4 if result_out => {
                    result_out = false;
                    m.handle(now, if g.chance(0.8) { sub::Input::ResultFetched(n) } else { sub::Input::ResultFailed("result") });
                }
                5 | 6 => {
                    // Stream traffic, also after the stream was closed (a late event).
                    let input = match g.below(3) {
                        0 => sub::Input::StreamActivity,
                        1 => sub::Input::StreamStatus(queue_status(&mut g, &mut logs), n),
                        _ => sub::Input::StreamBroken,
                    };
                    m.handle(now, input);
                }
                // A poll answer when none is out: only a late one of an earlier phase of the call.
                7 if !poll_out => m.handle(now, sub::Input::PollStatus(queue_status(&mut g, &mut logs), n)),
                8 if g.chance(0.05) => {
                    aborted = true;
                    m.handle(now, sub::Input::Abort)
                }
                _ => {
                    if let Some(at) = m.poll_timeout() {
                        let early = Instant::at((at.as_ms() - 1.0).max(now.as_ms()));
                        if g.chance(0.3) && early < at {
                            // Before the deadline nothing happens.
                            m.handle_timeout(early);
                            assert_eq!(m.poll_action(), None, "seed {seed}: a deadline fired early");
                            now = early;
                        }
                        now = now.max_with(at);
                        m.handle_timeout(now);
                    }
                }
            }
        }
        if done == 0 {
            m.handle(now, sub::Input::Abort);
            let a: Vec<_> = std::iter::from_fn(|| m.poll_action()).collect();
            assert_eq!(a.iter().filter(|x| matches!(x, sub::Action::Done(_))).count(), 1, "seed {seed}: {a:?}");
            assert!(cancel_on_abort || !a.iter().any(|x| matches!(x, sub::Action::Cancel(_))), "seed {seed}: a job let go on abort was cancelled");
        }
        m.handle(now, sub::Input::Abort);
        m.handle_timeout(now + Duration::ms(1e9));
        assert_eq!(m.poll_action(), None, "seed {seed}: nothing after Done");
    }
}

trait MaxWith {
    fn max_with(self, o: Self) -> Self;
}
impl MaxWith for Instant {
    fn max_with(self, o: Self) -> Self {
        if o > self {
            o
        } else {
            self
        }
    }
}

#[test]
fn the_realtime_machine_keeps_its_invariants() {
    type C = Connection<u32, (u32, u32)>;
    for seed in 0..RUNS {
        let mut g = Gen::new(seed);
        let cfg = rt::Config {
            throttle: g.ms(200.0),
            reconnect: ReconnectConfig {
                base: g.ms(300.0),
                max: Duration::ms(2_000.0),
                min_uptime: g.ms(3_000.0),
                max_attempts: g.chance(0.3).then(|| 1 + g.below(6) as u32),
            },
            token_ttl: Duration::ms(5_000.0 + g.ms(20_000.0).as_ms()),
            fallback_after: 1 + g.below(4) as u32,
            fallback_retry: g.ms(3_000.0),
            buffer: 1 + g.below(3) as usize,
        };
        let mut now = Instant::at(g.ms(1e6).as_ms());
        let mut c = C::new(cfg, seed);
        // The environment: the socket the machine holds (and whether it opened), the sockets it
        // let go of, token fetches and fallback jobs in flight.
        let (mut socket, mut old, mut tokens, mut jobs) = (None::<(SocketId, bool)>, Vec::<SocketId>::new(), Vec::<TokenId>::new(), Vec::<JobId>::new());
        let (mut closed, mut released, mut status) = (false, 0, Status::Idle);
        let mut n = 0;
        for _ in 0..300 {
            while let Some(a) = c.poll_action() {
                assert!(!closed, "seed {seed}: {a:?} after closed");
                match a {
                    rt::Action::FetchToken(id) => tokens.push(id),
                    rt::Action::Open { socket: s, .. } => {
                        assert!(socket.is_none(), "seed {seed}: a second socket while {socket:?} is held");
                        socket = Some((s, false));
                    }
                    rt::Action::Send(_) => assert!(matches!(socket, Some((_, true))), "seed {seed}: a send without an open socket"),
                    rt::Action::CloseSocket => old.extend(socket.take().map(|s| s.0)),
                    rt::Action::Submit { job, .. } => {
                        assert!(jobs.is_empty(), "seed {seed}: two fallback jobs at once");
                        jobs.push(job);
                    }
                    rt::Action::AbortJob(job) => jobs.retain(|j| *j != job),
                    rt::Action::Result((from, _)) => {
                        assert!(socket.is_some_and(|s| s.0 .0 == from) || from == u32::MAX, "seed {seed}: a result of socket {from} while {socket:?} is held");
                    }
                    rt::Action::Status(s) => {
                        assert_ne!(status, Status::Closed, "seed {seed}: status after closed");
                        closed = s == Status::Closed;
                        status = s;
                    }
                    rt::Action::Release => {
                        released += 1;
                        assert_eq!(c.poll_action(), Some(rt::Action::Status(Status::Closed)), "seed {seed}: the key is freed right before anyone is told");
                        assert!(matches!(c.poll_action(), Some(rt::Action::Fatal(_))), "seed {seed}");
                        closed = true;
                    }
                    rt::Action::Fatal(_) => panic!("seed {seed}: Fatal without Release first"),
                    rt::Action::JobFailed(_) | rt::Action::Report(_) => {}
                }
            }
            assert!(released <= 1, "seed {seed}");
            if closed {
                assert!(socket.is_none() && jobs.is_empty(), "seed {seed}: closed, still holding {socket:?} {jobs:?}");
                break;
            }
            now = now + g.ms(250.0);
            n += 1;
            let stale = old.last().copied().unwrap_or(SocketId(0));
            let input = match g.below(20) {
                0..=3 => rt::Input::Send(n),
                4 | 5 if !tokens.is_empty() => {
                    let id = tokens.remove(g.below(tokens.len() as u64) as usize);
                    rt::Input::Token { id, token: if g.chance(0.85) { Ok(format!("t{n}")) } else { Err(g.chance(0.7)) } }
                }
                6 | 7 if socket.is_some_and(|s| !s.1) => {
                    let s = socket.map(|s| s.0).unwrap();
                    if g.chance(0.7) {
                        socket = Some((s, true));
                        rt::Input::Opened { socket: s }
                    } else {
                        socket = None;
                        rt::Input::Closed { socket: s, code: 1006 }
                    }
                }
                8 | 9 if socket.is_some_and(|s| s.1) => {
                    let s = socket.unwrap().0;
                    let frame = match g.below(6) {
                        0 => Frame::Control,
                        1 => Frame::Notice(g.pick(&[Notice::Idle, Notice::Unauthorized])),
                        2 => Frame::Error { code: "INTERNAL_ERROR".into(), reason: "x".into() },
                        _ => Frame::Result((s.0, n)),
                    };
                    rt::Input::Frame { socket: s, frame }
                }
                10 if socket.is_some_and(|s| s.1) => {
                    let s = socket.take().unwrap().0;
                    rt::Input::Closed { socket: s, code: g.pick(&[1000, 1006, 1006, 1006, 1008, 1011]) }
                }
                11 => match g.below(3) {
                    // Events of a socket let go of: dropped inside the machine.
                    0 => rt::Input::Closed { socket: stale, code: 1011 },
                    1 => rt::Input::Opened { socket: stale },
                    _ => rt::Input::Frame { socket: stale, frame: Frame::Result((stale.0, n)) },
                },
                12 if !jobs.is_empty() => {
                    let job = jobs.remove(0);
                    rt::Input::JobDone { job, outcome: if g.chance(0.8) { Ok((u32::MAX, n)) } else { Err((0, 0)) } }
                }
                13 => g.pick(&[rt::Input::Online, rt::Input::Offline, rt::Input::Visible, rt::Input::Reconnect]),
                14 if g.chance(0.1) => rt::Input::Close,
                _ => {
                    if let Some(at) = c.poll_timeout() {
                        now = now.max_with(at);
                    }
                    c.handle_timeout(now);
                    continue;
                }
            };
            if let rt::Input::Reconnect = input {
                old.extend(socket.map(|s| s.0)); // the machine lets it go (its CloseSocket follows)
            }
            c.handle(now, input);
        }
        // However the run went, close ends it once, and nothing follows.
        c.handle(now, rt::Input::Close);
        while c.poll_action().is_some() {}
        c.handle(now, rt::Input::Send(0));
        c.handle_timeout(now + Duration::ms(1e9));
        assert_eq!(c.poll_action(), None, "seed {seed}: nothing after closed");
        assert_eq!(c.poll_timeout(), None, "seed {seed}");
    }
}

/// The clocks as the edge reads them: `performance.now()` never jumps, `Date.now()` may.
struct Clock {
    now: Now,
}

impl Clock {
    fn advance(&mut self, ms: f64) {
        self.now.mono = self.now.mono + Duration::ms(ms);
        self.now.wall = Wall(self.now.wall.0 + ms);
    }
    /// The OS steps the wall clock (NTP, a user, a VM resumed): the monotonic clock doesn't move.
    fn step_wall(&mut self, ms: f64) {
        self.now.wall = Wall(self.now.wall.0 + ms);
    }
}

#[test]
fn a_stepped_wall_clock_moves_no_deadline() {
    const HOUR: f64 = 3_600_000.0;
    for step in [-HOUR, -1_000.0, 0.0, 1_000.0, HOUR] {
        let mut clock = Clock { now: Now { mono: Instant::at(5_000.0), wall: Wall(1.7e12) } };
        // A 429 whose Retry-After is an HTTP date 2 s ahead, read against the wall clock once, when it arrives.
        let mut p = Policy::new(RetryConfig::default(), Some(BreakerConfig { failure_threshold: 1, open: Duration::ms(10_000.0) }), 1);
        let mut m = CallMachine::new(Spec::status(&ep()), clock.now.mono, &mut p);
        while m.poll_action().is_some() {}
        let date = "Tue, 14 Nov 2023 22:13:22 GMT"; // 1_700_000_002_000 ms
        let e = decode_http(429, &|n: &str| (n == "retry-after").then(|| date.to_string()), &Body::Empty, false, None, clock.now.wall.0);
        assert_eq!(e.retry_after_ms, Some(2_000.0));
        let answered = clock.now.mono;
        m.handle(answered, call::Input::Failed(e), &mut p);
        let until = m.poll_timeout().unwrap();
        assert_eq!(until, answered + Duration::ms(2_000.0));
        // The breaker opened on the 429; a subscribe runs with a deadline; a realtime socket waits to reconnect.
        let mut s: Machine<u32, &str> = Machine::new(sub::Config { timeout: Some(Duration::ms(8_000.0)), ..sub::Config::default() }, clock.now.mono);
        let mut c: Connection<u32, u32> = Connection::new(rt::Config::default(), 9);
        c.handle(clock.now.mono, rt::Input::Send(1));
        let Some(rt::Action::FetchToken(id)) = std::iter::from_fn(|| c.poll_action()).find(|a| matches!(a, rt::Action::FetchToken(_))) else { panic!() };
        c.handle(clock.now.mono, rt::Input::Token { id, token: Err(true) });
        let reconnect_at = c.poll_timeout().unwrap();
        let deadlines = [until, s.poll_timeout().unwrap(), reconnect_at];

        clock.step_wall(step);
        // Walk the monotonic clock in 1 ms steps: each deadline fires at its instant, not before, not after.
        let mut fired = [None; 3];
        while fired.iter().any(Option::is_none) {
            clock.advance(1.0);
            let t = clock.now.mono;
            if fired[0].is_none() {
                m.handle_timeout(t, &mut p);
                // The wait ends: the retry goes, or (the 429 opened the breaker) the call ends, nothing sent.
                if std::iter::from_fn(|| m.poll_action()).any(|a| matches!(a, call::Action::Send { .. } | call::Action::Done(_))) {
                    fired[0] = Some(t);
                }
            }
            if fired[1].is_none() {
                s.handle_timeout(t);
                if std::iter::from_fn(|| s.poll_action()).any(|a| matches!(a, sub::Action::Done(_))) {
                    fired[1] = Some(t);
                }
            }
            if fired[2].is_none() {
                c.handle_timeout(t);
                if std::iter::from_fn(|| c.poll_action()).any(|a| matches!(a, rt::Action::Status(Status::Connecting { .. }))) {
                    fired[2] = Some(t);
                }
            }
            assert!(t.as_ms() < 20_000.0, "step {step}: a deadline never fired: {fired:?} of {deadlines:?}");
        }
        for (f, d) in fired.iter().zip(deadlines) {
            let f = f.unwrap();
            assert!(f >= d && f - d < Duration::ms(1.0), "step {step}: fired at {f:?}, due at {d:?}");
        }
        // Times shown to people follow the wall clock as it is now.
        let (breaker, state) = p.breakers().next().map(|(k, s)| (k.clone(), s)).unwrap();
        assert_eq!(breaker, "fal-ai/flux");
        if let crate::proto::breaker::State::Open { until } = state {
            let shown = until.to_wall(clock.now);
            assert_eq!(shown.0, clock.now.wall.0 + (until.as_ms() - clock.now.mono.as_ms()));
        }
        assert_eq!(GiveUp::ALL.len(), 5);
    }
}

#[test]
fn the_upload_machine_keeps_its_invariants() {
    let urls = Value::Obj(vec![("upload_url".into(), Value::Str("https://s/u?sig=1".into())), ("file_url".into(), Value::Str("https://f/x".into()))]);
    for seed in 0..RUNS * 3 {
        let mut g = Gen::new(seed);
        let size = g.pick(&[0, 1, PART_SIZE, 3 * PART_SIZE + 7, 7 * PART_SIZE]);
        let threshold = g.pick(&[0, PART_SIZE, up::DEFAULT_MULTIPART_THRESHOLD]);
        let mut u = Upload::new(size, threshold, "a/b", "f");
        // What the environment owes an answer to: the initiate, the parts out, the completion.
        let (mut initiate, mut puts, mut complete) = (false, Vec::<(usize, u64, u64)>::new(), false);
        let (mut done, mut last_progress, mut stored, mut initiates) = (0, 0.0, 0usize, 0);
        for _ in 0..200 {
            while let Some(a) = u.poll_action() {
                assert_eq!(done, 0, "seed {seed}: {a:?} after Done");
                match a {
                    UploadAction::Initiate { .. } => {
                        initiates += 1;
                        assert!(initiates <= 2, "seed {seed}: initiated {initiates} times");
                        initiate = true;
                    }
                    UploadAction::Put { part, start, end, .. } => {
                        assert!(start <= end && end <= size, "seed {seed}: part {part} {start}..{end} of {size}");
                        puts.push((part, start, end));
                        assert!(puts.len() <= PARALLEL, "seed {seed}: {} parts out", puts.len());
                    }
                    UploadAction::StopParts => puts.clear(),
                    UploadAction::Complete { .. } => {
                        assert!(puts.is_empty(), "seed {seed}: completed with parts out");
                        assert!(u.multipart(), "seed {seed}: a simple upload completes nothing");
                        complete = true;
                    }
                    UploadAction::Progress(p) => {
                        let Value::Obj(fields) = p else { panic!("seed {seed}: progress {p:?}") };
                        let loaded = fields.iter().find_map(|(k, v)| if let (true, Value::Num(n)) = (k == "loaded", v) { Some(*n) } else { None }).unwrap();
                        assert!(loaded >= last_progress && loaded <= size as f64, "seed {seed}: progress {last_progress} -> {loaded} of {size}");
                        last_progress = loaded;
                    }
                    UploadAction::Done(r) => {
                        done += 1;
                        if r.is_ok() {
                            assert_eq!(last_progress, size as f64, "seed {seed}: done before all bytes were reported");
                            assert!(stored > 0, "seed {seed}: done with nothing stored");
                        }
                    }
                }
            }
            if done > 0 {
                break;
            }
            // The environment answers one thing it owes, at random.
            if initiate && g.chance(0.5) {
                initiate = false;
                let input = match g.below(6) {
                    0 => UploadInput::Failed(Some(g.pick(&[400, 403, 404, 405]))),
                    1 => UploadInput::Failed(g.pick(&[None, Some(401), Some(429), Some(503)])),
                    2 => UploadInput::Initiated(Value::Null),
                    _ => UploadInput::Initiated(urls.clone()),
                };
                u.handle(input);
            } else if !puts.is_empty() {
                let i = g.below(puts.len() as u64) as usize;
                let (part, start, end) = puts[i];
                match g.below(10) {
                    0 => {
                        puts.clear();
                        u.handle(UploadInput::Failed(g.pick(&[None, Some(403), Some(500)])));
                    }
                    1..=4 => u.handle(UploadInput::Sent { part, loaded: g.below(end - start + 1) }),
                    _ => {
                        puts.swap_remove(i);
                        stored += 1;
                        u.handle(UploadInput::Stored { part, answer: Value::Null, etag: Some("e".into()) });
                    }
                }
            } else if complete {
                complete = false;
                u.handle(if g.chance(0.8) { UploadInput::Completed } else { UploadInput::Failed(Some(500)) });
            }
        }
        assert_eq!(done, 1, "seed {seed}: the upload never ended");
    }
}
