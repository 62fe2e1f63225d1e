// trace.mjs — traces across the mesh that run_e2e.sh started (docs/tracing.md). Every
// process writes JSON lines at info into its own file in $LOGS; each trace below is
// sampled (flags 01), so each hop writes a line about it, and is followed by trace id
// through the files of every process on its path, each hop's span the child of the one
// before it:
// - REST: POST /api/v1/vendors (gateway → VendorService → outbox → NATS) and DELETE
//   (… → evt.vendor.deleted taken by venta-location's consumer and both WebSocket edges);
// - a Clerk webhook user.deleted (gateway → UserService → account outbox → venta-vendor's
//   consumer → vendor outbox → venta-location's consumer);
// - one vendor fix from WebSocket edge A, with the traceparent field of its message, to
//   a viewer on edge B (A → NATS → venta-location, venta-vendor, B → the viewer);
// - an unsampled fix costs no line; malformed traceparents (REST header, fix field) are
//   replaced by new traces, never continued or logged under the id they named.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import * as jose from 'jose';
import { Webhook } from 'svix';
import WebSocket from 'ws';
import { sleep, until } from '../lib/until.mjs';

const { GATEWAY, WS_A, WS_B, LOGS, CLERK_SECRET, JWT_PRIVATE_KEY_FILE } = process.env;
const gw = `http://${GATEWAY}`;
const FILES = ['gateway', 'user', 'vendor', 'location', 'ws-a', 'ws-b'];
let passed = 0;
function ok(what) { passed++; console.log(`ok   ${what}`); }

// ---------------------------------------------------------------- logs
function lines(file) {
  const out = [];
  for (const text of fs.readFileSync(`${LOGS}/${file}.log`, 'utf8').split('\n')) {
    if (!text.startsWith('{')) continue;
    try { out.push(JSON.parse(text)); } catch { /* a line being written */ }
  }
  return out;
}
const traced = (file, traceId) => lines(file).filter((l) => l.trace_id === traceId);
// The line of file in trace traceId whose msg contains text, once it is there.
async function hop(file, traceId, text) {
  let found;
  await until(`${file}: a line of trace ${traceId} with "${text}"`, () => {
    found = traced(file, traceId).find((l) => l.msg.includes(text));
    return found !== undefined || traced(file, traceId).map((l) => l.msg);
  });
  assert.match(found.span_id, /^[0-9a-f]{16}$/);
  return found;
}
function childOf(line, parentSpan, what) {
  assert.equal(line.parent_span_id, parentSpan, `${what}: parent span`);
  assert.notEqual(line.span_id, parentSpan, `${what}: a span of its own`);
}

function newTrace(flags = '01') {
  const trace = crypto.randomBytes(16).toString('hex');
  const span = crypto.randomBytes(8).toString('hex');
  return { trace, span, header: `00-${trace}-${span}-${flags}` };
}
function parseTraceparent(text) {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(text || '');
  assert.ok(m, `a valid traceparent: ${text}`);
  return { trace: m[1], span: m[2], flags: m[3] };
}

// ---------------------------------------------------------------- clients
const key = await jose.importPKCS8(fs.readFileSync(JWT_PRIVATE_KEY_FILE, 'utf8'), 'RS256');
const token = (sub) => new jose.SignJWT({ sid: `sess_${sub}` }).setProtectedHeader({ alg: 'RS256' })
  .setSubject(sub).setIssuedAt().setExpirationTime('10m').sign(key);
