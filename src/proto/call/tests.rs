use super::*;
use crate::proto::breaker::BreakerConfig;
use crate::proto::error::{decode_http, decode_thrown, Body};
use crate::proto::retry::RetryConfig;

fn t(ms: f64) -> Instant {
    Instant::at(ms)
}
fn ep() -> EndpointId {
    EndpointId::parse("fal-ai/flux/dev").unwrap()
}
fn answer(status: u16, headers: &[(&str, &str)]) -> Input {
    let get = |n: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.to_string());
    Input::Failed(decode_http(status, &get, &Body::Empty, false, None, 0.0))
}
fn network() -> Input {
    Input::Failed(decode_thrown("TypeError", "Failed to fetch"))
}
fn policy() -> Policy {
    Policy::new(RetryConfig { base_delay: Duration::ms(100.0), ..RetryConfig::default() }, Some(BreakerConfig::default()), 42)
}

/// Runs one call to its end: each attempt is answered 10 ms after it is sent with the next of
/// `answers` (then success), each sleep is slept exactly. Returns every action and the end time.
fn drive(spec: Spec, answers: &[Input], p: &mut Policy, start: f64) -> (Vec<Action>, Instant) {
    let mut now = t(start);
    let mut m = CallMachine::new(spec, now, p);
    let mut out = Vec::new();
    let mut answers = answers.iter().cloned();
    while let Some(a) = m.poll_action() {
        out.push(a.clone());
        match a {
            Action::Send { .. } => {
                now = now + Duration::ms(10.0);
                m.handle(now, answers.next().unwrap_or(Input::Succeeded), p);
            }
            Action::Sleep { until } => {
                now = until;
                m.handle_timeout(now, p);
            }
            _ => {}
        }
    }
    (out, now)
}
fn sends(a: &[Action]) -> usize {
    a.iter().filter(|x| matches!(x, Action::Send { .. })).count()
}
fn done(a: &[Action]) -> Result<(), Failure> {
    let ends: Vec<_> = a.iter().filter_map(|x| if let Action::Done(r) = x { Some(r.clone()) } else { None }).collect();
    assert_eq!(ends.len(), 1, "exactly one Done: {a:?}");
    assert!(matches!(a.last(), Some(Action::Done(_))), "nothing after Done");
    ends[0].clone()
}

/// Every kind of request, and what one failing answer followed by success does to it.
#[test]
fn every_kind_of_request_retries_by_its_idempotency() {
    let kinds = [
        (Spec::submit(&ep()), false),
        (Spec::run(&ep()), false),
        (Spec::status(&ep()), true),
        (Spec::result(&ep()), true),
        (Spec::cancel(&ep()), true),
        (Spec::schema(), true),
        (Spec::token(), true),
        (Spec::upload(), true),
    ];
    // (answer, retried when the request is safe, retried when it may have been processed)
    let cases: Vec<(&str, Input, bool, bool)> = vec![
        ("gateway 504", answer(504, &[]), true, false),
        ("gateway 502", answer(502, &[]), true, false),
        ("network failure", network(), true, false),
        ("fal timeout", answer(504, &[("x-fal-error-type", "request_timeout")]), true, false),
        ("429", answer(429, &[]), true, true),
        ("503", answer(503, &[]), true, true),
        ("fal-typed runner error", answer(503, &[("x-fal-error-type", "runner_disconnected")]), true, true),
        ("422", answer(422, &[]), false, false),
        ("server's no", answer(503, &[("x-fal-retryable", "false")]), false, false),
        ("user request timeout", answer(504, &[("x-fal-request-timeout-type", "user")]), false, false),
    ];
    for (spec, safe) in &kinds {
        assert_eq!(spec.idempotency == Idempotency::Safe, *safe, "{spec:?}");
        for (name, input, if_safe, if_unsafe) in &cases {
            let mut p = policy();
            let (a, _) = drive(spec.clone(), std::slice::from_ref(input), &mut p, 0.0);
            let retried = if *safe { *if_safe } else { *if_unsafe };
            assert_eq!(sends(&a), if retried { 2 } else { 1 }, "{:?} after {name}", spec.call);
            match done(&a) {
                Ok(()) => assert!(retried),
                Err(Failure::GaveUp { reason, attempts: 1 }) => {
                    assert!(!retried);
                    let want = if !matches!(input, Input::Failed(e) if e.retryable) { GiveUp::NotRetryable } else { GiveUp::MayHaveEnqueued };
                    assert_eq!(reason, want, "{:?} after {name}", spec.call);
                }
                other => panic!("{other:?}"),
            }
        }
    }
}

#[test]
fn a_run_after_a_504_or_a_lost_answer_is_never_repeated() {
    for input in [answer(504, &[]), network(), answer(502, &[])] {
        let mut p = policy();
        let (a, _) = drive(Spec::run(&ep()), &[input.clone(), input.clone(), input], &mut p, 0.0);
        assert_eq!(sends(&a), 1);
        assert_eq!(done(&a), Err(Failure::GaveUp { reason: GiveUp::MayHaveEnqueued, attempts: 1 }));
    }
}

