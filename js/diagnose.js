// genwire diagnose: the integration checklist (seed 000, "Debugging Checklist") as one call.
// Plain JS, no wasm, no dependencies; loaded lazily by `client.diagnose()`.
//
// Every probe is free on the real fal: the key is tested with the status of a made-up request id
// (404 = the key was accepted), the allowlist with hosts under `.invalid` (they never resolve, so an
// open proxy can't send the key anywhere), the realtime socket is opened and closed without an
// input. Only the streaming check needs a job, and only one the app names.

import { DEFAULT_PROXY_URL, DEFAULT_REALTIME_URL, ENDPOINT_NAMESPACES } from "./facts.js";
import { configError, keyInUrl, keyLikeHeaderName, keyLikeName } from "./errors.js";

const IDS = ["proxy", "key", "statuses", "allowlist", "schemas", "uploads", "streaming", "realtime", "clock", "csp"];
const TITLES = {
  proxy: "Proxy route reachable",
  key: "Proxy adds the API key",
  statuses: "Proxy passes fal's status codes through",
  allowlist: "Proxy refuses non-fal targets",
  schemas: "Proxy lets input schemas through (client-side validation)",
  uploads: "Proxy lets uploads through, in parts too",
  streaming: "Status stream passes through unbuffered",
  realtime: "Realtime WebSocket opens with a token",
  clock: "Clock in step with the server",
  csp: "WebAssembly allowed by the page's CSP",
};
const QUEUE = "https://queue.fal.run";
/** Bytes spread over at least this long prove the stream is not held back until its end. */
const SPREAD_MS = 250;
/** A stream that took this long and still arrived in one burst was buffered. */
const BUFFERED_MIN_MS = 1000;
/** How long an open socket is watched for a refusal frame before it counts as accepted. */
const GRACE_MS = 750;
const BODY_LIMIT = 64 * 1024;

const now = () => (typeof performance !== "undefined" ? performance.now() : Date.now());
const pass = (detail) => ({ status: "pass", detail, fix: null });
const warn = (detail, fix) => ({ status: "warn", detail, fix });
const fail = (detail, fix) => ({ status: "fail", detail, fix });
const skip = (detail, fix = null) => ({ status: "skip", detail, fix });
const message = (e) => (e && typeof e.message === "string" ? e.message : String(e));

/**
 * Runs the checks and resolves to a report; a failing check is a `fail` in it, never a rejection.
 * Rejects only for bad arguments (a GenwireError of kind `config`) and when `opts.signal` aborts (with its reason).
 */
