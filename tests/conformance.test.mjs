// Conformance: the official @fal-ai/client 1.10.1 and genwire run the same scenarios against the
// simulator, in the same Chromium page, through the same proxy (`/api/fal/proxy`), and must agree on
// what the app sees: final data, the full ordered log list, error status and type, uploaded bytes,
// realtime results, the token argument. The official client is the witness of fal's real behaviour:
// a scenario it fails means the simulator is wrong (../shared/reference/fal-protocol.md).
//
// The official client is bundled for the page with esbuild (as bench/ does) and configured with
// `proxyUrl`; its realtime socket (`wss://fal.run/...`) is sent to the simulator by a WebSocket
// wrapper, where genwire is given the same target as `realtimeUrl`.
//
// Deliberate genwire differences (each is asserted below where it shows):
// - genwire validates the input in the browser before sending (official: sends it, and the 422 comes
//   from `result` after the job ran). The failed-job scenario runs genwire with `validation: false`
//   so both reach the server, and checks that genwire's default refuses before any request.
// - genwire's streaming mode falls back to polling when the stream breaks or stalls; the official
//   client's streaming mode has no fallback (the call rejects). See "a status stream cut mid-job".
// - genwire's default mode is streaming; the official default is polling every 500 ms. Modes are
//   given explicitly here.
// - genwire merges logs by (timestamp, message) whatever the stream sends (deltas, snapshots,
//   polling windows); the official client appends the stream's lines as they come (right for fal's
//   deltas, duplicates with snapshots). Only fal's deltas are compared here.
// - genwire uploads in parts above `multipartThreshold` (given here to force 10 MiB parts on a
//   40 MiB file); the official client only above 90 MiB, so its multipart path is witnessed with a
//   91 MiB file and its 40 MiB upload is a single PUT.
// - genwire reconnects a dropped realtime socket by itself; the official client on the next send.
// - `queue.subscribeToStatus` resolves with the result in genwire, with the COMPLETED status in the
//   official client (which then needs `queue.result`); genwire probes the status once before it
//   opens the stream.
// - Output streaming: `fal.stream` resolves to the stream, genwire's `client.stream` is the stream
//   (`await` works on both). A mid-stream error event is output to the official client and a typed
//   rejection in genwire (its `done()` after an abort rejects `aborted`; the official one resolves
//   with the last partial).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { launchBrowser, openPage, startServer, uniquePrompt } from "./support/env.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const KINDS = ["official", "genwire"];

let server, browser, officialBundle;

/** @fal-ai/client as one script defining `window.falClient` (the package is CommonJS). */
async function bundleOfficial() {
  const out = await build({
    entryPoints: [`${root}node_modules/@fal-ai/client/src/index.js`],
    bundle: true,
    format: "iife",
    globalName: "falClient",
    platform: "browser",
    target: "es2020",
    write: false,
    logLevel: "silent",
  });
  return out.outputFiles[0].text;
}

before(async () => {
  // Every job: 200 ms in the queue (one position), 600 ms running. Keep-alives every 15 s, as fal.
  [server, browser, officialBundle] = await Promise.all([
    startServer(["--latency-ms", "600", "--queue-depth", "1", "--queue-step-ms", "200"]),
    launchBrowser(),
    bundleOfficial(),
  ]);
});
after(async () => {
  await browser?.close();
  server?.close();
});

