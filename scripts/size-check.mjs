// The CI size gate: the gzip size of what the browser downloads for genwire, counted exactly as
// `npm run bench` counts it (bench/sizes.mjs), against the budgets in bench/size-budget.json: the
// whole library (`gzipBytes`: what a page using everything fetches: the full core, the bundled and
// minified JS entry with its glue, the hooks) and each kind of page (`pages`: what it fetches,
// bench/sizes.mjs PAGES: the lean core, the validator module). Run after `bash scripts/build.sh`.
//
//   node scripts/size-check.mjs                 check against bench/size-budget.json
//   node scripts/size-check.mjs --budget FILE   check against another budget file (also SIZE_BUDGET=FILE)
//   node scripts/size-check.mjs --update        record the current sizes (+1% headroom) as the budgets
import { readFileSync, writeFileSync } from "node:fs";
import { buildDownloads, root } from "../bench/sizes.mjs";

const args = process.argv.slice(2);
const at = args.indexOf("--budget");
const budgetFile = at >= 0 ? args[at + 1] : process.env.SIZE_BUDGET || `${root}bench/size-budget.json`;
const shown = budgetFile.startsWith(root) ? budgetFile.slice(root.length) : budgetFile;

let sizes, theirs;
try {
  ({ genwire: sizes, theirs } = await buildDownloads({ withTheirs: true, write: false, brotli: false }));
} catch (e) {
  console.error(`size check: ${e.message}`);
  process.exit(2);
}
const official = theirs.total.gzip;
const ratio = (n) => `${(n / official).toFixed(2)}× @fal-ai/client's ${official} B`;
const lines = sizes.files.map((f) => `  ${f.file.padEnd(30)} ${String(f.gzip).padStart(8)} B gzip  (${f.raw} B raw)`).join("\n");
const pageLines = Object.entries(sizes.pages)
  .map(([kind, p]) => `  page ${kind.padEnd(25)} ${String(p.gzip).padStart(8)} B gzip  (${ratio(p.gzip)}; ${p.files.join(" + ")})`)
  .join("\n");
const headroom = (n) => Math.ceil((n * 1.01) / 100) * 100;

if (args.includes("--update")) {
  const budget = {
    gzipBytes: headroom(sizes.total.gzip),
    measuredGzipBytes: sizes.total.gzip,
    measuredOn: new Date().toISOString().slice(0, 10),
    counts:
      "gzip -9; gzipBytes: the whole library as a page using everything fetches it (pkg/genwire_bg.wasm + js/index.js with pkg/genwire.js, esbuild --bundle --minify --format=esm + js/react.js, same, react external); pages: what each kind of page fetches (bench/sizes.mjs PAGES); files: every file, the lean core and the validator module included",
    pages: Object.fromEntries(Object.entries(sizes.pages).map(([kind, p]) => [kind, { gzipBytes: headroom(p.gzip), measuredGzipBytes: p.gzip }])),
    officialClientGzipBytes: official,
    files: Object.fromEntries(sizes.files.map((f) => [f.file, f.gzip])),
  };
  writeFileSync(budgetFile, JSON.stringify(budget, null, 2) + "\n");
  console.log(`size check: budget ${budget.gzipBytes} B gzip written to ${shown} (measured ${sizes.total.gzip} B)\n${lines}\n${pageLines}`);
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
for (const [kind, p] of Object.entries(budget.pages ?? {})) {
  if (!Number.isInteger(p?.gzipBytes) || p.gzipBytes <= 0) {
    console.error(`size check: ${shown} has no positive integer "gzipBytes" for the page "${kind}"`);
    process.exit(2);
  }
  if (!sizes.pages[kind]) {
    console.error(`size check: ${shown} budgets a page "${kind}" that bench/sizes.mjs doesn't know`);
    process.exit(2);
  }
}

const total = sizes.total.gzip;
const failures = [];
if (total > budget.gzipBytes) {
  const over = total - budget.gzipBytes;
  failures.push(`genwire's browser download is ${total} B gzip, over the budget of ${budget.gzipBytes} B (${shown}) by ${over} B (+${((over / budget.gzipBytes) * 100).toFixed(1)}%).`);
}
for (const [kind, p] of Object.entries(budget.pages ?? {})) {
  const size = sizes.pages[kind].gzip;
  if (size > p.gzipBytes) failures.push(`the "${kind}" page downloads ${size} B gzip, over its budget of ${p.gzipBytes} B by ${size - p.gzipBytes} B.`);
}
if (failures.length) {
  console.error(
    `size check FAILED: ${failures.join("\n  ")}\n${lines}\n${pageLines}\n` +
      `Make it smaller, or, if the growth is wanted, raise the budget on purpose: node scripts/size-check.mjs --update`,
  );
  process.exit(1);
}
console.log(
  `size check: ${total} B gzip, within the budget of ${budget.gzipBytes} B (${shown}; ${budget.gzipBytes - total} B left; ${ratio(total)})\n` +
    `${pageLines}\n  every page within its budget (${Object.keys(budget.pages ?? {}).length} pages budgeted)`,
);
