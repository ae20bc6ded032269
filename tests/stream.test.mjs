// Output streaming (`client.stream`) in Chromium against the simulator's streamed endpoints
// (`fal-ai/any-llm`: JSON partials ending with `partial: false`; `genwire/audio-stream`: raw WAV
// bytes), through the proxy: `for await`, `done()`, `abort()`, `requestId`, mid-stream errors,
// stalls (`stallTimeout`, or `timeout` as @fal-ai/client means it), cuts, a whole-stream bound by
// signal, the call's headers, retries of the head, files uploaded first. Also `storageSettings` and
// `lifecycle`: the headers fal expects, seen by the upstream.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setup, teardown, uniquePrompt } from "./support/env.mjs";

let server, browser, page;
before(async () => ({ server, browser, page } = await setup(["--latency-ms", "400", "--queue-depth", "0"])));
after(() => teardown({ server, browser }));

/** Runs `body(client, arg)` in the page; a client with fast retries and the given options. */
function inPage(body, arg, clientOptions = {}) {
  return page.evaluate(async ({ src, arg, clientOptions }) => {
    const client = genwire.createClient({ retry: { baseDelayMs: 20 }, ...clientOptions });
    const slim = (e) => ({ name: e?.name, kind: e?.kind, status: e?.status, errorType: e?.errorType, message: e?.message, requestId: e?.requestId, retryable: e?.retryable, stalled: e?.stalled, timeoutMs: e?.timeoutMs, body: e?.body });
    // eslint-disable-next-line no-new-func
    return new Function("client", "slim", "arg", `return (${src})(client, slim, arg)`)(client, slim, arg);
  }, { src: body.toString(), arg, clientOptions });
}

const outputCalls = (log, prompt) => log.filter((e) => e.step === "output" && e.url.includes("/stream"));

