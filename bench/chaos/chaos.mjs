// chaos.mjs — the driver of bench/chaos/run (issue #20): load on a running mesh, SIGKILLs,
// and what they cost. Started by bench/chaos/run, which supervises every process (as
// `scripts/run --keep-going` does) and passes:
//   CHAOS_DIR      pid files: servers' NAME.pid, services' NAME.supervisor
//   CHAOS_WS       the venta-ws-gateway addresses, CHAOS_GATEWAY venta-gateway's
//   VENTA_DATABASE_URL, CLERK_WEBHOOK_SIGNING_SECRET, JWT_PRIVATE_KEY_FILE
// Settings: CHAOS_VENDORS (100: positions at 1/s each, 5 per vendor connection),
// CHAOS_VIEWERS (30, each watching every vendor's box), CHAOS_WEBHOOK_MS (100: a new
// Clerk user.created event this often, each retried until a 2xx, Svix-style),
// CHAOS_TARGETS ("nats2 ws-2 location-a venta-user postgres redis"), CHAOS_TURNS (2:
// rounds of the targets in turns, one every CHAOS_TURN_S = 10 s, after the
// one-at-a-time pass), CHAOS_RECOVER_S (90: past this a process counts as needing a hand).
//
// For each kill: the time until every viewer receives a position sent after the kill
// (viewers of a killed gateway reconnect to another one), the time until the target
// is back (a new process, or the server's pid alive) and every edge is ready, and the
// webhook deliveries that failed meanwhile (retried); over the run, any process that
// exited without being killed. At the end: acknowledged webhooks missing from account.users (target 0), and
// each vendor's stored position against the last one acknowledged to it.
import fs from 'node:fs';
import http from 'node:http';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { Webhook } from 'svix';

const require = createRequire(import.meta.url);
const { Client, mint } = require('../../tests/e2e/lib/ws_mesh_client.js');

const env = process.env;
const DIR = env.CHAOS_DIR;
const WS = env.CHAOS_WS.split(',');
const GATEWAY = env.CHAOS_GATEWAY;
const DB = env.VENTA_DATABASE_URL;
const VENDORS = Number(env.CHAOS_VENDORS || 100);
const PER_CONN = 5;
const VIEWERS = Number(env.CHAOS_VIEWERS || 30);
const WEBHOOK_MS = Number(env.CHAOS_WEBHOOK_MS || 100);
const TARGETS = (env.CHAOS_TARGETS || 'nats2 ws-2 location-a venta-user postgres redis').split(' ');
const TURNS = Number(env.CHAOS_TURNS || 2);
const TURN_S = Number(env.CHAOS_TURN_S || 10);
const RECOVER_S = Number(env.CHAOS_RECOVER_S || 90);
const SERVERS = new Set(['postgres', 'redis', 'nats', 'nats2', 'nats3']);
const BOX = { sw: { lat: 52.0, lng: 13.0 }, ne: { lat: 52.1, lng: 13.1 } };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (s) => process.stderr.write(`chaos: ${s}\n`);
const psql = (sql) => execFileSync('psql', ['-XAt', '-F', '|', DB, '-c', sql]).toString().trim();
const read = (f) => { try { return fs.readFileSync(f, 'utf8').trim(); } catch { return ''; } };
const alive = (pid) => { try { process.kill(Number(pid), 0); return Number(pid) > 0; } catch { return false; } };
// The supervisor's child running a Venta binary (not the `sleep` of its backoff).
const pgrepChild = (ppid) => { try { return execFileSync('pgrep', ['-P', ppid, '-f', '/apps/']).toString().trim().split('\n')[0]; } catch { return ''; } };
// The pid of a target now: a server's pid file, or a supervised service's child.
const pidOf = (name) => (SERVERS.has(name) ? read(`${DIR}/${name}.pid`) : pgrepChild(read(`${DIR}/${name}.supervisor`)));
const services = () => fs.readdirSync(DIR).filter((f) => f.endsWith('.supervisor')).map((f) => f.slice(0, -11));
const ready = (addr) => new Promise((resolve) => {
  const req = http.get(`http://${addr}/readyz`, (res) => { res.resume(); resolve(res.statusCode === 200); });
  req.on('error', () => resolve(false));
  req.setTimeout(2000, () => { req.destroy(); resolve(false); });
});
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : 0; };