/** A sandbox page of the server with both clients loaded and `window.conf`, the helpers below. */
async function conformancePage() {
  const page = await openPage(browser, server.url);
  await page.addScriptTag({ content: officialBundle });
  await page.evaluate(() => {
    const realtimeBase = `ws://${location.host}/sim/realtime`;
    // fal's realtime host, sent to the simulator (genwire gets the same target as realtimeUrl).
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
      constructor(url, protocols) {
        super(String(url).replace(/^wss:\/\/fal\.run\//, `${realtimeBase}/`), protocols);
      }
    };
    // The official default token provider warns that it is deprecated, once per connection.
    const warn = console.warn;
    console.warn = (...a) => (String(a[0]).includes("default token provider") ? undefined : warn(...a));
    const slimUpdate = (u) => ({
      status: u.status,
      position: u.queue_position ?? null,
      logs: Array.isArray(u.logs) ? u.logs.map((l) => l.message) : null,
      stamps: Array.isArray(u.logs) ? u.logs.map((l) => l.timestamp) : null,
      error: u.error ?? null,
      error_type: u.error_type ?? null,
      request_id: u.request_id,
    });
    window.conf = {
      realtimeBase,
      /** A client on the proxy; `options` are genwire's (the official client has no counterparts). */
      client(kind, options = {}) {
        return kind === "official"
          ? window.falClient.createFalClient({ proxyUrl: "/api/fal/proxy" })
          : window.genwire.createClient({ proxyUrl: "/api/fal/proxy", realtimeUrl: realtimeBase, ...options });
      },
      /** What an app can read from either client's error. */
      error(e) {
        return {
          name: e?.name,
          message: e?.message,
          status: e?.status,
          body: e?.body ?? null,
          kind: e?.kind,
          errorType: e?.errorType,
          source: e?.source,
          issues: e?.issues?.map((i) => ({ loc: i.loc, type: i.type })),
        };
      },
      /** `subscribe` with every update the callback saw (copied when seen). */
      async subscribe(kind, endpoint, options, clientOptions) {
        const updates = [];
        const onQueueUpdate = (u) => updates.push(slimUpdate(structuredClone(u)));
        try {
          const r = await conf.client(kind, clientOptions).subscribe(endpoint, { ...options, onQueueUpdate });
          return { ok: true, data: r.data, requestId: r.requestId, updates };
        } catch (e) {
          return { ok: false, error: conf.error(e), updates, requestId: updates[0]?.request_id };
        }
      },
      /** Whether the file at `url` holds exactly `bytes`. */
      async sameBytes(url, bytes) {
        const back = new Uint8Array(await (await fetch(url)).arrayBuffer());
        if (back.length !== bytes.length) return `length ${back.length}, sent ${bytes.length}`;
        for (let i = 0; i < bytes.length; i++) if (back[i] !== bytes[i]) return `byte ${i} differs`;
        return true;
      },
      bytes(n, seed) {
        const b = new Uint8Array(n);
        for (let i = 0; i < n; i++) b[i] = (i * 31 + seed + (i >> 13)) & 255;
        return b;
      },
      wait: (ms) => new Promise((r) => setTimeout(r, ms)),
      async until(pred, ms = 10000) {
        const end = Date.now() + ms;
        while (!pred()) {
          if (Date.now() > end) throw new Error("timed out waiting");
          await conf.wait(10);
        }
      },
    };
  });
  return page;
}

/** Runs `fn({ kind, arg })` in the page once per client, at the same time; `{ official, genwire }`. */
async function both(page, fn, arg) {
  const [official, genwire] = await Promise.all(KINDS.map((kind) => page.evaluate(fn, { kind, arg })));
  return { official, genwire };
}

/** The log list the app ends with: the last update that carries logs. */
const finalLogs = (r) => r.updates.filter((u) => u.logs !== null).at(-1)?.logs ?? null;
/** Each status once, in the order first seen. */
const phases = (r) => r.updates.map((u) => u.status).filter((s, i, all) => s !== all[i - 1]);
const steps = (n) => Array.from({ length: n }, (_, k) => `step ${k + 1}/${n}`);
/** The simulator's calls about request `id` whose URL ends in `suffix` (or has it before a query). */
const callsOf = (log, id, suffix) => log.filter((e) => e.url.includes(`/requests/${id}${suffix}`));

/** Every update's log list is a prefix of the final one: lines arrive in order, never twice, never lost. */
function assertGrowingLogs(r, expected, who) {
  assert.deepEqual(finalLogs(r), expected, `${who}: the final log list`);
  for (const u of r.updates.filter((x) => x.logs !== null)) {
    assert.deepEqual(u.logs, expected.slice(0, u.logs.length), `${who}: an update's logs are the lines so far, in order, once each`);
  }
}

describe("conformance: @fal-ai/client and genwire agree against the simulator", { concurrency: true }, () => {
  // The longest scenario runs beside all the others.
  test("a 40 s job whose log lines are 19 s apart (15 s keep-alives between them) never falls back to polling", async () => {
    const page = await conformancePage();
    const prompt = uniquePrompt("quiet 40 s");
    await server.fault(prompt, { queue_depth: 0, latency_ms: 40000, log_at_ms: [0, 19000, 38000] }, 2);
    const r = await both(page, ({ kind, arg }) => conf.subscribe(kind, "fal-ai/flux/dev", { input: { prompt: arg, seed: 5 }, logs: true, mode: "streaming" }), prompt);
    await page.close();
    const log = await server.log();
    for (const kind of KINDS) {
      assert.ok(r[kind].ok, `${kind}: ${JSON.stringify(r[kind].error)}`);
      assertGrowingLogs(r[kind], steps(3), kind);
      assert.equal(callsOf(log, r[kind].requestId, "/status/stream").length, 1, `${kind}: one status stream`);
      assert.equal(callsOf(log, r[kind].requestId, "/status?").length, 0, `${kind}: no status poll (no fallback to polling)`);
    }
    assert.deepEqual(r.genwire.data, r.official.data);
  });

  describe("scenarios", { concurrency: false }, () => {
    let page;
    before(async () => (page = await conformancePage()));
    after(() => page?.close());

    for (const mode of ["streaming", "polling"]) {
      test(`subscribe (${mode}): the same data, the same phases, the same four log lines`, async () => {
        const prompt = uniquePrompt(`subscribe ${mode}`);
        // A queue phase of 2.4 s: long enough that each client's first status read (the official
        // client's stream opens after a few round trips) still finds the job queued on a loaded machine.
        await server.fault(prompt, { queue_depth: 6 }, 2);
        const r = await both(page, ({ kind, arg }) => conf.subscribe(kind, "fal-ai/flux/dev", { input: { prompt: arg.prompt, seed: 11, image_size: "square" }, logs: true, mode: arg.mode, pollInterval: 100 }), { prompt, mode });
        const log = await server.log();
        for (const kind of KINDS) {
          assert.ok(r[kind].ok, `${kind}: ${JSON.stringify(r[kind].error)}`);
          assert.deepEqual(phases(r[kind]), ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"], kind);
          assertGrowingLogs(r[kind], steps(4), kind);
          assert.match(r[kind].requestId, /^[0-9a-f-]{36}$/);
          const streams = callsOf(log, r[kind].requestId, "/status/stream").length;
          const polls = callsOf(log, r[kind].requestId, "/status?").length;
          if (mode === "streaming") assert.deepEqual([streams, polls], [1, 0], `${kind}: one stream, no polls`);
          else assert.ok(streams === 0 && polls >= 2, `${kind}: ${streams} streams, ${polls} polls`);
        }
        assert.deepEqual(r.genwire.data, r.official.data);
        assert.equal(r.official.data.images[0].width, 512);
      });
    }

    for (const mode of ["streaming", "polling"]) {
      test(`subscribeToStatus (${mode}) of a job a server submitted: the same phases, logs and data`, async () => {
        // Submitted outside the page (as the app's server would), then followed by both clients at once.
        const r0 = await fetch(`${server.url}/api/fal/proxy`, {
          method: "POST",
          headers: { "x-fal-target-url": "https://queue.fal.run/fal-ai/flux/dev", "content-type": "application/json" },
          body: JSON.stringify({ prompt: uniquePrompt(`follow ${mode}`), seed: 13, image_size: "square" }),
        });
        const id = (await r0.json()).request_id;
        const r = await both(page, async ({ kind, arg }) => {
          const client = conf.client(kind);
          const updates = [];
          const onQueueUpdate = (u) => updates.push({ status: u.status, logs: Array.isArray(u.logs) ? u.logs.map((l) => l.message) : null });
          try {
            const done = await client.queue.subscribeToStatus("fal-ai/flux/dev", { requestId: arg.id, logs: true, mode: arg.mode, pollInterval: 100, onQueueUpdate });
            // The official client resolves with the COMPLETED status and needs result(); genwire resolves with the result.
            const result = kind === "official" ? await client.queue.result("fal-ai/flux/dev", { requestId: arg.id }) : done;
            return { ok: true, data: result.data, requestId: result.requestId, updates };
          } catch (e) {
            return { ok: false, error: conf.error(e), updates };
          }
        }, { id, mode });
        const log = await server.log();
        for (const kind of KINDS) {
          assert.ok(r[kind].ok, `${kind}: ${JSON.stringify(r[kind].error)}`);
          assert.equal(r[kind].requestId, id);
          assert.equal(phases(r[kind]).at(-1), "COMPLETED", kind);
          assert.deepEqual(finalLogs(r[kind]), steps(4), `${kind}: the final log list`);
        }
        assert.deepEqual(r.genwire.data, r.official.data);
        assert.equal(callsOf(log, id, "/status/stream").length > 0, mode === "streaming");
      });
    }

    test("a 30-line job: all 30 lines in order, once each (stream deltas, polling, useGeneration)", async () => {
      const prompt = uniquePrompt("thirty lines");
      await server.fault(prompt, { queue_depth: 0, latency_ms: 1500, log_lines: 30 }, 5); // 2 modes x 2 clients, and the hook
      for (const mode of ["streaming", "polling"]) {
        const r = await both(page, ({ kind, arg }) => conf.subscribe(kind, "fal-ai/flux/dev", { input: { prompt: arg.prompt }, logs: true, mode: arg.mode, pollInterval: 100 }), { prompt, mode });
        for (const kind of KINDS) {
          assert.ok(r[kind].ok, `${kind} (${mode}): ${JSON.stringify(r[kind].error)}`);
          assertGrowingLogs(r[kind], steps(30), `${kind} (${mode})`);
          const stamps = r[kind].updates.filter((u) => u.stamps).at(-1).stamps;
          assert.ok(stamps.every((t, i) => i === 0 || t > stamps[i - 1]), `${kind}: timestamps in order`);
        }
      }
      // genwire's React hook shows the same list (the official client has no hooks).
      const hooks = await openPage(browser, server.url);
      await hooks.addScriptTag({ url: "/dist/hooks-fixture.js", type: "module" });
      await hooks.waitForSelector("body[data-hooks=ready]");
      await hooks.evaluate(() => window.hooks.mount("Generation", { endpoint: "fal-ai/flux/dev", options: { logs: true } }));
      await hooks.waitForFunction(() => window.hooks.current.gen?.status === "idle");
      await hooks.evaluate((p) => window.hooks.current.gen.submit({ prompt: p }), prompt);
      await hooks.waitForFunction(() => ["success", "error"].includes(window.hooks.current.gen?.status), null, { timeout: 15000 });
      const gen = await hooks.evaluate(() => ({ status: window.hooks.current.gen.status, logs: window.hooks.current.gen.logs.map((l) => l.message), counts: window.hooks.log.filter((e) => e.hook === "gen").map((e) => e.logs) }));
      await hooks.close();
      assert.equal(gen.status, "success");
      assert.deepEqual(gen.logs, steps(30), "useGeneration: all 30 lines, in order, once each");
      assert.ok(gen.counts.every((n, i) => i === 0 || n >= gen.counts[i - 1]), `useGeneration never drops lines: ${gen.counts.join(",")}`);
    });

    test("an invalid input: accepted, run, COMPLETED with error and error_type, then the 422 from result", async () => {
      const prompt = uniquePrompt("invalid input");
      const r = await both(page, ({ kind, arg }) => conf.subscribe(kind, "fal-ai/flux/dev", { input: { prompt: arg, num_images: 9 }, mode: "streaming" }, { validation: false, retry: false }), prompt);
      for (const kind of KINDS) {
        assert.equal(r[kind].ok, false, kind);
        assert.equal(r[kind].error.status, 422, kind);
        const done = r[kind].updates.at(-1);
        assert.deepEqual([done.status, done.error, done.error_type], ["COMPLETED", "Input should be less than or equal to 4", "less_than_equal"], kind);
      }
      assert.equal(r.official.error.name, "ValidationError");
      const officialIssues = r.official.error.body.detail.map((i) => ({ loc: i.loc, type: i.type }));
      assert.deepEqual(officialIssues, [{ loc: ["body", "num_images"], type: "less_than_equal" }]);
      assert.deepEqual([r.genwire.error.kind, r.genwire.error.source], ["validation", "server"]);
      assert.deepEqual(r.genwire.error.issues, officialIssues, "the same issues as the official client reads from the body");
      const jobs = await server.sim(`/__sim/jobs?prompt=${encodeURIComponent(prompt)}`);
      assert.deepEqual(jobs.map((j) => j.outcome), ["invalid", "invalid"], "both submits were accepted and ran");

      // Deliberate difference: genwire's default checks the input first and sends nothing.
      const before = (await server.log()).length;
      const local = await page.evaluate((p) => conf.subscribe("genwire", "fal-ai/flux/dev", { input: { prompt: p, num_images: 9 } }), uniquePrompt("caught locally"));
      assert.deepEqual([local.ok, local.error.kind, local.error.source, local.error.status], [false, "validation", "client", 422]);
      assert.deepEqual((await server.log()).slice(before).filter((e) => e.step === "submit"), []);
    });

    test("a model error: COMPLETED with error and error_type, then the 500 and its body from result", async () => {
      const prompt = uniquePrompt("model error");
      const body = { detail: [{ loc: ["body"], msg: "Internal server error", type: "internal_server_error", url: "https://docs.fal.ai/errors/#internal_server_error" }] };
      await server.fault(prompt, { result_error: { status: 500, headers: { "x-fal-retryable": "false" }, body } }, 2);
      const r = await both(page, ({ kind, arg }) => conf.subscribe(kind, "fal-ai/flux/dev", { input: { prompt: arg }, mode: "polling", pollInterval: 100 }), prompt);
      for (const kind of KINDS) {
        assert.equal(r[kind].ok, false, kind);
        assert.equal(r[kind].error.status, 500, kind);
        assert.deepEqual(r[kind].error.body, body, kind);
        const done = r[kind].updates.at(-1);
        assert.deepEqual([done.status, done.error, done.error_type], ["COMPLETED", "Internal server error", "internal_server_error"], kind);
      }
      assert.equal(r.genwire.error.kind, "api");
    });

    test("run: the same output directly", async () => {
      const prompt = uniquePrompt("run");
      const r = await both(page, async ({ kind, arg }) => {
        const out = await conf.client(kind).run("fal-ai/flux/dev", { input: { prompt: arg, seed: 3, image_size: "square" } });
        return { data: out.data, requestId: out.requestId };
      }, prompt);
      assert.deepEqual(r.genwire.data, r.official.data);
      assert.equal(r.official.data.images[0].content_type, "image/png");
      for (const kind of KINDS) assert.match(r[kind].requestId, /^[0-9a-f-]{36}$/, kind);
    });

    test("cancel: accepted while running; the result is then 499; a second cancel is refused (400)", async () => {
      const prompt = uniquePrompt("cancel");
      await server.fault(prompt, { latency_ms: 20000 }, 2);
      const r = await both(page, async ({ kind, arg }) => {
        const { queue } = conf.client(kind);
        const sub = await queue.submit("fal-ai/flux/dev", { input: { prompt: arg } });
        const cancelled = await queue.cancel("fal-ai/flux/dev", { requestId: sub.request_id }).then(() => "resolved", (e) => conf.error(e));
        const result = await queue.result("fal-ai/flux/dev", { requestId: sub.request_id }).then(() => "resolved", (e) => conf.error(e));
        const again = await queue.cancel("fal-ai/flux/dev", { requestId: sub.request_id }).then(() => "resolved", (e) => conf.error(e));
        return { id: sub.request_id, cancelled, result, again };
      }, prompt);
      for (const kind of KINDS) {
        assert.equal(r[kind].cancelled, "resolved", kind);
        assert.equal(r[kind].result.status, 499, kind);
        assert.deepEqual(r[kind].result.body, { detail: "Request was cancelled", error_type: "client_cancelled" }, kind);
        assert.equal(r[kind].again.status, 400, kind);
        assert.equal((await server.job(r[kind].id)).canceled, true, kind);
      }
    });

    test("uploads through the signed URL come back byte-identical: 1 MiB, 40 MiB (genwire in 10 MiB parts), 91 MiB (official in parts)", async () => {
      const s0 = await server.sim("/__sim/storage/stats");
      const r = await both(page, async ({ kind }) => {
        const client = conf.client(kind);
        const out = {};
        const small = conf.bytes(1 << 20, 1);
        out.small = await conf.sameBytes(await client.storage.upload(new Blob([small], { type: "application/octet-stream" })), small);
        const big = conf.bytes(40 << 20, 2);
        const opts = kind === "genwire" ? { multipartThreshold: 16 << 20 } : undefined;
        out.big = await client.storage.upload(new Blob([big]), opts).then((url) => conf.sameBytes(url, big), (e) => conf.error(e));
        if (kind === "official") {
          const huge = conf.bytes(91 << 20, 3);
          out.huge = await client.storage.upload(new Blob([huge])).then((url) => conf.sameBytes(url, huge), (e) => conf.error(e));
        }
        return out;
      });
      assert.equal(r.official.small, true);
      assert.equal(r.genwire.small, true);
      assert.equal(r.official.big, true, JSON.stringify(r.official.big));
      assert.equal(r.official.huge, true, `the official client's own multipart upload: ${JSON.stringify(r.official.huge)}`);
      assert.equal(r.genwire.big, true, JSON.stringify(r.genwire.big));
      const s1 = await server.sim("/__sim/storage/stats");
      // Parts: genwire 4 (40 MiB), official 10 (91 MiB); two completes; simple PUTs: 1 + 1 + 1 (official's 40 MiB).
      assert.deepEqual([s1.parts - s0.parts, s1.completed - s0.completed, s1.puts - s0.puts], [14, 2, 3]);
    });

    test("realtime: msgpack both ways; the timings message after each result is not a result; the same results", async () => {
      const r = await both(page, async ({ kind }) => {
        const client = conf.client(kind);
        const echo = [], images = [], errors = [];
        const onError = (e) => errors.push(conf.error(e));
        // Errors are those seen before the app closes (the official client reports its own close
        // as an error: it closes without a code, so the echoed close frame says 1005).
        try {
          const c = client.realtime.connect("genwire/echo", { onResult: (x) => echo.push(x), onError });
          for (let seq = 1; seq <= 3; seq++) {
            c.send({ seq, image: conf.bytes(65536, seq) });
            await conf.until(() => echo.length >= seq, 5000);
          }
          await conf.wait(400); // a timings message taken for a result would show up here
          const d = client.realtime.connect("fal-ai/fast-lcm-diffusion", { onResult: (x) => images.push(x), onError });
          d.send({ prompt: "a lighthouse at dusk", seed: 7 });
          await conf.until(() => images.length === 1, 5000);
          await conf.wait(300);
          const seen = [...errors];
          c.close();
          d.close();
          return { echo, images, errors: seen };
        } catch (e) {
          return { echo, images, errors, failed: String(e) };
        }
      });
      for (const kind of KINDS) {
        const { echo, images, errors, failed } = r[kind];
        assert.equal(failed, undefined, `${kind}: ${failed} (results ${JSON.stringify(echo.map((x) => x.seq))}, errors ${JSON.stringify(errors)})`);
        assert.deepEqual(errors, [], kind);
        assert.deepEqual(echo.map((x) => [x.seq, x.bytes, x.echo.image]), [1, 2, 3].map((s) => [s, 65536, "<bytes:65536>"]), `${kind}: each input went as msgpack with a bin of 64 KiB`);
        assert.ok(echo.every((x) => !("type" in x) && !("action" in x)), `${kind}: no control message among the results`);
        assert.equal(images.length, 1, kind);
      }
      const picture = (x) => ({ images: x.images, seed: x.seed });
      assert.deepEqual(picture(r.genwire.images[0]), picture(r.official.images[0]));
      assert.match(r.official.images[0].images[0].url, /^data:image\/png;base64,/);
    });

    test("realtime: a custom tokenProvider is given the full path; an idle close (TIMEOUT, 1000) is not an error", async () => {
      await server.sim("/__sim/realtime/config", { idle_timeout_ms: 400 });
      try {
        const r = await both(page, async ({ kind }) => {
          const apps = [], results = [], errors = [];
          const tokenProvider = async (app) => {
            apps.push(app);
            const res = await fetch("/api/fal/proxy", { method: "POST", headers: { "x-fal-target-url": "https://rest.fal.ai/tokens/", "content-type": "application/json" }, body: JSON.stringify({ allowed_apps: [app.split("/")[1]], token_expiration: 60 }) });
            return res.json();
          };
          const c = conf.client(kind).realtime.connect("fal-ai/fast-lcm-diffusion", { tokenProvider, onResult: (x) => results.push(x.seed), onError: (e) => errors.push(conf.error(e)) });
          try {
            c.send({ prompt: "first", seed: 1 });
            await conf.until(() => results.length === 1, 5000);
            await conf.wait(900); // the server closes the idle socket (TIMEOUT, then 1000)
            c.send({ prompt: "after the idle close", seed: 2 });
            await conf.until(() => results.length === 2, 5000);
            return { apps: [...new Set(apps)], results, errors: [...errors] };
          } catch (e) {
            return { apps, results, errors, failed: String(e) };
          } finally {
            c.close();
          }
        });
        for (const kind of KINDS) {
          assert.deepEqual(r[kind].apps, ["fal-ai/fast-lcm-diffusion/realtime"], `${kind}: the token argument`);
          assert.equal(r[kind].failed, undefined, `${kind}: ${r[kind].failed} (results ${r[kind].results}, errors ${JSON.stringify(r[kind].errors)})`);
          assert.deepEqual(r[kind].results, [1, 2], kind);
          assert.deepEqual(r[kind].errors, [], `${kind}: the idle close is not an error`);
        }
      } finally {
        await server.sim("/__sim/realtime/config", { idle_timeout_ms: 8000 });
      }
    });

    test("output streaming: the same partials, final output and binary bytes; a seed error typed alike", async () => {
      const prompt = uniquePrompt("stream");
      const r = await both(page, async ({ kind, arg }) => {
        const c = conf.client(kind);
        const events = [];
        // The official stream() is a promise of the stream; genwire's is the stream (await works on both).
        const text = await c.stream("fal-ai/any-llm", { input: { prompt: arg } });
        for await (const e of text) events.push(e);
        const last = await text.done();
        const audio = await c.stream("genwire/audio-stream", { input: { prompt: "a short tone" } });
        const chunks = [];
        audio.on("data", (ch) => chunks.push(Array.from(ch)));
        await audio.done();
        return { events, last, bytes: chunks.flat(), nChunks: chunks.length, requestId: text.requestId };
      }, prompt);
      for (const kind of KINDS) {
        const { events, last, bytes, nChunks, requestId } = r[kind];
        assert.ok(events.length >= 4, `${kind}: ${events.length} events`);
        assert.deepEqual(last, events.at(-1), kind);
        assert.equal(last.partial, false, kind);
        assert.ok(events.slice(0, -1).every((e) => e.partial === true), kind);
        assert.ok(events.every((e, i) => i === 0 || e.output.startsWith(events[i - 1].output)), `${kind}: each partial extends the previous`);
        assert.ok(nChunks >= 2, `${kind}: ${nChunks} chunks of audio`);
        assert.equal(bytes.length, 44 + 16000 / 4 * 4 * 2, `${kind}: a one-second WAV`);
        assert.match(requestId, /^[0-9a-f-]{36}$/, kind);
      }
      assert.deepEqual(r.genwire.events, r.official.events, "the same partials");
      assert.deepEqual(r.genwire.bytes, r.official.bytes, "the same bytes");
      const audioCalls = (await server.log()).filter((e) => e.step === "output" && e.url === "https://fal.run/genwire/audio-stream/stream");
      assert.ok(audioCalls.length >= 2);
      assert.ok(audioCalls.every((e) => e.headers.accept.includes("text/event-stream")), JSON.stringify(audioCalls.map((e) => e.headers.accept)));
      const failing = uniquePrompt("stream error");
      await server.fault(failing, { output_error: { example: "seed002/runner_disconnected" } }, 2);
      const failed = await both(page, ({ kind, arg }) => Promise.resolve(conf.client(kind, { retry: false }).stream("fal-ai/any-llm", { input: { prompt: arg } })).then((s) => s.done()).then(() => null, (e) => conf.error(e)), failing);
      for (const kind of KINDS) {
        assert.deepEqual([failed[kind].status, failed[kind].body], [503, { detail: "The runner disconnected unexpectedly during processing.", error_type: "runner_disconnected" }], kind);
      }
      assert.deepEqual([failed.genwire.kind, failed.genwire.errorType], ["api", "runner_disconnected"]);
    });

    test("deliberate difference: a mid-stream error event; the official client hands it over as output, genwire rejects typed", async () => {
      const prompt = uniquePrompt("stream error event");
      await server.fault(prompt, { output_error_after: 2 }, 2);
      const r = await both(page, async ({ kind, arg }) => {
        const s = await conf.client(kind).stream("fal-ai/any-llm", { input: { prompt: arg } });
        return s.done().then((last) => ({ ok: true, last }), (e) => ({ ok: false, error: conf.error(e) }));
      }, prompt);
      assert.deepEqual(r.official, { ok: true, last: { detail: "The runner disconnected unexpectedly during processing.", error_type: "runner_disconnected" } });
      assert.deepEqual([r.genwire.ok, r.genwire.error.kind, r.genwire.error.errorType, r.genwire.error.status], [false, "api", "runner_disconnected", 503]);
    });

    test("storageSettings and lifecycle: the same headers reach the upstream from both clients", async () => {
      const prompt = uniquePrompt("lifecycle");
      const settings = { expiresIn: "1d", initialAcl: { default: "forbid", rules: [{ user: "someone", decision: "allow" }] } };
      const since = (await server.sim("/__sim/log?since=0")).next;
      for (const kind of KINDS) {
        await page.evaluate(async ({ kind, prompt, settings }) => {
          const c = conf.client(kind);
          await c.subscribe("fal-ai/flux/dev", { input: { prompt }, storageSettings: settings, mode: "polling" });
          await c.run("fal-ai/flux/dev", { input: { prompt }, storageSettings: { expiresIn: 120 } });
          await c.storage.upload(new Blob([new Uint8Array([1, 2, 3])], { type: "application/octet-stream" }), { lifecycle: { expiresIn: "30d" } });
        }, { kind, prompt, settings });
      }
      const log = await server.log(since);
      // Other scenarios run at the same time: only calls that carry a lifecycle are this one's.
      const seen = (pred, header) => log.filter((e) => pred(e) && e.headers[header] !== undefined).map((e) => e.headers[header]);
      const submits = seen((e) => e.step === "submit", "x-fal-object-lifecycle-preference");
      const runs = seen((e) => e.step === "run", "x-fal-object-lifecycle-preference");
      const initiates = seen((e) => e.url.includes("/storage/upload/initiate"), "x-fal-object-lifecycle");
      assert.equal(submits.length, 2);
      assert.equal(submits[0], submits[1], "official, then genwire: the same submit header");
      assert.equal(submits[1], '{"expiration_duration_seconds":86400,"initial_acl":{"default":"forbid","rules":[{"user":"someone","decision":"allow"}]}}');
      assert.deepEqual(runs, ['{"expiration_duration_seconds":120}', '{"expiration_duration_seconds":120}']);
      assert.deepEqual(initiates, ['{"expiration_duration_seconds":2592000}', '{"expiration_duration_seconds":2592000}']);
    });

    test("deliberate difference: a status stream cut mid-job; the official client fails, genwire finishes by polling", async () => {
      const prompt = uniquePrompt("cut stream");
      await server.fault(prompt, { stream_cut_after: 2 }, 2);
      const r = await both(page, ({ kind, arg }) => conf.subscribe(kind, "fal-ai/flux/dev", { input: { prompt: arg }, logs: true, mode: "streaming" }), prompt);
      assert.equal(r.official.ok, false, "the official streaming mode has no fallback");
      assert.ok(r.genwire.ok, JSON.stringify(r.genwire.error));
      assert.ok(callsOf(await server.log(), r.genwire.requestId, "/status?").length >= 1, "genwire polled after the cut");
      assertGrowingLogs(r.genwire, steps(4), "genwire");
    });
  });
});
