// logins.js BUILD_ROOT — the NATS users and Redis ACL users of the mesh (docs/security.md)
// refuse what a process's login may not do, with the real clients: nats.js against the
// harness's nats-server (deploy/k8s/base/nats-auth.conf) and redis-cli against its Redis
// (deploy/k8s/base/redis-users.acl). Each refusal is paired with an allowed action seen
// to arrive, so a check that cannot see a message cannot pass. Then the processes' side:
// a login with a missing half stops the start naming the variable, and a wrong password
// keeps venta-gateway not ready instead of using Redis as somebody else.
//
// Needs the logins the harness makes with VENTA_HARNESS_TLS=1 (VENTA_TEST_LOGINS_DIR);
// without them it exits 77 (skipped).
'use strict';
const { checks } = require('../lib/checks.js');
const { connect } = require('nats');
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const net = require('node:net');
const path = require('node:path');
const { natsLogin, redisCliLogin } = require('../lib/mesh_tls.js');

const build = process.argv[2];
const { VENTA_TEST_NATS_URL, VENTA_TEST_REDIS_URL, VENTA_TEST_LOGINS_DIR } = process.env;
if (!VENTA_TEST_LOGINS_DIR) {
  console.log('SKIP: no NATS and Redis logins (run under the harness with VENTA_HARNESS_TLS=1)');
  process.exit(77);
}
const servers = VENTA_TEST_NATS_URL.replace('nats://', '');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const { ok, passed } = checks();

// ------------------------------------------------------------------------------ NATS

// A connection as login `name` that records the permission violations the server reports.
async function natsAs(name) {
  const nc = await connect({ servers, ...natsLogin(name), reconnect: false, name: `logins-test-${name}` });
  nc.violations = [];
  (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'error' && s.permissionContext) {
        nc.violations.push(`${s.permissionContext.operation} ${s.permissionContext.subject}`);
      }
    }
  })();
  return nc;
}

async function refusedConnect(opts) {
  try {
    const nc = await connect({ servers, reconnect: false, ...opts });
    await nc.close();
    return '';
  } catch (e) {
    return String(e.code || e.message);
  }
}

// Subscribe as admin; count what arrives per subject.
function counter(admin, subject) {
  const c = { n: 0 };
  admin.subscribe(subject, { callback: () => { c.n++; } });
  return c;
}

