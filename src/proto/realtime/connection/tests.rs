use super::*;

type C = Connection<u32>;

fn cfg() -> Config {
    Config {
        throttle_ms: 100.0,
        reconnect: ReconnectConfig { base_ms: 100.0, max_ms: 1_000.0, min_uptime_ms: 5_000.0, max_attempts: None },
        token_ttl_ms: 10_000.0,
        fallback_after: 3,
        fallback_retry_ms: 2_000.0,
        buffer: 1,
    }
}
fn drain(c: &mut C) -> Vec<Action<u32>> {
    std::iter::from_fn(|| c.poll_action()).collect()
}
fn sends(a: &[Action<u32>]) -> Vec<u32> {
    a.iter().filter_map(|x| if let Action::Send(v) = x { Some(*v) } else { None }).collect()
}
/// A connection that is open at `now`, having used token "t1".
fn open(now: f64) -> C {
    let mut c = C::new(cfg(), 7);
    c.handle(now, Input::Send(1));
    assert_eq!(drain(&mut c), vec![Action::Status(Status::Connecting { attempt: 1 }), Action::FetchToken]);
    c.handle(now, Input::TokenReady { token: "t1".into() });
    assert_eq!(drain(&mut c), vec![Action::Open { token: "t1".into() }]);
    c.handle(now, Input::Opened);
    assert_eq!(drain(&mut c), vec![Action::Status(Status::Open), Action::Send(1)]);
    c
}

#[test]
fn the_first_send_connects_and_is_delivered_once_open() {
    let c = open(0.0);
    assert_eq!(c.status(), &Status::Open);
}

#[test]
fn sends_are_throttled_newest_wins() {
    let mut c = open(0.0);
    c.handle(10.0, Input::Send(2));
    c.handle(20.0, Input::Send(3));
    assert!(drain(&mut c).is_empty());
    assert_eq!(c.poll_timeout(), Some(100.0));
    c.handle_timeout(100.0);
    assert_eq!(drain(&mut c), vec![Action::Send(3)]);
}

#[test]
fn an_unexpected_drop_reconnects_on_schedule_and_resends_the_newest_input() {
    let mut c = open(0.0);
    c.handle(1_000.0, Input::Closed { code: 1006 });
    let a = drain(&mut c);
    let Some(Action::Status(Status::Reconnecting { attempt: 1, delay_ms })) = a.first().cloned() else { panic!("{a:?}") };
    assert!((50.0..=100.0).contains(&delay_ms), "{delay_ms}");
    // Inputs while away: 5 is buffered, 6 waits in the throttle.
    c.handle(1_010.0, Input::Send(5));
    c.handle(1_020.0, Input::Send(6));
    assert!(sends(&drain(&mut c)).is_empty());
    let at = c.poll_timeout().unwrap();
    assert!((1_050.0..=1_100.0).contains(&at), "{at}");
    c.handle_timeout(at);
    // The token is still good: no new fetch.
    assert_eq!(drain(&mut c), vec![Action::Status(Status::Connecting { attempt: 2 }), Action::Open { token: "t1".into() }]);
    c.handle(at + 1.0, Input::Opened);
    assert_eq!(sends(&drain(&mut c)), vec![5]);
    c.handle_timeout(1_110.0);
    assert_eq!(sends(&drain(&mut c)), vec![6], "the newest goes last, nothing stale after it");
}

#[test]
fn a_flapping_server_keeps_backing_off() {
    let mut c = open(0.0);
    let mut now = 0.0;
    let mut delays = Vec::new();
    for _ in 0..6 {
        now += 500.0; // open half a second, then dropped: below min uptime
        c.handle(now, Input::Closed { code: 1006 });
        if let Some(Action::Status(Status::Reconnecting { delay_ms, .. })) = drain(&mut c).first() {
            delays.push(*delay_ms);
        }
        now = c.poll_timeout().unwrap();
        c.handle_timeout(now);
        c.handle(now, Input::Opened);
        drain(&mut c);
    }
    for (i, d) in delays.iter().enumerate() {
        let step = (100.0 * 2f64.powi(i as i32)).min(1_000.0);
        assert!(*d >= step / 2.0 && *d <= step, "attempt {}: {d} not in [{}, {step}]", i + 1, step / 2.0);
    }
}

#[test]
fn idle_close_is_quiet_and_the_next_send_reopens() {
    let mut c = open(0.0);
    c.handle(8_000.0, Input::IdleNotice);
    c.handle(8_000.0, Input::Closed { code: 1000 });
    assert_eq!(drain(&mut c), vec![Action::Status(Status::Idle)]);
    assert_eq!(c.poll_timeout(), None, "no reconnect scheduled");
    c.handle(20_000.0, Input::Send(9));
    assert_eq!(drain(&mut c), vec![Action::Status(Status::Connecting { attempt: 1 }), Action::FetchToken], "the token aged past its refresh point");
}

#[test]
fn fatal_closes_stop() {
    for code in [1008u16, 1011] {
        let mut c = open(0.0);
        c.handle(10.0, Input::Closed { code });
        assert_eq!(drain(&mut c), vec![Action::Status(Status::Closed), Action::Fatal(Fatal::Closed { code })]);
        c.handle(20.0, Input::Send(3));
        assert!(drain(&mut c).is_empty());
    }
}

