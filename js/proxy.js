// genwire/proxy: the app's fal proxy route on the Fetch standard (Request -> Promise<Response>),
// with adapters for Next.js (App and Pages router), Express / Node `http` and Hono. It does what
// genwire-server's Rust proxy does (server/src/proxy.rs, server/src/allowlist.rs): only fal's hosts
// and the routes genwire calls, the key added from FAL_KEY and never echoed, only `x-fal-*` headers
// plus accept and content-type forwarded, a body limit, statuses and headers passed through,
// streams unbuffered, redirects not followed, typed JSON refusals `{detail, error_type, reason}`.
// No dependencies and no Node imports: it runs wherever `fetch` and web streams exist. Bad options
// are refused when the proxy is made, with genwire's typed error (a `GenwireError` of kind
// `config`, js/errors.js: plain JS, no wasm), naming the option.
import { configError } from "./errors.js";

const TARGET = "x-fal-target-url";
const CLIENT_PROXY = "genwire-proxy/0.1";
const DEFAULT_BODY_LIMIT = 10 * 1024 * 1024;
const METHODS = ["GET", "POST", "PUT"];

// The allowlist, as server/src/allowlist.rs has it: hosts compared exactly, then per-host routes.
const HOSTS = ["queue.fal.run", "fal.run", "rest.fal.ai", "fal.ai"];
const STORAGE_PATHS = ["/storage/upload/initiate", "/storage/upload/initiate-multipart", "/storage/upload/complete-multipart"];
const STORAGE_QUERY = "storage_type=fal-cdn-v3";
const TOKENS_PATH = "/tokens/";
const OPENAPI_PATH = "/api/openapi/queue/openapi.json";

// Response headers never passed back: hop-by-hop ones, lengths and encodings that no longer hold
// once the body is re-streamed, cookies, and credentials.
const STRIPPED = new Set([
  "content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive", "proxy-connection",
  "proxy-authenticate", "proxy-authorization", "te", "trailer", "upgrade", "set-cookie", "authorization",
]);
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

const refusal = (status, error_type, reason, detail) => ({ status, error_type, reason, detail });
const targetRefusal = (reason, detail) =>
  refusal(reason === "host_not_allowed" || reason === "path_not_allowed" ? 403 : 400, "proxy_target_rejected", reason, detail);

/**
 * Checks the value of `x-fal-target-url` (and the method) against genwire's allowlist, with the
 * rules of server/src/allowlist.rs. The raw text is checked before URL parsing, because parsing
 * normalizes away exactly the tricks to refuse (IDN, `%2e`, `0x7f.1`, `https:host`).
 * @returns {{ url: URL } | { status: number, error_type: string, reason: string, detail: string }}
 */
