/**
 * The status page: one self-contained HTML document (inline CSS and script, nothing fetched
 * but `status.json` from the same server), polling once a second. Everything the page shows
 * comes from `statusReport` (status.ts); text is set with textContent, never parsed as HTML.
 */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>conv status</title>
<style>
  :root { --bg: #f6f7f9; --card: #fff; --ink: #1d2330; --muted: #667085; --line: #e3e6eb;
          --up: #1f9d55; --down: #d93025; --pending: #b7791f; --next: #2b6cb0; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--ink); }
  header { display: flex; align-items: baseline; gap: 16px; padding: 14px 24px; background: #1d2330; color: #fff; }
  header h1 { font-size: 18px; margin: 0; font-weight: 600; }
  header .where { color: #c3c9d4; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
  header .live { margin-left: auto; font-size: 12px; color: #c3c9d4; }
  header .live.stale { color: #ffb4ab; }
  main { display: grid; grid-template-columns: minmax(320px, 440px) 1fr; gap: 18px; padding: 18px 24px; align-items: start; }
  @media (max-width: 900px) { main { grid-template-columns: 1fr; } }
  section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 0 0 10px; }
  .counts { display: flex; gap: 18px; margin-bottom: 12px; flex-wrap: wrap; }
  .count b { display: block; font-size: 22px; }
  .count span { color: var(--muted); font-size: 12px; }
  .count.up b { color: var(--up); } .count.down b { color: var(--down); } .count.pending b { color: var(--pending); }
  svg { width: 100%; height: auto; display: block; }
  .edge { stroke: #8a94a6; stroke-width: 2.5; }
  .edge.dead { stroke: var(--down); stroke-dasharray: 7 5; }
  .node circle { fill: #fff; stroke: #1d2330; stroke-width: 1.5; }
  .node text { font: 600 12px ui-monospace, SFMono-Regular, Menlo, monospace; text-anchor: middle; dominant-baseline: central; }
  .legend { color: var(--muted); font-size: 12px; margin-top: 6px; }
  .legend i { display: inline-block; width: 26px; height: 0; border-top: 2.5px solid #8a94a6; vertical-align: middle; margin: 0 4px 0 10px; }
  .legend i.dead { border-top: 2.5px dashed var(--down); }
  table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
  th { text-align: left; font-weight: 600; color: var(--muted); font-size: 12px; border-bottom: 1px solid var(--line); padding: 6px 8px; }
  td { padding: 5px 8px; border-bottom: 1px solid var(--line); }
  td.mono, th.mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
  td.num { text-align: right; }
  tr.pool-head td { background: #f0f2f5; font-weight: 600; }
  tr.pool-head.dead td { background: #fdecea; color: var(--down); }
  .health { display: inline-block; min-width: 64px; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; text-align: center; }
  .health.up { background: var(--up); } .health.down { background: var(--down); } .health.pending { background: var(--pending); }
  .next { color: var(--next); font-weight: 600; }
  .empty { color: var(--muted); padding: 18px 0; }
</style>
</head>
<body>
<header><h1>conv status</h1><span class="where" id="where">discovery</span><span class="live" id="live">connecting...</span></header>
<main>
  <section id="graph-card">
    <h2>Unit graph</h2>
    <div class="counts" id="counts"></div>
    <svg id="graph" viewBox="0 0 420 420" role="img" aria-label="unit graph"></svg>
    <div class="legend">edge = a pool of converters<i></i>has an endpoint up<i class="dead"></i>dead: none up</div>
  </section>
  <section>
    <h2>Pools</h2>
    <table id="pools">
      <thead><tr><th>pair</th><th class="mono">endpoint</th><th>health</th><th>last check</th><th>served</th><th>round robin</th></tr></thead>
      <tbody></tbody>
    </table>
    <div class="empty" id="empty" hidden>No converter is registered yet.</div>
  </section>
</main>
<script>
"use strict";
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
function el(tag, attrs, text) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}
function ago(ms, now) {
  if (ms === null) return "never";
  const s = Math.max(0, (now - ms) / 1000);
  return s < 10 ? s.toFixed(1) + " s ago" : s < 120 ? Math.round(s) + " s ago" : Math.round(s / 60) + " min ago";
}
function drawCounts(c) {
  const box = $("counts");
  box.replaceChildren();
  for (const [key, label] of [["pools", "pools"], ["endpoints", "endpoints"], ["up", "up"], ["down", "down"], ["pending", "pending"]]) {
    const item = el("div", { class: "count " + key, "data-count": key });
    item.append(el("b", {}, String(c[key])), el("span", {}, label));
    box.append(item);
  }
}
// Units on a circle in alphabetical order: the same registry always gives the same picture.
function drawGraph(graph) {
  const svg = $("graph");
  svg.replaceChildren();
  const n = graph.units.length, cx = 210, cy = 210, r = n > 1 ? 160 : 0;
  const at = new Map(graph.units.map((unit, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(n, 1);
    return [unit, { x: cx + r * Math.cos(a), y: cy + r * Math.sin(a) }];
  }));
  const edges = el("svg:g", { class: "edges" });
  for (const edge of graph.edges) {
    const p = at.get(edge.pair[0]), q = at.get(edge.pair[1]);
    const line = el("svg:line", { class: edge.alive ? "edge" : "edge dead", "data-pair": edge.pair.join("/"), x1: p.x, y1: p.y, x2: q.x, y2: q.y });
    line.append(el("svg:title", {}, edge.pair.join(" <-> ") + (edge.alive ? "" : " (dead: no endpoint up)")));
    edges.append(line);
  }
  const nodes = el("svg:g", { class: "nodes" });
  for (const unit of graph.units) {
    const p = at.get(unit);
    const g = el("svg:g", { class: "node", "data-unit": unit, transform: "translate(" + p.x + "," + p.y + ")" });
    g.append(el("svg:circle", { r: Math.max(18, 6 + unit.length * 4.5) }), el("svg:text", {}, unit));
    nodes.append(g);
  }
  svg.append(edges, nodes);
}
function drawPools(report) {
  const body = $("pools").tBodies[0];
  body.replaceChildren();
  $("empty").hidden = report.pools.length > 0;
  for (const pool of report.pools) {
    const pair = pool.pair.join(" <-> ");
    const head = el("tr", { class: pool.up > 0 ? "pool-head" : "pool-head dead", "data-pool": pool.pair.join("/") });
    head.append(el("td", { colspan: 6 }, pair + "   " + pool.up + " of " + pool.endpoints.length + " up" + (pool.up > 0 ? "" : " - dead")));
    body.append(head);
    for (const e of pool.endpoints) {
      const row = el("tr", { "data-endpoint": e.address, "data-health": e.health });
      const health = el("td");
      health.append(el("span", { class: "health " + e.health }, e.health));
      row.append(el("td", { class: "mono" }, pool.pair.join("/")), el("td", { class: "mono" }, e.address), health,
        el("td", {}, ago(e.lastCheck, report.now)), el("td", { class: "num" }, String(e.served)),
        e.next ? el("td", { class: "next" }, "\\u2192 next") : el("td"));
      body.append(row);
    }
  }
}
let failures = 0;
async function refresh() {
  try {
    const response = await fetch("status.json", { cache: "no-store" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    const report = await response.json();
    failures = 0;
    $("where").textContent = "discovery " + report.address;
    drawCounts(report.counts);
    drawGraph(report.graph);
    drawPools(report);
    const live = $("live");
    live.className = "live";
    live.textContent = "live - updated " + new Date(report.now).toLocaleTimeString();
  } catch (error) {
    failures++;
    const live = $("live");
    live.className = "live stale";
    live.textContent = "cannot reach discovery (" + (error && error.message ? error.message : error) + "); retrying";
  } finally {
    setTimeout(refresh, 1000);
  }
}
refresh();
</script>
</body>
</html>
`;
