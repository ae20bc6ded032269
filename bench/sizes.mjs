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
        lazy?.add(new URL(a.path, `file://${a.resolveDir}/`).pathname);
        return { path: a.path, external: true };
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
 * Builds the download of each client and writes the files used by the bench pages to `outDir`.
 * genwire: the wasm, the JS (js/index.js with its wasm-bindgen glue pkg/genwire.js) and the React
 * hooks (js/react.js, React itself external: the app has it anyway) if they exist.
 * theirs: @fal-ai/client as one bundle (its dependencies included).
 */
export async function buildDownloads({ withTheirs = true, write = true, brotli = true } = {}) {
  const wasmPath = `${root}pkg/genwire_bg.wasm`;
  if (!existsSync(wasmPath)) throw new Error("pkg/genwire_bg.wasm is missing: run `bash scripts/build.sh` first");
  const lazyPaths = new Set();
  const genwire = [
    { file: "pkg/genwire_bg.wasm", what: "wasm module", bytes: readFileSync(wasmPath) },
    { file: "genwire.min.js", what: "js/index.js + pkg/genwire.js (glue), bundled, minified", bytes: await bundle(`${root}js/index.js`, { lazy: lazyPaths }) },
  ];
  if (existsSync(`${root}js/react.js`)) {
    genwire.push({ file: "genwire-react.min.js", what: "js/react.js (hooks), minified, react external", bytes: await bundle(`${root}js/react.js`, { external: ["react"], plugins: [coreExternal], lazy: lazyPaths }) });
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
    // The bench page's genwire: the same bundle plus an accessor for the wasm memory (not counted).
    if (withTheirs) {
      writeFileSync(`${outDir}genwire-bench-entry.mjs`, `export * from ${JSON.stringify(`${root}js/index.js`)};\nexport { default as wasmExports } from ${JSON.stringify(`${root}pkg/genwire.js`)};\n`);
      writeFileSync(`${outDir}genwire-bench.min.js`, await bundle(`${outDir}genwire-bench-entry.mjs`));
    }
  }
  const table = (files) => {
    const rows = files.map(({ file, what, bytes }) => ({ file, what, ...compressed(bytes, { brotli }) }));
    const total = rows.reduce((t, r) => ({ raw: t.raw + r.raw, gzip: t.gzip + r.gzip, brotli: t.brotli + r.brotli }), { raw: 0, gzip: 0, brotli: 0 });
    return { files: rows, total };
  };
  return { genwire: { ...table(genwire), lazy }, theirs: withTheirs ? table(theirs) : null };
}