export async function diagnose(clientOptions = {}, opts = {}) {
  // Read once, in a guard: a getter or Proxy trap that throws is a config error like any other.
  let o, proxyUrl, realtimeUrl;
  try {
    o = clientOptions ?? {};
    if (typeof o !== "object") throw configError("diagnose: clientOptions must be an object (the options of createClient)");
    if (typeof opts !== "object" || opts === null) throw configError("diagnose: options must be an object");
    opts = { ...opts };
    const secret = Object.keys(o).find(keyLikeName);
    if (secret) throw configError(`diagnose: refusing the option '${secret}': keys never belong in a browser; your proxy adds FAL_KEY`);
    proxyUrl = o.proxyUrl ?? DEFAULT_PROXY_URL;
    realtimeUrl = o.realtimeUrl ?? DEFAULT_REALTIME_URL;
  } catch (e) {
    throw e?.name === "GenwireError" ? e : configError(`diagnose: the options can't be read: ${e?.message ?? e}`);
  }
  if (typeof proxyUrl !== "string" || !proxyUrl) throw configError("diagnose: proxyUrl must be a non-empty string");
  if (typeof realtimeUrl !== "string") throw configError("diagnose: realtimeUrl must be a string");
  let secretHeader;
  try {
    secretHeader = o.headers && typeof o.headers === "object" ? Object.keys(o.headers).find(keyLikeHeaderName) : undefined;
  } catch (e) {
    throw configError(`diagnose: the headers can't be read: ${e?.message ?? e}`);
  }
  if (secretHeader) throw configError(`diagnose: refusing the header '${secretHeader}': keys never belong in a browser; your proxy adds FAL_KEY`);
  for (const [name, url] of [["proxyUrl", proxyUrl], ["realtimeUrl", realtimeUrl]]) {
    const where = keyInUrl(url);
    if (where) throw configError(`diagnose: refusing the option '${name}' (${where}): keys never belong in a browser; your proxy adds FAL_KEY`);
  }
  const timeoutMs = opts.timeoutMs ?? 10_000;
  if (typeof timeoutMs !== "number" || !(timeoutMs > 0)) throw configError("diagnose: timeoutMs must be a positive number");
  const maxSkew = opts.maxClockSkewMs ?? 5_000;
  if (typeof maxSkew !== "number" || !(maxSkew >= 0)) throw configError("diagnose: maxClockSkewMs must be a number >= 0");
  const only = opts.checks ?? IDS;
  if (!Array.isArray(only) || only.some((c) => !IDS.includes(c))) throw configError(`diagnose: checks must be a list of ${IDS.join(", ")}`);
  const probeEp = parseEndpoint(opts.endpoint ?? "fal-ai/flux/dev", "endpoint");
  const rtEp = opts.realtimeEndpoint == null ? null : parseEndpoint(opts.realtimeEndpoint, "realtimeEndpoint");
  const rtPath = opts.realtimePath ?? "/realtime";
  if (typeof rtPath !== "string" || !rtPath.startsWith("/")) throw configError("diagnose: realtimePath must start with '/'");
  if (opts.tokenProvider != null && typeof opts.tokenProvider !== "function") throw configError("diagnose: tokenProvider must be a function");
  const st = opts.streaming ?? null;
  let streamEp = null;
  if (st !== null) {
    if (typeof st !== "object") throw configError("diagnose: streaming must be { endpoint, input } or { endpoint, requestId }");
    streamEp = parseEndpoint(st.endpoint, "streaming.endpoint");
    if ((st.input === undefined) === (st.requestId === undefined)) throw configError("diagnose: streaming needs exactly one of input and requestId");
    if (st.requestId !== undefined && (typeof st.requestId !== "string" || !/^[A-Za-z0-9_-]+$/.test(st.requestId))) throw configError("diagnose: streaming.requestId must be a request id");
    if (st.timeoutMs !== undefined && !(st.timeoutMs > 0)) throw configError("diagnose: streaming.timeoutMs must be a positive number");
  }
  const outer = opts.signal ?? null;
  if (outer !== null && typeof outer.aborted !== "boolean") throw configError("diagnose: signal must be an AbortSignal");
  if (outer?.aborted) throw outer.reason;

  const started = now();
  const want = new Set(only);
  // The client's own fetch and headers (a proxy may want the app's session header); createClient checked them.
  const ctx = { proxyUrl, realtimeUrl, outer, fetch: typeof o.fetch === "function" ? (u, i) => o.fetch(u, i) : (u, i) => fetch(u, i), headers: o.headers && typeof o.headers === "object" ? o.headers : {} };
  const checks = {};
  const run = async (id, ms, fn) => {
    if (!want.has(id)) return;
    checks[id] = await runCheck(id, ms, outer, (signal, timedOut) => fn({ ...ctx, signal, timedOut }));
  };

  const work = (async () => {
    const csp = run("csp", timeoutMs, checkCsp);
    // One GET through the proxy tells whether the route is there, the key was added and the clock.
    let probe = null;
    const needProbe = ["proxy", "key", "statuses", "clock", "allowlist", "schemas", "uploads", "streaming", "realtime"].some((id) => want.has(id));
    if (needProbe) {
      const r = await runCheck("proxy", timeoutMs, outer, (signal, timedOut) => checkProxy({ ...ctx, signal, timedOut }, probeEp));
      probe = r.probe;
      delete r.probe;
      if (want.has("proxy")) checks.proxy = r;
      if (want.has("key")) checks.key = { id: "key", title: TITLES.key, ...keyVerdict(probe), ms: r.ms };
      if (want.has("statuses")) checks.statuses = { id: "statuses", title: TITLES.statuses, ...statusesVerdict(probe), ms: 0 };
      if (want.has("clock")) checks.clock = { id: "clock", title: TITLES.clock, ...clockVerdict(probe, maxSkew, proxyUrl), ms: 0 };
    }
    const reachable = probe?.reachable === true;
    const noProxy = skip("Skipped: the proxy route could not be used (see the proxy check).", null);
    await Promise.all([
      csp,
      run("allowlist", timeoutMs, (c) => (reachable ? checkAllowlist(c, probe) : noProxy)),
      run("schemas", timeoutMs, (c) => (reachable ? checkSchemas(c, probeEp, probe) : noProxy)),
      run("uploads", timeoutMs, (c) => (reachable ? checkUploads(c, probe) : noProxy)),
      run("streaming", st?.timeoutMs ?? Math.max(timeoutMs, 60_000), (c) => (st === null ? skip(
        "Not checked: fal has no free event stream, and watching one needs a job.",
        "Pass `streaming: { endpoint, input }` (submits one cheap job, cancelled as soon as the stream is seen to be live) or `streaming: { endpoint, requestId }` of a job that is running.",
      ) : reachable ? checkStreaming(c, streamEp, st) : noProxy)),
      run("realtime", timeoutMs, (c) => (rtEp === null ? skip(
        "Not checked: no realtime endpoint was named.",
        "Pass `realtimeEndpoint: \"<owner>/<app>\"` (e.g. \"fal-ai/fast-lcm-diffusion\") if the app uses realtime.",
      ) : reachable || opts.tokenProvider ? checkRealtime(c, rtEp, rtPath, opts.tokenProvider) : noProxy)),
    ]);
  })();
  if (outer) {
    work.catch(() => {}); // the race below reports the abort
    let off;
    const aborted = new Promise((_, reject) => {
      off = () => outer.removeEventListener("abort", onAbort);
      const onAbort = () => reject(outer.reason);
      outer.addEventListener("abort", onAbort, { once: true });
    });
    try { await Promise.race([work, aborted]); } finally { off(); }
  } else {
    await work;
  }

  const list = IDS.filter((id) => checks[id]).map((id) => checks[id]);
  const counts = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of list) counts[c.status]++;
  const report = { ok: counts.fail === 0, checks: list, counts, proxyUrl, ms: Math.round(now() - started), text: "" };
  report.text = render(report);
  return report;
}

/** One check with its own deadline, linked to the caller's signal. */
async function runCheck(id, ms, outer, fn) {
  const t0 = now();
  const c = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; c.abort(new DOMException(`no answer within ${ms} ms`, "TimeoutError")); }, ms);
  const onAbort = () => c.abort(outer.reason);
  outer?.addEventListener("abort", onAbort, { once: true });
  let r;
  try {
    r = await fn(c.signal, () => timedOut);
  } catch (e) {
    if (outer?.aborted) throw outer.reason;
    r = timedOut
      ? fail(`No answer within ${ms} ms.`, id === "proxy" || id === "allowlist"
        ? "The proxy route hangs: check the server's log; a proxy must answer every request (forwarding only fal targets, refusing others at once)."
        : "Something on the way holds the connection open without answering; check the server's log and any gateway in front of it.")
      : fail(`The check could not run: ${message(e)}`, "This looks like a bug in diagnose or an unusual environment; please report it with this text.");
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener("abort", onAbort);
  }
  return { id, title: TITLES[id], status: r.status, detail: r.detail, fix: r.fix ?? null, ms: Math.round(now() - t0), ...(r.probe ? { probe: r.probe } : {}) };
}

// ---------------------------------------------------------------- endpoint ids

