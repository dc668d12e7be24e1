/**
 * The status page: one self-contained HTML document (inline CSS and script, nothing fetched
 * but `status.json` from the same server), polling once a second. Everything the page shows
 * comes from `statusReport` (status.ts), the graph's layout included (graph-layout.ts); text
 * is set with textContent, never parsed as HTML. Laid out for a laptop screen (1400x1000):
 * the graph and this server's identity on the left, every pool beside them, none below the fold.
 */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>conv status</title>
<style>
  :root { --bg: #f6f7f9; --card: #fff; --ink: #1d2330; --muted: #667085; --line: #e3e6eb;
          --up: #1f9d55; --down: #d93025; --pending: #b7791f; --wrong: #8e24aa; --next: #2b6cb0; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--ink); }
  header { display: flex; align-items: baseline; gap: 14px; padding: 12px 24px; background: #1d2330; color: #fff; flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0; font-weight: 600; }
  header .where { font: 600 15px ui-monospace, SFMono-Regular, Menlo, monospace; color: #fff; }
  header .store { color: #c3c9d4; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
  header .live { margin-left: auto; font-size: 12px; color: #c3c9d4; }
  header .live.stale { color: #ffb4ab; }
  main { display: grid; grid-template-columns: minmax(380px, 620px) minmax(560px, 1fr); gap: 16px; padding: 16px 24px; align-items: start; }
  @media (max-width: 980px) { main { grid-template-columns: 1fr; } }
  .side { display: grid; gap: 16px; }
  section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 0 0 8px; }
  .counts { display: flex; gap: 18px; margin-bottom: 8px; flex-wrap: wrap; }
  .count b { display: block; font-size: 22px; }
  .count span { color: var(--muted); font-size: 12px; }
  .count.up b { color: var(--up); } .count.down b { color: var(--down); } .count.pending b { color: var(--pending); } .count.wrong b { color: var(--wrong); }
  svg { width: 100%; height: auto; display: block; margin: 0 auto; }
  .edge { stroke: #8a94a6; stroke-width: 2.5; fill: none; }
  .edge.dead { stroke: var(--down); stroke-dasharray: 7 5; }
  .node circle { fill: #fff; stroke: #1d2330; stroke-width: 1.5; }
  .node text { font: 600 12px ui-monospace, SFMono-Regular, Menlo, monospace; text-anchor: middle; dominant-baseline: central; }
  .legend { color: var(--muted); font-size: 12px; margin-top: 6px; }
  .legend i { display: inline-block; width: 26px; height: 0; border-top: 2.5px solid #8a94a6; vertical-align: middle; margin: 0 4px 0 10px; }
  .legend i.dead { border-top: 2.5px dashed var(--down); }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 0; font-size: 13px; }
  dt { color: var(--muted); } dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; overflow-wrap: anywhere; }
  .note { color: var(--muted); font-size: 12px; margin: 8px 0 0; }
  table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 13px; }
  th { text-align: left; font-weight: 600; color: var(--muted); font-size: 12px; border-bottom: 1px solid var(--line); padding: 4px 8px; }
  td { padding: 3px 8px; border-top: 1px solid var(--line); }
  tbody th.pair { vertical-align: top; color: var(--ink); font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; border-top: 1px solid #c9ced6; background: #f0f2f5; white-space: nowrap; }
  tbody th.pair small { display: block; color: var(--muted); font: 400 11px system-ui, sans-serif; }
  tbody.dead th.pair { background: #fdecea; color: var(--down); }
  tbody.dead th.pair small { color: var(--down); }
  tbody tr:first-child td { border-top-color: #c9ced6; }
  td.mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
  td.served { text-align: right; }
  td.lease.lapsed { color: var(--down); }
  .health { display: inline-block; min-width: 60px; padding: 0 8px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; text-align: center; }
  .health.up { background: var(--up); } .health.down { background: var(--down); } .health.pending { background: var(--pending); } .health.wrong { background: var(--wrong); }
  .next { color: var(--next); font-weight: 600; }
  .empty { color: var(--muted); padding: 18px 0; }
</style>
</head>
<body>
<header><h1>conv status</h1><span class="where" id="where">discovery</span><span class="store" id="store"></span><span class="live" id="live">connecting...</span></header>
<main>
  <div class="side">
    <section id="graph-card">
      <h2>Unit graph</h2>
      <div class="counts" id="counts"></div>
      <svg id="graph" viewBox="0 0 100 60" role="img" aria-label="unit graph"></svg>
      <div class="legend">paths read left to right; edge = a pool of converters<i></i>an endpoint up<i class="dead"></i>dead: none up</div>
    </section>
    <section id="server">
      <h2>This discovery server</h2>
      <dl>
        <dt>address</dt><dd id="server-address"></dd>
        <dt>registry</dt><dd id="server-registry"></dd>
        <dt>pid</dt><dd id="server-pid"></dd>
        <dt>up since</dt><dd id="server-since"></dd>
      </dl>
      <p class="note" id="server-note"></p>
    </section>
  </div>
  <section id="pools-card">
    <h2>Pools</h2>
    <table id="pools">
      <thead><tr><th>pair</th><th>endpoint</th><th>health</th><th>lease</th><th>last check</th><th>served</th><th>round robin</th></tr></thead>
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
  for (const [key, label] of [["pools", "pools"], ["endpoints", "endpoints"], ["up", "up"], ["down", "down"], ["pending", "pending"], ["wrong", "wrong"], ["leased", "leased"], ["lapsed", "lapsed"]]) {
    if (c[key] === undefined) continue;
    const item = el("div", { class: "count " + key, "data-count": key });
    item.append(el("b", {}, String(c[key])), el("span", {}, label));
    box.append(item);
  }
}
// Units where the server's layout puts them: columns left to right, so a path reads across.
function drawGraph(graph) {
  const svg = $("graph");
  svg.replaceChildren();
  const layout = graph.layout;
  svg.setAttribute("viewBox", "0 0 " + layout.width + " " + layout.height);
  svg.style.maxWidth = Math.round(layout.width * 1.4) + "px";
  const at = new Map(layout.nodes.map((node) => [node.unit, node]));
  const edges = el("svg:g", { class: "edges" });
  for (const edge of graph.edges) {
    const p = at.get(edge.pair[0]), q = at.get(edge.pair[1]);
    if (!p || !q) continue;
    // Two units of one column (an odd cycle): a curve beside the column, not through it.
    const d = p.x === q.x
      ? "M" + p.x + " " + p.y + " Q" + (p.x + 34) + " " + (p.y + q.y) / 2 + " " + q.x + " " + q.y
      : "M" + p.x + " " + p.y + " L" + q.x + " " + q.y;
    const path = el("svg:path", { class: edge.alive ? "edge" : "edge dead", "data-pair": edge.pair.join("/"), d });
    path.append(el("svg:title", {}, edge.pair.join(" <-> ") + (edge.alive ? "" : " (dead: no endpoint up)")));
    edges.append(path);
  }
  const nodes = el("svg:g", { class: "nodes" });
  for (const node of layout.nodes) {
    const g = el("svg:g", { class: "node", "data-unit": node.unit, transform: "translate(" + node.x + "," + node.y + ")" });
    g.append(el("svg:circle", { r: Math.max(17, 6 + node.unit.length * 4.2) }), el("svg:text", {}, node.unit));
    nodes.append(g);
  }
  svg.append(edges, nodes);
}
function drawServer(report) {
  $("where").textContent = "discovery " + report.address;
  $("store").textContent = (report.shared ? "shared registry " : "registry ") + report.registry;
  document.title = "conv status - discovery " + report.address;
  $("server-address").textContent = report.address;
  $("server-registry").textContent = report.registry;
  $("server-pid").textContent = String(report.pid);
  $("server-since").textContent = new Date(report.startedAt).toLocaleString() + " (" + ago(report.startedAt, report.now) + ")";
  $("server-note").textContent = report.shared
    ? "One of the replicas sharing this registry: its round robin and served counts are its own; each replica has its page."
    : report.registry === ":memory:"
      ? "The registry is in memory: a restart starts from nothing."
      : "Served counts are kept in the registry file: they survive a restart.";
}
// A heartbeating endpoint's lease: its length, and when it lapses (or that it has); none: probed only.
function leaseText(e, now) {
  const lapses = e.lapses > 0 ? " (lapsed " + e.lapses + "x)" : "";
  if (!e.lease) return "none, probed" + lapses;
  const length = (e.lease.ms / 1000) + " s";
  if (e.lease.lapsed) return length + ", lapsed" + lapses;
  if (e.lease.expiresAt === null) return length + ", renewed through etcd" + lapses;
  return length + ", lapses in " + Math.max(0, (e.lease.expiresAt - now) / 1000).toFixed(1) + " s" + lapses;
}
function drawPools(report) {
  const table = $("pools");
  for (const body of [...table.tBodies]) body.remove();
  $("empty").hidden = report.pools.length > 0;
  for (const pool of report.pools) {
    const body = el("tbody", { class: pool.up > 0 ? "pool" : "pool dead", "data-pool": pool.pair.join("/") });
    const pair = el("th", { class: "pair", scope: "rowgroup", rowspan: Math.max(1, pool.endpoints.length) }, pool.pair.join(" \\u2194 "));
    pair.append(el("small", {}, pool.up + " of " + pool.endpoints.length + " up" + (pool.up > 0 ? "" : " - dead")));
    for (const [i, e] of pool.endpoints.entries()) {
      const row = el("tr", { "data-endpoint": e.address, "data-health": e.health });
      if (i === 0) row.append(pair);
      const health = el("td");
      health.append(el("span", { class: "health " + e.health }, e.health));
      const lease = el("td", { class: "lease" + (e.lease && e.lease.lapsed ? " lapsed" : "") }, leaseText(e, report.now));
      row.append(el("td", { class: "mono" }, e.address), health, lease, el("td", {}, ago(e.lastCheck, report.now)),
        el("td", { class: "served" }, String(e.served)), e.next ? el("td", { class: "next" }, "\\u2192 next") : el("td"));
      body.append(row);
    }
    table.append(body);
  }
}
async function refresh() {
  try {
    const response = await fetch("status.json", { cache: "no-store" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    const report = await response.json();
    drawServer(report);
    drawCounts(report.counts);
    drawGraph(report.graph);
    drawPools(report);
    const live = $("live");
    live.className = "live";
    live.textContent = "live - updated " + new Date(report.now).toLocaleTimeString();
  } catch (error) {
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
