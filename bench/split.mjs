// Does the split make anyone wait longer? (docs/size.md, "The split".) A fresh page (a new browser
// context each run: nothing cached) under a throttled network, with the library as it was (the
// full core for every page) and as it is (the first call picks the core): first a subscribe with
// `validation: false` (the lean core's case), then a subscribe that validates (a lean page fetches
// the validator module then, in parallel with the endpoint's schema). Times are the page's own
// clock, from each call to its result, median of the runs. Reported, never asserted. A third
// variant, `queue`, is the `genwire/queue` entry (js/queue.js on the core without realtime).
//
//   node bench/split.mjs [--runs N]        after `bash scripts/build.sh`
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { launchBrowser, startServer } from "../tests/support/env.mjs";
import { root } from "./sizes.mjs";

const runs = Number(process.argv[process.argv.indexOf("--runs") + 1]) || 7;
// The dev server serves /pkg: both variants go there, each a js/ and a pkg/ side by side.
const served = `${root}pkg/cmp/`;
rmSync(served, { recursive: true, force: true });
const library = readFileSync(`${root}js/library.js`, "utf8");
const always = library.replace("  function core(full, input) {", "  function core(full, input) {\n    full = true; // as before the split: the full core for every page");
if (always === library) throw new Error("js/library.js has no `function core(full, input)` to patch");
const PKG = ["genwire.js", "genwire_bg.wasm", "genwire_lean_bg.wasm", "genwire_validate.js", "genwire_validate_bg.wasm", "genwire_queue.js", "genwire_queue_bg.wasm", "genwire_queue_lean_bg.wasm"];
for (const [variant, facade] of [["before", always], ["split", library], ["queue", library]]) {
  cpSync(`${root}js/`, `${served}${variant}/js/`, { recursive: true });
  writeFileSync(`${served}${variant}/js/library.js`, facade);
  mkdirSync(`${served}${variant}/pkg/`, { recursive: true });
  for (const f of PKG) cpSync(`${root}pkg/${f}`, `${served}${variant}/pkg/${f}`);
}
const ENTRY = { before: "index.js", split: "index.js", queue: "queue.js" };

// Throughputs in bytes/s; the latency is added to every request (Chromium's emulation). The dev
// server sends the wasm uncompressed, so these are raw bytes.
const networks = {
  "fast (40 ms, 20 Mbit/s)": { latency: 40, downloadThroughput: 2_500_000, uploadThroughput: 2_500_000 },
  "slow (150 ms, 4 Mbit/s)": { latency: 150, downloadThroughput: 500_000, uploadThroughput: 250_000 },
};

const server = await startServer(["--latency-ms", "0", "--queue-depth", "0"]);
const browser = await launchBrowser();
const out = {};
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
try {
  for (const [net, cond] of Object.entries(networks)) {
    for (const variant of ["before", "split", "queue"]) {
      const first = [], later = [];
      for (let i = 0; i < runs; i++) {
        const context = await browser.newContext();
        const page = await context.newPage();
        await page.route(`${server.url}/__blank`, (r) => r.fulfill({ contentType: "text/html", body: "<!doctype html><title>split</title>" }));
        await page.goto(`${server.url}/__blank`);
        const cdp = await context.newCDPSession(page);
        await cdp.send("Network.enable");
        await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
        await cdp.send("Network.emulateNetworkConditions", { offline: false, ...cond });
        const t = await page.evaluate(async ({ variant, entry, prompt }) => {
          const g = await import(`/pkg/cmp/${variant}/js/${entry}`);
          const c = g.createClient({ validation: false });
          let t0 = performance.now();
          await c.subscribe("fal-ai/flux/dev", { input: { prompt } });
          const first = performance.now() - t0;
          t0 = performance.now();
          await c.subscribe("fal-ai/flux/dev", { input: { prompt: `${prompt} validated` }, validate: true });
          return { first, later: performance.now() - t0 };
        }, { variant, entry: ENTRY[variant], prompt: `split ${variant} ${net} ${i}` });
        first.push(t.first);
        later.push(t.later);
        await context.close();
      }
      const r = { firstMs: Math.round(med(first)), validatingMs: Math.round(med(later)) };
      (out[net] ??= {})[variant] = r;
      console.log(`${net}, ${variant}: first subscribe (validation off) ${r.firstMs} ms, then the first validating one ${r.validatingMs} ms (median of ${runs})`);
    }
  }
} finally {
  await browser.close();
  server.close();
  rmSync(served, { recursive: true, force: true });
}
console.log(JSON.stringify(out, null, 2));
