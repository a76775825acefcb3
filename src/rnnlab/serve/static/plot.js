// Line charts on a plain <canvas>: curves of a metric against the training step.

const PAD = { left: 56, right: 16, top: 30, bottom: 40 };

export const COLORS = { train: "#2458d6", val: "#e07b00" };

// series: [{label, color, points: [[step, value], ...]}]; options: {title, yMin, yMax,
// legend: "top" | "bottom" (where the curves are not: losses fall, accuracies rise)}
export function drawChart(canvas, series, options = {}) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || canvas.width;
  const height = canvas.clientHeight || canvas.height;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.font = "12px system-ui, sans-serif";

  ctx.fillStyle = "#1d2330";
  ctx.font = "600 13px system-ui, sans-serif";
  ctx.fillText(options.title || "", PAD.left, 18);
  ctx.font = "12px system-ui, sans-serif";

  const all = series.flatMap((s) => s.points);
  canvas.dataset.points = String(all.length); // what the browser tests read
  if (all.length === 0) {
    ctx.fillStyle = "#667085";
    ctx.fillText("no data yet", width / 2 - 30, height / 2);
    return;
  }
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const x0 = Math.min(0, ...xs);
  const x1 = Math.max(...xs, x0 + 1);
  let y0 = options.yMin ?? Math.min(...ys);
  let y1 = options.yMax ?? Math.max(...ys);
  if (y1 - y0 < 1e-9) { y0 -= 0.5; y1 += 0.5; }
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const sx = (x) => PAD.left + ((x - x0) / (x1 - x0)) * plotW;
  const sy = (y) => PAD.top + (1 - (y - y0) / (y1 - y0)) * plotH;

  // grid and tick labels
  ctx.strokeStyle = "#e4e7ec";
  ctx.fillStyle = "#667085";
  ctx.lineWidth = 1;
  for (const y of ticks(y0, y1, 5)) {
    ctx.beginPath(); ctx.moveTo(PAD.left, sy(y)); ctx.lineTo(width - PAD.right, sy(y)); ctx.stroke();
    ctx.fillText(format(y), 6, sy(y) + 4);
  }
  for (const x of ticks(x0, x1, 6)) {
    ctx.fillText(format(x), sx(x) - 10, height - PAD.bottom + 16);
  }
  ctx.fillText("step", width - PAD.right - 28, height - 8);
  ctx.strokeStyle = "#98a2b3";
  ctx.strokeRect(PAD.left, PAD.top, plotW, plotH);

  // the curves, a dot on each point when there are few (evaluations are sparse)
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    ctx.strokeStyle = s.color;
    ctx.fillStyle = s.color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    s.points.forEach(([x, y], j) => (j ? ctx.lineTo(sx(x), sy(y)) : ctx.moveTo(sx(x), sy(y))));
    ctx.stroke();
    if (s.points.length <= 30) {
      for (const [x, y] of s.points) {
        ctx.beginPath(); ctx.arc(sx(x), sy(y), 3, 0, 2 * Math.PI); ctx.fill();
      }
    }
    // legend, on a white box in a corner the curves leave free
    const lx = width - PAD.right - 124;
    const top = options.legend === "bottom" ? height - PAD.bottom - 8 - 16 * series.length : PAD.top + 4;
    const ly = top + 14 + i * 16;
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(lx - 6, ly - 13, 128, 16);
    ctx.fillStyle = s.color;
    ctx.fillRect(lx, ly - 8, 14, 3);
    ctx.fillStyle = "#1d2330";
    ctx.fillText(s.label, lx + 20, ly - 3);
  });
}

function ticks(lo, hi, count) {
  const step = niceStep((hi - lo) / count);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-6; v += step) out.push(v);
  return out;
}

function niceStep(raw) {
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return power * (unit < 1.5 ? 1 : unit < 3 ? 2 : unit < 7 ? 5 : 10);
}

function format(v) {
  if (Math.abs(v) >= 1000) return `${Math.round(v / 100) / 10}k`;
  return String(Number(v.toPrecision(3))); // 2.5 rather than 2.50
}

// The two charts of a run from its metrics rows: loss, and accuracy (decipher) or bits
// per character (lm), each for training and validation.
export function drawRunCharts(lossCanvas, metricCanvas, rows, task) {
  const pick = (split, key) =>
    rows.filter((r) => r.split === split && typeof r[key] === "number").map((r) => [r.step, r[key]]);
  drawChart(lossCanvas, [
    { label: "train loss", color: COLORS.train, points: pick("train", "loss") },
    { label: "val loss", color: COLORS.val, points: pick("val", "loss") },
  ], { title: "Loss (nats per character)" });
  if (task === "lm") {
    drawChart(metricCanvas, [
      { label: "val bits/char", color: COLORS.val, points: pick("val", "bpc") },
    ], { title: "Validation bits per character" });
  } else {
    drawChart(metricCanvas, [
      { label: "train accuracy", color: COLORS.train, points: pick("train", "accuracy") },
      { label: "val accuracy", color: COLORS.val, points: pick("val", "accuracy") },
    ], { title: "Character accuracy", yMin: 0, yMax: 1, legend: "bottom" });
  }
}