export function checkTarget(raw, method = "GET") {
  if (!raw) return targetRefusal("missing_target", `The ${TARGET} header is missing; set it to the full upstream URL, e.g. https://queue.fal.run/fal-ai/flux/dev.`);
  if (/[\p{White_Space}\p{Cc}]/u.test(raw)) return targetRefusal("bad_url", "The target URL contains whitespace or control characters; send it percent-encoded.");
  if (raw.includes("\\")) return targetRefusal("bad_url", "The target URL contains a backslash, which browsers and servers read differently; use '/' only.");
  const colon = raw.indexOf(":");
  if (colon < 0) return targetRefusal("bad_url", "The target URL has no scheme; send an absolute https:// URL.");
  const scheme = raw.slice(0, colon);
  if (!/^[A-Za-z][A-Za-z0-9+.-]*$/.test(scheme)) return targetRefusal("bad_url", "The target URL has no valid scheme; send an absolute https:// URL.");
  if (scheme.toLowerCase() !== "https") return targetRefusal("scheme", `The target URL uses the '${scheme.toLowerCase()}' scheme; only https is allowed.`);
  if (!raw.startsWith("//", colon + 1)) return targetRefusal("bad_url", "The target URL must start with 'https://' followed by the host.");
  if (raw.includes("#")) return targetRefusal("fragment", "The target URL has a '#' fragment, which is never sent upstream; remove it.");
  const rest = raw.slice(colon + 3);
  const end = rest.search(/[/?]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  const pathAndQuery = end < 0 ? "" : rest.slice(end);
  if (authority.includes("@")) return targetRefusal("userinfo", "The target URL contains credentials or an '@' before the host; remove them (the proxy adds the key itself).");
  if (authority.startsWith("[")) return targetRefusal("ip_literal", "The target URL uses an IP address as host; use one of the fal host names.");
  if (authority.includes(":")) return targetRefusal("port", "The target URL names an explicit port; remove it (fal hosts use the default https port).");
  if (!authority) return targetRefusal("bad_url", "The target URL has an empty host.");
  if (/[^\x00-\x7f]/.test(authority) || authority.includes("%")) return targetRefusal("encoded_host", "The target host is percent-encoded or non-ASCII; write the host name in plain ASCII.");
  const host = authority.toLowerCase();
  if (!/^[a-z0-9.-]+$/.test(host)) return targetRefusal("encoded_host", "The target host contains characters other than letters, digits, '.' and '-'.");
  if (endsInNumber(host)) return targetRefusal("ip_literal", "The target URL uses an IP address (in some notation) as host; use one of the fal host names.");
  if (!HOSTS.includes(host)) return targetRefusal("host_not_allowed", `The host '${host}' is not allowed; the proxy only calls ${HOSTS.join(", ")}.`);

  const q = pathAndQuery.indexOf("?");
  const rawPath = q < 0 ? pathAndQuery : pathAndQuery.slice(0, q);
  const rawQuery = q < 0 ? null : pathAndQuery.slice(q + 1);
  for (const segment of rawPath.split("/")) {
    const lower = percentDecode(segment).toLowerCase();
    if (lower === "." || lower === ".." || /[/\\%]/.test(lower)) return targetRefusal("traversal", "The target path contains '.'/'..' segments or encoded separators; send a plain path.");
  }
  let url;
  try {
    url = new URL(raw);
  } catch (e) {
    return targetRefusal("bad_url", `The target URL does not parse: ${e.message}.`);
  }
  if (url.hostname !== host || url.port || url.username) return targetRefusal("bad_url", "The target URL parses to a different host than it names; refusing it.");
  const bad = checkPath(host, rawPath, rawQuery, url);
  if (bad) return bad;
  if (host === "rest.fal.ai" && url.pathname === TOKENS_PATH && method !== "POST") {
    return targetRefusal("path_not_allowed", `${TOKENS_PATH} on rest.fal.ai may only be called with POST, not ${method}.`);
  }
  return { url };
}

/** WHATWG: a host whose last label is numeric (decimal, 0x-hex) is an IPv4 address. */
function endsInNumber(host) {
  const last = host.replace(/\.$/, "").split(".").pop();
  if (/^[0-9]+$/.test(last)) return true;
  return last.startsWith("0x") && /^[0-9a-f]*$/.test(last.slice(2));
}

function checkPath(host, rawPath, rawQuery, url) {
  const segments = rawPath.replace(/^\/+/, "").split("/");
  const inner = segments.length > 1 && segments.at(-1) === "" ? segments.slice(0, -1) : segments;
  if (host === "fal.run" || host === "queue.fal.run") {
    if (inner.some((s) => s === "")) return targetRefusal("path_not_allowed", `The path '${rawPath}' on ${host} must name an endpoint, e.g. /fal-ai/flux/dev, without empty segments.`);
    return null;
  }
  if (host === "rest.fal.ai") {
    if (STORAGE_PATHS.includes(rawPath)) {
      return rawQuery === STORAGE_QUERY ? null : targetRefusal("path_not_allowed", `Storage calls on rest.fal.ai need exactly the query '?${STORAGE_QUERY}'.`);
    }
    if (rawPath === TOKENS_PATH && !rawQuery) return null;
    return targetRefusal("path_not_allowed", `The path '${rawPath}' on rest.fal.ai is not allowed; only ${STORAGE_PATHS.join(", ")} and ${TOKENS_PATH} are.`);
  }
  if (rawPath !== OPENAPI_PATH) return targetRefusal("path_not_allowed", `Only ${OPENAPI_PATH} may be called on fal.ai.`);
  const pairs = [...url.searchParams];
  if (pairs.length === 1 && pairs[0][0] === "endpoint_id" && isEndpointId(pairs[0][1])) return null;
  return targetRefusal("path_not_allowed", "The OpenAPI URL needs exactly one query parameter, endpoint_id=<owner>/<alias>[/<subpath>].");
}

const isEndpointId = (id) => {
  const parts = id.split("/");
  return parts.length >= 2 && parts.every((p) => p && p !== "." && p !== ".." && /^[A-Za-z0-9._-]+$/.test(p));
};

/** Decodes `%XX` escapes of a UTF-8 string; malformed escapes stay as they are. */
function percentDecode(s) {
  if (!s.includes("%")) return s;
  const bytes = new TextEncoder().encode(s);
  const out = [];
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x25 && i + 2 < bytes.length) {
      const hex = String.fromCharCode(bytes[i + 1], bytes[i + 2]);
      if (/^(?:[0-9a-fA-F]{2}|\+[0-9a-fA-F])$/.test(hex)) {
        out.push(parseInt(hex, 16));
        i += 2;
        continue;
      }
    }
    out.push(bytes[i]);
  }
  return new TextDecoder().decode(new Uint8Array(out));
}

