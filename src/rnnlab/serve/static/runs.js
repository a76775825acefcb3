// The Runs section: every run under --runs, and the curves of the one picked, redrawn
// while it trains. Other sections listen for the "runs" event to fill their run lists.
import { $, api, showError } from "./api.js";
import { drawRunCharts } from "./plot.js";

const POLL_MS = 1000;
let selected = null; // {name, task, rows}
let timer = null;

export async function refreshRuns() {
  try {
    const runs = await api("/api/runs");
    renderTable(runs);
    showError("runs-error", null);
    document.dispatchEvent(new CustomEvent("runs", { detail: runs }));
    return runs;
  } catch (error) {
    showError("runs-error", error);
    return [];
  }
}

function best(run) {
  if (!run.best) return "–";
  const { metric, value, step } = run.best;
  const shown = metric === "accuracy" ? `${(value * 100).toFixed(1)}% accuracy` : `${value.toFixed(3)} bits/char`;
  return `${shown} (step ${step})`;
}

function renderTable(runs) {
  const body = $("runs-table").querySelector("tbody");
  body.replaceChildren(...runs.map((run) => {
    const row = document.createElement("tr");
    row.dataset.run = run.name;
    if (selected && selected.name === run.name) row.classList.add("selected");
    const cells = [
      run.name,
      run.task,
      run.architecture ?? "–",
      run.size ?? "–",
      run.parameters == null ? "–" : run.parameters.toLocaleString("en"),
      run.steps ? `${run.step} / ${run.steps}` : String(run.step),
      best(run),
    ];
    for (const text of cells) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    if (run.training) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = "training";
      row.firstChild.append(badge);
    }
    row.addEventListener("click", () => selectRun(run));
    return row;
  }));
  $("runs-empty").hidden = runs.length > 0;
}

async function selectRun(run) {
  selected = { name: run.name, task: run.task, rows: [] };
  for (const tr of $("runs-table").querySelectorAll("tbody tr")) {
    tr.classList.toggle("selected", tr.dataset.run === run.name);
  }
  $("run-detail").hidden = false;
  $("run-title").textContent = run.name;
  $("run-info").textContent = [run.task, run.architecture, run.size, run.cipher && `cipher ${run.cipher}`,
    run.key_mode && `key mode ${run.key_mode}`].filter(Boolean).join(" · ");
  clearTimeout(timer);
  await poll();
}

// Fetch only the rows not seen yet (?since=N) and redraw; keep polling while it trains.
async function poll() {
  const current = selected;
  if (!current) return;
  try {
    const rows = await api(`/api/runs/${encodeURIComponent(current.name)}/metrics?since=${current.rows.length}`);
    if (current !== selected) return;
    current.rows.push(...rows);
    drawRunCharts($("run-loss"), $("run-metric"), current.rows, current.task);
    const info = await api(`/api/runs/${encodeURIComponent(current.name)}`);
    if (current !== selected) return;
    if (info.summary.training && !$("runs").hidden) timer = setTimeout(poll, POLL_MS);
    else if (info.summary.training) timer = setTimeout(poll, POLL_MS * 3);
  } catch (error) {
    showError("runs-error", error);
  }
}

document.addEventListener("tab", (e) => {
  if (e.detail === "runs" && selected) { clearTimeout(timer); poll(); }
});
