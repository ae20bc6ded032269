// `npm run bench`: measures genwire in headless Chromium against the local server and writes
// bench/results.json and bench/RESULTS.md. Figures are reported, never asserted.
import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync, brotliCompressSync, constants } from "node:zlib";
import os from "node:os";
import { launchBrowser, startServer } from "../tests/support/env.mjs";

const root = new URL("..", import.meta.url);
const files = ["pkg/genwire_bg.wasm", "pkg/genwire.js", "js/index.js"];

function sizes() {
  const rows = files.map((f) => {
    const b = readFileSync(new URL(f, root));
    return { file: f, raw: b.length, gzip: gzipSync(b, { level: 9 }).length, brotli: brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length };
  });
  const total = rows.reduce((t, r) => ({ raw: t.raw + r.raw, gzip: t.gzip + r.gzip, brotli: t.brotli + r.brotli }), { raw: 0, gzip: 0, brotli: 0 });
  return { files: rows, total };
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return { n: s.length, p50: q(0.5), p95: q(0.95), mean: s.reduce((a, b) => a + b, 0) / s.length };
};

const server = await startServer(["--latency-ms", "0", "--queue-depth", "0"]);
const browser = await launchBrowser();
process.on("unhandledRejection", async (e) => {
  console.error(e);
  await browser.close().catch(() => {});
  server.close();
  process.exit(1);
});
/** A blank page on the server's origin, so nothing but what is measured loads. */
async function blankPage() {
  const page = await browser.newPage();
  await page.route(`${server.url}/__blank`, (r) => r.fulfill({ contentType: "text/html", body: "<!doctype html><title>bench</title>" }));
  await page.goto(`${server.url}/__blank`);
  return page;
}
// (The sandbox page would load genwire itself; start-up must be measured from nothing.)
const results = { date: new Date().toISOString(), machine: `${os.cpus()[0]?.model ?? "?"} x${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()}`, browser: browser.version(), size: sizes() };

// Start-up: a fresh page each time, the module fetched, compiled and initialised.
const startup = [];
for (let i = 0; i < 15; i++) {
  const page = await blankPage();
  startup.push(await page.evaluate(async () => {
    const t0 = performance.now();
    const m = await import(`/js/index.js?fresh=${Math.random()}`);
    await m.init();
    return performance.now() - t0;
  }));
  await page.close();
}
results.startupMs = stats(startup);

// Validation of a flux-sized input: the pure function, and through a client (schema cached).
const page = await blankPage();
const doc = JSON.parse(readFileSync(new URL("server/src/sim/schemas/fal-ai__flux__dev.json", root)));
results.validation = await page.evaluate(async (doc) => {
  const g = await import("/js/index.js");
  await g.init();
  const input = { prompt: "a lighthouse on a cliff at dusk, oil painting, dramatic light", image_size: { width: 1024, height: 768 }, num_inference_steps: 28, seed: 42, guidance_scale: 3.5, num_images: 2, enable_safety_checker: true, output_format: "png" };
  const bad = { ...input, image_size: "1920x1080", guidance_scale: 25, num_images: 9 };
  const time = (fn, n) => {
    for (let i = 0; i < 200; i++) fn(); // warm up
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    return ((performance.now() - t0) / n) * 1000; // µs per call
  };
  const pureValidUs = time(() => g.validate(doc, input, "fal-ai/flux/dev"), 2000);
  const client = g.createClient({ schemas: { "fal-ai/flux/dev": doc } });
  await client.validate("fal-ai/flux/dev", input);
  const n = 2000;
  let t0 = performance.now();
  for (let i = 0; i < n; i++) await client.validate("fal-ai/flux/dev", input);
  const clientValidUs = ((performance.now() - t0) / n) * 1000;
  t0 = performance.now();
  for (let i = 0; i < n; i++) await client.validate("fal-ai/flux/dev", bad);
  const clientInvalidUs = ((performance.now() - t0) / n) * 1000;
  return { pureValidUs, clientValidUs, clientInvalidUs, note: "pure: compiles the schema on every call; client: schema compiled once and cached" };
}, doc);

await browser.close();
server.close();
writeFileSync(new URL("results.json", import.meta.url), JSON.stringify(results, null, 2) + "\n");

const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
const us = (n) => `${n.toFixed(1)} µs`;
const md = `# Benchmark results

Measured by \`npm run bench\` on ${results.date.slice(0, 10)}: ${results.machine}, ${results.browser} (headless), against the local simulator.
Figures are reported, not asserted; they vary with the machine.

## What the browser downloads

| file | raw | gzip -9 | brotli 11 |
| --- | ---: | ---: | ---: |
${results.size.files.map((r) => `| \`${r.file}\` | ${kb(r.raw)} | ${kb(r.gzip)} | ${kb(r.brotli)} |`).join("\n")}
| **total** | **${kb(results.size.total.raw)}** | **${kb(results.size.total.gzip)}** | **${kb(results.size.total.brotli)}** |

## Module start-up (fetch, compile, init), fresh page, ${results.startupMs.n} runs

p50 ${results.startupMs.p50.toFixed(1)} ms, p95 ${results.startupMs.p95.toFixed(1)} ms.

## Validation of a flux-sized input (8 fields, nested image_size)

| how | time per input |
| --- | ---: |
| \`client.validate\`, valid input (schema cached) | ${us(results.validation.clientValidUs)} |
| \`client.validate\`, input with 3 issues | ${us(results.validation.clientInvalidUs)} |
| \`validate(doc, input)\` (compiles the schema each call) | ${us(results.validation.pureValidUs)} |

The goal is "well under a millisecond" (1000 µs).
`;
writeFileSync(new URL("RESULTS.md", import.meta.url), md);
console.log(md);
