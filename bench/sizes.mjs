// What the browser downloads for each client, built the same way for both: esbuild
// `--bundle --minify --format=esm` (browser platform), sizes raw, gzip -9 and brotli 11.
// Shared by `npm run bench` and the CI size gate (scripts/size-check.mjs), so both count the same bytes.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync, brotliCompressSync, constants } from "node:zlib";
import { build } from "esbuild";

export const root = fileURLToPath(new URL("..", import.meta.url));
/** Bench build output: under target/ (already gitignored), never committed. */
export const outDir = `${root}target/bench/`;

export function compressed(bytes, { brotli = true } = {}) {
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: !brotli ? null : brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } }).length,
  };
}

/**
 * Modules loaded by `import()` (e.g. js/diagnose.js, fetched only when `diagnose()` is called) stay
 * separate files, as a bundler with code splitting would leave them: not in the initial download.
 */
function lazyExternal(lazy) {
  return {
    name: "lazy-external",
    setup(b) {
      b.onResolve({ filter: /.*/ }, (a) => {
        if (a.kind !== "dynamic-import") return undefined;
        const abs = new URL(a.path, `file://${a.resolveDir}/`).pathname;
        lazy?.add(abs);
        // A wasm module's glue is written beside the bundle (outDir) as its minified file.
        const glue = Object.values(MODULES).find((m) => root + m.glue === abs);
        return { path: glue ? `./${minName(glue.glue)}` : a.path, external: true };
      });
    },
  };
}

async function bundle(entry, { external = [], plugins = [], lazy } = {}) {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2020",
    write: false,
    logLevel: "silent",
    external,
    plugins: [...plugins, lazyExternal(lazy)],
  });
  return Buffer.from(out.outputFiles[0].contents);
}

/** Keeps `./index.js` out of the hooks bundle: an app loads the core once, counted with the core. */
const coreExternal = {
  name: "core-external",
  setup(b) {
    b.onResolve({ filter: /^\.\/index\.js$/ }, (a) => ({ path: a.path, external: true }));
  },
};

/**
 * The wasm modules beside the full core (pkg/genwire_bg.wasm), each built by scripts/build.sh
 * (docs/size.md, "The split"): the lean core (the full one without the validator, run by the same
 * glue) and the validator module with its own glue, loaded by js/index.js with `import()`. A module
 * whose files don't exist is left out.
 */
export const MODULES = {
  lean: { wasm: "pkg/genwire_lean_bg.wasm" },
  queue: { wasm: "pkg/genwire_queue_bg.wasm" },
  queueLean: { wasm: "pkg/genwire_queue_lean_bg.wasm" },
  validator: { wasm: "pkg/genwire_validate_bg.wasm", glue: "pkg/genwire_validate.js" },
};
const minName = (glue) => glue.replace(/^pkg\/(.*)\.js$/, "$1.min.js");

/**
 * Each kind of page, by what it fetches: its JS entry with its glue (`genwire`'s js/index.js, or
 * `entry: "queueEntry"` for `genwire/queue`'s js/queue.js, the same facade on the core built without
 * realtime), the core its first call picks (the lean one when that call's client has
 * `validation: false`, else the full one, of that entry), the modules it brings in later, and for
 * `everything` the React hooks. `everything` is the whole library (the `total`). The size gate
 * budgets each of them.
 */
export const PAGES = {
  subscribe: { what: "queue, subscribe and run from `genwire/queue` with `validation: false`: its entry and lean core", entry: "queueEntry", parts: ["queueLean"] },
  validation: { what: "subscribe from `genwire/queue` with validation (the default): its entry and core", entry: "queueEntry", parts: ["queue"] },
  uploads: { what: "storage.upload from `genwire/queue`, with `validation: false`", entry: "queueEntry", parts: ["queueLean"] },
  lateValidation: { what: "a `genwire/queue` client with `validation: false` asking for a validation later: its lean core, then the validator module", entry: "queueEntry", parts: ["queueLean", "validator"] },
  realtime: { what: "realtime connections (from `genwire`), with `validation: false`: the lean core", parts: ["lean"] },
  mainSubscribe: { what: "queue, subscribe and run from `genwire` with `validation: false`: the lean core", parts: ["lean"] },
  mainValidation: { what: "subscribe from `genwire` with validation (the default): the full core", parts: ["full"] },
  everything: { what: "every feature and the React hooks: the whole library", parts: ["full", "hooks"] },
};

/**
 * Builds the download of each client and writes the files used by the bench pages to `outDir`.
 * genwire: the wasm, the JS (js/index.js with its wasm-bindgen glue pkg/genwire.js), each extra
 * module (wasm + glue) and the React hooks (js/react.js, React itself external: the app has it
 * anyway) if they exist; `pages` sums them per kind of page (PAGES).
 * theirs: @fal-ai/client as one bundle (its dependencies included).
 */
