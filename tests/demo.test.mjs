// The demo as a person uses it: open the page, type a prompt, Generate, see the image.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { launchBrowser, startServer } from "./support/env.mjs";

const shots = new URL("../test-results/", import.meta.url).pathname;
let server, browser;
before(async () => {
  server = await startServer(["--latency-ms", "800", "--queue-depth", "2", "--queue-step-ms", "300"]);
  browser = await launchBrowser();
  mkdirSync(shots, { recursive: true });
});
after(async () => {
  await browser?.close();
  server?.close();
});

test("generate an image in the demo, with live queue status", async () => {
  const page = await browser.newPage({ viewport: { width: 1000, height: 1100 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(server.url);
  await page.fill("#prompt", "a red fox in fresh snow, watercolor");
  await page.fill("#image_size", "square_hd");
  await page.click("#generate-button");

  // Live status: the queue phase shows up before the result.
  await page.waitForSelector("#phase.queued", { timeout: 5000 });
  await page.waitForSelector("#phase.running", { timeout: 5000 });
  await page.waitForSelector("#result-card", { timeout: 15000 });
  const img = await page.waitForFunction(() => {
    const i = document.getElementById("image");
    return i.complete && i.naturalWidth > 0 ? { w: i.naturalWidth, h: i.naturalHeight } : null;
  }, null, { timeout: 10000 });
  assert.deepEqual(await img.jsonValue(), { w: 1024, h: 1024 });
  assert.equal(await page.textContent("#phase"), "done");
  assert.notEqual(await page.textContent('[data-stat="calls"]'), "0", "the live stats counted the calls");
  assert.ok((await page.$$("#logs li")).length > 0, "logs were shown");

  // The picture has real content, not a blank canvas: sample its pixels.
  const distinct = await page.evaluate(() => {
    const i = document.getElementById("image");
    const c = Object.assign(document.createElement("canvas"), { width: 64, height: 64 });
    const g = c.getContext("2d");
    g.drawImage(i, 0, 0, 64, 64);
    const d = g.getImageData(0, 0, 64, 64).data;
    const colors = new Set();
    for (let p = 0; p < d.length; p += 4) colors.add(`${d[p] >> 4},${d[p + 1] >> 4},${d[p + 2] >> 4}`);
    return colors.size;
  });
  assert.ok(distinct > 20, `image has ${distinct} distinct colors`);
  await page.screenshot({ path: `${shots}demo-generated.png`, fullPage: true });
  assert.deepEqual(errors, []);
});

test("validation as you type shows each issue on its field and blocks Generate", async () => {
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => document.getElementById("validity").textContent === "" && !document.getElementById("generate-button").disabled);
  await page.fill("#image_size", "1920x1080");
  await page.fill("#guidance_scale", "25");
  await page.waitForFunction(() => document.getElementById("validity").textContent.startsWith("2 inputs"));
  assert.match(await page.textContent("label:has(#image_size) .field-issue"), /^Input should be 'square_hd'.*\{"width": 1920, "height": 1080\}$/s);
  assert.equal(await page.textContent("label:has(#guidance_scale) .field-issue"), "Input should be less than or equal to 20");
  assert.equal(await page.isDisabled("#generate-button"), true);
  await page.screenshot({ path: `${shots}demo-validation.png` });
  await page.fill("#image_size", "square");
  await page.fill("#guidance_scale", "7.5");
  await page.waitForFunction(() => document.getElementById("validity").textContent === "");
  assert.equal(await page.isDisabled("#generate-button"), false);
  assert.equal(await page.locator("label:has(#image_size) .field-issue").count(), 0);
});

test("the realtime section streams results and reconnects after a dropped socket", async () => {
  const page = await browser.newPage({ viewport: { width: 1000, height: 1400 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(server.url);
  assert.equal(await page.textContent("#rt-status"), "idle", "no socket until the first input");
  await page.click("#rt-sweep");
  await page.waitForFunction(() => document.getElementById("rt-status").textContent === "open");
  await page.waitForFunction(() => document.getElementById("rt-image").naturalWidth === 256);
  // Every text the status pill shows, recorded as it changes: a quick reconnect may show
  // "reconnecting" for less than a frame, which polling for it could miss on a loaded machine.
  await page.evaluate(() => {
    const pill = document.getElementById("rt-status");
    window.__rtSeen = [];
    new MutationObserver(() => window.__rtSeen.push(pill.textContent)).observe(pill, { childList: true, characterData: true, subtree: true });
  });
  await page.click("#rt-drop");
  await page.waitForFunction(() => window.__rtSeen.some((t) => t.startsWith("reconnecting")), null, { timeout: 5000 });
  await page.waitForFunction(() => document.getElementById("rt-status").textContent === "open", null, { timeout: 5000 });
  // The sweep goes on at ~15 inputs a second; results keep coming after the reconnect.
  const counts = async () => (await page.textContent("#rt-counts")).match(/\d+/g).map(Number);
  const [, before] = await counts();
  await page.waitForFunction((n) => Number(document.getElementById("rt-counts").textContent.match(/\d+/g)[1]) > n + 2, before, { timeout: 5000 });
  const [sent, received] = await counts();
  assert.ok(sent >= 10 && received > before, `${sent} inputs, ${received} results`);
  await page.click("#rt-sweep");
  await page.screenshot({ path: `${shots}demo-realtime.png`, fullPage: true });
  assert.deepEqual(errors, []);
});

test("upload an image with progress, then transform it; a too-small image is refused at once", async () => {
  const page = await browser.newPage({ viewport: { width: 1000, height: 1400 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(server.url);
  const png = async (w, h) => Buffer.from(await (await fetch(`${server.url}/sim/files/${w}x${h}-5-0000000000abcdef.png`)).arrayBuffer());
  await page.setInputFiles("#file", { name: "tiny.png", mimeType: "image/png", buffer: await png(100, 100) });
  await page.waitForFunction(() => document.getElementById("up-status").textContent.startsWith("Image too small"));
  assert.equal(await page.isDisabled("#i2i-run"), true);
  await page.setInputFiles("#file", { name: "photo.png", mimeType: "image/png", buffer: await png(400, 300) });
  await page.waitForFunction(() => document.getElementById("up-status").textContent.endsWith("ready"));
  await page.click("#i2i-run");
  await page.waitForFunction(() => document.getElementById("up-status").textContent.startsWith("done"), null, { timeout: 15000 });
  assert.equal(await page.textContent("#up-status"), "done: 400×300");
  assert.equal(await page.evaluate(() => document.getElementById("up-progress").value), 1);
  await page.waitForFunction(() => document.getElementById("i2i-image").naturalWidth === 400);
  await page.screenshot({ path: `${shots}demo-upload.png`, fullPage: true });
  assert.deepEqual(errors, []);
});

test("cancel in the demo stops the job", async () => {
  const page = await browser.newPage();
  await page.goto(server.url);
  const prompt = `cancel me ${Date.now()}`;
  await server.fault(prompt, { latency_ms: 20000 });
  await page.fill("#prompt", prompt);
  await page.click("#generate-button");
  await page.waitForSelector("#phase.running", { timeout: 5000 });
  await page.click("#cancel");
  await page.waitForFunction(() => document.getElementById("phase").textContent === "canceled");
  assert.equal(await page.isDisabled("#generate-button"), false);
});

test("the error gallery shows field issues, a retry countdown and the breaker", async () => {
  const page = await browser.newPage({ viewport: { width: 1000, height: 1600 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(server.url);

  await page.click('#gallery-buttons button[data-example="seed001/less_than_equal"]');
  await page.waitForSelector('#mock-form label.bad[data-field="guidance_scale"]');
  assert.equal(await page.textContent('#mock-form label[data-field="guidance_scale"] .issue'), "Input should be less than or equal to 20");
  assert.match(await page.textContent("#error-view .title"), /validation.*validation.*final/);

  await page.click('#gallery-buttons button[data-example="seed004/invalid_input"]');
  await page.waitForSelector('#mock-form label.bad[data-field="image_size"]');
  assert.equal(await page.locator("#mock-form label.bad").count(), 2, "both fields highlighted, the old one cleared");

  await page.click('#gallery-buttons button[data-example="ratelimit/retry_after_seconds"]');
  await page.waitForSelector("#error-view .countdown");
  assert.match(await page.textContent("#error-view .countdown"), /Retry in \d\.\d s/);
  assert.equal(await page.isDisabled("#error-view button"), true, "retry waits for the server's time");
  await page.waitForFunction(() => !document.querySelector("#error-view button").disabled, null, { timeout: 10000 });

  await page.click("#break-it");
  await page.waitForFunction(() => document.getElementById("breaker-state").textContent.startsWith("open"), null, { timeout: 10000 });
  // The next job is refused without a request, as circuit_open.
  await page.waitForFunction(() => /circuit_open/.test(document.querySelector("#error-view .title")?.textContent), null, { timeout: 10000 });
  await page.screenshot({ path: `${shots}demo-error-gallery.png`, fullPage: true });
  assert.deepEqual(errors, []);
});

test("the diagnose report: every check of the integration, readable, with the fixes", async () => {
  const page = await browser.newPage({ viewport: { width: 1000, height: 1200 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(server.url);
  await page.click("#diagnose-run");
  await page.waitForSelector("#diagnose-checks", { timeout: 20000 });
  const checks = await page.$$eval("#diagnose-checks li", (lis) => lis.map((li) => [li.dataset.check, li.className]));
  assert.deepEqual(checks.map(([id]) => id).sort(), ["allowlist", "clock", "csp", "key", "proxy", "realtime", "schemas", "statuses", "streaming", "uploads"]);
  for (const [id, status] of checks) assert.ok(status === "pass", `${id}: ${status}`);
  assert.match(await page.textContent("#diagnose-summary"), /in order/);
  await page.locator("#diagnose").screenshot({ path: `${shots}demo-diagnose.png` });
  assert.deepEqual(errors, []);
});
