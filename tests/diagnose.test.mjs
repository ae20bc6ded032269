// client.diagnose(): every check passes against the simulator, and each integration mistake of
// seed 000's checklist is found with a fix: route missing, no key, open allowlist, buffered status
// stream, refused WebSocket, clock skew, a CSP without 'wasm-unsafe-eval'. Mistakes are made by
// intercepting the page's own requests (the realtime ones use the simulator's faults instead:
// Chromium refuses sockets to loopback from route-fulfilled pages).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { openPage, setup, teardown, uniquePrompt } from "./support/env.mjs";

let server, browser, page;
before(async () => ({ server, browser, page } = await setup()));
after(() => teardown({ server, browser }));

const RT = "fal-ai/fast-lcm-diffusion";
const full = () => ({ realtimeEndpoint: RT, streaming: { endpoint: "fal-ai/flux/dev", input: { prompt: uniquePrompt("diagnose") } } });

/** Runs diagnose in `pg`: `client.diagnose(opts)` once the client has it, else the module itself. */
function diagnoseIn(pg, opts = {}, clientOptions = {}) {
  return pg.evaluate(async ({ opts, clientOptions }) => {
    const co = { realtimeUrl: `ws://${location.host}/sim/realtime`, ...clientOptions };
    const client = window.genwire?.createClient(co);
    if (typeof client?.diagnose === "function") return client.diagnose(opts);
    const { diagnose } = await import("/js/diagnose.js");
    return diagnose(co, opts);
  }, { opts, clientOptions });
}

const byId = (report) => Object.fromEntries(report.checks.map((c) => [c.id, c]));
const proxyRoute = () => `${server.url}/api/fal/proxy`;
const target = (route) => route.request().headers()["x-fal-target-url"] ?? "";

/** A fresh sandbox page whose proxy requests go through `handler` first. */
async function pageWithProxy(handler) {
  const pg = await openPage(browser, server.url);
  await pg.route(proxyRoute(), handler);
  return pg;
}

