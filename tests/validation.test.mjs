// Client-side validation in Chromium: the corpus (expected issues from pydantic), a sample of the
// differential test's inputs through the browser build, the simulator's 422 for the same inputs,
// what a browser sends (lone surrogates, undefined, toJSON), the one shared schema fetch, and a
// schema that can't be had.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { setup, teardown, uniquePrompt } from "./support/env.mjs";

const corpus = JSON.parse(readFileSync(new URL("./validation/corpus.json", import.meta.url)));
const docOf = (endpoint) =>
  JSON.parse(readFileSync(new URL(`../server/src/sim/schemas/${endpoint.replaceAll("/", "__")}.json`, import.meta.url)));

let server, browser, page;
before(async () => ({ server, browser, page } = await setup(["--latency-ms", "200", "--queue-depth", "0"])));
after(() => teardown({ server, browser }));

/** Issues as the corpus writes them: without genwire's derived `field` and `hint`. */
const bare = (issues) => issues.map(({ field, hint, url, ...rest }) => rest);

/** Deep equality with numbers compared as numbers. */
function same(a, b) {
  if (typeof a === "number" && typeof b === "number") return a === b;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (a && b && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => same(a[k], b[k]));
  }
  return a === b;
}

describe("the corpus in Chromium", () => {
  test(`all ${corpus.length} cases with the pure validate(schema, input)`, async () => {
    const docs = Object.fromEntries([...new Set(corpus.map((c) => c.endpoint))].map((e) => [e, docOf(e)]));
    const results = await page.evaluate(({ corpus, docs }) => corpus.map((c) => genwire.validate(docs[c.endpoint], c.input, c.endpoint)), { corpus, docs });
    const wrong = corpus.filter((c, i) => !same(bare(results[i]), c.issues)).map((c) => c.name);
    assert.deepEqual(wrong, []);
    assert.ok(corpus.length >= 40);
  });

  test("client.validate loads each endpoint's schema through the proxy and agrees", async () => {
    const results = await page.evaluate((corpus) => {
      const client = genwire.createClient();
      return Promise.all(corpus.map((c) => client.validate(c.endpoint, c.input)));
    }, corpus);
    const wrong = corpus.filter((c, i) => !same(bare(results[i]), c.issues)).map((c) => c.name);
    assert.deepEqual(wrong, []);
  });
});