/** `owner/alias[/...]` patterns: `*` is one segment, a trailing `**` one or more. */
function matchSegments(pattern, segments) {
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === "**" && i === pattern.length - 1) return segments.length > i;
    if (i >= segments.length || (pattern[i] !== "*" && pattern[i] !== segments[i])) return false;
  }
  return pattern.length === segments.length;
}

/** Whether the call is for an endpoint of `endpoints` (ids or patterns); storage is always allowed. */
function endpointAllowed(endpoints, url, body) {
  const patterns = endpoints.map((e) => String(e).replace(/^\/+|\/+$/g, "").split("/"));
  const allowed = (id) => patterns.some((p) => matchSegments(p, id.split("/")));
  const path = url.pathname.replace(/^\/+|\/+$/g, "");
  switch (url.hostname) {
    case "queue.fal.run": {
      const s = path.split("/");
      // Status, result and cancel name only owner/alias; any allowed endpoint of that app may ask.
      if (s[2] === "requests") return patterns.some((p) => matchSegments(p.slice(0, 2), s.slice(0, 2)));
      return allowed(path);
    }
    case "fal.run":
      return allowed(path) || (path.endsWith("/stream") && allowed(path.slice(0, -"/stream".length)));
    case "fal.ai":
      return allowed(url.searchParams.get("endpoint_id") ?? "");
    case "rest.fal.ai": {
      if (url.pathname !== TOKENS_PATH) return true;
      // A realtime token names the apps (aliases) it is for.
      let apps;
      try {
        apps = JSON.parse(new TextDecoder().decode(body)).allowed_apps;
      } catch {
        return false;
      }
      return Array.isArray(apps) && apps.length > 0 && apps.every((a) => typeof a === "string" && patterns.some((p) => p[1] === "*" || p[1] === "**" || p[1] === a));
    }
    default:
      return false;
  }
}

/**
 * The default caller check: a browser's request from another site is refused. Browsers say so in
 * `Sec-Fetch-Site`, older ones in `Origin`; a request with neither (a server, curl) passes.
 */
export function sameOrigin(request) {
  const site = request.headers.get("sec-fetch-site");
  if (site) return site === "same-origin" || site === "none";
  const origin = request.headers.get("origin");
  if (!origin) return true;
  let host;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  const own = [request.headers.get("x-forwarded-host")?.split(",")[0].trim(), request.headers.get("host")];
  try {
    own.push(new URL(request.url).host);
  } catch { /* a relative URL: the headers decide */ }
  return own.includes(host);
}

function json(status, body, extra = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...extra },
  });
}

const refuse = (r, extra) => json(r.status, { detail: r.detail, error_type: r.error_type, reason: r.reason }, extra);

function keyFromEnv() {
  const env = globalThis.process?.env ?? {};
  if (env.FAL_KEY) return env.FAL_KEY;
  if (env.FAL_KEY_ID && env.FAL_KEY_SECRET) return `${env.FAL_KEY_ID}:${env.FAL_KEY_SECRET}`;
  return undefined;
}

