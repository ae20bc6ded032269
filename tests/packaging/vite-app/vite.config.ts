// The app's proxy route reaches the genwire dev server (the stand-in for a real backend with
// @fal-ai/server-proxy). `GENWIRE_SERVER_URL` is given by tests/packaging.test.mjs.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const target = process.env.GENWIRE_SERVER_URL ?? "http://127.0.0.1:8787";

export default defineConfig({
  plugins: [react()],
  preview: {
    proxy: {
      // changeOrigin: the simulator names image URLs after the Host it was asked on.
      "/api/fal/proxy": { target, changeOrigin: true },
    },
  },
});