#[test]
fn events_and_the_one_stats_sample_of_a_retried_call() {
    let mut p = policy();
    let (a, end) = drive(Spec::upload(), &[answer(503, &[("retry-after", "2")]), answer(503, &[("retry-after", "1")])], &mut p, 1_000.0);
    let events: Vec<&Event> = a.iter().filter_map(|x| if let Action::Emit(e) = x { Some(e) } else { None }).collect();
    assert_eq!(
        events,
        vec![
            &Event::Attempt { attempt: 1 },
            &Event::Retry { attempt: 1, delay: Duration::ms(2_000.0), server_named: true },
            &Event::Attempt { attempt: 2 },
            &Event::Retry { attempt: 2, delay: Duration::ms(1_000.0), server_named: true },
            &Event::Attempt { attempt: 3 },
            &Event::Success { attempt: 3, latency: Duration::ms(3_030.0) },
        ]
    );
    // Server-named waits exactly: sends at 1000, 1010 + 2000, 3020 + 1000; answered 10 ms later.
    assert_eq!(end, t(4_030.0));
    let records: Vec<&Sample> = a.iter().filter_map(|x| if let Action::Record(s) = x { Some(s) } else { None }).collect();
    assert_eq!(records, vec![&Sample { at: t(4_030.0), latency: Duration::ms(3_030.0), error: None, retries: 2 }]);
    assert_eq!(p.summary(t(4_030.0)).calls, 0, "the machine says what to record; the edge records it");
}

#[test]
fn the_breaker_opens_across_calls_and_an_open_circuit_sends_nothing() {
    let mut p =
        Policy::new(RetryConfig { max_retries: 0, ..RetryConfig::default() }, Some(BreakerConfig { failure_threshold: 2, open: Duration::ms(1_000.0) }), 1);
    let fail = [answer(503, &[])];
    let (a, _) = drive(Spec::status(&ep()), &fail, &mut p, 0.0);
    assert!(!a.iter().any(|x| matches!(x, Action::Emit(Event::Breaker(_)))));
    let (a, _) = drive(Spec::status(&ep()), &fail, &mut p, 10.0);
    let opened = Transition { key: "fal-ai/flux".into(), from: "closed", to: "open", reopens_at: Some(t(1_020.0)) };
    assert!(a.contains(&Action::Emit(Event::Breaker(opened))), "{a:?}");
    // Another request kind to the same endpoint is refused at once; another service is not.
    let (a, _) = drive(Spec::submit(&ep()), &[], &mut p, 500.0);
    assert_eq!(sends(&a), 0);
    assert_eq!(done(&a), Err(Failure::CircuitOpen { reopens_at: t(1_020.0) }));
    assert!(a.iter().any(|x| matches!(x, Action::Record(s) if s.error.as_deref() == Some("circuit_open"))));
    let (a, _) = drive(Spec::upload(), &[], &mut p, 500.0);
    assert_eq!(done(&a), Ok(()));
    // After the window one trial goes; its success closes the circuit.
    let (a, _) = drive(Spec::result(&ep()), &[], &mut p, 1_020.0);
    assert_eq!(done(&a), Ok(()));
    let names: Vec<(&str, &str)> = a.iter().filter_map(|x| if let Action::Emit(Event::Breaker(t)) = x { Some((t.from, t.to)) } else { None }).collect();
    assert_eq!(names, vec![("open", "half_open"), ("half_open", "closed")]);
    assert_eq!(p.breakers().count(), 0);
}

#[test]
fn bad_input_does_not_count_against_the_service() {
    let mut p = Policy::new(RetryConfig::default(), Some(BreakerConfig { failure_threshold: 1, open: Duration::ms(1_000.0) }), 1);
    for i in 0..5 {
        let (a, _) = drive(Spec::submit(&ep()), &[answer(422, &[])], &mut p, f64::from(i));
        assert_eq!(sends(&a), 1);
    }
    assert_eq!(p.breakers().count(), 0);
}

#[test]
fn aborts_end_the_call_without_a_sample() {
    let mut p = policy();
    let mut m = CallMachine::new(Spec::status(&ep()), t(0.0), &mut p);
    while m.poll_action().is_some() {}
    m.handle(t(5.0), answer(503, &[]), &mut p);
    let a: Vec<_> = std::iter::from_fn(|| m.poll_action()).collect();
    let Some(Action::Sleep { until }) = a.last().cloned() else { panic!("{a:?}") };
    // Woken early (a timer rounding down): it only says to sleep on.
    m.handle_timeout(t(until.as_ms() - 0.5), &mut p);
    assert_eq!(m.poll_action(), Some(Action::Sleep { until }));
    m.handle(t(6.0), Input::Aborted, &mut p);
    assert_eq!(m.poll_action(), Some(Action::Done(Err(Failure::Aborted))));
    assert_eq!(m.poll_action(), None);
    m.handle_timeout(until, &mut p);
    m.handle(until, Input::Succeeded, &mut p);
    assert_eq!(m.poll_action(), None, "nothing after Done");
    // An attempt that the abort cut (the fetch rejected with AbortError) frees a trial slot.
    let mut m = CallMachine::new(Spec::status(&ep()), t(0.0), &mut p);
    while m.poll_action().is_some() {}
    m.handle(t(1.0), Input::Failed(decode_thrown("AbortError", "aborted")), &mut p);
    assert_eq!(std::iter::from_fn(|| m.poll_action()).collect::<Vec<_>>(), vec![Action::Done(Err(Failure::Aborted))]);
}

#[test]
fn attempts_and_budget_bound_the_retries() {
    let mut p = Policy::new(RetryConfig { max_retries: 2, base_delay: Duration::ms(1.0), ..RetryConfig::default() }, None, 3);
    let (a, _) = drive(Spec::status(&ep()), &[answer(503, &[]), answer(503, &[]), answer(503, &[]), answer(503, &[])], &mut p, 0.0);
    assert_eq!(done(&a), Err(Failure::GaveUp { reason: GiveUp::Attempts, attempts: 3 }));
    let mut p = Policy::new(RetryConfig { budget_capacity: 1.0, base_delay: Duration::ms(1.0), ..RetryConfig::default() }, None, 3);
    let (a, _) = drive(Spec::status(&ep()), &[answer(503, &[]), answer(503, &[])], &mut p, 0.0);
    assert_eq!(done(&a), Err(Failure::GaveUp { reason: GiveUp::Budget, attempts: 2 }));
}
