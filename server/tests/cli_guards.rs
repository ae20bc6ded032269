//! The proxy's guard flags on the real binary: `--endpoints`, `--same-origin`,
//! `--allowed-origins`, `--body-timeout-ms`, and what it says and serves with a real key.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn command(args: &[&str], fal_key: Option<&str>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_genwire-server"));
    cmd.args(args).env_remove("FAL_KEY");
    if let Some(k) = fal_key {
        cmd.env("FAL_KEY", k);
    }
    cmd
}

/// Starts the binary on a free port; returns it, its base URL and its stderr reader.
fn launch(args: &[&str], fal_key: Option<&str>) -> (Running, String, std::process::ChildStderr) {
    let mut all = vec!["--port", "0"];
    all.extend_from_slice(args);
    let mut child = command(&all, fal_key).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read line");
    let url = line.split_whitespace().nth(3).expect("the URL in the start line").to_string();
    (Running(child), url, stderr)
}

#[test]
fn bad_lists_are_refused_at_start() {
    for (args, flag) in [
        (vec!["--endpoints", "flux"], "--endpoints"),
        (vec!["--endpoints", " , "], "--endpoints"),
        (vec!["--allowed-origins", "app.example.com"], "--allowed-origins"),
        (vec!["--allowed-origins", ""], "--allowed-origins"),
    ] {
        let out = command(&args, None).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(flag), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout.is_empty(), "{args:?}: no start line");
    }
}

#[tokio::test]
async fn the_flags_guard_the_proxy() {
    let (_server, url, _) = launch(&["--same-origin", "--endpoints", "fal-ai/flux/dev", "--body-timeout-ms", "5000"], None);
    let client = reqwest::Client::new();
    let host = url.trim_start_matches("http://").to_string();
    let post = |target: &str, site: &str| {
        client
            .post(format!("{url}/api/fal/proxy"))
            .header("x-fal-target-url", target)
            .header("sec-fetch-site", site)
            .json(&json!({ "prompt": "cli guards" }))
            .send()
    };
    let ok = post("https://queue.fal.run/fal-ai/flux/dev", "same-origin").await.expect("send");
    assert_eq!(ok.status(), 200);
    let other_endpoint: Value = post("https://queue.fal.run/fal-ai/fast-sdxl", "same-origin").await.expect("send").json().await.expect("json");
    assert_eq!(other_endpoint["reason"], "endpoint_not_allowed");
    let cross = post("https://queue.fal.run/fal-ai/flux/dev", "cross-site").await.expect("send");
    assert_eq!(cross.status(), 403);
    let body: Value = cross.json().await.expect("json");
    assert_eq!(body["error_type"], "proxy_caller_rejected");
    let own_origin = client
        .post(format!("{url}/api/fal/proxy"))
        .header("x-fal-target-url", "https://queue.fal.run/fal-ai/flux/dev")
        .header("origin", format!("http://{host}"))
        .json(&json!({ "prompt": "cli guards" }))
        .send()
        .await
        .expect("send");
    assert_eq!(own_origin.status(), 200);
}

#[tokio::test]
async fn with_a_key_there_is_no_sim_and_an_open_relay_is_pointed_out() {
    let (server, url, mut stderr) = launch(&[], Some("test-id:test-secret"));
    let resp = reqwest::get(format!("{url}/__sim/config")).await.expect("get");
    assert_eq!(resp.status(), 404);
    let trace = reqwest::Client::new()
        .request(reqwest::Method::from_bytes(b"TRACE").expect("method"), format!("{url}/api/fal/proxy"))
        .header("x-fal-target-url", "https://queue.fal.run/fal-ai/flux/dev")
        .send()
        .await
        .expect("send");
    assert_eq!(trace.status(), 405, "refused before any call to fal");
    drop(server);
    let mut err = String::new();
    stderr.read_to_string(&mut err).expect("stderr");
    assert!(err.contains("--same-origin") && err.contains("--endpoints"), "{err}");

    // With a caller check, no such note.
    let (server, _, mut stderr) = launch(&["--allowed-origins", "self"], Some("test-id:test-secret"));
    drop(server);
    let mut err = String::new();
    stderr.read_to_string(&mut err).expect("stderr");
    assert!(!err.contains("can spend FAL_KEY"), "{err}");
}
