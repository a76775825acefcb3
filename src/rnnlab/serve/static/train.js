// The Train section: start the seed task or a short language model, watch its curves
// live, stop it (the run is saved, as Ctrl-C saves it).
import { $, api, showError } from "./api.js";
import { drawRunCharts } from "./plot.js";
import { refreshRuns } from "./runs.js";

const POLL_MS = 700;
// The short LM: small enough to show a falling curve in a minute or two on a laptop CPU.
const PRESETS = {
  decipher: (steps) => ({ task: "decipher", steps }),
  lm: (steps) => ({ task: "lm", steps, hidden: 128, layers: 1, seq_len: 50, batch_size: 32,
    eval_every: Math.max(1, Math.floor(steps / 4)), log_every: 10, warmup_steps: 20 }),
};
const DEFAULT_STEPS = { decipher: 300, lm: 300 };

let job = null; // {name, task, rows}
let timer = null;

function task() {
  return document.querySelector("input[name=train-task]:checked").value;
}

for (const radio of document.querySelectorAll("input[name=train-task]")) {
  radio.addEventListener("change", () => { $("train-steps").value = DEFAULT_STEPS[task()]; });
}

async function start() {
  showError("train-error", null);
  const chosen = task();
  try {
    const { name } = await api("/api/train", PRESETS[chosen](Number($("train-steps").value)));
    job = { name, task: chosen, rows: [] };
    $("train-go").disabled = true;
    $("train-stop").disabled = false;
    $("train-status").textContent = `${name}: starting…`;
    refreshRuns();
    poll();
  } catch (error) {
    showError("train-error", error);
  }
}

async function poll() {
  const current = job;
  if (!current) return;
  try {
    const rows = await api(`/api/runs/${encodeURIComponent(current.name)}/metrics?since=${current.rows.length}`).catch(
      () => [], // not saved yet and not logged yet: nothing to draw
    );
    current.rows.push(...rows);
    drawRunCharts($("train-loss"), $("train-metric"), current.rows, current.task);
    const { job: status } = await api("/api/train");
    if (!status || status.name !== current.name) return;
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
  $("train-go").disabled = false;
  $("train-stop").disabled = true;
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

$("train-go").addEventListener("click", start);
$("train-stop").addEventListener("click", stop);

// A job started elsewhere (another tab, an earlier visit) is shown when this page opens.
api("/api/train").then(({ job: status }) => {
  if (status && status.state === "running") {
    job = { name: status.name, task: status.task, rows: [] };
    $("train-go").disabled = true;
    $("train-stop").disabled = false;
    poll();
  }
}).catch(() => {});
