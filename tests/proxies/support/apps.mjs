// The fixture apps of tests/proxies.test.mjs, installed from the npm registry into
// tests/proxies/.cache/ (ignored by git) and kept between runs: a fixture's dependencies are
// installed again only when its package.json changes, and the Next app is built again only when a
// source file or genwire's packed package changed. genwire itself comes from the tarball
// `npm pack` made of this checkout, unpacked into the app's node_modules as npm would.
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { run } from "../../support/procs.mjs";

const NPM_INSTALL = ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"];
const KEEP = new Set(["node_modules", ".next", ".installed", "next-env.d.ts"]);
const IGNORED = /(^|[\\/])(node_modules|\.next|\.cache|next-env\.d\.ts|package-lock\.json|[^\\/]*\.tsbuildinfo)([\\/]|$)/;

const sha = (...parts) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
};

function filesOf(dir, base = dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (IGNORED.test(relative(base, path))) continue;
    if (statSync(path).isDirectory()) out.push(...filesOf(path, base));
    else out.push(path);
  }
  return out;
}

/**
 * A ready copy of fixture `name` (tests/proxies/<name>) with its dependencies installed and the
 * tarball's genwire in node_modules; `timings` gets what took time.
 */
export async function prepareApp(fixtures, name, tarball, timings) {
  const src = join(fixtures, name);
  const manifest = readFileSync(join(src, "package.json"));
  const key = sha(manifest, process.versions.node.split(".")[0]).slice(0, 12);
  const cache = join(fixtures, ".cache");
  const dir = join(cache, `${name}-${key}`);
  if (!existsSync(join(dir, ".installed"))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "package.json"), manifest);
    const t0 = Date.now();
    await run("npm", NPM_INSTALL, { cwd: dir });
    timings.push(`${name} npm install ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    writeFileSync(join(dir, ".installed"), new Date().toISOString());
    // Installs of an older package.json are of no more use.
    for (const old of readdirSync(cache)) if (old.startsWith(`${name}-`) && old !== `${name}-${key}`) rmSync(join(cache, old), { recursive: true, force: true });
  }
  writeFileSync(join(cache, `${name}.current`), `${name}-${key}`);
  // The sources as they are now: what an earlier run copied is replaced.
  for (const entry of readdirSync(dir)) if (!KEEP.has(entry)) rmSync(join(dir, entry), { recursive: true, force: true });
  for (const file of filesOf(src)) {
    const to = join(dir, relative(src, file));
    mkdirSync(dirname(to), { recursive: true });
    cpSync(file, to);
  }
  const pkg = join(dir, "node_modules", "genwire");
  rmSync(pkg, { recursive: true, force: true });
  mkdirSync(pkg, { recursive: true });
  await run("tar", ["-xzf", tarball, "-C", pkg, "--strip-components=1"], { cwd: dir });
  return dir;
}

/** Runs `next build` in `dir` unless the same sources and package were built there before. */
export async function buildNext(fixtures, name, dir, tarball, env, timings) {
  const src = join(fixtures, name);
  const key = sha(readFileSync(tarball), ...filesOf(src).flatMap((f) => [relative(src, f), readFileSync(f)]));
  const stamp = join(dir, ".next", "genwire-build-key");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === key) {
    timings.push(`${name}: next build reused`);
    return null;
  }
  const t0 = Date.now();
  const out = await run(join(dir, "node_modules/.bin/next"), ["build"], { cwd: dir, env });
  timings.push(`${name}: next build ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  writeFileSync(stamp, key);
  return out;
}
