// genwire/proxy (js/proxy.js) in Node, against a fake fal upstream (a local HTTP server reached
// through the handler's `fetch` option): the allowlist (and that it refuses exactly what
// genwire-server's Rust allowlist refuses, target by target), forwarded headers, the key added and
// never echoed, statuses and headers passed through, unbuffered streams, redirects, body limits,
// caller and endpoint checks, and the Node adapter (Express / http / Next Pages) on a real socket.
// The framework rows (Next.js, Express, Hono in Chromium) are in proxies.test.mjs.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { checkTarget, createProxy, honoHandler, nextRoute, nodeHandler, sameOrigin } from "../js/proxy.js";
import { startServer } from "./support/env.mjs";

const KEY = "key-id-1234:secret-part-5678abcd";
const SECRET = "secret-part-5678abcd";
const APP = "http://app.test/api/fal/proxy";

let upstream, upstreamUrl;
const hits = [];
let release; // resolves the held part of /fal-ai/sse/stream
const closed = []; // paths whose upstream request the proxy broke off

before(async () => {
  upstream = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const path = req.url;
    hits.push({ path, method: req.method, host: req.headers["x-test-host"] });
    res.once("close", () => { if (!res.writableFinished) closed.push(path); });
    if (path.startsWith("/fal-ai/status-418")) {
      res.writeHead(418, "I'm a teapot", {
        "content-type": "application/json", "x-fal-request-id": "r-1", "x-other": "kept", "set-cookie": "s=1",
        "x-leak": `Key ${KEY}`, "x-leak-secret": SECRET, "keep-alive": "timeout=5", "proxy-authenticate": "Basic",
      });
      res.end(JSON.stringify({ detail: "teapot", error_type: "bad_request" }));
    } else if (path.startsWith("/fal-ai/sse/stream")) {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: {\"n\":1}\n\n");
      await new Promise((r) => { release = r; });
      res.end("data: {\"n\":2}\n\n");
    } else if (path.startsWith("/fal-ai/leak")) {
      res.writeHead(200, { "content-type": "text/plain" });
      const text = `a ${KEY} b ${SECRET} c Key ${KEY.slice(0, 9)}`;
      for (let i = 0; i < text.length; i += 5) {
        res.write(text.slice(i, i + 5));
        await new Promise((r) => setImmediate(r));
      }
      res.end(`${KEY.slice(9)} end`);
    } else if (path.startsWith("/fal-ai/redirect")) {
      res.writeHead(302, { location: "https://evil.example/steal" }).end();
    } else if (path.startsWith("/fal-ai/empty")) {
      res.writeHead(204).end();
    } else if (path.startsWith("/fal-ai/hang")) {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(": open\n\n");
    } else {
      res.writeHead(200, { "content-type": "application/json" });
      // The authorization fal got, in base64: as it is, the proxy would (rightly) mask it on the way back.
      const headers = { ...req.headers, authorization: Buffer.from(req.headers.authorization ?? "").toString("base64") };
      res.end(JSON.stringify({ method: req.method, url: path, host: req.headers["x-test-host"], headers, body: Buffer.concat(chunks).toString() }));
    }
  });
  await new Promise((r) => upstream.listen(0, "127.0.0.1", r));
  upstreamUrl = `http://127.0.0.1:${upstream.address().port}`;
});
after(() => {
  release?.();
  upstream.closeAllConnections();
  upstream.close();
});

/** The handler's `fetch`: https://<fal host>/<path> goes to the fake upstream, the host in a header. */
const fakeFetch = (url, init) => {
  const u = new URL(url);
  const headers = new Headers(init.headers);
  headers.set("x-test-host", u.host);
  return fetch(`${upstreamUrl}${u.pathname}${u.search}`, { ...init, headers });
};

