// Compiled with `tsc --noEmit` by npm test: the declarations must accept real
// usage and narrow the error union. Lines marked @ts-expect-error must fail.
import { createClient, decodeError, init, type GenwireError, type FieldIssue } from "genwire";

async function main() {
  await init();
  const client = createClient({ proxyUrl: "/api/fal/proxy", retry: { maxRetries: 2 }, circuitBreaker: { openMs: 5000 } });
  // @ts-expect-error a key is refused by the types too
  createClient({ credentials: "fal-key" });

  // Extension points and @fal-ai/client's names.
  const hooked = createClient({
    headers: { "x-app-session": "s" },
    fetch: (url, init) => fetch(url, init),
    onRequest: async (req) => { req.headers["x-trace"] = req.url + req.method; },
    onResponse: (res) => console.log(res.status, res.headers.get("content-type")),
  });
  const ctl = new AbortController();
  await hooked.run("fal-ai/flux/dev", { input: { prompt: "x" }, abortSignal: ctl.signal, timeout: 5_000, startTimeout: 30, headers: { "x-a": "1" } });
  await hooked.queue.cancel("fal-ai/flux/dev", { requestId: "r", signal: ctl.signal, timeout: 1_000 });
  await hooked.validate("fal-ai/flux/dev", { prompt: "x" }, { abortSignal: ctl.signal });
  hooked.realtime.connect("fal-ai/lcm", { tokenExpirationSeconds: 600 });
  // @ts-expect-error onRequest observes the url; it can't return a new one
  createClient({ onRequest: () => ({ url: "https://elsewhere.example" }) });

  const off = client.on((e) => {
    if (e.type === "retry") console.log(e.delayMs.toFixed(0), e.error.kind);
    if (e.type === "breaker") console.log(e.from, e.to);
  });
  off();

  try {
    const { data, requestId } = await client.subscribe<{ images: { url: string }[] }>("fal-ai/flux/dev", {
      input: { prompt: "a cat" },
      onQueueUpdate: (u) => {
        if (u.status === "IN_QUEUE") console.log(u.queue_position.toFixed());
        if (u.status === "IN_PROGRESS") console.log(u.logs?.length);
      },
      mode: "polling",
      timeout: 60_000,
    });
    console.log(data.images[0].url, requestId);
  } catch (err) {
    const e = err as GenwireError;
    switch (e.kind) {
      case "validation":
        for (const issue of e.issues) showIssue(issue);
        break;
      case "api":
        console.log(e.status.toFixed(), e.errorType, e.retryAfterMs);
        break;
      case "circuit_open":
        console.log(e.reopensAt.toFixed(), e.endpoint);
        break;
      case "network":
      case "timeout":
      case "aborted":
      case "config":
      case "protocol":
        console.log(e.message);
        break;
      default: {
        const never: never = e;
        return never;
      }
    }
  }
  // Following a job by its id: the result, or its statuses with for-await.
  const followed = await client.queue.subscribeToStatus<{ seed: number }>("fal-ai/flux/dev", { requestId: "r", mode: "polling", logs: true, timeout: 60_000 });
  console.log(followed.data.seed, followed.requestId);
  // @ts-expect-error: the request id is required
  void client.queue.subscribeToStatus("fal-ai/flux/dev", { mode: "polling" });
  const statuses = client.queue.streamStatus("fal-ai/flux/dev", { requestId: "r" });
  for await (const st of statuses) if (st.status === "IN_QUEUE") console.log(st.queue_position.toFixed());
  const last: "COMPLETED" = (await statuses.done()).status;
  console.log(last, statuses.requestId);
  await client.subscribe("fal-ai/flux/dev", { input: { prompt: "a" }, onEnqueue: (id) => console.log(id.length), cancelOnAbort: false });
  const kept = createClient({ jobs: { storage: "session", maxAgeMs: 3_600_000 } });
  for (const job of kept.jobs.resume({ endpoint: "fal-ai/flux/dev" })) console.log(job.submittedAt.toFixed(), (await job.result).requestId);
  kept.jobs.add({ endpoint: "fal-ai/flux/dev", requestId: "r" });
  // @ts-expect-error: a store needs getItem, setItem and removeItem
  createClient({ jobs: { storage: { getItem: () => null } } });
  const s = client.stats();
  console.log(s.successRate ?? 0, s.errorsByType[0]?.[1], s.breakers["fal-ai/flux"]?.state);
  const fromResponse: GenwireError = await decodeError(new Response("{}", { status: 500 }));
  const fromObject: GenwireError = decodeError({ status: 429, headers: { "retry-after": "2" } });
  console.log(fromResponse.category, fromObject.retryAfterMs);
}

async function streaming() {
  const client = createClient();
  const s = client.stream<{ output: string; partial: boolean }>("fal-ai/any-llm", { input: { prompt: "hi" }, timeout: 60_000, headers: { "x-session": "s1" }, signal: AbortSignal.timeout(600_000) });
  for await (const partial of s) console.log(partial.output.length, partial.partial);
  const last = await s.done();
  console.log(last.output, s.requestId?.length);
  s.on("error", (e) => console.log(e.kind));
  s.abort();
  // @ts-expect-error: stream events are data, error and done
  s.on("message", () => {});
  // @ts-expect-error: stallTimeout is a number of ms
  client.stream("fal-ai/any-llm", { stallTimeout: "20s" });
  client.stream("fal-ai/any-llm", { stallTimeout: 20_000 });
  // @ts-expect-error: header values are strings
  client.stream("fal-ai/any-llm", { headers: { "x-n": 1 } });
  await client.run("fal-ai/flux/dev", { input: { prompt: "x" }, storageSettings: { expiresIn: "1h", initialAcl: { default: "hide", rules: [{ user: "u", decision: "allow" }] } } });
  await client.queue.submit("fal-ai/flux/dev", { input: {}, storageSettings: { expiresIn: 3600 } });
  // @ts-expect-error: not a preset
  await client.subscribe("fal-ai/flux/dev", { input: {}, storageSettings: { expiresIn: "2h" } });
  await client.storage.upload(new Blob([]), { lifecycle: { expiresIn: "immediate" } });
  try {
    await s.done();
  } catch (err) {
    const e = err as GenwireError;
    if (e.kind === "timeout") console.log(e.stalled, e.timeoutMs);
  }
}
void streaming;

function showIssue(issue: FieldIssue) {
  switch (issue.type) {
    case "less_than_equal":
      console.log(issue.field, issue.ctx?.le.toFixed());
      break;
    case "image_too_small":
      console.log(issue.ctx?.min_width.toFixed(), issue.ctx?.min_height.toFixed());
      break;
    case "one_of":
      console.log(issue.ctx?.expected.length);
      break;
    default:
      console.log(issue.msg, issue.ctx);
  }
}

void main;