async function api(method, path, { tok, body, headers = {} } = {}) {
  const r = await fetch(gw + path, {
    method,
    headers: { ...(tok ? { authorization: `Bearer ${tok}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  return { status: r.status, text, json: text ? JSON.parse(text) : null, headers: r.headers };
}
const webhook = new Webhook(CLERK_SECRET);
async function clerk(type, data, headers = {}) {
  const payload = JSON.stringify({ type, object: 'event', data });
  const id = `msg_${crypto.randomBytes(8).toString('hex')}`;
  const now = new Date();
  const r = await fetch(`${gw}/webhooks/clerk`, {
    method: 'POST', body: payload,
    headers: { 'content-type': 'application/json', 'svix-id': id, 'svix-timestamp': String(Math.floor(now.getTime() / 1000)),
      'svix-signature': webhook.sign(id, now, payload), ...headers },
  });
  assert.equal(r.status, 200, await r.text());
  return r;
}
function clerkUser(id) {
  return { id, object: 'user', first_name: 'Ada', last_name: 'Lovelace', primary_email_address_id: 'idn_1',
    email_addresses: [{ id: 'idn_1', email_address: `${id}@example.com` }], created_at: 1700000000000, updated_at: Date.now() };
}

// A WebSocket client whose messages (frames split on newlines) are kept in order.
async function wsClient(addr, tok) {
  const ws = new WebSocket(`ws://${addr}/ws?access_token=${tok}`, 'venta.v1.json');
  const got = [];
  ws.on('message', (data) => { for (const t of data.toString().split('\n')) if (t) got.push(JSON.parse(t)); });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  const wait = async (what, pred) => {
    let m;
    await until(what, () => { m = got.find(pred); return m !== undefined || got; }, 20000);
    return m;
  };
  return { ws, got, wait, send: (o) => ws.send(JSON.stringify(o)) };
}

const alice = `user_alice${crypto.randomBytes(4).toString('hex')}`;
const carol = `user_carol${crypto.randomBytes(4).toString('hex')}`;
await clerk('user.created', clerkUser(alice));
await clerk('user.created', clerkUser(carol));
const aliceTok = await token(alice);
const carolTok = await token(carol);

// ---------------------------------------------------------------- REST: create, then delete
const t1 = newTrace();
let r = await api('POST', '/api/v1/vendors', { tok: aliceTok, body: { name: 'Trace Truck' }, headers: { traceparent: t1.header } });
assert.equal(r.status, 201, r.text);
const vendorId = r.json.id;
const answered = parseTraceparent(r.headers.get('traceparent'));
assert.equal(answered.trace, t1.trace, 'the response names the request\'s trace');
assert.notEqual(answered.span, t1.span, 'the gateway answers with a span of its own');
assert.equal(answered.flags, '01');
let g = await hop('gateway', t1.trace, 'POST /api/v1/vendors -> 201');
childOf(g, t1.span, 'gateway');
assert.equal(g.span_id, answered.span);
let v = await hop('vendor', t1.trace, 'CreateVendor -> OK');
childOf(v, g.span_id, 'VendorService.CreateVendor');
let o = await hop('vendor', t1.trace, 'published evt.vendor.created');
childOf(o, v.span_id, 'the outbox relay');
ok('REST POST /api/v1/vendors: gateway → VendorService → outbox → evt.vendor.created, one trace, a span per hop');

r = await api('POST', '/api/v1/vendors', { tok: aliceTok, body: { name: 'Short-lived Truck' } });
assert.equal(r.status, 201, r.text);
const doomed = r.json.id;
const t2 = newTrace();
r = await api('DELETE', `/api/v1/vendors/${doomed}`, { tok: aliceTok, headers: { traceparent: t2.header } });
assert.equal(r.status, 204, r.text);
g = await hop('gateway', t2.trace, `DELETE /api/v1/vendors/${doomed} -> 204`);
childOf(g, t2.span, 'gateway');
v = await hop('vendor', t2.trace, 'DeleteVendor -> OK');
childOf(v, g.span_id, 'VendorService.DeleteVendor');
o = await hop('vendor', t2.trace, 'published evt.vendor.deleted');
childOf(o, v.span_id, 'the outbox relay');
const taken = await hop('location', t2.trace, 'consumer location-vendor-deleted took evt.vendor.deleted');
childOf(taken, o.span_id, 'venta-location\'s consumer');
for (const edge of ['ws-a', 'ws-b']) {
  const d = await hop(edge, t2.trace, `vendor ${doomed} deleted`);
  childOf(d, o.span_id, `${edge}'s deletion`);
}
ok('REST DELETE: gateway → VendorService → outbox → NATS → venta-location and both WebSocket edges');

// ---------------------------------------------------------------- a Clerk webhook
r = await api('POST', '/api/v1/vendors', { tok: carolTok, body: { name: 'Carol\'s Cart' } });
assert.equal(r.status, 201, r.text);
const carolsVendor = r.json.id;
const t3 = newTrace();
const hook = await clerk('user.deleted', { id: carol, deleted: true, object: 'user' }, { traceparent: t3.header });
assert.equal(parseTraceparent(hook.headers.get('traceparent')).trace, t3.trace);
g = await hop('gateway', t3.trace, 'POST /webhooks/clerk -> 200');
childOf(g, t3.span, 'gateway');
const u = await hop('user', t3.trace, 'UserService/DeleteUser -> OK');
childOf(u, g.span_id, 'UserService.DeleteUser');
o = await hop('user', t3.trace, 'published evt.user.deleted');
childOf(o, u.span_id, 'the account outbox relay');
const consumed = await hop('vendor', t3.trace, 'consumer vendor-user-deleted took evt.user.deleted');
childOf(consumed, o.span_id, 'venta-vendor\'s consumer');
const cascade = await hop('vendor', t3.trace, 'published evt.vendor.deleted');
childOf(cascade, consumed.span_id, 'the vendor outbox relay');
childOf(await hop('location', t3.trace, 'took evt.vendor.deleted'), cascade.span_id, 'venta-location');
await hop('ws-b', t3.trace, `vendor ${carolsVendor} deleted`);
ok('Clerk webhook: gateway → UserService → outbox → venta-vendor\'s consumer → outbox → venta-location, the edges');

// ---------------------------------------------------------------- a vendor fix to a viewer
const viewer = await wsClient(WS_B, aliceTok);
viewer.send({ op: 'watch.bounds', ref: 'box', sw: { lat: 40.70, lng: -74.02 }, ne: { lat: 40.80, lng: -73.93 } });
await viewer.wait('the snapshot', (m) => m.op === 'snapshot');
const vendor = await wsClient(WS_A, aliceTok);
const t4 = newTrace();
const ts = Date.now();
vendor.send({ op: 'location', ref: 'fix1', vendorId, lat: 40.75, lng: -73.98, ts, traceparent: t4.header });
await vendor.wait('the ack of the fix', (m) => m.op === 'ack' && m.ref === 'fix1');
await viewer.wait('the fix at the viewer', (m) => (m.op === 'enter' || m.op === 'location') && m.vendorId === vendorId && m.ts === ts);
const pub = await hop('ws-a', t4.trace, `vendor ${vendorId} fix ts ${ts} published`);
childOf(pub, t4.span, 'edge A');
childOf(await hop('vendor', t4.trace, 'GetVendor -> OK'), pub.span_id, 'the ownership check');
childOf(await hop('location', t4.trace, `location ingest: vendor ${vendorId} fix ts ${ts}`), pub.span_id, 'venta-location');
childOf(await hop('vendor', t4.trace, `last-known location: vendor ${vendorId} fix ts ${ts}`), pub.span_id, 'venta-vendor');
// The viewer's messages for this fix: its enter, and the vendor's status when B had
// not told it yet (the status may arrive before or after the fix).
const fan = await hop('ws-b', t4.trace, `vendor ${vendorId} fix ts ${ts} to `);
assert.match(fan.msg, /to [12] viewer messages \(from NATS\)$/);
childOf(fan, pub.span_id, 'edge B');
ok('a vendor fix: edge A → NATS → venta-location, venta-vendor, edge B → its viewer, by the fix\'s traceparent');

// ---------------------------------------------------------------- the cheap path, and bad input
const t5 = newTrace('00');
vendor.send({ op: 'location', ref: 'fix2', vendorId, lat: 40.751, lng: -73.981, ts: ts + 1, traceparent: t5.header });
await viewer.wait('the unsampled fix at the viewer', (m) => m.op === 'location' && m.ts === ts + 1);
// Malformed: a zero trace id, and upper case; and not a string at all. Each fix is
// accepted (a trace is not a reason to refuse a position) under a trace of its own.
const zero = `00-${'0'.repeat(32)}-${t5.span}-01`;
const upper = newTrace();
vendor.send({ op: 'location', ref: 'fix3', vendorId, lat: 40.752, lng: -73.982, ts: ts + 2, traceparent: zero });
vendor.send({ op: 'location', ref: 'fix4', vendorId, lat: 40.753, lng: -73.983, ts: ts + 3, traceparent: upper.header.toUpperCase() });
vendor.send({ op: 'location', ref: 'fix5', vendorId, lat: 40.754, lng: -73.984, ts: ts + 4, traceparent: 42 });
for (const ref of ['fix3', 'fix4', 'fix5']) await vendor.wait(`the ack of ${ref}`, (m) => m.op === 'ack' && m.ref === ref);
await viewer.wait('the last fix at the viewer', (m) => m.op === 'location' && m.ts === ts + 4);
assert.ok(!vendor.got.some((m) => m.op === 'error'), JSON.stringify(vendor.got));
const bad = newTrace();
const badHeader = bad.header.toUpperCase();
r = await api('GET', `/api/v1/vendors/${vendorId}`, { tok: aliceTok, headers: { traceparent: badHeader } });
assert.equal(r.status, 200, r.text);
const replaced = parseTraceparent(r.headers.get('traceparent'));
assert.notEqual(replaced.trace, bad.trace, 'a malformed traceparent is replaced');
assert.equal(replaced.flags, '00', 'a replaced trace is not sampled');
r = await api('GET', `/api/v1/vendors/${vendorId}`, { tok: aliceTok, headers: { traceparent: `00-${bad.trace}-${'0'.repeat(16)}-01` } });
assert.notEqual(parseTraceparent(r.headers.get('traceparent')).trace, bad.trace, 'a zero parent id is replaced');
r = await api('GET', `/api/v1/vendors/${vendorId}`, { tok: aliceTok });
assert.equal(parseTraceparent(r.headers.get('traceparent')).flags, '00', 'a request without one gets a trace');
await sleep(1000); // what the fixes and requests above could still have logged
for (const file of FILES) {
  for (const id of [t5.trace, upper.trace, bad.trace, '0'.repeat(32)])
    assert.deepEqual(traced(file, id).map((l) => l.msg), [], `${file}: no line of trace ${id}`);
}
ok('an unsampled fix writes no line at info; malformed traceparents (zero ids, upper case, not a string) are replaced');

// Every line names a trace, in every process: a request's, a message's or a fix's, and
// outside them the process's own (one root span per process run, no parent).
for (const file of FILES) {
  const all = lines(file);
  assert.ok(all.length > 0, `${file} has lines`);
  const untraced = all.filter((l) => !(l.trace_id && l.span_id));
  assert.deepEqual(untraced, [], `${file}: every line carries trace_id and span_id`);
}
ok('every log line carries trace_id and span_id, in all six processes (outside requests the process\'s own trace)');

viewer.ws.close();
vendor.ws.close();
console.log(`${passed} passed`);
