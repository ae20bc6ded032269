// Writes every answer of corpus.json as a seed of the decode_error fuzz target
// (fuzz/seeds/decode_error/corpus_<name>), in the target's input format: status (u16 BE), a call
// byte (0: submit), the 9 header values the target knows each followed by 0xFF, then the body.
// `cargo test -p genwire` checks the seeds match the corpus; run this after changing it:
//   node tests/errors/write-fuzz-seeds.mjs
import { readFileSync, writeFileSync } from "node:fs";

export const HEADERS = [
  "x-fal-retryable", "x-fal-error-type", "x-fal-request-id", "retry-after", "retry-after-ms",
  "x-ratelimit-reset", "ratelimit-reset", "x-fal-request-timeout-type", "content-type",
];

export function seedBytes(c) {
  const lower = Object.fromEntries(Object.entries(c.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const parts = [Buffer.from([c.status >> 8, c.status & 0xff, 0])];
  for (const h of HEADERS) parts.push(Buffer.from(lower[h] ?? "", "utf8"), Buffer.from([0xff]));
  parts.push(Buffer.from(c.body, "utf8"));
  return Buffer.concat(parts);
}

export const seedName = (c) => `corpus_${c.name.replace(/[^A-Za-z0-9_-]/g, "_")}`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const corpus = JSON.parse(readFileSync(new URL("./corpus.json", import.meta.url), "utf8"));
  const dir = new URL("../../fuzz/seeds/decode_error/", import.meta.url);
  for (const c of corpus) writeFileSync(new URL(seedName(c), dir), seedBytes(c));
  console.log(`wrote ${corpus.length} seeds to fuzz/seeds/decode_error/`);
}
