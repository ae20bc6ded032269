// A generation observer as a hook would hold it, for the Node suites of js/observe.js.
import { GenerationObserver } from "../../js/observe.js";

/** An observer mounted (call `o.mount()` again to mount twice, as StrictMode does), with every snapshot it published. */
export function mounted(client, options = {}) {
  const o = new GenerationObserver(client, "fal-ai/flux/dev", options);
  const seen = [];
  o.subscribe(() => seen.push(o.getSnapshot()));
  o.mount();
  return { o, seen, statuses: () => seen.map((s) => s.status).filter((s, i, a) => i === 0 || s !== a[i - 1]) };
}
