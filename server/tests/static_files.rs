//! The demo page, wasm-pack output and JS helpers are served from the project root.

mod common;

use std::path::PathBuf;

fn temp_root(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("genwire-server-{tag}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[tokio::test]
async fn serves_www_pkg_and_js_with_types() {
    let root = temp_root("static");
    for (path, body) in [
        ("www/index.html", "<!doctype html><title>genwire</title>"),
        ("pkg/genwire_bg.wasm", "\0asm"),
        ("pkg/genwire.js", "export {}"),
        ("js/app.js", "console.log(1)"),
    ] {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(file, body).expect("write");
    }
    let mut config = common::fast_config();
    config.root = root.clone();
    let s = common::start_with(config).await;
    for (path, content_type, body) in [
        ("/", "text/html", "<!doctype html><title>genwire</title>"),
        ("/index.html", "text/html", "<!doctype html><title>genwire</title>"),
        ("/pkg/genwire_bg.wasm", "application/wasm", "\0asm"),
        ("/pkg/genwire.js", "javascript", "export {}"),
        ("/js/app.js", "javascript", "console.log(1)"),
    ] {
        let resp = s.client.get(s.url(path)).send().await.expect("send");
        assert_eq!(resp.status(), 200, "{path}");
        let ct = resp.headers()["content-type"].to_str().expect("ascii").to_string();
        assert!(ct.contains(content_type), "{path}: {ct}");
        assert_eq!(resp.text().await.expect("text"), body);
    }
    assert_eq!(s.client.get(s.url("/pkg/../www/index.html")).send().await.expect("send").status(), 404);
    let _ = std::fs::remove_dir_all(root);
}

#[tokio::test]
async fn missing_directories_answer_404() {
    let mut config = common::fast_config();
    config.root = temp_root("empty").join("does-not-exist");
    let s = common::start_with(config).await;
    for path in ["/", "/pkg/genwire_bg.wasm", "/js/app.js", "/anything"] {
        assert_eq!(s.client.get(s.url(path)).send().await.expect("send").status(), 404, "{path}");
    }
    // The rest of the server still works.
    assert_eq!(s.client.get(s.url("/__sim/config")).send().await.expect("send").status(), 200);
}