// ------------------------------------------------------------------------ vendors
const vendorIds = Array.from({ length: VENDORS }, (_, i) => `c0000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`);
psql(`INSERT INTO vendor.vendors (id, owner_id, name) SELECT v::uuid, 'chaos-vendor', 'chaos ' || v
      FROM unnest(ARRAY['${vendorIds.join("','")}']) AS v ON CONFLICT DO NOTHING`);
const vendors = vendorIds.map((id, i) => ({ id, lat: 52.01 + (i % 10) * 0.008, lng: 13.01 + Math.floor(i / 10) * 0.008, ts: 0, acked: null }));
let streaming = true, wsNext = 0, reconnects = 0;
const nextWs = () => WS[wsNext++ % WS.length];

// A connection that comes back: on close, a new one to the next gateway.
async function lasting(sub, name, onOpen) {
  const token = await mint(sub, { exp: '3h' });
  const holder = { c: null, stopped: false };
  const open = async () => {
    while (!holder.stopped) {
      try {
        const c = new Client(nextWs(), { token, name });
        await c.opened();
        holder.c = c;
        await onOpen(c);
        c.closed.then(() => { holder.c = null; reconnects++; if (!holder.stopped) setTimeout(open, 200); });
        return;
      } catch { await sleep(500); }
    }
  };
  await open();
  return holder;
}

let refs = 0;
function sendPosition(conn, v) {
  v.lat = Math.min(52.095, Math.max(52.005, v.lat + (Math.random() - 0.5) * 0.001));
  v.lng = Math.min(13.095, Math.max(13.005, v.lng + (Math.random() - 0.5) * 0.001));
  v.ts = Math.max(v.ts + 1, Date.now());
  const p = { lat: Number(v.lat.toFixed(6)), lng: Number(v.lng.toFixed(6)), ts: v.ts };
  const ref = `p${++refs}`;
  conn.take((m) => m.ref === ref, 'ack', 15000).then((m) => {
    if (m.op === 'ack' && (!v.acked || v.acked.ts < p.ts)) v.acked = p;
  }, () => {});
  conn.send({ op: 'location', vendorId: v.id, ...p, heading: 90, speed: 1, accuracy: 5, ref });
}

const vendorConns = [];
for (let i = 0; i < VENDORS; i += PER_CONN) {
  const mine = vendors.slice(i, i + PER_CONN);
  vendorConns.push(await lasting('chaos-vendor', `vendors${i}`, async () => {}));
  const h = vendorConns[vendorConns.length - 1];
  (async () => {
    while (streaming) {
      if (h.c) for (const v of mine) sendPosition(h.c, v);
      await sleep(1000);
    }
  })();
}

// ------------------------------------------------------------------------ viewers
// Kills still being measured: each notes, per viewer, when it first received a position
// sent after the kill (vendors stamp ts with the shared clock).
const open = new Set();
const viewers = [];
for (let i = 0; i < VIEWERS; i++) {
  const vw = { h: null };
  vw.h = await lasting(`chaos-viewer-${i}`, `viewer${i}`, async (c) => {
    c.keep = (m) => {
      if (m.op === 'location' || m.op === 'enter') {
        for (const k of open) {
          if (!k.seen.has(i) && m.ts > k.t0) {
            k.seen.set(i, Date.now());
            if (k.seen.size === VIEWERS) k.receiveS = (Date.now() - k.t0) / 1000;
          }
        }
      }
      return m.ref !== undefined; // only replies are kept for take()
    };
    await c.request({ op: 'watch.bounds', ...BOX });
  });
  viewers.push(vw);
}
say(`${VENDORS} vendors on ${vendorConns.length} connections, ${VIEWERS} viewers, over ${WS.length} gateways`);

