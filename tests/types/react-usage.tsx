// Compile-time checks of genwire/react: `npx tsc -p tests/types/tsconfig.json`. The
// expect-error lines prove types refuse what they should.
import { createElement, type ReactElement } from "react";
import { createClient } from "genwire";
import { GenwireProvider, useClientStats, useGeneration, useRealtime, useStream, useUpload, useValidation } from "genwire/react";

interface FluxInput { prompt: string; num_images?: number; image_size?: { width: number; height: number } }
interface FluxOutput { images: { url: string; width: number; height: number }[]; seed: number }

declare module "genwire" {
  interface Endpoints {
    "fal-ai/flux/dev": { input: FluxInput; output: FluxOutput };
  }
}

export function Chat(): ReactElement {
  const st = useStream<{ output: string; partial: boolean }>("fal-ai/any-llm", { stallTimeout: 30_000, onPartial: (p) => console.log(p.output) });
  st.start({ prompt: "hi" });
  const text: string | undefined = st.partial?.output;
  const status: "idle" | "streaming" | "success" | "error" | "canceled" = st.status;
  if (st.error?.kind === "timeout") console.log(st.error.stalled);
  st.abort();
  return createElement("p", null, text, status, st.isStreaming ? "…" : st.data?.output);
}

export function Generate(): ReactElement {
  const gen = useGeneration("fal-ai/flux/dev", { onSuccess: (data) => console.log(data.seed) });
  // @ts-expect-error: the endpoint's input type is checked
  gen.submit({ prompt: 1 });
  gen.submit({ prompt: "a cat", num_images: 2 });
  const url: string | undefined = gen.data?.images[0]?.url;
  const untyped = useGeneration<{ video: { url: string } }>("fal-ai/other");
  const video: string | undefined = untyped.data?.video.url;
  if (gen.error) {
    switch (gen.error.kind) {
      case "validation":
        for (const issue of gen.error.issues) console.log(issue.field, issue.msg);
        break;
      case "api":
        console.log(gen.error.status, gen.error.errorType);
        break;
      case "circuit_open":
        console.log(gen.error.reopensAt);
        break;
      default:
        // @ts-expect-error: only ApiError has `status` as a required number
        console.log(gen.error.status.toFixed());
    }
  }
  const status: "idle" | "submitting" | "resuming" | "queued" | "running" | "success" | "error" | "canceled" = gen.status;
  const resumed = useGeneration("fal-ai/flux/dev", { resume: "session", resumeKey: "main", onEnqueue: (id: string) => console.log(id.length) });
  console.log(resumed.requestId);
  // @ts-expect-error: resume is "session" or a boolean
  useGeneration("fal-ai/flux/dev", { resume: "local" });
  return createElement("p", null, status, url, video, gen.queuePosition, gen.logs.length);
}

export function Live(): ReactElement {
  const rt = useRealtime<{ image: Uint8Array }, { prompt: string }>("fal-ai/fast-sdxl", { connectionKey: "k", throttleInterval: 0 });
  rt.send({ prompt: "x" });
  // @ts-expect-error: the input type is checked
  rt.send({ prompt: 2 });
  const bytes: number | undefined = rt.lastResult?.image.byteLength;
  const up = useUpload();
  void up.upload(new Blob(["x"])).then((u: string) => u);
  const v = useValidation("fal-ai/flux/dev", { prompt: "x" });
  const first = v.issueFor("prompt")?.msg;
  const stats = useClientStats();
  return createElement("p", null, rt.status, bytes, up.progress, first, stats?.calls);
}

export const app = createElement(GenwireProvider, { client: createClient() }, createElement(Generate));
export const app2 = createElement(GenwireProvider, { options: { proxyUrl: "/api/proxy" } }, createElement(Live));

export async function typedClient(): Promise<number> {
  const client = createClient();
  const r = await client.subscribe("fal-ai/flux/dev", { input: { prompt: "x" } });
  // @ts-expect-error: the input type is checked through the client too
  await client.subscribe("fal-ai/flux/dev", { input: { nope: true } });
  const other = await client.subscribe<{ n: number }>("fal-ai/other", { input: {} });
  return r.data.seed + other.data.n;
}
