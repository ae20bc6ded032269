use super::*;

type C = Connection<u32, &'static str>;
type A = Action<u32, &'static str>;

fn cfg() -> Config {
    Config {
        throttle: Duration::ms(100.0),
        reconnect: ReconnectConfig { base: Duration::ms(100.0), max: Duration::ms(1_000.0), min_uptime: Duration::ms(5_000.0), max_attempts: None },
        token_ttl: Duration::ms(10_000.0),
        fallback_after: 3,
        fallback_retry: Duration::ms(2_000.0),
        buffer: 1,
    }
}
fn t(ms: f64) -> Instant {
    Instant::at(ms)
}
fn drain(c: &mut C) -> Vec<A> {
    std::iter::from_fn(|| c.poll_action()).collect()
}
fn sends(a: &[A]) -> Vec<u32> {
    a.iter().filter_map(|x| if let Action::Send(v) = x { Some(*v) } else { None }).collect()
}
/// The socket and token ids the last actions asked for.
fn opened_socket(a: &[A]) -> SocketId {
    a.iter().rev().find_map(|x| if let Action::Open { socket, .. } = x { Some(*socket) } else { None }).expect("an Open")
}
fn token_id(a: &[A]) -> TokenId {
    a.iter().rev().find_map(|x| if let Action::FetchToken(id) = x { Some(*id) } else { None }).expect("a FetchToken")
}
fn opens_with(a: &[A]) -> Option<&str> {
    a.iter().rev().find_map(|x| if let Action::Open { token, .. } = x { Some(token.as_str()) } else { None })
}
/// A connection that is open at `now`, having used token "t1"; returns its socket.
fn open(now: f64) -> (C, SocketId) {
    let mut c = C::new(cfg(), 7);
    c.handle(t(now), Input::Send(1));
    let a = drain(&mut c);
    assert_eq!(a[0], Action::Status(Status::Connecting { attempt: 1 }));
    c.handle(t(now), Input::Token { id: token_id(&a), token: Ok("t1".into()) });
    let a = drain(&mut c);
    assert_eq!(opens_with(&a), Some("t1"));
    let s = opened_socket(&a);
    c.handle(t(now), Input::Opened { socket: s });
    assert_eq!(drain(&mut c), vec![Action::Status(Status::Open), Action::Send(1)]);
    (c, s)
}
/// Lets a reconnect wait run out and the socket open again with the cached token.
fn reopen(c: &mut C) -> SocketId {
    let at = c.poll_timeout().unwrap();
    c.handle_timeout(at);
    let a = drain(c);
    let s = opened_socket(&a);
    c.handle(at, Input::Opened { socket: s });
    drain(c);
    s
}

#[test]
fn the_first_send_connects_and_is_delivered_once_open() {
    let (c, _) = open(0.0);
    assert_eq!(c.status(), &Status::Open);
}

#[test]
fn sends_are_throttled_newest_wins() {
    let (mut c, _) = open(0.0);
    c.handle(t(10.0), Input::Send(2));
    c.handle(t(20.0), Input::Send(3));
    assert!(drain(&mut c).is_empty());
    assert_eq!(c.poll_timeout(), Some(t(100.0)));
    c.handle_timeout(t(100.0));
    assert_eq!(drain(&mut c), vec![Action::Send(3)]);
}

#[test]
fn results_and_frames_of_the_open_socket_only() {
    let (mut c, s) = open(0.0);
    c.handle(t(10.0), Input::Frame { socket: s, frame: Frame::Result("r1") });
    c.handle(t(11.0), Input::Frame { socket: s, frame: Frame::Control });
    c.handle(t(12.0), Input::Frame { socket: s, frame: Frame::Error { code: "BAD_INPUT".into(), reason: "x".into() } });
    assert_eq!(drain(&mut c), vec![Action::Result("r1"), Action::Report(Problem::Server { code: "BAD_INPUT".into(), reason: "x".into() })]);
    // The socket drops and a new one opens: the old one's late events change nothing.
    c.handle(t(20.0), Input::Closed { socket: s, code: 1006 });
    drain(&mut c);
    let s2 = reopen(&mut c);
    assert_ne!(s, s2);
    c.handle(t(500.0), Input::Frame { socket: s, frame: Frame::Result("late") });
    c.handle(t(500.0), Input::Closed { socket: s, code: 1011 });
    c.handle(t(500.0), Input::Opened { socket: s });
    assert!(drain(&mut c).is_empty());
    assert_eq!(c.status(), &Status::Open);
    c.handle(t(510.0), Input::Frame { socket: s2, frame: Frame::Result("r2") });
    assert_eq!(drain(&mut c), vec![Action::Result("r2")]);
}

