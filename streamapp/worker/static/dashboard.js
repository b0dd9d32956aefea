// streamapp's dashboard: polls the worker (/dashboard/live every second, /dashboard/sample every
// ten) and draws plain SVG. No libraries and nothing from the internet: the worker serves it all.
// Text from the data (customer ids, names) only ever goes through textContent, never innerHTML.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
                 "#ff9da7", "#9c755f", "#bab0ac"];
const colours = new Map();
let previous = null;  // the last live reading, for events/s

function colour(segment) {
  if (segment === "unassigned") return "#c7ccd6";
  if (!colours.has(segment)) colours.set(segment, PALETTE[colours.size % PALETTE.length]);
  return colours.get(segment);
}

function el(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function html(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg(width, height) {
  return el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
}

const fmt = (n) => Number(n).toLocaleString(undefined, { maximumFractionDigits: 2 });
const short = (n) => (n >= 1000 ? `${(n / 1000).toFixed(1)}k` : fmt(n));

function drawCounts(segments) {
  const width = 900, row = 26, height = Math.max(row * segments.length, row);
  const top = Math.max(1, ...segments.map((s) => s.customers));
  const chart = svg(width, height);
  segments.forEach((s, i) => {
    const y = i * row, w = (width - 420) * s.customers / top;
    chart.append(el("text", { x: 0, y: y + 17, class: "value" }, s.id));
    chart.append(el("text", { x: 56, y: y + 17 }, (s.name || "").slice(0, 44)));
    chart.append(el("rect", { x: 330, y: y + 4, width: Math.max(w, 1), height: row - 8,
                              fill: colour(s.id), "data-segment": s.id,
                              "data-customers": s.customers }));
    chart.append(el("text", { x: 336 + w, y: y + 17, class: "value count" }, fmt(s.customers)));
  });
  document.getElementById("counts").replaceChildren(chart);
}

function drawAudiences(audiences) {
  const box = document.getElementById("audiences");
  if (!audiences.length) {
    box.replaceChildren(html("p", "no audiences defined", { class: "muted" }));
    return;
  }
  const width = 420, row = 24, top = Math.max(1, ...audiences.map((a) => a.customers));
  const chart = svg(width, row * audiences.length);
  audiences.forEach((a, i) => {
    const w = (width - 220) * a.customers / top;
    chart.append(el("text", { x: 0, y: i * row + 16, class: "value" }, a.name.slice(0, 24)));
    chart.append(el("rect", { x: 160, y: i * row + 4, width: Math.max(w, 1), height: row - 8,
                              fill: "#4e79a7", "data-audience": a.name }));
    chart.append(el("text", { x: 166 + w, y: i * row + 16, class: "value" }, fmt(a.customers)));
  });
  box.replaceChildren(chart);
}

function drawHistory(history) {
  const width = 900, height = 180, pad = 30;
  const chart = svg(width, height);
  if (history.length < 2) {
    chart.append(el("text", { x: pad, y: height / 2 }, "collecting: a point every 10 s"));
    document.getElementById("history").replaceChildren(chart);
    return;
  }
  const t0 = history[0].t, t1 = history[history.length - 1].t;
  const ids = [...new Set(history.flatMap((h) => Object.keys(h.counts)))].sort();
  const top = Math.max(1, ...history.flatMap((h) => Object.values(h.counts)));
  const x = (t) => pad + (width - 2 * pad) * (t - t0) / Math.max(t1 - t0, 1);
  const y = (v) => height - pad - (height - 2 * pad) * v / top;
  chart.append(el("text", { x: 0, y: pad }, short(top)));
  chart.append(el("text", { x: pad, y: height - 8 }, new Date(t0 * 1000).toLocaleTimeString()));
  chart.append(el("text", { x: width - pad - 60, y: height - 8 },
                  new Date(t1 * 1000).toLocaleTimeString()));
  for (const id of ids) {
    const points = history.map((h) => `${x(h.t).toFixed(1)},${y(h.counts[id] || 0).toFixed(1)}`);
    chart.append(el("polyline", { points: points.join(" "), fill: "none", stroke: colour(id),
                                  "stroke-width": 2 }));
  }
  document.getElementById("history").replaceChildren(chart);
}

function drawProfiles(segments) {
  const withCentres = segments.filter((s) => s.centre);
  const table = document.getElementById("profiles");
  const features = withCentres.length ? Object.keys(withCentres[0].centre) : [];
  const head = html("tr");
  for (const name of ["segment", "name", "customers", ...features]) head.append(html("th", name));
  table.tHead.replaceChildren(head);
  const rows = segments.map((s) => {
    const tr = html("tr");
    const id = html("td");
    id.append(html("span", "", { class: "swatch", style: `background:${colour(s.id)}` }),
              document.createTextNode(s.id));
    tr.append(id, html("td", s.name || ""), html("td", fmt(s.customers)));
    for (const f of features) tr.append(html("td", s.centre ? fmt(s.centre[f]) : "—"));
    return tr;
  });
  table.tBodies[0].replaceChildren(...rows);
}

function drawChanges(changes) {
  const items = changes.map((c) => {
    const when = new Date(c.emitted_at).toLocaleTimeString();
    const from = c.previous_segment ? `${c.previous_segment} → ` : "";
    const li = html("li", `${when} · ${c.customer_id} ${c.change} ${from}${c.segment || "—"}`
                          + (c.segment_name ? ` (${c.segment_name})` : ""));
    li.style.borderLeft = `4px solid ${colour(c.segment || "unassigned")}`;
    li.style.paddingLeft = "6px";
    return li;
  });
  document.getElementById("changes").replaceChildren(...items);
}

function drawHistogram(name, histogram) {
  const width = 300, height = 150, pad = 20;
  const box = html("div");
  box.append(html("h3", name));
  const chart = svg(width, height);
  const edges = histogram.edges, ids = Object.keys(histogram.counts);
  if (!edges.length) { box.append(chart); return box; }
  const bins = edges.length - 1, bw = (width - 2 * pad) / bins;
  const totals = Array.from({ length: bins }, (_, b) =>
    ids.reduce((sum, id) => sum + histogram.counts[id][b], 0));
  const top = Math.max(1, ...totals);
  for (let b = 0; b < bins; b++) {
    let base = height - pad;
    for (const id of ids) {
      const h = (height - 2 * pad) * histogram.counts[id][b] / top;
      base -= h;
      chart.append(el("rect", { x: pad + b * bw, y: base, width: bw - 1, height: h,
                                fill: colour(id) }));
    }
  }
  // Edges are on the model's log1p scale; labels show the feature's own unit.
  chart.append(el("text", { x: pad, y: height - 4 }, short(Math.expm1(edges[0]))));
  chart.append(el("text", { x: width - pad - 30, y: height - 4 },
                  short(Math.expm1(edges[edges.length - 1]))));
  box.append(chart);
  return box;
}

function drawProjection(points) {
  const width = 420, height = 320, pad = 12;
  const chart = svg(width, height);
  if (points.length) {
    const xs = points.map((p) => p.x), ys = points.map((p) => p.y);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    for (const p of points) {
      chart.append(el("circle", {
        cx: pad + (width - 2 * pad) * (p.x - x0) / Math.max(x1 - x0, 1e-9),
        cy: height - pad - (height - 2 * pad) * (p.y - y0) / Math.max(y1 - y0, 1e-9),
        r: 3, fill: colour(p.segment), "fill-opacity": 0.75 }));
    }
  }
  const legend = html("div", undefined, { class: "legend" });
  for (const id of [...new Set(points.map((p) => p.segment))].sort()) {
    const item = html("span");
    item.append(html("span", "", { class: "swatch", style: `background:${colour(id)}` }),
                document.createTextNode(id));
    legend.append(item);
  }
  document.getElementById("projection").replaceChildren(chart, legend);
}

function setText(id, text) { document.getElementById(id).textContent = text; }

async function getJSON(path) {
  // Same origin: a browser that was asked for the token sends it again by itself.
  const response = await fetch(path, { cache: "no-store", credentials: "same-origin" });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

async function refreshLive() {
  try {
    const live = await getJSON("/dashboard/live");
    live.segments.forEach((s) => colour(s.id));
    drawCounts(live.segments);
    drawAudiences(live.audiences);
    drawHistory(live.history);
    drawProfiles(live.segments);
    drawChanges(live.recent_changes);
    setText("customers-total", fmt(live.customers_total));
    setText("events-total", fmt(live.stats.events));
    setText("dlq-count", fmt(live.stats.dlq));
    setText("changes-total", fmt(live.stats.changes));
    setText("model-version", `v${live.model_version}`);
    setText("watermark", live.watermark ? new Date(live.watermark).toLocaleString() : "—");
    if (previous) {
      const seconds = Math.max(live.server_time - previous.server_time, 1e-3);
      setText("events-rate", fmt(Math.max(live.stats.events - previous.stats.events, 0) / seconds));
    }
    previous = live;
    const status = document.getElementById("status");
    status.textContent = `updated ${new Date().toLocaleTimeString()}`;
    status.className = "status";
  } catch (error) {
    const status = document.getElementById("status");
    status.textContent = `cannot reach the worker: ${error.message}`;
    status.className = "status error";
  }
}

async function refreshSample() {
  try {
    const sample = await getJSON("/dashboard/sample");
    const boxes = Object.entries(sample.histograms).map(([n, h]) => drawHistogram(n, h));
    document.getElementById("histograms").replaceChildren(...boxes);
    drawProjection(sample.projection);
  } catch (error) {
    // The live panel reports connection trouble; the sample just waits for the next round.
  }
}

refreshLive();
refreshSample();
setInterval(refreshLive, 1000);
setInterval(refreshSample, 10000);
