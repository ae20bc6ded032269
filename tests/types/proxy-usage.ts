// Type checks of genwire/proxy's declarations (tsc, no DOM-less or Node types needed).
import { checkTarget, createProxy, honoHandler, nextPagesHandler, nextRoute, nodeHandler, sameOrigin } from "genwire/proxy";
import type { ProxyHandler, ProxyOptions, ProxyRefusal } from "genwire/proxy";

const options: ProxyOptions = {
  key: () => "id:secret",
  endpoints: ["fal-ai/flux/dev", "fal-ai/flux-pro/**"],
  authorize: async (request, context) => request.headers.get("x-session") !== null && context !== null,
  bodyLimit: 1 << 20,
  fetch: (input, init) => fetch(input, init),
};
const proxy: ProxyHandler = createProxy(options);
const answer: Promise<Response> = proxy(new Request("http://x.test/api/fal/proxy"));

export const { GET, POST, PUT } = nextRoute();
const viaPost: Promise<Response> = POST(new Request("http://x.test/api/fal/proxy", { method: "POST" }));

const hono = honoHandler({ key: "k" });
const fromHono: Promise<Response> = hono({ req: { raw: new Request("http://x.test/") } });

const node = nodeHandler();
const pages = nextPagesHandler({ bodyLimit: 100 });
declare const req: { method: string; url: string; headers: Record<string, string | string[] | undefined>; on(e: string, l: () => void): void };
declare const res: { statusCode: number; setHeader(n: string, v: string): void; write(c: Uint8Array): boolean; end(): void; on(e: string, l: () => void): void };
const done: Promise<void> = node(req, res);
void pages(req, res);

const verdict = checkTarget("https://fal.run/fal-ai/flux/dev", "POST");
if ("url" in verdict) {
  const host: string = verdict.url.host;
  void host;
} else {
  const r: ProxyRefusal = verdict;
  const reason: ProxyRefusal["reason"] = r.reason;
  void reason;
}
const same: boolean = sameOrigin(new Request("http://x.test/"));

// @ts-expect-error endpoints is a list
createProxy({ endpoints: "fal-ai/flux/dev" });
// @ts-expect-error authorize answers a boolean
createProxy({ authorize: () => "yes" });

void answer; void viaPost; void fromHono; void done; void same;