describe("client.stream", () => {
  test("JSON partials with for await: each extends the last, the final one has partial: false and is done()", async () => {
    const prompt = uniquePrompt("tell me a story");
    const since = (await server.sim("/__sim/log?since=0")).next;
    const out = await inPage(async (client, slim, prompt) => {
      const s = client.stream("fal-ai/any-llm", { input: { prompt } });
      const before = s.requestId;
      const events = [];
      for await (const e of s) events.push(e);
      return { before, events, last: await s.done(), requestId: s.requestId };
    }, prompt);
    assert.equal(out.before, null, "no request id before the answer");
    assert.match(out.requestId, /^[0-9a-f-]{36}$/);
    assert.ok(out.events.length >= 5, `${out.events.length} events`);
    assert.deepEqual(out.last, out.events.at(-1));
    assert.equal(out.last.partial, false);
    assert.ok(out.events.slice(0, -1).every((e) => e.partial === true));
    const partials = out.events.slice(0, -1);
    assert.ok(partials.every((e, i) => i === 0 || (e.output.startsWith(partials[i - 1].output) && e.output.length > partials[i - 1].output.length)), "each partial extends the last");
    assert.equal(out.last.output, partials.at(-1).output, "the final output is the whole text");
    assert.match(out.last.output, /^You asked: "tell me a story/);
    const calls = outputCalls(await server.log(since));
    assert.equal(calls.length, 1);
    assert.equal(calls[0].url, "https://fal.run/fal-ai/any-llm/stream");
    assert.equal(calls[0].method, "POST");
    assert.equal(calls[0].headers.accept, "text/event-stream");
  });

  test("a binary stream: Uint8Array chunks, every byte once in order; done() is the last chunk", async () => {
    const out = await inPage(async (client) => {
      const s = client.stream("genwire/audio-stream", { input: { prompt: "a short tone" } });
      const chunks = [];
      for await (const c of s) chunks.push(c);
      const last = await s.done();
      const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) { all.set(c, at); at += c.length; }
      const ascii = (a, b) => String.fromCharCode(...all.slice(a, b));
      const view = new DataView(all.buffer);
      return {
        types: [...new Set(chunks.map((c) => c.constructor.name))],
        n: chunks.length, total: all.length, riff: ascii(0, 4), wave: ascii(8, 12),
        riffSize: view.getUint32(4, true), lastIsLast: last === chunks.at(-1), requestId: s.requestId,
      };
    });
    assert.deepEqual(out.types, ["Uint8Array"]);
    assert.ok(out.n >= 2, `${out.n} chunks`);
    assert.equal(out.total, 44 + 16000 / 4 * 4 * 2, "a one-second WAV");
    assert.deepEqual([out.riff, out.wave, out.riffSize], ["RIFF", "WAVE", out.total - 8]);
    assert.ok(out.lastIsLast);
    assert.match(out.requestId, /^[0-9a-f-]{36}$/);
  });

  test("done() alone, on('data'), and an early break that stops the stream", async () => {
    const out = await inPage(async (client, slim, prompt) => {
      const a = client.stream("fal-ai/any-llm", { input: { prompt } });
      const seen = [];
      a.on("data", (e) => seen.push(e.output));
      const last = await a.done();
      const b = client.stream("fal-ai/any-llm", { input: { prompt } });
      let taken = 0;
      for await (const _ of b) if (++taken === 2) break;
      const broke = await b.done().then(() => "resolved", slim);
      // Two next() calls at once each get their own partial, in order.
      const c = client.stream("fal-ai/any-llm", { input: { prompt } });
      const it = c[Symbol.asyncIterator]();
      const [x, y] = await Promise.all([it.next(), it.next()]);
      await c.done();
      return { seen: seen.length, lastOut: last.output, final: seen.at(-1), broke, taken, pair: [x.value.output, y.value.output, x.done, y.done] };
    }, uniquePrompt("partials"));
    assert.ok(out.seen >= 5);
    assert.equal(out.final, out.lastOut);
    assert.equal(out.taken, 2);
    assert.equal(out.broke.kind, "aborted", "leaving the loop aborts the stream");
    const [x, y, xDone, yDone] = out.pair;
    assert.deepEqual([xDone, yDone], [false, false]);
    assert.ok(y.startsWith(x) && y.length > x.length, `${x} then ${y}`);
  });

  test("abort() mid-stream: the iterator ends quietly, done() rejects aborted, the request is stopped", async () => {
    const prompt = uniquePrompt("abort me");
    await server.fault(prompt, { latency_ms: 3000 });
    const out = await inPage(async (client, slim, prompt) => {
      const s = client.stream("fal-ai/any-llm", { input: { prompt } });
      const events = [];
      let threw = null;
      try {
        for await (const e of s) {
          events.push(e);
          if (events.length === 1) s.abort();
        }
      } catch (e) {
        threw = slim(e);
      }
      const done = await s.done().then(() => "resolved", slim);
      s.abort(); // a no-op once ended
      return { n: events.length, threw, done };
    }, prompt);
    assert.equal(out.threw, null);
    assert.ok(out.n >= 1 && out.n < 5, `${out.n} events`);
    assert.equal(out.done.kind, "aborted");
    // The caller's own signal does the same.
    const viaSignal = await inPage(async (client, slim, prompt) => {
      const ctl = new AbortController();
      const s = client.stream("fal-ai/any-llm", { input: { prompt }, signal: ctl.signal });
      setTimeout(() => ctl.abort(), 50);
      return s.done().then(() => "resolved", slim);
    }, prompt);
    assert.equal(viaSignal.kind, "aborted");
  });

  for (const form of ["document", "named"]) {
    test(`a mid-stream error event (${form}) ends the stream with a typed error after the partials before it`, async () => {
      const prompt = uniquePrompt(`error ${form}`);
      await server.fault(prompt, { output_error_after: 3, output_error_event: form });
      const out = await inPage(async (client, slim, prompt) => {
        const s = client.stream("fal-ai/any-llm", { input: { prompt } });
        const events = [];
        let threw = null;
        try {
          for await (const e of s) events.push(e);
        } catch (e) {
          threw = slim(e);
        }
        const again = [];
        for await (const e of s) again.push(e); // thrown once; then the iterator is over
        return { n: events.length, threw, again: again.length, done: await s.done().then(() => "resolved", slim), requestId: s.requestId };
      }, prompt);
      assert.equal(out.n, 3);
      assert.equal(out.again, 0);
      for (const e of [out.threw, out.done]) {
        assert.deepEqual([e.name, e.kind, e.errorType, e.status, e.retryable], ["GenwireError", "api", "runner_disconnected", 503, true]);
        assert.equal(e.message, "The runner disconnected unexpectedly during processing.");
        assert.equal(e.requestId, out.requestId, "the stream's request id");
        assert.deepEqual(e.body, { detail: "The runner disconnected unexpectedly during processing.", error_type: "runner_disconnected" });
      }
    });
  }

  test("HTTP errors are typed; a 503 that shows nothing ran is tried again, a 422 is not", async () => {
    const prompt = uniquePrompt("busy");
    await server.fault(prompt, { output_error: { status: 503, body: { detail: "No runner", error_type: "runner_scheduling_failure" }, count: 1 } });
    const since = (await server.sim("/__sim/log?since=0")).next;
    const ok = await inPage(async (client, slim, prompt) => (await client.stream("fal-ai/any-llm", { input: { prompt } }).done()).partial, prompt);
    assert.equal(ok, false);
    assert.equal(outputCalls(await server.log(since)).length, 2, "the head was asked for twice");

    const bad = await inPage(async (client, slim) => client.stream("fal-ai/any-llm", { input: { prompt: 5 } }).done().then(() => "resolved", slim), undefined, { validation: false });
    assert.deepEqual([bad.kind, bad.status], ["validation", 422]);
    const missing = await inPage(async (client, slim) => client.stream("genwire/nothing-here", { input: {} }).done().then(() => "resolved", slim), undefined, { validation: false });
    assert.deepEqual([missing.kind, missing.status], ["api", 404]);
  });

  test("a stall past stallTimeout (or timeout, its @fal-ai/client name) and a cut connection are typed", async () => {
    const stall = uniquePrompt("stall");
    const cut = uniquePrompt("cut");
    const stall2 = uniquePrompt("stall by timeout");
    await server.fault(stall, { output_stall_after: 2 });
    await server.fault(cut, { output_cut_after: 2 });
    await server.fault(stall2, { output_stall_after: 1 });
    const out = await inPage(async (client, slim, [stall, cut, stall2]) => {
      const run = async (s) => {
        const events = [];
        try {
          for await (const e of s) events.push(e);
          return { n: events.length, error: null };
        } catch (e) {
          return { n: events.length, error: slim(e) };
        }
      };
      return {
        stall: await run(client.stream("fal-ai/any-llm", { input: { prompt: stall }, stallTimeout: 300 })),
        cut: await run(client.stream("fal-ai/any-llm", { input: { prompt: cut } })),
        byTimeout: await run(client.stream("fal-ai/any-llm", { input: { prompt: stall2 }, timeout: 300 })),
      };
    }, [stall, cut, stall2]);
    assert.equal(out.stall.n, 2);
    assert.deepEqual([out.stall.error.kind, out.stall.error.stalled, out.stall.error.timeoutMs], ["timeout", true, 300]);
    assert.equal(out.cut.n, 2);
    assert.equal(out.cut.error.kind, "network");
    assert.equal(out.byTimeout.n, 1);
    assert.deepEqual([out.byTimeout.error.kind, out.byTimeout.error.stalled, out.byTimeout.error.timeoutMs], ["timeout", true, 300]);
    assert.equal(out.byTimeout.error.message, "The output stream sent nothing for 300 ms.");
  });

  test("timeout bounds the silence between chunks, not the stream: a long stream that keeps sending is never cut; a signal bounds the whole", async () => {
    // 8 chunks spread over 2.4 s (one every ~340 ms): longer in all than `timeout`, never silent that long.
    const long = uniquePrompt("long steady stream");
    await server.fault(long, { latency_ms: 2400 }, 4);
    const out = await inPage(async (client, slim, prompt) => {
      const run = async (s) => {
        let n = 0;
        try {
          for await (const _ of s) n++;
          return { n, error: null };
        } catch (e) {
          return { n, error: slim(e) };
        }
      };
      return {
        // As `fal.stream(id, { timeout })` means it: at most 1.2 s between chunks.
        migrated: await run(client.stream("genwire/audio-stream", { input: { prompt }, timeout: 1200 })),
        // The whole stream bounded by the caller: an abort at 1 s, partway.
        bounded: await run(client.stream("genwire/audio-stream", { input: { prompt }, signal: AbortSignal.timeout(1000) })),
        bothAgree: await client.stream("genwire/audio-stream", { input: { prompt }, timeout: 1200, stallTimeout: 1200 }).done().then((c) => c.length > 0, slim),
        bothDiffer: await client.stream("genwire/audio-stream", { input: { prompt }, timeout: 1200, stallTimeout: 5000 }).done().then(() => "resolved", slim),
      };
    }, long);
    assert.equal(out.migrated.error, null, JSON.stringify(out.migrated.error));
    assert.equal(out.migrated.n, 8, "every chunk: the simulator spreads them over 2.4 s, twice the timeout");
    assert.ok(out.bounded.n >= 1 && out.bounded.n < 8, `${out.bounded.n} chunks before the signal`);
    assert.equal(out.bounded.error, null, "an abort ends the iteration quietly");
    assert.equal(out.bothAgree, true);
    assert.equal(out.bothDiffer.kind, "config");
    assert.match(out.bothDiffer.message, /^options 'stallTimeout' and 'timeout' of stream\(\) are one option/);
  });

  test("the call's headers reach the proxy (after the client's) and, for x-fal-*, fal; key-like ones are refused", async () => {
    const prompt = uniquePrompt("stream headers");
    const since = (await server.sim("/__sim/log?since=0")).next;
    const out = await inPage(async (client0, slim, prompt) => {
      const seen = [];
      const client = genwire.createClient({
        headers: { "x-app-session": "client", "x-fal-tenant": "t1" },
        fetch: (url, init) => { seen.push({ url: String(url), headers: { ...init.headers } }); return fetch(url, init); },
      });
      const s = client.stream("fal-ai/any-llm", { input: { prompt }, headers: { "x-app-session": "call", "x-fal-call": "c1" } });
      const done = await s.done();
      const refused = await client.stream("fal-ai/any-llm", { input: { prompt }, headers: { authorization: "Bearer abc" } }).done().then(() => "resolved", slim);
      return { seen, final: done.partial, refused };
    }, prompt);
    assert.equal(out.final, false);
    const toProxy = out.seen.filter((r) => r.headers["x-fal-target-url"] === "https://fal.run/fal-ai/any-llm/stream");
    assert.equal(toProxy.length, 1, JSON.stringify(out.seen));
    const h = toProxy[0].headers;
    assert.deepEqual([h["x-app-session"], h["x-fal-tenant"], h["x-fal-call"], h.accept], ["call", "t1", "c1", "text/event-stream"]);
    const [upstream] = outputCalls(await server.log(since));
    assert.deepEqual([upstream.headers["x-fal-call"], upstream.headers["x-fal-tenant"]], ["c1", "t1"], "x-fal-* headers go on to fal");
    assert.deepEqual([out.refused.kind, /genwire refuses the header 'authorization'/.test(out.refused.message)], ["config", true]);
    assert.equal(outputCalls(await server.log(since)).length, 1, "nothing sent for the refused header");
  });

  test("bad options are config errors before any request; files in the input are uploaded first", async () => {
    const since = (await server.sim("/__sim/log?since=0")).next;
    const bad = await inPage(async (client, slim) => {
      const r = [];
      for (const o of [{ stallTimeout: 5 }, { timeout: "soon" }, { signal: "nope" }, { headers: { "x-fal-key": "k" } }]) r.push(await client.stream("fal-ai/any-llm", { input: { prompt: "x" }, ...o }).done().then(() => "resolved", slim));
      r.push(await client.stream("not an endpoint", { input: {} }).done().then(() => "resolved", slim));
      let onError = null;
      try { client.stream("fal-ai/any-llm", {}).on("bogus", () => {}); } catch (e) { onError = e.message; }
      return { r, onError };
    });
    assert.deepEqual(bad.r.map((e) => e.kind), ["config", "config", "config", "config", "config"]);
    assert.equal(bad.r[0].message, "option 'stallTimeout' must be a number of at least 10");
    assert.equal(bad.r[1].message, "option 'timeout' must be a number of at least 10");
    assert.match(bad.onError, /"data", "error" and "done"/);
    assert.equal(outputCalls(await server.log(since)).length, 0, "nothing streamed for a bad option");

    const since2 = (await server.sim("/__sim/log?since=0")).next;
    const out = await inPage(async (client) => {
      const s = client.stream("genwire/audio-stream", { input: { prompt: "with a file", reference: new Blob([new Uint8Array([1, 2, 3])], { type: "audio/wav" }) } });
      return (await s.done()).length > 0;
    }, undefined, { validation: false });
    assert.ok(out);
    const log = await server.log(since2);
    const initiate = log.findIndex((e) => e.url.includes("/storage/upload/initiate"));
    const stream = log.findIndex((e) => e.step === "output");
    assert.ok(initiate >= 0 && stream > initiate, `upload at ${initiate}, stream at ${stream}`);
  });
});

