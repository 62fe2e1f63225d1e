// edge_tls.js — the checks of edge_run.sh with node's clients: HTTPS through
// venta-gateway to venta-vendor (fetch via https.request with the edge's CA), /ws over
// wss with the `ws` client, socket.io-client over wss (websocket and polling), and the
// settings that must stop a gateway (exit 2 naming the variable).
'use strict';
const { checks } = require('../lib/checks.js');
const fs = require('node:fs');
const https = require('node:https');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawnSync } = require('node:child_process');
const WebSocket = require('ws');
const jose = require('jose');
const { io } = require('socket.io-client');

const { GATEWAY, WS, EDGE_CA, JWT_PRIVATE_KEY_FILE, BUILD, OTHER_KEY } = process.env;
const ca = fs.readFileSync(EDGE_CA);

const { ok, passed } = checks();

async function mint(sub) {
  const key = await jose.importPKCS8(fs.readFileSync(JWT_PRIVATE_KEY_FILE, 'utf8'), 'RS256');
  return new jose.SignJWT({ sid: 'sess_edge' }).setProtectedHeader({ alg: 'RS256' })
    .setSubject(sub).setIssuedAt().setExpirationTime('10m').sign(key);
}

function get(url, headers = {}, opts = {}) {
  return new Promise((resolve, reject) => {
    https.get(url, { ca, headers, ...opts }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

function wsAuth(token) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://${WS}/ws`, { ca });
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ op: 'auth', token, ref: 7 })));
    ws.once('message', (m) => { ws.close(); resolve(JSON.parse(m)); });
  });
}

function sio(token, transports) {
  const s = io(`https://${WS}/user`, { ca, auth: { token }, transports, reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    s.once('connect', () => { const t = s.io.engine.transport.name; s.close(); resolve(t); });
    s.once('connect_error', (e) => { s.close(); reject(e); });
  });
}

function start(bin, env) {
  const r = spawnSync(path.join(BUILD, bin), [], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20000 });
  return { status: r.status, stderr: r.stderr || '' };
}

(async () => {
  const token = await mint('user_edge_tls');
  const id = crypto.randomUUID();
  const r = await get(`https://${GATEWAY}/api/v1/vendors/${id}`, { authorization: `Bearer ${token}` });
  ok(r.status === 404 && /NOT_FOUND/.test(r.body),
    `GET /api/v1/vendors/{id} over HTTPS reaches venta-vendor (404 for an unknown id: ${r.status})`);
  let refused = '';
  try { await get(`https://${GATEWAY}/healthz`, {}, { ca: undefined }); } catch (e) { refused = e.code; }
  ok(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/.test(refused), `a client that does not trust the CA refuses it (${refused})`);

  const ack = await wsAuth(token);
  ok(ack.op === 'ack' && ack.ref === 7, '/ws over wss: the auth message is acknowledged');
  let wsRefused = '';
  try {
    await new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://${WS}/ws`);
      ws.once('open', () => { ws.close(); resolve(); });
      ws.once('error', reject);
      ws.once('unexpected-response', () => reject(new Error('unexpected response')));
    });
  } catch (e) { wsRefused = e.message; }
  ok(wsRefused !== '', `plaintext ws:// to the TLS port does not open (${wsRefused})`);
  ok(await sio(token, ['websocket']) === 'websocket', 'socket.io-client connects over wss (websocket transport)');
  ok(await sio(token, ['polling']) === 'polling', 'socket.io-client connects over https (polling transport)');

  // The settings that must stop a gateway, naming the variable (venta-ws-gateway: the
  // environment edge_mesh.sh exported is its own, VENTA_TLS_* included with mTLS on).
  let s = start('apps/ws-gateway/venta-ws-gateway', { VENTA_HTTP_TLS_KEY: '' });
  ok(s.status === 2 && /VENTA_HTTP_TLS_KEY is required/.test(s.stderr),
    `a certificate without a key stops the start (exit 2): ${s.status} ${s.stderr.trim()}`);
  s = start('apps/ws-gateway/venta-ws-gateway', { VENTA_HTTP_TLS_KEY: OTHER_KEY });
  ok(s.status === 2 && /VENTA_HTTP_TLS_KEY does not match the certificate/.test(s.stderr),
    `the key of another certificate stops the start (exit 2): ${s.status} ${s.stderr.trim()}`);
  s = start('apps/ws-gateway/venta-ws-gateway', { VENTA_HTTP_TLS_CERT: `${EDGE_CA}.missing` });
  ok(s.status === 2 && /VENTA_HTTP_TLS_CERT is not a readable PEM certificate/.test(s.stderr),
    `a missing certificate file stops the start (exit 2): ${s.status} ${s.stderr.trim()}`);
  console.log(`${passed()} checks passed`);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