#[test]
fn an_unexpected_drop_reconnects_on_schedule_and_resends_the_newest_input() {
    let (mut c, s) = open(0.0);
    c.handle(t(1_000.0), Input::Closed { socket: s, code: 1006 });
    let a = drain(&mut c);
    let Some(Action::Status(Status::Reconnecting { attempt: 1, delay })) = a.first().cloned() else { panic!("{a:?}") };
    assert!((50.0..=100.0).contains(&delay.as_ms()), "{delay:?}");
    // Inputs while away: 5 is buffered, 6 waits in the throttle.
    c.handle(t(1_010.0), Input::Send(5));
    c.handle(t(1_020.0), Input::Send(6));
    assert!(sends(&drain(&mut c)).is_empty());
    let at = c.poll_timeout().unwrap();
    assert!((1_050.0..=1_100.0).contains(&at.as_ms()), "{at:?}");
    c.handle_timeout(at);
    // The token is still good: no new fetch.
    let a = drain(&mut c);
    assert_eq!(a[0], Action::Status(Status::Connecting { attempt: 2 }));
    assert_eq!((a.len(), opens_with(&a)), (2, Some("t1")));
    c.handle(at + Duration::ms(1.0), Input::Opened { socket: opened_socket(&a) });
    assert_eq!(sends(&drain(&mut c)), vec![5]);
    c.handle_timeout(t(1_110.0));
    assert_eq!(sends(&drain(&mut c)), vec![6], "the newest goes last, nothing stale after it");
}

#[test]
fn a_flapping_server_keeps_backing_off() {
    let (mut c, mut s) = open(0.0);
    let mut now = t(0.0);
    let mut delays = Vec::new();
    for _ in 0..6 {
        now = now + Duration::ms(500.0); // open half a second, then dropped: below min uptime
        c.handle(now, Input::Closed { socket: s, code: 1006 });
        if let Some(Action::Status(Status::Reconnecting { delay, .. })) = drain(&mut c).first() {
            delays.push(delay.as_ms());
        }
        now = c.poll_timeout().unwrap();
        s = reopen(&mut c);
    }
    for (i, d) in delays.iter().enumerate() {
        let step = (100.0 * 2f64.powi(i as i32)).min(1_000.0);
        assert!(*d >= step / 2.0 && *d <= step, "attempt {}: {d} not in [{}, {step}]", i + 1, step / 2.0);
    }
}

#[test]
fn idle_close_is_quiet_and_the_next_send_reopens() {
    let (mut c, s) = open(0.0);
    c.handle(t(8_000.0), Input::Frame { socket: s, frame: Frame::Notice(Notice::Idle) });
    c.handle(t(8_000.0), Input::Closed { socket: s, code: 1000 });
    assert_eq!(drain(&mut c), vec![Action::Status(Status::Idle)]);
    assert_eq!(c.poll_timeout(), None, "no reconnect scheduled");
    c.handle(t(20_000.0), Input::Send(9));
    let a = drain(&mut c);
    assert_eq!(a[0], Action::Status(Status::Connecting { attempt: 1 }));
    assert!(matches!(a[1], Action::FetchToken(_)), "the token aged past its refresh point: {a:?}");
}

#[test]
fn fatal_closes_free_the_key_before_anyone_is_told_and_stop() {
    for code in [1008u16, 1011] {
        let (mut c, s) = open(0.0);
        c.handle(t(10.0), Input::Closed { socket: s, code });
        assert_eq!(drain(&mut c), vec![Action::Release, Action::Status(Status::Closed), Action::Fatal(Fatal::Closed { code })]);
        c.handle(t(20.0), Input::Send(3));
        c.handle(t(20.0), Input::Reconnect);
        assert!(drain(&mut c).is_empty(), "nothing after closed");
        assert_eq!(c.poll_timeout(), None);
    }
}

