//! Which failed requests are worth repeating. The server's own word
//! (`X-Fal-Retryable`) comes first, then what the status means for that call.

/// The kind of call that failed: repeating a read is safe, repeating a submit is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Submit,
    Status,
    Result,
    Cancel,
    Run,
}

pub fn should_retry(call: Call, status: u16, retryable_header: Option<&str>) -> bool {
    if call == Call::Submit {
        // A repeated submit may enqueue the job twice; the retry policy of a later
        // issue retries it only when the error shows nothing was enqueued.
        return false;
    }
    match retryable_header.map(str::trim) {
        Some(h) if h.eq_ignore_ascii_case("true") => return true,
        Some(h) if h.eq_ignore_ascii_case("false") => return false,
        _ => {}
    }
    match call {
        // A 500 from the result endpoint is the job's own failure: it will not change.
        Call::Result => matches!(status, 408 | 429 | 502 | 503 | 504),
        _ => matches!(status, 408 | 429 | 500 | 502 | 503 | 504),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_wins_over_status() {
        assert!(should_retry(Call::Status, 400, Some("true")));
        assert!(!should_retry(Call::Status, 503, Some(" FALSE ")));
        assert!(should_retry(Call::Status, 503, Some("maybe")));
    }

    #[test]
    fn transient_statuses_retry_reads() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(should_retry(Call::Status, s, None), "{s}");
        }
        for s in [400, 401, 403, 404, 422] {
            assert!(!should_retry(Call::Status, s, None), "{s}");
        }
        assert!(!should_retry(Call::Result, 500, None));
        assert!(should_retry(Call::Result, 503, None));
    }

    #[test]
    fn submit_is_never_repeated_here() {
        assert!(!should_retry(Call::Submit, 503, Some("true")));
    }
}