async function testNats() {
  ok(/AUTHORIZATION_VIOLATION/.test(await refusedConnect({})), 'NATS refuses a client without a user');
  ok(/AUTHORIZATION_VIOLATION/.test(await refusedConnect({ user: 'venta-ws-gateway', pass: 'not-it' })),
    'NATS refuses a wrong password');

  const admin = await natsAs('venta-admin');
  const vendorId = crypto.randomUUID();
  const deleted = counter(admin, 'evt.vendor.deleted');
  const userDeleted = counter(admin, 'evt.user.deleted');
  const status = counter(admin, `vendor.${vendorId}.status`);
  const loc = counter(admin, `loc.*.*.*.*.*.*.${vendorId}`);
  await admin.flush();

  // The WebSocket edge: positions and status yes, a domain event no.
  const ws = await natsAs('venta-ws-gateway');
  ws.publish('evt.vendor.deleted', new Uint8Array([1]));
  ws.publish(`vendor.${vendorId}.status`, new Uint8Array([1]));
  await ws.flush();
  await admin.flush(); // the server routed the publishes before answering this PING
  ok(deleted.n === 0, "venta-ws-gateway's publish on evt.vendor.deleted does not reach a subscriber");
  ok(ws.violations.includes('publish evt.vendor.deleted'),
    'the server tells venta-ws-gateway: permissions violation for publish to evt.vendor.deleted');
  ok(status.n === 1, 'venta-ws-gateway may publish vendor.<id>.status (it arrives)');
  ok(!ws.isClosed(), 'the refused publish does not close venta-ws-gateway\'s connection');

  // Nor manage the stream, touch the services' durable consumers (it reads deletions
  // through one of its own), or read other processes' replies.
  ws.publish('$JS.API.STREAM.DELETE.VENTA_EVENTS', new Uint8Array());
  ws.publish('$JS.API.CONSUMER.MSG.NEXT.VENTA_EVENTS.location-vendor-deleted', new Uint8Array());
  ws.subscribe('evt.user.>');
  ws.subscribe('_INBOX.>');
  await ws.flush();
  await sleep(100);
  ok(ws.violations.includes('publish $JS.API.STREAM.DELETE.VENTA_EVENTS'),
    'venta-ws-gateway may not delete the stream');
  ok(ws.violations.includes('publish $JS.API.CONSUMER.MSG.NEXT.VENTA_EVENTS.location-vendor-deleted'),
    "venta-ws-gateway may not fetch from venta-location's durable consumer");
  ok(ws.violations.includes('subscription evt.user.>') && ws.violations.includes('subscription _INBOX.>'),
    'venta-ws-gateway may not subscribe to evt.user.> nor _INBOX.>');

  // Only each service's own domain events; venta-location none, and no other JetStream
  // call than its consumers'.
  const cases = [
    ['venta-location', 'evt.vendor.deleted', deleted],
    ['venta-user', 'evt.vendor.deleted', deleted],
    ['venta-vendor', 'evt.user.deleted', userDeleted],
  ];
  for (const [name, subject, seen] of cases) {
    const nc = await natsAs(name);
    nc.publish(subject, new Uint8Array([1]));
    await nc.flush();
    await admin.flush();
    ok(seen.n === 0 && nc.violations.includes(`publish ${subject}`), `${name} may not publish ${subject}`);
    await nc.close();
  }
  const location = await natsAs('venta-location');
  location.publish('$JS.API.STREAM.PURGE.VENTA_EVENTS', new Uint8Array());
  location.publish(`loc.9.9.9.9.9.9.${vendorId}`, new Uint8Array([1])); // LocationService/UpdateLocation
  await location.flush();
  await admin.flush();
  ok(location.violations.includes('publish $JS.API.STREAM.PURGE.VENTA_EVENTS'),
    'venta-location may not purge the stream');
  // Nor touch venta-vendor's durable consumer: fetch from it, ack for it, delete it.
  for (const subject of ['$JS.API.CONSUMER.MSG.NEXT.VENTA_EVENTS.vendor-user-deleted',
    '$JS.ACK.VENTA_EVENTS.vendor-user-deleted.1.1.1.1.1.0',
    '$JS.API.CONSUMER.DELETE.VENTA_EVENTS.vendor-user-deleted']) {
    location.publish(subject, new Uint8Array());
  }
  await location.flush();
  await sleep(100);
  ok(['MSG.NEXT', 'DELETE'].every((op) =>
    location.violations.includes(`publish $JS.API.CONSUMER.${op}.VENTA_EVENTS.vendor-user-deleted`)) &&
    location.violations.includes('publish $JS.ACK.VENTA_EVENTS.vendor-user-deleted.1.1.1.1.1.0'),
  "venta-location may not fetch, ack or delete venta-vendor's durable consumer");
  ok(loc.n === 1, 'venta-location may publish a position (REST UpdateLocation)');
  const vendor = await natsAs('venta-vendor');
  vendor.publish(`loc.9.9.9.9.9.9.${vendorId}`, new Uint8Array([1]));
  await vendor.flush();
  await admin.flush();
  ok(loc.n === 1 && vendor.violations.includes(`publish loc.9.9.9.9.9.9.${vendorId}`),
    'venta-vendor may not publish positions');
  // Replies: each service its own inboxes (libs/bus names them _INBOX.<user>).
  vendor.subscribe('_INBOX.venta-user.>');
  vendor.subscribe('_INBOX.>');
  vendor.subscribe('_INBOX.venta-vendor.x');
  await vendor.flush();
  await sleep(100);
  ok(vendor.violations.includes('subscription _INBOX.venta-user.>') &&
    vendor.violations.includes('subscription _INBOX.>') &&
    !vendor.violations.includes('subscription _INBOX.venta-vendor.x'),
  "venta-vendor may subscribe to its own inboxes only, not venta-user's nor all");
  for (const nc of [ws, location, vendor, admin]) await nc.close();
}

// ----------------------------------------------------------------------------- Redis