#[test]
fn unauthorized_with_an_old_token_fetches_a_new_one_but_twice_is_fatal() {
    let (mut c, s) = open(0.0);
    c.handle(t(6_000.0), Input::Closed { socket: s, code: 1006 });
    drain(&mut c);
    let at = c.poll_timeout().unwrap();
    c.handle_timeout(at);
    let a = drain(&mut c);
    assert_eq!(opens_with(&a), Some("t1"), "reuses the cached token");
    let s = opened_socket(&a);
    c.handle(at, Input::Opened { socket: s });
    c.handle(at, Input::Frame { socket: s, frame: Frame::Notice(Notice::Unauthorized) });
    c.handle(at, Input::Closed { socket: s, code: 1008 });
    let a = drain(&mut c);
    assert_eq!(a[..2], [Action::Status(Status::Open), Action::Status(Status::Connecting { attempt: 2 })]);
    assert!(matches!(a[2], Action::FetchToken(_)), "a fresh token at once, not a fatal 1008: {a:?}");
    c.handle(at + Duration::ms(5.0), Input::Token { id: token_id(&a), token: Ok("t2".into()) });
    let a = drain(&mut c);
    assert_eq!(opens_with(&a), Some("t2"));
    let s = opened_socket(&a);
    c.handle(at + Duration::ms(10.0), Input::Opened { socket: s });
    c.handle(at + Duration::ms(10.0), Input::Frame { socket: s, frame: Frame::Notice(Notice::Unauthorized) });
    c.handle(at + Duration::ms(10.0), Input::Closed { socket: s, code: 1008 });
    assert_eq!(drain(&mut c), vec![Action::Status(Status::Open), Action::Release, Action::Status(Status::Closed), Action::Fatal(Fatal::Unauthorized)]);
}

#[test]
fn the_token_is_refreshed_before_expiry_without_touching_the_socket() {
    let (mut c, s) = open(0.0);
    assert_eq!(c.poll_timeout(), Some(t(9_000.0)), "90% of the 10 s lifetime");
    c.handle_timeout(t(9_000.0));
    let a = drain(&mut c);
    assert!(matches!(a[..], [Action::FetchToken(_)]), "{a:?}");
    assert_eq!(c.poll_timeout(), None, "one refresh at a time");
    c.handle(t(9_010.0), Input::Token { id: token_id(&a), token: Ok("t2".into()) });
    assert!(drain(&mut c).is_empty(), "no reconnect");
    c.handle(t(9_500.0), Input::Closed { socket: s, code: 1006 });
    drain(&mut c);
    let at = c.poll_timeout().unwrap();
    c.handle_timeout(at);
    assert_eq!(opens_with(&drain(&mut c)), Some("t2"));
}

#[test]
fn a_stale_token_answer_opens_nothing() {
    let mut c = C::new(cfg(), 1);
    c.handle(t(0.0), Input::Send(1));
    let first = token_id(&drain(&mut c));
    c.handle(t(1.0), Input::Reconnect); // a new attempt, with its own token fetch
    let second = token_id(&drain(&mut c));
    assert_ne!(first, second);
    c.handle(t(2.0), Input::Token { id: first, token: Err(false) });
    assert!(drain(&mut c).is_empty(), "an abandoned fetch's failure is not fatal");
    c.handle(t(3.0), Input::Token { id: second, token: Ok("t".into()) });
    assert_eq!(opens_with(&drain(&mut c)), Some("t"));
}

/// Three refused opens in a row: the fallback, returning its socket-less connection and the time.
fn in_fallback() -> (C, Instant) {
    let mut c = C::new(cfg(), 3);
    c.handle(t(0.0), Input::Send(1));
    let a = drain(&mut c);
    c.handle(t(0.0), Input::Token { id: token_id(&a), token: Ok("t".into()) });
    let mut s = opened_socket(&drain(&mut c));
    let mut now = t(0.0);
    for _ in 0..2 {
        c.handle(now, Input::Closed { socket: s, code: 1006 }); // refused before opening
        drain(&mut c);
        now = c.poll_timeout().unwrap();
        c.handle_timeout(now);
        s = opened_socket(&drain(&mut c));
    }
    c.handle(now, Input::Closed { socket: s, code: 1006 });
    assert_eq!(drain(&mut c), vec![Action::Status(Status::Fallback), Action::Submit { job: JobId(7), input: 1 }]);
    (c, now)
}

