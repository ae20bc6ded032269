// The lean core (docs/size.md, "The split"): pkg/genwire_bg.wasm without the validator's exports,
// optimised again so wasm-opt drops the code only they reached (the schema compiler and checker).
// It keeps every other export under the same name, so the one glue (pkg/genwire.js) runs either
// module; js/library.js loads the lean one when a page's first call doesn't validate.
//
//   node scripts/lean-wasm.mjs [core.wasm lean.wasm]
// after the full and the validator modules are built (scripts/build.sh). Without arguments:
// pkg/genwire_bg.wasm → pkg/genwire_lean_bg.wasm; the queue core (`genwire/queue`) gets its own.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** A module's sections: [{ id, at (the id byte), start, end (the payload) }]. */
function sections(buf) {
  let p = 8;
  const out = [];
  while (p < buf.length) {
    const at = p++;
    let size = 0, s = 0, b;
    do { b = buf[p++]; size += (b & 0x7f) * 2 ** s; s += 7; } while (b & 0x80);
    out.push({ id: buf[at], at, start: p, end: p + size });
    p += size;
  }
  return out;
}

function exportsOf(buf) {
  const sec = sections(buf).find((s) => s.id === 7);
  let p = sec.start;
  const leb = () => {
    let r = 0, s = 0, b;
    do { b = buf[p++]; r += (b & 0x7f) * 2 ** s; s += 7; } while (b & 0x80);
    return r;
  };
  const n = leb();
  const list = [];
  for (let i = 0; i < n; i++) {
    const from = p;
    const len = leb();
    const name = buf.subarray(p, p + len).toString("utf8");
    p += len + 1; // the kind
    leb(); // the index
    list.push({ name, bytes: buf.subarray(from, p) });
  }
  return { sec, list };
}

const uleb = (n) => {
  const out = [];
  do { let b = n & 0x7f; n = Math.floor(n / 128); if (n) b |= 0x80; out.push(b); } while (n);
  return Buffer.from(out);
};

const [input = "pkg/genwire_bg.wasm", output = "pkg/genwire_lean_bg.wasm"] = process.argv.slice(2);
const full = readFileSync(root + input);
const validator = readFileSync(`${root}pkg/genwire_validate_bg.wasm`);
// The validator's own API, by its public types (pkg/genwire_validate.d.ts): each exported function
// is an export of that name; each class C, `__wbg_c_free` and `c_<method>`.
const types = readFileSync(`${root}pkg/genwire_validate.d.ts`, "utf8");
const fns = [...types.matchAll(/^export function (\w+)/gm)].map((m) => m[1]);
const classes = [...types.matchAll(/^export class (\w+)/gm)].map((m) => m[1].toLowerCase());
const isApi = (n) => fns.includes(n) || classes.some((c) => n === `__wbg_${c}_free` || n.startsWith(`${c}_`));
const api = exportsOf(validator).list.map((e) => e.name).filter(isApi);
const { sec, list } = exportsOf(full);
const names = new Set(list.map((e) => e.name));
const missing = api.filter((n) => !names.has(n));
if (!api.length || missing.length) throw new Error(`lean-wasm: the full module should export the validator's ${api.join(", ")}; missing ${missing.join(", ")}`);
const kept = list.filter((e) => !api.includes(e.name));
const body = Buffer.concat([uleb(kept.length), ...kept.map((e) => e.bytes)]);
const out = Buffer.concat([full.subarray(0, sec.at), Buffer.from([7]), uleb(body.length), body, full.subarray(sec.end)]);
const stripped = `${root}target/${output.replace(/^.*\//, "").replace(/\.wasm$/, "")}_unopt.wasm`;
writeFileSync(stripped, out);

// The release's wasm-opt flags (Cargo.toml's wasm-pack metadata), as wasm-pack ran them.
const cargo = readFileSync(`${root}Cargo.toml`, "utf8");
const flags = JSON.parse(cargo.match(/\[package\.metadata\.wasm-pack\.profile\.release\]\s*\nwasm-opt = (\[[^\]]*\])/)[1]);
execFileSync(`${root}node_modules/.bin/wasm-opt`, [stripped, ...flags, "-o", root + output], { stdio: "inherit" });
console.log(`lean-wasm: ${output} without ${api.join(", ")}`);
