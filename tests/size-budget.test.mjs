// The size gate itself: scripts/size-check.mjs passes at the committed budget and fails, with a
// message naming the sizes, when the download is over a budget. Sizes only; nothing here is timed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const check = (...args) => spawnSync(process.execPath, [join(root, "scripts/size-check.mjs"), ...args], { cwd: root, encoding: "utf8" });
const committed = JSON.parse(readFileSync(join(root, "bench/size-budget.json"), "utf8"));

test("the committed budget is a positive byte count", () => {
  assert.ok(Number.isInteger(committed.gzipBytes) && committed.gzipBytes > 0, JSON.stringify(committed));
});

test("the committed budget covers each kind of page", () => {
  assert.deepEqual(Object.keys(committed.pages ?? {}).sort(), ["everything", "lateValidation", "mainSubscribe", "mainValidation", "realtime", "subscribe", "uploads", "validation"]);
  for (const [kind, p] of Object.entries(committed.pages)) assert.ok(Number.isInteger(p.gzipBytes) && p.gzipBytes > 0, kind);
  // The lean cores are what the split is for, `genwire/queue`'s the smallest; the whole library is
  // what a page using everything fetches.
  const { subscribe, validation, mainSubscribe, mainValidation, everything } = committed.pages;
  assert.ok(subscribe.gzipBytes < validation.gzipBytes && validation.gzipBytes <= everything.gzipBytes, JSON.stringify(committed.pages));
  assert.ok(subscribe.gzipBytes < mainSubscribe.gzipBytes && mainSubscribe.gzipBytes < mainValidation.gzipBytes && mainValidation.gzipBytes <= everything.gzipBytes, JSON.stringify(committed.pages));
  assert.equal(everything.gzipBytes, committed.gzipBytes);
});

test("the check fails, naming the page, when one kind of page is over its budget", () => {
  const dir = mkdtempSync(join(tmpdir(), "genwire-size-"));
  try {
    const out = check().stdout;
    const page = Number(out.match(/page subscribe +(\d+) B gzip/)[1]);
    const validation = Number(out.match(/page validation +(\d+) B gzip/)[1]);
    assert.ok(page > 0 && validation >= page, out);
    const file = join(dir, "budget.json");
    writeFileSync(file, JSON.stringify({ gzipBytes: 10_000_000, pages: { subscribe: { gzipBytes: page - 1 }, validation: { gzipBytes: validation } } }));
    const r = check("--budget", file);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`the "subscribe" page downloads ${page} B gzip, over its budget of ${page - 1} B by 1 B`));
    assert.doesNotMatch(r.stderr, /"validation" page/);
    writeFileSync(file, JSON.stringify({ gzipBytes: 10_000_000, pages: { subscribe: { gzipBytes: page } } }));
    assert.equal(check("--budget", file).status, 0);
    // A page the gate doesn't know is a mistake in the budget, not a pass.
    writeFileSync(file, JSON.stringify({ gzipBytes: 10_000_000, pages: { subscrbe: { gzipBytes: page } } }));
    assert.equal(check("--budget", file).status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the check passes at the committed budget", () => {
  const r = check();
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /within the budget of \d+ B/);
});

test("the check fails, saying by how much, when the download is over the budget", () => {
  const dir = mkdtempSync(join(tmpdir(), "genwire-size-"));
  try {
    const current = Number(check().stdout.match(/size check: (\d+) B gzip/)[1]);
    const file = join(dir, "budget.json");
    writeFileSync(file, JSON.stringify({ gzipBytes: current - 1 }));
    const r = check("--budget", file);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`size check FAILED: genwire's browser download is ${current} B gzip, over the budget of ${current - 1} B .* by 1 B`));
    assert.match(r.stderr, /genwire_bg\.wasm/);
    // The same through the environment, as a CI job would set it.
    const viaEnv = spawnSync(process.execPath, [join(root, "scripts/size-check.mjs")], { cwd: root, encoding: "utf8", env: { ...process.env, SIZE_BUDGET: file } });
    assert.equal(viaEnv.status, 1, viaEnv.stdout + viaEnv.stderr);
    // Exactly at the size is still within.
    writeFileSync(file, JSON.stringify({ gzipBytes: current }));
    assert.equal(check("--budget", file).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a missing or malformed budget is an error of its own, not a pass", () => {
  const dir = mkdtempSync(join(tmpdir(), "genwire-size-"));
  try {
    const file = join(dir, "budget.json");
    writeFileSync(file, JSON.stringify({ gzip: 1 }));
    const r = check("--budget", file);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /no positive integer "gzipBytes"/);
    assert.equal(check("--budget", join(dir, "missing.json")).status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
