// ws_mesh_client.js — what the WebSocket edge's e2e checks share (ws_e2e.js,
// ws_cluster_e2e.js): session tokens signed with the run's key (JWT_PRIVATE_KEY_FILE),
// vendors made and deleted through VendorService (VENTA_VENDOR_ADDR, as venta-gateway
// makes them), and a `ws` client that buffers the server's messages and waits for the
// one a check needs. Every wait is for an event with a generous timeout, never a timing.
'use strict';
const fs = require('fs');
const WebSocket = require('ws');
const jose = require('jose');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const { grpcCredentials } = require('./mesh_tls.js');

const { JWT_PRIVATE_KEY_FILE, PROTO_ROOT, VENTA_VENDOR_ADDR } = process.env;

let privateKey;
async function mint(sub, { exp = '10m' } = {}) {
  if (!privateKey) privateKey = await jose.importPKCS8(fs.readFileSync(JWT_PRIVATE_KEY_FILE, 'utf8'), 'RS256');
  return new jose.SignJWT({ sid: 'sess_test' }).setProtectedHeader({ alg: 'RS256' })
    .setSubject(sub).setIssuedAt().setExpirationTime(exp).sign(privateKey);
}

const pkgDef = protoLoader.loadSync(['venta/vendor/v1/vendor.proto'],
  { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [PROTO_ROOT] });
const VendorService = grpc.loadPackageDefinition(pkgDef).venta.vendor.v1.VendorService;
// Vendors are made as the REST gateway makes them (with TLS on, as venta-gateway).
const vendorClient = new VendorService(VENTA_VENDOR_ADDR, grpcCredentials(grpc, 'venta-gateway'));
function createVendor(owner, name) {
  const md = new grpc.Metadata();
  md.set('x-user-id', owner);
  md.set('x-request-id', `ws-e2e-${name}`);
  return new Promise((resolve, reject) => vendorClient.CreateVendor({ name, owner_id: owner }, md,
    { deadline: new Date(Date.now() + 15000) }, (err, v) => (err ? reject(err) : resolve(v.id))));
}

function deleteVendor(owner, id) {
  const md = new grpc.Metadata();
  md.set('x-user-id', owner);
  return new Promise((resolve, reject) => vendorClient.DeleteVendor({ id }, md,
    { deadline: new Date(Date.now() + 15000) }, (err) => (err ? reject(err) : resolve())));
}

class Client {
  constructor(addr, { token, query, protocol = 'venta.v1.json', name = 'client', autoPong = true } = {}) {
    this.name = name;
    this.msgs = [];
    this.waiters = [];
    this.frames = 0;
    const url = `ws://${addr}/ws${query ? `?${query}` : ''}`;
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    this.ws = protocol ? new WebSocket(url, protocol, { headers, autoPong })
      : new WebSocket(url, { headers, autoPong });
    this.closed = new Promise((resolve) => this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.ws.on('error', () => {});
    this.ws.on('message', (data) => {
      this.frames++;
      for (const line of data.toString().split('\n')) {
        const m = JSON.parse(line);
        this.count = (this.count || 0) + 1;
        if (!this.keep || this.keep(m)) this.msgs.push(m);
      }
      this.wake();
    });
  }
  opened() {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState === WebSocket.OPEN) return resolve(this);
      this.ws.once('open', () => resolve(this));
      this.ws.once('unexpected-response', (req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      this.ws.once('close', () => reject(new Error('closed before open')));
    });
  }
  wake() {
    for (const w of [...this.waiters]) {
      const i = this.msgs.findIndex(w.pred);
      if (i >= 0) {
        const [m] = this.msgs.splice(i, 1);
        this.waiters.splice(this.waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve(m);
      }
    }
  }
  // The first buffered or future message matching pred (removed from the buffer).
  take(pred, what = 'a message', ms = 10000) {
    return new Promise((resolve, reject) => {
      const w = { pred, resolve };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`${this.name}: timed out waiting for ${what}; buffered: ${JSON.stringify(this.msgs.slice(-5))}`));
      }, ms);
      this.waiters.push(w);
      this.wake();
    });
  }
  op(op, extra = {}, ms) {
    return this.take((m) => m.op === op && Object.entries(extra).every(([k, v]) => m[k] === v), `${op} ${JSON.stringify(extra)}`, ms);
  }
  send(obj) { this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)); }
  async request(obj) {
    const ref = `r${++Client.refs}`;
    this.send({ ...obj, ref });
    return this.take((m) => m.ref === ref && (m.op === 'ack' || m.op === 'error'), `reply to ${obj.op}`);
  }
  waitClose(ms = 10000) {
    return Promise.race([this.closed, new Promise((_, rej) => setTimeout(() => rej(new Error(`${this.name}: no close`)), ms))]);
  }
  close() { try { this.ws.close(); } catch (e) { /* already closed */ } }
}
Client.refs = 0;

async function connect(addr, sub, opts = {}) {
  const c = new Client(addr, { token: await mint(sub), ...opts });
  return c.opened();
}

let tsNow = Date.now();
const nextTs = () => ++tsNow;
async function move(vendorConn, vendorId, lat, lng) {
  const r = await vendorConn.request({ op: 'location', vendorId, lat, lng, heading: 90, speed: 3.2, accuracy: 5, ts: nextTs() });
  if (r.op !== 'ack') throw new Error(`location not acked: ${JSON.stringify(r)}`);
}

module.exports = { mint, createVendor, deleteVendor, Client, connect, nextTs, move };
