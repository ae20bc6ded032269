"use client";
// genwire's package, bundled by Next, handed to the test as window.genwire once its wasm is loaded.
import * as genwire from "genwire";
import { useEffect } from "react";

export function Sandbox() {
  useEffect(() => {
    Object.assign(window, { genwire });
    genwire.init().then(
      () => { document.body.dataset.ready = "true"; },
      (e) => { document.body.dataset.ready = `failed: ${e}`; },
    );
  }, []);
  return <p>genwire behind this app&apos;s proxy routes</p>;
}
