// Bench plumbing: a static server for the built bundles (both clients fetched the same way, over
// real loopback HTTP), bench pages, CDP helpers, statistics.
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { outDir } from "./sizes.mjs";

/** Serves `outDir` (the bundles and the wasm) with CORS, no caching, the right types. */
export async function startAssetServer() {
  const types = { js: "text/javascript", mjs: "text/javascript", wasm: "application/wasm" };
  const srv = createServer((req, res) => {
    const name = new URL(req.url, "http://x").pathname.slice(1);
    let body;
    try {
      if (!/^[\w.-]+$/.test(name)) throw new Error("bad name");
      body = readFileSync(outDir + name);
    } catch {
      res.writeHead(404, { "access-control-allow-origin": "*" }).end();
      return;
    }
    res.writeHead(200, {
      "content-type": types[name.split(".").pop()] ?? "application/octet-stream",
      "access-control-allow-origin": "*",
      "cache-control": "no-store",
    });
    res.end(body);
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${srv.address().port}`, close: () => new Promise((r) => srv.close(r)) };
}

/**
 * A fresh browser context on a real page of the dev server (a static file: Chromium refuses
 * WebSockets to loopback from pages Playwright fulfilled itself) with nothing of either client loaded.
 */
export async function benchPage(browser, server) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("pageerror:", e.message));
  // The demo's stylesheet: a real static file that loads nothing (the sandbox page loads genwire).
  const resp = await page.goto(`${server.url}/style.css`);
  if (!resp?.ok()) throw new Error("no static page to host the bench on the dev server");
  const cdp = await context.newCDPSession(page);
  await cdp.send("Performance.enable");
  return { page, cdp, close: () => context.close() };
}

/**
 * Loads a client into the page as `window.bench`: `{ kind, lib, client, wasmBytes() }`.
 * genwire: the bundle (plus a wasm memory accessor), initialised, with a client on the proxy and
 * sockets to the simulator. theirs: @fal-ai/client's bundle, `createFalClient({ proxyUrl })`, and a
 * WebSocket wrapper sending fal.run's realtime URL to the simulator (the same target genwire gets).
 */
export async function loadClient(page, assets, kind) {
  await page.evaluate(async ({ assets, kind }) => {
    const realtimeBase = `ws://${location.host}/sim/realtime`;
    if (kind === "genwire") {
      const lib = await import(`${assets}/genwire-bench.min.js`);
      await lib.init();
      const client = lib.createClient({ proxyUrl: "/api/fal/proxy", realtimeUrl: realtimeBase });
      window.bench = { kind, lib, client, wasmBytes: async () => (await lib.wasmExports()).memory.buffer.byteLength };
    } else {
      const Native = window.WebSocket;
      window.WebSocket = class extends Native {
        constructor(url, protocols) {
          super(String(url).replace(/^wss:\/\/fal\.run\//, `${realtimeBase}/`), protocols);
        }
      };
      const m = await import(`${assets}/fal-client.min.js`);
      const lib = m.createFalClient ? m : m.default;
      const client = lib.createFalClient({ proxyUrl: "/api/fal/proxy" });
      window.bench = { kind, lib, client, wasmBytes: async () => 0 };
    }
    // Their default token provider warns once per connection that it is deprecated: keep the log quiet.
    const warn = console.warn;
    console.warn = (...a) => (String(a[0]).includes("default token provider") ? undefined : warn(...a));
  }, { assets: assets.url, kind });
}

/** JS heap after two full GCs, and the wasm memory of the page's client. */
export async function memory(page, cdp) {
  await cdp.send("HeapProfiler.collectGarbage");
  await new Promise((r) => setTimeout(r, 100));
  await cdp.send("HeapProfiler.collectGarbage");
  const { usedSize } = await cdp.send("Runtime.getHeapUsage");
  const wasm = await page.evaluate(() => window.bench.wasmBytes());
  return { jsHeap: usedSize, wasm, total: usedSize + wasm };
}

/** Main-thread busy time so far (CDP Performance.getMetrics), in ms. */
export async function mainThreadMs(cdp) {
  const { metrics } = await cdp.send("Performance.getMetrics");
  const get = (n) => metrics.find((m) => m.name === n)?.value ?? 0;
  return { task: get("TaskDuration") * 1000, script: get("ScriptDuration") * 1000 };
}

export const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  return { n: s.length, p50: q(0.5), p95: q(0.95), min: s[0], max: s.at(-1), mean: s.reduce((a, b) => a + b, 0) / s.length };
};
