// The Train section: a form made from the options the server declares (GET
// /api/train/options: labels, help, defaults, bounds, choices — none of them is written
// here), a run started with the fields the user changed, its curves drawn live, and Stop
// (the run is saved, as Ctrl-C saves it).
import { $, api, debounce, showError } from "./api.js";
import { drawRunCharts } from "./plot.js";
import { refreshRuns } from "./runs.js";

const POLL_MS = 700;
const GROUPS = { cipher: "Cipher", model: "Model", training: "Training", run: "Where it runs" };

let described = null; // {decipher: {options, architectures}, lm: {options, default_preset}}
let resolved = null; // what the server says the fields train: {architecture} or {preset}
let ciphers = {}; // name -> {description, key_help, …} from /api/ciphers
const changed = new Set(); // the names of the fields the user set: only these are sent
let job = null; // {name, task, rows}
let timer = null;

function task() {
  return document.querySelector("input[name=train-task]:checked").value;
}

function fieldId(name) {
  return `train-${name.replaceAll("_", "-")}`;
}

function options() {
  return described ? described[task()].options : [];
}

function option(name) {
  return options().find((o) => o.name === name);
}

// The context the defaults depend on: the architecture (decipher) or the preset (lm), as
// the server resolves it from the fields (POST /api/train/check).
function context() {
  if (task() === "lm") return resolved?.preset ?? described.lm.default_preset;
  return resolved?.architecture ?? "tagger";
}

// Ask the server what the fields would train: the defaults to show, and any mistake in
// its own words, before anything starts.
const check = debounce(async () => {
  const body = requestBody();
  try {
    resolved = await api("/api/train/check", body);
    showError("train-error", null);
  } catch (error) {
    showError("train-error", error);
  }
  showDefaults();
}, 200);

function defaultOf(o, ctx) {
  return ctx in o.defaults ? o.defaults[ctx] : o.default;
}

// A field's value as the API takes it (null: left empty).
function current(name) {
  const input = $(fieldId(name));
  if (!input) return null;
  if (input.type === "checkbox") return changed.has(name) ? input.checked : null;
  if (input.value === "") return null;
  const o = option(name);
  if (o.type === "int" || o.type === "float") return Number(input.value);
  return input.value;
}

function makeInput(o) {
  let input;
  if (o.name === "cipher") {
    input = document.createElement("select");
    for (const name of Object.keys(ciphers)) input.append(new Option(name, name));
  } else if (o.choices) {
    input = document.createElement("select");
    if (o.default === null && !Object.keys(o.defaults).length) input.append(new Option("(default)", ""));
    for (const choice of o.choices) input.append(new Option(choice, choice));
  } else if (o.type === "bool") {
    input = document.createElement("input");
    input.type = "checkbox";
  } else {
    input = document.createElement("input");
    input.type = o.type === "str" ? "text" : "number";
    if (o.type === "int") input.step = "1";
    if (o.type === "float") input.step = "any";
    const low = o.minimum ?? o.above;
    const high = o.maximum ?? o.below;
    if (low !== null) input.min = String(low);
    if (high !== null) input.max = String(high);
    input.className = "num";
  }
  input.id = fieldId(o.name);
  input.name = o.name;
  input.addEventListener("input", () => {
    changed.add(o.name);
    input.classList.add("changed");
    check();
  });
  return input;
}

function buildForm() {
  const box = $("train-fields");
  box.replaceChildren();
  changed.clear();
  resolved = null;
  const groups = {};
  const order = Object.keys(GROUPS);
  const sorted = [...options()].sort((a, b) => order.indexOf(a.group) - order.indexOf(b.group));
  for (const o of sorted) {
    if (!groups[o.group]) {
      const set = document.createElement("fieldset");
      const legend = document.createElement("legend");
      legend.textContent = GROUPS[o.group] || o.group;
      const grid = document.createElement("div");
      grid.className = "grid";
      set.append(legend, grid);
      box.append(set);
      groups[o.group] = grid;
    }
    const label = document.createElement("label");
    label.className = o.type === "bool" ? "field check" : "field";
    label.dataset.option = o.name;
    label.title = o.help;
    const input = makeInput(o);
    const words = document.createElement("span");
    words.textContent = o.label;
    if (o.type === "bool") label.append(input, words);
    else label.append(words, input);
    groups[o.group].append(label);
  }
  showDefaults();
  check();
}

// Each field not changed by the user shows its default in the current context, and only
// the fields the current architecture takes are shown.
function showDefaults() {
  if (!described) return;
  const ctx = context();
  for (const o of options()) {
    const input = $(fieldId(o.name));
    const label = input.closest("label");
    label.hidden = task() === "decipher" && o.archs !== null && !o.archs.includes(ctx) && !changed.has(o.name);
    if (changed.has(o.name)) continue;
    const value = defaultOf(o, ctx);
    if (input.type === "checkbox") input.checked = Boolean(value);
    else if (input.tagName === "SELECT") input.value = value ?? "";
    else {
      input.value = value ?? "";
      input.placeholder = o.default_text || (o.name === "key" ? keyHelp() : "");
    }
  }
  const help = $("train-arch-help");
  if (task() === "decipher") {
    const arch = described.decipher.architectures.find((a) => a.name === ctx);
    help.textContent = `Model: ${ctx}, ${arch.help}.`;
  } else help.textContent = `Defaults of the ${ctx} preset.`;
}

