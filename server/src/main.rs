use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::Parser;
use genwire_server::{sim::SimConfig, Config};

/// Dev server for genwire: static files, the fal proxy at /api/fal/proxy and a simulated fal.
#[derive(Parser, Debug)]
// The last of a repeated flag wins, so wrappers can prepend defaults that callers override.
#[command(name = "genwire-server", version, args_override_self = true)]
struct Args {
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// 0 picks a free port (printed on start).
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// Project directory holding www/, pkg/ and js/.
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Simulated time a job spends IN_PROGRESS.
    #[arg(long, default_value_t = 1500)]
    latency_ms: u64,
    /// Simulated queue position a new job starts at.
    #[arg(long, default_value_t = 2)]
    queue_depth: u32,
    /// Simulated time per queue position.
    #[arg(long, default_value_t = 400)]
    queue_step_ms: u64,
    /// Interval of keep-alive comments on simulated status streams (fal: 15 s).
    #[arg(long, default_value_t = 15000)]
    keepalive_ms: u64,
    /// Largest request body the proxy accepts (413 above).
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    body_limit_bytes: usize,
    /// Answer CORS for any origin (only for browser tests served from another port).
    #[arg(long)]
    cors_any: bool,
    /// The key the simulator accepts (default: random per process), for proxies under test that
    /// call it themselves through /__sim/upstream with that key as their FAL_KEY.
    #[arg(long)]
    sim_key: Option<String>,
    /// A proxied request body must arrive whole within this time (408 otherwise).
    #[arg(long, default_value_t = 30_000)]
    body_timeout_ms: u64,
    /// Only these fal endpoints may be called, comma-separated; `*` is a wildcard
    /// (e.g. fal-ai/flux/dev,fal-ai/fast-*).
    #[arg(long)]
    endpoints: Option<String>,
    /// Serve only pages of this server's own origin (Sec-Fetch-Site / Origin).
    #[arg(long)]
    same_origin: bool,
    /// Serve only pages of these origins, comma-separated (`self` = this server's own).
    #[arg(long)]
    allowed_origins: Option<String>,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let fal_key = std::env::var("FAL_KEY").ok().filter(|k| !k.trim().is_empty());
    // A key that cannot form a header would silently be sent as no key at all.
    if fal_key.as_ref().is_some_and(|k| axum::http::HeaderValue::from_str(&format!("Key {k}")).is_err()) {
        eprintln!("genwire-server: FAL_KEY contains characters that cannot be sent in a header");
        std::process::exit(2);
    }
    if let Some(key) = args.sim_key {
        let usable = key.len() >= 8 && key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-' | b'.'));
        if !usable || !genwire_server::set_sim_key(key) {
            eprintln!("genwire-server: --sim-key takes at least 8 characters of [A-Za-z0-9:_.-]");
            std::process::exit(2);
        }
    }
    let upstream = if fal_key.is_some() { "fal.ai, key from FAL_KEY" } else { "simulated" };
    let endpoints = match args.endpoints.as_deref().map(genwire_server::allowlist::Endpoints::parse).transpose() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("genwire-server: --endpoints: {e}");
            std::process::exit(2);
        }
    };
    let callers = if args.same_origin || args.allowed_origins.is_some() {
        match genwire_server::proxy::Callers::parse(args.allowed_origins.as_deref().unwrap_or(""), args.same_origin) {
            Ok(c) if c.same_origin || !c.origins.is_empty() => Some(c),
            Ok(_) => {
                eprintln!("genwire-server: --allowed-origins: name at least one origin (or 'self')");
                std::process::exit(2);
            }
            Err(e) => {
                eprintln!("genwire-server: --allowed-origins: {e}");
                std::process::exit(2);
            }
        }
    } else {
        None
    };
    if fal_key.is_some() && callers.is_none() {
        eprintln!("genwire-server: note: any page or program that can reach this server can spend FAL_KEY; limit it with --same-origin / --allowed-origins and --endpoints");
    }
    let config = Config {
        root: args.root,
        sim: SimConfig { latency_ms: args.latency_ms, queue_depth: args.queue_depth, queue_step_ms: args.queue_step_ms, keepalive_ms: args.keepalive_ms },
        body_limit_bytes: args.body_limit_bytes,
        cors_any: args.cors_any,
        fal_key,
        body_timeout_ms: args.body_timeout_ms,
        endpoints,
        callers,
        upstream_base: None,
    };
    let listener = match tokio::net::TcpListener::bind(SocketAddr::new(args.host, args.port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("genwire-server: cannot listen on {}:{}: {e}", args.host, args.port);
            std::process::exit(1);
        }
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("genwire-server: {e}");
            std::process::exit(1);
        }
    };
    // Tests and scripts parse this exact line to learn the port.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "genwire-server listening on http://{addr} (upstream: {upstream})");
    let _ = out.flush();
    drop(out);
    if let Err(e) = axum::serve(listener, genwire_server::build_app(config)).await {
        eprintln!("genwire-server: {e}");
        std::process::exit(1);
    }
}
