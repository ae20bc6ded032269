// genwire/queue: the library without realtime (js/library.js over the queue core's glue, the crate
// built without its `realtime` feature): a smaller download for pages that don't open realtime
// connections (docs/size.md, "Fourth pass", step 4). `realtime.connect` reports a typed `config`
// error. The validator module is the same as `genwire`'s.
import wasmInit, { GenwireClient, decodeError as wasmDecodeError, validate as wasmValidate, setModuleLoader, compile } from "../pkg/genwire_queue.js";
import { library } from "./library.js";

const lib = library({ default: wasmInit, GenwireClient, decodeError: wasmDecodeError, validate: wasmValidate, setModuleLoader, compile }, {
  lean: () => new URL("../pkg/genwire_queue_lean_bg.wasm", import.meta.url),
  validatorWasm: () => new URL("../pkg/genwire_validate_bg.wasm", import.meta.url),
  validatorGlue: () => import("../pkg/genwire_validate.js"),
});

/** Loads the wasm ahead of the first call (the queue core, with the validator); see `genwire`'s `init`. */
export const init = lib.init;
/** Decodes an error answer into a GenwireError; see `genwire`'s `decodeError`. */
export const decodeError = lib.decodeError;
/** Checks an input against a schema without a client or a request; needs `await init()`. */
export const validate = lib.validate;
/** Creates a client bound to the app's proxy route, without realtime. Refuses any key or credentials. */
export const createClient = lib.createClient;
