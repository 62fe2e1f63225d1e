// sio_e2e.js — the original Venta apps' socket.io 4 flow on venta-ws-gateway, driven by
// the real `socket.io-client` 4 in each transport mode, plus raw Engine.IO over HTTP and
// `ws` for the error cases and /ws for cross-protocol delivery. run_e2e.sh provides two
// gateways (WS_A, WS_B) with a 400 ms / 600 ms heartbeat. Every wait is for an event.
'use strict';
const fs = require('fs');
const http = require('http');
const WebSocket = require('ws');
const jose = require('jose');
const { io } = require('socket.io-client');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const { grpcCredentials } = require('../lib/mesh_tls.js');

const { WS_A, WS_B, JWT_PRIVATE_KEY_FILE, PROTO_ROOT, VENTA_VENDOR_ADDR } = process.env;
let passed = 0;
function ok(cond, what) {
  if (!cond) { console.log(`FAIL ${what}`); throw new Error(`check failed: ${what}`); }
  passed++;
  console.log(`ok   ${what}`);
}

let key;
async function mint(sub) {
  key = key || await jose.importPKCS8(fs.readFileSync(JWT_PRIVATE_KEY_FILE, 'utf8'), 'RS256');
  return new jose.SignJWT({ sid: 'sess_sio' }).setProtectedHeader({ alg: 'RS256' })
    .setSubject(sub).setIssuedAt().setExpirationTime('10m').sign(key);
}
const pkg = protoLoader.loadSync(['venta/vendor/v1/vendor.proto'], { keepCase: true, includeDirs: [PROTO_ROOT] });
const vendors = new (grpc.loadPackageDefinition(pkg).venta.vendor.v1.VendorService)(
  VENTA_VENDOR_ADDR, grpcCredentials(grpc, 'venta-gateway')); // as the REST gateway makes them
function createVendor(owner, name) {
  const md = new grpc.Metadata();
  md.set('x-user-id', owner);
  return new Promise((resolve, reject) => vendors.CreateVendor({ name, owner_id: owner }, md,
    (err, v) => (err ? reject(err) : resolve(v.id))));
}

// Events of one socket, awaited by predicate; each event satisfies one wait.
function recorder(sock, names) {
  const got = [];
  const waiters = [];
  for (const n of names) {
    sock.on(n, (arg) => { // an event is taken by one waiter, or kept for a later one
      const w = waiters.find((x) => x.pred(n, arg));
      if (!w) { got.push({ n, arg }); return; }
      waiters.splice(waiters.indexOf(w), 1);
      clearTimeout(w.t);
      w.res(arg);
    });
  }
  return {
    got,
    wait(pred, what, ms = 10000) {
      const i = got.findIndex((e) => pred(e.n, e.arg));
      if (i >= 0) return Promise.resolve(got.splice(i, 1)[0].arg);
      return new Promise((res, rej) => {
        const w = { pred, res };
        w.t = setTimeout(() => rej(new Error(`timed out waiting for ${what}; got ${JSON.stringify(got.slice(-4))}`)), ms);
        waiters.push(w);
      });
    },
  };
}

function connect(addr, nsp, opts) {
  const s = io(`http://${addr}${nsp}`, { reconnection: false, forceNew: true, ...opts });
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', (e) => { s.close(); reject(e); });
  });
}
function connectError(addr, nsp, opts) {
  const s = io(`http://${addr}${nsp}`, { reconnection: false, forceNew: true, ...opts });
  return new Promise((resolve, reject) => {
    s.once('connect', () => { s.close(); reject(new Error('connected')); });
    s.once('connect_error', (e) => { s.close(); resolve(e); });
  });
}

