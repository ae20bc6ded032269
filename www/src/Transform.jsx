// Upload and image-to-image: the file is checked against the endpoint's limits at once, uploaded
// with live progress (large files in parts), then transformed from its URL.
import { useState } from "react";
import { useGeneration, useGenwire, useUpload } from "genwire/react";

const ENDPOINT = "fal-ai/flux/dev/image-to-image";

export function Transform() {
  const client = useGenwire();
  const upload = useUpload();
  const gen = useGeneration(ENDPOINT);
  const [file, setFile] = useState(null);
  const [problem, setProblem] = useState("");
  const [prompt, setPrompt] = useState("as a stained glass window");
  const [over, setOver] = useState(false);

  async function take(f) {
    setFile(null);
    upload.reset();
    gen.reset();
    // The same check the transform would make, said at once.
    const issues = await client.validate(ENDPOINT, { prompt: "x", image_url: f }).catch(() => []);
    const bad = issues.find((i) => i.field === "image_url");
    if (bad) {
      setProblem(`${bad.msg}${bad.ctx?.min_width ? ` (at least ${bad.ctx.min_width}×${bad.ctx.min_height})` : ""}`);
      return;
    }
    setProblem("");
    setFile(f);
  }

  async function run() {
    try {
      const url = await upload.upload(file);
      await gen.submitAsync({ prompt, image_url: url });
    } catch {
      // shown from the hooks' error state
    }
  }

  const busy = upload.status === "uploading" || gen.isPending;
  const out = gen.data?.images?.[0];
  let status = problem;
  if (!status && file) status = `${file.name}: ${(file.size / 1024).toFixed(0)} KiB, ready`;
  if (upload.status === "uploading") status = `uploading… ${Math.round(upload.progress * 100)}%`;
  if (gen.isPending) status = "transforming…";
  if (upload.error) status = `${upload.error.kind}: ${upload.error.message}`;
  if (gen.error) status = `${gen.error.kind}: ${gen.error.message}`;
  if (out) status = `done: ${out.width}×${out.height}`;

  return (
    <section className="card" id="transform">
      <h2>Upload and transform</h2>
      <p className="hint">Pick or drop an image: it goes straight to storage with a presigned URL, in parts above 16 MiB. Images under 256×256 are refused before a byte is sent.</p>
      <div className="rt-grid">
        <div>
          <label id="drop" className={over ? "drop over" : "drop"}
            onDragOver={(e) => { e.preventDefault(); setOver(true); }}
            onDragLeave={() => setOver(false)}
            onDrop={(e) => { e.preventDefault(); setOver(false); if (e.dataTransfer.files[0]) take(e.dataTransfer.files[0]); }}>
            Drop an image here, or <input id="file" type="file" accept="image/*" onChange={(e) => e.target.files[0] && take(e.target.files[0])} />
          </label>
          <progress id="up-progress" max={1} value={upload.progress} />
          <p id="up-status" className={problem || upload.error || gen.error ? "hint bad" : "hint"}>{status}</p>
          <label>Prompt <input id="i2i-prompt" value={prompt} onChange={(e) => setPrompt(e.target.value)} /></label>
          <div className="row">
            <button id="i2i-run" type="button" disabled={!file || busy} onClick={run}>Transform</button>
            {busy && <button type="button" className="secondary" onClick={() => { upload.abort(); gen.cancel(); }}>Stop</button>}
          </div>
        </div>
        <img id="i2i-image" alt="image-to-image result" width={256} height={256} {...(out ? { src: out.url } : {})} />
      </div>
    </section>
  );
}