const authOf = (seen) => Buffer.from(seen.headers.authorization, "base64").toString();
const proxyOf = (options = {}) => createProxy({ fetch: fakeFetch, key: KEY, ...options });
const call = (proxy, target, { method = "GET", headers = {}, body } = {}) =>
  proxy(new Request(APP, { method, headers: target === undefined ? headers : { "x-fal-target-url": target, ...headers }, body }));

describe("the allowlist: genwire-server's rules", () => {
  const reason = (raw, method) => checkTarget(raw, method).reason ?? "ok";

  test("fal's hosts and the routes genwire calls are allowed", () => {
    for (const ok of [
      "https://queue.fal.run/fal-ai/flux/dev",
      "https://queue.fal.run/fal-ai/flux/dev?fal_webhook=https%3A%2F%2Fexample.com%2Fhook",
      "https://queue.fal.run/fal-ai/flux/requests/5e7c/status?logs=1",
      "https://queue.fal.run/fal-ai/flux/requests/5e7c/status/stream?logs=0",
      "https://QUEUE.FAL.RUN/fal-ai/flux/dev",
      "https://fal.run/fal-ai/fast-sdxl",
      "https://fal.run/fal-ai/flux/dev/stream",
      "https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3",
      "https://rest.fal.ai/storage/upload/initiate-multipart?storage_type=fal-cdn-v3",
      "https://rest.fal.ai/storage/upload/complete-multipart?storage_type=fal-cdn-v3",
      "https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=fal-ai/flux/dev",
      "https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=fal-ai%2Fflux%2Fdev",
    ]) assert.equal(reason(ok), "ok", ok);
    assert.equal(reason("https://rest.fal.ai/tokens/", "POST"), "ok");
    assert.equal(reason("https://rest.fal.ai/tokens/", "GET"), "path_not_allowed", "tokens are POST only");
  });

  test("each trick is refused with its reason", () => {
    const cases = {
      missing_target: [""],
      bad_url: ["fal.run/x", "https:fal.run/x", "https:///x", "https://fal.run/a b", "https://fal.run/a\tb", "https://fal.run\\@evil.com/", "https://fal.run/a\u00a0b", "https://fal.run/\u0085"],
      scheme: ["http://fal.run/x", "wss://fal.run/x", "javascript:alert(1)", "data:text/html,hi", "file:///etc/passwd"],
      userinfo: ["https://fal.run@evil.com/x", "https://user:pw@fal.run/x"],
      port: ["https://fal.run:443/x", "https://fal.run:/x"],
      ip_literal: ["https://127.0.0.1/x", "https://[::1]/x", "https://2130706433/x", "https://0x7f000001/x", "https://0177.0.0.1/x", "https://0x7f.1/x"],
      encoded_host: ["https://fal%2Erun/x", "https://f\u0430l.run/x", "https://fal_run/x"],
      host_not_allowed: ["https://fal.run.evil.com/x", "https://notfal.run/x", "https://api.fal.run/x", "https://fal.run./x", "https://evil.com/x", "https://xn--fal-run.com/x"],
      traversal: ["https://fal.run/fal-ai/../x", "https://fal.run/fal-ai/%2e%2e/x", "https://fal.run/fal-ai/.%2E/x", "https://fal.run/fal-ai%2fx", "https://fal.run/a/./b", "https://fal.run/%252e%252e/x"],
      path_not_allowed: [
        "https://fal.run/", "https://fal.run", "https://queue.fal.run/a//b", "https://rest.fal.ai/storage/upload/initiate",
        "https://rest.fal.ai/storage/upload/initiate?storage_type=other", "https://rest.fal.ai/admin", "https://fal.ai/api/other",
        "https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=x", "https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=a/b&x=1",
        "https://rest.fal.ai/tokens/?x=1",
      ],
      fragment: ["https://fal.run/x#frag"],
    };
    for (const [why, list] of Object.entries(cases)) for (const raw of list) assert.equal(reason(raw, "POST"), why, raw);
    const refused = checkTarget("https://evil.com/x");
    assert.deepEqual([refused.status, refused.error_type], [403, "proxy_target_rejected"]);
    assert.equal(checkTarget("http://fal.run/x").status, 400);
  });

  test("target by target, the same verdict as genwire-server's proxy", { timeout: 120_000 }, async () => {
    const server = await startServer();
    try {
      const schemes = ["https://", "HTTPS://", "http://", "https:", "https:///", "wss://"];
      const hosts = ["queue.fal.run", "fal.run", "rest.fal.ai", "fal.ai", "Fal.Run", "fal.run.", "api.fal.run", "fal.run.evil.com", "notfal.run", "evil.com",
        "127.0.0.1", "2130706433", "0x7f.1", "0x", "[::1]", "fal.run:443", "fal.run:", "user@fal.run", "fal.run@evil.com", "fal%2Erun", "fal_run", "xn--fal-run.com", ""];
      const paths = ["", "/", "?", "/fal-ai/flux/dev", "/fal-ai/flux/dev?x=1", "/fal-ai/flux/dev/", "//fal-ai/x", "/fal-ai//dev", "/fal-ai/../x", "/fal-ai/%2e%2e/x",
        "/fal-ai/.%2E/x", "/fal-ai%2fx", "/fal-ai%5cx", "/a/./b", "/%252e%252e/x", "/a%zz/b", "/a%2/b", "/a%+f/b", "/x#frag", "/tokens/", "/tokens/?", "/tokens/?x=1", "/tokens",
        "/storage/upload/initiate?storage_type=fal-cdn-v3", "/storage/upload/initiate", "/storage/upload/initiate?storage_type=fal-cdn-v3&x=1",
        "/storage/upload/initiate-multipart?storage_type=fal-cdn-v3", "/storage/upload/complete-multipart?storage_type=fal-cdn-v3",
        "/api/openapi/queue/openapi.json?endpoint_id=fal-ai/flux/dev", "/api/openapi/queue/openapi.json?endpoint_id=fal-ai%2Fflux%2Fdev",
        "/api/openapi/queue/openapi.json?endpoint_id=x", "/api/openapi/queue/openapi.json?endpoint_id=a/b&x=1", "/api/openapi/queue/openapi.json?endpoint_id=a/b&",
        "/api/openapi/queue/openapi.json?endpoint_id=a+b/c", "/api/openapi/queue/openapi.json?endpoint_id=a/../b", "/api/openapi/queue/openapi.json", "/api/other"];
      const targets = [];
      for (const s of schemes) for (const h of hosts) for (const p of paths) targets.push([`${s}${h}${p}`, "GET"]);
      for (const m of ["POST", "PUT"]) for (const p of ["/tokens/", "/storage/upload/initiate?storage_type=fal-cdn-v3"]) targets.push([`https://rest.fal.ai${p}`, m]);
      targets.push(["javascript:alert(1)", "GET"], ["data:text/html,hi", "GET"], ["fal.run/x", "GET"], ["https://fal.run/a b", "GET"]);
      const differences = [];
      for (let i = 0; i < targets.length; i += 32) {
        await Promise.all(targets.slice(i, i + 32).map(async ([raw, method]) => {
          const r = await fetch(`${server.url}/api/fal/proxy`, { method, headers: { "x-fal-target-url": raw, "content-type": "application/json" }, body: method === "GET" ? undefined : "{}" });
          const text = await r.text();
          let rust = "ok";
          try {
            const body = JSON.parse(text);
            if (body.error_type === "proxy_target_rejected") rust = `${r.status} ${body.reason}`;
          } catch { /* an upstream answer */ }
          const js = checkTarget(raw, method);
          const mine = js.url ? "ok" : `${js.status} ${js.reason}`;
          if (mine !== rust) differences.push(`${method} ${raw}: genwire/proxy ${mine}, genwire-server ${rust}`);
        }));
      }
      assert.deepEqual(differences, [], `${differences.length} of ${targets.length} targets judged differently`);
    } finally {
      server.close();
    }
  });
});

