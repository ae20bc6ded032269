// `node tests/types/readme.mjs`: every js, jsx, ts and tsx block of README.md, type-checked by
// TypeScript against the package's published types, strictly. Run by `npm test` next to the tsc
// step on tests/types/; fails (exit 1) naming the README line of each error.
//
// - The blocks are written, as they are, to tests/types/.readme/ (ignored, made anew on every
//   run, so there is no copy to drift from the README), one file per block named after its
//   section (`NN-section-n.ext`, n counting the blocks of that section), with its own extension:
//   .js/.jsx are checked with `checkJs`, every file with `strict: true`.
// - `genwire`, `genwire/queue`, `genwire/react` and `genwire/proxy` resolve as a user's would:
//   by the package's own name, through package.json's `exports` (`types` conditions: js/*.d.ts),
//   the folder being inside the package (no `paths` mapping).
// - Each block is a module of the user's app (ESM, top-level await): a block with no import or
//   export of its own gets a trailing `export {};` (after its last line, so the lines match).
// - Names a block uses that the prose or an earlier block defines (`client`, `input`, `file`, the
//   app's `show`, ...) are declared in tests/types/readme-prelude.d.ts, and nothing else.
// - A block that augments a module (`declare module "genwire" { ... }`) must be a module itself
//   (else it would replace the package's types) and is checked in a program of its own, so its
//   endpoint types don't change how the other blocks are checked, with readme-augment-probe.ts,
//   which fails unless what it declares types a call.
// - Skipped: the proxy snippets, recognised as blocks equal byte for byte to a file of
//   tests/proxies/ (its installs left out): those files are the proxies suite's apps, built and
//   run in Next.js, Express and Hono (importing packages this repository doesn't install), and
//   tests/proxies.test.mjs checks that the README shows each of them verbatim. And the blocks of
//   SKIP, by name, each with its reason (none today).
// - Fences tagged js, jsx, ts, tsx (or javascript, mjs, typescript, mts) are checked; others
//   (sh, untagged) are not code for this check.
// - A canary (a misspelt option in a .js file) is checked with the blocks and must fail, so a
//   setting that stops errors from being seen can't turn this check into a pass.
import ts from "typescript";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const here = join(root, "tests", "types");
const out = join(here, ".readme");
/** Fence tags checked, with the extension of the file each becomes. */
const LANGS = { js: "js", jsx: "jsx", ts: "ts", tsx: "tsx", javascript: "js", mjs: "js", typescript: "ts", mts: "ts" };
const AUGMENTS = /^\s*declare\s+module\b/m;

/** Blocks that can't be checked, by name (as printed by this script), with the reason. */
const SKIP = {};

/** The fenced blocks of a markdown text: { lang, text, line (1-based, of the first line of code), name }. */
export function readmeBlocks(markdown) {
  const lines = markdown.split("\n");
  const blocks = [];
  const perSection = new Map();
  let section = "top";
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\S*)/.exec(lines[i]);
    if (fence) {
      let end = i + 1;
      while (end < lines.length && !lines[end].startsWith("```")) end++;
      const slug = section.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
      const n = (perSection.get(slug) ?? 0) + 1;
      perSection.set(slug, n);
      blocks.push({ lang: fence[1], text: lines.slice(i + 1, end).join("\n") + "\n", line: i + 2, name: `${slug}-${n}` });
      i = end;
      continue;
    }
    const heading = /^#+\s+(.*)/.exec(lines[i]);
    if (heading) section = heading[1];
  }
  return blocks;
}

/** The text of every file of tests/proxies/ (its installs and build cache left out). */
function proxyFixtures() {
  const texts = new Set();
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if ([".cache", "node_modules", ".next"].includes(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else texts.add(readFileSync(path, "utf8"));
    }
  };
  walk(join(root, "tests", "proxies"));
  return texts;
}

