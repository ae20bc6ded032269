use super::*;
use crate::proto::logs::LogKey;

type M = Machine<&'static str, &'static str>;

/// A status whose logs are the first `logs` lines of the job (a snapshot).
fn st(phase: Phase, pos: Option<u64>, logs: usize) -> Status {
    Status { phase, queue_position: pos, logs: (0..logs).map(|i| LogKey::new(format!("t{i}"), "line")).collect(), request_id: None, failed: false }
}
fn rid() -> RequestId {
    RequestId::parse("req-1").unwrap()
}
fn cfg(mode: Mode) -> Config {
    Config { mode, poll_interval: Duration::ms(500.0), stall: Duration::ms(3_000.0), timeout: None, ..Config::default() }
}
fn t(ms: f64) -> Instant {
    Instant::at(ms)
}
fn drain(m: &mut M) -> Vec<Action<&'static str, &'static str>> {
    std::iter::from_fn(|| m.poll_action()).collect()
}
fn emits(actions: &[Action<&'static str, &'static str>]) -> Vec<(Phase, &'static str)> {
    actions.iter().filter_map(|a| if let Action::Emit { phase, raw, .. } = a { Some((*phase, *raw)) } else { None }).collect()
}
fn submitted(m: &mut M, now: Instant) -> Vec<Action<&'static str, &'static str>> {
    assert_eq!(drain(m), vec![Action::Submit]);
    m.handle(now, Input::Submitted { request_id: rid(), status: st(Phase::InQueue, Some(2), 0), raw: "q2" });
    // The id is told first, once, before any status.
    let mut a = drain(m);
    assert_eq!(a.first(), Some(&Action::Enqueued(rid())));
    a.remove(0);
    a
}

#[test]
fn streaming_happy_path_emits_each_change_once_then_fetches_result() {
    let mut m = M::new(cfg(Mode::Streaming), t(0.0));
    assert_eq!(submitted(&mut m, t(10.0)), vec![Action::Emit { phase: Phase::InQueue, raw: "q2", new_logs: vec![] }, Action::OpenStream(rid())]);
    m.handle(t(20.0), Input::StreamStatus(st(Phase::InQueue, Some(2), 0), "q2-again"));
    m.handle(t(30.0), Input::StreamStatus(st(Phase::InQueue, Some(1), 0), "q1"));
    m.handle(t(40.0), Input::StreamStatus(st(Phase::InProgress, None, 0), "p0"));
    m.handle(t(50.0), Input::StreamStatus(st(Phase::InProgress, None, 2), "p2"));
    m.handle(t(55.0), Input::StreamStatus(st(Phase::InProgress, None, 2), "p2-again"));
    m.handle(t(60.0), Input::StreamStatus(st(Phase::Completed, None, 3), "done"));
    let a = drain(&mut m);
    assert_eq!(emits(&a), vec![(Phase::InQueue, "q1"), (Phase::InProgress, "p0"), (Phase::InProgress, "p2"), (Phase::Completed, "done")]);
    assert_eq!(&a[a.len() - 2..], &[Action::CloseStream, Action::FetchResult(rid())]);
    m.handle(t(70.0), Input::ResultFetched("output"));
    assert_eq!(drain(&mut m), vec![Action::Done(Ok("output"))]);
    assert!(m.is_done());
    assert_eq!(m.poll_timeout(), None);
    assert!(!m.fell_back());
}

