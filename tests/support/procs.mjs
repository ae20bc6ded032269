// Child processes of the suites that build real apps (tests/packaging.test.mjs, tests/proxies.test.mjs):
// tools run to completion, servers kept until the end, each in its own process group so that what
// it started goes with it.
import { spawn } from "node:child_process";
import { createServer } from "node:net";

const children = new Set();

/** The environment of every tool run here: no key, no npm lifecycle variables of an outer `npm test`. */
export function toolEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|INIT_CWD$|NODE_ENV$|FAL_KEY|NODE_OPTIONS$|NODE_EXTRA_CA_CERTS$)/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, NEXT_TELEMETRY_DISABLED: "1", NO_COLOR: "1", FORCE_COLOR: "0", ...extra };
}

/** Kills a child and whatever it started (it leads its own process group). */
function killTree(child, signal = "SIGTERM") {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try { process.kill(-child.pid, signal); } catch { /* already gone */ }
}

/** Kills every child still running (at the end of a suite, or when the process exits). */
export function killAll() {
  for (const child of children) killTree(child, "SIGKILL");
}

/** Spawns a command in its own process group, tracked for cleanup; `output()` is the tail of what it printed. */
function start(cmd, args, { cwd, env }) {
  const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.on("close", () => children.delete(child));
  let out = "";
  const keep = (d) => { out = (out + d).slice(-20_000); };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  return { child, output: () => out };
}

/** Runs a command to completion; rejects with the tail of its output when it fails or times out. */
export function run(cmd, args, { cwd, env = toolEnv(), timeout = 10 * 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const { child, output } = start(cmd, args, { cwd, env });
    let note = "";
    const timer = setTimeout(() => { note = `\n[timed out after ${timeout} ms]`; killTree(child, "SIGKILL"); }, timeout);
    child.on("error", (e) => { clearTimeout(timer); reject(e); });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output());
      else reject(new Error(`${cmd} ${args.join(" ")} (in ${cwd}) exited with ${code ?? signal}:\n${output()}${note}`));
    });
  });
}

/** Starts a long-running server; resolves once `url` answers 200. */
export async function serve(cmd, args, { cwd, env, url }) {
  const { child, output } = start(cmd, args, { cwd, env });
  const end = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${cmd} ${args.join(" ")} exited with ${child.exitCode}:\n${output()}`);
    try {
      const r = await fetch(url);
      if (r.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > end) throw new Error(`${cmd} ${args.join(" ")} did not answer on ${url}:\n${output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { output, stop: () => killTree(child) };
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
