// `genwire/queue`: the same API as `genwire` without realtime; its client fits where a GenwireClient goes.
import { createClient, decodeError, init, type GenwireClient, type GenwireError, type QueueClient } from "genwire/queue";
import { GenwireProvider } from "genwire/react";

const client: QueueClient = createClient({ proxyUrl: "/api/fal/proxy", validation: false });
const asFull: GenwireClient = client;
void asFull;
// The hooks take it as they take genwire's client.
void GenwireProvider({ client });
void init();

async function main(): Promise<void> {
  const out = await client.subscribe("fal-ai/flux/dev", { input: { prompt: "a cat" }, onQueueUpdate: (s) => void s.status });
  void out.requestId;
  const url: string = await client.storage.upload(new Blob(["x"]));
  void url;
  try {
    await client.run("fal-ai/flux/dev", { input: { prompt: "a dog" } });
  } catch (e) {
    const err = e as GenwireError;
    if (err.kind === "validation") void err.issues;
  }
  void decodeError;
  // No realtime in genwire/queue: the connection is closed at once and says why through onError.
  const conn = client.realtime.connect("fal-ai/fast-lcm-diffusion", { onError: (e) => void e.kind });
  void conn.status;
}
void main;
