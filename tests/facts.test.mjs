// The facts the JS files share with the Rust core: js/facts.js is generated from it (checked by
// `cargo test`), and the endpoint rules of js/diagnose.js follow the same table as the core's
// EndpointId (tests/facts/endpoint-ids.json, also checked natively). Node only, no browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { diagnose, parseEndpoint } from "../js/diagnose.js";
import { SECRET_NAMES } from "../js/facts.js";

const table = JSON.parse(readFileSync(new URL("./facts/endpoint-ids.json", import.meta.url)));

test("diagnose reads endpoint ids as the core does", () => {
  for (const c of table.cases) {
    if (c.error) assert.throws(() => parseEndpoint(c.id), TypeError, `${JSON.stringify(c.id)} (${c.error})`);
    else assert.deepEqual(parseEndpoint(c.id), { full: c.full, app: c.app, alias: c.alias }, c.id);
  }
});

test("diagnose refuses every option name the core refuses", async () => {
  assert.ok(SECRET_NAMES.length >= 9);
  for (const name of SECRET_NAMES) {
    const spelled = name === "apikey" ? "apiKey" : name.toUpperCase();
    await assert.rejects(diagnose({ [spelled]: "k" }), (e) => e instanceof TypeError && e.message.includes(spelled));
  }
});
