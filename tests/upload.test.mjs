// Uploads in Chromium with real Blobs made in the page: simple and multipart, progress, abort,
// faults, automatic upload inside inputs, and image-to-image from a File to a result.
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setup, teardown, uniquePrompt } from "./support/env.mjs";

let server, browser, page;
before(async () => ({ server, browser, page } = await setup(["--latency-ms", "100", "--queue-depth", "0"])));
after(() => teardown({ server, browser }));

const storage = (path, body, method) => server.sim(`/__sim/storage/${path}`, body, method);
beforeEach(() => storage("faults", undefined, "DELETE"));

/** Runs `body(client, helpers)` in the page. */
function inPage(body, arg) {
  return page.evaluate(async ({ src, arg }) => {
    const client = genwire.createClient({ retry: { baseDelayMs: 20 } });
    const bytes = (n, seed = 1) => { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 255; return b; };
    const png = async (w, h) => {
      const c = new OffscreenCanvas(w, h);
      const g = c.getContext("2d");
      g.fillStyle = "#3a6"; g.fillRect(0, 0, w, h); g.fillStyle = "#fc3"; g.fillRect(w / 4, h / 4, w / 2, h / 2);
      return new File([await c.convertToBlob({ type: "image/png" })], `${w}x${h}.png`, { type: "image/png" });
    };
    // eslint-disable-next-line no-new-func
    return new Function("client", "bytes", "png", "arg", `return (${src})(client, bytes, png, arg)`)(client, bytes, png, arg);
  }, { src: body.toString(), arg });
}

const monotone = (fracs) => fracs.every((f, i) => i === 0 || f >= fracs[i - 1]);