function keyHelp() {
  const info = ciphers[current("cipher")];
  return info ? info.key_help : "";
}

// The form's own check, in its own words, before anything is sent.
function invalidField() {
  for (const o of options()) {
    const input = $(fieldId(o.name));
    if (!changed.has(o.name) || input.checkValidity()) continue;
    if (input.validity.rangeUnderflow) return `${o.label} must be at least ${input.min}`;
    if (input.validity.rangeOverflow) return `${o.label} must be at most ${input.max}`;
    if (input.validity.stepMismatch || input.validity.badInput) return `${o.label} must be a whole number`;
    return `${o.label}: ${input.validationMessage}`;
  }
  return null;
}

function requestBody() {
  const body = { task: task() };
  for (const name of changed) {
    const value = current(name);
    if (value !== null) body[name] = value;
  }
  return body;
}

async function start(event) {
  event.preventDefault();
  showError("train-error", null);
  if ($("train-go").disabled) return; // Enter in a field while a run trains
  const problem = invalidField();
  if (problem) return showError("train-error", problem);
  const chosen = task();
  try {
    const { name } = await api("/api/train", requestBody());
    job = { name, task: chosen, rows: [] };
    running(true);
    $("train-status").textContent = `${name}: starting…`;
    $("train-status").dataset.state = "starting";
    refreshRuns();
    poll();
  } catch (error) {
    showError("train-error", error);
  }
}

function running(on) {
  $("train-go").disabled = on;
  $("train-stop").disabled = !on;
}

async function poll() {
  const current = job;
  if (!current) return;
  try {
    const { job: status } = await api("/api/train");
    if (!status || status.name !== current.name) return;
    if (status.step > 0) {
      const rows = await api(`/api/runs/${encodeURIComponent(current.name)}/metrics?since=${current.rows.length}`).catch(
        () => [], // not saved yet and not logged yet: nothing to draw
      );
      current.rows.push(...rows);
      drawRunCharts($("train-loss"), $("train-metric"), current.rows, current.task);
    }
    showStatus(status, current.rows);
    if (status.state === "running") timer = setTimeout(poll, POLL_MS);
    else finish();
  } catch (error) {
    showError("train-error", error);
    timer = setTimeout(poll, POLL_MS * 3);
  }
}

function showStatus(status, rows) {
  const val = rows.filter((r) => r.split === "val").at(-1);
  let metric = "";
  if (val && "accuracy" in val) metric = ` · validation accuracy ${(val.accuracy * 100).toFixed(1)}%`;
  else if (val && "bpc" in val) metric = ` · validation ${val.bpc.toFixed(3)} bits/char`;
  const state = { running: "training", done: "finished", stopped: "stopped and saved", failed: "failed" }[status.state];
  const steps = status.steps ? `${status.step} / ${status.steps}` : status.step;
  $("train-status").textContent = `${status.name}: ${state} · step ${steps}${metric} · ${status.elapsed_s} s`;
  $("train-status").dataset.state = status.state;
  if (status.error) showError("train-error", status.error);
}

function finish() {
  running(false);
  refreshRuns();
}

async function stop() {
  if (!job) return;
  $("train-stop").disabled = true;
  try {
    const status = await api(`/api/train/${encodeURIComponent(job.name)}/stop`, {});
    clearTimeout(timer);
    await poll(); // the last rows, saved with the stop
    showStatus(status, job.rows);
    finish();
  } catch (error) {
    showError("train-error", error);
  }
}

for (const radio of document.querySelectorAll("input[name=train-task]")) {
  radio.addEventListener("change", buildForm);
}
$("train-form").addEventListener("submit", start);
$("train-stop").addEventListener("click", stop);
$("train-reset").addEventListener("click", buildForm);

async function load() {
  try {
    const [description, list] = await Promise.all([api("/api/train/options"), api("/api/ciphers")]);
    described = description;
    ciphers = Object.fromEntries(list.map((c) => [c.name, c]));
    buildForm();
    $("train-form").dataset.ready = "true";
  } catch (error) {
    showError("train-error", error);
  }
  // A job started elsewhere (another tab, an earlier visit) is shown when this page opens.
  try {
    const { job: status } = await api("/api/train");
    if (status && status.state === "running") {
      job = { name: status.name, task: status.task, rows: [] };
      running(true);
      poll();
    }
  } catch {
    // the status is shown by the next poll
  }
}

load();
