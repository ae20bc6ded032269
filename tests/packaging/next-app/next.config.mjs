// The app's proxy route reaches the genwire dev server (the stand-in for a real backend with
// @fal-ai/server-proxy). `GENWIRE_SERVER_URL` is given at build time by tests/packaging.test.mjs.
const target = process.env.GENWIRE_SERVER_URL ?? "http://127.0.0.1:8787";

/** @type {import("next").NextConfig} */
export default {
  // Gzip would hold back the queue's status stream (SSE) until a buffer fills.
  compress: false,
  async rewrites() {
    return [{ source: "/api/fal/proxy", destination: `${target}/api/fal/proxy` }];
  },
};