/** The strings that must never reach the browser: the key and, for `id:secret` keys, the secret. */
function secrets(key) {
  const out = [key];
  const colon = key.indexOf(":");
  if (colon >= 0 && key.length - colon - 1 >= 8) out.push(key.slice(colon + 1));
  return out.filter(Boolean);
}

const redact = (text, needles) => needles.reduce((t, n) => t.split(n).join("<redacted>"), String(text));

/**
 * Masks the key in a streamed body without holding bytes back: the tail of what was already sent
 * is kept, so a key split across chunks is caught in the later chunk, where its remaining bytes
 * are masked (the earlier part alone is not the key).
 */
function masker(needles) {
  const ns = needles.map((n) => new TextEncoder().encode(n));
  const keep = Math.max(...ns.map((n) => n.length)) - 1;
  let tail = new Uint8Array(0);
  return new TransformStream({
    transform(chunk, out) {
      if (!(chunk instanceof Uint8Array)) chunk = new Uint8Array(chunk);
      if (chunk.length === 0) return;
      const carry = tail.length;
      const joined = new Uint8Array(carry + chunk.length);
      joined.set(tail);
      joined.set(chunk, carry);
      let masked = false;
      for (const n of ns) {
        for (let i = joined.indexOf(n[0]); i >= 0 && i + n.length <= joined.length; i = joined.indexOf(n[0], i)) {
          let hit = true;
          for (let j = 1; j < n.length && hit; j++) hit = joined[i + j] === n[j];
          if (!hit) {
            i += 1;
            continue;
          }
          joined.fill(0x2a, Math.max(i, carry), i + n.length);
          masked = true;
          i += n.length;
        }
      }
      tail = joined.slice(Math.max(0, joined.length - keep));
      out.enqueue(masked ? joined.subarray(carry) : chunk);
    },
  });
}

/** The request body, at most `limit` bytes; `null` when it is larger. */
async function readBody(request, limit) {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const parts = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    parts.push(value);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    body.set(p, at);
    at += p.byteLength;
  }
  return body;
}

const OPTIONS = {
  key: "a string or a function (request) => string | undefined | Promise<…>",
  endpoints: "an array of endpoint ids or patterns (strings)",
  authorize: "a function (request, context) => boolean | Promise<boolean>",
  bodyLimit: "a number of bytes (0 or more)",
  fetch: "a function (url, init) => Promise<Response>",
};
const fits = {
  key: (v) => (typeof v === "string" && v !== "") || typeof v === "function",
  endpoints: (v) => Array.isArray(v) && v.every((e) => typeof e === "string" && e.trim() !== ""),
  authorize: (v) => typeof v === "function",
  bodyLimit: (v) => typeof v === "number" && Number.isFinite(v) && v >= 0,
  fetch: (v) => typeof v === "function",
};
const what = (v) => (v === null ? "null" : Array.isArray(v) ? "an array" : typeof v);

/**
 * The proxy's options, read once and checked: anything wrong (not an object, an unknown name, a
 * value of the wrong kind, a getter that throws) is a `config` GenwireError naming the option.
 * An unknown name is refused rather than ignored: a misspelt `endpoints` must not open every endpoint.
 */
function proxyOptions(options) {
  if (options === undefined || options === null) return {};
  if (typeof options !== "object" || Array.isArray(options)) {
    throw configError(`genwire/proxy: the options must be an object (or nothing), not ${what(options)}`);
  }
  const out = {};
  let names;
  try {
    names = Object.keys(options);
  } catch {
    throw configError("genwire/proxy: the options can't be read (a Proxy whose traps throw?)");
  }
  for (const name of names) {
    if (!Object.hasOwn(OPTIONS, name)) {
      throw configError(`genwire/proxy: createProxy() has no option '${name}' (it takes ${Object.keys(OPTIONS).join(", ")})`);
    }
    let value;
    try {
      value = options[name];
    } catch {
      throw configError(`genwire/proxy: option '${name}' can't be read (its getter threw)`);
    }
    if (value === undefined) continue;
    if (!fits[name](value)) throw configError(`genwire/proxy: option '${name}' must be ${OPTIONS[name]}, not ${what(value)}`);
    out[name] = value;
  }
  return out;
}