// ------------------------------------------------------------------------ webhooks
const wh = new Webhook(env.CLERK_WEBHOOK_SIGNING_SECRET);
const hooks = { sent: 0, acked: new Set(), pending: 0, failures: 0, attempts: [], maxAttempts: 0 };
let hookSeq = 0, hooking = true;
async function deliver(userId) {
  const msgId = `msg_chaos_${crypto.randomBytes(8).toString('hex')}`;
  const body = JSON.stringify({ type: 'user.created', object: 'event', data: { id: userId, object: 'user',
    first_name: 'Chaos', email_addresses: [{ id: 'idn_1', email_address: `${userId}@example.com` }],
    primary_email_address_id: 'idn_1', created_at: Date.now(), updated_at: Date.now() } });
  hooks.pending++;
  hooks.sent++;
  for (let attempt = 1, wait = 200; ; attempt++, wait = Math.min(wait * 2, 2000)) {
    const date = new Date();
    let status = 0;
    try {
      const r = await fetch(`http://${GATEWAY}/webhooks/clerk`, {
        method: 'POST', body, signal: AbortSignal.timeout(5000),
        headers: { 'content-type': 'application/json', 'svix-id': msgId,
          'svix-timestamp': String(Math.floor(date.getTime() / 1000)), 'svix-signature': wh.sign(msgId, date, body) },
      });
      status = r.status;
      await r.arrayBuffer();
    } catch { status = 0; }
    if (status >= 200 && status < 300) {
      hooks.acked.add(userId);
      hooks.maxAttempts = Math.max(hooks.maxAttempts, attempt);
      break;
    }
    hooks.failures++;
    await sleep(wait);
  }
  hooks.pending--;
}
(async () => {
  while (hooking) {
    deliver(`user_chaos_${process.pid}_${++hookSeq}`);
    await sleep(WEBHOOK_MS);
  }
})();

// ------------------------------------------------------------------------ kills
const edges = [GATEWAY, ...WS];
async function allReady() {
  for (const a of edges) if (!(await ready(a))) return false;
  return true;
}

// Every process's exits, seen once a second: those beyond our own kills are processes
// that went down by themselves (a crash the chaos caused).
const exits = {}, killed = {};
const lastPid = {};
let watching = true;
(async () => {
  while (watching) {
    for (const s of [...services(), ...SERVERS]) {
      const p = pidOf(s);
      if (p && lastPid[s] && p !== lastPid[s]) exits[s] = (exits[s] || 0) + 1;
      if (p) lastPid[s] = p;
    }
    await sleep(1000);
  }
})();

// SIGKILL target and measure it until viewers receive again and it is back (a new
// process, or the server's pid) with every edge ready; resolves with the figures.
function kill(target, phase) {
  const pid = pidOf(target);
  if (!alive(pid)) return Promise.resolve({ phase, target, error: `no live pid (${pid})` });
  const k = { phase, target, pid, t0: Date.now(), seen: new Map(), failures0: hooks.failures };
  open.add(k);
  process.kill(Number(pid), 'SIGKILL');
  killed[target] = (killed[target] || 0) + 1;
  say(`SIGKILL ${target} (pid ${pid})`);
  return (async () => {
    const deadline = k.t0 + RECOVER_S * 1000;
    while (Date.now() < deadline && !(k.receiveS && k.backS)) {
      const p = pidOf(target);
      if (!k.backS && p && p !== pid && alive(p) && await allReady()) k.backS = (Date.now() - k.t0) / 1000;
      await sleep(100);
    }
    open.delete(k);
    k.webhookFailures = hooks.failures - k.failures0;
    k.hand = !k.backS || !k.receiveS;
    say(`${target}: viewers receive again after ${k.receiveS ?? '-'} s, back and ready after ${k.backS ?? '-'} s`);
    return k;
  })();
}

await sleep(5000); // steady state first
const rows = [];
for (const t of TARGETS) {
  rows.push(await kill(t, 'alone'));
  await sleep(5000);
}
for (let turn = 1; turn <= TURNS; turn++) {
  const started = [];
  for (const t of TARGETS) {
    started.push(kill(t, `turns ${turn}`));
    await sleep(TURN_S * 1000);
  }
  rows.push(...(await Promise.all(started)));
  await sleep(5000);
}
watching = false;
await sleep(1100);
const collateral = Object.keys(exits).filter((s) => exits[s] > (killed[s] || 0)).map((s) => `${s} ×${exits[s] - (killed[s] || 0)}`);

