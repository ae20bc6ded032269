// Module start-up (fetch, compile/evaluate, init; a fresh browser context each run, so nothing is
// cached) and validation time per input.
import { readFileSync } from "node:fs";
import { benchPage, loadClient, stats } from "./harness.mjs";
import { root } from "./sizes.mjs";

export async function startup(browser, server, assets, runs) {
  const variants = {
    // Both bundles from the same static server, the way an app's bundler would ship them.
    genwire: (a) => import(`${a}/genwire.min.js?fresh=${Math.random()}`).then(async (m) => { await m.init(); m.createClient(); }),
    theirs: (a) => import(`${a}/fal-client.min.js?fresh=${Math.random()}`).then((m) => (m.createFalClient ? m : m.default).createFalClient({ proxyUrl: "/api/fal/proxy" })),
    // The package as published (js/index.js importing pkg/genwire.js, 3 requests), from the dev server.
    genwireUnbundled: () => import(`/js/index.js?fresh=${Math.random()}`).then(async (m) => { await m.init(); m.createClient(); }),
  };
  const out = {};
  for (const name of Object.keys(variants)) out[name] = [];
  for (let i = 0; i < runs; i++) {
    // Interleaved, so a burst of load on the machine hits every variant alike.
    for (const [name, fn] of Object.entries(variants)) {
      const { page, close } = await benchPage(browser, server);
      out[name].push(await page.evaluate(async ({ src, a }) => {
        const fn = eval(src); // eslint-disable-line no-eval
        const t0 = performance.now();
        await fn(a);
        return performance.now() - t0;
      }, { src: fn.toString(), a: assets.url }));
      await close();
    }
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, stats(v)]));
}

/** Validation of a flux-sized input: the pure function, and through a client (schema cached). */
export async function validation(browser, server, assets) {
  const { page, close } = await benchPage(browser, server);
  await loadClient(page, assets, "genwire");
  const doc = JSON.parse(readFileSync(`${root}server/src/sim/schemas/fal-ai__flux__dev.json`, "utf8"));
  const result = await page.evaluate(async (doc) => {
    const g = window.bench.lib;
    const input = { prompt: "a lighthouse on a cliff at dusk, oil painting, dramatic light", image_size: { width: 1024, height: 768 }, num_inference_steps: 28, seed: 42, guidance_scale: 3.5, num_images: 2, enable_safety_checker: true, output_format: "png" };
    const bad = { ...input, image_size: "1920x1080", guidance_scale: 25, num_images: 9 };
    const time = (fn, n) => {
      for (let i = 0; i < 200; i++) fn(); // warm up
      const t0 = performance.now();
      for (let i = 0; i < n; i++) fn();
      return ((performance.now() - t0) / n) * 1000; // µs per call
    };
    const pureValidUs = time(() => g.validate(doc, input, "fal-ai/flux/dev"), 2000);
    const client = g.createClient({ schemas: { "fal-ai/flux/dev": doc } });
    await client.validate("fal-ai/flux/dev", input);
    const n = 2000;
    let t0 = performance.now();
    for (let i = 0; i < n; i++) await client.validate("fal-ai/flux/dev", input);
    const clientValidUs = ((performance.now() - t0) / n) * 1000;
    t0 = performance.now();
    for (let i = 0; i < n; i++) await client.validate("fal-ai/flux/dev", bad);
    const clientInvalidUs = ((performance.now() - t0) / n) * 1000;
    return { pureValidUs, clientValidUs, clientInvalidUs, note: "pure: compiles the schema on every call; client: schema compiled once and cached" };
  }, doc);
  await close();
  return result;
}
