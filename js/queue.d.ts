// Types of the `genwire/queue` entry: genwire without realtime, on a smaller core (docs/size.md,
// "Fourth pass", step 4). Everything else is `genwire`'s: the same options, calls, errors and events.
import type { ClientOptions, GenwireClient } from "./index.js";
export * from "./index.js";

/**
 * A client of `genwire/queue`: queue, subscribe, run, stream, storage, validation, events and stats,
 * as `genwire`'s. It has no realtime: `realtime.connect` returns a closed connection that reports a
 * `GenwireError` of kind `config` through `onError`, and whose `send()` throws it (as for any unusable
 * argument); import `createClient` from `genwire` for realtime connections.
 */
export type QueueClient = GenwireClient;

export function createClient(options?: ClientOptions): QueueClient;