/** An endpoint id by the core's rules (the same table checks both: tests/facts/endpoint-ids.json). */
export function parseEndpoint(id, name = "endpoint") {
  if (typeof id !== "string") throw configError(`diagnose: ${name} must be an endpoint id such as "fal-ai/flux/dev"`);
  let parts = id.trim().replace(/^\/+|\/+$/g, "").split("/");
  if (parts.some((p) => !/^[A-Za-z0-9._-]+$/.test(p) || p === "." || p === "..")) throw configError(`diagnose: ${name} '${id}' is not an endpoint id`);
  if (parts.length === 1) {
    const m = /^(\d+)-(.+)$/.exec(parts[0]); // legacy `12345-alias`
    if (!m) throw configError(`diagnose: ${name} '${id}' needs an owner and an alias, e.g. "fal-ai/flux/dev"`);
    parts = [m[1], m[2]];
  }
  const ns = ENDPOINT_NAMESPACES.includes(parts[0]) && parts.length >= 3 ? parts.shift() : null;
  const app = (ns ? `${ns}/` : "") + `${parts[0]}/${parts[1]}`;
  return { full: parts.length > 2 ? `${app}/${parts.slice(2).join("/")}` : app, app, alias: parts[1] };
}

// ---------------------------------------------------------------- HTTP through the proxy

/** One call to the proxy: `{status, type, ct, text, json, date, sentAt, recvAt}`; network errors throw. */
async function call(ctx, method, target, { body, accept = "application/json", read = true } = {}) {
  const headers = { ...ctx.headers, accept };
  if (target != null) headers["x-fal-target-url"] = target;
  if (body !== undefined) headers["content-type"] = "application/json";
  const sentAt = Date.now();
  const res = await ctx.fetch(ctx.proxyUrl, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    redirect: "manual", cache: "no-store", signal: ctx.signal,
  });
  const recvAt = Date.now();
  const a = { res, status: res.status, type: res.type, ct: (res.headers.get("content-type") ?? "").toLowerCase(), date: res.headers.get("date"), poweredBy: res.headers.get("x-powered-by") ?? "", sentAt, recvAt, text: "", json: undefined };
  if (read && res.type !== "opaqueredirect") {
    a.text = await readBounded(res);
    try { a.json = JSON.parse(a.text); } catch { /* not JSON */ }
  }
  return a;
}

async function readBounded(res) {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let out = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out + dec.decode();
    out += dec.decode(value, { stream: true });
    if (out.length > BODY_LIMIT) { reader.cancel().catch(() => {}); return out.slice(0, BODY_LIMIT); }
  }
}

const isHtml = (a) => a.ct.includes("html") || /^\s*</.test(a.text);
/** A body fal would send: `{detail: ...}`, and not one of our proxy's own refusals. */
const isFalBody = (a) => a.json !== null && typeof a.json === "object" && "detail" in a.json && !String(a.json.error_type ?? "").startsWith("proxy_");
/** The proxy itself refused the target (fal never answers these statuses that way). */
const isRefusal = (a) => a.json?.error_type === "proxy_target_rejected" || ([400, 403, 412].includes(a.status) && !isFalBody(a));
const excerpt = (a) => {
  const t = (a.text ?? "").replace(/\s+/g, " ").trim();
  return t ? ` ${t.length > 140 ? `${t.slice(0, 140)}…` : t}` : " (empty body)";
};
const answer = (a) => (a.type === "opaqueredirect" ? "a redirect" : `${a.status}${a.ct ? ` ${a.ct.split(";")[0]}` : ""}`);

const randomId = () => (globalThis.crypto?.randomUUID?.() ?? "00000000-0000-4000-8000-" + Math.floor(Math.random() * 2 ** 48).toString(16).padStart(12, "0"));

function routeFix(proxyUrl) {
  return `Serve the proxy at ${proxyUrl} for GET, POST and PUT (or pass createClient({ proxyUrl }) the route you have). ` +
    `Next.js App Router: app/api/fal/proxy/route.ts with \`import { route } from "@fal-ai/server-proxy/nextjs"; export const { GET, POST, PUT } = route;\`. ` +
    `Express: \`app.all(falProxy.route, falProxy.handler)\` from "@fal-ai/server-proxy/express". Auth middleware must let the route through.`;
}

// ---------------------------------------------------------------- proxy + key + clock