export async function buildDownloads({ withTheirs = true, write = true, brotli = true } = {}) {
  const wasmPath = `${root}pkg/genwire_bg.wasm`;
  if (!existsSync(wasmPath)) throw new Error("pkg/genwire_bg.wasm is missing: run `bash scripts/build.sh` first");
  const lazyPaths = new Set();
  const genwire = [
    { file: "pkg/genwire_bg.wasm", what: "wasm module: the full core", bytes: readFileSync(wasmPath), part: "full" },
    { file: "genwire.min.js", what: "js/index.js + pkg/genwire.js (glue), bundled, minified", bytes: await bundle(`${root}js/index.js`, { lazy: lazyPaths }), part: "entry" },
  ];
  if (existsSync(`${root}js/queue.js`) && existsSync(`${root}pkg/genwire_queue.js`)) {
    genwire.push({ file: "genwire-queue.min.js", what: "js/queue.js (`genwire/queue`) + pkg/genwire_queue.js (glue), bundled, minified", bytes: await bundle(`${root}js/queue.js`, { lazy: lazyPaths }), part: "queueEntry" });
  }
  if (existsSync(`${root}js/react.js`)) {
    genwire.push({ file: "genwire-react.min.js", what: "js/react.js (hooks), minified, react external", bytes: await bundle(`${root}js/react.js`, { external: ["react"], plugins: [coreExternal], lazy: lazyPaths }), part: "hooks" });
  }
  const modules = Object.entries(MODULES).filter(([, m]) => existsSync(root + m.wasm) && (!m.glue || existsSync(root + m.glue)));
  for (const [name, m] of modules) {
    genwire.push({ file: m.wasm, what: `wasm module: ${name}`, bytes: readFileSync(root + m.wasm), part: name });
    if (!m.glue) continue;
    lazyPaths.delete(root + m.glue);
    genwire.push({ file: minName(m.glue), what: `${m.glue} (glue of ${name}), minified, loaded by import()`, bytes: await bundle(root + m.glue), part: name });
  }
  // Lazily loaded modules: reported, not counted (the browser fetches them only when used).
  const lazy = [];
  for (const p of lazyPaths) {
    const rel = p.startsWith(root) ? p.slice(root.length) : p;
    if (existsSync(p)) lazy.push({ file: rel, what: "loaded on first use by import(), not in the initial download", ...compressed(await bundle(p, { plugins: [coreExternal] }), { brotli }) });
  }
  const theirs = withTheirs
    ? [{ file: "fal-client.min.js", what: "@fal-ai/client 1.10.1 (+ its deps), bundled, minified", bytes: await bundle(`${root}node_modules/@fal-ai/client/src/index.js`) }]
    : [];
  if (write) {
    mkdirSync(outDir, { recursive: true });
    for (const f of [...genwire, ...theirs]) writeFileSync(outDir + f.file.replace(/^pkg\//, ""), f.bytes);
    // js/index.js finds the lean core and the validator's wasm at ../pkg/ from the bundle: /pkg/ on the asset server (outDir/pkg/).
    mkdirSync(`${outDir}pkg`, { recursive: true });
    for (const f of genwire.filter((g) => g.file.startsWith("pkg/") && g.part !== "full")) writeFileSync(`${outDir}${f.file}`, f.bytes);
    // The bench page's genwire: the same bundle plus an accessor for the wasm memory (not counted).
    if (withTheirs) {
      writeFileSync(`${outDir}genwire-bench-entry.mjs`, `export * from ${JSON.stringify(`${root}js/index.js`)};\nexport { default as wasmExports } from ${JSON.stringify(`${root}pkg/genwire.js`)};\n`);
      writeFileSync(`${outDir}genwire-bench.min.js`, await bundle(`${outDir}genwire-bench-entry.mjs`));
    }
  }
  const sum = (rows) => rows.reduce((t, r) => ({ raw: t.raw + r.raw, gzip: t.gzip + r.gzip, brotli: t.brotli + r.brotli }), { raw: 0, gzip: 0, brotli: 0 });
  const table = (files) => {
    const rows = files.map(({ file, what, bytes, part }) => ({ file, what, ...(part ? { part } : {}), ...compressed(bytes, { brotli }) }));
    return { files: rows, total: sum(rows) };
  };
  const all = table(genwire);
  const loaded = new Set(genwire.map((f) => f.part));
  const pages = Object.fromEntries(
    Object.entries(PAGES).map(([kind, p]) => {
      // A module not built (the lean core, say) is the full core's work.
      const entry = loaded.has(p.entry ?? "entry") ? (p.entry ?? "entry") : "entry";
      const parts = new Set([entry, ...p.parts.map((x) => (loaded.has(x) ? x : x === "hooks" || x === "validator" ? null : "full")).filter(Boolean)]);
      const files = all.files.filter((f) => parts.has(f.part));
      return [kind, { what: p.what, files: files.map((f) => f.file), ...sum(files) }];
    }),
  );
  // The whole library: what a page using everything downloads.
  const g = { files: all.files, total: (({ raw, gzip, brotli }) => ({ raw, gzip, brotli }))(pages.everything) };
  return { genwire: { ...g, pages, lazy }, theirs: withTheirs ? table(theirs) : null };
}