#[test]
fn a_broken_stream_falls_back_to_polling_without_repeating_updates() {
    let mut m = M::new(cfg(Mode::Streaming), t(0.0));
    submitted(&mut m, t(0.0));
    m.handle(t(100.0), Input::StreamStatus(st(Phase::InProgress, None, 1), "p1"));
    drain(&mut m);
    m.handle(t(200.0), Input::StreamBroken);
    assert_eq!(drain(&mut m), vec![Action::CloseStream, Action::Poll(rid())]);
    assert!(m.fell_back());
    // The first poll repeats what the stream already said: not news.
    m.handle(t(250.0), Input::PollStatus(st(Phase::InProgress, None, 1), "p1-polled"));
    assert!(emits(&drain(&mut m)).is_empty());
    assert_eq!(m.poll_timeout(), Some(t(750.0)));
    m.handle_timeout(t(750.0));
    assert_eq!(drain(&mut m), vec![Action::Poll(rid())]);
    // A stream event that was already queued before the fallback is ignored.
    m.handle(t(760.0), Input::StreamStatus(st(Phase::Completed, None, 1), "late-stream"));
    assert!(drain(&mut m).is_empty());
    m.handle(t(800.0), Input::PollStatus(st(Phase::Completed, None, 2), "done"));
    let a = drain(&mut m);
    assert_eq!(emits(&a), vec![(Phase::Completed, "done")]);
    assert_eq!(a.last(), Some(&Action::FetchResult(rid())));
}

#[test]
fn a_silent_stream_is_given_up_after_the_stall_window_and_keepalives_extend_it() {
    let mut m = M::new(cfg(Mode::Streaming), t(0.0));
    submitted(&mut m, t(0.0));
    m.handle(t(10.0), Input::StreamOpened { event_stream: true });
    assert_eq!(m.poll_timeout(), Some(t(3_000.0)));
    m.handle(t(2_000.0), Input::StreamActivity);
    assert_eq!(m.poll_timeout(), Some(t(5_000.0)));
    m.handle_timeout(t(4_999.0));
    assert!(drain(&mut m).is_empty());
    m.handle_timeout(t(5_000.0));
    assert_eq!(drain(&mut m), vec![Action::CloseStream, Action::Poll(rid())]);
}

#[test]
fn polling_mode_never_opens_a_stream() {
    let mut m = M::new(cfg(Mode::Polling), t(0.0));
    let a = submitted(&mut m, t(0.0));
    assert!(!a.iter().any(|x| matches!(x, Action::OpenStream(_))));
    // The first poll goes at once; the next one an interval after its answer.
    assert!(a.contains(&Action::Poll(rid())), "{a:?}");
    m.handle(t(20.0), Input::PollStatus(st(Phase::InQueue, Some(1), 0), "q"));
    drain(&mut m);
    assert_eq!(m.poll_timeout(), Some(t(520.0)));
    m.handle_timeout(t(520.0));
    assert_eq!(drain(&mut m), vec![Action::Poll(rid())]);
}

#[test]
fn a_skipped_in_progress_is_filled_in() {
    let mut m = M::new(cfg(Mode::Polling), t(0.0));
    submitted(&mut m, t(0.0));
    m.handle_timeout(t(500.0));
    drain(&mut m);
    m.handle(t(510.0), Input::PollStatus(st(Phase::Completed, None, 0), "done"));
    assert_eq!(emits(&drain(&mut m)), vec![(Phase::InProgress, "done"), (Phase::Completed, "done")]);
}

#[test]
fn stale_earlier_phases_are_dropped() {
    let mut m = M::new(cfg(Mode::Polling), t(0.0));
    submitted(&mut m, t(0.0));
    m.handle_timeout(t(500.0));
    m.handle(t(510.0), Input::PollStatus(st(Phase::InProgress, None, 0), "p"));
    drain(&mut m);
    m.handle_timeout(t(1_010.0));
    m.handle(t(1_020.0), Input::PollStatus(st(Phase::InQueue, Some(1), 0), "stale"));
    assert!(emits(&drain(&mut m)).is_empty());
}

#[test]
fn a_failed_poll_ends_the_call_since_the_policy_already_retried() {
    let mut m = M::new(cfg(Mode::Polling), t(0.0));
    submitted(&mut m, t(0.0));
    m.handle_timeout(t(500.0));
    drain(&mut m);
    m.handle(t(510.0), Input::PollFailed("404"));
    assert_eq!(drain(&mut m), vec![Action::Done(Err(End::Failed("404")))]);
}