/**
 * Creates the proxy handler: `(request: Request, context?) => Promise<Response>`. `context` is
 * the framework's own request object, handed to `authorize`. Throws a `config` GenwireError for bad options.
 */
export function createProxy(given = {}) {
  const options = proxyOptions(given);
  const limit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const endpoints = options.endpoints;
  const authorize = options.authorize ?? sameOrigin;

  return async function proxy(request, context) {
    const method = request.method.toUpperCase();
    if (!METHODS.includes(method)) {
      return refuse(refusal(405, "proxy_target_rejected", "method_not_allowed", `The proxy takes GET, POST and PUT, not ${method}.`), { allow: METHODS.join(", ") });
    }
    if (!(await authorize(request, context))) {
      const detail = options.authorize
        ? "The app's proxy refused this caller (its authorize check said no)."
        : "The proxy only answers pages of its own site; this request came from another origin.";
      return refuse(refusal(403, "proxy_caller_rejected", options.authorize ? "caller_refused" : "cross_origin", detail));
    }
    const checked = checkTarget(request.headers.get(TARGET) ?? "", method);
    if (!checked.url) return refuse(checked);
    const { url } = checked;

    const tooLarge = refusal(413, "proxy_target_rejected", "body_too_large", `The request body is larger than the proxy's limit of ${limit} bytes; upload big files to storage and send their URL instead.`);
    let body;
    if (method !== "GET") {
      const declared = Number(request.headers.get("content-length"));
      if (declared > limit) return refuse(tooLarge);
      try {
        body = await readBody(request, limit);
      } catch {
        return refuse(refusal(400, "proxy_request_error", "bad_body", "Could not read the request body."));
      }
      if (body === null) return refuse(tooLarge);
    }
    if (endpoints && !endpointAllowed(endpoints, url, body)) {
      return refuse(refusal(403, "proxy_target_rejected", "endpoint_not_allowed", `This app's proxy does not call ${url.host}${url.pathname}${url.search}: the endpoint is not in its list.`));
    }

    const key = typeof options.key === "function" ? await options.key(request) : options.key ?? keyFromEnv();
    if (!key || /[^\x20-\x7e]/.test(key)) {
      const detail = key ? "The fal key holds characters that cannot be sent in a header." : "The proxy has no fal key: set FAL_KEY in the server's environment (never in the page).";
      return refuse(refusal(500, "proxy_config_error", "missing_key", detail), { "x-fal-retryable": "false" });
    }
    const needles = secrets(key);

    const headers = new Headers();
    for (const [name, value] of request.headers) {
      if (name.startsWith("x-fal-") && name !== TARGET) headers.append(name, value);
    }
    // The client's accept is what lets `text/event-stream` reach fal.
    headers.set("accept", request.headers.get("accept") || "application/json");
    headers.set("content-type", request.headers.get("content-type") || "application/json");
    headers.set("accept-encoding", "identity");
    headers.set("authorization", `Key ${key}`);
    headers.set("x-fal-client-proxy", CLIENT_PROXY);

    let upstream;
    try {
      upstream = await (options.fetch ?? globalThis.fetch)(url.href, {
        method,
        headers,
        body: method === "GET" ? undefined : body,
        // Following a redirect could carry the key to a host the allowlist never saw.
        redirect: "manual",
        signal: request.signal,
      });
    } catch (e) {
      const why = redact(e?.cause?.message ?? e?.message ?? e, needles);
      return refuse(refusal(502, "proxy_upstream_error", "upstream_unreachable", `The proxy could not reach ${url.hostname}: ${why}`));
    }
    if (upstream.type === "opaqueredirect" || (upstream.status >= 300 && upstream.status < 400 && upstream.status !== 304)) {
      await upstream.body?.cancel().catch(() => {});
      return refuse(refusal(502, "proxy_upstream_error", "upstream_redirect", `${url.hostname} answered with a redirect (${upstream.status || "opaque"}), which the proxy does not follow.`));
    }

    const out = new Headers();
    for (const [name, value] of upstream.headers) {
      if (STRIPPED.has(name) || needles.some((n) => name.includes(n) || value.includes(n))) continue;
      out.append(name, value);
    }
    // Reverse proxies (nginx) buffer answers unless told otherwise; an event stream must not wait.
    if (out.get("content-type")?.startsWith("text/event-stream")) out.set("x-accel-buffering", "no");
    const streamed = NULL_BODY.has(upstream.status) || !upstream.body ? null : upstream.body.pipeThrough(masker(needles));
    return new Response(streamed, { status: upstream.status, statusText: upstream.statusText, headers: out });
  };
}