// ------------------------------------------------------------------------ the end
streaming = false;
hooking = false;
const stopAt = Date.now();
while (hooks.pending > 0 && Date.now() - stopAt < 120000) await sleep(200);
const stored = new Set(psql(`SELECT clerk_id FROM account.users WHERE clerk_id LIKE 'user_chaos_${process.pid}_%'`).split('\n').filter(Boolean));
const lost = [...hooks.acked].filter((u) => !stored.has(u));

// Positions: poll until every vendor's stored row is the last one acknowledged.
let converged = 0, convergeS = null, mismatch = [];
for (;;) {
  const rowsDb = psql(`SELECT vendor_id, ST_Y(position), ST_X(position), (extract(epoch FROM reported_at) * 1000)::bigint
                       FROM location.vendor_locations WHERE vendor_id::text LIKE 'c0000000-%'`).split('\n').filter(Boolean);
  const db = new Map(rowsDb.map((l) => { const [id, lat, lng, ts] = l.split('|'); return [id, { lat: Number(lat), lng: Number(lng), ts: Number(ts) }]; }));
  mismatch = vendors.filter((v) => { const s = db.get(v.id); return !v.acked || !s || s.ts !== v.acked.ts || Math.abs(s.lat - v.acked.lat) > 1e-6 || Math.abs(s.lng - v.acked.lng) > 1e-6; });
  converged = VENDORS - mismatch.length;
  if (!mismatch.length) { convergeS = (Date.now() - stopAt) / 1000; break; }
  if (Date.now() - stopAt > 60000) break;
  await sleep(500);
}
const finalReady = await allReady();

const f = (x) => (x === undefined || x === null ? '—' : typeof x === 'number' ? x.toFixed(1) : String(x));
console.log(`## Chaos run (${new Date().toISOString().slice(0, 10)})\n`);
console.log(`${VENDORS} vendors streaming 1 position/s each over ${vendorConns.length} connections, ${VIEWERS} viewers of their box, ` +
  `${WS.length} venta-ws-gateway, NATS 3-node cluster, durable PostgreSQL; a Clerk webhook every ${WEBHOOK_MS} ms, ` +
  `each retried until 2xx. Load average at the end: ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}.\n`);
console.log('| phase | SIGKILL | viewers receive again (s) | back and every edge ready (s) | webhook attempts failed (retried) | needed a hand |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.phase} | ${r.target} | ${f(r.receiveS)} | ${f(r.backS)} | ${r.webhookFailures ?? '—'} | ${r.error ? r.error : r.hand ? 'yes' : 'no'} |`);
}
console.log('');
console.log(`Processes that exited without being killed (restarted by the supervisor): ${collateral.join(', ') || 'none'}.`);
console.log(`Webhooks: ${hooks.sent} events sent, ${hooks.acked.size} acknowledged (2xx), ${hooks.pending} still unacknowledged at the end, ` +
  `${hooks.failures} failed attempts retried, at most ${hooks.maxAttempts} attempts for one event; **acknowledged but not stored: ${lost.length}**${lost.length ? ` (${lost.slice(0, 5).join(', ')})` : ''}.`);
console.log(`Positions: ${converged}/${VENDORS} vendors' stored position equals the last one acknowledged to them` +
  (convergeS !== null ? `, ${convergeS.toFixed(1)} s after the vendors stopped` : ` after 60 s (first mismatches: ${mismatch.slice(0, 3).map((v) => v.id).join(', ')})`) + '.');
console.log(`Viewer reconnects: ${reconnects} (connections closed by a killed gateway, reopened on another). Every edge ready at the end: ${finalReady ? 'yes' : 'NO'}.`);
for (const h of [...vendorConns, ...viewers.map((v) => v.h)]) { h.stopped = true; h.c?.close(); }
process.exit(0);