#[test]
fn a_failed_result_ends_the_call() {
    let mut m = M::new(cfg(Mode::Streaming), t(0.0));
    submitted(&mut m, t(0.0));
    m.handle(t(10.0), Input::StreamStatus(st(Phase::Completed, None, 0), "done"));
    drain(&mut m);
    m.handle(t(20.0), Input::ResultFailed("500"));
    assert_eq!(drain(&mut m), vec![Action::Done(Err(End::Failed("500")))]);
}

#[test]
fn timeout_cancels_upstream_and_fails() {
    let mut m = M::new(Config { timeout: Some(Duration::ms(2_000.0)), ..cfg(Mode::Streaming) }, t(0.0));
    submitted(&mut m, t(0.0));
    m.handle(t(1_000.0), Input::StreamActivity);
    assert_eq!(m.poll_timeout(), Some(t(2_000.0)));
    m.handle_timeout(t(2_000.0));
    assert_eq!(drain(&mut m), vec![Action::CloseStream, Action::Cancel(rid()), Action::Done(Err(End::TimedOut))]);
    // Nothing after the end.
    m.handle(t(2_100.0), Input::StreamStatus(st(Phase::Completed, None, 0), "late"));
    assert!(drain(&mut m).is_empty());
}

#[test]
fn abort_before_the_submit_answer_cancels_nothing() {
    let mut m = M::new(cfg(Mode::Streaming), t(0.0));
    drain(&mut m);
    m.handle(t(5.0), Input::Abort);
    assert_eq!(drain(&mut m), vec![Action::Done(Err(End::Aborted))]);
}

#[test]
fn abort_while_polling_cancels_the_job() {
    let mut m = M::new(cfg(Mode::Polling), t(0.0));
    submitted(&mut m, t(0.0));
    m.handle(t(5.0), Input::Abort);
    assert_eq!(drain(&mut m), vec![Action::Cancel(rid()), Action::Done(Err(End::Aborted))]);
}

#[test]
fn abort_after_completion_does_not_cancel() {
    let mut m = M::new(cfg(Mode::Streaming), t(0.0));
    submitted(&mut m, t(0.0));
    m.handle(t(10.0), Input::StreamStatus(st(Phase::Completed, None, 0), "done"));
    drain(&mut m);
    m.handle(t(11.0), Input::Abort);
    assert_eq!(drain(&mut m), vec![Action::Done(Err(End::Aborted))]);
}

#[test]
fn submit_failure_ends_the_call() {
    let mut m = M::new(cfg(Mode::Streaming), t(0.0));
    drain(&mut m);
    m.handle(t(1.0), Input::SubmitFailed("422"));
    assert_eq!(drain(&mut m), vec![Action::Done(Err(End::Failed("422")))]);
}

#[test]
fn an_already_completed_submit_goes_straight_to_the_result() {
    let mut m = M::new(cfg(Mode::Streaming), t(0.0));
    drain(&mut m);
    m.handle(t(1.0), Input::Submitted { request_id: rid(), status: st(Phase::Completed, None, 0), raw: "cached" });
    assert_eq!(
        drain(&mut m),
        vec![Action::Enqueued(rid()), Action::Emit { phase: Phase::Completed, raw: "cached", new_logs: vec![] }, Action::FetchResult(rid())]
    );
}

fn lines(range: std::ops::Range<usize>) -> Status {
    Status {
        phase: Phase::InProgress,
        queue_position: None,
        logs: range.map(|i| LogKey::new(format!("t{i:02}"), format!("line {i}"))).collect(),
        request_id: None,
        failed: false,
    }
}

