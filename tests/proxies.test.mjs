// genwire behind the proxy routes apps run: every feature row, in Chromium, through
// - the real `@fal-ai/server-proxy` 1.2.1 from the registry, unchanged, in a Next.js App Router
//   app built with `next build` (served by `next start`), in the Pages router, and in Express;
// - `genwire/proxy` (js/proxy.js) in the same Next.js app (App and Pages router), Express and Hono;
// - genwire-server's own proxy.
// The apps' calls to fal go, without changing any package, to a local TLS stand-in for fal's
// hosts (throwaway CA, tests/proxies/support/fal-hosts.mjs) and on to the simulator, which checks
// their key (the simulator's, given to them as FAL_KEY). Realtime sockets and upload PUTs go from
// the page straight to the simulator, as they would to fal.
// Rows that fail today because the client does not yet cope with what a proxy does are listed in
// KNOWN_CLIENT_GAPS: they run, must fail, and this file fails the day one passes.
// Needs `bash scripts/build.sh` first, openssl, and the npm registry (or npm's cache): fixture
// installs and the Next build are kept in tests/proxies/.cache between runs.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { launchBrowser, startServer, uniquePrompt } from "./support/env.mjs";
import { startFalHosts } from "./proxies/support/fal-hosts.mjs";
import { buildNext, prepareApp } from "./proxies/support/apps.mjs";
import { freePort, killAll, run, serve, toolEnv } from "./support/procs.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const fixtures = join(root, "tests", "proxies");
const SETUP_TIMEOUT = 15 * 60_000;
const SIM_KEY = `sim-${randomBytes(16).toString("hex")}:${randomBytes(16).toString("hex")}`;

/**
 * The routes under test. `via` is the `x-fal-client-proxy` each one sends to fal (the simulator
 * logs it: proof that the call went through that package). `buffered`: the Pages router handler
 * of @fal-ai/server-proxy reads every answer whole (no streaming; the rows may poll there).
 * `flattens`: its Express handler answers every upstream status as 200.
 */
const ROUTES = [
  { id: "genwire-server", app: null, proxyUrl: "/api/fal/proxy", via: "genwire-server/0.1" },
  { id: "genwire/proxy in Next.js (App Router)", app: "next", proxyUrl: "/api/fal/proxy", via: "genwire-proxy/0.1" },
  { id: "genwire/proxy in Next.js (Pages router)", app: "next", proxyUrl: "/api/genwire-pages-proxy", via: "genwire-proxy/0.1" },
  { id: "genwire/proxy in Express", app: "express-genwire", proxyUrl: "/api/fal/proxy", via: "genwire-proxy/0.1" },
  { id: "genwire/proxy in Hono", app: "hono-genwire", proxyUrl: "/api/fal/proxy", via: "genwire-proxy/0.1" },
  { id: "@fal-ai/server-proxy in Next.js (App Router)", app: "next", proxyUrl: "/api/fal-server-proxy", via: "@fal-ai/server-proxy/nextjs-app-router" },
  { id: "@fal-ai/server-proxy in Next.js (Pages router)", app: "next", proxyUrl: "/api/fal-pages-proxy", via: "@fal-ai/server-proxy/nextjs-page-router", buffered: true },
  { id: "@fal-ai/server-proxy in Express", app: "express-fal", proxyUrl: "/api/fal/proxy", via: "@fal-ai/server-proxy/express", flattens: true },
];

/**
 * `route · row` pairs that fail today because genwire's client does not yet cope with what that
 * proxy does, each with what the client sees: they must fail, and this file fails the day one passes.
 */
const KNOWN_CLIENT_GAPS = {
  // None left. @fal-ai/server-proxy's Express handler (every answer 200) and its Pages router
  // (every answer read whole) were here until the client learnt to cope with them (issue 13).
};

let server, falHosts, browser;
const origins = {}; // app name -> http://127.0.0.1:PORT
const pages = {}; // route id -> Playwright page
const timings = [];