async function checkProxy(ctx, ep) {
  const id = randomId();
  const target = `${QUEUE}/${ep.app}/requests/${id}/status`;
  let a;
  try {
    // The PUT tells whether cancels get through (a made-up id: nothing is cancelled).
    const [get, put] = await Promise.allSettled([call(ctx, "GET", target), call(ctx, "PUT", `${QUEUE}/${ep.app}/requests/${id}/cancel`)]);
    if (get.status === "rejected") throw get.reason;
    a = get.value;
    a.put = put.status === "fulfilled" ? put.value : null;
  } catch (e) {
    if (ctx.signal.aborted) throw e;
    const cross = crossOrigin(ctx.proxyUrl);
    return { ...fail(`fetch ${ctx.proxyUrl} failed: ${message(e)}.`, cross
      ? `The proxy is on another origin (${cross}): it must answer CORS preflights (OPTIONS) allowing the header x-fal-target-url and the methods GET, POST, PUT, and the page's CSP connect-src must allow it. Same-origin routes avoid all of that.`
      : `Check that the app's server is running and that proxyUrl ("${ctx.proxyUrl}") is its proxy route; look for a CSP connect-src or an extension blocking it.`), probe: { reachable: false } };
  }
  const probe = { reachable: false, a, refused: false };
  const seen = `GET ${ctx.proxyUrl} (target ${QUEUE}/${ep.app}/requests/<made-up id>/status) answered ${answer(a)}`;
  let r;
  if (a.type === "opaqueredirect" || (a.status >= 300 && a.status < 400)) {
    r = fail(`${seen}: the route redirects instead of answering.`,
      "The proxy route must answer the request itself: exclude it from auth/login middleware (Next.js: middleware `config.matcher`), trailing-slash and http→https redirects, or point proxyUrl at the final URL.");
  } else if (isHtml(a) && a.status >= 500) {
    r = fail(`${seen}: an error page from the server or a gateway in front of it.${excerpt(a)}`, "Read the server's log for this request; the route crashed or its host is down.");
  } else if (isHtml(a) || a.status === 405 || a.status === 501) {
    r = fail(`${seen}: that is not the proxy (${a.status === 405 ? "the route exists but does not take GET" : "a page, not an API answer"}).${isHtml(a) ? "" : excerpt(a)}`, routeFix(ctx.proxyUrl));
  } else if (a.status === 404 && !isFalBody(a)) {
    // fal says 404 with {detail}; anything else may be a missing route. Asked without a target,
    // a proxy says 400 (missing header) while a missing route says 404 again.
    let bare = null;
    try { bare = await call(ctx, "GET", null); } catch (e) { if (ctx.signal.aborted) throw e; }
    if (!bare || bare.status === 404 || bare.status === 405 || isHtml(bare)) {
      r = fail(`${seen} (${excerpt(a).trim()}); without x-fal-target-url it answered ${bare ? answer(bare) : "nothing"} too: no proxy route is there.`, routeFix(ctx.proxyUrl));
    } else {
      probe.reachable = true;
      r = pass(`${seen}; without a target it answered ${answer(bare)}: the route is there.`);
    }
  } else if (a.status >= 500 && (a.json?.error_type === "proxy_upstream_error" || !isFalBody(a))) {
    r = fail(`${seen}: the proxy failed before fal answered.${excerpt(a)}`,
      "Read the server's log. Common causes: FAL_KEY unset (custom proxies often throw then), or no outbound HTTPS from the server to queue.fal.run (DNS, firewall, egress rules).");
  } else if (isRefusal(a)) {
    probe.reachable = probe.refused = true;
    r = pass(`${seen}: the route is there, though it refused this target (see the allowlist check).${excerpt(a)}`);
  } else {
    probe.reachable = true;
    r = pass(`${seen}: the route forwards to fal.`);
  }
  if (r.status === "pass" && a.put && (a.put.status === 405 || a.put.status === 501 || (a.put.status === 404 && !isFalBody(a.put)) || isHtml(a.put))) {
    r = warn(`${r.detail} But PUT (cancel) answered ${answer(a.put)}: cancels never reach fal, so timeouts and aborts leave jobs running (and billed).`,
      "Handle PUT on the proxy route too: Next.js App Router `export const { GET, POST, PUT } = route;`; hand-written proxies must forward every method, not only GET/POST.");
  }
  return { ...r, probe };
}

function keyVerdict(probe) {
  if (!probe?.reachable) return skip("Not known: the proxy route could not be used (see the proxy check).");
  const a = probe.a;
  const said = `The status of a made-up request id through the proxy answered ${answer(a)}${excerpt(a)}`;
  if (probe.refused) return skip(`Not known: the proxy refused the queue.fal.run target itself (see the allowlist check). ${said}`);
  if (a.status === 401) {
    const own = isFalBody(a) ? "" : " If your proxy requires a signed-in user (good), sign in and run diagnose again; otherwise:";
    return fail(`${said}: ${isFalBody(a) ? "fal saw no key, or a wrong one" : "unauthorized"}.`,
      (own + " Set FAL_KEY in the server's environment (not a NEXT_PUBLIC_/VITE_ variable, which would reach the browser) and restart it; the proxy must send `Authorization: Key <FAL_KEY>`. A literal `Key undefined` means the variable is not set where the proxy runs (check the deployment's environment, e.g. Vercel project settings).").trim());
  }
  if (a.status === 403) {
    return fail(`${said}: fal refused the key.`,
      "The key lacks the scope or access for this app: create an API-scoped key in the fal dashboard (Keys) for the right team, and check the account's billing.");
  }
  if (flattened(a)) return pass(`${said}: fal looked the request up, so the key was accepted (the proxy answered fal's 404 as ${a.status}: see the status check).`);
  if (!isFalBody(a) && a.status === 404) return warn(`${said}: a 404, but not in fal's shape.`, "Check that the proxy forwards to the URL in x-fal-target-url unchanged, with the same method, and passes fal's answer back.");
  if (a.status === 404 || a.status === 400 || a.status === 422) return pass(`${said}: fal looked the request up, so the key was accepted.`);
  if (a.status === 429) return pass(`${said}: rate limited, but the key was read.`);
  if (a.status >= 500) return warn(`${said}: fal itself had trouble; the key could not be judged.`, "Run diagnose again in a moment; see status.fal.ai.");
  return warn(`${said}: not the answer fal gives for an unknown request.`, "Check that the proxy forwards to the URL in x-fal-target-url unchanged, with the same method.");
}

/** A 2xx whose body is fal's error document (`{detail}` with no job status): a status-flattening proxy. */
const flattened = (a) => a.status >= 200 && a.status < 300 && isFalBody(a) && typeof a.json.status !== "string";

/** The server framework the answer names (`x-powered-by`), for fixes written for it. */
function framework(a) {
  const p = (a?.poweredBy ?? "").toLowerCase();
  if (p.includes("next.js")) return "next";
  if (p.includes("express")) return "express";
  if (p.includes("hono")) return "hono";
  return null;
}

/** Which proxy refused a target, by the shape of its refusal. */
function refuser(a) {
  if (a.json === "Invalid request" && a.status === 400) return "@fal-ai/server-proxy";
  if (String(a.json?.error_type ?? "").startsWith("proxy_")) return "genwire's proxy";
  return null;
}

