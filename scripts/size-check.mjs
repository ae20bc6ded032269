// The CI size gate: the gzip total of what the browser downloads for genwire (the wasm, the bundled
// and minified JS entry with its glue, the hooks; counted exactly as `npm run bench` counts them)
// must not exceed the budget recorded in bench/size-budget.json. Run after `bash scripts/build.sh`.
//
//   node scripts/size-check.mjs                 check against bench/size-budget.json
//   node scripts/size-check.mjs --budget FILE   check against another budget file (also SIZE_BUDGET=FILE)
//   node scripts/size-check.mjs --update        record the current size (+1% headroom) as the budget
import { readFileSync, writeFileSync } from "node:fs";
import { buildDownloads, root } from "../bench/sizes.mjs";

const args = process.argv.slice(2);
const at = args.indexOf("--budget");
const budgetFile = at >= 0 ? args[at + 1] : process.env.SIZE_BUDGET || `${root}bench/size-budget.json`;
const shown = budgetFile.startsWith(root) ? budgetFile.slice(root.length) : budgetFile;

let sizes;
try {
  ({ genwire: sizes } = await buildDownloads({ withTheirs: false, write: false, brotli: false }));
} catch (e) {
  console.error(`size check: ${e.message}`);
  process.exit(2);
}
const lines = sizes.files.map((f) => `  ${f.file.padEnd(22)} ${String(f.gzip).padStart(8)} B gzip  (${f.raw} B raw)`).join("\n");

if (args.includes("--update")) {
  const budget = {
    gzipBytes: Math.ceil((sizes.total.gzip * 1.01) / 100) * 100,
    measuredGzipBytes: sizes.total.gzip,
    measuredOn: new Date().toISOString().slice(0, 10),
    counts: "gzip -9 of pkg/genwire_bg.wasm + js/index.js with pkg/genwire.js (esbuild --bundle --minify --format=esm) + js/react.js (same, react external); see bench/sizes.mjs",
    files: Object.fromEntries(sizes.files.map((f) => [f.file, f.gzip])),
  };
  writeFileSync(budgetFile, JSON.stringify(budget, null, 2) + "\n");
  console.log(`size check: budget ${budget.gzipBytes} B gzip written to ${shown} (measured ${sizes.total.gzip} B)\n${lines}`);
  process.exit(0);
}

let budget;
try {
  budget = JSON.parse(readFileSync(budgetFile, "utf8"));
} catch (e) {
  console.error(`size check: cannot read the budget ${shown}: ${e.message}`);
  process.exit(2);
}
if (!Number.isInteger(budget.gzipBytes) || budget.gzipBytes <= 0) {
  console.error(`size check: ${shown} has no positive integer "gzipBytes"`);
  process.exit(2);
}

const total = sizes.total.gzip;
if (total > budget.gzipBytes) {
  const over = total - budget.gzipBytes;
  console.error(
    `size check FAILED: genwire's browser download is ${total} B gzip, over the budget of ${budget.gzipBytes} B ` +
      `(${shown}) by ${over} B (+${((over / budget.gzipBytes) * 100).toFixed(1)}%).\n${lines}\n` +
      `Make it smaller, or, if the growth is wanted, raise the budget on purpose: node scripts/size-check.mjs --update`,
  );
  process.exit(1);
}
console.log(`size check: ${total} B gzip, within the budget of ${budget.gzipBytes} B (${shown}; ${budget.gzipBytes - total} B left)`);
