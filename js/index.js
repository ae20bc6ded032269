// genwire: the public JS entry, the whole library (js/library.js over the full core's glue). Nothing
// loads at import: the wasm comes with the first call, or with `init()` (docs/size.md, "The split").
import wasmInit, { GenwireClient, decodeError as wasmDecodeError, validate as wasmValidate, setModuleLoader, compile } from "../pkg/genwire.js";
import { library } from "./library.js";

export const { init, decodeError, validate, createClient } = library({ default: wasmInit, GenwireClient, decodeError: wasmDecodeError, validate: wasmValidate, setModuleLoader, compile }, {
  lean: () => new URL("../pkg/genwire_lean_bg.wasm", import.meta.url),
  validatorWasm: () => new URL("../pkg/genwire_validate_bg.wasm", import.meta.url),
  validatorGlue: () => import("../pkg/genwire_validate.js"),
});