/** How to replace a proxy that breaks the contract, for the framework it runs on. */
function genwireProxyFix(a) {
  switch (framework(a)) {
    case "express":
      return "Use genwire/proxy's handler, which passes every status through: `import { nodeHandler } from \"genwire/proxy\"; app.all(\"/api/fal/proxy\", nodeHandler());` (before any body parser).";
    case "next":
      return "Use genwire/proxy's route (App Router, app/api/fal/proxy/route.ts): `import { nextRoute } from \"genwire/proxy\"; export const { GET, POST, PUT } = nextRoute();` (Pages router: `export default nextPagesHandler()` with `export const config = { api: { bodyParser: false } }`).";
    case "hono":
      return "Use genwire/proxy's handler: `app.all(\"/api/fal/proxy\", honoHandler())` from \"genwire/proxy\".";
    default:
      return "Use genwire/proxy (nextRoute() for Next.js, nodeHandler() for Express/Node http, honoHandler() for Hono, createProxy() for any Fetch-standard server), or make the proxy answer with fal's status and headers: `new Response(upstream.body, { status: upstream.status, headers })`.";
  }
}

/** The allowlist line a refusing proxy needs, for the proxy that refused. */
function allowFix(a, pattern, genwireNote) {
  if (refuser(a) === "@fal-ai/server-proxy") {
    return `Add \`"${pattern}"\` to the handler's allowedUrlPatterns (after ...DEFAULT_ALLOWED_URL_PATTERNS from "@fal-ai/server-proxy"). ${genwireProxyFix(a)}`;
  }
  if (refuser(a) === "genwire's proxy") return genwireNote;
  return `Allow ${pattern.replace(/\\/g, "")} in the proxy's allowlist.`;
}

function statusesVerdict(probe) {
  if (!probe?.reachable) return skip("Not known: the proxy route could not be used (see the proxy check).");
  const a = probe.a;
  if (probe.refused) return skip("Not known: the proxy refused the queue.fal.run target itself (see the allowlist check).");
  if (flattened(a)) {
    const who = framework(a) === "express" ? " (@fal-ai/server-proxy's Express handler does this: it streams the body without the status)" : "";
    return fail(`The status of a made-up request, which fal answers 404, came back as ${answer(a)}${excerpt(a)}: the proxy answers every error with status ${a.status}${who}. ` +
      "genwire reads such answers by their body (errors still reject, typed), but the error's own status is a guess, and browser tools, logs and other clients see successes.",
      genwireProxyFix(a));
  }
  if (a.status >= 400) return pass(`A made-up request came back as ${a.status}, as fal answered it.`);
  return warn(`The status of a made-up request came back as ${answer(a)}${excerpt(a)}, not fal's 404.`, "Check that the proxy passes fal's status code and body through unchanged.");
}

// ---------------------------------------------------------------- schemas and uploads

async function checkSchemas(ctx, ep, probe) {
  if (probe.refused) return skip("Not known: the proxy refused queue.fal.run itself (see the allowlist check).");
  const target = `https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=${encodeURIComponent(ep.full)}`;
  const a = await call(ctx, "GET", target);
  const said = `The OpenAPI document of ${ep.full} through the proxy answered ${answer(a)}`;
  if (a.status >= 200 && a.status < 300 && a.json && typeof a.json === "object" && ("paths" in a.json || "openapi" in a.json)) {
    return pass(`${said}: inputs are checked in the browser before they are sent.`);
  }
  const off = "genwire then leaves validation to the server (inputs are sent and a bad one comes back as fal's 422).";
  if (isRefusal(a)) {
    return warn(`${said}: the proxy refuses the schema route.${excerpt(a)} ${off}`,
      allowFix(a, "fal.ai/api/openapi/queue/openapi.json\\?endpoint_id=*{,/**}", "genwire/proxy allows schemas of the endpoints it allows: add this endpoint to its `endpoints` option."));
  }
  if (flattened(a) || a.status >= 400) return warn(`${said}${excerpt(a)}. ${off}`, `Check that the endpoint id is right; see status.fal.ai if fal answered 5xx.`);
  return warn(`${said}, not an OpenAPI document.${excerpt(a)} ${off}`, "Check that the proxy passes fal's answers through unchanged.");
}

async function checkUploads(ctx, probe) {
  if (probe.refused) return skip("Not known: the proxy refused queue.fal.run itself (see the allowlist check).");
  // Initiating costs nothing and stores nothing: no byte is sent to the URLs fal hands out.
  const body = { content_type: "text/plain", file_name: "genwire-diagnose.txt" };
  const storage = "https://rest.fal.ai/storage/upload";
  const [simple, multi] = await Promise.all(["initiate", "initiate-multipart"].map((p) => call(ctx, "POST", `${storage}/${p}?storage_type=fal-cdn-v3`, { body })));
  const ok = (a) => a.status >= 200 && a.status < 300 && typeof a.json?.upload_url === "string";
  if (!ok(simple)) {
    if (isRefusal(simple)) {
      return fail(`Initiating an upload through the proxy answered ${answer(simple)}: the proxy refuses storage uploads.${excerpt(simple)} Files in inputs can't be uploaded.`,
        allowFix(simple, "rest.fal.ai/storage/upload/initiate\\?storage_type=fal-cdn-v3", "genwire/proxy always allows uploads: check that this is the route it serves."));
    }
    return warn(`Initiating an upload through the proxy answered ${answer(simple)}${excerpt(simple)}`, "Check the key's access to fal storage; see status.fal.ai if fal answered 5xx.");
  }
  if (!ok(multi)) {
    const said = `Simple uploads can be initiated, but the multipart initiate answered ${answer(multi)}${excerpt(multi)}`;
    if (isRefusal(multi)) {
      return warn(`${said}: the proxy refuses uploads in parts. genwire sends files above the multipart threshold (90 MiB) in one PUT instead: no part is retried alone.`,
        allowFix(multi, "rest.fal.ai/storage/upload/initiate-multipart\\?storage_type=fal-cdn-v3", "genwire/proxy always allows multipart uploads: check that this is the route it serves."));
    }
    return warn(said, "Check the key's access to fal storage.");
  }
  return pass("Uploads can be initiated whole and in parts (no bytes were sent).");
}

