// `npm run bench`: genwire and @fal-ai/client side by side in headless Chromium against the local
// simulator, both through the same proxy: jobs of realistic length for latency, the server's
// zero-latency default for the rest. Writes bench/results.json,
// bench/RESULTS.md and bench/chart.svg. Figures are reported, never asserted.
//
// BENCH_QUICK=1 runs every figure with small counts (a smoke run; its numbers are not the record);
// `--report` re-renders the Markdown and the chart from results.json without measuring.
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { launchBrowser, startServer } from "../tests/support/env.mjs";
import { startAssetServer } from "./harness.mjs";
import { buildDownloads } from "./sizes.mjs";
import { startup, validation } from "./startup.mjs";
import { latency, subscribeMemory } from "./subscribe.mjs";
import { realtimeMemory, throughput } from "./realtime.mjs";
import { chartSvg, markdown } from "./report.mjs";

// `node bench/run.mjs --report`: only renders RESULTS.md and chart.svg again from results.json.
if (process.argv.includes("--report")) {
  const dir = new URL(".", import.meta.url);
  const results = JSON.parse(readFileSync(new URL("results.json", dir), "utf8"));
  writeFileSync(new URL("chart.svg", dir), chartSvg(results));
  writeFileSync(new URL("RESULTS.md", dir), markdown(results));
  console.log("rendered bench/RESULTS.md and bench/chart.svg from bench/results.json");
  process.exit(0);
}

const quick = !!process.env.BENCH_QUICK;
// BENCH_ONLY=latency,realtime runs only those figures and prints them (nothing is written).
const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(",")) : null;
const wanted = (name) => !only || only.has(name);
const counts = quick
  ? { startupRuns: 3, jobs: 8, jobConcurrency: 4, subscribeCycles: 200, memoryConcurrency: 4, rtInputs: 100, rtInFlight: 8, rtCycles: 30 }
  : { startupRuns: 15, jobs: 48, jobConcurrency: 4, subscribeCycles: 10_000, memoryConcurrency: 4, rtInputs: 1000, rtInFlight: 8, rtCycles: 1000 };

const step = (what) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${what}`);

step("bundling both clients (esbuild --bundle --minify --format=esm)");
const size = await buildDownloads(); // also writes the bundles the pages load
const assets = await startAssetServer();
const server = await startServer(["--latency-ms", "0", "--queue-depth", "0"]);
const browser = await launchBrowser();
const cleanup = async () => {
  await browser.close().catch(() => {});
  server.close();
  await assets.close();
};
process.on("unhandledRejection", async (e) => {
  console.error(e);
  await cleanup();
  process.exit(1);
});

const cpu = os.cpus();
const results = {
  date: new Date().toISOString(),
  quick,
  machine: `${cpu[0]?.model?.trim() ?? "?"} x${cpu.length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")} at start`,
  node: process.version,
  browser: `Chromium ${browser.version()}`,
  theirs: "@fal-ai/client 1.10.1",
  counts,
  size,
};

if (wanted("startup")) {
  step(`start-up, ${counts.startupRuns} fresh contexts per client`);
  results.startupMs = await startup(browser, server, assets, counts.startupRuns);
}
if (wanted("validation")) {
  step("validation");
  results.validation = await validation(browser, server, assets);
}
if (wanted("latency")) {
  step(`subscribe latency, ${counts.jobs} jobs of 1–6 s per mode, ${counts.jobConcurrency} at a time, the modes side by side`);
  results.latency = await latency(browser, server, assets, { jobs: counts.jobs, concurrency: counts.jobConcurrency });
}
if (wanted("realtime")) {
  step(`realtime throughput, ${counts.rtInputs} inputs of 64 KiB per client`);
  results.realtime = await throughput(browser, server, assets, { inputs: counts.rtInputs, inFlight: counts.rtInFlight });
}
if (wanted("memory")) {
  step(`memory after ${counts.subscribeCycles} subscribe cycles per client`);
  results.subscribeMemory = await subscribeMemory(browser, server, assets, { cycles: counts.subscribeCycles, concurrency: counts.memoryConcurrency });
  step(`memory after ${counts.rtCycles} realtime connect/close cycles per client`);
  results.realtimeMemory = await realtimeMemory(browser, server, assets, { cycles: counts.rtCycles });
}
results.loadAtEnd = os.loadavg();

await cleanup();
if (only) {
  console.log(JSON.stringify(results, null, 2));
  process.exit(0);
}
const dir = new URL(".", import.meta.url);
writeFileSync(new URL("results.json", dir), JSON.stringify(results, null, 2) + "\n");
writeFileSync(new URL("chart.svg", dir), chartSvg(results));
const md = markdown(results);
writeFileSync(new URL("RESULTS.md", dir), md);
console.log(md);
step("wrote bench/results.json, bench/RESULTS.md, bench/chart.svg");
