// The deepest paths through the wasm, at and past the 64-level bound on inputs: converting JS values,
// validating against a recursive schema, decoding error bodies. The wasm's stack is 256 KiB
// (.cargo/config.toml); a stack overflow would trap and kill the module, so each case is followed
// by a call that must still work.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { setup, teardown } from "./support/env.mjs";

let server, browser, page;
before(async () => ({ server, browser, page } = await setup()));
after(() => teardown({ server, browser }));

const alive = () => page.evaluate(() => genwire.validate({ type: "string" }, 1).length);

test("a recursive schema checks an input nested 63 levels deep; deeper ones are left to the server", async () => {
  const out = await page.evaluate(() => {
    const schema = { $ref: "#/components/schemas/Node", components: { schemas: { Node: { type: "object", properties: { child: { $ref: "#/components/schemas/Node" }, n: { type: "integer", maximum: 1 } } } } } };
    const nest = (depth) => { let v = { n: 5 }; for (let i = 0; i < depth; i++) v = { child: v }; return v; };
    const run = (d) => { try { return genwire.validate(schema, nest(d)).map((i) => `${i.type}@${i.loc.length}`); } catch (e) { return `threw ${e.kind ?? e.name}: ${e.message}`; } };
    return { ok: run(62), deep: run(70), huge: run(5000) };
  });
  assert.deepEqual(out.ok, ["less_than_equal@64"]);
  // Past the bound the client can't read the input, so it claims nothing (the server judges).
  assert.deepEqual(out.deep, []);
  assert.deepEqual(out.huge, []);
  assert.equal(await alive(), 1);
});

test("error bodies nested far past the bound decode, and the module lives on", async () => {
  const out = await page.evaluate(() => {
    const nest = (depth) => { let v = "leaf"; for (let i = 0; i < depth; i++) v = { detail: [v] }; return v; };
    return [60, 64, 200, 5000].map((d) => {
      const e = genwire.decodeError({ status: 422, headers: {}, body: nest(d) });
      return `${e.kind}/${e.category}`;
    });
  });
  assert.equal(out.length, 4);
  for (const kind of out) assert.match(kind, /^(validation|api)\//);
  assert.equal(await alive(), 1);
});

test("a client call with an input nested 3000 levels deep ends in a typed error, and the module lives on", async () => {
  const out = await page.evaluate(async () => {
    let v = { x: 1 };
    for (let i = 0; i < 3000; i++) v = { a: v };
    const c = genwire.createClient(); // validation on: the input is read into the wasm
    return c.queue.submit("fal-ai/flux/dev", { input: { prompt: "deep", extra: v } }).then(() => "sent", (e) => `${e.kind}: ${e.message}`);
  });
  // The client leaves it to the server, whose 422 decodes as usual.
  assert.match(out, /^validation: .*recursion limit/);
  assert.equal(await alive(), 1);
});
