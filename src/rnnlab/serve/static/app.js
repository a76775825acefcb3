// The page: tabs, and the two sections that need no trained model (Cipher, Crack).
import { $, api, debounce, showError } from "./api.js";
import { refreshRuns } from "./runs.js";
import "./use.js";
import "./train.js";

const CRACK_EXAMPLE =
  "Pa dhz aol ilza vm aptlz, pa dhz aol dvyza vm aptlz, pa dhz aol hnl vm dpzkvt, " +
  "pa dhz aol hnl vm mvvspzoulzz, pa dhz aol lwvjo vm ilsplm.";

// -- tabs (the address's #fragment names the open one, so a link can open any) ----------

function showTab(name) {
  if (!$(name) || $(name).getAttribute("role") !== "tabpanel") name = "cipher";
  for (const button of document.querySelectorAll("#tabs button")) {
    button.setAttribute("aria-selected", String(button.dataset.tab === name));
  }
  for (const panel of document.querySelectorAll("[role=tabpanel]")) panel.hidden = panel.id !== name;
  if (["runs", "decrypt", "generate"].includes(name)) refreshRuns();
  document.dispatchEvent(new CustomEvent("tab", { detail: name }));
}

for (const button of document.querySelectorAll("#tabs button")) {
  button.addEventListener("click", () => { location.hash = button.dataset.tab; });
}
window.addEventListener("hashchange", () => showTab(location.hash.slice(1)));

// -- Cipher -------------------------------------------------------------------------------

let ciphers = {};
let cipherSeq = 0; // answers to older keystrokes are dropped

function describeCipher() {
  const info = ciphers[$("cipher-name").value];
  if (!info) return;
  $("cipher-help").textContent = `${info.description}. Key: ${info.key_help}.`;
  $("cipher-key").placeholder = info.key_help === "no key" ? "(no key)" : info.key_help;
  $("cipher-alphabet").placeholder = info.alphabet;
}

async function applyCipher() {
  const seq = ++cipherSeq;
  const body = {
    op: document.querySelector("input[name=cipher-op]:checked").value,
    cipher: $("cipher-name").value,
    key: $("cipher-key").value.trim() || null,
    alphabet: $("cipher-alphabet").value || null,
    text: $("cipher-input").value,
  };
  try {
    const { text } = await api("/api/cipher", body);
    if (seq !== cipherSeq) return;
    $("cipher-output").value = text;
    showError("cipher-error", null);
  } catch (error) {
    if (seq !== cipherSeq) return;
    $("cipher-output").value = "";
    showError("cipher-error", error);
  }
}

const applySoon = debounce(applyCipher, 120);
for (const id of ["cipher-key", "cipher-alphabet", "cipher-input"]) $(id).addEventListener("input", applySoon);
for (const radio of document.querySelectorAll("input[name=cipher-op]")) radio.addEventListener("change", applyCipher);
$("cipher-name").addEventListener("change", () => { describeCipher(); applyCipher(); });
$("cipher-swap").addEventListener("click", () => {
  $("cipher-input").value = $("cipher-output").value;
  const other = document.querySelector("input[name=cipher-op]:not(:checked)");
  other.checked = true;
  applyCipher();
});

// -- Crack --------------------------------------------------------------------------------

async function crack() {
  const button = $("crack-go");
  button.disabled = true;
  button.textContent = "Cracking…";
  showError("crack-error", null);
  const started = performance.now();
  try {
    const result = await api("/api/crack", {
      text: $("crack-input").value,
      cipher: $("crack-cipher").value || null,
      time_limit: Number($("crack-time").value) || null,
    });
    const seconds = (performance.now() - started) / 1000;
    $("crack-family").textContent = result.cipher;
    const confidence = result.identified ? result.identified.confidence : null;
    $("crack-confidence").hidden = confidence === null;
    $("crack-confidence").value = confidence ?? 0;
    $("crack-confidence-text").textContent =
      confidence === null ? "named by you" : `${(confidence * 100).toFixed(1)}% (identified)`;
    $("crack-key").textContent = result.key === null ? "(none)" : String(result.key);
    $("crack-score").textContent =
      `${result.score.toFixed(2)} nats per letter (English text scores about −2.1)`;
    $("crack-elapsed").textContent = `${seconds.toFixed(2)} s`;
    $("crack-plaintext").value = result.plaintext;
    $("crack-result").hidden = false;
  } catch (error) {
    $("crack-result").hidden = true;
    showError("crack-error", error);
  } finally {
    button.disabled = false;
    button.textContent = "Crack";
  }
}

$("crack-go").addEventListener("click", crack);
$("crack-example").addEventListener("click", () => {
  $("crack-input").value = CRACK_EXAMPLE;
  $("crack-cipher").value = "";
  crack();
});

// -- start ----------------------------------------------------------------------------------

async function start() {
  showTab(location.hash.slice(1));
  try {
    const health = await api("/api/health");
    $("version").textContent = `v${health.version}`;
    const list = await api("/api/ciphers");
    ciphers = Object.fromEntries(list.map((c) => [c.name, c]));
    for (const c of list) {
      $("cipher-name").add(new Option(c.name, c.name));
      $("crack-cipher").add(new Option(c.name, c.name));
    }
    $("cipher-name").value = "caesar";
    describeCipher();
    await applyCipher();
    document.body.dataset.ready = "true"; // the browser tests wait for this
  } catch (error) {
    showError("cipher-error", error);
  }
}

start();