#[test]
fn unauthorized_with_an_old_token_fetches_a_new_one_but_twice_is_fatal() {
    let mut c = open(0.0);
    c.handle(6_000.0, Input::Closed { code: 1006 });
    drain(&mut c);
    let at = c.poll_timeout().unwrap();
    c.handle_timeout(at);
    assert_eq!(drain(&mut c).last(), Some(&Action::Open { token: "t1".into() }), "reuses the cached token");
    c.handle(at, Input::Unauthorized);
    c.handle(at, Input::Closed { code: 1008 });
    assert_eq!(drain(&mut c), vec![Action::FetchToken], "a fresh token at once, not a fatal 1008");
    c.handle(at + 5.0, Input::TokenReady { token: "t2".into() });
    assert_eq!(drain(&mut c), vec![Action::Open { token: "t2".into() }]);
    c.handle(at + 10.0, Input::Unauthorized);
    c.handle(at + 10.0, Input::Closed { code: 1008 });
    assert_eq!(drain(&mut c), vec![Action::Status(Status::Closed), Action::Fatal(Fatal::Unauthorized)]);
}

#[test]
fn the_token_is_refreshed_before_expiry_without_touching_the_socket() {
    let mut c = open(0.0);
    assert_eq!(c.poll_timeout(), Some(9_000.0), "90% of the 10 s lifetime");
    c.handle_timeout(9_000.0);
    assert_eq!(drain(&mut c), vec![Action::FetchToken]);
    c.handle(9_010.0, Input::TokenReady { token: "t2".into() });
    assert!(drain(&mut c).is_empty(), "no reconnect");
    c.handle(9_500.0, Input::Closed { code: 1006 });
    drain(&mut c);
    let at = c.poll_timeout().unwrap();
    c.handle_timeout(at);
    assert_eq!(drain(&mut c).last(), Some(&Action::Open { token: "t2".into() }));
}

#[test]
fn repeated_failures_before_opening_fall_back_to_polling_and_the_socket_is_tried_later() {
    let mut c = C::new(cfg(), 3);
    c.handle(0.0, Input::Send(1));
    c.handle(0.0, Input::TokenReady { token: "t".into() });
    drain(&mut c);
    let mut now = 0.0;
    for _ in 0..2 {
        c.handle(now, Input::Closed { code: 1006 }); // refused before opening
        drain(&mut c);
        now = c.poll_timeout().unwrap();
        c.handle_timeout(now);
        drain(&mut c);
    }
    c.handle(now, Input::Closed { code: 1006 });
    assert_eq!(drain(&mut c), vec![Action::Status(Status::Fallback), Action::Submit(1)]);
    // One submission in flight; the newest waits, older ones are dropped.
    c.handle(now + 200.0, Input::Send(2));
    c.handle(now + 400.0, Input::Send(3));
    c.handle_timeout(now + 500.0);
    c.handle(now + 600.0, Input::Send(4));
    c.handle_timeout(now + 700.0);
    assert!(drain(&mut c).iter().all(|a| !matches!(a, Action::Submit(_))));
    c.handle(now + 800.0, Input::FallbackDone);
    assert_eq!(drain(&mut c), vec![Action::Submit(4)]);
    // Later the socket is tried again in the background, and takes over once open.
    let retry = c.poll_timeout().unwrap();
    assert_eq!(retry, now + 2_000.0);
    c.handle_timeout(retry);
    assert_eq!(drain(&mut c), vec![Action::Open { token: "t".into() }]);
    c.handle(retry + 10.0, Input::Opened);
    assert_eq!(drain(&mut c), vec![Action::Status(Status::Open)]);
    c.handle(retry + 500.0, Input::Send(5));
    assert_eq!(drain(&mut c), vec![Action::Send(5)]);
}

#[test]
fn offline_waits_for_online_and_visible_cuts_a_wait_short() {
    let mut c = open(0.0);
    c.handle(100.0, Input::Offline);
    c.handle(100.0, Input::Closed { code: 1006 });
    assert_eq!(drain(&mut c), vec![Action::Status(Status::Offline)]);
    assert_eq!(c.poll_timeout(), None, "nothing scheduled while offline: no reconnect attempts burn");
    c.handle(5_000.0, Input::Online);
    assert_eq!(drain(&mut c), vec![Action::Status(Status::Connecting { attempt: 1 }), Action::Open { token: "t1".into() }]);
    c.handle(5_010.0, Input::Opened);
    c.handle(5_100.0, Input::Closed { code: 1006 });
    drain(&mut c);
    c.handle(5_101.0, Input::Visible);
    assert_eq!(drain(&mut c).last(), Some(&Action::Open { token: "t1".into() }), "the page came back: at once");
}

#[test]
fn manual_reconnect_and_close() {
    let mut c = open(0.0);
    c.handle(10.0, Input::Reconnect);
    assert_eq!(drain(&mut c), vec![Action::CloseSocket, Action::Status(Status::Connecting { attempt: 1 }), Action::Open { token: "t1".into() }]);
    c.handle(20.0, Input::Close);
    assert_eq!(drain(&mut c), vec![Action::CloseSocket, Action::Status(Status::Closed)]);
    c.handle(30.0, Input::Send(1));
    c.handle(30.0, Input::Closed { code: 1006 });
    assert!(drain(&mut c).is_empty());
    assert_eq!(c.poll_timeout(), None, "nothing left scheduled after close");
}

#[test]
fn a_token_that_cannot_be_had() {
    let mut c = C::new(cfg(), 1);
    c.handle(0.0, Input::Send(1));
    drain(&mut c);
    c.handle(5.0, Input::TokenFailed { retryable: true });
    assert!(matches!(drain(&mut c).first(), Some(Action::Status(Status::Reconnecting { attempt: 1, .. }))));
    let mut c = C::new(cfg(), 1);
    c.handle(0.0, Input::Send(1));
    drain(&mut c);
    c.handle(5.0, Input::TokenFailed { retryable: false });
    assert_eq!(drain(&mut c), vec![Action::Status(Status::Closed), Action::Fatal(Fatal::Token)]);
}
