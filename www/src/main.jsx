// The demo: a product page built on genwire/react. One client for the app (proxy, realtime URL,
// file limits); the error gallery gets its own (no retries, a quick breaker) through a nested provider.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createClient } from "genwire";
import { GenwireProvider } from "genwire/react";
import { Generate } from "./Generate.jsx";
import { Transform } from "./Transform.jsx";
import { Live } from "./Live.jsx";
import { ErrorGallery } from "./ErrorGallery.jsx";
import { Diagnose } from "./Diagnose.jsx";
import { StatsBar } from "./StatsBar.jsx";

const client = createClient({
  proxyUrl: "/api/fal/proxy",
  // The demo server simulates fal's realtime sockets on its own origin.
  realtimeUrl: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/sim/realtime`,
  // The endpoint's limits, checked before any byte is sent.
  fileLimits: { "fal-ai/flux/dev/image-to-image": { image_url: { minWidth: 256, minHeight: 256, maxSize: 50 * 2 ** 20, types: ["image/*"] } } },
});

const SECTIONS = [["generate", "Generate"], ["transform", "Upload"], ["realtime", "Realtime"], ["errors", "Errors"], ["diagnose", "Diagnose"]];

function App() {
  return (
    <GenwireProvider client={client}>
      <header className="hero">
        <nav>
          <span className="brand">genwire</span>
          {SECTIONS.map(([id, label]) => <a key={id} href={`#${id}`}>{label}</a>)}
        </nav>
        <h1>Generative media from the browser, through your own proxy.</h1>
        <p className="tag">
          Queue jobs with live status, realtime sockets that reconnect, uploads with progress, inputs checked as you type,
          and every error typed. No key in the page: each call goes to <code>/api/fal/proxy</code>, which adds it.
        </p>
        <StatsBar />
      </header>
      <main>
        <Generate />
        <Transform />
        <Live />
        <ErrorGallery />
        <Diagnose />
      </main>
      <footer>
        Rust compiled to WebAssembly, with React hooks from <code>genwire/react</code>. This page runs against a simulated
        fal upstream; set <code>FAL_KEY</code> on the server to use the real one.
      </footer>
    </GenwireProvider>
  );
}

createRoot(document.getElementById("root")).render(<StrictMode><App /></StrictMode>);
