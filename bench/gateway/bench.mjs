// bench.mjs — REST gateway benchmark: wrk against GET /api/v1/vendors/{id} with a JWT,
// venta-gateway versus the Node baseline (node_gateway.js), same mesh, same run.
//
//   bench/gateway/run [BUILD_DIR]     (starts the harness itself)
//
// Env: VENTA_BENCH_DURATION (10s), VENTA_BENCH_CONNECTIONS (64), VENTA_BENCH_THREADS (2),
// VENTA_BENCH_VENDORS (1): how many vendors the requests spread over, each request a
// random one (1: every request reads the same vendor, the profile cache's best case).
// Anything else in the environment reaches the mesh's processes, e.g.
// VENTA_VENDOR_CACHE_ENTRIES=0 for venta-vendor without its profile cache.
import fs from 'node:fs';
import { spawn, execFileSync } from 'node:child_process';
import path from 'node:path';
import url from 'node:url';
import * as jose from 'jose';
import { Mesh, freePort, sleep } from '../../tests/e2e/gateway/mesh.mjs';

const here = path.dirname(url.fileURLToPath(import.meta.url));
const [buildDir, srcDir] = process.argv.slice(2);
const duration = process.env.VENTA_BENCH_DURATION || '10s';
const conns = process.env.VENTA_BENCH_CONNECTIONS || '64';
const threads = process.env.VENTA_BENCH_THREADS || '2';
const nvendors = Number(process.env.VENTA_BENCH_VENDORS || '1');
const idsFile = path.join(fs.mkdtempSync('/tmp/venta-bench.'), 'vendor-ids');

function wrk(target, tok) {
  const out = execFileSync('wrk', ['-t', threads, '-c', conns, '-d', duration, '--latency',
    '-s', path.join(here, 'auth.lua'), target], { env: { ...process.env, VENTA_BENCH_TOKEN: tok, VENTA_BENCH_IDS: idsFile } }).toString();
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  const p99m = /\s99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p99 = Number(p99m[1]) * ({ us: 0.001, ms: 1, s: 1000 })[p99m[2]];
  const non2xx = Number((/Non-2xx or 3xx responses:\s+(\d+)/.exec(out) || [0, 0])[1]);
  const errors = /Socket errors:.*/.exec(out)?.[0] || '';
  return { rps, p99, non2xx, errors, out };
}

const keys = await jose.generateKeyPair('RS256', { modulusLength: 2048 });
const pem = await jose.exportSPKI(keys.publicKey);
const mesh = new Mesh(buildDir, srcDir);
let node;
try {
  await mesh.up({ CLERK_JWT_KEY: pem, VENTA_RATE_LIMIT_IP: '0', VENTA_RATE_LIMIT_USER: '0',
    VENTA_LOG_LEVEL: 'warn' });
  const sub = 'user_bench';
  const tok = await new jose.SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject(sub)
    .setIssuedAt().setExpirationTime('1h').sign(keys.privateKey);
  const ids = [];
  for (let i = 0; i < nvendors; i++) {
    const created = await fetch(`${mesh.base}/api/v1/vendors`, { method: 'POST',
      headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `Bench Tacos ${i}`, description: 'benchmark vendor', isOpen: true }) });
    const vendor = await created.json();
    if (created.status !== 201) throw new Error(`create vendor: ${created.status} ${JSON.stringify(vendor)}`);
    // A vendor with a live position, so that both upstream calls of a GET return data.
    const moved = await fetch(`${mesh.base}/api/v1/vendors/${vendor.id}/location`, { method: 'PUT',
      headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' },
      body: JSON.stringify({ lat: 40.7128 + i * 1e-4, lng: -74.006 }) });
    if (moved.status !== 200) throw new Error(`put location: ${moved.status} ${await moved.text()}`);
    ids.push(vendor.id);
  }
  fs.writeFileSync(idsFile, ids.join('\n') + '\n');
  const vendor = { id: ids[0] };
  await sleep(500); /* the ingest batch */
  const nodePort = await freePort();
  node = spawn('node', [path.join(here, 'node_gateway.js')], { stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, PORT: String(nodePort), CLERK_JWT_KEY: pem, VENTA_VENDOR_ADDR: mesh.env.VENTA_VENDOR_ADDR, VENTA_LOCATION_ADDR: mesh.env.VENTA_LOCATION_ADDR,
      VENTA_PROTO_ROOT: path.join(srcDir, 'proto') } });
  await new Promise((resolve) => node.stdout.once('data', resolve));
  const paths = { 'venta-gateway (C)': `${mesh.base}/api/v1/vendors/${vendor.id}`,
    'node:http + grpc-js + jose': `http://127.0.0.1:${nodePort}/api/v1/vendors/${vendor.id}` };
  for (const [name, target] of Object.entries(paths)) { // warm-up and sanity check
    const r = await fetch(target, { headers: { authorization: `Bearer ${tok}` } });
    if (r.status !== 200) throw new Error(`${name}: ${r.status} ${await r.text()}`);
    wrk(target, tok);
  }
  // venta-vendor answers GetVendor from its profile cache (apps/vendor/profile_cache.h)
  // for both gateways alike; its counters say how often.
  const vendorCache = async () => {
    const text = await (await fetch(`http://127.0.0.1:${mesh.ports.mv}/metrics`)).text();
    const value = (name) => Number((new RegExp(`^${name} (\\S+)`, 'm').exec(text) || [0, 0])[1]);
    return { hits: value('venta_vendor_profile_cache_hits_total'),
      misses: value('venta_vendor_profile_cache_misses_total') };
  };
  const rows = [];
  for (const [name, target] of Object.entries(paths)) {
    await sleep(500);
    const before = await vendorCache();
    const r = wrk(target, tok);
    const after = await vendorCache();
    r.cache = `${after.hits - before.hits} hits, ${after.misses - before.misses} misses`;
    rows.push([name, r]);
  }
  const cpu = execFileSync('sh', ['-c', "nproc; grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"]).toString().trim().split('\n');
  const cacheNote = process.env.VENTA_VENDOR_CACHE_ENTRIES === '0' ? ', profile cache off' : '';
  console.log(`\nGET /api/v1/vendors/{id} with a JWT, ${nvendors === 1 ? "1 vendor" : `${nvendors} vendors (random per request)`}${cacheNote} — wrk -t${threads} -c${conns} -d${duration}, ${cpu[0]} cores,${cpu[1]}`);
  console.log('| server | req/s | p99 latency | non-2xx | ratio | GetVendor profile cache |');
  console.log('|---|---:|---:|---:|---:|---|');
  const base = rows[1][1].rps;
  for (const [name, r] of rows) {
    console.log(`| ${name} | ${r.rps.toFixed(0)} | ${r.p99.toFixed(2)} ms | ${r.non2xx} | ${(r.rps / base).toFixed(2)}× | ${r.cache} |${r.errors ? ' ' + r.errors : ''}`);
  }
} finally {
  if (node) node.kill('SIGKILL');
  await mesh.stop();
}
process.exit(0);