function clockVerdict(probe, maxSkew, proxyUrl) {
  const a = probe?.a;
  if (!a) return skip("Not known: the proxy did not answer.");
  const server = a.date ? Date.parse(a.date) : NaN;
  if (Number.isNaN(server)) {
    return skip(a.date ? `The Date header "${a.date}" could not be read.` : "The proxy's answer had no Date header this page may read.",
      crossOrigin(proxyUrl) ? "A proxy on another origin must list Date in Access-Control-Expose-Headers." : null);
  }
  // Date has whole seconds (truncated): compare with the middle of that second.
  const skew = server + 500 - (a.sentAt + a.recvAt) / 2;
  const slack = 500 + (a.recvAt - a.sentAt) / 2;
  const abs = Math.max(0, Math.abs(skew) - slack);
  const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
  const said = `The server's Date header (${a.date}) is ${s(Math.abs(skew))} ${skew > 0 ? "ahead of" : "behind"} this computer's clock (±${s(slack)}).`;
  if (abs > maxSkew) {
    return warn(said, "Set this computer's clock automatically (NTP: system settings, date & time), or the server's if it is the one off. Retry-After and X-RateLimit-Reset dates and token expiries are read against the local clock, so waits come out too short or too long.");
  }
  return pass(said);
}

function crossOrigin(url) {
  if (typeof location === "undefined") return null;
  try {
    const u = new URL(url, location.href);
    return u.origin !== location.origin ? u.origin : null;
  } catch { return null; }
}

// ---------------------------------------------------------------- allowlist

async function checkAllowlist(ctx, probe) {
  if (probe.refused) {
    return fail(`The proxy refused the target ${QUEUE}/… itself: it answered ${answer(probe.a)}${excerpt(probe.a)}`,
      "Allow the fal hosts: queue.fal.run/** and fal.run/** (jobs), rest.fal.ai/storage/upload/* (uploads), rest.fal.ai/tokens/ (realtime), fal.ai/api/openapi/queue/openapi.json (schemas). Match the exact host name of new URL(target).");
  }
  // Hosts under .invalid never resolve (RFC 6761): a proxy that forwards them can't reach anyone,
  // so not even an open proxy sends the key anywhere during this check.
  const targets = ["https://example.invalid/", "https://queue.fal.run.invalid/"];
  const answers = await Promise.all(targets.map(async (t) => {
    try { return await call(ctx, "GET", t); } catch (e) { if (ctx.signal.aborted) throw e; return { error: message(e) }; }
  }));
  const lines = [];
  let open = null;
  answers.forEach((a, i) => {
    const t = targets[i];
    if (a.error) { lines.push(`${t} → no answer (${a.error})`); open ??= { t, how: "the connection failed (the proxy may have crashed trying to reach it)" }; return; }
    const refused = a.type !== "opaqueredirect" && a.status >= 400 && a.status < 500;
    lines.push(`${t} → ${answer(a)}${refused ? " (refused)" : ""}`);
    if (!refused) open ??= { t, how: a.status >= 500 ? `${answer(a)}: it tried to reach the host instead of refusing it (${excerpt(a).trim()})` : `${answer(a)}: it forwarded the request` };
  });
  if (open) {
    return fail(`Open proxy: ${open.t} answered ${open.how}. ${lines.join("; ")}.`,
      "Refuse every target that is not fal before forwarding, or anyone can use your server (and your FAL_KEY) to call any host: compare new URL(target).hostname exactly with queue.fal.run, fal.run, rest.fal.ai and fal.ai (no includes/endsWith; `queue.fal.run.evil.com` must fail), https only. @fal-ai/server-proxy does this; hand-written proxies must too.");
  }
  return pass(`${lines.join("; ")}; queue.fal.run was let through.`);
}

// ---------------------------------------------------------------- streaming

