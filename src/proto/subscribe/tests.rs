use super::*;

type M = Machine<&'static str, &'static str>;

fn st(phase: Phase, pos: Option<u64>, logs: usize) -> Status {
    Status { phase, queue_position: pos, logs, request_id: None }
}
fn rid() -> RequestId {
    RequestId::parse("req-1").unwrap()
}
fn cfg(mode: Mode) -> Config {
    Config { mode, poll_interval_ms: 500.0, stall_ms: 3_000.0, timeout_ms: None }
}
fn drain(m: &mut M) -> Vec<Action<&'static str, &'static str>> {
    std::iter::from_fn(|| m.poll_action()).collect()
}
fn emits(actions: &[Action<&'static str, &'static str>]) -> Vec<(Phase, &'static str)> {
    actions.iter().filter_map(|a| if let Action::Emit { phase, raw } = a { Some((*phase, *raw)) } else { None }).collect()
}
fn submitted(m: &mut M, now: f64) -> Vec<Action<&'static str, &'static str>> {
    assert_eq!(drain(m), vec![Action::Submit]);
    m.handle(now, Input::Submitted { request_id: rid(), status: st(Phase::InQueue, Some(2), 0), raw: "q2" });
    drain(m)
}

#[test]
fn streaming_happy_path_emits_each_change_once_then_fetches_result() {
    let mut m = M::new(cfg(Mode::Streaming), 0.0);
    assert_eq!(submitted(&mut m, 10.0), vec![Action::Emit { phase: Phase::InQueue, raw: "q2" }, Action::OpenStream(rid())]);
    m.handle(20.0, Input::StreamStatus(st(Phase::InQueue, Some(2), 0), "q2-again"));
    m.handle(30.0, Input::StreamStatus(st(Phase::InQueue, Some(1), 0), "q1"));
    m.handle(40.0, Input::StreamStatus(st(Phase::InProgress, None, 0), "p0"));
    m.handle(50.0, Input::StreamStatus(st(Phase::InProgress, None, 2), "p2"));
    m.handle(55.0, Input::StreamStatus(st(Phase::InProgress, None, 2), "p2-again"));
    m.handle(60.0, Input::StreamStatus(st(Phase::Completed, None, 3), "done"));
    let a = drain(&mut m);
    assert_eq!(emits(&a), vec![(Phase::InQueue, "q1"), (Phase::InProgress, "p0"), (Phase::InProgress, "p2"), (Phase::Completed, "done")]);
    assert_eq!(&a[a.len() - 2..], &[Action::CloseStream, Action::FetchResult(rid())]);
    m.handle(70.0, Input::ResultFetched("output"));
    assert_eq!(drain(&mut m), vec![Action::Done(Ok("output"))]);
    assert!(m.is_done());
    assert_eq!(m.poll_timeout(), None);
    assert!(!m.fell_back());
}

#[test]
fn a_broken_stream_falls_back_to_polling_without_repeating_updates() {
    let mut m = M::new(cfg(Mode::Streaming), 0.0);
    submitted(&mut m, 0.0);
    m.handle(100.0, Input::StreamStatus(st(Phase::InProgress, None, 1), "p1"));
    drain(&mut m);
    m.handle(200.0, Input::StreamBroken);
    assert_eq!(drain(&mut m), vec![Action::CloseStream, Action::Poll(rid())]);
    assert!(m.fell_back());
    // The first poll repeats what the stream already said: not news.
    m.handle(250.0, Input::PollStatus(st(Phase::InProgress, None, 1), "p1-polled"));
    assert!(emits(&drain(&mut m)).is_empty());
    assert_eq!(m.poll_timeout(), Some(750.0));
    m.handle_timeout(750.0);
    assert_eq!(drain(&mut m), vec![Action::Poll(rid())]);
    // A stream event that was already queued before the fallback is ignored.
    m.handle(760.0, Input::StreamStatus(st(Phase::Completed, None, 1), "late-stream"));
    assert!(drain(&mut m).is_empty());
    m.handle(800.0, Input::PollStatus(st(Phase::Completed, None, 2), "done"));
    let a = drain(&mut m);
    assert_eq!(emits(&a), vec![(Phase::Completed, "done")]);
    assert_eq!(a.last(), Some(&Action::FetchResult(rid())));
}

#[test]
fn a_silent_stream_is_given_up_after_the_stall_window_and_keepalives_extend_it() {
    let mut m = M::new(cfg(Mode::Streaming), 0.0);
    submitted(&mut m, 0.0);
    assert_eq!(m.poll_timeout(), Some(3_000.0));
    m.handle(2_000.0, Input::StreamActivity);
    assert_eq!(m.poll_timeout(), Some(5_000.0));
    m.handle_timeout(4_999.0);
    assert!(drain(&mut m).is_empty());
    m.handle_timeout(5_000.0);
    assert_eq!(drain(&mut m), vec![Action::CloseStream, Action::Poll(rid())]);
}

