//! The demo page and the wasm-pack output. Missing directories just answer 404.

use std::path::Path;

use axum::Router;
use tower_http::services::ServeDir;

pub fn router(root: &Path) -> Router {
    Router::new()
        // mime_guess maps .wasm to application/wasm, which streaming compilation requires.
        .nest_service("/pkg", ServeDir::new(root.join("pkg")))
        .nest_service("/js", ServeDir::new(root.join("js")))
        .fallback_service(ServeDir::new(root.join("www")))
}
