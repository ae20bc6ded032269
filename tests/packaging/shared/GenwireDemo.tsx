"use client";
// The page of both packaging fixtures (copied into each app by tests/packaging.test.mjs): an image
// through the queue with the hooks, a realtime round trip, typed errors, and `genwire/queue`. The ids and data-*
// attributes are what the packaging test reads.
import { createClient } from "genwire";
import type { GenwireError } from "genwire";
import { useState } from "react";
import { GenwireProvider, useGeneration, useRealtime } from "genwire/react";

type FluxInput = { prompt: string; image_size?: "square" | "landscape_4_3" | { width: number; height: number }; seed?: number };
type FluxOutput = { images: { url: string; width: number; height: number; content_type: string }[]; seed: number };
type LcmOutput = { images: { url: string }[]; seq?: number };

// Endpoint types by id, so the hooks infer input and output from "fal-ai/flux/dev" alone.
declare module "genwire" {
  interface Endpoints {
    "fal-ai/flux/dev": { input: FluxInput; output: FluxOutput };
  }
}


function describeError(e: GenwireError): string {
  switch (e.kind) {
    case "validation": return `validation: ${e.issues.map((i) => `${i.field} ${i.msg}`).join("; ")}`;
    case "api": return `api ${e.status}${e.errorType ? ` (${e.errorType})` : ""}: ${e.message}`;
    case "circuit_open": return `circuit open for ${e.endpoint}, retry in ${e.retryAfterMs} ms`;
    case "timeout": return `timeout after ${e.timeoutMs ?? "?"} ms`;
    case "network": case "aborted": case "config": case "protocol": return `${e.kind}: ${e.message}`;
    default: { const unreachable: never = e; return String(unreachable); }
  }
}

function Generate() {
  const gen = useGeneration("fal-ai/flux/dev");
  const image = gen.data?.images[0]; // FluxOutput, inferred from the endpoint id
  return (
    <section>
      <button id="generate" disabled={gen.isPending} onClick={() => gen.submit({ prompt: "a lighthouse at dusk", image_size: "square", seed: 7 })}>
        Generate
      </button>
      <p id="gen-status" data-status={gen.status} data-request-id={gen.requestId}>{`status: ${gen.status}`}</p>
      {gen.error && <p id="gen-error">{describeError(gen.error)}</p>}
      {image && <p id="gen-image-url">{image.url}</p>}
      {image && <img id="gen-image" src={image.url} alt="generated" width={128} height={128} />}
    </section>
  );
}

function Realtime() {
  // Connects on the first click only, so the page loads no wasm until someone asks for something.
  const [enabled, setEnabled] = useState(false);
  const rt = useRealtime<LcmOutput>("fal-ai/lcm-sd15-i2i", { enabled, throttleInterval: 64 });
  const send = () => {
    setEnabled(true);
    rt.send({ prompt: "a koi pond", seed: 1, seq: 1 }); // kept until the socket opens
  };
  return (
    <section>
      <button id="rt-send" onClick={send}>Realtime</button>
      <p id="rt-status" data-status={rt.status}>{`realtime: ${rt.status}`}</p>
      {rt.error && <p id="rt-error">{describeError(rt.error)}</p>}
      {rt.lastResult && <p id="rt-result" data-seq={rt.lastResult.seq}>{rt.lastResult.images[0]?.url.slice(0, 32)}</p>}
    </section>
  );
}

/** `genwire/queue` (no realtime, a smaller core), loaded on the click: its own lean core through the bundler. */
function QueueEntry() {
  const [state, setState] = useState<{ status: string; url?: string; error?: string }>({ status: "idle" });
  const run = async () => {
    setState({ status: "running" });
    try {
      const { createClient: createQueueClient } = await import("genwire/queue");
      const out = await createQueueClient({ proxyUrl: "/api/fal/proxy", validation: false }).subscribe("fal-ai/flux/dev", { input: { prompt: "a queue-only page", seed: 3 } });
      setState({ status: "success", url: out.data.images[0]?.url });
    } catch (e) {
      setState({ status: "error", error: describeError(e as GenwireError) });
    }
  };
  return (
    <section>
      <button id="queue-run" onClick={run}>genwire/queue</button>
      <p id="queue-status" data-status={state.status} data-url={state.url}>{`genwire/queue: ${state.status}${state.error ? `: ${state.error}` : ""}`}</p>
    </section>
  );
}

export function GenwireDemo({ realtimeUrl }: { realtimeUrl?: string }) {
  const [client] = useState(() => createClient({ proxyUrl: "/api/fal/proxy", realtimeUrl }));
  return (
    <GenwireProvider client={client}>
      <Generate />
      <Realtime />
      <QueueEntry />
    </GenwireProvider>
  );
}