#[test]
fn polling_mode_never_opens_a_stream() {
    let mut m = M::new(cfg(Mode::Polling), 0.0);
    let a = submitted(&mut m, 0.0);
    assert!(!a.iter().any(|x| matches!(x, Action::OpenStream(_))));
    // The first poll goes at once; the next one an interval after its answer.
    assert!(a.contains(&Action::Poll(rid())), "{a:?}");
    m.handle(20.0, Input::PollStatus(st(Phase::InQueue, Some(1), 0), "q"));
    drain(&mut m);
    assert_eq!(m.poll_timeout(), Some(520.0));
    m.handle_timeout(520.0);
    assert_eq!(drain(&mut m), vec![Action::Poll(rid())]);
}

#[test]
fn a_skipped_in_progress_is_filled_in() {
    let mut m = M::new(cfg(Mode::Polling), 0.0);
    submitted(&mut m, 0.0);
    m.handle_timeout(500.0);
    drain(&mut m);
    m.handle(510.0, Input::PollStatus(st(Phase::Completed, None, 0), "done"));
    assert_eq!(emits(&drain(&mut m)), vec![(Phase::InProgress, "done"), (Phase::Completed, "done")]);
}

#[test]
fn stale_earlier_phases_are_dropped() {
    let mut m = M::new(cfg(Mode::Polling), 0.0);
    submitted(&mut m, 0.0);
    m.handle_timeout(500.0);
    m.handle(510.0, Input::PollStatus(st(Phase::InProgress, None, 0), "p"));
    drain(&mut m);
    m.handle_timeout(1_010.0);
    m.handle(1_020.0, Input::PollStatus(st(Phase::InQueue, Some(1), 0), "stale"));
    assert!(emits(&drain(&mut m)).is_empty());
}

#[test]
fn a_failed_poll_ends_the_call_since_the_policy_already_retried() {
    let mut m = M::new(cfg(Mode::Polling), 0.0);
    submitted(&mut m, 0.0);
    m.handle_timeout(500.0);
    drain(&mut m);
    m.handle(510.0, Input::PollFailed("404"));
    assert_eq!(drain(&mut m), vec![Action::Done(Err(End::Failed("404")))]);
}

#[test]
fn a_failed_result_ends_the_call() {
    let mut m = M::new(cfg(Mode::Streaming), 0.0);
    submitted(&mut m, 0.0);
    m.handle(10.0, Input::StreamStatus(st(Phase::Completed, None, 0), "done"));
    drain(&mut m);
    m.handle(20.0, Input::ResultFailed("500"));
    assert_eq!(drain(&mut m), vec![Action::Done(Err(End::Failed("500")))]);
}

#[test]
fn timeout_cancels_upstream_and_fails() {
    let mut m = M::new(Config { timeout_ms: Some(2_000.0), ..cfg(Mode::Streaming) }, 0.0);
    submitted(&mut m, 0.0);
    m.handle(1_000.0, Input::StreamActivity);
    assert_eq!(m.poll_timeout(), Some(2_000.0));
    m.handle_timeout(2_000.0);
    assert_eq!(drain(&mut m), vec![Action::CloseStream, Action::Cancel(rid()), Action::Done(Err(End::TimedOut))]);
    // Nothing after the end.
    m.handle(2_100.0, Input::StreamStatus(st(Phase::Completed, None, 0), "late"));
    assert!(drain(&mut m).is_empty());
}

#[test]
fn abort_before_the_submit_answer_cancels_nothing() {
    let mut m = M::new(cfg(Mode::Streaming), 0.0);
    drain(&mut m);
    m.handle(5.0, Input::Abort);
    assert_eq!(drain(&mut m), vec![Action::Done(Err(End::Aborted))]);
}

#[test]
fn abort_while_polling_cancels_the_job() {
    let mut m = M::new(cfg(Mode::Polling), 0.0);
    submitted(&mut m, 0.0);
    m.handle(5.0, Input::Abort);
    assert_eq!(drain(&mut m), vec![Action::Cancel(rid()), Action::Done(Err(End::Aborted))]);
}

#[test]
fn abort_after_completion_does_not_cancel() {
    let mut m = M::new(cfg(Mode::Streaming), 0.0);
    submitted(&mut m, 0.0);
    m.handle(10.0, Input::StreamStatus(st(Phase::Completed, None, 0), "done"));
    drain(&mut m);
    m.handle(11.0, Input::Abort);
    assert_eq!(drain(&mut m), vec![Action::Done(Err(End::Aborted))]);
}

#[test]
fn submit_failure_ends_the_call() {
    let mut m = M::new(cfg(Mode::Streaming), 0.0);
    drain(&mut m);
    m.handle(1.0, Input::SubmitFailed("422"));
    assert_eq!(drain(&mut m), vec![Action::Done(Err(End::Failed("422")))]);
}

#[test]
fn an_already_completed_submit_goes_straight_to_the_result() {
    let mut m = M::new(cfg(Mode::Streaming), 0.0);
    drain(&mut m);
    m.handle(1.0, Input::Submitted { request_id: rid(), status: st(Phase::Completed, None, 0), raw: "cached" });
    assert_eq!(drain(&mut m), vec![Action::Emit { phase: Phase::Completed, raw: "cached" }, Action::FetchResult(rid())]);
}