before(async () => {
  assert.ok(existsSync(join(root, "pkg", "genwire_bg.wasm")), "pkg/ is missing: run `bash scripts/build.sh` first");
  let t0 = Date.now();
  const packDir = join(fixtures, ".cache", "pack");
  rmSync(packDir, { recursive: true, force: true });
  mkdirSync(packDir, { recursive: true });
  const packed = await run("npm", ["pack", "--json", "--pack-destination", packDir], { cwd: root, timeout: 120_000 });
  const tarball = join(packDir, JSON.parse(packed.slice(packed.indexOf("[")))[0].filename);
  timings.push(`npm pack ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const [nextDir, nodeDir] = await Promise.all([
    prepareApp(fixtures, "next-app", tarball, timings),
    prepareApp(fixtures, "node-app", tarball, timings),
  ]);
  const built = await buildNext(fixtures, "next-app", nextDir, tarball, toolEnv(), timings);
  if (built) assert.match(built, /Finished TypeScript|Linting and checking validity of types/, `next build type-checked the routes:\n${built}`);

  server = await startServer(["--latency-ms", "300", "--queue-depth", "1", "--queue-step-ms", "100", "--keepalive-ms", "200", "--sim-key", SIM_KEY, "--cors-any"]);
  falHosts = await startFalHosts(server.url);
  const env = (port) => toolEnv({ ...falHosts.env, FAL_KEY: SIM_KEY, PORT: String(port) });
  t0 = Date.now();
  const apps = [
    ["next", nextDir, (port) => [join(nextDir, "node_modules/.bin/next"), ["start", "-H", "127.0.0.1", "-p", String(port)]]],
    ["express-genwire", nodeDir, (port) => [process.execPath, ["serve.mjs", "express-genwire", String(port)]]],
    ["hono-genwire", nodeDir, (port) => [process.execPath, ["serve.mjs", "hono-genwire", String(port)]]],
    ["express-fal", nodeDir, (port) => [process.execPath, ["serve.mjs", "express-fal", String(port)]]],
  ];
  await Promise.all(apps.map(async ([name, cwd, command]) => {
    const port = await freePort();
    const [cmd, args] = command(port);
    origins[name] = `http://127.0.0.1:${port}`;
    await serve(cmd, args, { cwd, env: env(port), url: `${origins[name]}/` });
  }));
  timings.push(`apps started ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  browser = await launchBrowser();
}, { timeout: SETUP_TIMEOUT });

// Whatever ends this process, the apps and servers it started end with it.
process.on("exit", () => { killAll(); server?.close(); });
for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => process.exit(130));

after(async () => {
  await browser?.close();
  killAll();
  falHosts?.close();
  server?.close();
  if (timings.length) console.log(`proxies timings: ${timings.join(", ")}`);
});

/** The page of a route: served by the app that holds the route, genwire loaded as window.genwire. */
async function pageOf(route) {
  if (pages[route.id]) return pages[route.id];
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.error(`pageerror (${route.id}):`, e.message));
  await page.goto(route.app ? `${origins[route.app]}/` : `${server.url}/sandbox.html`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
  pages[route.id] = page;
  return page;
}

/**
 * Runs `fn(client, arg)` in the route's page with a fresh client on that route; resolves to
 * `{ ok, value | error, events }` with errors and events as plain objects.
 */
async function inPage(route, fn, arg = {}, clientOptions = {}) {
  const page = await pageOf(route);
  const options = { proxyUrl: route.proxyUrl, realtimeUrl: `${server.url.replace(/^http/, "ws")}/sim/realtime`, retry: { baseDelayMs: 20 }, ...clientOptions };
  return page.evaluate(async ({ src, arg, options }) => {
    const plain = (e) => (e && typeof e === "object"
      ? { name: e.name, kind: e.kind, category: e.category, status: e.status, errorType: e.errorType, retryable: e.retryable, source: e.source, message: e.message, issues: e.issues, body: e.body }
      : { message: String(e) });
    const events = [];
    const client = window.genwire.createClient({
      ...options,
      onEvent: (e) => events.push({ type: e.type, call: e.call, attempt: e.attempt, delayMs: e.delayMs, serverNamed: e.serverNamed, reason: e.reason, error: e.error && plain(e.error) }),
    });
    const fn = new Function(`return (${src})`)();
    try {
      return { ok: true, value: await fn(client, arg, plain), events };
    } catch (e) {
      return { ok: false, error: plain(e), events };
    }
  }, { src: fn.toString(), arg, options });
}

const logNext = async () => (await server.sim("/__sim/log?since=1000000000000")).next;
const ofJob = (log, id, suffix) => log.filter((e) => e.url.includes(`/requests/${id}${suffix}`));

async function waitFor(check, what) {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for: ${what}`);
}