describe("the differential test's inputs through the browser build", () => {
  test("a sample gives exactly the native core's issues (which the differential test compared with pydantic)", async () => {
    const dir = new URL("../target/differential/", import.meta.url);
    if (!existsSync(new URL("native.json", dir))) {
      execFileSync("bash", ["scripts/differential.sh"], { cwd: fileURLToPath(new URL("..", import.meta.url)), stdio: "inherit" });
    }
    const data = JSON.parse(readFileSync(new URL("cases.json", dir)));
    const native = JSON.parse(readFileSync(new URL("native.json", dir)));
    assert.equal(native.length, data.cases.length);
    const docs = Object.fromEntries(Object.entries(data.schemas).map(([name, s]) =>
      [name, { doc: JSON.parse(readFileSync(new URL(`../${s.file}`, import.meta.url))), endpoint: s.endpoint }]));
    // Every 8th input, and every one with a lone surrogate (a JS string can hold one; the
    // browser build must find it where the native run was told where it is).
    const picked = data.cases.map((c, i) => ({ c, want: native[i].issues })).filter(({ c }, i) => i % 8 === 0 || c.lone_surrogates.length > 0);
    assert.ok(picked.length >= 300, `${picked.length} inputs`);
    const got = await page.evaluate(({ docs, cases }) => {
      // Lone surrogates as U+FFFD, the form the native run reports them in.
      const wf = (v) => typeof v === "string" ? v.toWellFormed() : Array.isArray(v) ? v.map(wf)
        : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, wf(x)])) : v;
      return cases.map((c) => {
        const d = docs[c.schema];
        return wf(genwire.validate(d.doc, JSON.parse(c.input_json), d.endpoint ?? undefined));
      });
    }, { docs, cases: picked.map(({ c }) => ({ schema: c.schema, input_json: c.input_json })) });
    const wrong = picked.flatMap(({ c, want }, i) => same(got[i], want) ? [] : [`${c.schema} / ${c.label}: ${c.input_json}\n  native ${JSON.stringify(want)}\n  browser ${JSON.stringify(got[i])}`]);
    assert.deepEqual(wrong, []);
    assert.ok(picked.some(({ c }) => c.lone_surrogates.length > 0) && got.some((g) => g.some((i) => i.type === "string_unicode")));
  });

  test("the acceptance inputs: form values pass, a null enum is one_of, a relative HttpUrl is url_parsing", async () => {
    const flux = docOf("fal-ai/flux/dev");
    const pixverse = JSON.parse(readFileSync(new URL("./validation/fal-schemas/PixverseV35TextToVideo.json", import.meta.url)));
    const kling = JSON.parse(readFileSync(new URL("./validation/fal-schemas/KlingVideoV21MasterImageToVideo.json", import.meta.url)));
    const out = await page.evaluate(({ flux, pixverse, kling }) => ({
      form: [{ num_images: "2" }, { sync_mode: "true" }, { guidance_scale: " 4 " }].map((x) => genwire.validate(flux, { prompt: "a cat", ...x }, "fal-ai/flux/dev")),
      aspect: genwire.validate(pixverse, { prompt: "a", aspect_ratio: null }),
      url: genwire.validate(kling, { prompt: "a", image_url: "abc" }),
    }), { flux, pixverse, kling });
    assert.deepEqual(out.form, [[], [], []]);
    assert.deepEqual(out.aspect.map((i) => [i.field, i.type, i.msg, i.ctx]), [["aspect_ratio", "one_of", "Input should be '16:9', '4:3', '1:1', '3:4' or '9:16'", { expected: ["16:9", "4:3", "1:1", "3:4", "9:16"] }]]);
    assert.deepEqual(out.url.map((i) => [i.field, i.type, i.ctx]), [["image_url", "url_parsing", { error: "relative URL without a base" }]]);
  });

  test("what JSON.stringify sends is what is judged: undefined keys dropped, toJSON applied, NaN as null", async () => {
    const zoo = docOf("genwire/schema-zoo");
    const flux = docOf("fal-ai/flux/dev");
    const out = await page.evaluate(({ zoo, flux }) => ({
      // `undefined` is not sent at all: not a null for a required or non-nullable field.
      undef: genwire.validate(zoo, { prompt: "hello", steps: 5, cfg: undefined, tags: undefined }),
      // A Date is sent as its ISO string (24 characters): a string where a string is wanted.
      date: genwire.validate(zoo, { prompt: new Date(0), steps: 5 }),
      late: genwire.validate(zoo, { prompt: "hello", steps: 5, note: new Date(0) }).map((i) => [i.field, i.type, i.input]),
      nan: genwire.validate(zoo, { prompt: "hello", steps: NaN }).map((i) => [i.field, i.type, i.input]),
      // A lone surrogate where pydantic reads the characters; a plain str takes it.
      lone: genwire.validate(zoo, { prompt: "ab\ud800cd", steps: 5, style: "\udc00" }).map((i) => [i.field, i.type]),
      plain: genwire.validate(flux, { prompt: "ab\ud800cd" }, "fal-ai/flux/dev"),
      // An own "__proto__" field (JSON.parse makes one; JSON.stringify sends it) is a field like any
      // other: judged as one, never the prototype of the copy the validator reads.
      protoExtra: genwire.validate(flux, JSON.parse('{"__proto__": [1], "prompt": "a cat"}'), "fal-ai/flux/dev"),
      protoField: genwire.validate(JSON.parse('{"type": "object", "properties": {"__proto__": {"type": "integer"}}}'), JSON.parse('{"__proto__": "x"}')).map((i) => [i.field, i.type]),
    }), { zoo, flux });
    assert.deepEqual(out.undef, []);
    assert.deepEqual(out.date, []);
    assert.deepEqual(out.late, [["note", "sequence_too_long", "1970-01-01T00:00:00.000Z"]]);
    assert.deepEqual(out.nan, [["steps", "int_type", null]]);
    assert.deepEqual(out.lone, [["prompt", "string_unicode"], ["style", "string_unicode"]]);
    assert.deepEqual(out.plain, [], "a str without constraints takes a lone surrogate");
    assert.deepEqual(out.protoExtra, [], "an extra __proto__ field is left alone, as any extra field");
    assert.deepEqual(out.protoField, [["__proto__", "int_type"]]);
  });

  test("an input wider or deeper than the client reads whole is left to the server: never a cut copy judged", async () => {
    // A Value holds 10,000 items and 64 levels (proto::value); past that the validator would see a
    // cut copy, and a cut list fails a minItems the whole one meets.
    const schema = { type: "object", properties: { xs: { type: "array", minItems: 10001, items: { type: "integer" } }, n: { type: "integer" } } };
    const out = await page.evaluate((schema) => {
      const ints = (k) => Array.from({ length: k }, (_, i) => i);
      let deep = 1;
      for (let i = 0; i < 140; i++) deep = { d: deep };
      return {
        // Within the bounds, judged as always.
        short: genwire.validate(schema, { xs: ints(3) }).map((i) => i.type),
        wrongWithin: genwire.validate(schema, { xs: ints(3), n: "x" }).map((i) => i.type),
        // 10,001 items meet minItems; the client must not say they don't.
        wide: genwire.validate(schema, { xs: ints(10001) }),
        // Beyond the bounds the client doesn't judge at all (the server does): no issue, even a real one.
        wideAndWrong: genwire.validate(schema, { xs: ints(10001), n: "x" }),
        deep: genwire.validate({ type: "object", properties: { n: { type: "integer" } } }, { n: "x", deep }),
        deepWithin: genwire.validate({ type: "object", properties: { n: { type: "integer" } } }, { n: "x", deep: { d: { d: 1 } } }).map((i) => i.type),
      };
    }, schema);
    assert.deepEqual(out.short, ["sequence_too_short"]);
    assert.deepEqual(out.wrongWithin, ["sequence_too_short", "int_type"]);
    assert.deepEqual(out.wide, []);
    assert.deepEqual(out.wideAndWrong, []);
    assert.deepEqual(out.deep, []);
    assert.deepEqual(out.deepWithin, ["int_type"]);
  });
});

