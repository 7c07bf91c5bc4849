// The dashboard page's script: polls the JSON API and renders KPIs, keys, partitions, charts and the DLQ.

/**
 * The page's inline script (run by nonce under the page's CSP; no inline handlers or styles).
 * @internal
 */
export function dashboardScript(refreshMs: number): string {
  return `
"use strict";
const REFRESH_MS = ${Number(refreshMs)};
let dlqKey = '';
const MAX_POINTS = 60;
const series = [];
const $ = (id) => document.getElementById(id);
const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const fmt = (n) => Number(n).toLocaleString('en-US');
const dur = (ms) => { const s = Math.max(0, Math.round(ms / 1000)); return s < 120 ? s + 's' : s < 7200 ? Math.round(s / 60) + 'm' : Math.round(s / 3600) + 'h'; };
const WHY = { backoff: 'backoff after a failed attempt', limiter: 'rate limited', breaker: 'circuit breaker open' };
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

function sparkline(points) {
  if (!points || points.length < 2) return '<span class="empty">–</span>';
  const W = 90, H = 20, max = Math.max(1, ...points);
  const pts = points.map((v, i) => (i * W / (points.length - 1)).toFixed(1) + ',' + (H - 1 - (v / max) * (H - 2)).toFixed(1)).join(' ');
  return '<svg class="spark" viewBox="0 0 ' + W + ' ' + H + '" width="' + W + '" height="' + H + '" role="img" aria-label="lag trend"><polyline fill="none" stroke="#2f6fed" stroke-width="1.5" points="' + pts + '"/></svg>';
}

function renderPartitions(s) {
  if (s.groups.length === 0 && s.topics.length === 0) return '<div class="empty">no topics known</div>';
  const hist = s.lagHistory || {};
  let rows = '';
  for (const g of s.groups) for (const p of g.partitions) {
    const pct = p.endOffset ? Math.round((p.committed / p.endOffset) * 100) : 100;
    rows += '<tr><td>' + esc(g.group) + '</td><td>' + esc(g.topic) + '</td><td class="num">' + p.partition + '</td><td>' +
      (p.owner ? esc(p.owner) + ' <span class="mono">#' + p.fencingToken + '</span>' : '<span class="empty">unowned</span>') +
      '</td><td class="num">' + fmt(p.committed) + '</td><td class="num">' + fmt(p.endOffset) + '</td><td class="num">' + fmt(p.lag) +
      '</td><td>' + sparkline(hist[g.group + '/' + g.topic + '/' + p.partition]) + '</td><td><div class="bar' + (p.lag > 0 && pct < 50 ? ' hot' : '') + '"><span data-pct="' + pct + '"></span></div></td></tr>';
  }
  const groupsTable = s.groups.length === 0 ? '<div class="empty">no consumer groups known (start the dashboard with --group, or run partitioned runners)</div>' :
    '<table><thead><tr><th>group</th><th>topic</th><th class="num">partition</th><th>owner</th><th class="num">committed</th><th class="num">end</th><th class="num">lag</th><th>lag trend</th><th>progress</th></tr></thead><tbody>' + rows + '</tbody></table>';
  const topics = '<table class="mt12"><thead><tr><th>topic</th><th class="num">partitions</th><th>end offsets</th><th class="num">events</th></tr></thead><tbody>' +
    s.topics.map((t) => '<tr><td>' + esc(t.topic) + '</td><td class="num">' + t.partitions.length + '</td><td class="mono">' +
      esc(t.partitions.map((p) => p.endOffset).join(' ')) + '</td><td class="num">' + fmt(t.endOffsetTotal) + '</td></tr>').join('') + '</tbody></table>';
  return groupsTable + topics;
}

function renderKeys(k, at) {
  if (k.waiting.length === 0) return '<div class="empty">no key is waiting: nothing parked, retrying or blocked</div>';
  return '<table id="keys-table"><thead><tr><th>key</th><th>pipeline</th><th>state</th><th>why</th><th class="num" title="how long the key has been held up">held</th><th class="num" title="when it runs again">next</th><th class="num">attempts</th><th class="num" title="items of the key waiting behind it">queued</th><th>last error</th></tr></thead><tbody>' +
    k.waiting.map((w) => '<tr data-key="' + esc(w.key) + '"><td class="mono">' + esc(w.key) + '</td><td>' + esc(w.pipeline) + '</td><td><span class="pill ' + esc(w.state) + '">' + esc(w.state) +
      '</span></td><td>' + esc(WHY[w.reason] || w.reason) + '</td><td class="num">' + dur(at - w.since) + '</td><td class="num">' + dur(w.until - at) + '</td><td class="num">' + w.attempts +
      '</td><td class="num">' + fmt(w.blocked) + '</td><td class="err">' + esc(w.error || '') + '</td></tr>').join('') + '</tbody></table>';
}

function renderHot(list) {
  if (list.length === 0) return '<div class="empty">no key holds more than one item</div>';
  const max = Math.max(1, ...list.map((h) => h.items));
  return '<table id="hot-table"><tbody>' + list.map((h) => '<tr><td class="mono">' + esc(h.key) + '</td><td>' + esc(h.pipeline) + '</td><td class="num">' + fmt(h.items) +
    '</td><td><div class="bar"><span data-pct="' + Math.round((h.items / max) * 100) + '"></span></div></td></tr>').join('') + '</tbody></table>';
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
  if (d.entries.length === 0) return '<div class="empty">' + (dlqKey ? 'No dead letter with key ' + esc(dlqKey) + '.' : 'The dead-letter queue is empty.') + '</div>';
  return '<table id="dlq-table"><thead><tr><th>id</th><th class="wide">source</th><th>origin</th><th>key</th><th class="num">attempts</th><th>last failed</th><th>error</th><th class="wide">payload</th><th></th></tr></thead><tbody>' +
    d.entries.map((e) => '<tr data-id="' + esc(e.id) + '"><td class="mono">' + esc(e.id) + '</td><td class="wide">' + esc(e.source) + '</td><td class="mono key">' +
      esc(e.topic === undefined ? '–' : e.topic + (e.partition === undefined ? '' : '/' + e.partition) + (e.offset === undefined ? '' : '@' + e.offset)) +
      '</td><td class="mono key">' + esc(e.key ?? '–') + '</td><td class="num">' + e.attempts + '</td><td>' + ago(e.lastFailedAt) + '</td><td class="err">' +
      esc((e.error.code ? e.error.code + ': ' : '') + e.error.message) + '</td><td class="mono wide">' + esc(JSON.stringify(e.payload).slice(0, 80)) +
      '</td><td>' + (e.topic === undefined ? '' : '<button data-replay="' + esc(e.id) + '">Replay</button>') + '</td></tr>').join('') +
    '</tbody></table>' + (dlqKey ? '<div class="empty" id="dlq-count">' + fmt(d.matched) + ' with key ' + esc(dlqKey) + ' (of ' + fmt(d.total) + ')' + (d.truncated ? ', first ' + fmt(d.scanned) + ' scanned' : '') + '</div>' :
    d.total > d.entries.length ? '<div class="empty">showing ' + d.entries.length + ' of ' + fmt(d.total) + '</div>' : '');
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
    const [s, d] = await Promise.all([api('api/status'), api('api/dlq?limit=100' + (dlqKey ? '&key=' + encodeURIComponent(dlqKey) : ''))]);
    $('backend').textContent = 'backend: ' + s.backend;
    $('k-topics').textContent = fmt(s.topics.length);
    $('k-events').textContent = fmt(s.topics.reduce((a, t) => a + t.endOffsetTotal, 0));
    $('k-lag').textContent = fmt(s.groups.reduce((a, g) => a + g.lagTotal, 0));
    $('k-members').textContent = fmt(s.members.length);
    $('k-dlq').textContent = fmt(d.total);
    $('k-waiting').textContent = fmt(s.keys.waiting.length);
    const sch = s.scheduled;
    $('kpi-delayed').hidden = !(sch && sch.delayed !== undefined);
    $('kpi-schedules').hidden = !(sch && sch.schedules !== undefined);
    if (sch) { $('k-delayed').textContent = fmt(sch.delayed ?? 0); $('k-schedules').textContent = fmt(sch.schedules ?? 0); }
    $('keys').innerHTML = renderKeys(s.keys, s.at);
    $('hot').innerHTML = renderHot(s.keys.hot);
    $('bulk-replay').disabled = !dlqKey || d.entries.length === 0;
    $('tree').innerHTML = renderTree(s.supervision);
    $('partitions').innerHTML = renderPartitions(s);
    $('breakers').innerHTML = renderBreakers(s.breakers);
    $('members').innerHTML = renderMembers(s.members);
    $('dlq').innerHTML = renderDlq(d);
    // Widths set through the CSSOM: the page's CSP allows no inline style attributes.
    for (const el of document.querySelectorAll('.bar span[data-pct]')) el.style.width = el.dataset.pct + '%';
    sample(s);
    renderChart();
    $('updated').textContent = 'updated ' + new Date(s.at).toLocaleTimeString();
    $('error').textContent = '';
  } catch (e) {
    $('error').textContent = String(e.message || e);
  }
}

$('dlq-filter').addEventListener('submit', (ev) => {
  ev.preventDefault();
  dlqKey = $('dlq-key').value.trim();
  refresh();
});

$('bulk-replay').addEventListener('click', async () => {
  if (!dlqKey) return;
  const b = $('bulk-replay');
  b.disabled = true;
  try {
    const r = await api('api/dlq/replay?key=' + encodeURIComponent(dlqKey), { method: 'POST', headers: { accept: 'application/json', 'x-sluice-action': '1' } });
    $('bulk-result').textContent = 'replayed ' + r.replayed.length + ' with key ' + dlqKey;
  } catch (e) {
    $('error').textContent = String(e.message || e);
  }
  await refresh();
});

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
`;
}