function redis(login, ...args) {
  const r = spawnSync('redis-cli', ['-u', VENTA_TEST_REDIS_URL, ...login, ...args], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.trim();
}

function testRedis() {
  const gateway = redisCliLogin('venta-gateway');
  const edge = redisCliLogin('venta-ws-gateway');
  const admin = redisCliLogin('venta-admin');
  const key = `test-${crypto.randomUUID()}`;
  const incr = "return redis.call('INCR', KEYS[1])";

  ok(/NOAUTH/.test(redis([], 'PING')), 'Redis refuses a client without a user');
  ok(/WRONGPASS/.test(redis(['--user', 'venta-gateway', '--pass', 'not-it', '--no-auth-warning'], 'PING')),
    'Redis refuses a wrong password');

  ok(redis(gateway, 'EVAL', incr, '1', `venta:rl:ip:${key}`) === '1', 'venta-gateway counts its rate-limit window');
  ok(/NOPERM/.test(redis(gateway, 'EVAL', incr, '1', `presence:vendor:${key}`)),
    "venta-gateway's script may not touch a presence key");
  ok(/NOPERM/.test(redis(gateway, 'GET', `presence:vendor:${key}`)), 'venta-gateway may not read presence');
  ok(/NOPERM/.test(redis(gateway, 'SET', `venta:rl:ip:${key}`, '1')), 'venta-gateway may not SET (not its command)');

  ok(redis(edge, 'SET', `presence:vendor:${key}`, 'h', 'PX', '60000') === 'OK', 'venta-ws-gateway writes presence');
  ok(/NOPERM/.test(redis(edge, 'INCR', `presence:vendor:${key}`)), 'venta-ws-gateway may not INCR');
  ok(/can't run this command/.test(redis(edge, 'EVAL', incr, '1', `presence:vendor:${key}`)),
    "venta-ws-gateway's script may not run a command outside its list");
  ok(/NOPERM/.test(redis(edge, 'GET', `venta:rl:ip:${key}`)), 'venta-ws-gateway may not read rate limits');
  for (const cmd of [['FLUSHALL'], ['KEYS', '*'], ['CONFIG', 'GET', 'requirepass'], ['ACL', 'LIST']]) {
    ok(/NOPERM/.test(redis(edge, ...cmd)) && /NOPERM/.test(redis(gateway, ...cmd)), `neither edge may ${cmd[0]}`);
  }
  ok(redis(admin, 'GET', `venta:rl:ip:${key}`) === '1' && redis(admin, 'GET', `presence:vendor:${key}`) === 'h',
    'what the refused commands would have changed is unchanged');
  redis(admin, 'DEL', `venta:rl:ip:${key}`, `presence:vendor:${key}`);
}

// ------------------------------------------------------------------------- processes

function startFails(bin, env) {
  const r = spawnSync(path.join(build, bin), [], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20000 });
  return { status: r.status, stderr: r.stderr };
}

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function testProcesses() {
  const { publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwtKey = publicKey.export({ type: 'spki', format: 'pem' });
  let r = startFails('apps/gateway/venta-gateway', {
    VENTA_REDIS_URL: VENTA_TEST_REDIS_URL, CLERK_JWT_KEY: jwtKey, VENTA_REDIS_USER: 'venta-gateway',
    VENTA_REDIS_PASSWORD: '' });
  ok(r.status === 2 && /VENTA_REDIS_PASSWORD is required/.test(r.stderr),
    'VENTA_REDIS_USER without VENTA_REDIS_PASSWORD stops the start (exit 2), naming it');
  r = startFails('apps/vendor/venta-vendor', {
    VENTA_DATABASE_URL: process.env.VENTA_TEST_DATABASE_URL, VENTA_NATS_URL: VENTA_TEST_NATS_URL,
    VENTA_NATS_USER: '', VENTA_NATS_PASSWORD: 'x' });
  ok(r.status === 2 && /VENTA_NATS_USER is required/.test(r.stderr),
    `VENTA_NATS_PASSWORD without VENTA_NATS_USER stops the start (exit 2), naming it (${r.status} ${r.stderr.trim()})`);
  r = startFails('apps/vendor/venta-vendor', {
    VENTA_DATABASE_URL: process.env.VENTA_TEST_DATABASE_URL, VENTA_NATS_URL: VENTA_TEST_NATS_URL,
    VENTA_NATS_USER: 'venta.*', VENTA_NATS_PASSWORD: 'x' });
  ok(r.status === 2 && /VENTA_NATS_USER must be letters, digits/.test(r.stderr),
    `a VENTA_NATS_USER that is not one subject token stops the start (${r.status} ${r.stderr.trim()})`);

  // A wrong Redis password: the gateway serves, is not ready, and says why.
  const port = await freePort();
  const gw = spawn(path.join(build, 'apps/gateway/venta-gateway'), [], {
    env: { ...process.env, VENTA_GATEWAY_ADDR: `127.0.0.1:${port}`, VENTA_REDIS_URL: VENTA_TEST_REDIS_URL,
      CLERK_JWT_KEY: jwtKey, VENTA_REDIS_USER: 'venta-gateway', VENTA_REDIS_PASSWORD: 'not-it',
      VENTA_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  gw.stderr.on('data', (d) => { log += d; });
  try {
    let body = '';
    for (let i = 0; i < 100 && !/login as venta-gateway refused/.test(log); i++) await sleep(100);
    for (let i = 0; i < 50 && !body; i++) {
      try { body = await (await fetch(`http://127.0.0.1:${port}/readyz`)).text(); } catch { await sleep(100); }
    }
    ok(/login as venta-gateway refused \(WRONGPASS/.test(log) && /"variable":"VENTA_REDIS_PASSWORD"/.test(log),
      'a wrong VENTA_REDIS_PASSWORD is logged as a refused login, naming the variable');
    let ready = {};
    try { ready = JSON.parse(body).checks || {}; } catch { /* reported below */ }
    ok('redis' in ready && ready.redis !== 'ok', `/readyz reports Redis not ok (${body})`);
  } finally {
    gw.kill('SIGKILL');
  }
}

(async () => {
  await testNats();
  testRedis();
  await testProcesses();
  console.log(`${passed()} checks passed`);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