describe("the simulator's 422 decodes to the issues the client finds", () => {
  const serverCases = corpus.filter((c) => !c.client_only);
  test(`${serverCases.length} corpus inputs sent with validation off`, async (t) => {
    // Compared here is what the 422 says, not when it comes: the variant that answers it at submit
    // (fal accepts the input and answers the 422 from result; tests/conformance.test.mjs).
    await server.config({ validation: "submit" });
    t.after(() => server.sim("/__sim/config", undefined, "DELETE"));
    const out = await page.evaluate(async (cases) => {
      const client = genwire.createClient({ validation: false, retry: false, circuitBreaker: false });
      const local = genwire.createClient();
      const rows = [];
      for (const c of cases) {
        const mine = await local.validate(c.endpoint, c.input);
        // The simulator's image-to-image really downloads image_url (only its own files): a valid
        // input gets a local image of the right size, so what is compared is the validation.
        if (mine.length === 0 && c.endpoint.endsWith("image-to-image")) c.input = { ...c.input, image_url: `${location.origin}/sim/files/512x512-1-0000000000abcdef.png` };
        const isObject = c.input !== null && typeof c.input === "object" && !Array.isArray(c.input);
        // genwire refuses a non-object input before sending (config error), so those go
        // through the app's own fetch and decodeError.
        const send = isObject
          ? client.queue.submit(c.endpoint, { input: c.input })
          : fetch("/api/fal/proxy", {
              method: "POST",
              headers: { "x-fal-target-url": `https://queue.fal.run/${c.endpoint}`, "content-type": "application/json" },
              body: JSON.stringify(c.input),
            }).then(async (r) => { if (!r.ok) throw await genwire.decodeError(r); });
        const theirs = await send.then(
          () => ({ accepted: true, issues: [] }),
          (e) => ({ accepted: false, kind: e.kind, status: e.status, source: e.source, issues: e.issues }),
        );
        rows.push({ name: c.name, mine, theirs });
      }
      return rows;
    }, serverCases);
    for (const { name, mine, theirs } of out) {
      if (mine.length === 0) {
        assert.equal(theirs.accepted, true, `${name}: the server accepts what the client accepts`);
        continue;
      }
      assert.deepEqual([theirs.kind, theirs.status, theirs.source], ["validation", 422, "server"], name);
      assert.ok(same(bare(theirs.issues), bare(mine)), `${name}\n server ${JSON.stringify(bare(theirs.issues))}\n client ${JSON.stringify(bare(mine))}`);
    }
  });
});

