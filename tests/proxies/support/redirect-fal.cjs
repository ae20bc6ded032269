// Preloaded (`node --require`) into the apps under test by tests/proxies.test.mjs: their calls to
// fal's hosts are connected to the local TLS stand-in (support/fal-hosts.mjs) instead of the
// internet. Only the connection changes: URL, Host header, TLS with SNI for the fal host and the
// certificate check (against the test's throwaway CA, trusted through NODE_EXTRA_CA_CERTS) are
// those of a real call. Node's fetch takes undici's global dispatcher, which this sets.
"use strict";

const standIn = process.env.GENWIRE_FAL_STANDIN; // "127.0.0.1:PORT"
if (standIn) {
  const tls = require("node:tls");
  const { Agent, buildConnector, setGlobalDispatcher } = require("undici");
  const FAL_HOSTS = new Set(["queue.fal.run", "fal.run", "rest.fal.ai", "fal.ai"]);
  const at = standIn.lastIndexOf(":");
  const host = standIn.slice(0, at);
  const port = Number(standIn.slice(at + 1));
  const elsewhere = buildConnector({});
  setGlobalDispatcher(new Agent({
    connect(opts, callback) {
      if (!FAL_HOSTS.has(opts.hostname)) return elsewhere(opts, callback);
      if (opts.protocol !== "https:") return callback(new Error(`fal is https only, not ${opts.protocol}//${opts.hostname}`));
      let done = false;
      const once = (err, socket) => { if (!done) { done = true; callback(err, socket); } };
      const socket = tls.connect({ host, port, servername: opts.hostname, ALPNProtocols: ["http/1.1"] });
      socket.setNoDelay(true);
      socket.once("secureConnect", () => once(null, socket));
      socket.once("error", (e) => once(e));
    },
  }));
}
