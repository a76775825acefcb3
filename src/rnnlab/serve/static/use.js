// Decrypt (a decipher run) and Generate (a language-model run, streamed).
import { $, api, debounce, errorMessage, fillRunSelect, showError } from "./api.js";

let runs = [];
document.addEventListener("runs", (e) => {
  runs = e.detail;
  const hadDecrypt = $("decrypt-run").value;
  fillRunSelect($("decrypt-run"), runs, "decipher");
  fillRunSelect($("gen-run"), runs, "lm");
  if ($("decrypt-run").value !== hadDecrypt) describeDecryptRun();
});

// -- Decrypt -------------------------------------------------------------------------------

const SEED_CIPHERTEXT = "FUVEMVEMNMERPDRF"; // THIS-IS-A-SECRET under the seed task's shift
let decryptSeq = 0;

function describeDecryptRun() {
  const run = runs.find((r) => r.name === $("decrypt-run").value);
  if (!run) {
    $("decrypt-info").textContent = "No decipher runs yet: train the seed task in the Train tab.";
    return;
  }
  const mode = {
    fixed: "one fixed key, learned from examples",
    given: "a key you give with each message",
    unknown: "keys it works out itself",
  }[run.key_mode] || run.key_mode;
  $("decrypt-info").textContent = `${run.cipher} · ${run.architecture} · ${mode}`;
  $("decrypt-key-label").hidden = !run.needs_key;
  $("decrypt-named").hidden = true;
  if (!$("decrypt-input").value && run.cipher === "caesar" && run.key_mode === "fixed") {
    $("decrypt-input").value = SEED_CIPHERTEXT;
  }
  decrypt();
}

async function decrypt() {
  const name = $("decrypt-run").value;
  if (!name) return;
  const run = runs.find((r) => r.name === name);
  const seq = ++decryptSeq;
  const body = { text: $("decrypt-input").value };
  if (run && run.needs_key) body.key = $("decrypt-key").value.trim() || null;
  try {
    const result = await api(`/api/runs/${encodeURIComponent(name)}/decrypt`, body);
    if (seq !== decryptSeq) return;
    $("decrypt-output").value = result.text;
    $("decrypt-named").hidden = !result.key;
    $("decrypt-named-key").textContent = result.key || "";
    showError("decrypt-error", null);
  } catch (error) {
    if (seq !== decryptSeq) return;
    $("decrypt-output").value = "";
    showError("decrypt-error", error);
  }
}

$("decrypt-run").addEventListener("change", describeDecryptRun);
const decryptSoon = debounce(decrypt, 150);
$("decrypt-input").addEventListener("input", decryptSoon);
$("decrypt-key").addEventListener("input", decryptSoon);

// -- Generate ------------------------------------------------------------------------------

let generation = null; // the AbortController of the stream in flight

async function generate() {
  const name = $("gen-run").value;
  if (!name) {
    showError("gen-error", "No language-model runs yet: train one in the Train tab.");
    return;
  }
  generation?.abort();
  const controller = new AbortController();
  generation = controller;
  const body = {
    prime: $("gen-prime").value,
    length: Number($("gen-length").value),
    temperature: Number($("gen-temperature").value),
    top_k: Number($("gen-top-k").value),
    top_p: Number($("gen-top-p").value),
    seed: Number($("gen-seed").value),
  };
  showError("gen-error", null);
  $("gen-prime-out").textContent = body.prime;
  $("gen-text").textContent = "";
  $("gen-status").textContent = "generating…";
  $("gen-go").disabled = true;
  $("gen-stop").disabled = false;
  let count = 0;
  try {
    const response = await fetch(`/api/runs/${encodeURIComponent(name)}/sample`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    if (!response.ok) throw new Error(await errorMessage(response));
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      $("gen-text").textContent += value;
      count += value.length;
    }
    $("gen-status").textContent = `${count} characters`;
  } catch (error) {
    if (error.name === "AbortError") $("gen-status").textContent = `stopped after ${count} characters`;
    else { showError("gen-error", error); $("gen-status").textContent = ""; }
  } finally {
    if (generation === controller) generation = null;
    $("gen-go").disabled = false;
    $("gen-stop").disabled = true;
  }
}

$("gen-go").addEventListener("click", generate);
// Closing the stream is what tells the server to stop drawing and free its worker.
$("gen-stop").addEventListener("click", () => generation?.abort());