async function checkStreaming(ctx, ep, st) {
  let requestId = st.requestId;
  let submitted = false;
  if (requestId === undefined) {
    let a;
    try { a = await call(ctx, "POST", `${QUEUE}/${ep.full}`, { body: st.input }); } catch (e) {
      if (ctx.signal.aborted) throw e;
      return fail(`Submitting the test job failed: ${message(e)}`, "The proxy dropped the connection; read the server's log for this POST.");
    }
    if (a.status < 200 || a.status >= 300 || typeof a.json?.request_id !== "string") {
      if (isRefusal(a)) return fail(`Submitting to ${QUEUE}/${ep.full} was refused by the proxy: ${answer(a)}${excerpt(a)}`, "Allow POST to queue.fal.run/** in the proxy's allowlist.");
      return warn(`The test job could not be submitted: ${answer(a)}${excerpt(a)}`, "Pass an input the endpoint accepts (or a requestId of a running job) in `streaming`.");
    }
    requestId = a.json.request_id;
    submitted = true;
  }
  const target = `${QUEUE}/${ep.app}/requests/${requestId}/status/stream?logs=0`;
  const t0 = now();
  const reads = []; // arrival time of every chunk with bytes
  let events = 0, completed = false, ended = false, a = null, live = false, broken = null;
  try {
    a = await call(ctx, "GET", target, { accept: "text/event-stream", read: false });
    if (a.status >= 200 && a.status < 300 && a.res.body && a.ct.includes("text/event-stream")) {
      const reader = a.res.body.getReader();
      const dec = new TextDecoder();
      let buf = "";
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) { ended = true; break; }
          if (!value?.length) continue;
          reads.push(now() - t0);
          buf += dec.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
          let cut;
          while ((cut = buf.indexOf("\n\n")) >= 0) {
            const ev = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            if (/^data:/m.test(ev)) { events++; if (/"status"\s*:\s*"COMPLETED"/.test(ev)) completed = true; }
          }
          // Bytes at two moments this far apart, before the end: nothing holds the stream back.
          if (reads[reads.length - 1] - reads[0] >= SPREAD_MS) { live = true; break; }
        }
      } finally {
        reader.cancel().catch(() => {});
      }
    } else {
      a.text = await readBounded(a.res);
      try { a.json = JSON.parse(a.text); } catch { /* not JSON */ }
    }
  } catch (e) {
    if (ctx.signal.aborted && !ctx.timedOut()) throw e;
    if (!ctx.timedOut()) broken = message(e);
  } finally {
    if (submitted && !completed) {
      // Best effort, so the test job costs as little as possible.
      ctx.fetch(ctx.proxyUrl, { method: "PUT", headers: { ...ctx.headers, "x-fal-target-url": `${QUEUE}/${ep.app}/requests/${requestId}/cancel`, accept: "application/json" }, cache: "no-store" }).catch(() => {});
    }
  }
  const job = submitted ? `the test job ${requestId}` : `the job ${requestId}`;
  const bufferFix = (framework(a) === "next"
    ? "This Next.js route reads the answer whole before sending it (@fal-ai/server-proxy's Pages router `createPageRouterHandler` does): use the App Router (`export const { GET, POST, PUT } = nextRoute()` from \"genwire/proxy\" in app/api/fal/proxy/route.ts), or genwire/proxy's `nextPagesHandler()`, which streams. "
    : "") + "Stream the upstream body through unchanged and unbuffered: return `new Response(upstream.body, { status, headers })` (not `await upstream.text()`/`.json()`); @fal-ai/server-proxy's App Router `route` streams, its Pages Router `handler` does not. No compression for text/event-stream; nginx: `proxy_buffering off;` or send `X-Accel-Buffering: no`; serverless hosts: a runtime that streams responses. Meanwhile genwire notices and polls.";
  if (broken !== null) {
    return fail(`The status stream of ${job} broke after ${reads.length} chunk${reads.length === 1 ? "" : "s"}: ${broken}`,
      "Something on the way cuts long responses: raise the proxy's or host's response timeout for text/event-stream (serverless functions often stop at 10-60 s) and don't buffer it. genwire falls back to polling meanwhile.");
  }
  if (a === null) return fail(`The status stream of ${job} got no answer within the time limit.`, bufferFix);
  if (a.status < 200 || a.status >= 300) {
    if (isRefusal(a)) return fail(`The proxy refused the status stream (${target.split("?")[0]}): ${answer(a)}${excerpt(a)}`, "Allow GET queue.fal.run/**/requests/*/status/stream in the proxy's allowlist (genwire falls back to polling meanwhile).");
    return warn(`The status stream of ${job} answered ${answer(a)}${excerpt(a)}`, "genwire falls back to polling; check that the job id and endpoint are right.");
  }
  if (!a.ct.includes("text/event-stream")) {
    return fail(`The status stream answered ${answer(a)} instead of text/event-stream:${excerpt(a)}`,
      `Forward the browser's Accept header (text/event-stream) to fal; some proxies, including @fal-ai/server-proxy, overwrite it with application/json. And pass the upstream's content-type back. genwire polls meanwhile. ${genwireProxyFix(a)}`);
  }
  const total = Math.round(now() - t0);
  const first = reads.length ? Math.round(reads[0]) : null;
  if (live) return pass(`The stream of ${job} delivered bytes as they came: the first after ${first} ms, more ${Math.round(reads[reads.length - 1] - reads[0])} ms later (${events} event${events === 1 ? "" : "s"} read, then the check stopped reading).`);
  if (!reads.length) {
    return fail(`No byte of the status stream of ${job} arrived in ${total} ms, though fal sends the status at once: something holds the stream back.`, bufferFix);
  }
  if (ended && total >= BUFFERED_MIN_MS) {
    return fail(`All ${events} event${events === 1 ? "" : "s"} of ${job} arrived at once, ${first} ms after the request, when the stream ended: the response was buffered on the way.`, bufferFix);
  }
  return warn(`Inconclusive: the stream of ${job} ended after ${total} ms with ${events} event${events === 1 ? "" : "s"} in one burst; too quick to tell buffering from a fast job.`,
    "Name a job that takes a few seconds (or one still queued) in `streaming`.");
}

// ---------------------------------------------------------------- realtime

