// Loading the wasm: nothing at import, once on first use, and `init(urlOrBytes)` for setups whose
// bundler can't resolve the default URL: a URL string, a URL, a Response, bytes, a compiled Module.
// The first call picks the core (docs/size.md, "The split"): the lean one when its client has
// `validation: false`, else the full one; a lean page's first validation brings the validator module.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { blankPage, launchBrowser, startServer } from "./support/env.mjs";

let server, browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  server?.close();
});

/** A blank page of the server's origin, recording every .wasm request. */
async function blank() {
  const { page, fetched } = await blankPage(browser, server, (u) => u.pathname.endsWith(".wasm"));
  return { page, wasm: fetched };
}

const SCHEMA = { type: "object", properties: { n: { type: "integer", maximum: 3 } } };

test("importing loads no wasm; the first call loads it once, from next to the glue", async () => {
  const { page, wasm } = await blank();
  await page.evaluate(async () => { window.g = await import("/js/index.js"); window.c = window.g.createClient(); });
  assert.deepEqual(wasm, [], "import and createClient fetch nothing");
  const issues = await page.evaluate(async (schema) => {
    const c = window.g.createClient({ schemas: { "a/b": schema } });
    await Promise.all([c.validate("a/b", { n: 9 }), c.validate("a/b", { n: 1 })]);
    return c.validate("a/b", { n: 9 });
  }, SCHEMA);
  assert.deepEqual(issues.map((i) => i.type), ["less_than_equal"]);
  assert.deepEqual(wasm, ["/pkg/genwire_bg.wasm"], "fetched once");
  await page.close();
});

/** A schema with something to say about most kinds of input. */
const RICH = {
  type: "object",
  required: ["prompt"],
  properties: {
    prompt: { type: "string", maxLength: 5 },
    n: { type: "integer", minimum: 1, maximum: 4 },
    size: { enum: ["square", "portrait"] },
    image_url: { type: "string", format: "uri" },
    tags: { type: "array", minItems: 2, items: { type: "string" } },
    image_size: { type: "object", properties: { width: { type: "integer" }, height: { type: "integer" } } },
  },
};
const BAD = [{ n: 9, size: "wide", image_url: "/local.png", tags: [1], image_size: "512x512" }, { prompt: "far too long", n: 2.5 }, { prompt: "ok", n: 2 }];

test("a first call that doesn't validate loads the lean core; the first validation brings the validator module, with the same verdicts", async () => {
  const { page, wasm } = await blank();
  const lean = await page.evaluate(async ({ schema, inputs }) => {
    const g = await import("/js/index.js");
    const c = g.createClient({ validation: false, schemas: { "a/b": schema } });
    const r = await c.subscribe("fal-ai/flux/dev", { input: { prompt: "lean" } });
    const before = performance.getEntriesByType("resource").filter((e) => e.name.endsWith(".wasm")).length;
    const issues = [];
    for (const input of inputs) issues.push(await c.validate("a/b", input));
    // Submitting with validation on: refused by the validator module, before anything is sent.
    const refused = await c.queue.submit("a/b", { input: inputs[0], validate: true }).then(() => null, (e) => ({ kind: e.kind, issues: e.issues.length }));
    await g.init(); // the lean core stays; init makes the pure validate usable
    const pure = inputs.map((i) => g.validate(schema, i));
    return { images: r.data.images.length, before, issues, refused, pure };
  }, { schema: RICH, inputs: BAD });
  assert.ok(lean.images >= 1);
  assert.equal(lean.before, 1, "only the core before validating");
  assert.deepEqual(wasm, ["/pkg/genwire_lean_bg.wasm", "/pkg/genwire_validate_bg.wasm"]);
  assert.deepEqual(lean.refused, { kind: "validation", issues: lean.issues[0].length });
  assert.deepEqual(lean.pure, lean.issues);
  assert.ok(lean.issues[0].length >= 5 && lean.issues[1].length >= 2 && lean.issues[2].length === 0, JSON.stringify(lean.issues));
  await page.close();

  // The same inputs on the full core: the very same issues.
  const other = await blank();
  const full = await other.page.evaluate(async ({ schema, inputs }) => {
    const g = await import("/js/index.js");
    const c = g.createClient({ schemas: { "a/b": schema } });
    const issues = [];
    for (const input of inputs) issues.push(await c.validate("a/b", input));
    return issues;
  }, { schema: RICH, inputs: BAD });
  assert.deepEqual(other.wasm, ["/pkg/genwire_bg.wasm"]);
  assert.deepEqual(full, lean.issues);
  await other.page.close();
});

