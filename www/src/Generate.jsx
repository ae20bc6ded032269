// Text to image: the form is validated as you type against the endpoint's schema, the job runs on
// the queue with live status, and results collect in a gallery.
import { useEffect, useMemo, useState } from "react";
import { useGeneration, useValidation } from "genwire/react";

const ENDPOINT = "fal-ai/flux/dev";
const SIZES = ["square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9"];
const NUMBERS = [["num_inference_steps", "Steps", 1], ["guidance_scale", "Guidance", 0.5], ["num_images", "Images", 1], ["seed", "Seed", 1]];
const LABELS = { idle: "ready", submitting: "submitting", queued: "in queue", running: "generating", success: "done", error: "failed", canceled: "canceled" };

/** The form as the endpoint's input: empty number fields are left out (the defaults apply). */
function toInput(form) {
  const input = { prompt: form.prompt, image_size: form.image_size };
  for (const [name] of NUMBERS) if (form[name] !== "" && !Number.isNaN(Number(form[name]))) input[name] = Number(form[name]);
  return input;
}

function Elapsed({ running }) {
  const [start] = useState(() => performance.now());
  const [, tick] = useState(0);
  useEffect(() => {
    if (!running) return undefined;
    const t = setInterval(() => tick((n) => n + 1), 100);
    return () => clearInterval(t);
  }, [running]);
  return <span id="elapsed">{((performance.now() - start) / 1000).toFixed(1)} s</span>;
}

export function Issue({ issue }) {
  if (!issue) return null;
  return <span className="field-issue">{issue.msg}{issue.hint && <span className="hint">{issue.hint}</span>}</span>;
}

export function Generate() {
  const [form, setForm] = useState({ prompt: "a lighthouse on a cliff at dusk, oil painting", image_size: "landscape_4_3", num_inference_steps: "28", guidance_scale: "3.5", num_images: "1", seed: "", mode: "streaming" });
  const [gallery, setGallery] = useState([]);
  const [picked, setPicked] = useState(null);
  const input = useMemo(() => toInput(form), [form]);
  const validation = useValidation(ENDPOINT, input);
  const gen = useGeneration(ENDPOINT, {
    onSuccess(data, { requestId }) {
      const shots = data.images.map((img, i) => ({ ...img, seed: data.seed, prompt: input.prompt, key: `${requestId}-${i}` }));
      setGallery((g) => [...shots, ...g].slice(0, 12));
      setPicked(shots[0]);
    },
  });
  // A union reports each member (pydantic's way): show the one with a hint, else the first.
  const issuesOf = (name) => validation.issues.filter((i) => i.field.split(/[.[]/)[0] === name);
  const issueFor = (name) => issuesOf(name).find((i) => i.hint) ?? issuesOf(name)[0];
  const fields = new Set(validation.issues.map((i) => i.field.split(/[.[]/)[0])).size;
  const set = (name) => (e) => setForm((f) => ({ ...f, [name]: e.target.value }));
  const blocked = validation.issues.length > 0 || gen.isPending;

  return (
    <section className="card" id="generate">
      <h2>Text to image</h2>
      <p className="hint">Checked as you type against <code>{ENDPOINT}</code>'s schema (fetched once), so a bad input never costs a request.</p>
      <form id="gen" autoComplete="off" onSubmit={(e) => { e.preventDefault(); gen.submit(input, { mode: form.mode }); }}>
        <label htmlFor="prompt">Prompt</label>
        <textarea id="prompt" rows={3} value={form.prompt} onChange={set("prompt")} className={issueFor("prompt") ? "invalid" : ""} />
        <Issue issue={issueFor("prompt")} />
        <div className="row fields">
          <label className={issueFor("image_size") ? "invalid" : ""}>Size
            <input id="image_size" list="size-presets" value={form.image_size} onChange={set("image_size")} spellCheck={false} />
            <datalist id="size-presets">{SIZES.map((s) => <option key={s} value={s} />)}</datalist>
            <Issue issue={issueFor("image_size")} />
          </label>
          {NUMBERS.map(([name, label, step]) => (
            <label key={name} className={issueFor(name) ? "invalid" : ""}>{label}
              <input id={name} type="number" step={step} value={form[name]} placeholder={name === "seed" ? "random" : undefined} onChange={set(name)} />
              <Issue issue={issueFor(name)} />
            </label>
          ))}
          <label>Status via
            <select id="mode" value={form.mode} onChange={set("mode")}>
              <option value="streaming">streaming (falls back to polling)</option>
              <option value="polling">polling</option>
            </select>
          </label>
        </div>
        <p id="validity" className="hint" aria-live="polite">
          {fields ? `${fields} input${fields > 1 ? "s" : ""} to fix before generating` : ""}
        </p>
        <div className="row">
          <button id="generate-button" type="submit" disabled={blocked}>Generate</button>
          <button id="cancel" type="button" className="secondary" disabled={!gen.isPending} onClick={gen.cancel}>Cancel</button>
        </div>
      </form>

      {gen.status !== "idle" && (
        <div className="progress" aria-live="polite">
          <div className="status-line">
            <span id="phase" className={`phase ${gen.status}`}>{LABELS[gen.status]}</span>
            {gen.status === "queued" && <span id="position">position {gen.queuePosition ?? "?"}</span>}
            <Elapsed key={gen.requestId ?? "pending"} running={gen.isPending} />
            {gen.requestId && <code className="request-id">{gen.requestId}</code>}
          </div>
          {gen.logs.length > 0 && <ol id="logs">{gen.logs.map((l, i) => <li key={i}>{l.message}</li>)}</ol>}
          {gen.error && <p id="error" className="error">{gen.error.kind}: {gen.error.message}</p>}
        </div>
      )}

      {picked && (
        <figure className="result" id="result-card">
          <img id="image" src={picked.url} width={picked.width} height={picked.height} alt={picked.prompt} />
          <figcaption id="meta">{picked.width}×{picked.height} · seed {picked.seed} · {picked.prompt}</figcaption>
        </figure>
      )}
      {gallery.length > 1 && (
        <div className="thumbs" id="thumbs">
          {gallery.map((g) => (
            <button key={g.key} type="button" className={g === picked ? "thumb picked" : "thumb"} onClick={() => setPicked(g)} title={g.prompt}>
              <img src={g.url} alt="" />
            </button>
          ))}
        </div>
      )}
    </section>
  );
}
