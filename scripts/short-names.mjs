// Short import names (docs/size.md, "Fourth pass"): wasm-bindgen names each JS import
// `__wbg_<method>_<16 hex digits>`, in the wasm and in the glue, which deflate can't shrink (the
// hash). This renames each to a short one in the glue and in every wasm it runs (the full and the
// lean core share one glue). Checked: each name must be an import of every module and a key of the
// glue exactly once, else nothing is written (a wasm-bindgen that shapes its glue otherwise fails
// here, loudly). Run by scripts/build.sh on freshly built files only.
//
//   node scripts/short-names.mjs GLUE.js MODULE_bg.wasm [MORE_bg.wasm ...]
import { readFileSync, writeFileSync } from "node:fs";

const [glueFile, ...wasmFiles] = process.argv.slice(2);
const leb = (buf, p) => {
  let r = 0, s = 0, b;
  do { b = buf[p++]; r += (b & 0x7f) * 2 ** s; s += 7; } while (b & 0x80);
  return [r, p];
};
const uleb = (n) => {
  const out = [];
  do { let b = n & 0x7f; n = Math.floor(n / 128); if (n) b |= 0x80; out.push(b); } while (n);
  return Buffer.from(out);
};
const str = (s) => Buffer.concat([uleb(Buffer.byteLength(s)), Buffer.from(s)]);

/** The import section of a module: its bounds and entries (module, field, the rest's bytes). */
function imports(buf) {
  let p = 8;
  while (p < buf.length) {
    const at = p++;
    let size;
    [size, p] = leb(buf, p);
    const end = p + size;
    if (buf[at] === 2) {
      let n;
      [n, p] = leb(buf, p);
      const list = [];
      for (let i = 0; i < n; i++) {
        let len;
        [len, p] = leb(buf, p);
        const module = buf.subarray(p, p + len).toString();
        p += len;
        [len, p] = leb(buf, p);
        const field = buf.subarray(p, p + len).toString();
        p += len;
        const from = p;
        const kind = buf[p++];
        if (kind === 0) [, p] = leb(buf, p);
        else if (kind === 1) { p++; const [f, q] = leb(buf, p); [, p] = leb(buf, q); if (f & 1) [, p] = leb(buf, p); }
        else if (kind === 2) { const [f, q] = leb(buf, p); [, p] = leb(buf, q); if (f & 1) [, p] = leb(buf, p); }
        else if (kind === 3) p += 2;
        else if (kind === 4) { p++; [, p] = leb(buf, p); }
        else throw new Error(`short-names: unknown import kind ${kind}`);
        list.push({ module, field, rest: buf.subarray(from, p) });
      }
      return { at, end, list };
    }
    p = end;
  }
  throw new Error("short-names: no import section");
}

let glue = readFileSync(glueFile, "utf8");
const mods = wasmFiles.map((f) => ({ f, buf: readFileSync(f) })).map((m) => ({ ...m, sec: imports(m.buf) }));
const hashed = /^__wb(g|indgen)_\w+_[0-9a-f]{16}$/;
const names = [...new Set(mods[0].sec.list.map((e) => e.field).filter((n) => hashed.test(n)))];
const short = new Map(names.map((n, i) => [n, `_${i.toString(36)}`]));
for (const m of mods) {
  const own = m.sec.list.map((e) => e.field).filter((n) => hashed.test(n));
  const extra = own.filter((n) => !short.has(n));
  if (extra.length) throw new Error(`short-names: ${m.f} imports ${extra.join(", ")}, which ${wasmFiles[0]} doesn't`);
}
for (const [n, s] of short) {
  const key = new RegExp(`^(\\s+)${n}:`, "gm");
  const found = glue.match(key)?.length ?? 0;
  if (found !== 1) throw new Error(`short-names: ${n} is a key of ${glueFile} ${found} times, not once`);
  if (glue.includes(`${s}:`) && new RegExp(`^\\s+${s}:`, "m").test(glue)) throw new Error(`short-names: ${s} is taken in ${glueFile}`);
  glue = glue.replace(key, `$1${s}:`);
  if (glue.includes(n)) throw new Error(`short-names: ${n} appears in ${glueFile} beside its key`);
}
for (const m of mods) {
  const body = Buffer.concat([uleb(m.sec.list.length), ...m.sec.list.map((e) => Buffer.concat([str(e.module), str(short.get(e.field) ?? e.field), e.rest]))]);
  writeFileSync(m.f, Buffer.concat([m.buf.subarray(0, m.sec.at), Buffer.from([2]), uleb(body.length), body, m.buf.subarray(m.sec.end)]));
}
writeFileSync(glueFile, glue);
console.log(`short-names: ${short.size} imports renamed in ${[glueFile, ...wasmFiles].join(", ")}`);