describe("storage.upload", () => {
  test("a small Blob: initiate through the proxy, PUT direct, the URL serves the same bytes", async () => {
    const s0 = await storage("stats");
    const out = await inPage(async (client, bytes) => {
      const fracs = [];
      const data = bytes(1 << 20);
      const url = await client.storage.upload(new Blob([data], { type: "application/octet-stream" }), { onProgress: (p) => fracs.push(p.fraction) });
      const back = new Uint8Array(await (await fetch(url)).arrayBuffer());
      return { url, fracs, same: back.length === data.length && back.every((b, i) => b === data[i]) };
    });
    assert.ok(out.same, "the bytes came back unchanged");
    assert.ok(monotone(out.fracs) && out.fracs.at(-1) === 1, out.fracs.join(","));
    const s1 = await storage("stats");
    assert.deepEqual([s1.initiated - s0.initiated, s1.puts - s0.puts, s1.parts - s0.parts], [1, 1, 0]);
  });

  test("a 25 MiB Blob goes in parts, with monotone progress ending at 100%", async () => {
    const s0 = await storage("stats");
    const out = await inPage(async (client, bytes) => {
      const fracs = [];
      const data = bytes(25 * 1024 * 1024, 7);
      const url = await client.storage.upload(new Blob([data]), { multipartThreshold: 16 << 20, onProgress: (p) => fracs.push(p.fraction) });
      const back = new Uint8Array(await (await fetch(url)).arrayBuffer());
      let same = back.length === data.length;
      for (let i = 0; same && i < data.length; i += 4093) same = back[i] === data[i];
      return { fracs, same, n: fracs.length };
    });
    assert.ok(out.same, "reassembled in order");
    assert.ok(monotone(out.fracs), "progress only rises");
    assert.equal(out.fracs.at(-1), 1);
    // Chromium may coalesce progress to one event per part; there must still be steps before 100%.
    assert.ok(out.fracs.some((f) => f > 0 && f < 1), `progress in steps: ${out.fracs.join(",")}`);
    const s1 = await storage("stats");
    assert.deepEqual([s1.parts - s0.parts, s1.completed - s0.completed], [3, 1]);
  });

  test("a proxy that refuses multipart (@fal-ai/server-proxy's default allowlist) gets the file whole, in one PUT", async () => {
    const s0 = await storage("stats");
    const refused = [];
    // As the package answers a URL off its list: 400 "Invalid request".
    await page.route("**/api/fal/proxy", (route) => {
      const t = route.request().headers()["x-fal-target-url"] ?? "";
      if (!t.includes("/initiate-multipart")) return route.continue();
      refused.push(t);
      return route.fulfill({ status: 400, contentType: "application/json", body: JSON.stringify("Invalid request") });
    });
    try {
      const out = await inPage(async (client, bytes) => {
        const fracs = [];
        const data = bytes(20 * 1024 * 1024, 3);
        const url = await client.storage.upload(new Blob([data]), { multipartThreshold: 16 << 20, onProgress: (p) => fracs.push(p.fraction) });
        const back = new Uint8Array(await (await fetch(url)).arrayBuffer());
        let same = back.length === data.length;
        for (let i = 0; same && i < data.length; i += 4093) same = back[i] === data[i];
        return { fracs, same };
      });
      assert.equal(refused.length, 1, "asked for parts once");
      assert.ok(out.same, "the bytes came back unchanged");
      assert.ok(monotone(out.fracs) && out.fracs.at(-1) === 1, out.fracs.join(","));
      const s1 = await storage("stats");
      assert.deepEqual([s1.initiated - s0.initiated, s1.puts - s0.puts, s1.parts - s0.parts], [1, 1, 0]);
    } finally {
      await page.unroute("**/api/fal/proxy");
    }
  });

  test("a failing part is retried alone", async () => {
    await storage("faults", { fail_part_next: 1 });
    const out = await inPage(async (client, bytes) => {
      const events = [];
      const c = genwire.createClient({ retry: { baseDelayMs: 20 }, onEvent: (e) => e.type === "retry" && events.push(e.call) });
      const url = await c.storage.upload(new Blob([bytes(21 * 1024 * 1024)]), { multipartThreshold: 16 << 20 });
      return { url, events };
    });
    assert.match(out.url, /\/sim\/files\/up\//);
    assert.deepEqual(out.events, ["upload"]);
  });

  test("abort mid-way rejects with kind 'aborted' and leaves nothing served", async () => {
    const s0 = await storage("stats");
    await storage("faults", { slow_put_ms: 3000 });
    const out = await inPage(async (client, bytes) => {
      const ctl = new AbortController();
      setTimeout(() => ctl.abort(), 300);
      const t0 = Date.now();
      const kind = await client.storage.upload(new Blob([bytes(20 * 1024 * 1024)]), { multipartThreshold: 16 << 20, signal: ctl.signal }).then(() => "resolved", (e) => e.kind);
      return { kind, ms: Date.now() - t0 };
    });
    assert.equal(out.kind, "aborted");
    assert.ok(out.ms < 2000, `settled ${out.ms} ms after start`);
    const s1 = await storage("stats");
    assert.equal(s1.completed - s0.completed, 0, "no multipart upload completed");
    assert.equal(s1.files - s0.files, 0, "no file served");
  });

  test("faults: an expired upload URL and a 413 are typed, final errors", async () => {
    await storage("faults", { expire_next: 1 });
    const expired = await inPage((client, bytes) => client.storage.upload(new Blob([bytes(1000)])).catch((e) => [e.kind, e.status, e.errorType, e.retryable]));
    assert.deepEqual(expired, ["api", 403, "upload_url_expired", false]);
    await storage("faults", { reject_put_413_next: 1 });
    const big = await inPage((client, bytes) => client.storage.upload(new Blob([bytes(1000)])).catch((e) => [e.kind, e.status, e.errorType, e.retryable]));
    assert.deepEqual(big, ["api", 413, "file_too_large", false]);
  });
});

describe("files inside inputs", () => {
  test("two Files in nested fields are uploaded and replaced by URLs before the submit", async () => {
    const prompt = uniquePrompt("nested files");
    const out = await inPage(async (client, bytes, png, prompt) => {
      const input = { prompt, refs: { style: await png(300, 300), more: [new File([bytes(2000)], "notes.bin")] } };
      const sub = await client.queue.submit("fal-ai/flux/dev", { input });
      return { id: sub.request_id, untouched: input.refs.style instanceof File };
    }, prompt);
    assert.equal(out.untouched, true, "the caller's object is left as it was");
    const job = await server.job(out.id);
    assert.match(job.input.refs.style, /^http:\/\/127\.0\.0\.1:\d+\/sim\/files\/up\/.+300x300\.png$/);
    assert.match(job.input.refs.more[0], /\/sim\/files\/up\/.+notes\.bin$/);
  });

  test("image-to-image end to end: a File in, a result derived from the image out", async () => {
    const out = await inPage(async (client, bytes, png) => {
      const r = await client.subscribe("fal-ai/flux/dev/image-to-image", { input: { prompt: "a watercolor", image_url: await png(300, 260) } });
      return r.data.images[0];
    });
    assert.deepEqual([out.width, out.height], [300, 260], "the server read the uploaded image's size");
  });

  test("an image below the endpoint's minimum is rejected before any byte is sent", async () => {
    const s0 = await storage("stats");
    const e = await inPage(async (client, bytes, png) => {
      const c = genwire.createClient({ fileLimits: { "fal-ai/flux/dev/image-to-image": { image_url: { minWidth: 256, minHeight: 256, types: ["image/*"] } } } });
      return c.subscribe("fal-ai/flux/dev/image-to-image", { input: { prompt: "x", image_url: await png(100, 100) } })
        .catch((e) => ({ kind: e.kind, source: e.source, issues: e.issues.map((i) => [i.field, i.type, i.ctx]) }));
    });
    assert.deepEqual(e, { kind: "validation", source: "client", issues: [["image_url", "image_too_small", { min_height: 256, min_width: 256 }]] });
    assert.equal((await storage("stats")).initiated - s0.initiated, 0, "nothing was uploaded");
  });

  test("without limits on the client, the server's own check answers image_too_small the same way", async () => {
    const e = await inPage(async (client, bytes, png) =>
      client.subscribe("fal-ai/flux/dev/image-to-image", { input: { prompt: "x", image_url: await png(100, 100) } })
        .catch((e) => ({ kind: e.kind, source: e.source, issues: e.issues.map((i) => [i.field, i.type, i.ctx]) })));
    assert.deepEqual(e, { kind: "validation", source: "server", issues: [["image_url", "image_too_small", { min_height: 256, min_width: 256 }]] });
  });

  test("a realtime send with a File uploads it and sends its URL", async () => {
    const out = await inPage(async (client, bytes, png) => {
      const image = await png(64, 64);
      return new Promise((resolve) => {
        const rt = genwire.createClient({ realtimeUrl: `ws://${location.host}/sim/realtime` }).realtime;
        const conn = rt.connect("genwire/echo", { throttleInterval: 0, onResult: (r) => { conn.close(); resolve(r); } });
        conn.send({ seq: 1, image_url: image, raw: new Uint8Array(10) });
      });
    });
    assert.match(out.echo.image_url, /\/sim\/files\/up\/.+64x64\.png$/);
    assert.equal(out.bytes, 10, "byte arrays still go as binary");
  });
});
