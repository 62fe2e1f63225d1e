// tls.mjs — what mTLS on the gRPC hops costs a REST GET (docs/security.md, issue #24
// item 7): GET /api/v1/vendors/{id} with a JWT through the whole mesh (venta-gateway →
// VendorService.GetVendor + LocationService.GetVendorLocation), once with plaintext
// gRPC and once with mTLS, `rounds` times in turn in one run. Each turn starts a fresh
// mesh (a new database, one vendor with a position), warms it up with one wrk run,
// then measures one: requests/s, p99, and the CPU the gateway, venta-vendor and
// venta-location used during the measured run (from /proc) per request. The gRPC
// connections stay open throughout (the gateway keeps one channel per service).
//
//   bench/gateway/tls [BUILD_DIR]   (VENTA_BENCH_ROUNDS=3, VENTA_BENCH_DURATION=10s,
//                                    VENTA_BENCH_CONNECTIONS=64, VENTA_BENCH_THREADS=2)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as jose from 'jose';
import { Mesh, sleep } from '../../tests/e2e/gateway/mesh.mjs';

const [buildDir, srcDir] = process.argv.slice(2);
const here = path.dirname(new URL(import.meta.url).pathname);
const rounds = Number(process.env.VENTA_BENCH_ROUNDS || '3');
const duration = process.env.VENTA_BENCH_DURATION || '10s';
const conns = process.env.VENTA_BENCH_CONNECTIONS || '64';
const threads = process.env.VENTA_BENCH_THREADS || '2';
const certs = path.join(fs.mkdtempSync('/tmp/venta-bench-tls.'), 'certs');
execFileSync(path.join(srcDir, 'scripts', 'mesh-certs'), [certs]);
const hz = Number(execFileSync('getconf', ['CLK_TCK']).toString());

const cpuSeconds = (pid) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / hz; // utime, stime (fields 14, 15)
};

async function turn(mode, keys) {
  if (mode === 'mtls') process.env.VENTA_TEST_TLS_DIR = certs; // read by mesh.mjs per process
  else delete process.env.VENTA_TEST_TLS_DIR;
  const pem = await jose.exportSPKI(keys.publicKey);
  const mesh = new Mesh(buildDir, srcDir);
  try {
    await mesh.up({ CLERK_JWT_KEY: pem, VENTA_RATE_LIMIT_IP: '0', VENTA_RATE_LIMIT_USER: '0',
      VENTA_LOG_LEVEL: 'warn' });
    const tok = await new jose.SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject('user_bench')
      .setIssuedAt().setExpirationTime('1h').sign(keys.privateKey);
    const headers = { authorization: `Bearer ${tok}`, 'content-type': 'application/json' };
    const made = await fetch(`${mesh.base}/api/v1/vendors`, { method: 'POST', headers,
      body: JSON.stringify({ name: 'Bench Tacos', isOpen: true }) });
    const vendor = await made.json();
    if (made.status !== 201) throw new Error(`${mode}: create vendor ${made.status}`);
    const moved = await fetch(`${mesh.base}/api/v1/vendors/${vendor.id}/location`, { method: 'PUT',
      headers, body: JSON.stringify({ lat: 40.7128, lng: -74.006 }) });
    if (moved.status !== 200) throw new Error(`${mode}: put location ${moved.status}`);
    await sleep(500); // the location batch
    const target = `${mesh.base}/api/v1/vendors/${vendor.id}`;
    const ids = path.join(path.dirname(certs), 'ids');
    fs.writeFileSync(ids, `${vendor.id}\n`);
    const run = () => execFileSync('wrk', ['-t', threads, '-c', conns, '-d', duration, '--latency',
      '-s', path.join(here, 'auth.lua'), target],
    { env: { ...process.env, VENTA_BENCH_TOKEN: tok, VENTA_BENCH_IDS: ids } }).toString();
    run(); // warm-up: connections, caches
    const pids = ['gateway', 'vendor', 'location'].map((n) => mesh.procs[n].pid);
    const cpu0 = pids.map(cpuSeconds);
    const out = run();
    const cpu = pids.map((p, i) => cpuSeconds(p) - cpu0[i]);
    const total = Number(/(\d+) requests in/.exec(out)[1]);
    const bad = Number((/Non-2xx or 3xx responses:\s+(\d+)/.exec(out) || [0, 0])[1]);
    const p99m = /\s99%\s+([\d.]+)(us|ms|s)/.exec(out);
    return {
      rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]),
      p99: Number(p99m[1]) * ({ us: 0.001, ms: 1, s: 1000 })[p99m[2]],
      bad,
      us: cpu.map((c) => (c * 1e6) / total), // gateway, vendor, location µs CPU per request
    };
  } finally {
    await mesh.stop();
  }
}

const keys = await jose.generateKeyPair('RS256', { modulusLength: 2048 });
const rows = [];
for (let r = 1; r <= rounds; r++) {
  for (const mode of ['plain', 'mtls']) {
    const m = await turn(mode, keys);
    console.error(`  round ${r} ${mode}: ${m.rps.toFixed(0)} req/s, p99 ${m.p99.toFixed(2)} ms, ` +
      `CPU µs/req gateway ${m.us[0].toFixed(1)} vendor ${m.us[1].toFixed(1)} location ${m.us[2].toFixed(1)}`);
    rows.push({ r, mode, ...m });
  }
}
const nproc = execFileSync('nproc').toString().trim();
const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
console.log(`GET /api/v1/vendors/{id} with a JWT, plaintext vs mTLS gRPC hops — wrk -t${threads} ` +
  `-c${conns} -d${duration}, ${nproc} cores, load average ${load} at the end`);
console.log('| round | gRPC hops | req/s | p99 | non-2xx | µs CPU/req gateway | venta-vendor | venta-location | mesh total |');
console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|');
const sum = (a) => a.reduce((x, y) => x + y, 0);
for (const x of rows) {
  console.log(`| ${x.r} | ${x.mode} | ${x.rps.toFixed(0)} | ${x.p99.toFixed(2)} ms | ${x.bad} | ` +
    `${x.us.map((u) => u.toFixed(1)).join(' | ')} | ${sum(x.us).toFixed(1)} |`);
}
const mean = (mode, f) => sum(rows.filter((x) => x.mode === mode).map(f)) / rounds;
const ratio = (f) => (mean('mtls', f) / mean('plain', f)).toFixed(2);
console.log(`\nmTLS / plaintext: mesh CPU per request ${ratio((x) => sum(x.us))}x ` +
  `(gateway ${ratio((x) => x.us[0])}x, venta-vendor ${ratio((x) => x.us[1])}x, ` +
  `venta-location ${ratio((x) => x.us[2])}x); req/s ${ratio((x) => x.rps)}x`);
fs.rmSync(path.dirname(certs), { recursive: true, force: true });
