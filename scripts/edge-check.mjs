// The shape gate of the web edge (`npm test`): src/web stays at most a third of src/proto in
// lines, and its modules import each other without a circle.
//
// Lines: every line of the .rs files, comments included, without tests: `tests.rs` files and
// `#[cfg(test)] mod tests { ... }` blocks (which end their files in this code base).
// Imports: `super::name` (and `use super::{a, b}`) in src/web/<name>.rs, mod.rs included (a
// child using an item of mod.rs depends on it).
//
//   node scripts/edge-check.mjs          check, print the counts
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

function files(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".rs") ? [p] : [];
  });
}

/** Lines of a file without its test module. */
function lines(path) {
  if (path.endsWith("/tests.rs")) return 0;
  const all = readFileSync(path, "utf8").split("\n");
  if (all.at(-1) === "") all.pop();
  const i = all.findIndex((l, n) => l.trim() === "#[cfg(test)]" && /^\s*mod tests\s*\{/.test(all[n + 1] ?? ""));
  return i < 0 ? all.length : i;
}

const count = (dir) => files(join(root, dir)).reduce((n, f) => n + lines(f), 0);
const proto = count("src/proto");
const web = count("src/web");
const failures = [];
console.log(`lines without tests: src/proto ${proto}, src/web ${web} (${(web / proto).toFixed(3)} of the core; at most 1/3)`);
if (web * 3 > proto) failures.push(`src/web has ${web} lines, more than a third of src/proto's ${proto}`);

// The module graph of src/web.
const dir = join(root, "src/web");
const mods = readdirSync(dir).filter((f) => f.endsWith(".rs")).map((f) => f.slice(0, -3));
const deps = new Map();
for (const m of mods) {
  // The module without its tests (they may reach further, `super::super::js`).
  const src = readFileSync(join(dir, `${m}.rs`), "utf8").split("\n").slice(0, lines(join(dir, `${m}.rs`))).join("\n");
  const used = new Set();
  for (const [, name] of src.matchAll(/super::([a-z_][a-z0-9_]*)/g)) used.add(name);
  for (const [, list] of src.matchAll(/use super::\{([^}]*)\}/g)) for (const n of list.split(",")) used.add(n.trim().split("::")[0]);
  used.delete("super");
  // `super::x` in a child names module x, or an item of mod.rs.
  deps.set(m, [...used].map((n) => (mods.includes(n) && m !== "mod" ? n : m === "mod" ? null : "mod")).filter((n) => n && n !== m));
}
// mod.rs declares every module; what it uses by name is its edges.
const modSrc = readFileSync(join(dir, "mod.rs"), "utf8");
deps.set("mod", mods.filter((n) => n !== "mod" && new RegExp(`\\b${n}::`).test(modSrc)));
const state = new Map();
const stack = [];
function visit(m) {
  if (state.get(m) === "done") return;
  if (state.get(m) === "open") {
    failures.push(`import circle in src/web: ${[...stack.slice(stack.indexOf(m)), m].join(" -> ")}`);
    return;
  }
  state.set(m, "open");
  stack.push(m);
  for (const d of deps.get(m) ?? []) visit(d);
  stack.pop();
  state.set(m, "done");
}
for (const m of mods) visit(m);
if (!failures.length) console.log(`src/web: ${mods.length} modules, no import circle`);
for (const f of failures) console.error(`edge check: ${f}`);
process.exit(failures.length ? 1 : 0);
