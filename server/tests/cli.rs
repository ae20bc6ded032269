//! The real binary: flags, the start-up line scripts parse, and the upstream it announces.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary and returns it with the first line it printed.
fn launch(args: &[&str], fal_key: Option<&str>) -> (Running, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_genwire-server"));
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::null()).env_remove("FAL_KEY");
    if let Some(k) = fal_key {
        cmd.env("FAL_KEY", k);
    }
    let mut child = cmd.spawn().expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read line");
    (Running(child), line.trim_end().to_string())
}

fn parse_port(line: &str, upstream: &str) -> u16 {
    let rest = line.strip_prefix("genwire-server listening on http://127.0.0.1:").unwrap_or_else(|| panic!("unexpected line {line:?}"));
    let (port, tail) = rest.split_once(' ').expect("port then upstream");
    assert_eq!(tail, format!("(upstream: {upstream})"));
    port.parse().expect("port number")
}

#[tokio::test]
async fn prints_the_start_line_and_applies_flags() {
    let (_server, line) = launch(
        &["--port", "8", "--latency-ms", "9", "--port", "0", "--latency-ms", "123", "--queue-depth", "3", "--queue-step-ms", "45", "--keepalive-ms", "678"],
        None,
    );
    let port = parse_port(&line, "simulated");
    assert_ne!(port, 0);
    let config: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{port}/__sim/config")).await.expect("get").json().await.expect("json");
    let timeline: Vec<_> = ["latency_ms", "queue_depth", "queue_step_ms", "keepalive_ms"].iter().map(|k| config[*k].clone()).collect();
    assert_eq!(timeline, [123, 3, 45, 678]);
}

#[tokio::test]
async fn defaults_are_fal_like() {
    let (_server, line) = launch(&["--port", "0"], None);
    let port = parse_port(&line, "simulated");
    let config: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{port}/__sim/config")).await.expect("get").json().await.expect("json");
    // fal's status stream sends a keep-alive every 15 s.
    assert_eq!(config["keepalive_ms"], 15_000);
    assert_eq!((config["stream_logs"].as_str(), config["validation"].as_str(), config["status_202"].as_bool()), (Some("delta"), Some("result"), Some(true)));
}

#[test]
fn announces_the_real_upstream_when_fal_key_is_set() {
    let (_server, line) = launch(&["--port", "0"], Some("test-id:test-secret"));
    parse_port(&line, "fal.ai, key from FAL_KEY");
}
