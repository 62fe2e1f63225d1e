// grpcjs_client.js <host:port> <proto_root> — @grpc/grpc-js calling a libs/rpc server.
// Every check prints a line; the exit code is the number of failed checks (0 = pass).
// Run by tests/e2e/rpc/test_rpc_interop.c against its C echo server.
'use strict';
const { grpc, load } = require('./grpcjs_load');

const [target, protoRoot] = process.argv.slice(2);
const pkg = load(protoRoot);
const Echo = pkg.venta.test.v1.Echo;
const Health = pkg.grpc.health.v1.Health;
const echo = new Echo(target, grpc.credentials.createInsecure());
const health = new Health(target, grpc.credentials.createInsecure());

let failed = 0;
function check(cond, what) {
  if (!cond) failed++;
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
}
const deadline = (ms) => new Date(Date.now() + ms);

function unary(req, { md, ms = 20000 } = {}) {
  return new Promise((resolve) => {
    // The callback and the 'status' event can come in either order: resolve after both.
    let initial = null;
    let result = null;
    let trailing = null;
    const finish = () => { if (result && trailing) resolve({ ...result, initial, trailing }); };
    const call = echo.Unary(req, md || new grpc.Metadata(), { deadline: deadline(ms) },
      (err, resp) => { result = { err, resp }; finish(); });
    call.on('metadata', (m) => { initial = m; });
    call.on('status', (s) => { trailing = s.metadata; finish(); });
  });
}

async function testRoundtrip() {
  const md = new grpc.Metadata();
  md.set('x-request-id', 'node-req-1');
  md.set('x-user-id', 'user_node');
  md.set('x-extra', 'extra-value');
  const { err, resp, initial, trailing } = await unary(
    { message: 'héllo from node', payload: Buffer.from([0, 1, 2, 255]), metadata_key: 'x-extra' },
    { md });
  check(!err, `roundtrip: no error (${err && err.message})`);
  if (err) return;
  check(resp.message === 'héllo from node', 'roundtrip: message');
  check(Buffer.compare(resp.payload, Buffer.from([0, 1, 2, 255])) === 0, 'roundtrip: payload');
  check(resp.request_id === 'node-req-1', 'roundtrip: x-request-id reached the handler');
  check(resp.user_id === 'user_node', 'roundtrip: x-user-id reached the handler');
  check(resp.metadata_value === 'extra-value', 'roundtrip: other metadata');
  check(Number(resp.deadline_ms) > 0 && Number(resp.deadline_ms) <= 21000, 'roundtrip: deadline seen');
  check(initial && initial.get('x-request-id')[0] === 'node-req-1', 'roundtrip: x-request-id echoed');
  check(initial && initial.get('x-echo-initial')[0] === 'initial', 'roundtrip: initial metadata');
  check(trailing && trailing.get('x-echo-trailer')[0] === 'trailer', 'roundtrip: trailing metadata');

  const gen = await unary({ message: 'no id' });
  check(!gen.err && /^[0-9a-f]{32}$/.test(gen.resp.request_id), 'request id generated when absent');
}

async function testStatusCodes() {
  let good = 0;
  for (let code = 1; code <= 16; code++) {
    const msg = `status ${code} — with unicode ✓`;
    const { err } = await unary({ status_code: code, status_message: msg });
    if (err && err.code === code && err.details === msg) good++;
    else console.log(`  code ${code}: got ${err && err.code} "${err && err.details}"`);
  }
  check(good === 16, `every status code round-trips with its message (${good}/16)`);
}

async function testDeadlineAndCancel() {
  const t0 = Date.now();
  const { err } = await unary({ sleep_ms: 20000 }, { ms: 300 });
  check(err && err.code === grpc.status.DEADLINE_EXCEEDED, 'deadline exceeded');
  check(Date.now() - t0 < 15000, 'deadline exceeded: did not wait for the handler');

  const cancelled = await new Promise((resolve) => {
    const call = echo.Unary({ sleep_ms: 20000 }, { deadline: deadline(30000) },
      (e) => resolve(e));
    setTimeout(() => call.cancel(), 200);
  });
  check(cancelled && cancelled.code === grpc.status.CANCELLED, 'client cancellation');
}