/** Next.js App Router: `export const { GET, POST, PUT } = nextRoute();` in app/api/fal/proxy/route.ts. */
export function nextRoute(options) {
  const proxy = createProxy(options);
  const handler = (request) => proxy(request, request);
  return { GET: handler, POST: handler, PUT: handler };
}

/** Hono (and other Fetch-standard routers): `app.all("/api/fal/proxy", honoHandler())`. */
export function honoHandler(options) {
  const proxy = createProxy(options);
  return (c) => proxy(c.req.raw, c);
}

/**
 * Express and Node `http`: `(req, res) => Promise<void>`. The body is read from the request
 * stream; if a body parser already read it (`express.json()`), its `req.body` is sent instead.
 */
export function nodeHandler(options) {
  const proxy = createProxy(options);
  return async function genwireProxy(req, res) {
    const left = new AbortController();
    res.on("close", () => { if (!res.writableFinished) left.abort(); });
    let response;
    try {
      response = await proxy(toRequest(req, left.signal), req);
    } catch (e) {
      response = json(500, { detail: "The proxy failed to handle the request.", error_type: "proxy_error", reason: "internal" });
      if (!left.signal.aborted) console.error("genwire/proxy:", e);
    }
    await sendNode(response, res);
  };
}

/** Next.js Pages router: `export default nextPagesHandler();` with `export const config = { api: { bodyParser: false } };`. */
export const nextPagesHandler = nodeHandler;

function toRequest(req, signal) {
  const method = (req.method ?? "GET").toUpperCase();
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers ?? {})) {
    if (value === undefined || name.startsWith(":")) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      try { headers.append(name, v); } catch { /* a value Headers refuses: dropped */ }
    }
  }
  let url;
  try {
    url = new URL(req.originalUrl ?? req.url ?? "/", `${req.socket?.encrypted ? "https" : "http"}://${req.headers?.host ?? "localhost"}`);
  } catch {
    url = new URL("http://localhost/");
  }
  const init = { method, headers, signal };
  if (method !== "GET" && method !== "HEAD") {
    if (req.body !== undefined && (req.readableEnded || !req.readable)) {
      // A body parser got there first.
      const b = req.body;
      init.body = typeof b === "string" || b instanceof Uint8Array ? b : JSON.stringify(b);
    } else {
      init.body = nodeStream(req);
      init.duplex = "half";
    }
  }
  return new Request(url, init);
}

/** A Node readable as a web ReadableStream, with backpressure; cancel discards the rest. */
function nodeStream(req) {
  let onData;
  let open = true;
  return new ReadableStream({
    start(c) {
      onData = (d) => {
        c.enqueue(typeof d === "string" ? new TextEncoder().encode(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
        if (c.desiredSize <= 0) req.pause();
      };
      req.on("data", onData);
      req.once("end", () => { if (open) c.close(); open = false; });
      req.once("error", (e) => { if (open) c.error(e); open = false; });
    },
    pull() {
      req.resume();
    },
    cancel() {
      open = false;
      req.off("data", onData);
      req.resume();
    },
  }, { highWaterMark: 4 });
}

async function sendNode(response, res) {
  if (res.destroyed) {
    await response.body?.cancel().catch(() => {});
    return;
  }
  res.statusCode = response.status;
  for (const [name, value] of response.headers) res.setHeader(name, value);
  if (!response.body) {
    res.end();
    return;
  }
  // The head goes at once, so an event stream's client knows it is open.
  res.flushHeaders?.();
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise((resolve) => { res.once("drain", resolve); res.once("close", resolve); });
      if (res.destroyed) throw new Error("client left");
    }
    res.end();
  } catch {
    // The upstream broke off (or the client left): the client must see a broken answer, not a clean end.
    reader.cancel().catch(() => {});
    res.destroy();
  }
}
