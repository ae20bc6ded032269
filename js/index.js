// genwire: the public JS entry, the whole library (js/library.js over the full core's glue). Nothing
// loads at import: the wasm comes with the first call, or with `init()` (docs/size.md, "The split").
import wasmInit, { GenwireClient, decodeError as wasmDecodeError, validate as wasmValidate, setModuleLoader, compile } from "../pkg/genwire.js";
import { library } from "./library.js";

const lib = library({ default: wasmInit, GenwireClient, decodeError: wasmDecodeError, validate: wasmValidate, setModuleLoader, compile }, {
  lean: () => new URL("../pkg/genwire_lean_bg.wasm", import.meta.url),
  validatorWasm: () => new URL("../pkg/genwire_validate_bg.wasm", import.meta.url),
  validatorGlue: () => import("../pkg/genwire_validate.js"),
});

/**
 * Loads the wasm ahead of the first call (the full core, with the validator). Optional: every
 * call loads what it needs on first use. Pass a URL, a Response, bytes or a WebAssembly.Module
 * when your bundler can't resolve the default `genwire_bg.wasm` next to this package.
 */
export const init = lib.init;
/** Decodes an error answer into a GenwireError (a Response at once; anything else after `init()`). */
export const decodeError = lib.decodeError;
/** Checks an input against a schema without a client or a request; needs `await init()`. */
export const validate = lib.validate;
/** Creates a client bound to the app's proxy route. Refuses any key or credentials. */
export const createClient = lib.createClient;
