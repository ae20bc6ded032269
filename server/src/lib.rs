//! genwire-server: static files for the demo, the fal proxy, and a simulated fal upstream.
//!
//! `build_app` returns the whole app as a Router so tests run it in-process.

pub mod allowlist;
pub mod direct;
mod json;
pub mod proxy;
pub mod sim;
mod static_files;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::http::{HeaderName, Method};
use axum::Router;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

/// Everything the app needs; `main` fills it from flags and the environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub root: PathBuf,
    pub sim: sim::SimConfig,
    pub body_limit_bytes: usize,
    pub cors_any: bool,
    /// The real fal key; `None` means every proxied call goes to the in-process simulator
    /// (and the `/__sim` control API and `/sim/*` routes exist only then).
    pub fal_key: Option<String>,
    /// A proxied request body must arrive whole within this time (408 otherwise).
    pub body_timeout_ms: u64,
    /// Only these fal endpoints may be called (`--endpoints`); `None`: any.
    pub endpoints: Option<allowlist::Endpoints>,
    /// Only these callers may use the proxy (`--same-origin`, `--allowed-origins`); `None`: anyone.
    pub callers: Option<proxy::Callers>,
    /// Tests only: with `fal_key`, send upstream calls to this base (e.g. `http://127.0.0.1:PORT`)
    /// instead of `https://<fal host>`, path and query kept. Not a command-line flag.
    pub upstream_base: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            root: PathBuf::from("."),
            sim: sim::SimConfig::default(),
            body_limit_bytes: 10 * 1024 * 1024,
            cors_any: false,
            fal_key: None,
            body_timeout_ms: 30_000,
            endpoints: None,
            callers: None,
            upstream_base: None,
        }
    }
}

static SIM_KEY: OnceLock<String> = OnceLock::new();

/// The key the proxy sends to the simulator: random per process, so tests can prove
/// it was added (the simulator answers 401 otherwise) and search responses for it.
pub fn sim_key() -> &'static str {
    SIM_KEY.get_or_init(|| format!("sim-{}:{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple()))
}

/// Fixes the simulator's key (`--sim-key`), for tests whose own proxies call it through
/// `/__sim/upstream` with that key. Only before the first `sim_key()`; false after.
pub fn set_sim_key(key: String) -> bool {
    SIM_KEY.set(key).is_ok()
}

pub fn build_app(config: Config) -> Router {
    let (upstream, simulator) = match &config.fal_key {
        Some(key) => (proxy::Upstream::real_at(key.clone(), config.upstream_base.clone()), None),
        None => {
            let sim = sim::Sim::new(config.sim, sim_key().to_string());
            (proxy::Upstream::Simulated { router: sim::upstream_router(sim.clone()), key: sim_key().to_string() }, Some(sim))
        }
    };
    let proxy_state = Arc::new(proxy::ProxyState {
        upstream,
        body_limit: config.body_limit_bytes,
        body_timeout: Duration::from_millis(config.body_timeout_ms),
        endpoints: config.endpoints.clone(),
        callers: config.callers.clone(),
    });

    // The simulator as a direct upstream, for other proxies under test (see direct.rs); merged
    // after the CORS layer, which is for pages, not for servers calling fal.
    let direct = simulator.as_ref().map(|sim| direct::router(sim::upstream_router(sim.clone())));
    let mut app = Router::new().merge(proxy::router(proxy_state));
    // The control API and the simulated hosts exist only with the simulator: with a real key
    // nobody may reconfigure anything, and there is nothing to simulate.
    if let Some(sim) = simulator {
        app = app.merge(sim::local_router(sim));
    }
    let app = app.merge(static_files::router(&config.root));
    let app = if config.cors_any { app.layer(cors_layer()) } else { app };
    app.merge(direct.unwrap_or_default())
}

/// Binds `addr` (port 0 picks a free one) and serves the app in a background task.
pub async fn spawn(config: Config, addr: SocketAddr) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let app = build_app(config);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("genwire-server: serve error: {e}");
        }
    });
    Ok(local)
}

/// For wasm-bindgen browser tests whose page lives on another origin.
fn cors_layer() -> CorsLayer {
    let expose = [
        "x-fal-request-id",
        "x-fal-error-type",
        "x-fal-retryable",
        "x-fal-request-timeout-type",
        "retry-after",
        "retry-after-ms",
        "x-ratelimit-reset",
        "content-type",
    ]
    .map(HeaderName::from_static);
    CorsLayer::new()
        .allow_origin(AllowOrigin::any())
        // Mirroring covers x-fal-target-url and every x-fal-* header a client may add.
        .allow_headers(AllowHeaders::mirror_request())
        // The methods the proxy forwards (GET, POST, PUT); preflights are answered by the layer.
        .allow_methods([Method::GET, Method::POST, Method::PUT])
        .expose_headers(expose)
}