describe("diagnose", () => {
  test("everything passes against the simulator; the probes cost nothing and never carry a key", async () => {
    const since = (await server.sim("/__sim/log?since=0")).next;
    const rtBefore = await server.sim("/__sim/realtime/stats");
    const sent = [];
    const onRequest = (r) => sent.push(r.headers());
    page.on("request", onRequest);
    const opts = full();
    const report = await diagnoseIn(page, opts);
    page.off("request", onRequest);

    assert.deepEqual(report.checks.map((c) => c.id), ["proxy", "key", "statuses", "allowlist", "schemas", "uploads", "streaming", "realtime", "clock", "csp"]);
    for (const c of report.checks) {
      assert.equal(c.status, "pass", `${c.id}: ${c.detail} / ${c.fix}`);
      assert.equal(c.fix, null);
      assert.ok(c.title && c.detail && typeof c.ms === "number", c.id);
    }
    assert.equal(report.ok, true);
    assert.deepEqual(report.counts, { pass: 10, warn: 0, fail: 0, skip: 0 });
    assert.equal(report.proxyUrl, "/api/fal/proxy");
    for (const c of report.checks) assert.ok(report.text.includes(c.title), c.title);
    assert.match(report.text, /^genwire diagnose .*OK/);
    assert.match(byId(report).key.detail, /404/);

    // What reached the upstream: a status lookup (404), a cancel of a made-up id, one job and its
    // stream, a token; the .invalid targets were refused by the proxy and never got there.
    const log = (await server.log(since));
    assert.ok(log.some((e) => e.step === "status" && e.status === 404), "status probe");
    assert.ok(log.every((e) => !e.url.includes(".invalid")), "allowlist probes stay in the proxy");
    assert.ok(log.some((e) => e.step === "stream"), "stream");
    assert.ok(log.some((e) => e.url === "https://rest.fal.ai/tokens/" && e.status === 201), "token");
    const proxied = log.filter((e) => e.step !== "realtime"); // the socket itself carries only the token
    assert.ok(proxied.length >= 5 && proxied.every((e) => e.headers.authorization === "<redacted:present>"), "the proxy added the key");
    assert.ok(sent.every((h) => !("authorization" in h)), "no authorization header left the page");
    // The test job was cancelled once the stream proved live.
    const jobs = await server.sim(`/__sim/jobs?prompt=${encodeURIComponent(opts.streaming.input.prompt)}`);
    assert.equal(jobs.length, 1);
    let job = jobs[0];
    for (let i = 0; i < 50 && !job.canceled; i++) {
      await new Promise((r) => setTimeout(r, 20));
      job = await server.job(job.id);
    }
    assert.equal(job.canceled, true);
    // The socket opened, got nothing and was closed by the client.
    const rt = await server.sim("/__sim/realtime/stats");
    assert.equal(rt.opened, rtBefore.opened + 1);
    assert.equal(rt.inputs, rtBefore.inputs);
  });

  test("without a job or a realtime endpoint those two are skipped, saying how to check them", async () => {
    const report = await diagnoseIn(page);
    const c = byId(report);
    assert.equal(c.streaming.status, "skip");
    assert.match(c.streaming.fix, /streaming: \{ endpoint, input \}/);
    assert.equal(c.realtime.status, "skip");
    assert.match(c.realtime.fix, /realtimeEndpoint/);
    assert.equal(report.ok, true);
    assert.deepEqual(report.counts, { pass: 8, warn: 0, fail: 0, skip: 2 });
    assert.match(report.text, /skip {2}Status stream/);
  });

  test("client.diagnose() checks the client's own proxyUrl (here one where nothing is served)", async () => {
    const report = await page.evaluate(() => genwire.createClient({ proxyUrl: "/api/no/proxy" }).diagnose({ checks: ["proxy", "key"] }));
    const c = byId(report);
    assert.equal(report.proxyUrl, "/api/no/proxy");
    assert.equal(c.proxy.status, "fail", c.proxy.detail);
    assert.match(c.proxy.detail, /^GET \/api\/no\/proxy /);
    assert.match(c.proxy.fix, /Serve the proxy at \/api\/no\/proxy/);
    assert.equal(c.key.status, "skip");
  });

  test("opts.checks runs only the named checks", async () => {
    const report = await diagnoseIn(page, { checks: ["clock", "csp"] });
    assert.deepEqual(report.checks.map((c) => c.id), ["clock", "csp"]);
    assert.ok(report.checks.every((c) => c.status === "pass"));
  });

  test("proxy route missing: an HTML 404 page, a JSON 404 and a 405 are all told apart from fal's 404", async () => {
    let mode = "html";
    const pg = await pageWithProxy((route) => {
      if (mode === "html") return route.fulfill({ status: 404, contentType: "text/html", body: "<!DOCTYPE html><html><body><h1>404</h1>This page could not be found.</body></html>" });
      if (mode === "json") return route.fulfill({ status: 404, contentType: "application/json", body: JSON.stringify({ error: "Not Found", path: "/api/fal/proxy" }) });
      return route.fulfill({ status: 405, body: "" });
    });
    try {
      for (mode of ["html", "json", "405"]) {
        const report = await diagnoseIn(pg, full());
        const c = byId(report);
        assert.equal(report.ok, false, mode);
        assert.equal(c.proxy.status, "fail", `${mode}: ${c.proxy.detail}`);
        assert.match(c.proxy.fix, /export const \{ GET, POST, PUT \} = route/);
        assert.match(c.proxy.fix, /app\/api\/fal\/proxy\/route\.ts/);
        for (const id of ["key", "allowlist", "streaming", "realtime"]) assert.equal(c[id].status, "skip", `${mode} ${id}`);
        assert.equal(c.csp.status, "pass");
        assert.match(report.text, /FAIL {2}Proxy route reachable/);
        assert.match(report.text, /fix: Serve the proxy at \/api\/fal\/proxy/);
      }
    } finally {
      await pg.close();
    }
  });

  test("a proxy without the key: fal's 401 fails the key check (and realtime tokens) with the FAL_KEY fix", async () => {
    const pg = await pageWithProxy((route) => {
      const t = target(route);
      if (t.startsWith("https://queue.fal.run/") || t === "https://rest.fal.ai/tokens/") {
        return route.fulfill({ status: 401, contentType: "application/json", body: JSON.stringify({ detail: "No user found for Key ID and secret" }) });
      }
      return route.continue();
    });
    try {
      const report = await diagnoseIn(pg, { realtimeEndpoint: RT });
      const c = byId(report);
      assert.equal(c.proxy.status, "pass");
      assert.equal(c.key.status, "fail");
      assert.match(c.key.detail, /401/);
      assert.match(c.key.fix, /FAL_KEY/);
      assert.match(c.key.fix, /Authorization: Key/);
      assert.equal(c.realtime.status, "fail");
      assert.match(c.realtime.fix, /key/);
      assert.equal(c.allowlist.status, "pass");
      assert.equal(report.ok, false);
    } finally {
      await pg.close();
    }
  });

  test("an open proxy is caught without sending the key anywhere: .invalid targets not refused", async () => {
    let lookalikeOnly = false;
    const pg = await pageWithProxy((route) => {
      const t = target(route);
      if (t === "https://example.invalid/" && !lookalikeOnly) {
        // What a naive proxy says after trying to fetch a host that doesn't resolve.
        return route.fulfill({ status: 500, contentType: "application/json", body: JSON.stringify({ error: "fetch failed: getaddrinfo ENOTFOUND example.invalid" }) });
      }
      if (t === "https://queue.fal.run.invalid/") {
        return route.fulfill({ status: 200, contentType: "text/html", body: "<html>forwarded</html>" });
      }
      return route.continue();
    });
    try {
      let c = byId(await diagnoseIn(pg));
      assert.equal(c.allowlist.status, "fail");
      assert.match(c.allowlist.detail, /^Open proxy: https:\/\/example\.invalid\/ answered 500/);
      assert.match(c.allowlist.fix, /hostname exactly/);
      lookalikeOnly = true; // refuses example.invalid (403 by the real proxy) but not a look-alike
      c = byId(await diagnoseIn(pg));
      assert.equal(c.allowlist.status, "fail");
      assert.match(c.allowlist.detail, /queue\.fal\.run\.invalid\/ answered 200/);
      assert.match(c.allowlist.detail, /example\.invalid\/ → 403 application\/json \(refused\)/);
      assert.equal(c.proxy.status, "pass");
      assert.equal(c.key.status, "pass");
    } finally {
      await pg.close();
    }
  });

  test("an allowlist that refuses queue.fal.run itself is too strict", async () => {
    const pg = await pageWithProxy((route) => (target(route).startsWith("https://queue.fal.run/")
      ? route.fulfill({ status: 412, contentType: "application/json", body: JSON.stringify({ error: "Invalid target URL" }) })
      : route.continue()));
    try {
      const c = byId(await diagnoseIn(pg));
      assert.equal(c.proxy.status, "pass");
      assert.equal(c.key.status, "skip");
      assert.equal(c.allowlist.status, "fail");
      assert.match(c.allowlist.fix, /queue\.fal\.run\/\*\*/);
    } finally {
      await pg.close();
    }
  });

  test("a proxy that answers every error with 200 (Express) is named, with the Express fix", async () => {
    // As @fal-ai/server-proxy's Express handler: fal's body and headers, status 200.
    const pg = await pageWithProxy(async (route) => {
      const response = await route.fetch();
      return route.fulfill({ status: 200, headers: { ...response.headers(), "x-powered-by": "Express" }, body: await response.body() });
    });
    try {
      const report = await diagnoseIn(pg);
      const c = byId(report);
      assert.equal(c.statuses.status, "fail", c.statuses.detail);
      assert.match(c.statuses.detail, /every error with status 200/);
      assert.match(c.statuses.detail, /Express handler/);
      assert.match(c.statuses.fix, /nodeHandler\(\)/);
      assert.equal(c.key.status, "pass", c.key.detail);
      assert.equal(report.ok, false);
    } finally {
      await pg.close();
    }
  });

  test("schemas and multipart uploads refused by @fal-ai/server-proxy's default allowlist: warned, with the pattern to add", async () => {
    const refused = (t) => t.startsWith("https://fal.ai/api/openapi/") || t.includes("/initiate-multipart");
    const pg = await pageWithProxy((route) => (refused(target(route))
      ? route.fulfill({ status: 400, contentType: "application/json", headers: { "x-powered-by": "Next.js" }, body: JSON.stringify("Invalid request") })
      : route.continue()));
    try {
      const report = await diagnoseIn(pg);
      const c = byId(report);
      assert.equal(c.schemas.status, "warn", c.schemas.detail);
      assert.match(c.schemas.detail, /refuses the schema route/);
      assert.ok(c.schemas.fix.includes("fal.ai/api/openapi/queue/openapi.json\\?endpoint_id=*{,/**}"), c.schemas.fix);
      assert.match(c.schemas.fix, /nextRoute\(\)/);
      assert.equal(c.uploads.status, "warn", c.uploads.detail);
      assert.match(c.uploads.detail, /refuses uploads in parts/);
      assert.ok(c.uploads.fix.includes("rest.fal.ai/storage/upload/initiate-multipart\\?storage_type=fal-cdn-v3"), c.uploads.fix);
      assert.equal(c.statuses.status, "pass", c.statuses.detail);
      assert.equal(report.ok, true, "the queue still works: warnings only");
    } finally {
      await pg.close();
    }
  });

  test("refused simple uploads fail the uploads check", async () => {
    const pg = await pageWithProxy((route) => (target(route).includes("/storage/upload/")
      ? route.fulfill({ status: 400, contentType: "application/json", body: JSON.stringify("Invalid request") })
      : route.continue()));
    try {
      const c = byId(await diagnoseIn(pg, { checks: ["uploads"] }));
      assert.equal(c.uploads.status, "fail", c.uploads.detail);
      assert.match(c.uploads.fix, /allowedUrlPatterns/);
    } finally {
      await pg.close();
    }
  });

  test("a buffered status stream (delivered whole at its end) fails with the streaming fix", async () => {
    const pg = await pageWithProxy(async (route) => {
      if (!target(route).includes("/status/stream")) return route.continue();
      const response = await route.fetch(); // reads the whole stream, as a buffering proxy does
      return route.fulfill({ response });
    });
    try {
      const report = await diagnoseIn(pg, full());
      const c = byId(report);
      assert.equal(c.streaming.status, "fail", c.streaming.detail);
      assert.match(c.streaming.detail, /arrived at once/);
      assert.match(c.streaming.fix, /new Response\(upstream\.body/);
      assert.match(c.streaming.fix, /X-Accel-Buffering: no/);
      assert.equal(c.proxy.status, "pass");
      assert.equal(report.ok, false);
    } finally {
      await pg.close();
    }
  });

  test("a status stream answered as JSON (Accept overwritten) fails with the Accept fix", async () => {
    const pg = await pageWithProxy(async (route) => {
      if (!target(route).includes("/status/stream")) return route.continue();
      return route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify({ status: "IN_QUEUE", queue_position: 0 }) });
    });
    try {
      const c = byId(await diagnoseIn(pg, { checks: ["streaming"], streaming: full().streaming }));
      assert.equal(c.streaming.status, "fail");
      assert.match(c.streaming.fix, /Accept/);
    } finally {
      await pg.close();
    }
  });

  test("a refused WebSocket and a refused token fail the realtime check", async () => {
    await server.sim("/__sim/realtime/faults", { refuse_next: 1 });
    try {
      let c = byId(await diagnoseIn(page, { realtimeEndpoint: RT, checks: ["realtime"] }));
      assert.equal(c.realtime.status, "fail");
      assert.match(c.realtime.detail, /could not be opened/);
      assert.match(c.realtime.fix, /realtimeUrl/);
      assert.match(c.realtime.fix, /connect-src/);
      assert.doesNotMatch(c.realtime.detail, /simtok_/, "the token is never shown");

      await server.sim("/__sim/realtime/faults", { reject_token_next: 1 });
      c = byId(await diagnoseIn(page, { realtimeEndpoint: RT, checks: ["realtime"] }));
      assert.equal(c.realtime.status, "fail");
      assert.match(c.realtime.detail, /Unauthorized/);
      assert.match(c.realtime.fix, /allowed_apps/);

      // Nothing is listening there: the socket can't open.
      c = byId(await diagnoseIn(page, { realtimeEndpoint: RT, checks: ["realtime"] }, { realtimeUrl: "ws://127.0.0.1:9/sim/realtime" }));
      assert.equal(c.realtime.status, "fail");
    } finally {
      await server.sim("/__sim/realtime/faults", undefined, "DELETE");
    }
  });

  test("a server clock ten minutes ahead is a warning, not a failure", async () => {
    const pg = await pageWithProxy(async (route) => {
      const response = await route.fetch();
      const headers = { ...response.headers(), date: new Date(Date.now() + 600_000).toUTCString() };
      return route.fulfill({ response, headers });
    });
    try {
      const report = await diagnoseIn(pg, { checks: ["proxy", "key", "clock"] });
      const c = byId(report);
      assert.equal(c.clock.status, "warn");
      assert.match(c.clock.detail, /ahead of this computer's clock/);
      assert.match(c.clock.fix, /NTP/);
      assert.equal(report.ok, true);
      assert.match(report.text, /WARN {2}Clock in step/);
    } finally {
      await pg.close();
    }
  });

  test("a CSP without 'wasm-unsafe-eval' fails the csp check; with it, it passes", async () => {
    const pg = await browser.newPage();
    let csp = "script-src 'self'";
    await pg.route(`${server.url}/csp-page.html`, (route) => route.fulfill({
      status: 200,
      contentType: "text/html",
      headers: { "content-security-policy": csp },
      body: "<!doctype html><title>csp</title><p>strict page</p>",
    }));
    try {
      for (const [policy, expected] of [["script-src 'self'", "fail"], ["script-src 'self' 'wasm-unsafe-eval'", "pass"]]) {
        csp = policy;
        await pg.goto(`${server.url}/csp-page.html`);
        const report = await pg.evaluate(async () => {
          const { diagnose } = await import("/js/diagnose.js");
          return diagnose({}, { checks: ["csp"] });
        });
        const c = byId(report).csp;
        assert.equal(c.status, expected, `${policy}: ${c.detail}`);
        if (expected === "fail") {
          assert.match(c.fix, /'wasm-unsafe-eval'/);
          assert.match(c.fix, /script-src/);
          assert.equal(report.ok, false);
        }
      }
    } finally {
      await pg.close();
    }
  });

  test("a check that hangs times out into a failure; the others still report", async () => {
    const pg = await pageWithProxy((route) => (target(route).endsWith(".invalid/") ? undefined /* never answered */ : route.continue()));
    try {
      const report = await diagnoseIn(pg, { timeoutMs: 1500, checks: ["proxy", "key", "allowlist"] });
      const c = byId(report);
      assert.equal(c.allowlist.status, "fail");
      assert.match(c.allowlist.detail, /No answer within 1500 ms/);
      assert.equal(c.proxy.status, "pass");
      assert.equal(c.key.status, "pass");
    } finally {
      await pg.close();
    }
  });

  test("abort rejects with the signal's reason; bad arguments throw; keys are refused", async () => {
    const out = await page.evaluate(async () => {
      const { diagnose } = await import("/js/diagnose.js");
      const caught = async (f) => { try { await f(); return "resolved"; } catch (e) { return `${e.name}: ${e.message}`; } };
      const c = new AbortController();
      const running = diagnose({}, { signal: c.signal });
      c.abort(new Error("stop now"));
      const pre = new AbortController();
      pre.abort(new Error("already"));
      return {
        aborted: await caught(() => running),
        pre: await caught(() => diagnose({}, { signal: pre.signal })),
        key: await caught(() => diagnose({ credentials: "fal_xxx" })),
        checks: await caught(() => diagnose({}, { checks: ["proxy", "nope"] })),
        streaming: await caught(() => diagnose({}, { streaming: { input: {} } })),
        both: await caught(() => diagnose({}, { streaming: { endpoint: "fal-ai/flux/dev", input: {}, requestId: "x" } })),
        timeout: await caught(() => diagnose({}, { timeoutMs: 0 })),
        endpoint: await caught(() => diagnose({}, { realtimeEndpoint: "../x" })),
      };
    });
    assert.equal(out.aborted, "Error: stop now");
    assert.equal(out.pre, "Error: already");
    assert.match(out.key, /^GenwireError: .*credentials/);
    for (const k of ["checks", "streaming", "both", "timeout", "endpoint"]) assert.match(out[k], /^GenwireError: diagnose: /, k);
  });
});