/** The calls reached the simulator through the route's own package, with the key. */
function assertVia(route, entries, what) {
  assert.ok(entries.length > 0, `${what}: no call reached the simulator`);
  for (const e of entries) {
    assert.equal(e.headers["x-fal-client-proxy"], route.via, `${what}: ${e.method} ${e.url} came through ${e.headers["x-fal-client-proxy"]}`);
    assert.equal(e.headers.authorization, "<redacted:present>", `${what}: the route added the key`);
  }
}

const RANK = { IN_QUEUE: 0, IN_PROGRESS: 1, COMPLETED: 2 };
function assertOrdered(updates) {
  const phases = updates.map((u) => u.status);
  assert.equal(phases.at(-1), "COMPLETED", phases.join(","));
  assert.ok(phases.includes("IN_PROGRESS"), phases.join(","));
  assert.equal(phases.filter((p) => p === "COMPLETED").length, 1, phases.join(","));
  for (let i = 1; i < phases.length; i++) assert.ok(RANK[phases[i - 1]] <= RANK[phases[i]], `went back: ${phases.join(",")}`);
}

async function assertImage(url) {
  assert.ok(url.startsWith(server.url), `the image is served by the simulator: ${url}`);
  const r = await fetch(url);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-type"), "image/png");
}

/** An error answer as the client typed it; behind a status-flattening proxy the status may be unknown. */
function assertApiError(route, error, { status, errorType, category, retryable }) {
  assert.equal(error?.name, "GenwireError", JSON.stringify(error));
  if (route.flattens) assert.ok([status, undefined, null, 0].includes(error.status), `status ${error.status}: ${JSON.stringify(error)}`);
  else assert.equal(error.status, status, JSON.stringify(error));
  if (errorType) assert.equal(error.errorType, errorType, JSON.stringify(error));
  if (category) assert.equal(error.category, category, JSON.stringify(error));
  assert.equal(error.retryable, retryable, JSON.stringify(error));
}

const FLUX = "fal-ai/flux/dev";

