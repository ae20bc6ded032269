// The facts the JS files share with the Rust core: js/facts.js is generated from it (checked by
// `cargo test`), and the endpoint rules of js/diagnose.js follow the same table as the core's
// EndpointId (tests/facts/endpoint-ids.json, also checked natively). Node only, no browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { diagnose, parseEndpoint } from "../js/diagnose.js";
import { SECRET_NAMES } from "../js/facts.js";
import { keyLikeName } from "../js/errors.js";

const table = JSON.parse(readFileSync(new URL("./facts/endpoint-ids.json", import.meta.url)));

test("diagnose reads endpoint ids as the core does", () => {
  for (const c of table.cases) {
    if (c.error) assert.throws(() => parseEndpoint(c.id), (e) => e.name === "GenwireError" && e.kind === "config", `${JSON.stringify(c.id)} (${c.error})`);
    else assert.deepEqual(parseEndpoint(c.id), { full: c.full, app: c.app, alias: c.alias }, c.id);
  }
});

test("diagnose refuses every option name the core refuses", async () => {
  assert.ok(SECRET_NAMES.length >= 9);
  const isConfig = (spelled) => (e) => e.name === "GenwireError" && e.kind === "config" && e.message.includes(spelled);
  for (const name of SECRET_NAMES) {
    const spelled = name === "apikey" ? "apiKey" : name.toUpperCase();
    await assert.rejects(diagnose({ [spelled]: "k" }), isConfig(spelled));
  }
  for (const name of ["accessToken", "access_token", "falKey", "apiToken", "x-fal-key"]) await assert.rejects(diagnose({ [name]: "k" }), isConfig(name));
  await assert.rejects(diagnose({ proxyUrl: "/api/fal/proxy?fal_key=abc" }), isConfig("fal_key"));
  await assert.rejects(diagnose({ realtimeUrl: "wss://x.example/ws?token=abc" }), isConfig("token"));
});

test("the key-name rule of js/errors.js is the core's (the same table, tests/facts/key-names.json)", () => {
  const t = JSON.parse(readFileSync(new URL("./facts/key-names.json", import.meta.url)));
  for (const name of t.secret) assert.equal(keyLikeName(name), true, name);
  for (const name of t.plain) assert.equal(keyLikeName(name), false, name);
});