#[test]
fn repeated_failures_before_opening_fall_back_to_polling_and_the_socket_is_tried_later() {
    let (mut c, now) = in_fallback();
    // One submission in flight; the newest waits, older ones are dropped.
    c.handle(now + Duration::ms(200.0), Input::Send(2));
    c.handle(now + Duration::ms(400.0), Input::Send(3));
    c.handle_timeout(now + Duration::ms(500.0));
    c.handle(now + Duration::ms(600.0), Input::Send(4));
    c.handle_timeout(now + Duration::ms(700.0));
    assert!(drain(&mut c).iter().all(|a| !matches!(a, Action::Submit { .. })));
    c.handle(now + Duration::ms(800.0), Input::JobDone { job: JobId(7), outcome: Ok("r1") });
    assert_eq!(drain(&mut c), vec![Action::Result("r1"), Action::Submit { job: JobId(8), input: 4 }]);
    // Later the socket is tried again in the background, and takes over once open.
    let retry = c.poll_timeout().unwrap();
    assert_eq!(retry, now + Duration::ms(2_000.0));
    c.handle_timeout(retry);
    let a = drain(&mut c);
    assert_eq!((a.len(), opens_with(&a)), (1, Some("t")));
    c.handle(retry + Duration::ms(10.0), Input::Opened { socket: opened_socket(&a) });
    assert_eq!(drain(&mut c), vec![Action::Status(Status::Open)]);
    c.handle(retry + Duration::ms(500.0), Input::Send(5));
    assert_eq!(drain(&mut c), vec![Action::Send(5)]);
    // The job still in flight is delivered when it ends.
    c.handle(retry + Duration::ms(600.0), Input::JobDone { job: JobId(8), outcome: Err("e") });
    assert_eq!(drain(&mut c), vec![Action::JobFailed("e")]);
}

#[test]
fn closing_in_fallback_cancels_the_job_and_drops_its_late_answer() {
    let (mut c, now) = in_fallback();
    c.handle(now + Duration::ms(50.0), Input::Close);
    assert_eq!(drain(&mut c), vec![Action::AbortJob(JobId(7)), Action::Status(Status::Closed)]);
    c.handle(now + Duration::ms(60.0), Input::JobDone { job: JobId(7), outcome: Ok("late") });
    assert!(drain(&mut c).is_empty());
    assert_eq!(c.poll_timeout(), None, "no socket retry after close");
}

#[test]
fn offline_waits_for_online_and_visible_cuts_a_wait_short() {
    let (mut c, s) = open(0.0);
    c.handle(t(100.0), Input::Offline);
    c.handle(t(100.0), Input::Closed { socket: s, code: 1006 });
    assert_eq!(drain(&mut c), vec![Action::Status(Status::Offline)]);
    assert_eq!(c.poll_timeout(), None, "nothing scheduled while offline: no reconnect attempts burn");
    c.handle(t(5_000.0), Input::Online);
    let a = drain(&mut c);
    assert_eq!(a[0], Action::Status(Status::Connecting { attempt: 1 }));
    assert_eq!(opens_with(&a), Some("t1"));
    let s = opened_socket(&a);
    c.handle(t(5_010.0), Input::Opened { socket: s });
    c.handle(t(5_100.0), Input::Closed { socket: s, code: 1006 });
    drain(&mut c);
    c.handle(t(5_101.0), Input::Visible);
    assert_eq!(opens_with(&drain(&mut c)), Some("t1"), "the page came back: at once");
}

#[test]
fn manual_reconnect_and_close() {
    let (mut c, _) = open(0.0);
    c.handle(t(10.0), Input::Reconnect);
    let a = drain(&mut c);
    assert_eq!(a[..2], [Action::CloseSocket, Action::Status(Status::Connecting { attempt: 1 })]);
    assert_eq!(opens_with(&a), Some("t1"));
    c.handle(t(20.0), Input::Close);
    assert_eq!(drain(&mut c), vec![Action::CloseSocket, Action::Status(Status::Closed)]);
    c.handle(t(30.0), Input::Send(1));
    c.handle(t(30.0), Input::Closed { socket: opened_socket(&a), code: 1006 });
    assert!(drain(&mut c).is_empty());
    assert_eq!(c.poll_timeout(), None, "nothing left scheduled after close");
}

#[test]
fn a_token_that_cannot_be_had() {
    let mut c = C::new(cfg(), 1);
    c.handle(t(0.0), Input::Send(1));
    let id = token_id(&drain(&mut c));
    c.handle(t(5.0), Input::Token { id, token: Err(true) });
    assert!(matches!(drain(&mut c).first(), Some(Action::Status(Status::Reconnecting { attempt: 1, .. }))));
    let mut c = C::new(cfg(), 1);
    c.handle(t(0.0), Input::Send(1));
    let id = token_id(&drain(&mut c));
    c.handle(t(5.0), Input::Token { id, token: Err(false) });
    assert_eq!(drain(&mut c), vec![Action::Release, Action::Status(Status::Closed), Action::Fatal(Fatal::Token)]);
}