async function checkRealtime(ctx, ep, path, tokenProvider) {
  if (typeof WebSocket === "undefined") return skip("Not checked: this environment has no WebSocket.");
  const base = ctx.realtimeUrl.replace(/\/+$/, "");
  if (!/^wss?:\/\//i.test(base)) {
    return fail(`realtimeUrl "${ctx.realtimeUrl}" is not a ws:// or wss:// URL.`, "Leave realtimeUrl unset (wss://fal.run) or give the ws(s):// base of your realtime server.");
  }
  let token;
  if (tokenProvider) {
    try { token = await tokenProvider(ep.alias); } catch (e) {
      if (ctx.signal.aborted) throw e;
      return fail(`The app's tokenProvider("${ep.alias}") threw: ${message(e)}`, "Make tokenProvider resolve to a token from your server (fal's POST https://rest.fal.ai/tokens/).");
    }
    if (typeof token !== "string" || !token) return fail(`The app's tokenProvider("${ep.alias}") gave ${typeof token}, not a token string.`, "Resolve to the token string.");
  } else {
    const a = await call(ctx, "POST", "https://rest.fal.ai/tokens/", { body: { allowed_apps: [ep.alias], token_expiration: 120 } });
    const said = `POST https://rest.fal.ai/tokens/ through the proxy answered ${answer(a)}`;
    if (a.status < 200 || a.status >= 300) {
      if (isRefusal(a)) return fail(`${said}: the proxy refuses the token endpoint.${excerpt(a)}`, `${allowFix(a, "rest.fal.ai/tokens/", "genwire/proxy allows tokens for the endpoints it allows: add this app to its \`endpoints\` option.")} (@fal-ai/server-proxy's default list leaves tokens out.) Or give the app a tokenProvider of its own.`);
      if (a.status === 401 || a.status === 403) return fail(`${said}: the key was not accepted.${excerpt(a)}`, "Fix the key first (see the key check); the proxy must add it to this call too.");
      return fail(`${said}.${excerpt(a)}`, "Check the proxy's log for this call; realtime needs a token from it.");
    }
    const v = a.json;
    token = typeof v === "string" ? v : typeof v?.detail === "string" ? v.detail : typeof v?.token === "string" ? v.token : null;
    if (!token) return fail(`${said}, but no token in it:${excerpt(a)}`, "The proxy must pass fal's answer (a JSON string) through unchanged.");
  }
  const shown = `${base}/${ep.full}${path}`;
  const url = `${shown}?fal_jwt_token=${encodeURIComponent(token)}`;
  return new Promise((resolve, reject) => {
    let ws, opened = false, grace = null, violation = null;
    const doc = typeof document !== "undefined" ? document : null;
    const onViolation = (e) => { if (/^wss?:/i.test(e.blockedURI ?? "") || e.blockedURI === "websocket") violation = e; };
    const cleanup = () => {
      clearTimeout(grace);
      doc?.removeEventListener("securitypolicyviolation", onViolation);
      ctx.signal.removeEventListener("abort", onAbort);
      if (ws) { ws.onopen = ws.onclose = ws.onerror = ws.onmessage = null; try { ws.close(1000); } catch { /* closed */ } }
    };
    const finish = (r) => { cleanup(); resolve(r); };
    const onAbort = () => {
      if (ctx.timedOut()) finish(fail(`The socket to ${shown} neither opened nor failed within the time limit.`, "Something on the way (a corporate proxy, a firewall) holds WebSocket upgrades; try another network."));
      else { cleanup(); reject(ctx.signal.reason); }
    };
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    doc?.addEventListener("securitypolicyviolation", onViolation);
    const cspFix = `Add ${new URL(base).origin} to the page's Content-Security-Policy connect-src.`;
    const refusedFix = `Check realtimeUrl (now ${ctx.realtimeUrl}) and that ${new URL(base).host} is reachable from this browser: WebSockets can be blocked by a CSP connect-src, a corporate proxy, a firewall or an extension. genwire falls back to polling, with more latency.`;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      finish(fail(`The WebSocket to ${shown} could not be created: ${message(e)}`, /security|policy/i.test(message(e)) ? cspFix : refusedFix));
      return;
    }
    ws.onopen = () => {
      opened = true;
      // A refused token or an unknown app comes as a frame and a close right after opening.
      grace = setTimeout(() => finish(pass(`Token ${tokenProvider ? "from the app's tokenProvider" : "fetched through the proxy"}; ${shown} opened and stayed open ${GRACE_MS} ms with no input sent.`)), GRACE_MS);
    };
    ws.onmessage = (m) => {
      let v = null;
      try { v = typeof m.data === "string" ? JSON.parse(m.data) : null; } catch { /* not JSON */ }
      if (v && (v.status === "error" || v.type === "x-fal-error")) {
        const unauthorized = v.status === "error" || /unauthori/i.test(String(v.error));
        finish(fail(`${shown} opened, then the server said ${JSON.stringify(v).slice(0, 200)}.`, unauthorized
          ? `The token was refused: it must be minted for this app (allowed_apps ["${ep.alias}"]) by the same account's key, and used before it expires.`
          : `The realtime server refused the connection: check that "${ep.full}" is a realtime app and the path (${path}) is right.`));
      }
    };
    ws.onerror = () => { /* the close event says more */ };
    ws.onclose = (e) => {
      if (violation) return finish(fail(`The page's CSP blocked ${shown} (${violation.violatedDirective}).`, cspFix));
      if (opened) {
        return finish(e.code === 1000 ? warn(`${shown} opened, then closed normally (1000) at once.`, "Check the realtime app id; fal closes sockets it has nothing to serve.")
          : fail(`${shown} opened, then closed with ${e.code}${e.reason ? ` (${e.reason})` : ""}.`, e.code === 1008 ? `The server refused the token or the app: mint the token for ["${ep.alias}"] with the same account's key.` : refusedFix));
      }
      finish(fail(`The WebSocket to ${shown} could not be opened (close ${e.code}${e.reason ? `, ${e.reason}` : ""}).`, refusedFix));
    };
  });
}

// ---------------------------------------------------------------- CSP

async function checkCsp() {
  if (typeof WebAssembly !== "object" || typeof WebAssembly.compile !== "function") {
    return fail("This browser exposes no WebAssembly.", "genwire needs WebAssembly: it is off in Safari Lockdown Mode, some enterprise policies and hardened browser settings.");
  }
  try {
    // The smallest valid module: magic and version.
    await WebAssembly.compile(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
    return pass("A minimal WebAssembly module compiled.");
  } catch (e) {
    const m = message(e);
    if (/content.security|unsafe-eval|wasm-eval|not an allowed source/i.test(m)) {
      return fail(`WebAssembly compilation was refused by the page's Content-Security-Policy: ${m}`,
        "Add 'wasm-unsafe-eval' to script-src, e.g. `Content-Security-Policy: script-src 'self' 'wasm-unsafe-eval'` (Next.js: the CSP in next.config.js headers() or middleware). Not 'unsafe-eval', which allows far more.");
    }
    return fail(`A minimal WebAssembly module did not compile: ${m}`, "WebAssembly is disabled or broken here (Safari Lockdown Mode, enterprise policy, browser flags).");
  }
}

// ---------------------------------------------------------------- text

const MARK = { pass: "PASS", warn: "WARN", fail: "FAIL", skip: "skip" };

function render(r) {
  const { pass: p, warn: w, fail: f, skip: s } = r.counts;
  const out = [`genwire diagnose (proxy ${r.proxyUrl}, ${r.ms} ms): ${r.ok ? "OK" : "PROBLEMS FOUND"}. ${p} passed, ${w} warning${w === 1 ? "" : "s"}, ${f} failed, ${s} skipped.`];
  for (const c of r.checks) {
    out.push(`  ${MARK[c.status]}  ${c.title} (${c.ms} ms)`, `        ${c.detail}`);
    if (c.fix) out.push(`        ${c.status === "skip" ? "to check" : "fix"}: ${c.fix}`);
  }
  return out.join("\n");
}