function request(addr, method, path, body) {
  return new Promise((resolve, reject) => {
    const [host, port] = addr.split(':');
    const headers = { 'content-type': 'text/plain;charset=UTF-8' };
    if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
    const req = http.request({ host, port, method, path, headers }, (res) => {
      let data = '';
      res.on('data', (c) => { data += c; });
      res.on('end', () => resolve({ status: res.statusCode, body: data }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function box(lat, lng, d = 0.01) {
  return { neLocation: { lat: lat + d, long: lng + d }, swLocation: { lat: lat - d, long: lng - d } };
}

async function httpErrors() {
  let r = await request(WS_A, 'GET', '/socket.io/?EIO=3&transport=polling');
  ok(r.status === 400 && JSON.parse(r.body).code === 5, `EIO=3 → 400 code 5 (${r.body})`);
  r = await request(WS_A, 'GET', '/socket.io/?EIO=4&transport=carrier-pigeon');
  ok(r.status === 400 && JSON.parse(r.body).code === 0, 'unknown transport → 400 code 0');
  r = await request(WS_A, 'GET', '/socket.io/?EIO=4&transport=polling&sid=nope');
  ok(r.status === 400 && JSON.parse(r.body).code === 1 && JSON.parse(r.body).message === 'Session ID unknown', 'unknown sid → 400 code 1');
  r = await request(WS_A, 'POST', '/socket.io/?EIO=4&transport=polling', '40');
  ok(r.status === 400 && JSON.parse(r.body).code === 2, 'POST handshake → 400 code 2');
  r = await request(WS_A, 'GET', '/socket.io/?EIO=4&transport=polling');
  ok(r.status === 200 && r.body[0] === '0', 'polling handshake answers the open packet');
  const open = JSON.parse(r.body.slice(1));
  ok(open.upgrades.includes('websocket') && open.pingInterval === 400 && open.pingTimeout === 600 &&
     open.maxPayload === 16384, 'open packet: upgrades, pingInterval, pingTimeout, maxPayload');
  r = await request(WS_A, 'POST', `/socket.io/?EIO=4&transport=polling&sid=${open.sid}`, 'x'.repeat(20000));
  ok(r.status === 413, 'oversized polling POST → 413');
  r = await request(WS_A, 'GET', `/socket.io/?EIO=4&transport=polling&sid=${open.sid}`);
  ok(r.status === 400 || r.body.includes('1'), 'the session of an oversized POST is closed');
  r = await request(WS_A, 'GET', '/socket.io/?EIO=4&transport=polling');
  const sid = JSON.parse(r.body.slice(1)).sid;
  r = await request(WS_A, 'POST', `/socket.io/?EIO=4&transport=polling&sid=${sid}`, '9garbage');
  ok(r.status === 400 && JSON.parse(r.body).code === 3, 'malformed polling body → 400 code 3');
}

// Raw Engine.IO over WebSocket: frames as they come.
function rawWs(addr, query = '') {
  const ws = new WebSocket(`ws://${addr}/socket.io/?EIO=4&transport=websocket${query}`, { autoPong: true });
  const frames = [];
  const waiters = [];
  ws.on('message', (d, isBinary) => {
    frames.push(isBinary ? d : d.toString());
    for (const w of [...waiters]) { const i = frames.findIndex(w.pred); if (i >= 0) { waiters.splice(waiters.indexOf(w), 1); w.res(frames.splice(i, 1)[0]); } }
  });
  ws.closed = new Promise((res) => ws.on('close', (code, reason) => res({ code, reason: reason.toString() })));
  ws.on('error', () => {});
  ws.next = (pred, what, ms = 10000) => {
    const i = frames.findIndex(pred);
    if (i >= 0) return Promise.resolve(frames.splice(i, 1)[0]);
    return new Promise((res, rej) => { waiters.push({ pred, res }); setTimeout(() => rej(new Error(`timed out: ${what}; ${JSON.stringify(frames)}`)), ms); });
  };
  return ws;
}

async function rawErrors(token) {
  const ws = rawWs(WS_A);
  const open = await ws.next((f) => f[0] === '0', 'open');
  ok(JSON.parse(open.slice(1)).upgrades.length === 0, 'websocket handshake: open packet, no upgrades');
  ws.send(`40{"token":"${token}"}`);
  await ws.next((f) => f.startsWith('40{'), 'CONNECT');
  ws.send('42["updateUserLocation",');
  let e = await ws.next((f) => f.startsWith('42["error"'), 'error for malformed');
  ok(JSON.parse(e.slice(2))[1].code === 'INVALID_ARGUMENT', `malformed packet → error event (${e})`);
  ws.send(Buffer.from([1, 2, 3]));
  e = await ws.next((f) => typeof f === 'string' && f.startsWith('42["error"'), 'error for binary');
  ok(/binary/.test(JSON.parse(e.slice(2))[1].message), 'binary packet → error event');
  ws.send('42["noSuchEvent",{}]');
  e = await ws.next((f) => f.startsWith('42["error"'), 'unknown event error');
  ok(/unknown event/.test(e), 'unknown event → error event, connection usable');
  ws.send(`42["updateUserLocation",${JSON.stringify(box(10, 10))}]`);
  await ws.next((f) => f.startsWith('42["vendor_channels"'), 'vendor_channels');
  ok(true, 'still usable after errors: vendor_channels');
  ws.send(`42["x","${'y'.repeat(17000)}"]`);
  const c = await ws.closed;
  ok(c.code === 1009, `oversized WebSocket message → close 1009 (${c.code})`);

  // Ping timeout: a client that never answers the server's pings is closed.
  const quiet = rawWs(WS_A);
  quiet.removeAllListeners('message');
  const qc = await quiet.closed;
  ok(qc.code !== 0, `no pong within pingInterval+pingTimeout → closed (${qc.code} ${qc.reason})`);
}

async function auth(token) {
  let e = await connectError(WS_A, '/user', { auth: { token: 'user_bare123' } });
  ok(/session token is required/.test(e.message), `bare user id refused: ${e.message}`);
  e = await connectError(WS_A, '/user', { auth: { token: 'a.b.c' } });
  ok(/UNAUTHENTICATED/.test(e.message), 'bad token refused');
  e = await connectError(WS_A, '/nope', { auth: { token } });
  ok(e.message === 'Invalid namespace', 'unknown namespace → Invalid namespace');
  let s = await connect(WS_A, '/user', { query: { token } });
  ok(s.connected, 'token in ?token= accepted');
  s.close();
  s = await connect(WS_A, '/user', { extraHeaders: { Authorization: `Bearer ${token}` }, transports: ['polling'] });
  ok(s.connected, 'Authorization: Bearer accepted');
  s.close();
}

// The original flow in one transport mode: a vendor app on /vendor, a viewer on /user.
async function flow(mode, transports, lat, lng) {
  const owner = `user_sio_${mode}`;
  const token = await mint(owner);
  const vid = await createVendor(owner, `sio ${mode}`);
  const vendor = await connect(WS_A, '/vendor', { auth: { token }, transports });
  const res = await vendor.timeout(10000).emitWithAck('updateVendorLocation', { lat, long: lng, vendorId: vid });
  ok(res && res.ok === true, `${mode}: updateVendorLocation acked`);
  const viewer = await connect(WS_B, '/user', { auth: { token: await mint(`viewer_${mode}`) }, transports });
  const ev = recorder(viewer, ['vendor_channels', 'vendor_sync', 'vendor_disconnect', 'error']);
  await new Promise((r) => setTimeout(r, 300)); // the first position reaches storage
  viewer.emit('updateUserLocation', box(lat, lng));
  const ch = await ev.wait((n, a) => n === 'vendor_channels' && a.some((v) => v.id === vid), 'vendor_channels with the vendor');
  const mine = ch.find((v) => v.id === vid);
  ok(Math.abs(mine.location.lat - lat) < 1e-9 && Math.abs(mine.location.long - lng) < 1e-9, `${mode}: vendor_channels [{id, location:{lat,long}}] across replicas`);
  vendor.emit('updateVendorLocation', { lat: lat + 0.001, long: lng, vendorId: vid });
  const sync = await ev.wait((n, a) => n === 'vendor_sync' && a.id === vid, 'vendor_sync');
  ok(Math.abs(sync.location.lat - (lat + 0.001)) < 1e-9, `${mode}: vendor_sync {id, location}`);
  if (viewer.io.engine.transport.name !== (transports ? transports[transports.length - 1] : 'websocket')) {
    await new Promise((r) => viewer.io.engine.once('upgrade', r));
  }
  ok(viewer.io.engine.transport.name === (transports && transports.length === 1 ? transports[0] : 'websocket'),
    `${mode}: transport is ${viewer.io.engine.transport.name}`);
  vendor.close();
  await ev.wait((n, a) => n === 'vendor_disconnect' && a.id === vid, 'vendor_disconnect');
  ok(true, `${mode}: vendor_disconnect when the vendor app goes`);
  viewer.close();
}

async function crossAndBox() {
  const owner = 'user_sio_cross';
  const token = await mint(owner);
  const v1 = await createVendor(owner, 'cross ws');
  const v2 = await createVendor(owner, 'cross sio');
  const [lat, lng] = [40.5, -73.5];
  const viewer = await connect(WS_A, '/user', { auth: { token } });
  const ev = recorder(viewer, ['vendor_channels', 'vendor_sync', 'vendor_disconnect']);
  viewer.emit('updateUserLocation', box(lat, lng));
  await ev.wait((n) => n === 'vendor_channels', 'channels');
  const wsVendor = new WebSocket(`ws://${WS_B}/ws`, 'venta.v1.json', { headers: { Authorization: `Bearer ${token}` } });
  await new Promise((r) => wsVendor.once('open', r));
  wsVendor.send(JSON.stringify({ op: 'location', vendorId: v1, lat, lng }));
  await ev.wait((n, a) => n === 'vendor_sync' && a.id === v1, '/ws vendor seen');
  ok(true, '/ws vendor → socket.io viewer (vendor_sync, across replicas)');

  const wsViewer = new WebSocket(`ws://${WS_B}/ws`, 'venta.v1.json', { headers: { Authorization: `Bearer ${token}` } });
  const lines = [];
  wsViewer.on('message', (d) => lines.push(...d.toString().split('\n').map((l) => JSON.parse(l))));
  await new Promise((r) => wsViewer.once('open', r));
  wsViewer.send(JSON.stringify({ op: 'watch.bounds', ne: { lat: lat + 1, lng: lng + 1 }, sw: { lat: lat - 1, lng: lng - 1 }, ref: 1 }));
  while (!lines.some((m) => m.op === 'ack')) await new Promise((r) => setTimeout(r, 50));
  const sv = await connect(WS_A, '/', { auth: { token } });
  sv.emit('register-vendor', { vendorId: v2 });
  await sv.timeout(10000).emitWithAck('updateVendorLocation', { lat: lat + 0.002, long: lng });
  for (let i = 0; i < 200 && !lines.some((m) => m.vendorId === v2 && (m.op === 'enter' || m.op === 'location')); i++) await new Promise((r) => setTimeout(r, 50));
  ok(lines.some((m) => m.vendorId === v2), 'socket.io vendor (/ namespace, register-vendor) → /ws viewer');

  // The connections gauge tells the protocols apart: the socket.io viewer and vendor are
  // on WS_A, the /ws vendor and viewer on WS_B.
  const gauge = async (addr, labels) => {
    const text = (await request(addr, 'GET', '/metrics')).body;
    return Number((text.match(new RegExp(`^venta_ws_connections\\{${labels}\\} (\\d+)`, 'm')) || [])[1]);
  };
  ok(await gauge(WS_A, 'role="viewer",protocol="socketio"') >= 1, 'venta_ws_connections{role="viewer",protocol="socketio"} counts the socket.io viewer');
  ok(await gauge(WS_A, 'role="vendor",protocol="socketio"') >= 1, 'venta_ws_connections{role="vendor",protocol="socketio"} counts the socket.io vendor');
  ok(await gauge(WS_B, 'role="vendor",protocol="venta"') >= 1 && await gauge(WS_B, 'role="viewer",protocol="venta"') >= 1,
    'venta_ws_connections{protocol="venta"} counts the /ws vendor and viewer');

  // A new box that leaves v1 out: vendor_disconnect for it.
  await ev.wait((n, a) => n === 'vendor_sync' && a.id === v2, 'v2 seen by sio viewer');
  viewer.emit('updateUserLocation', box(lat + 0.5, lng + 0.5));
  await ev.wait((n, a) => n === 'vendor_disconnect' && a.id === v1, 'vendor_disconnect of v1 after box change');
  ok(true, 'a box change drops (vendor_disconnect) the vendors that left it');
  for (const c of [viewer, sv]) c.close();
  wsVendor.close();
  wsViewer.close();
}

// updateVendorLocation without vendorId and without register-vendor: the user's only
// vendor; none or several is an error event, and the connection stays usable.
async function onlyVendor() {
  const [lat, lng] = [41.1, -72.1];
  const one = 'user_sio_only_one';
  const vid = await createVendor(one, 'only vendor');
  const viewer = await connect(WS_B, '/user', { auth: { token: await mint('viewer_only') } });
  const ev = recorder(viewer, ['vendor_channels', 'vendor_sync']);
  viewer.emit('updateUserLocation', box(lat, lng));
  await ev.wait((n) => n === 'vendor_channels', 'channels');
  const vendor = await connect(WS_A, '/vendor', { auth: { token: await mint(one) } });
  const res = await vendor.timeout(10000).emitWithAck('updateVendorLocation', { lat, long: lng });
  ok(res && res.ok === true, 'no vendorId, no register-vendor: the user\'s only vendor, acked');
  const sync = await ev.wait((n, a) => n === 'vendor_sync' && a.id === vid, 'vendor_sync of the only vendor');
  ok(Math.abs(sync.location.lat - lat) < 1e-9, 'the only vendor\'s position reaches a viewer');
  vendor.close();
  viewer.close();

  const errorFor = async (owner, what) => {
    const s = await connect(WS_A, '/vendor', { auth: { token: await mint(owner) } });
    const er = recorder(s, ['error']);
    s.emit('updateVendorLocation', { lat, long: lng });
    const e = await er.wait((n) => n === 'error', `error for ${what}`);
    const stays = s.connected;
    s.close();
    return { e, stays };
  };
  let r = await errorFor('user_sio_only_none', 'no vendor');
  ok(r.stays && r.e.code === 'INVALID_ARGUMENT' && /no vendor/.test(r.e.message), `a user without a vendor gets an error event (${r.e.message})`);
  const two = 'user_sio_only_two';
  await createVendor(two, 'first of two');
  await createVendor(two, 'second of two');
  r = await errorFor(two, 'several vendors');
  ok(r.e.code === 'INVALID_ARGUMENT' && /several vendors/.test(r.e.message), `a user with two vendors is told to name one (${r.e.message})`);
}

// A gateway restart: socket.io's own reconnection brings the app back, and the events
// work again on the new process (the app re-sends its box on connect, as apps do).
async function restart() {
  const { spawn } = require('child_process');
  const addr = process.env.WS_C;
  const start = () => {
    const p = spawn(process.env.WS_GATEWAY_BIN, [], {
      env: { ...process.env, VENTA_WS_ADDR: addr }, stdio: ['ignore', 'ignore', 'inherit'],
    });
    process.on('exit', () => p.kill('SIGKILL'));
    return p;
  };
  const waitPort = async () => {
    const net = require('net');
    for (let i = 0; i < 200; i++) {
      const up = await new Promise((res) => {
        const s = net.connect(Number(addr.split(':')[1]), '127.0.0.1', () => { s.destroy(); res(true); });
        s.on('error', () => res(false));
      });
      if (up) return;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`gateway on ${addr} did not start`);
  };
  let gw = start();
  await waitPort();
  const owner = 'user_sio_restart';
  const token = await mint(owner);
  const vid = await createVendor(owner, 'restart');
  const [lat, lng] = [42.2, -71.1];
  const opts = { auth: { token }, reconnectionDelay: 100, reconnectionDelayMax: 500, forceNew: true };
  const viewer = io(`http://${addr}/user`, opts);
  const vendor = io(`http://${addr}/vendor`, opts);
  const ev = recorder(viewer, ['vendor_channels', 'vendor_sync']);
  let connects = 0;
  viewer.on('connect', () => { connects++; viewer.emit('updateUserLocation', box(lat, lng)); });
  await ev.wait((n) => n === 'vendor_channels', 'channels before the restart');
  if (!vendor.connected) await new Promise((res) => vendor.once('connect', res));
  await vendor.timeout(10000).emitWithAck('updateVendorLocation', { lat, long: lng, vendorId: vid });
  await ev.wait((n, a) => n === 'vendor_sync' && a.id === vid, 'vendor_sync before the restart');

  const gone = new Promise((res) => viewer.once('disconnect', res));
  gw.kill('SIGKILL');
  await new Promise((res) => gw.once('exit', res));
  await gone;
  ok(!viewer.connected, 'the app sees the gateway go');
  gw = start();
  await waitPort();
  await ev.wait((n) => n === 'vendor_channels', 'channels after the restart', 20000);
  ok(connects >= 2 && viewer.connected, `socket.io reconnection resumed the viewer (${connects} connects)`);
  if (!vendor.connected) await new Promise((res) => vendor.once('connect', res));
  const res = await vendor.timeout(10000).emitWithAck('updateVendorLocation', { lat: lat + 0.001, long: lng, vendorId: vid });
  ok(res && res.ok === true, 'the vendor app reconnected and is acked again');
  const sync = await ev.wait((n, a) => n === 'vendor_sync' && a.id === vid && Math.abs(a.location.lat - (lat + 0.001)) < 1e-9,
    'vendor_sync after the restart');
  ok(sync.id === vid, 'positions flow again after the restart');
  viewer.close();
  vendor.close();
  gw.kill('SIGTERM');
  await new Promise((res) => gw.once('exit', res));
}

(async () => {
  const t = setTimeout(() => { console.log('FAIL overall timeout'); process.exit(1); }, 180000);
  await httpErrors();
  const token = await mint('user_sio_raw');
  await auth(token);
  await flow('polling', ['polling'], 30.1, 10.1);
  await flow('websocket', ['websocket'], 30.2, 10.2);
  await flow('upgrade', undefined, 30.3, 10.3);
  await crossAndBox();
  await onlyVendor();
  await restart();
  await rawErrors(token);
  clearTimeout(t);
  console.log(`${passed} checks passed`);
  process.exit(0);
})().catch((e) => { console.log(`FAIL ${e.stack}`); process.exit(1); });
