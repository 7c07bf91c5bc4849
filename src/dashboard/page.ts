/**
 * The dashboard's single HTML page: vanilla JavaScript, inline CSS and an inline SVG chart,
 * no build step and nothing loaded from other hosts. It polls `/api/status` and `/api/dlq`.
 * @internal
 */
export function dashboardPage(refreshMs: number): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sluice dashboard</title>
<style>
  :root { --bg:#f5f6f8; --card:#fff; --ink:#1d2433; --muted:#6b7385; --line:#e3e6ec; --accent:#2f6fed;
          --ok:#1f9d55; --warn:#d08a00; --bad:#d64545; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background:var(--bg); color:var(--ink); }
  header { display:flex; align-items:center; gap:16px; padding:14px 24px; background:#172033; color:#fff; }
  header h1 { font-size:18px; margin:0; font-weight:600; letter-spacing:.3px; }
  header .meta { color:#aab4c8; font-size:13px; }
  header .spacer { flex:1; }
  main { display:grid; grid-template-columns: repeat(12, 1fr); gap:16px; padding:20px 24px; max-width:1400px; margin:0 auto; }
  .card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:14px 16px; min-width:0; }
  .card h2 { font-size:13px; text-transform:uppercase; letter-spacing:.6px; color:var(--muted); margin:0 0 10px; font-weight:600; }
  .kpis { grid-column: span 12; display:grid; grid-template-columns: repeat(5, 1fr); gap:16px; }
  .kpi .v { font-size:26px; font-weight:600; }
  .kpi .l { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.5px; }
  .w4 { grid-column: span 4; } .w6 { grid-column: span 6; } .w8 { grid-column: span 8; } .w12 { grid-column: span 12; }
  @media (max-width: 1000px) { .w4,.w6,.w8 { grid-column: span 12; } .kpis { grid-template-columns: repeat(2, 1fr); } }
  table { width:100%; border-collapse:collapse; font-size:13px; }
  th { text-align:left; color:var(--muted); font-weight:600; border-bottom:1px solid var(--line); padding:6px 8px; }
  td { border-bottom:1px solid var(--line); padding:6px 8px; vertical-align:top; }
  tr:last-child td { border-bottom:none; }
  td.num, th.num { text-align:right; font-variant-numeric: tabular-nums; }
  .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12px; }
  .pill { display:inline-block; padding:1px 8px; border-radius:999px; font-size:12px; font-weight:600; }
  .pill.closed, .pill.running { background:#e5f6ec; color:var(--ok); }
  .pill.half-open, .pill.restarting, .pill.starting { background:#fff4dc; color:var(--warn); }
  .pill.open, .pill.failed, .pill.terminated, .pill.stopped { background:#fde8e8; color:var(--bad); }
  .empty { color:var(--muted); font-style:italic; padding:6px 0; }
  .bar { height:6px; background:#eef1f6; border-radius:3px; overflow:hidden; min-width:60px; }
  .bar > span { display:block; height:100%; background:var(--accent); }
  .bar.hot > span { background:var(--bad); }
  button { font:inherit; font-size:12px; border:1px solid var(--accent); color:var(--accent); background:#fff; border-radius:6px; padding:3px 10px; cursor:pointer; }
  button:hover { background:var(--accent); color:#fff; }
  button:disabled { opacity:.5; cursor:default; }
  ul.tree, ul.tree ul { list-style:none; margin:0; padding-left:18px; }
  ul.tree { padding-left:0; }
  ul.tree li { padding:3px 0; }
  ul.tree ul { border-left:1px dashed var(--line); margin-left:6px; }
  .legend { display:flex; gap:14px; font-size:12px; color:var(--muted); margin-bottom:6px; }
  .legend i { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:5px; vertical-align:-1px; }
  #error { color:var(--bad); font-size:13px; }
  svg text { font-size:11px; fill: var(--muted); }
</style>
</head>
<body>
<header>
  <h1>Sluice</h1>
  <span class="meta" id="backend">connecting…</span>
  <span class="spacer"></span>
  <span id="error"></span>
  <span class="meta" id="updated"></span>
</header>
<main>
  <section class="kpis">
    <div class="card kpi"><div class="l">Topics</div><div class="v" id="k-topics">–</div></div>
    <div class="card kpi"><div class="l">Events appended</div><div class="v" id="k-events">–</div></div>
    <div class="card kpi"><div class="l">Total lag</div><div class="v" id="k-lag">–</div></div>
    <div class="card kpi"><div class="l">Members alive</div><div class="v" id="k-members">–</div></div>
    <div class="card kpi"><div class="l">Dead letters</div><div class="v" id="k-dlq">–</div></div>
  </section>
  <section class="card w8">
    <h2>Throughput (events/s)</h2>
    <div class="legend"><span><i style="background:#2f6fed"></i>appended</span><span><i style="background:#1f9d55"></i>committed</span><span><i style="background:#d08a00"></i>processed (pipelines)</span></div>
    <svg id="chart" viewBox="0 0 760 180" width="100%" height="180" role="img" aria-label="throughput chart"></svg>
  </section>
  <section class="card w4">
    <h2>Supervision</h2>
    <div id="tree"></div>
  </section>
  <section class="card w8">
    <h2>Partitions</h2>
    <div id="partitions"></div>
  </section>
  <section class="card w4">
    <h2>Circuit breakers</h2>
    <div id="breakers"></div>
    <h2 style="margin-top:16px">Members</h2>
    <div id="members"></div>
  </section>
  <section class="card w12">
    <h2>Dead-letter queue</h2>
    <div id="dlq"></div>
  </section>
</main>
<script>
"use strict";
const REFRESH_MS = ${Number(refreshMs)};
const MAX_POINTS = 60;
const series = [];
const $ = (id) => document.getElementById(id);
const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const fmt = (n) => Number(n).toLocaleString('en-US');
const ago = (ms) => { const s = Math.max(0, Math.round((Date.now() - ms) / 1000)); return s < 120 ? s + 's ago' : Math.round(s / 60) + 'm ago'; };

async function api(path, init) {
  const res = await fetch(path, Object.assign({ credentials: 'same-origin', headers: { accept: 'application/json' } }, init || {}));
  if (!res.ok) throw new Error(path + ': HTTP ' + res.status);
  return res.json();
}

function renderTree(nodes) {
  if (nodes.length === 0) return '<div class="empty">no supervisors registered</div>';
  const node = (n) => '<li><b>' + esc(n.id) + '</b> <span class="pill ' + esc(n.status) + '">' + esc(n.status) + '</span>' +
    (n.strategy ? ' <span class="mono">' + esc(n.strategy) + '</span>' : ' <span class="mono">' + esc(n.kind) + '</span>') +
    (n.node ? ' <span class="mono">@' + esc(n.node) + '</span>' : '') +
    (n.restarts ? ' <span class="mono">↻' + esc(n.restarts) + '</span>' : '') +
    (n.children && n.children.length ? '<ul>' + n.children.map(node).join('') + '</ul>' : '') + '</li>';
  return '<ul class="tree">' + nodes.map(node).join('') + '</ul>';
}

function renderPartitions(s) {
  if (s.groups.length === 0 && s.topics.length === 0) return '<div class="empty">no topics known</div>';
  let rows = '';
  for (const g of s.groups) for (const p of g.partitions) {
    const pct = p.endOffset ? Math.round((p.committed / p.endOffset) * 100) : 100;
    rows += '<tr><td>' + esc(g.group) + '</td><td>' + esc(g.topic) + '</td><td class="num">' + p.partition + '</td><td>' +
      (p.owner ? esc(p.owner) + ' <span class="mono">#' + p.fencingToken + '</span>' : '<span class="empty">unowned</span>') +
      '</td><td class="num">' + fmt(p.committed) + '</td><td class="num">' + fmt(p.endOffset) + '</td><td class="num">' + fmt(p.lag) +
      '</td><td><div class="bar' + (p.lag > 0 && pct < 50 ? ' hot' : '') + '"><span style="width:' + pct + '%"></span></div></td></tr>';
  }
  const groupsTable = s.groups.length === 0 ? '<div class="empty">no consumer groups known (start the dashboard with --group, or run partitioned runners)</div>' :
    '<table><thead><tr><th>group</th><th>topic</th><th class="num">partition</th><th>owner</th><th class="num">committed</th><th class="num">end</th><th class="num">lag</th><th>progress</th></tr></thead><tbody>' + rows + '</tbody></table>';
  const topics = '<table style="margin-top:12px"><thead><tr><th>topic</th><th class="num">partitions</th><th>end offsets</th><th class="num">events</th></tr></thead><tbody>' +
    s.topics.map((t) => '<tr><td>' + esc(t.topic) + '</td><td class="num">' + t.partitions.length + '</td><td class="mono">' +
      esc(t.partitions.map((p) => p.endOffset).join(' ')) + '</td><td class="num">' + fmt(t.endOffsetTotal) + '</td></tr>').join('') + '</tbody></table>';
  return groupsTable + topics;
}

function renderBreakers(list) {
  if (list.length === 0) return '<div class="empty">no circuit breakers registered</div>';
  return '<table><tbody>' + list.map((b) => '<tr><td>' + esc(b.name) + '</td><td><span class="pill ' + esc(b.state) + '">' + esc(b.state) +
    '</span></td><td class="num mono">' + (b.failures ?? '') + '</td></tr>').join('') + '</tbody></table>';
}

function renderMembers(list) {
  if (list.length === 0) return '<div class="empty">no members alive</div>';
  return '<table><tbody>' + list.map((m) => '<tr><td>' + esc(m.node) + '</td><td class="num">' + ago(m.lastHeartbeat) + '</td></tr>').join('') + '</tbody></table>';
}

function renderDlq(d) {
  if (d.entries.length === 0) return '<div class="empty">The dead-letter queue is empty.</div>';
  return '<table id="dlq-table"><thead><tr><th>id</th><th>source</th><th>origin</th><th>key</th><th class="num">attempts</th><th>last failed</th><th>error</th><th>payload</th><th></th></tr></thead><tbody>' +
    d.entries.map((e) => '<tr data-id="' + esc(e.id) + '"><td class="mono">' + esc(e.id) + '</td><td>' + esc(e.source) + '</td><td class="mono">' +
      esc(e.topic === undefined ? '–' : e.topic + (e.partition === undefined ? '' : '/' + e.partition) + (e.offset === undefined ? '' : '@' + e.offset)) +
      '</td><td class="mono">' + esc(e.key ?? '–') + '</td><td class="num">' + e.attempts + '</td><td>' + ago(e.lastFailedAt) + '</td><td>' +
      esc((e.error.code ? e.error.code + ': ' : '') + e.error.message) + '</td><td class="mono">' + esc(JSON.stringify(e.payload).slice(0, 80)) +
      '</td><td>' + (e.topic === undefined ? '' : '<button data-replay="' + esc(e.id) + '">Replay</button>') + '</td></tr>').join('') +
    '</tbody></table>' + (d.total > d.entries.length ? '<div class="empty">showing ' + d.entries.length + ' of ' + fmt(d.total) + '</div>' : '');
}

function renderChart() {
  const svg = $('chart');
  const W = 760, H = 180, L = 48, B = 20, T = 8;
  const keys = [['appended', '#2f6fed'], ['committed', '#1f9d55'], ['processed', '#d08a00']];
  const max = Math.max(1, ...series.flatMap((p) => keys.map(([k]) => p[k])));
  const x = (i) => L + (i * (W - L - 8)) / (MAX_POINTS - 1);
  const y = (v) => H - B - (v / max) * (H - B - T);
  let out = '';
  for (let g = 0; g <= 4; g++) {
    const v = (max * g) / 4;
    out += '<line x1="' + L + '" x2="' + (W - 8) + '" y1="' + y(v) + '" y2="' + y(v) + '" stroke="#eef1f6"/>' +
      '<text x="' + (L - 6) + '" y="' + (y(v) + 4) + '" text-anchor="end">' + (v >= 10 ? Math.round(v) : v.toFixed(1)) + '</text>';
  }
  const offset = MAX_POINTS - series.length;
  for (const [k, color] of keys) {
    if (series.length < 2) break;
    const pts = series.map((p, i) => x(offset + i).toFixed(1) + ',' + y(p[k]).toFixed(1)).join(' ');
    out += '<polyline fill="none" stroke="' + color + '" stroke-width="2" points="' + pts + '"/>';
  }
  out += '<text x="' + L + '" y="' + (H - 4) + '">' + Math.round((MAX_POINTS * REFRESH_MS) / 1000) + 's ago</text><text x="' + (W - 8) + '" y="' + (H - 4) + '" text-anchor="end">now</text>';
  if (series.length < 2) out += '<text x="' + (W / 2) + '" y="' + (H / 2) + '" text-anchor="middle">collecting samples…</text>';
  svg.innerHTML = out;
}

let last;
function sample(s) {
  const appended = s.topics.reduce((a, t) => a + t.endOffsetTotal, 0);
  const committed = s.groups.reduce((a, g) => a + g.committedTotal, 0);
  const processed = s.pipelines.reduce((a, p) => a + p.processed, 0);
  const now = { at: s.at, appended, committed, processed };
  if (last && now.at > last.at) {
    const dt = (now.at - last.at) / 1000;
    series.push({ appended: Math.max(0, (appended - last.appended) / dt), committed: Math.max(0, (committed - last.committed) / dt), processed: Math.max(0, (processed - last.processed) / dt) });
    if (series.length > MAX_POINTS) series.shift();
  }
  last = now;
}

async function refresh() {
  try {
    const [s, d] = await Promise.all([api('api/status'), api('api/dlq?limit=100')]);
    $('backend').textContent = 'backend: ' + s.backend;
    $('k-topics').textContent = fmt(s.topics.length);
    $('k-events').textContent = fmt(s.topics.reduce((a, t) => a + t.endOffsetTotal, 0));
    $('k-lag').textContent = fmt(s.groups.reduce((a, g) => a + g.lagTotal, 0));
    $('k-members').textContent = fmt(s.members.length);
    $('k-dlq').textContent = fmt(d.total);
    $('tree').innerHTML = renderTree(s.supervision);
    $('partitions').innerHTML = renderPartitions(s);
    $('breakers').innerHTML = renderBreakers(s.breakers);
    $('members').innerHTML = renderMembers(s.members);
    $('dlq').innerHTML = renderDlq(d);
    sample(s);
    renderChart();
    $('updated').textContent = 'updated ' + new Date(s.at).toLocaleTimeString();
    $('error').textContent = '';
  } catch (e) {
    $('error').textContent = String(e.message || e);
  }
}

document.addEventListener('click', async (ev) => {
  const b = ev.target.closest && ev.target.closest('button[data-replay]');
  if (!b) return;
  b.disabled = true;
  b.textContent = 'Replaying…';
  try {
    await api('api/dlq/' + encodeURIComponent(b.dataset.replay) + '/replay', { method: 'POST', headers: { accept: 'application/json', 'x-sluice-action': '1' } });
  } catch (e) {
    $('error').textContent = String(e.message || e);
  }
  await refresh();
});

refresh();
setInterval(refresh, REFRESH_MS);
</script>
</body>
</html>
`;
}