const OPTIONS = {
  strict: true,
  noEmit: true,
  allowJs: true,
  checkJs: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ["lib.es2022.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
  jsx: ts.JsxEmit.ReactJSX,
  skipLibCheck: false, // the declarations (js/*.d.ts, the prelude) are checked too; TypeScript's own lib files are not:
  skipDefaultLibCheck: true,
  types: [],
};

function main() {
  const blocks = readmeBlocks(readFileSync(join(root, "README.md"), "utf8")).filter((b) => Object.hasOwn(LANGS, b.lang));
  const fixtures = proxyFixtures();
  for (const name of Object.keys(SKIP)) {
    if (!blocks.some((b) => b.name === name)) throw new Error(`SKIP names ${name}, which is not a js/jsx/ts/tsx block of README.md`);
  }
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const checked = [];
  const proxies = [];
  blocks.forEach((b, i) => {
    if (fixtures.has(b.text)) return void proxies.push(b.name);
    if (SKIP[b.name]) return void console.log(`skipped ${b.name} (README.md:${b.line}): ${SKIP[b.name]}`);
    const isModule = /^\s*(import|export)\b/m.test(b.text);
    // Without an import or export, `declare module "genwire"` declares the module anew instead of
    // adding to the package's types: a user copying such a block would lose them.
    if (!isModule && AUGMENTS.test(b.text)) throw new Error(`${b.name} (README.md:${b.line}): a \`declare module\` block must be a module itself (an import or export), else it replaces the package's types`);
    b.file = join(out, `${String(i + 1).padStart(2, "0")}-${b.name}.${LANGS[b.lang]}`);
    writeFileSync(b.file, b.text + (isModule ? "" : "export {};\n"));
    checked.push(b);
  });
  // A module augmentation changes the types every other file of its program sees: one program each.
  const augmenting = checked.filter((b) => AUGMENTS.test(b.text));
  // Each one with readme-augment-probe.ts: what it declares must type a call.
  const probe = join(here, "readme-augment-probe.ts");
  // The canary: a JavaScript file with a misspelt option, checked with the other blocks. Unless it
  // fails, this check can't see errors (JavaScript not checked, the types not found: a pass means nothing).
  const canary = join(out, "00-canary.js");
  writeFileSync(canary, 'import { createClient } from "genwire";\ncreateClient({ proxyURL: "/api/fal/proxy" });\n');
  const programs = [{ blocks: checked.filter((b) => !augmenting.includes(b)), extra: [canary] }, ...augmenting.map((b) => ({ blocks: [b], extra: [probe] }))];
  const prelude = join(here, "readme-prelude.d.ts");
  // Minimal: a name of the prelude no block mentions any more is a mistake to remove.
  const unused = [...readFileSync(prelude, "utf8").matchAll(/^declare (?:const|function) (\w+)/gm)]
    .map((m) => m[1])
    .filter((name) => !checked.some((b) => new RegExp(`\\b${name}\\b`).test(b.text)));
  if (unused.length) {
    console.error(`readme-prelude.d.ts declares names no README block uses: ${unused.join(", ")}`);
    process.exit(1);
  }
  const byFile = new Map(checked.map((b) => [b.file, b]));
  const host = ts.createCompilerHost(OPTIONS);
  const cache = new Map();
  const getSourceFile = host.getSourceFile;
  host.getSourceFile = (file, ...rest) => {
    if (byFile.has(file)) return getSourceFile.call(host, file, ...rest);
    if (!cache.has(file)) cache.set(file, getSourceFile.call(host, file, ...rest));
    return cache.get(file);
  };
  let errors = 0;
  let canaryErrors = 0;
  for (const { blocks: group, extra } of programs) {
    if (group.length === 0) continue;
    const program = ts.createProgram([prelude, ...group.map((b) => b.file), ...extra], OPTIONS, host);
    for (const d of ts.getPreEmitDiagnostics(program)) {
      if (d.file?.fileName === canary) {
        canaryErrors++;
        continue;
      }
      errors++;
      const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
      if (!d.file) {
        console.error(`error TS${d.code}: ${message}`);
        continue;
      }
      const { line, character } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
      const b = byFile.get(d.file.fileName);
      const where = b
        ? `README.md:${b.line + line}:${character + 1} (${b.name})`
        : `${relative(root, d.file.fileName)}:${line + 1}:${character + 1} (checked with ${group.map((g) => g.name).join(", ")})`;
      console.error(`${where}: error TS${d.code}: ${message}`);
    }
  }
  const summary = `${checked.length} README blocks type-checked (${programs.filter((p) => p.blocks.length).length} programs), ${proxies.length} proxy snippets left to the proxies suite (${proxies.join(", ")}), ${Object.keys(SKIP).length} skipped`;
  if (canaryErrors === 0) {
    console.error(`the canary (${relative(root, canary)}, a misspelt option) type-checks: this check sees no errors, so its pass would mean nothing`);
    process.exit(1);
  }
  if (errors) {
    console.error(`${errors} type errors in README.md's examples; ${summary}. The files: ${relative(root, out)}/`);
    process.exit(1);
  }
  console.log(summary);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
