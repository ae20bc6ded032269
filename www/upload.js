// Upload an image with live progress, then run image-to-image on its URL.
import { createClient } from "/js/index.js";

const $ = (id) => document.getElementById(id);
const client = createClient({
  // The endpoint's limits, checked before any byte is sent.
  fileLimits: { "fal-ai/flux/dev/image-to-image": { image_url: { minWidth: 256, minHeight: 256, maxSize: 50 * 2 ** 20, types: ["image/*"] } } },
});
let file = null;

async function take(f) {
  file = f;
  $("up-progress").value = 0;
  $("i2i-run").disabled = true;
  // The same check the transform would make, said at once.
  const issues = await client.validate("fal-ai/flux/dev/image-to-image", { prompt: "x", image_url: f }).catch(() => []);
  const bad = issues.find((i) => i.field === "image_url");
  if (bad) {
    $("up-status").textContent = `${bad.msg}${bad.ctx?.min_width ? ` (at least ${bad.ctx.min_width}×${bad.ctx.min_height})` : ""}`;
    return;
  }
  $("up-status").textContent = `${f.name}: ${(f.size / 1024).toFixed(0)} KiB, ready`;
  $("i2i-run").disabled = false;
}

$("file").addEventListener("change", (e) => e.target.files[0] && take(e.target.files[0]));
$("drop").addEventListener("dragover", (e) => { e.preventDefault(); $("drop").classList.add("over"); });
$("drop").addEventListener("dragleave", () => $("drop").classList.remove("over"));
$("drop").addEventListener("drop", (e) => {
  e.preventDefault();
  $("drop").classList.remove("over");
  if (e.dataTransfer.files[0]) take(e.dataTransfer.files[0]);
});

$("i2i-run").addEventListener("click", async () => {
  $("i2i-run").disabled = true;
  try {
    $("up-status").textContent = "uploading…";
    const url = await client.storage.upload(file, { onProgress: (p) => ($("up-progress").value = p.fraction) });
    $("up-status").textContent = "transforming…";
    const { data } = await client.subscribe("fal-ai/flux/dev/image-to-image", { input: { prompt: $("i2i-prompt").value, image_url: url } });
    $("i2i-image").src = data.images[0].url;
    $("up-status").textContent = `done: ${data.images[0].width}×${data.images[0].height}`;
  } catch (e) {
    $("up-status").textContent = `${e.kind}: ${e.message}`;
  } finally {
    $("i2i-run").disabled = false;
  }
});