test("the client's validation option picks the core of a first upload", async () => {
  for (const [options, expected] of [[{ validation: false }, "/pkg/genwire_lean_bg.wasm"], [{}, "/pkg/genwire_bg.wasm"]]) {
    const { page, wasm } = await blank();
    await page.evaluate(async (options) => {
      const g = await import("/js/index.js");
      await g.createClient(options).storage.upload(new Blob(["x"], { type: "text/plain" }));
    }, options);
    assert.deepEqual(wasm, [expected], JSON.stringify(options));
    await page.close();
  }
});

for (const [how, make] of [
  ["a URL string", "'/pkg/genwire_bg.wasm?how=string'"],
  ["a URL object", "new URL('/pkg/genwire_bg.wasm?how=url', location.href)"],
  ["a Response", "await fetch('/pkg/genwire_bg.wasm?how=response')"],
  ["bytes", "await (await fetch('/pkg/genwire_bg.wasm?how=bytes')).arrayBuffer()"],
  ["a compiled WebAssembly.Module", "await WebAssembly.compileStreaming(fetch('/pkg/genwire_bg.wasm?how=module'))"],
]) {
  test(`init() with ${how}`, async () => {
    const { page, wasm } = await blank();
    const out = await page.evaluate(async ({ make, schema }) => {
      const g = await import("/js/index.js");
      const input = await new Function(`return (async () => ${make})()`)();
      await g.init(input);
      await g.init(); // already loaded: a no-op
      return g.validate(schema, { n: 9 }).map((i) => i.type);
    }, { make, schema: SCHEMA });
    assert.deepEqual(out, ["less_than_equal"]);
    assert.equal(wasm.length, 1, `one wasm request: ${wasm}`);
    assert.match(wasm[0], /\?how=/, "the caller's, not the default URL");
    await page.close();
  });
}

test("a failed init rejects with the cause, and a later init can succeed", async () => {
  const { page } = await blank();
  const out = await page.evaluate(async () => {
    const g = await import("/js/index.js");
    const first = await g.init("/nope.wasm").then(() => "loaded", (e) => String(e));
    await g.init("/pkg/genwire_bg.wasm");
    return { first, ok: g.validate({ type: "string" }, 1).length };
  });
  assert.notEqual(out.first, "loaded");
  assert.equal(out.ok, 1);
  await page.close();
});

test("decodeError before the module is loaded: a Proxy of a Response loads it and resolves typed; a trap that throws never escapes", async () => {
  const { page } = await blank();
  const out = await page.evaluate(async () => {
    const g = await import("/js/index.js");
    const describe = (e) => ({ name: e?.name, kind: e?.kind, message: String(e?.message ?? e) });
    const sync = (v) => { try { return { returned: g.decodeError(v) }; } catch (e) { return { threw: describe(e) }; } };
    // Not a Response (its getPrototypeOf trap throws): the documented "init first" config error, not the trap's.
    const trapped = sync(new Proxy(new Response("x", { status: 500 }), { getPrototypeOf() { throw new Error("trap proto"); } }));
    // A Proxy of a Response: the module loads, and the answer says it can't be read.
    const proxied = sync(new Proxy(new Response("x", { status: 500 }), {}));
    return { trapped, proxied: proxied.returned ? describe(await proxied.returned) : proxied };
  });
  assert.deepEqual([out.trapped.threw?.name, out.trapped.threw?.kind], ["GenwireError", "config"], JSON.stringify(out.trapped));
  assert.match(out.trapped.threw.message, /init\(\)/);
  assert.deepEqual([out.proxied.name, out.proxied.kind], ["GenwireError", "config"], JSON.stringify(out.proxied));
  assert.match(out.proxied.message, /can't be read/);
  await page.close();
});