async function testBadInput() {
  const raw = (path, bytes) => new Promise((resolve) => {
    const client = new grpc.Client(target, grpc.credentials.createInsecure());
    client.makeUnaryRequest(path, () => bytes, (b) => b, null, { deadline: deadline(10000) },
      (err, resp) => { client.close(); resolve({ err, resp }); });
  });
  let r = await raw('/venta.test.v1.Echo/Unary', Buffer.from([0x0a, 0x64, 0x68, 0x69]));
  check(r.err && r.err.code === grpc.status.INVALID_ARGUMENT, 'undecodable request: INVALID_ARGUMENT');
  r = await raw('/venta.test.v1.Echo/NoSuchMethod', Buffer.alloc(0));
  check(r.err && r.err.code === grpc.status.UNIMPLEMENTED, 'unknown method: UNIMPLEMENTED');
  const big = await unary({ payload: Buffer.alloc(5 * 1024 * 1024, 7) });
  check(big.err && big.err.code === grpc.status.RESOURCE_EXHAUSTED, 'oversized request: RESOURCE_EXHAUSTED');
  const ok = await unary({ message: 'after bad input' });
  check(!ok.err && ok.resp.message === 'after bad input', 'server still serves after bad input');
}

async function testConcurrent() {
  const n = 400;
  const all = await Promise.all(Array.from({ length: n }, (_, i) => unary({ message: `m${i}` })));
  const good = all.filter((r, i) => !r.err && r.resp.message === `m${i}`).length;
  check(good === n, `${n} concurrent calls (${good} ok)`);
}

function healthCheck(service) {
  return new Promise((resolve) => health.Check({ service }, { deadline: deadline(10000) },
    (err, resp) => resolve({ err, resp })));
}

async function testHealth() {
  let r = await healthCheck('');
  check(!r.err && r.resp.status === 'SERVING', 'health Check "": SERVING');
  r = await healthCheck('venta.test.v1.Echo');
  check(!r.err && r.resp.status === 'SERVING', 'health Check service: SERVING');
  r = await healthCheck('no.such.Service');
  check(r.err && r.err.code === grpc.status.NOT_FOUND, 'health Check unknown: NOT_FOUND');

  // Updates are queued as they arrive; next() takes the oldest or waits for one.
  const queue = [];
  let waiter = null;
  const stream = health.Watch({ service: '' });
  stream.on('data', (d) => {
    if (waiter) { const w = waiter; waiter = null; w(d.status); } else queue.push(d.status);
  });
  stream.on('error', () => {});
  const next = () => new Promise((resolve) => {
    if (queue.length) return resolve(queue.shift());
    const t = setTimeout(() => { waiter = null; resolve('timeout'); }, 15000);
    waiter = (st) => { clearTimeout(t); resolve(st); };
  });
  check(await next() === 'SERVING', 'health Watch: SERVING first');
  await unary({ message: 'health-down:redis' });
  check(await next() === 'NOT_SERVING', 'health Watch: NOT_SERVING when a dependency is down');
  r = await healthCheck('redis');
  check(!r.err && r.resp.status === 'NOT_SERVING', 'health Check dependency: NOT_SERVING');
  await unary({ message: 'health-up:redis' });
  check(await next() === 'SERVING', 'health Watch: SERVING again');
  stream.cancel();
}

(async () => {
  await testRoundtrip();
  await testStatusCodes();
  await testDeadlineAndCancel();
  await testBadInput();
  await testConcurrent();
  await testHealth();
  echo.close();
  health.close();
  console.log(`${failed} failed`);
  process.exit(failed ? 1 : 0);
})().catch((e) => { console.error(e); process.exit(2); });
