// Test harness: the real dev server (simulated upstream) and the system Chromium.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** Starts target/debug/genwire-server on a free port; resolves once it prints its URL. */
export async function startServer(args = []) {
  const env = { ...process.env };
  delete env.FAL_KEY; // never the real upstream in tests
  const child = spawn(`${root}target/debug/genwire-server`, ["--root", root, "--port", "0", ...args], {
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 15000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on("exit", (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  child.stdout.resume();
  const sim = async (path, body, method = body === undefined ? "GET" : "POST") => {
    const r = await fetch(url + path, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r.headers.get("content-type")?.includes("json") ? r.json() : r.text();
  };
  return {
    url,
    /** Calls a control route of the simulator (`/__sim/...`): GET without a body, else POST (or `method`). */
    sim,
    /** Registers faults for jobs whose prompt is exactly `prompt`. */
    fault: (prompt, faults, times = 1) => sim("/__sim/faults", { prompt, faults, times }),
    /** Upstream requests the simulator handled since `seq`. */
    log: async (since = 0) => (await sim(`/__sim/log?since=${since}`)).entries,
    job: (id) => sim(`/__sim/jobs/${id}`),
    config: (cfg) => sim("/__sim/config", cfg),
    close: () => child.kill(),
  };
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
}

/**
 * The sandbox page of the server's origin (not the demo, which makes requests of its own), with
 * genwire loaded as `window.genwire`. Served by the real server: Chromium refuses sockets to
 * loopback from pages it can't place on the local network.
 */
export async function openPage(browser, url) {
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.error("pageerror:", e.message));
  await page.goto(`${url}/sandbox.html`);
  await page.waitForSelector("body[data-ready=true]");
  return page;
}

/**
 * A blank page of the server's origin (nothing of genwire loaded), recording the path of every
 * request `record(url)` accepts: what a page fetches, in order.
 */
export async function blankPage(browser, server, record) {
  const page = await browser.newPage();
  const fetched = [];
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (record(u)) fetched.push(u.pathname + u.search);
  });
  await page.route(`${server.url}/__blank`, (r) => r.fulfill({ contentType: "text/html", body: "<!doctype html><title>blank</title>" }));
  await page.goto(`${server.url}/__blank`);
  return { page, fetched };
}

let counter = 0;
/** A prompt no other test uses, so faults registered for it hit only this test's job. */
export const uniquePrompt = (tag) => `${tag} #${process.pid}-${++counter}-${Date.now()}`;

/** The usual fixture of a suite: a server with `args`, Chromium, and a sandbox page. */
export async function setup(args = []) {
  const server = await startServer(args);
  const browser = await launchBrowser();
  const page = await openPage(browser, server.url);
  return { server, browser, page };
}

export async function teardown({ server, browser } = {}) {
  await browser?.close();
  server?.close();
}
