// Packaging: the tarball `npm pack` makes, installed from the registry's packages into a fresh
// Vite + React app and a fresh Next.js app (tests/packaging/*), built (type-checked) and served by
// their own tools, then driven in Chromium against the dev server's proxy and simulated fal:
// an image through the queue with the hooks, a realtime round trip, no page errors, the wasm loaded
// only when first needed, and (Next) the hooks' idle state in the server-rendered HTML.
// Needs `bash scripts/build.sh` first (pkg/ and the server) and the npm registry (or npm's cache).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { launchBrowser, startServer } from "./support/env.mjs";
import { freePort, killAll, run, serve, toolEnv } from "./support/procs.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const fixtures = join(root, "tests", "packaging");
const NPM_INSTALL = ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"];
const APP_TIMEOUT = 10 * 60_000;

const elapsed = (t0) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

let work, tarball, server, browser;
const timings = [];

before(async () => {
  assert.ok(existsSync(join(root, "pkg", "genwire_bg.wasm")), "pkg/ is missing: run `bash scripts/build.sh` first");
  work = mkdtempSync(join(tmpdir(), "genwire-packaging-"));
  const t0 = Date.now();
  const packed = JSON.parse(await run("npm", ["pack", "--json", "--pack-destination", work], { cwd: root, timeout: 120_000 }).then((o) => o.slice(o.indexOf("["))));
  tarball = join(work, packed[0].filename);
  timings.push(`npm pack ${elapsed(t0)}`);
  server = await startServer(["--latency-ms", "600"]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  server?.close();
  killAll();
  if (work && !process.env.GENWIRE_KEEP_PACKAGING) rmSync(work, { recursive: true, force: true });
  if (timings.length) console.log(`packaging timings: ${timings.join(", ")}`);
});

/** Copies a fixture into a fresh directory and installs the tarball and the fixture's deps. */
async function freshApp(name) {
  const dir = join(work, name);
  cpSync(join(fixtures, name), dir, {
    recursive: true,
    // What running a fixture by hand leaves behind (see tests/packaging/.gitignore) stays behind.
    filter: (src) => !/[\\/](node_modules|dist|\.next|next-env\.d\.ts|package-lock\.json|[^\\/]*\.tsbuildinfo)([\\/]|$)/.test(src.slice(fixtures.length)),
  });
  // The page both apps share, next to the file that imports it.
  cpSync(join(fixtures, "shared", "GenwireDemo.tsx"), join(dir, name === "next-app" ? "app" : "src", "GenwireDemo.tsx"));
  const t0 = Date.now();
  await run("npm", [...NPM_INSTALL, tarball], { cwd: dir });
  timings.push(`${name} install ${elapsed(t0)}`);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  assert.match(pkg.dependencies.genwire, /^file:.*\.tgz$/, "genwire comes from the tarball");
  const installed = JSON.parse(readFileSync(join(dir, "node_modules", "genwire", "package.json"), "utf8"));
  assert.equal(installed.name, "genwire");
  return dir;
}

/**
 * Drives a served app in Chromium: nothing loads wasm before the first click; an image through the
 * queue (status stream, no polling); a realtime result; no page or console errors.
 */
async function drive(url, t) {
  const page = await browser.newPage();
  const problems = [];
  const wasm = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.location().url.endsWith("/favicon.ico")) return; // the browser's own guess; the fixtures have none
    if (m.type() === "error" || m.type() === "warning") problems.push(`console.${m.type()}: ${m.text()} (${m.location().url})`);
  });
  page.on("requestfailed", async (r) => {
    const target = (await r.allHeaders().catch(() => ({})))["x-fal-target-url"] ?? "";
    // The client closes the status stream itself once the job completed.
    if (r.failure()?.errorText === "net::ERR_ABORTED" && /\/status\/stream(\?|$)/.test(target)) return;
    problems.push(`request failed: ${r.method()} ${r.url()} ${target} ${r.failure()?.errorText}`);
  });
  page.on("response", async (r) => {
    if (/\.wasm(\?|$)/.test(r.url())) wasm.push({ url: r.url(), status: r.status(), type: r.headers()["content-type"] });
    if (r.status() >= 400) problems.push(`${r.status()} for ${r.request().method()} ${r.url()} ${(await r.request().allHeaders().catch(() => ({})))["x-fal-target-url"] ?? ""}`);
  });
  try {
    await page.goto(url);
    await page.waitForSelector("#gen-status[data-status=idle]");
    await page.waitForSelector("#rt-status[data-status=idle]");
    await page.waitForLoadState("networkidle");
    assert.deepEqual(wasm, [], "no wasm is fetched before something needs it");

    // An image through the queue, with the hooks.
    const since = (await server.log()).length;
    await page.evaluate(() => {
      const el = document.querySelector("#gen-status");
      window.__seen = [];
      new MutationObserver(() => window.__seen.push({ status: el.dataset.status, at: performance.now() }))
        .observe(el, { attributes: true, attributeFilter: ["data-status"] });
    });
    await page.click("#generate");
    await page.waitForSelector("#gen-status:is([data-status=success], [data-status=error])", { timeout: 30_000 });
    const gen = await page.evaluate(() => ({
      status: document.querySelector("#gen-status").dataset.status,
      requestId: document.querySelector("#gen-status").dataset.requestId,
      error: document.querySelector("#gen-error")?.textContent,
      url: document.querySelector("#gen-image-url")?.textContent,
    }));
    assert.equal(gen.status, "success", `generation failed: ${gen.error}`);
    assert.match(gen.url, /^https?:\/\//, "an image URL");
    await page.waitForFunction(() => { const img = document.querySelector("#gen-image"); return img?.complete && img.naturalWidth > 0; }, null, { timeout: 10_000 });
    // The first call validates (the default): the full core, once.
    assert.equal(wasm.length, 1, `one wasm download: ${JSON.stringify(wasm)}`);
    assert.match(wasm[0].url, /genwire_bg[^/]*\.wasm/);
    assert.equal(wasm[0].status, 200);
    assert.equal(wasm[0].type, "application/wasm", "served as application/wasm (else no streaming compile)");
    // Live status: the job runs 600 ms in the simulator; a proxy that buffers the stream
    // (compression, say) would deliver every update at once at the end.
    const seen = await page.evaluate(() => window.__seen);
    const phases = seen.map((s) => s.status).filter((s, i, all) => s !== all[i - 1]);
    assert.deepEqual(phases, ["submitting", "queued", "running", "success"], JSON.stringify(seen));
    const at = (status) => seen.find((s) => s.status === status).at;
    assert.ok(at("success") - at("running") >= 300, `running only ${Math.round(at("success") - at("running"))} ms before success: the status stream came in one piece`);
    const log = (await server.log()).slice(since);
    const ofJob = (suffix) => log.filter((e) => e.url.includes(`/requests/${gen.requestId}${suffix}`)).length;
    assert.equal(ofJob("/status/stream"), 1, "status came over the SSE stream through the app's proxy");
    assert.equal(ofJob("/status?"), 0, "no polling: the app's proxy passes the stream through unbuffered");
    t.diagnostic(`image ${gen.url} (request ${gen.requestId}); ${seen.map((s) => `${s.status} at ${Math.round(s.at - seen[0].at)} ms`).join(", ")}`);

    // A realtime round trip, the socket straight to the simulator, its token through the app's proxy.
    await page.click("#rt-send");
    await page.waitForSelector("#rt-result, #rt-error", { timeout: 20_000 });
    const rt = await page.evaluate(() => ({
      status: document.querySelector("#rt-status").dataset.status,
      error: document.querySelector("#rt-error")?.textContent,
      seq: document.querySelector("#rt-result")?.dataset.seq,
      url: document.querySelector("#rt-result")?.textContent,
    }));
    assert.equal(rt.error, undefined, `realtime error: ${rt.error}`);
    assert.equal(rt.seq, "1");
    assert.match(rt.url, /^data:image\/png;base64,/);
    assert.equal(rt.status, "open");
    const tokens = (await server.log()).slice(since).filter((e) => e.url === "https://rest.fal.ai/tokens/");
    assert.equal(tokens.length, 1, "one realtime token, fetched through the app's proxy");

    // `genwire/queue`, imported on the click: the bundler found its lean core next to its glue.
    await page.click("#queue-run");
    await page.waitForSelector("#queue-status:is([data-status=success], [data-status=error])", { timeout: 30_000 });
    const queue = await page.evaluate(() => ({ status: document.querySelector("#queue-status").dataset.status, text: document.querySelector("#queue-status").textContent, url: document.querySelector("#queue-status").dataset.url }));
    assert.equal(queue.status, "success", queue.text);
    assert.match(queue.url, /^https?:\/\//, "an image URL");
    const queueWasm = wasm.filter((w) => /genwire_queue/.test(w.url));
    assert.equal(queueWasm.length, 1, `one wasm download for genwire/queue: ${JSON.stringify(wasm)}`);
    assert.match(queueWasm[0].url, /genwire_queue_lean_bg[^/]*\.wasm/);
    assert.equal(queueWasm[0].status, 200);
    assert.equal(queueWasm[0].type, "application/wasm");

    assert.deepEqual(problems, [], "no page errors");
  } finally {
    await page.close();
  }
}

describe("packaging", () => {
  test("the tarball holds the package and nothing else", async () => {
    const list = (await run("tar", ["-tzf", tarball], { cwd: work })).trim().split("\n").map((f) => f.replace(/^package\//, ""));
    // Every wasm module with its glue and types: the full and the lean core, the validator, and the
    // `genwire/queue` entry's core and lean core with their glue (docs/size.md).
    const modules = [
      "pkg/genwire.js", "pkg/genwire_bg.wasm", "pkg/genwire.d.ts", "pkg/genwire_lean_bg.wasm", "pkg/genwire_validate.js", "pkg/genwire_validate_bg.wasm", "pkg/genwire_validate.d.ts",
      "pkg/genwire_queue.js", "pkg/genwire_queue_bg.wasm", "pkg/genwire_queue.d.ts", "pkg/genwire_queue_lean_bg.wasm",
    ];
    const allowed = (f) => /^js\/[^/]+\.(js|d\.ts)$/.test(f) || ["package.json", "README.md", ...modules].includes(f) || /^LICEN[SC]E/.test(f);
    assert.deepEqual(list.filter((f) => !allowed(f)), [], "only js/, each wasm module's three files, package.json, README, LICENSE");
    for (const f of ["package.json", "README.md", "js/index.js", "js/index.d.ts", "js/queue.js", "js/queue.d.ts", "js/react.js", "js/react.d.ts", ...modules]) {
      assert.ok(list.includes(f), `${f} is in the tarball`);
    }
    // The packed manifest: entry points, types, tree-shaking, and every file it names is there.
    const manifest = JSON.parse(await run("tar", ["-xzOf", tarball, "package/package.json"], { cwd: work }));
    assert.equal(manifest.sideEffects, false);
    assert.equal(manifest.type, "module");
    assert.deepEqual(Object.keys(manifest.exports).filter((k) => k === "." || k === "./react"), [".", "./react"]);
    const targets = [manifest.types, manifest.main, manifest.module];
    for (const [key, value] of Object.entries(manifest.exports)) {
      if (typeof value === "string") targets.push(value);
      else {
        assert.ok(value.types && value.default, `exports["${key}"] names types and default`);
        assert.ok(Object.keys(value).at(-1) === "default", `exports["${key}"]: default comes last`);
        targets.push(...Object.values(value));
      }
    }
    for (const f of targets.filter(Boolean)) assert.ok(list.includes(f.replace(/^\.\//, "")), `${f} (named by package.json) is in the tarball`);
    // Every relative import of the packed JS and declarations resolves inside the tarball.
    for (const f of list.filter((f) => /\.(js|d\.ts)$/.test(f) && f.startsWith("js/"))) {
      const src = await run("tar", ["-xzOf", tarball, `package/${f}`], { cwd: work });
      for (const [, spec] of src.matchAll(/(?:from\s+|import\s*\(\s*)["'](\.{1,2}\/[^"']+)["']/g)) {
        const target = new URL(spec, `file:///${f}`).pathname.slice(1);
        const candidates = f.endsWith(".d.ts") ? [target, target.replace(/\.js$/, ".d.ts")] : [target];
        assert.ok(candidates.some((c) => list.includes(c)), `${f} imports ${spec}, which is not in the tarball`);
      }
    }
    assert.ok(!list.some((f) => /^(src|target|server|tests|www|bench|node_modules)\//.test(f)));
  });

  test("a fresh Vite + React app: type-checks, builds, and works in Chromium", { timeout: APP_TIMEOUT }, async (t) => {
    const dir = await freshApp("vite-app");
    const env = toolEnv({ GENWIRE_SERVER_URL: server.url, VITE_GENWIRE_REALTIME_URL: `${server.url.replace(/^http/, "ws")}/sim/realtime` });
    let t0 = Date.now();
    await run(join(dir, "node_modules/.bin/tsc"), ["-p", "tsconfig.json"], { cwd: dir, env });
    await run(join(dir, "node_modules/.bin/vite"), ["build"], { cwd: dir, env });
    timings.push(`vite typecheck+build ${elapsed(t0)}`);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    const preview = await serve(join(dir, "node_modules/.bin/vite"), ["preview", "--host", "127.0.0.1", "--port", String(port), "--strictPort"], { cwd: dir, env, url });
    try {
      t0 = Date.now();
      await drive(url, t);
      timings.push(`vite in Chromium ${elapsed(t0)}`);
    } finally {
      preview.stop();
    }
  });

  test("a fresh Next.js app: type-checks, prerenders the idle state, builds, and works in Chromium", { timeout: APP_TIMEOUT }, async (t) => {
    const dir = await freshApp("next-app");
    assert.ok(existsSync(join(dir, "node_modules/@next/swc-linux-x64-gnu")) || process.arch !== "x64" || process.platform !== "linux", "Next's native compiler (an optional dependency) installed");
    const env = toolEnv({ GENWIRE_SERVER_URL: server.url, NEXT_PUBLIC_GENWIRE_REALTIME_URL: `${server.url.replace(/^http/, "ws")}/sim/realtime` });
    let t0 = Date.now();
    const built = await run(join(dir, "node_modules/.bin/next"), ["build"], { cwd: dir, env });
    timings.push(`next build ${elapsed(t0)}`);
    assert.match(built, /Finished TypeScript|Linting and checking validity of types/, `next build type-checked the app:\n${built}`);
    assert.match(built, /○ \/\s/, `the page is prerendered as static content:\n${built}`);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    const next = await serve(join(dir, "node_modules/.bin/next"), ["start", "-H", "127.0.0.1", "-p", String(port)], { cwd: dir, env, url });
    try {
      // The server's HTML already shows the hooks' idle state (the prerender ran them on the server).
      const html = await (await fetch(url)).text();
      assert.match(html, /<p id="gen-status" data-status="idle"[^>]*>status: idle<\/p>/, "the generation's idle state is server-rendered");
      assert.match(html, /<p id="rt-status" data-status="idle"[^>]*>realtime: idle<\/p>/, "the realtime hook's idle state is server-rendered");
      t0 = Date.now();
      await drive(url, t);
      timings.push(`next in Chromium ${elapsed(t0)}`);
    } finally {
      next.stop();
    }
  });
});