/** The feature rows; each runs through every route. */
const ROWS = {
  async "subscribe, streaming"(route, note) {
    const prompt = uniquePrompt("stream");
    // A job long enough that live updates, by the stream or by polling, show it running.
    await server.fault(prompt, { latency_ms: 1000 });
    const since = await logNext();
    const r = await inPage(route, async (client, { prompt, endpoint }) => {
      const updates = [];
      const result = await client.subscribe(endpoint, {
        input: { prompt, image_size: "square", seed: 3 }, logs: true, pollInterval: 100,
        onQueueUpdate: (u) => updates.push({ status: u.status, at: Date.now() }),
      });
      return { result, updates };
    }, { prompt, endpoint: FLUX });
    assert.ok(r.ok, JSON.stringify(r.error));
    const { result, updates } = r.value;
    assertOrdered(updates);
    await assertImage(result.data.images[0].url);
    const log = await server.log(since);
    const streams = ofJob(log, result.requestId, "/status/stream");
    assert.equal(streams.length, 1, "one status stream");
    assertVia(route, streams, "stream");
    const polls = ofJob(log, result.requestId, "/status?");
    const job = await server.job(result.requestId);
    const running = updates.find((u) => u.status === "IN_PROGRESS");
    note(`${updates.length} updates, ${polls.length} status polls; IN_PROGRESS reached the page ${Math.round(job.completed_at_ms - running.at)} ms before the job completed`);
    if (!route.buffered) assert.equal(polls.length, 0, "no polling: the stream came through");
    // Live status is the point of subscribe: through a proxy that holds the stream back, by polling.
    assert.ok(running.at < job.completed_at_ms, "IN_PROGRESS reached the page only once the job had completed: updates were held back");
  },

  async "subscribe, polling"(route) {
    const prompt = uniquePrompt("poll");
    const since = await logNext();
    const r = await inPage(route, async (client, { prompt, endpoint }) => {
      const updates = [];
      const result = await client.subscribe(endpoint, {
        input: { prompt, image_size: "square", seed: 4 }, logs: true, mode: "polling", pollInterval: 100,
        onQueueUpdate: (u) => updates.push({ status: u.status }),
      });
      return { result, updates };
    }, { prompt, endpoint: FLUX });
    assert.ok(r.ok, JSON.stringify(r.error));
    assertOrdered(r.value.updates);
    await assertImage(r.value.result.data.images[0].url);
    const log = await server.log(since);
    assert.equal(ofJob(log, r.value.result.requestId, "/status/stream").length, 0);
    assertVia(route, ofJob(log, r.value.result.requestId, "/status?"), "status polls");
  },

  async "queue: submit, status, result"(route) {
    const prompt = uniquePrompt("queue");
    const since = await logNext();
    const r = await inPage(route, async (client, { prompt, endpoint }) => {
      const submitted = await client.queue.submit(endpoint, { input: { prompt } });
      const seen = [];
      for (let i = 0; i < 200; i++) {
        const s = await client.queue.status(endpoint, { requestId: submitted.request_id, logs: true });
        seen.push(s.status);
        if (s.status === "COMPLETED") break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const result = await client.queue.result(endpoint, { requestId: submitted.request_id });
      return { submitted, seen, result };
    }, { prompt, endpoint: FLUX });
    assert.ok(r.ok, JSON.stringify(r.error));
    const { submitted, seen, result } = r.value;
    assert.equal(submitted.status, "IN_QUEUE");
    assert.equal(seen.at(-1), "COMPLETED", seen.join(","));
    assert.equal(result.requestId, submitted.request_id);
    await assertImage(result.data.images[0].url);
    const log = await server.log(since);
    const id = submitted.request_id;
    assertVia(route, log.filter((e) => e.step === "submit"), "submit");
    assertVia(route, ofJob(log, id, "/status?"), "status");
    assertVia(route, log.filter((e) => e.step === "result" && e.url.endsWith(`/requests/${id}`)), "result");
  },

  async cancel(route) {
    const prompt = uniquePrompt("cancel");
    await server.fault(prompt, { latency_ms: 20_000 });
    const since = await logNext();
    const r = await inPage(route, async (client, { prompt, endpoint }) => {
      const { request_id } = await client.queue.submit(endpoint, { input: { prompt } });
      const answer = await client.queue.cancel(endpoint, { requestId: request_id });
      return { id: request_id, answer };
    }, { prompt, endpoint: FLUX });
    assert.ok(r.ok, JSON.stringify(r.error));
    await waitFor(async () => (await server.job(r.value.id)).canceled === true, "the job cancelled upstream");
    const cancels = ofJob(await server.log(since), r.value.id, "/cancel");
    assert.equal(cancels.length, 1);
    assert.equal(cancels[0].method, "PUT");
    assertVia(route, cancels, "cancel");
  },

  async run(route) {
    const prompt = uniquePrompt("run");
    const since = await logNext();
    const r = await inPage(route, async (client, { prompt, endpoint }) => client.run(endpoint, { input: { prompt, image_size: "square", seed: 5 } }), { prompt, endpoint: FLUX });
    assert.ok(r.ok, JSON.stringify(r.error));
    await assertImage(r.value.data.images[0].url);
    const runs = (await server.log(since)).filter((e) => e.step === "run");
    assert.equal(runs.length, 1);
    assert.equal(runs[0].url, `https://fal.run/${FLUX}`);
    assertVia(route, runs, "run");
  },

  async abort(route) {
    const prompt = uniquePrompt("abort");
    await server.fault(prompt, { latency_ms: 20_000 });
    // Where the proxy buffers the status stream, polling: the stream row covers that case.
    const r = await inPage(route, async (client, { prompt, endpoint, mode }) => {
      const ctl = new AbortController();
      await client.subscribe(endpoint, {
        input: { prompt }, signal: ctl.signal, mode, pollInterval: 100,
        onQueueUpdate: (u) => { if (u.status === "IN_PROGRESS") ctl.abort(); },
      });
    }, { prompt, endpoint: FLUX, mode: route.buffered ? "polling" : "streaming" });
    assert.equal(r.ok, false);
    assert.equal(r.error.kind, "aborted", JSON.stringify(r.error));
    const [job] = await server.sim(`/__sim/jobs?prompt=${encodeURIComponent(prompt)}`);
    await waitFor(async () => (await server.job(job.id)).canceled === true, "the job cancelled upstream");
  },

  async "error: 4xx typed, not retried"(route) {
    const prompt = uniquePrompt("e400");
    await server.fault(prompt, { submit_error: { example: "seed002/bad_request" } });
    const since = await logNext();
    const r = await inPage(route, async (client, { prompt, endpoint }) => client.subscribe(endpoint, { input: { prompt } }), { prompt, endpoint: FLUX });
    assert.equal(r.ok, false, "rejects");
    assertApiError(route, r.error, { status: 400, errorType: "bad_request", category: "bad_request", retryable: false });
    assert.equal(r.error.kind, "api");
    const submits = (await server.log(since)).filter((e) => e.step === "submit");
    assert.deepEqual(submits.map((e) => e.status), [400], "one submit, not repeated");
  },

  async "error: 429 retried"(route) {
    const prompt = uniquePrompt("e429");
    await server.fault(prompt, { submit_error: { status: 429, headers: { "retry-after-ms": "100" }, body: { detail: "Rate limit exceeded" }, count: 1 } });
    const since = await logNext();
    const r = await inPage(route, async (client, { prompt, endpoint }) => client.subscribe(endpoint, { input: { prompt }, mode: "polling", pollInterval: 100 }), { prompt, endpoint: FLUX });
    assert.ok(r.ok, JSON.stringify(r.error));
    const retries = r.events.filter((e) => e.type === "retry");
    assert.equal(retries.length, 1, JSON.stringify(r.events));
    assert.equal(retries[0].call, "submit");
    assert.equal(retries[0].serverNamed, true, "the server's retry-after-ms was honoured");
    const submits = (await server.log(since)).filter((e) => e.step === "submit");
    assert.deepEqual(submits.map((e) => e.status), [429, 200]);
  },

  async "error: 503 retried"(route) {
    const prompt = uniquePrompt("e503");
    await server.fault(prompt, { submit_error: { example: "seed002/runner_scheduling_failure", count: 1 } });
    const since = await logNext();
    const r = await inPage(route, async (client, { prompt, endpoint }) => client.subscribe(endpoint, { input: { prompt }, mode: "polling", pollInterval: 100 }), { prompt, endpoint: FLUX });
    assert.ok(r.ok, JSON.stringify(r.error));
    const retries = r.events.filter((e) => e.type === "retry");
    assert.equal(retries.length, 1, JSON.stringify(r.events));
    assert.equal(retries[0].error.errorType, "runner_scheduling_failure");
    const submits = (await server.log(since)).filter((e) => e.step === "submit");
    assert.deepEqual(submits.map((e) => e.status), [503, 200]);
  },

  async "a failed job rejects with its error"(route) {
    const prompt = uniquePrompt("failed");
    await server.fault(prompt, { result_error: { example: "seed001/internal_server_error:not_retryable" } });
    const r = await inPage(route, async (client, { prompt, endpoint }) => client.subscribe(endpoint, { input: { prompt }, mode: "polling", pollInterval: 100 }), { prompt, endpoint: FLUX });
    assert.equal(r.ok, false, `resolved: ${JSON.stringify(r.value)?.slice(0, 300)}`);
    assertApiError(route, r.error, { status: 500, errorType: "internal_server_error", retryable: false });
    assert.equal(r.error.kind, "api");
    assert.equal(r.error.message, "Internal server error");
  },

  async "validation: schema through the proxy, input refused before sending"(route) {
    const prompt = uniquePrompt("schema");
    const since = await logNext();
    const r = await inPage(route, async (client, { prompt, endpoint }, plain) => {
      const issues = await client.validate(endpoint, { prompt, guidance_scale: 25 });
      const valid = await client.validate(endpoint, { prompt });
      const refused = await client.subscribe(endpoint, { input: { prompt, guidance_scale: 25 } }).then(() => null, plain);
      return { issues, valid, refused };
    }, { prompt, endpoint: FLUX });
    assert.ok(r.ok, `the schema could not be had: ${JSON.stringify(r.error)}`);
    assert.deepEqual(r.value.issues.map((i) => [i.field, i.type]), [["guidance_scale", "less_than_equal"]]);
    assert.deepEqual(r.value.valid, []);
    assert.equal(r.value.refused?.kind, "validation", JSON.stringify(r.value.refused));
    assert.equal(r.value.refused.source, "client");
    const log = await server.log(since);
    const schemas = log.filter((e) => e.url.startsWith("https://fal.ai/api/openapi/queue/openapi.json?endpoint_id="));
    assert.equal(schemas.length, 1, "the schema fetched once");
    assert.equal(schemas[0].status, 200);
    assertVia(route, schemas, "schema");
    assert.equal(log.filter((e) => e.step === "submit").length, 0, "nothing submitted");
  },

  async "validation: the server's 422"(route) {
    const prompt = uniquePrompt("422");
    const r = await inPage(route, async (client, { prompt, endpoint }) => client.subscribe(endpoint, { input: { prompt, guidance_scale: 25 }, validate: false }), { prompt, endpoint: FLUX });
    assert.equal(r.ok, false);
    assert.equal(r.error.kind, "validation", JSON.stringify(r.error));
    assert.equal(r.error.source, "server");
    if (!route.flattens) assert.equal(r.error.status, 422);
    assert.deepEqual(r.error.issues.map((i) => [i.field, i.type]), [["guidance_scale", "less_than_equal"]]);
  },

  async "upload: simple"(route) {
    const since = await logNext();
    const r = await inPage(route, async (client) => {
      const data = new Uint8Array(64 * 1024).map((_, i) => (i * 31 + 7) & 255);
      const url = await client.storage.upload(new Blob([data], { type: "application/octet-stream" }));
      const back = new Uint8Array(await (await fetch(url)).arrayBuffer());
      return { url, same: back.length === data.length && back.every((b, i) => b === data[i]) };
    });
    assert.ok(r.ok, JSON.stringify(r.error));
    assert.ok(r.value.same, "the URL serves the same bytes");
    const log = await server.log(since);
    assertVia(route, log.filter((e) => e.url === "https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3"), "initiate");
    assert.equal(log.filter((e) => e.step === "upload" && e.method === "PUT").length, 1, "the bytes went straight to the upload URL");
  },

  async "upload: multipart"(route) {
    const since = await logNext();
    const r = await inPage(route, async (client) => {
      const data = new Uint8Array(1536 * 1024).map((_, i) => (i * 17 + 3) & 255);
      const url = await client.storage.upload(new Blob([data]), { multipartThreshold: 1024 * 1024 });
      const back = new Uint8Array(await (await fetch(url)).arrayBuffer());
      return { url, same: back.length === data.length && back.every((b, i) => b === data[i]) };
    });
    assert.ok(r.ok, JSON.stringify(r.error));
    assert.ok(r.value.same, "the URL serves the same bytes");
    const log = await server.log(since);
    assertVia(route, log.filter((e) => e.url === "https://rest.fal.ai/storage/upload/initiate-multipart?storage_type=fal-cdn-v3"), "initiate-multipart");
    assert.ok(log.some((e) => e.step === "upload" && e.method === "PUT" && /\/sim\/upload\/[0-9a-f]{32}\/1(\?|$)/.test(e.url)), "a part went straight to the upload URL");
  },

  async "realtime: token and socket"(route) {
    const since = await logNext();
    const r = await inPage(route, async (client) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no realtime result in 15 s")), 15_000);
      const conn = client.realtime.connect("fal-ai/lcm-sd15-i2i", {
        throttleInterval: 0,
        onResult: (res) => { clearTimeout(timer); conn.close(); resolve(res); },
        onError: (e) => { clearTimeout(timer); conn.close(); reject(e); },
      });
      conn.send({ prompt: "a koi pond", seed: 1, seq: 1 });
    }));
    assert.ok(r.ok, JSON.stringify(r.error));
    assert.match(r.value.images[0].url, /^data:image\/png;base64,/);
    const log = await server.log(since);
    const tokens = log.filter((e) => e.url === "https://rest.fal.ai/tokens/");
    assert.deepEqual(tokens.map((e) => e.status), [201], "one token");
    assertVia(route, tokens, "token");
    assert.ok(log.some((e) => e.step === "realtime" && e.status === 101), "the socket went straight to the simulator");
  },

  async "diagnose()"(route, note) {
    const prompt = uniquePrompt("diagnose");
    // A job long enough for the streaming check to tell a buffered stream from a quick job.
    await server.fault(prompt, { latency_ms: 2000 });
    const r = await inPage(route, async (client, { prompt, endpoint }) => client.diagnose({ realtimeEndpoint: "fal-ai/fast-lcm-diffusion", streaming: { endpoint, input: { prompt } } }), { prompt, endpoint: FLUX });
    assert.ok(r.ok, JSON.stringify(r.error));
    const report = r.value;
    const summary = report.checks.map((c) => `${c.id}: ${c.status} (${c.detail}${c.fix ? ` / fix: ${c.fix}` : ""})`).join("\n");
    if (route.flattens || route.buffered) note(`diagnose: ${report.ok ? "OK" : "not OK"}\n${summary}`);
    if (route.flattens) {
      // Named: a check that is not a pass says the proxy answers errors with status 200, and how to fix it.
      const names = (c) => c.status !== "pass" && c.fix && /flatten|(every|all|each|any)\b[^.]*\berrors?\b[^.]*\b200\b|\b200\b[^.]*\b(every|all|each|any)\b[^.]*\berrors?\b/i.test(`${c.title} ${c.detail}`);
      assert.ok(report.checks.some(names), `no check names the proxy that answers every error with 200:\n${summary}`);
    } else if (route.buffered) {
      const streaming = report.checks.find((c) => c.id === "streaming");
      assert.notEqual(streaming.status, "pass", `the buffered status stream is not reported:\n${summary}`);
      assert.match(`${streaming.detail} ${streaming.fix}`, /buffer/i, summary);
      assert.doesNotMatch(streaming.detail, /inconclusive/i, summary);
    } else {
      assert.deepEqual(report.checks.filter((c) => c.status !== "pass").map((c) => c.id), [], summary);
      assert.equal(report.ok, true);
    }
  },
};

