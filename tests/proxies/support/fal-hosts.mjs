// A local TLS stand-in for fal's hosts (queue.fal.run, fal.run, rest.fal.ai, fal.ai), for proxies
// under test that call fal themselves. Its certificate comes from a throwaway CA made here with
// openssl; the apps trust that CA through NODE_EXTRA_CA_CERTS and reach this server through the
// preload redirect-fal.cjs. Each request goes on, unchanged (method, path and query, headers with
// the caller's authorization, body), to the simulator's direct upstream route
// (`/__sim/upstream`, fal's host in `x-genwire-upstream-host`); answers stream back as they come.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const FAL_HOSTS = ["queue.fal.run", "fal.run", "rest.fal.ai", "fal.ai"];
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"]);
export const PRELOAD = fileURLToPath(new URL("./redirect-fal.cjs", import.meta.url));

/** A CA and a certificate for fal's hosts signed by it, in a fresh temp directory. */
function makeCertificates() {
  const dir = mkdtempSync(join(tmpdir(), "genwire-fal-ca-"));
  const openssl = (...args) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=genwire test CA (throwaway)",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  openssl("req", ...ec, "-keyout", "fal.key", "-out", "fal.csr", "-subj", "/CN=fal.run");
  writeFileSync(join(dir, "ext.cnf"), `subjectAltName=${FAL_HOSTS.map((h) => `DNS:${h}`).join(",")}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  openssl("x509", "-req", "-in", "fal.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "fal.pem", "-days", "2", "-extfile", "ext.cnf");
  return { dir, ca: join(dir, "ca.pem"), key: readFileSync(join(dir, "fal.key")), cert: readFileSync(join(dir, "fal.pem")) };
}

/**
 * Starts the stand-in in front of the simulator at `simUrl`. `env` is what an app process needs to
 * call fal through it; `seen()` lists the requests it forwarded (`{host, method, path}`).
 */
export async function startFalHosts(simUrl) {
  const certs = makeCertificates();
  const sim = new URL(simUrl);
  const seen = [];
  const server = https.createServer({ key: certs.key, cert: certs.cert }, (req, res) => {
    const host = (req.headers.host ?? "").toLowerCase();
    seen.push({ host, method: req.method, path: req.url });
    if (!FAL_HOSTS.includes(host)) {
      res.writeHead(421, { "content-type": "text/plain" }).end(`not a fal host: ${host}`);
      return;
    }
    const headers = {};
    for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name)) headers[name] = value;
    headers.host = sim.host;
    headers["x-genwire-upstream-host"] = host;
    const up = http.request({ hostname: sim.hostname, port: sim.port, method: req.method, path: `/__sim/upstream${req.url}`, headers }, (answer) => {
      const out = [];
      for (let i = 0; i < answer.rawHeaders.length; i += 2) {
        if (!HOP_BY_HOP.has(answer.rawHeaders[i].toLowerCase())) out.push(answer.rawHeaders[i], answer.rawHeaders[i + 1]);
      }
      res.writeHead(answer.statusCode, answer.statusMessage, out);
      res.flushHeaders();
      answer.on("data", (chunk) => res.write(chunk));
      answer.on("end", () => res.end());
      // A cut upstream is a cut answer, as it would be from fal.
      answer.on("aborted", () => res.destroy());
      answer.on("error", () => res.destroy());
    });
    up.on("error", () => res.destroy());
    res.on("close", () => { if (!res.writableFinished) up.destroy(); });
    req.pipe(up);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    port,
    seen: () => seen.slice(),
    env: {
      GENWIRE_FAL_STANDIN: `127.0.0.1:${port}`,
      NODE_EXTRA_CA_CERTS: certs.ca,
      NODE_OPTIONS: `--require ${PRELOAD}`,
    },
    close: () => {
      server.closeAllConnections?.();
      server.close();
      rmSync(certs.dir, { recursive: true, force: true });
    },
  };
}