/// The log lines the caller has been told so far, rebuilt from the emits as the driver does.
fn told(actions: &[Action<&'static str, &'static str>], statuses: &[(&'static str, Status)], into: &mut Vec<String>) {
    for a in actions {
        if let Action::Emit { raw, new_logs, .. } = a {
            let status = &statuses.iter().find(|(r, _)| r == raw).unwrap().1;
            into.extend(new_logs.iter().map(|&i| status.logs[i].message.clone()));
        }
    }
}

#[test]
fn delta_logs_on_the_stream_then_a_polling_window_lose_and_repeat_nothing() {
    let mut m = M::new(cfg(Mode::Streaming), t(0.0));
    submitted(&mut m, t(0.0));
    // The stream sends only each event's new lines (fal); a poll after the fallback answers a window.
    let statuses =
        [("d1", lines(0..3)), ("d2", lines(3..4)), ("d3", lines(4..4)), ("d4", lines(4..9)), ("w1", lines(2..12)), ("w2", lines(6..12)), ("w3", lines(9..15))];
    let mut seen = Vec::new();
    let mut emitted = 0;
    for (i, (raw, status)) in statuses.iter().enumerate() {
        let now = t(100.0 * (i + 1) as f64);
        if i == 4 {
            m.handle(now, Input::StreamBroken);
            drain(&mut m);
        }
        let input = if i < 4 { Input::StreamStatus(status.clone(), *raw) } else { Input::PollStatus(status.clone(), *raw) };
        m.handle(now, input);
        let a = drain(&mut m);
        emitted += emits(&a).len();
        told(&a, &statuses, &mut seen);
        if i >= 4 {
            m.handle_timeout(now + Duration::ms(500.0));
            drain(&mut m);
        }
    }
    let expected: Vec<String> = (0..15).map(|i| format!("line {i}")).collect();
    assert_eq!(seen, expected);
    // d3 carried no new line and w2 only lines already told: neither is news.
    assert_eq!(emitted, 5);
}

#[test]
fn a_late_answer_from_an_earlier_phase_neither_emits_nor_swallows_lines() {
    let mut m = M::new(cfg(Mode::Polling), t(0.0));
    submitted(&mut m, t(0.0));
    let done = Status { phase: Phase::Completed, ..lines(0..2) };
    m.handle(t(10.0), Input::PollStatus(done, "done"));
    let a = drain(&mut m);
    assert_eq!(emits(&a).last(), Some(&(Phase::Completed, "done")));
    // The filled-in IN_PROGRESS carries no lines of its own; COMPLETED carries both.
    let news: Vec<&Vec<usize>> = a.iter().filter_map(|x| if let Action::Emit { new_logs, .. } = x { Some(new_logs) } else { None }).collect();
    assert_eq!(news, [&vec![], &vec![0, 1]]);
}

#[test]
fn a_stream_whose_head_never_comes_is_given_up_after_a_few_round_trips() {
    // A proxy that reads the whole answer before passing it on (Next.js' Pages router) holds the
    // stream's head back until the job ends: genwire polls instead, long before the stall window.
    let mut m = M::new(cfg(Mode::Streaming), t(0.0));
    submitted(&mut m, t(400.0));
    // The submit took 400 ms: the head is due within 4 round trips.
    assert_eq!(m.poll_timeout(), Some(t(2_000.0)));
    m.handle_timeout(t(1_999.0));
    assert!(drain(&mut m).is_empty());
    m.handle_timeout(t(2_000.0));
    assert_eq!(drain(&mut m), vec![Action::CloseStream, Action::Poll(rid())]);
    assert!(m.fell_back());
}

#[test]
fn a_fast_submit_still_gives_the_stream_a_second_to_open() {
    let mut m = M::new(cfg(Mode::Streaming), t(0.0));
    submitted(&mut m, t(5.0));
    assert_eq!(m.poll_timeout(), Some(t(1_005.0)));
    // Its head arrives: only the stall window is left.
    m.handle(t(500.0), Input::StreamOpened { event_stream: true });
    assert_eq!(m.poll_timeout(), Some(t(3_005.0)));
    m.handle_timeout(t(1_005.0));
    assert!(drain(&mut m).is_empty());
}

#[test]
fn an_answer_that_is_not_an_event_stream_means_polling_at_once() {
    let mut m = M::new(cfg(Mode::Streaming), t(0.0));
    submitted(&mut m, t(5.0));
    m.handle(t(30.0), Input::StreamOpened { event_stream: false });
    assert_eq!(drain(&mut m), vec![Action::CloseStream, Action::Poll(rid())]);
    assert!(m.fell_back());
}

#[test]
fn a_completed_status_with_an_error_marks_the_job_failed() {
    let mut m = M::new(cfg(Mode::Polling), t(0.0));
    submitted(&mut m, t(0.0));
    assert!(!m.job_failed());
    let mut done = st(Phase::Completed, None, 0);
    done.failed = true;
    m.handle(t(20.0), Input::PollStatus(done, "failed"));
    drain(&mut m);
    assert!(m.job_failed());
}

// A job followed by its id (`subscribeToStatus`, a job resumed after a reload).

fn following(mode: Mode) -> M {
    let mut m = M::follow(Config { cancel_on_abort: false, ..cfg(mode) }, rid(), t(0.0));
    // No submit, and no `Enqueued`: the first action is the probe, a status poll.
    assert_eq!(drain(&mut m), vec![Action::Poll(rid())]);
    m
}

#[test]
fn a_followed_job_is_probed_then_streamed_with_the_probe_sizing_the_open_deadline() {
    let mut m = following(Mode::Streaming);
    // Stream traffic before the probe's answer means nothing (no stream is open).
    m.handle(t(100.0), Input::StreamStatus(st(Phase::Completed, None, 0), "stray"));
    assert!(drain(&mut m).is_empty());
    m.handle(t(400.0), Input::PollStatus(st(Phase::InQueue, Some(1), 0), "q1"));
    assert_eq!(drain(&mut m), vec![Action::Emit { phase: Phase::InQueue, raw: "q1", new_logs: vec![] }, Action::OpenStream(rid())]);
    // The probe took 400 ms: the stream's head is due within 4 of those.
    assert_eq!(m.poll_timeout(), Some(t(2_000.0)));
    m.handle(t(500.0), Input::StreamOpened { event_stream: true });
    m.handle(t(600.0), Input::StreamStatus(st(Phase::InQueue, Some(1), 0), "q1-again"));
    m.handle(t(700.0), Input::StreamStatus(st(Phase::InProgress, None, 1), "p1"));
    m.handle(t(800.0), Input::StreamStatus(st(Phase::Completed, None, 2), "done"));
    let a = drain(&mut m);
    assert_eq!(emits(&a), vec![(Phase::InProgress, "p1"), (Phase::Completed, "done")]);
    assert_eq!(&a[a.len() - 2..], &[Action::CloseStream, Action::FetchResult(rid())]);
    m.handle(t(900.0), Input::ResultFetched("output"));
    assert_eq!(drain(&mut m), vec![Action::Done(Ok("output"))]);
}

#[test]
fn a_followed_job_in_polling_mode_waits_an_interval_after_the_probe() {
    let mut m = following(Mode::Polling);
    m.handle(t(50.0), Input::PollStatus(st(Phase::InProgress, None, 0), "p0"));
    assert_eq!(emits(&drain(&mut m)), vec![(Phase::InProgress, "p0")]);
    assert_eq!(m.poll_timeout(), Some(t(550.0)));
    m.handle_timeout(t(549.0));
    assert!(drain(&mut m).is_empty());
    m.handle_timeout(t(550.0));
    assert_eq!(drain(&mut m), vec![Action::Poll(rid())]);
    // A job seen running then done.
    m.handle(t(600.0), Input::PollStatus(st(Phase::Completed, None, 0), "done"));
    assert_eq!(drain(&mut m), vec![Action::Emit { phase: Phase::Completed, raw: "done", new_logs: vec![] }, Action::FetchResult(rid())]);
}

#[test]
fn a_followed_job_that_finished_meanwhile_goes_straight_to_its_result() {
    for mode in [Mode::Streaming, Mode::Polling] {
        let mut m = following(mode);
        m.handle(t(30.0), Input::PollStatus(st(Phase::Completed, None, 3), "done"));
        assert_eq!(drain(&mut m), vec![Action::Emit { phase: Phase::Completed, raw: "done", new_logs: vec![0, 1, 2] }, Action::FetchResult(rid())]);
    }
}

#[test]
fn an_unknown_followed_job_fails_on_its_probe() {
    let mut m = following(Mode::Streaming);
    m.handle(t(30.0), Input::PollFailed("404"));
    assert_eq!(drain(&mut m), vec![Action::Done(Err(End::Failed("404")))]);
}

#[test]
fn aborting_a_followed_job_lets_it_go_but_a_timeout_cancels_it() {
    let mut m = following(Mode::Streaming);
    m.handle(t(30.0), Input::PollStatus(st(Phase::InQueue, Some(0), 0), "q0"));
    drain(&mut m);
    m.handle(t(40.0), Input::Abort);
    // The stream closes; the job (someone else's, or the page's before a reload) runs on.
    assert_eq!(drain(&mut m), vec![Action::CloseStream, Action::Done(Err(End::Aborted))]);

    let mut m = M::follow(Config { cancel_on_abort: false, timeout: Some(Duration::ms(1_000.0)), ..cfg(Mode::Polling) }, rid(), t(0.0));
    drain(&mut m);
    m.handle(t(30.0), Input::PollStatus(st(Phase::InQueue, Some(0), 0), "q0"));
    drain(&mut m);
    m.handle_timeout(t(1_000.0));
    assert_eq!(drain(&mut m), vec![Action::Cancel(rid()), Action::Done(Err(End::TimedOut))]);

    // A caller that owns the job says so: an abort cancels it.
    let mut m = M::follow(cfg(Mode::Polling), rid(), t(0.0));
    drain(&mut m);
    m.handle(t(5.0), Input::Abort);
    assert_eq!(drain(&mut m), vec![Action::Cancel(rid()), Action::Done(Err(End::Aborted))]);
}

#[test]
fn a_submitted_job_that_is_not_cancelled_on_abort_is_let_go() {
    let mut m = M::new(Config { cancel_on_abort: false, ..cfg(Mode::Polling) }, t(0.0));
    submitted(&mut m, t(0.0));
    m.handle(t(5.0), Input::Abort);
    assert_eq!(drain(&mut m), vec![Action::Done(Err(End::Aborted))]);
}

#[test]
fn a_stream_of_statuses_ends_with_the_completed_status_and_fetches_nothing() {
    let mut m = M::follow(Config { fetch_result: false, ..cfg(Mode::Streaming) }, rid(), t(0.0));
    drain(&mut m);
    m.handle(t(10.0), Input::PollStatus(st(Phase::InProgress, None, 0), "p0"));
    drain(&mut m);
    m.handle(t(20.0), Input::StreamStatus(st(Phase::Completed, None, 1), "done"));
    let a = drain(&mut m);
    assert_eq!(emits(&a), vec![(Phase::Completed, "done")]);
    assert_eq!(&a[a.len() - 2..], &[Action::CloseStream, Action::Done(Ok("done"))]);
    assert!(!a.iter().any(|x| matches!(x, Action::FetchResult(_))));
    // Polling too, and a job already done at the probe.
    let mut m = M::follow(Config { fetch_result: false, ..cfg(Mode::Polling) }, rid(), t(0.0));
    drain(&mut m);
    m.handle(t(10.0), Input::PollStatus(st(Phase::Completed, None, 0), "done"));
    assert_eq!(drain(&mut m), vec![Action::Emit { phase: Phase::Completed, raw: "done", new_logs: vec![] }, Action::Done(Ok("done"))]);
}