describe("storageSettings and lifecycle", () => {
  const header = "x-fal-object-lifecycle-preference";
  test("submit, subscribe and run send fal's lifecycle header; upload's initiate its own", async () => {
    const prompt = uniquePrompt("kept an hour");
    const since = (await server.sim("/__sim/log?since=0")).next;
    const out = await inPage(async (client, slim, prompt) => {
      const settings = { expiresIn: "1h", initialAcl: { default: "hide", rules: [{ user: "u-1", decision: "allow" }] } };
      await client.queue.submit("fal-ai/flux/dev", { input: { prompt }, storageSettings: settings });
      await client.subscribe("fal-ai/flux/dev", { input: { prompt }, storageSettings: { expiresIn: 90 } });
      await client.run("fal-ai/flux/dev", { input: { prompt }, storageSettings: { expiresIn: "7d" } });
      await client.run("fal-ai/flux/dev", { input: { prompt }, storageSettings: { expiresIn: "never" } });
      await client.storage.upload(new Blob([new Uint8Array(10)]), { lifecycle: { expiresIn: "immediate" } });
      return true;
    }, prompt);
    assert.ok(out);
    const log = await server.log(since);
    const mine = log.filter((e) => e.step === "submit" || e.step === "run");
    assert.deepEqual(mine.map((e) => [e.step, e.headers[header] ?? null]), [
      ["submit", '{"expiration_duration_seconds":3600,"initial_acl":{"default":"hide","rules":[{"user":"u-1","decision":"allow"}]}}'],
      ["submit", '{"expiration_duration_seconds":90}'],
      ["run", '{"expiration_duration_seconds":604800}'],
      ["run", null],
    ]);
    const initiate = log.find((e) => e.url.includes("/storage/upload/initiate"));
    assert.equal(initiate.headers["x-fal-object-lifecycle"], '{"expiration_duration_seconds":60}');
    assert.equal(initiate.headers[header], undefined);
  });

  test("bad settings are typed config errors naming the field, and nothing is sent", async () => {
    const since = (await server.sim("/__sim/log?since=0")).next;
    const out = await inPage(async (client, slim) => {
      const e = (p) => p.then(() => "resolved", slim);
      return [
        await e(client.queue.submit("fal-ai/flux/dev", { input: { prompt: "x" }, storageSettings: { expiresIn: "2h" } })),
        await e(client.subscribe("fal-ai/flux/dev", { input: { prompt: "x" }, storageSettings: { expires: "1h" } })),
        await e(client.run("fal-ai/flux/dev", { input: { prompt: "x" }, storageSettings: { initialAcl: { default: "public" } } })),
        await e(client.storage.upload(new Blob([new Uint8Array(4)]), { lifecycle: { expiresIn: -1 } })),
      ];
    });
    assert.deepEqual(out.map((e) => e.kind), ["config", "config", "config", "config"]);
    assert.match(out[0].message, /^option 'storageSettings\.expiresIn' must be 'never', 'immediate'.*not '2h'$/);
    assert.equal(out[1].message, "option 'storageSettings' has no field 'expires' (it takes expiresIn and initialAcl)");
    assert.equal(out[2].message, "option 'storageSettings.initialAcl' default must be 'hide', 'forbid' or 'allow'");
    assert.match(out[3].message, /^option 'lifecycle\.expiresIn'/);
    assert.deepEqual(await server.log(since), [], "nothing reached the upstream");
  });
});
