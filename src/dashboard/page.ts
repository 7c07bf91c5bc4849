// The dashboard's HTML page: layout and styles; its script is in pageScript.ts.
import { dashboardScript } from './pageScript.ts';

/**
 * The dashboard's single HTML page: vanilla JavaScript, inline CSS and an inline SVG chart,
 * no build step and nothing loaded from other hosts. It polls `/api/status` and `/api/dlq`.
 * @internal
 */
export function dashboardPage(refreshMs: number, nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sluice dashboard</title>
<style nonce="${nonce}">
  .sw-appended { background:#2f6fed } .sw-committed { background:#1f9d55 } .sw-processed { background:#d08a00 }
  .card h2.mt16 { margin-top:16px } table.mt12 { margin-top:12px }
  #dlq-table td { overflow-wrap:anywhere; } #dlq-table td.mono { max-width:260px; } #dlq { overflow-x:auto; }
  #dlq-table button, #dlq-table td:first-child { white-space:nowrap; overflow-wrap:normal; }
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
  .kpis { grid-column: span 12; display:grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap:16px; }
  .kpi[hidden] { display:none; }
  .pill.parked { background:#fde8e8; color:var(--bad); } .pill.retrying { background:#fff4dc; color:var(--warn); }
  svg.spark { display:block; }
  #keys, #partitions, #hot { overflow-x:auto; }
  #keys-table td.err { overflow-wrap:anywhere; min-width:140px; }
  #keys-table th, #dlq-table th { white-space:nowrap; }
  #keys-table td.mono, #hot-table td.mono, #dlq-table td.key { white-space:nowrap; overflow-wrap:normal; }
  form.filter { display:flex; flex-wrap:wrap; gap:8px; align-items:center; margin:0 0 10px; }
  form.filter input { font:inherit; font-size:13px; padding:3px 8px; border:1px solid var(--line); border-radius:6px; min-width:180px; }
  #bulk-result { color:var(--muted); font-size:12px; }
  .kpi .v { font-size:26px; font-weight:600; }
  .kpi .l { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.5px; }
  .w4 { grid-column: span 4; } .w6 { grid-column: span 6; } .w8 { grid-column: span 8; } .w12 { grid-column: span 12; }
  #dlq-table td.err { overflow-wrap:break-word; min-width:120px; }
  @media (max-width: 1000px) { .w4,.w6,.w8 { grid-column: span 12; } #dlq-table .wide { display:none; } }
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
    <div class="card kpi"><div class="l">Waiting keys</div><div class="v" id="k-waiting">–</div></div>
    <div class="card kpi" id="kpi-delayed" hidden><div class="l">Delayed events</div><div class="v" id="k-delayed">–</div></div>
    <div class="card kpi" id="kpi-schedules" hidden><div class="l">Schedules</div><div class="v" id="k-schedules">–</div></div>
  </section>
  <section class="card w8">
    <h2>Keys waiting (parked, retrying, blocked)</h2>
    <div id="keys"></div>
  </section>
  <section class="card w4">
    <h2>Hot keys</h2>
    <div id="hot"></div>
  </section>
  <section class="card w8">
    <h2>Throughput (events/s)</h2>
    <div class="legend"><span><i class="sw-appended"></i>appended</span><span><i class="sw-committed"></i>committed</span><span><i class="sw-processed"></i>processed (pipelines)</span></div>
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
    <h2 class="mt16">Members</h2>
    <div id="members"></div>
  </section>
  <section class="card w12">
    <h2>Dead-letter queue</h2>
    <form class="filter" id="dlq-filter"><label for="dlq-key">Key</label><input id="dlq-key" name="key" placeholder="all keys" autocomplete="off">
      <button type="submit">Filter</button><button type="button" id="bulk-replay" disabled>Replay all with this key</button><span id="bulk-result"></span></form>
    <div id="dlq"></div>
  </section>
</main>
<script nonce="${nonce}">${dashboardScript(refreshMs)}</script>
</body>
</html>
`;
}
