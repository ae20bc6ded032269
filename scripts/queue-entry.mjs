// js/queue.js, the `genwire/queue` entry, is js/index.js on the queue core: the same crate built
// without realtime (`--no-default-features --features client,validator`, scripts/build.sh), with
// its own glue (pkg/genwire_queue.js) and its own lean core (pkg/genwire_queue_lean_bg.wasm).
// docs/size.md, "Fourth pass", step 4. The file is generated, committed, and checked by npm test:
//
//   node scripts/queue-entry.mjs           writes js/queue.js from js/index.js
//   node scripts/queue-entry.mjs --check   fails if js/queue.js is not what it would write
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const source = readFileSync(`${root}js/index.js`, "utf8");

// Each replacement must match exactly as often as said: a changed js/index.js fails loudly here.
const REPLACE = [
  ['from "../pkg/genwire.js";', 'from "../pkg/genwire_queue.js";', 1],
  ['new URL("../pkg/genwire_lean_bg.wasm", import.meta.url)', 'new URL("../pkg/genwire_queue_lean_bg.wasm", import.meta.url)', 1],
];
let out = source;
for (const [from, to, count] of REPLACE) {
  const n = out.split(from).length - 1;
  if (n !== count) throw new Error(`queue-entry: js/index.js has ${n} of ${JSON.stringify(from)}, expected ${count}`);
  out = out.split(from).join(to);
}
if (out.includes("../pkg/genwire.js") || out.includes("genwire_bg.wasm\"")) throw new Error("queue-entry: js/index.js names the full core somewhere new");
const header = "// GENERATED from js/index.js by scripts/queue-entry.mjs: edit js/index.js, then run `node scripts/queue-entry.mjs`.\n// The `genwire/queue` entry: every feature but realtime, on a core built without it (docs/size.md).\n";
out = header + out;

const target = `${root}js/queue.js`;
if (process.argv.includes("--check")) {
  let now = "";
  try { now = readFileSync(target, "utf8"); } catch {}
  if (now !== out) {
    console.error("queue-entry: js/queue.js is not js/index.js's current copy: run `node scripts/queue-entry.mjs`");
    process.exit(1);
  }
  console.log("queue-entry: js/queue.js matches js/index.js");
} else {
  writeFileSync(target, out);
  console.log("queue-entry: wrote js/queue.js");
}