describe("createProxy against a fake fal", () => {
  test("forwards only x-fal-* plus accept and content-type, adds the key and its own name", async () => {
    const r = await call(proxyOf(), "https://queue.fal.run/fal-ai/flux/dev?fal_webhook=https%3A%2F%2Fx.test%2Fh", {
      method: "POST",
      body: JSON.stringify({ prompt: "a" }),
      headers: {
        "content-type": "application/json; charset=utf-8", accept: "text/event-stream", "x-fal-queue-priority": "low",
        "x-fal-request-timeout": "30", authorization: "Bearer from-the-browser", cookie: "session=1", "user-agent": "test-ua",
        "x-other": "dropped", "x-fal-client-proxy": "spoofed",
      },
    });
    assert.equal(r.status, 200);
    const seen = await r.json();
    assert.equal(seen.host, "queue.fal.run");
    assert.equal(seen.method, "POST");
    assert.equal(seen.url, "/fal-ai/flux/dev?fal_webhook=https%3A%2F%2Fx.test%2Fh");
    assert.equal(seen.body, '{"prompt":"a"}');
    const h = seen.headers;
    assert.equal(authOf(seen), `Key ${KEY}`);
    assert.equal(h.accept, "text/event-stream");
    assert.equal(h["content-type"], "application/json; charset=utf-8");
    assert.equal(h["x-fal-queue-priority"], "low");
    assert.equal(h["x-fal-request-timeout"], "30");
    assert.equal(h["x-fal-client-proxy"], "genwire-proxy/0.1");
    assert.equal(h["accept-encoding"], "identity");
    for (const gone of ["cookie", "x-other", "x-fal-target-url"]) assert.equal(h[gone], undefined, gone);
    assert.notEqual(h["user-agent"], "test-ua");
  });

  test("defaults: accept and content-type application/json; GET sends no body", async () => {
    const seen = await (await call(proxyOf(), "https://queue.fal.run/fal-ai/flux/requests/abc/status?logs=1")).json();
    assert.equal(seen.method, "GET");
    assert.equal(seen.headers.accept, "application/json");
    assert.equal(seen.headers["content-type"], "application/json");
    assert.equal(seen.body, "");
  });

  test("statuses and headers pass through; hop-by-hop, cookies and anything holding the key do not", async () => {
    const r = await call(proxyOf(), "https://queue.fal.run/fal-ai/status-418");
    assert.equal(r.status, 418);
    assert.equal(r.headers.get("x-fal-request-id"), "r-1");
    assert.equal(r.headers.get("x-other"), "kept");
    assert.equal(r.headers.get("content-type"), "application/json");
    for (const gone of ["set-cookie", "x-leak", "x-leak-secret", "keep-alive", "proxy-authenticate", "content-length"]) assert.equal(r.headers.get(gone), null, gone);
    assert.deepEqual(await r.json(), { detail: "teapot", error_type: "bad_request" });
    const empty = await call(proxyOf(), "https://queue.fal.run/fal-ai/empty");
    assert.equal(empty.status, 204);
    assert.equal(empty.body, null);
  });

  test("the key is masked in a streamed body, also across chunks; the secret part alone too", async () => {
    const r = await call(proxyOf(), "https://fal.run/fal-ai/leak");
    const text = await r.text();
    assert.ok(!text.includes(KEY) && !text.includes(SECRET), text);
    assert.ok(text.startsWith("a ") && text.endsWith(" end"), text);
    assert.equal(text.length, `a ${KEY} b ${SECRET} c Key ${KEY} end`.length, "masked in place, nothing held back or lost");
  });

  test("streams unbuffered: the first event arrives while fal still holds the rest", async () => {
    const r = await call(proxyOf(), "https://queue.fal.run/fal-ai/sse/stream", { headers: { accept: "text/event-stream" } });
    assert.equal(r.headers.get("content-type"), "text/event-stream");
    assert.equal(r.headers.get("x-accel-buffering"), "no");
    const reader = r.body.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.equal(first, 'data: {"n":1}\n\n');
    release();
    let rest = "";
    for (let c = await reader.read(); !c.done; c = await reader.read()) rest += new TextDecoder().decode(c.value);
    assert.equal(rest, 'data: {"n":2}\n\n');
  });

  test("a redirect is not followed: typed 502", async () => {
    const before = hits.length;
    const r = await call(proxyOf(), "https://fal.run/fal-ai/redirect", { method: "POST", body: "{}" });
    assert.equal(r.status, 502);
    assert.deepEqual(await r.json(), {
      detail: "fal.run answered with a redirect (302), which the proxy does not follow.", error_type: "proxy_upstream_error", reason: "upstream_redirect",
    });
    assert.deepEqual(hits.slice(before).map((h) => h.path), ["/fal-ai/redirect"]);
  });

  test("an unreachable fal: typed 502 without the key", async () => {
    const proxy = createProxy({ key: KEY, fetch: () => Promise.reject(new TypeError(`fetch failed for Key ${KEY}`)) });
    const r = await call(proxy, "https://fal.run/fal-ai/flux/dev", { method: "POST", body: "{}" });
    assert.equal(r.status, 502);
    const body = await r.json();
    assert.equal(body.error_type, "proxy_upstream_error");
    assert.equal(body.reason, "upstream_unreachable");
    assert.ok(!JSON.stringify(body).includes(SECRET), JSON.stringify(body));
  });

  test("refusals are typed JSON and never reach fal", async () => {
    const before = hits.length;
    const proxy = proxyOf({ bodyLimit: 100 });
    const expect = async (r, status, reason) => {
      assert.equal(r.status, status, reason);
      assert.equal(r.headers.get("content-type"), "application/json");
      const body = await r.json();
      assert.equal(body.reason, reason);
      assert.equal(typeof body.detail, "string");
      assert.match(body.error_type, /^proxy_/);
      return r;
    };
    await expect(await call(proxy, undefined), 400, "missing_target");
    await expect(await call(proxy, "https://evil.com/x"), 403, "host_not_allowed");
    const del = await expect(await call(proxy, "https://fal.run/x", { method: "DELETE" }), 405, "method_not_allowed");
    assert.equal(del.headers.get("allow"), "GET, POST, PUT");
    await expect(await call(proxy, "https://fal.run/x", { method: "POST", body: "x".repeat(101) }), 413, "body_too_large");
    // A body without a declared length is counted as it streams.
    const stream = new ReadableStream({ pull(c) { c.enqueue(new Uint8Array(60)); } });
    await expect(await proxy(new Request(APP, { method: "POST", headers: { "x-fal-target-url": "https://fal.run/x" }, body: stream, duplex: "half" })), 413, "body_too_large");
    await expect(await call(proxy, "https://rest.fal.ai/tokens/", { method: "GET" }), 403, "path_not_allowed");
    assert.equal(hits.length, before, "nothing reached fal");
    // At the limit exactly, it goes.
    assert.equal((await call(proxy, "https://fal.run/fal-ai/x", { method: "POST", body: "x".repeat(100) })).status, 200);
  });

  test("no key: a typed 500 telling where to set it, not retryable", async () => {
    const saved = { FAL_KEY: process.env.FAL_KEY, FAL_KEY_ID: process.env.FAL_KEY_ID, FAL_KEY_SECRET: process.env.FAL_KEY_SECRET };
    delete process.env.FAL_KEY; delete process.env.FAL_KEY_ID; delete process.env.FAL_KEY_SECRET;
    try {
      const r = await call(createProxy({ fetch: fakeFetch }), "https://fal.run/fal-ai/x", { method: "POST", body: "{}" });
      assert.equal(r.status, 500);
      assert.equal(r.headers.get("x-fal-retryable"), "false");
      const body = await r.json();
      assert.deepEqual([body.error_type, body.reason], ["proxy_config_error", "missing_key"]);
      assert.match(body.detail, /FAL_KEY/);
      // The environment is read on each request: FAL_KEY, else FAL_KEY_ID:FAL_KEY_SECRET.
      process.env.FAL_KEY_ID = "id"; process.env.FAL_KEY_SECRET = "from-env-secret";
      const seen = await (await call(createProxy({ fetch: fakeFetch }), "https://fal.run/fal-ai/x", { method: "POST", body: "{}" })).json();
      assert.equal(authOf(seen), "Key id:from-env-secret");
      process.env.FAL_KEY = "env-key";
      const seen2 = await (await call(createProxy({ fetch: fakeFetch }), "https://fal.run/fal-ai/x", { method: "POST", body: "{}" })).json();
      assert.equal(authOf(seen2), "Key env-key");
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
  });

  test("the caller check: same origin by default, or the app's authorize", async () => {
    const proxy = proxyOf();
    const target = "https://fal.run/fal-ai/x";
    const status = async (headers, p = proxy) => (await call(p, target, { method: "POST", body: "{}", headers })).status;
    assert.equal(await status({ "sec-fetch-site": "same-origin" }), 200);
    assert.equal(await status({}), 200, "no browser headers: a server or a script");
    assert.equal(await status({ origin: "http://app.test" }), 200);
    assert.equal(await status({ origin: "https://public.example", "x-forwarded-host": "public.example" }), 200, "behind a reverse proxy");
    for (const headers of [{ "sec-fetch-site": "cross-site" }, { "sec-fetch-site": "same-site" }, { origin: "https://evil.example" }, { origin: "null" }]) {
      const r = await call(proxy, target, { method: "POST", body: "{}", headers });
      assert.equal(r.status, 403, JSON.stringify(headers));
      assert.deepEqual(Object.entries(await r.json()).filter(([k]) => k !== "detail"), [["error_type", "proxy_caller_rejected"], ["reason", "cross_origin"]]);
    }
    const seen = [];
    const guarded = proxyOf({ authorize: async (req, ctx) => { seen.push(ctx); return req.headers.get("x-session") === "ok"; } });
    assert.equal(await status({ "x-session": "ok", "sec-fetch-site": "cross-site" }, guarded), 200, "authorize replaces the default");
    const refused = await call(guarded, target, { method: "POST", body: "{}" });
    assert.equal(refused.status, 403);
    assert.equal((await refused.json()).reason, "caller_refused");
    assert.ok(seen.length === 2 && seen.every((c) => c === undefined));
    assert.equal(sameOrigin(new Request(APP, { headers: { origin: "http://app.test" } })), true);
  });

  test("an endpoint list: only those endpoints, their jobs, schemas and tokens; uploads always", async () => {
    const proxy = proxyOf({ endpoints: ["fal-ai/flux/dev", "fal-ai/lcm-sd15-i2i", "acme/*/v2", "fal-ai/flux-pro/**"] });
    const status = async (target, method = "GET", body) => (await call(proxy, target, { method, body })).status;
    const ok = [
      ["https://queue.fal.run/fal-ai/flux/dev", "POST", "{}"], ["https://fal.run/fal-ai/flux/dev", "POST", "{}"], ["https://fal.run/fal-ai/flux/dev/stream", "POST", "{}"],
      ["https://queue.fal.run/fal-ai/flux/requests/abc/status?logs=1"], ["https://queue.fal.run/fal-ai/flux/requests/abc/cancel", "PUT", ""],
      ["https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=fal-ai/flux/dev"], ["https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=fal-ai%2Fflux%2Fdev"],
      ["https://queue.fal.run/acme/model/v2", "POST", "{}"], ["https://queue.fal.run/fal-ai/flux-pro/v1.1/ultra", "POST", "{}"],
      ["https://rest.fal.ai/tokens/", "POST", JSON.stringify({ allowed_apps: ["lcm-sd15-i2i"], token_expiration: 120 })],
      ["https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3", "POST", "{}"],
    ];
    for (const [t, m, b] of ok) assert.equal(await status(t, m, b), 200, `${m ?? "GET"} ${t}`);
    const refused = [
      ["https://queue.fal.run/fal-ai/flux/schnell", "POST", "{}"], ["https://fal.run/fal-ai/fast-sdxl", "POST", "{}"],
      ["https://queue.fal.run/fal-ai/fast-sdxl/requests/abc"], ["https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=fal-ai/fast-sdxl"],
      ["https://queue.fal.run/acme/model/v3", "POST", "{}"], ["https://queue.fal.run/fal-ai/flux-pro", "POST", "{}"],
    ];
    const tokens = proxyOf({ endpoints: ["fal-ai/lcm-sd15-i2i", "fal-ai/flux/dev"] });
    for (const [p, t, m, b] of [
      ...refused.map((r) => [proxy, ...r]),
      [tokens, "https://rest.fal.ai/tokens/", "POST", JSON.stringify({ allowed_apps: ["fast-sdxl"] })],
      [tokens, "https://rest.fal.ai/tokens/", "POST", JSON.stringify({ allowed_apps: ["lcm-sd15-i2i", "fast-sdxl"] })],
      [tokens, "https://rest.fal.ai/tokens/", "POST", JSON.stringify({ allowed_apps: [] })],
      [tokens, "https://rest.fal.ai/tokens/", "POST", "not json"],
    ]) {
      const r = await call(p, t, { method: m, body: b });
      assert.equal(r.status, 403, `${m ?? "GET"} ${t} ${b ?? ""}`);
      assert.equal((await r.json()).reason, "endpoint_not_allowed");
    }
    // A token names aliases only: a wildcard alias lets any through.
    assert.equal((await call(proxy, "https://rest.fal.ai/tokens/", { method: "POST", body: JSON.stringify({ allowed_apps: ["anything"] }) })).status, 200);
  });

  test("options are checked when the proxy is made: genwire's typed config error, naming the option", () => {
    const refused = (options, message) => {
      for (const make of [createProxy, nextRoute, honoHandler, nodeHandler]) {
        assert.throws(() => make(options), (e) => {
          assert.ok(e instanceof Error && !(e instanceof TypeError), `${make.name}: ${e}`);
          assert.deepEqual([e.name, e.kind, e.category, e.retryable], ["GenwireError", "config", "config", false], make.name);
          assert.match(e.message, message, make.name);
          return true;
        });
      }
    };
    refused({ authorize: true }, /option 'authorize' must be a function .*, not boolean$/);
    refused({ endpoints: "fal-ai/flux/dev" }, /option 'endpoints' must be an array of endpoint ids or patterns \(strings\), not string$/);
    refused({ endpoints: ["fal-ai/flux/dev", 5] }, /option 'endpoints' must be an array/);
    refused({ bodyLimit: -1 }, /option 'bodyLimit' must be a number of bytes/);
    refused({ bodyLimit: "10mb" }, /option 'bodyLimit' must be a number of bytes \(0 or more\), not string$/);
    refused({ key: 42 }, /option 'key' must be a string or a function/);
    refused({ key: "" }, /option 'key' must be a string or a function/);
    refused({ fetch: "https://fal.run" }, /option 'fetch' must be a function/);
    refused({ endpoint: ["fal-ai/flux/dev"] }, /createProxy\(\) has no option 'endpoint' \(it takes key, endpoints, authorize, bodyLimit, fetch\)$/);
    refused("fal-ai/flux/dev", /the options must be an object \(or nothing\), not string$/);
    refused([], /not an array$/);
    refused({ get key() { throw new Error("boom"); } }, /option 'key' can't be read/);
    refused(new Proxy({}, { ownKeys() { throw new Error("trap"); } }), /the options can't be read/);
    // What is fine: nothing, undefined values, every option of its kind.
    for (const ok of [undefined, null, {}, { key: undefined }, { key: KEY, endpoints: ["fal-ai/*"], authorize: () => true, bodyLimit: 0, fetch: fakeFetch }, { key: () => KEY }]) {
      assert.equal(typeof createProxy(ok), "function", JSON.stringify(ok));
    }
  });
});

describe("nodeHandler on a real socket (Express, Node http, Next Pages)", () => {
  let app, base;
  const bodyParsed = nodeHandler({ fetch: fakeFetch, key: KEY, bodyLimit: 1000 });
  before(async () => {
    const plain = nodeHandler({ fetch: fakeFetch, key: KEY, bodyLimit: 1000 });
    app = http.createServer(async (req, res) => {
      if (req.url === "/parsed") {
        // As express.json() leaves it: the stream read, req.body an object.
        const chunks = [];
        for await (const c of req) chunks.push(c);
        req.body = JSON.parse(Buffer.concat(chunks).toString() || "{}");
        return bodyParsed(req, res);
      }
      return plain(req, res);
    });
    await new Promise((r) => app.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${app.address().port}`;
  });
  after(() => {
    app.closeAllConnections();
    app.close();
  });

  const send = (target, init = {}, path = "/api/fal/proxy") => fetch(`${base}${path}`, { ...init, headers: { "x-fal-target-url": target, ...init.headers } });

  test("body, status, headers and the key's masking as with the Fetch handler", async () => {
    const seen = await (await send("https://queue.fal.run/fal-ai/flux/dev", { method: "POST", body: '{"prompt":"n"}' })).json();
    assert.equal(seen.body, '{"prompt":"n"}');
    assert.equal(authOf(seen), `Key ${KEY}`);
    const teapot = await send("https://queue.fal.run/fal-ai/status-418");
    assert.equal(teapot.status, 418);
    assert.equal(teapot.headers.get("x-fal-request-id"), "r-1");
    assert.equal(teapot.headers.get("set-cookie"), null);
    const leak = await (await send("https://fal.run/fal-ai/leak")).text();
    assert.ok(!leak.includes(KEY) && !leak.includes(SECRET), leak);
    const refused = await send("https://evil.com/x");
    assert.equal(refused.status, 403);
    assert.equal((await refused.json()).reason, "host_not_allowed");
  });

  test("a body a parser already read is sent as it parsed it", async () => {
    const seen = await (await send("https://queue.fal.run/fal-ai/flux/dev", { method: "POST", body: '{"prompt": "p", "n": 2}' }, "/parsed")).json();
    assert.equal(seen.body, '{"prompt":"p","n":2}');
  });

  test("a body over the limit, declared or streamed, is refused with 413", async () => {
    const declared = await send("https://fal.run/fal-ai/x", { method: "POST", body: "x".repeat(1001) });
    assert.equal(declared.status, 413);
    assert.equal((await declared.json()).reason, "body_too_large");
    let n = 0;
    const chunked = await send("https://fal.run/fal-ai/x", {
      method: "POST", duplex: "half",
      body: new ReadableStream({ pull(c) { if (n++ < 40) c.enqueue(new Uint8Array(100)); else c.close(); } }),
    });
    assert.equal(chunked.status, 413);
  });

  test("streams unbuffered, and a client that leaves stops the upstream call", async () => {
    const r = await send("https://queue.fal.run/fal-ai/sse/stream", { headers: { accept: "text/event-stream" } });
    const reader = r.body.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), 'data: {"n":1}\n\n');
    release();
    await reader.cancel();

    const ctl = new AbortController();
    const hang = await send("https://queue.fal.run/fal-ai/hang", { signal: ctl.signal });
    const hr = hang.body.getReader();
    assert.equal(new TextDecoder().decode((await hr.read()).value), ": open\n\n");
    ctl.abort();
    for (let i = 0; i < 200 && !closed.includes("/fal-ai/hang"); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(closed.includes("/fal-ai/hang"), "the upstream request was broken off");
  });
});