describe("feature rows through each proxy route", () => {
  for (const route of ROUTES) {
    describe(route.id, () => {
      for (const [name, row] of Object.entries(ROWS)) {
        test(name, { timeout: 60_000 }, async (t) => {
          const gap = KNOWN_CLIENT_GAPS[`${route.id} · ${name}`];
          const note = (m) => t.diagnostic(m);
          if (!gap) return row(route, note);
          let failure;
          try {
            await row(route, note);
          } catch (e) {
            failure = e;
          }
          if (!failure) assert.fail(`"${route.id} · ${name}" passes now: remove it from KNOWN_CLIENT_GAPS`);
          t.diagnostic(`known client gap: ${gap} — fails with: ${failure.message.split("\n").slice(0, 3).join(" / ")}`);
        });
      }
    });
  }
  test("KNOWN_CLIENT_GAPS names only routes and rows that exist", () => {
    const known = new Set(ROUTES.flatMap((r) => Object.keys(ROWS).map((n) => `${r.id} · ${n}`)));
    assert.deepEqual(Object.keys(KNOWN_CLIENT_GAPS).filter((k) => !known.has(k)), []);
  });
});

/** The patterns of a fixture's `allowedUrlPatterns: [...]`, as the package receives them. */
function patternsOf(file) {
  const src = readFileSync(join(fixtures, file), "utf8");
  const list = src.slice(src.indexOf("allowedUrlPatterns: ["), src.indexOf("]", src.indexOf("allowedUrlPatterns: [")));
  return [...list.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`));
}

describe("@fal-ai/server-proxy's allowlist and the README", () => {
  const FAL_FIXTURES = ["next-app/app/api/fal-server-proxy/route.ts", "next-app/pages/api/fal-pages-proxy.ts", "node-app/express-fal.mjs"];

  test("the README's patterns let through every URL genwire calls, and the schema URL in both forms", () => {
    const nodeDir = join(fixtures, ".cache", readFileSync(join(fixtures, ".cache", "node-app.current"), "utf8").trim());
    const { isAllowedUrl, DEFAULT_ALLOWED_URL_PATTERNS } = createRequire(join(nodeDir, "package.json"))("@fal-ai/server-proxy");
    const extra = patternsOf(FAL_FIXTURES[0]);
    for (const f of FAL_FIXTURES.slice(1)) assert.deepEqual(patternsOf(f), extra, `${f} has the same patterns`);
    const patterns = [...DEFAULT_ALLOWED_URL_PATTERNS, ...extra];
    const allowed = (u) => isAllowedUrl(u, patterns);
    const id = "f81d4fae-7dec-11d0-a765-00a0c91e6bf6";
    for (const endpoint of ["fal-ai/flux/dev", "fal-ai/fast-sdxl", "fal-ai/flux/dev/image-to-image", "genwire/schema-zoo"]) {
      const app = endpoint.split("/").slice(0, 2).join("/");
      for (const u of [
        `queue.fal.run/${endpoint}`, `queue.fal.run/${app}/requests/${id}/status?logs=1`, `queue.fal.run/${app}/requests/${id}/status/stream?logs=0`,
        `queue.fal.run/${app}/requests/${id}`, `queue.fal.run/${app}/requests/${id}/cancel`, `fal.run/${endpoint}`, `fal.run/${endpoint}/stream`,
        `fal.ai/api/openapi/queue/openapi.json?endpoint_id=${endpoint}`,
        `fal.ai/api/openapi/queue/openapi.json?endpoint_id=${encodeURIComponent(endpoint)}`,
      ]) assert.ok(allowed(u), `allowed: ${u}`);
    }
    for (const u of ["rest.fal.ai/tokens/", "rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3",
      "rest.fal.ai/storage/upload/initiate-multipart?storage_type=fal-cdn-v3", "rest.fal.ai/storage/upload/complete-multipart?storage_type=fal-cdn-v3"]) {
      assert.ok(allowed(u), `allowed: ${u}`);
    }
    for (const u of ["fal.run.evil.com/x", "evil.com/fal.run/x", "rest.fal.ai/admin", "rest.fal.ai/tokens/x", "fal.ai/api/other",
      "fal.ai/api/openapi/queue/openapi.json?endpoint_id=a/../../x", "rest.fal.ai/storage/upload/initiate?storage_type=other"]) {
      assert.ok(!allowed(u), `refused: ${u}`);
    }
    // What the README says about picomatch: `**` inside a segment does not cross `/`.
    assert.equal(isAllowedUrl(`fal.ai/api/openapi/queue/openapi.json?endpoint_id=${FLUX}`, ["fal.ai/api/openapi/queue/openapi.json\\?endpoint_id=**"]), false);
    assert.equal(isAllowedUrl(`fal.ai/api/openapi/queue/openapi.json?endpoint_id=${encodeURIComponent(FLUX)}`, ["fal.ai/api/openapi/queue/openapi.json\\?endpoint_id=**"]), true);
  });

  test("every proxy snippet of the README is a fixture file, verbatim", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const blocks = [...readme.matchAll(/```(?:ts|js|tsx)\n([\s\S]*?)```/g)].map((m) => m[1]);
    for (const f of ["next-app/app/api/fal/proxy/route.ts", "next-app/pages/api/genwire-pages-proxy.ts", "next-app/next.config.mjs",
      "node-app/express-genwire.mjs", "node-app/hono-genwire.mjs", ...FAL_FIXTURES]) {
      assert.ok(blocks.includes(readFileSync(join(fixtures, f), "utf8")), `README.md shows ${f} as it is`);
    }
  });
});