describe("validation on every call", () => {
  test("valid inputs go out with no request beyond one shared schema fetch", async () => {
    const seen = [];
    const onRequest = (req) => { if (new URL(req.url()).pathname === "/api/fal/proxy") seen.push(req.headers()["x-fal-target-url"]); };
    const p = await browser.newPage();
    await p.goto(`${server.url}/sandbox.html`); // a page that makes no requests of its own (the demo does)
    await p.waitForSelector("body[data-ready=true]");
    p.on("request", onRequest);
    const prompts = [uniquePrompt("v1"), uniquePrompt("v2"), uniquePrompt("v3"), uniquePrompt("v4")];
    await p.evaluate(async (prompts) => {
      const client = genwire.createClient();
      // Three at once share the one fetch; a fourth later uses the cache.
      await Promise.all(prompts.slice(0, 3).map((prompt) => client.queue.submit("fal-ai/flux/dev", { input: { prompt, num_images: 2 } })));
      await client.queue.submit("fal-ai/flux/dev", { input: { prompt: prompts[3] } });
    }, prompts);
    await p.close();
    const schemaFetches = seen.filter((t) => t.startsWith("https://fal.ai/api/openapi/"));
    assert.deepEqual(schemaFetches, ["https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=fal-ai%2Fflux%2Fdev"]);
    assert.equal(seen.filter((t) => t === "https://queue.fal.run/fal-ai/flux/dev").length, 4);
    assert.equal(seen.length, 5, seen.join("\n"));
  });

  test("an invalid input is rejected like a server 422, marked as found on the client, and nothing is sent", async () => {
    const prompt = uniquePrompt("never sent");
    const before = (await server.log()).length;
    const e = await page.evaluate((prompt) => genwire.createClient().subscribe("fal-ai/flux/dev", {
      input: { prompt, image_size: "1920x1080", guidance_scale: 21, num_images: 9 },
    }).catch((e) => ({ name: e.name, kind: e.kind, category: e.category, status: e.status, source: e.source, retryable: e.retryable, message: e.message, issues: e.issues })), prompt);
    assert.deepEqual([e.name, e.kind, e.category, e.status, e.source, e.retryable], ["GenwireError", "validation", "validation", 422, "client", false]);
    // image_size is a union: each member reports, under its label in `loc` (not in `field`).
    assert.deepEqual(e.issues.map((i) => [i.field, i.type, i.loc.length]), [["image_size", "dict_type", 3], ["image_size", "one_of", 3], ["guidance_scale", "less_than_equal", 2], ["num_images", "less_than_equal", 2]]);
    assert.deepEqual(e.issues[0].loc, ["body", "image_size", "ImageSize"]);
    assert.equal(e.issues[1].hint, 'Use one of the presets, or give the size as an object: {"width": 1920, "height": 1080}');
    assert.deepEqual(e.issues[1].ctx.expected, ["square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9"]);
    assert.equal(e.message, "Input should be a valid dictionary or object to extract fields from (and 3 more)");
    const sent = (await server.log()).slice(before).filter((x) => x.step === "submit");
    assert.deepEqual(sent, []);
  });

  test("a local path as image_url is caught before sending: upload first", async () => {
    const e = await page.evaluate(() => genwire.createClient().run("fal-ai/flux/dev/image-to-image", {
      input: { prompt: "x", image_url: "/Users/me/cat.png" },
    }).catch((e) => e.issues.map((i) => [i.field, i.type, i.ctx.scheme])));
    assert.deepEqual(e, [["image_url", "invalid_url", "path"]]);
  });

  test("files are checked before any byte is sent: type, size, image dimensions", async () => {
    const prompt = uniquePrompt("small image");
    const before = (await server.log()).length;
    const out = await page.evaluate(async (prompt) => {
      const png = async (w, h) => {
        const c = new OffscreenCanvas(w, h);
        c.getContext("2d").fillRect(0, 0, w, h);
        return new File([await c.convertToBlob({ type: "image/png" })], `${w}x${h}.png`, { type: "image/png" });
      };
      const client = genwire.createClient({
        fileLimits: { "fal-ai/flux/dev/image-to-image": { image_url: { minWidth: 512, minHeight: 512, maxWidth: 2048, maxHeight: 2048, maxSize: 200000, types: ["image/png", "image/jpeg"] } } },
      });
      const ep = "fal-ai/flux/dev/image-to-image";
      const small = await client.subscribe(ep, { input: { prompt, image_url: await png(100, 80) } }).catch((e) => ({ kind: e.kind, source: e.source, issues: e.issues }));
      const fine = await client.validate(ep, { prompt, image_url: await png(600, 600) });
      const huge = await client.validate(ep, { prompt, image_url: await png(3000, 600) });
      const text = await client.validate(ep, { prompt, image_url: new File(["hi"], "notes.txt", { type: "text/plain" }) });
      const heavy = await client.validate(ep, { prompt, image_url: new File([new Uint8Array(300000)], "big.png", { type: "image/png" }) });
      return { small, fine, huge: huge.map((i) => [i.type, i.ctx]), text: text.map((i) => i.type), heavy: heavy.map((i) => [i.type, i.ctx]) };
    }, prompt);
    assert.deepEqual([out.small.kind, out.small.source], ["validation", "client"]);
    assert.deepEqual(out.small.issues.map((i) => [i.field, i.type, i.ctx, i.input]), [["image_url", "image_too_small", { min_height: 512, min_width: 512 }, "100x80.png"]]);
    assert.deepEqual(out.fine, []);
    assert.deepEqual(out.huge, [["image_too_large", { max_height: 2048, max_width: 2048 }]]);
    assert.deepEqual(out.text, ["unsupported_file_type"]);
    assert.deepEqual(out.heavy, [["file_too_large", { max_size: 200000 }]]);
    assert.deepEqual((await server.log()).slice(before).filter((e) => e.step === "submit"), [], "nothing was sent");
  });

  test("validate: false per call, or validation: false per client, sends the input as is", async (t) => {
    await server.config({ validation: "submit" }); // the server's 422 at once (fal's comes from result)
    t.after(() => server.sim("/__sim/config", undefined, "DELETE"));
    const prompt = uniquePrompt("unchecked");
    const out = await page.evaluate(async (prompt) => {
      const input = { prompt, num_images: 9 };
      const a = await genwire.createClient().queue.submit("fal-ai/flux/dev", { input, validate: false }).catch((e) => e.source);
      const b = await genwire.createClient({ validation: false }).queue.submit("fal-ai/flux/dev", { input }).catch((e) => e.source);
      return [a, b];
    }, prompt);
    assert.deepEqual(out, ["server", "server"], "the server judged both");
  });

  test("a schema the app gives is used without any fetch", async () => {
    const doc = docOf("fal-ai/flux/dev");
    const before = (await server.log()).length;
    const issues = await page.evaluate((doc) => {
      const client = genwire.createClient({ schemas: { "fal-ai/flux/dev": doc } });
      return client.validate("fal-ai/flux/dev", { prompt: 5 }).then((i) => i.map((x) => x.type));
    }, doc);
    assert.deepEqual(issues, ["string_type"]);
    assert.equal((await server.log()).slice(before).length, 0);
  });

  test("a schema that can't be loaded never blocks: the request goes out and the failure is reported", async () => {
    const prompt = uniquePrompt("no schema");
    const out = await page.evaluate(async (prompt) => {
      const events = [];
      const client = genwire.createClient({ schemas: { "fal-ai/flux/dev": "https://example.com/schema.json" }, onEvent: (e) => e.type === "schema" && events.push(e.error.kind) });
      const r = await client.queue.submit("fal-ai/flux/dev", { input: { prompt } }).then((s) => s.status, (e) => `rejected: ${e.kind}`);
      const v = await client.validate("fal-ai/flux/dev", { prompt }).then(() => "validated", (e) => e.kind);
      return { r, events, v };
    }, prompt);
    assert.equal(out.r, "IN_QUEUE");
    assert.deepEqual(out.events, ["api"], "reported once: the proxy refused the target");
    assert.equal(out.v, "api", "explicit validate says why it could not");
  });
});
