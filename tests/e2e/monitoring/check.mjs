// check.mjs — deploy/k8s/monitoring against the running mesh that run_e2e.sh started,
// scraped by a real Prometheus with the alert rules loaded:
// - every process is a healthy target and reports itself ready, its dependencies up;
// - after traffic through both edges, every metric that the alert rules and the
//   Grafana dashboard name is exported by a running process;
// - Prometheus evaluates every rule without error, and every dashboard query too;
// - venta-location killed: Prometheus raises VentaProcessDown for it (pending within
//   its `for`) and the gateway's venta_dependency_up{dependency="location"} drops to 0.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import * as jose from 'jose';
import WebSocket from 'ws';
import { until } from '../lib/until.mjs';

const { PROMETHEUS, GATEWAY, WS, TARGETS, JWT_PRIVATE_KEY_FILE, SRC, LOCATION_PID, LOCATION_METRICS } = process.env;
const targets = TARGETS.split(' ');
const rulesText = fs.readFileSync(`${SRC}/deploy/k8s/monitoring/venta-alerts.rules.yml`, 'utf8');
const dashboard = JSON.parse(fs.readFileSync(`${SRC}/deploy/k8s/monitoring/venta-dashboard.json`, 'utf8'));
let passed = 0;
function ok(what) { passed++; console.log(`ok   ${what}`); }

async function prom(path) {
  const r = await fetch(`${PROMETHEUS}${path}`);
  const body = await r.json();
  assert.equal(body.status, 'success', `${path}: ${JSON.stringify(body)}`);
  return body.data;
}
async function query(expr) {
  return prom(`/api/v1/query?query=${encodeURIComponent(expr)}`);
}

// ---------------------------------------------------------------- targets and readiness
await until('every target scraped and up', async () => {
  const t = await prom('/api/v1/targets');
  const up = t.activeTargets.filter((x) => x.health === 'up').length;
  return up === targets.length || t.activeTargets.map((x) => `${x.scrapeUrl} ${x.health} ${x.lastError}`);
});
ok(`Prometheus scrapes all ${targets.length} processes`);
await until('every process ready, every dependency up', async () => {
  const ready = (await query('venta_ready')).result;
  const deps = (await query('venta_dependency_up')).result;
  const bad = [...ready, ...deps].filter((s) => s.value[1] !== '1');
  return (ready.length === targets.length && deps.length >= 10 && bad.length === 0) ||
    { ready: ready.length, deps: deps.length, bad: bad.map((s) => s.metric) };
});
ok('venta_ready is 1 on every process, venta_dependency_up 1 for each of its dependencies');

// ---------------------------------------------------------------- traffic
const key = await jose.importPKCS8(fs.readFileSync(JWT_PRIVATE_KEY_FILE, 'utf8'), 'RS256');
const token = await new jose.SignJWT({ sid: 'sess_mon' }).setProtectedHeader({ alg: 'RS256' })
  .setSubject('user_monitoring').setIssuedAt().setExpirationTime('10m').sign(key);
const auth = { authorization: `Bearer ${token}` };
const gw = `http://${GATEWAY}`;
for (const [path, headers] of [['/healthz', {}], ['/api/v1/users/me', auth], ['/api/v1/users/me', {}],
  ['/api/v1/vendors/00000000-0000-4000-8000-00000000dead', auth],
  ['/api/v1/vendors/nearby?lat=40.75&lng=-73.98&radius=1000', auth]]) {
  await (await fetch(gw + path, { headers })).arrayBuffer();
}
await (await fetch(`${gw}/webhooks/clerk`, { method: 'POST', body: '{}',
  headers: { 'content-type': 'application/json', 'svix-id': 'msg_1', 'svix-timestamp': `${Math.floor(Date.now() / 1000)}`,
    'svix-signature': 'v1,AAAA' } })).arrayBuffer();
const viewer = new WebSocket(`ws://${WS}/ws`, 'venta.v1.json', { headers: auth });
await new Promise((resolve, reject) => { viewer.once('open', resolve); viewer.once('error', reject); });
viewer.send(JSON.stringify({ op: 'watch.bounds', id: 1, sw: { lat: 40.70, lng: -74.02 }, ne: { lat: 40.80, lng: -73.93 } }));
await new Promise((resolve) => viewer.once('message', resolve));
ok('traffic through both edges: REST (200, 401, 404, nearby), a refused webhook, a WebSocket viewer');

// ---------------------------------------------------------------- names exported
function exported(text) {
  const names = new Set();
  for (const line of text.split('\n')) {
    const m = /^# TYPE (\S+) (\S+)/.exec(line);
    if (!m) continue;
    names.add(m[1]);
    if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m[1] + s);
  }
  return names;
}
const named = (text) => new Set(text.match(/\bventa_[a-z0-9_]+/g) || []);
const dashExprs = [];
for (const p of dashboard.panels) for (const t of p.targets || []) dashExprs.push(t.expr);
const wanted = new Set([...named(rulesText), ...named(dashExprs.join('\n'))]);
await until('every named metric exported', async () => {
  const have = new Set();
  for (const t of targets) for (const n of exported(await (await fetch(`http://${t}/metrics`)).text())) have.add(n);
  const missing = [...wanted].filter((n) => !have.has(n));
  return missing.length === 0 || { missing };
}, 15000);
ok(`all ${wanted.size} metrics the rules and the dashboard name are exported by the mesh`);

// ---------------------------------------------------------------- rules and queries evaluate
await until('every rule evaluated without error', async () => {
  const groups = (await prom('/api/v1/rules')).groups;
  const rules = groups.flatMap((g) => g.rules);
  const bad = rules.filter((r) => r.health !== 'ok' || r.lastError);
  return (rules.length >= 14 && bad.length === 0) ||
    { rules: rules.length, bad: bad.map((r) => `${r.name}: ${r.health} ${r.lastError || ''}`) };
});
ok('Prometheus evaluates every alert rule without error');
for (const expr of dashExprs) await query(expr.replaceAll('$__rate_interval', '1m'));
ok(`all ${dashExprs.length} dashboard queries evaluate without error`);

// ---------------------------------------------------------------- a process goes away
viewer.close();
process.kill(Number(LOCATION_PID), 'SIGKILL');
await until('VentaProcessDown raised for venta-location', async () => {
  const alerts = (await prom('/api/v1/alerts')).alerts;
  return alerts.some((a) => a.labels.alertname === 'VentaProcessDown' && a.labels.instance === LOCATION_METRICS) ||
    alerts.map((a) => `${a.labels.alertname} ${a.labels.instance} ${a.state}`);
});
ok('venta-location SIGKILLed: Prometheus raises VentaProcessDown for it');
await until('the gateway sees venta-location gone', async () => {
  const r = (await query(`venta_dependency_up{dependency="location",instance="${GATEWAY}"}`)).result;
  return (r.length === 1 && r[0].value[1] === '0') || r;
});
ok('the gateway reports venta_dependency_up{dependency="location"} 0');
console.log(`${passed} passed`);
