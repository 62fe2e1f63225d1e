// mesh.mjs — starts the whole mesh for the gateway e2e tests on free loopback ports:
// a fresh migrated database (copied from the harness template), venta-user,
// venta-vendor, venta-location and venta-gateway, all real processes. Everything is
// killed on stop(), on exit and on SIGINT/SIGTERM, also when a test fails.
import { spawn, execFileSync } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import meshTls from '../lib/mesh_tls.js';

const children = new Set();

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function killAll() {
  for (const c of children) {
    try { c.kill('SIGKILL'); } catch { /* gone */ }
  }
  children.clear();
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { killAll(); process.exit(1); });

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Mesh {
  constructor(buildDir, srcDir) {
    this.buildDir = buildDir;
    this.srcDir = srcDir;
    this.procs = {};
    this.logDir = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'venta-gw-e2e.'));
  }

  bin(app) {
    return path.join(this.buildDir, 'apps', app, `venta-${app}`);
  }

  async database() {
    const admin = process.env.VENTA_TEST_PG_ADMIN_URL;
    const template = process.env.VENTA_TEST_PG_TEMPLATE || 'venta_template';
    if (!admin) throw new Error('run under tests/harness/harness.sh (VENTA_TEST_PG_ADMIN_URL unset)');
    const name = `gw_e2e_${process.pid}_${Date.now()}`;
    execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', admin, '-c',
      `CREATE DATABASE ${name} TEMPLATE ${template}`]);
    const url = admin.replace(/\/[^/]*$/, `/${name}`);
    execFileSync(path.join(this.buildDir, 'apps', 'migrate', 'venta-migrate'), [], {
      env: { ...process.env, VENTA_DATABASE_URL: url,
        VENTA_MIGRATIONS_DIR: path.join(this.srcDir, 'prisma-free-sql') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    return url;
  }

  start(name, app, env) {
    const log = fs.openSync(path.join(this.logDir, `${name}.log`), 'a');
    // VENTA_E2E_WRAP="gdb -q -batch -ex run -ex bt --args" wraps the gateway (debugging).
    const wrap = app === 'gateway' && process.env.VENTA_E2E_WRAP ? process.env.VENTA_E2E_WRAP.split(' ') : [];
    const argv = [...wrap, this.bin(app)];
    const child = spawn(argv[0], argv.slice(1), {
      env: { ...process.env, ...this.env, ...meshTls.tlsEnv(`venta-${app}`), ...env },
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    children.add(child);
    child.exited = new Promise((resolve) => child.on('exit', (code, sig) => {
      children.delete(child);
      resolve({ code, sig });
    }));
    this.procs[name] = child;
    return child;
  }

  async up(gatewayEnv) {
    const db = await this.database();
    const ports = {};
    for (const k of ['user', 'vendor', 'location', 'gateway', 'mu', 'mv', 'ml']) ports[k] = await freePort();
    this.ports = ports;
    this.env = {
      VENTA_DATABASE_URL: db,
      VENTA_NATS_URL: process.env.VENTA_TEST_NATS_URL,
      VENTA_REDIS_URL: process.env.VENTA_TEST_REDIS_URL,
      VENTA_USER_ADDR: `127.0.0.1:${ports.user}`,
      VENTA_VENDOR_ADDR: `127.0.0.1:${ports.vendor}`,
      VENTA_LOCATION_ADDR: `127.0.0.1:${ports.location}`,
      VENTA_GATEWAY_ADDR: `127.0.0.1:${ports.gateway}`,
      VENTA_LOG_LEVEL: process.env.VENTA_E2E_LOG_LEVEL || 'warn',
    };
    this.start('user', 'user', { VENTA_METRICS_ADDR: `127.0.0.1:${ports.mu}` });
    this.start('vendor', 'vendor', { VENTA_METRICS_ADDR: `127.0.0.1:${ports.mv}`,
      // Slower than the 1 s within which GET /vendors/{id} must show a new position:
      // that one must come from LocationService, not from VendorService's cache.
      VENTA_VENDOR_LOCATION_INTERVAL_MS: '3000' });
    this.startLocation();
    this.gatewayEnv = gatewayEnv;
    this.start('gateway', 'gateway', gatewayEnv);
    this.base = `http://127.0.0.1:${ports.gateway}`;
    await this.waitReady();
  }

  startLocation() {
    return this.start('location', 'location', { VENTA_METRICS_ADDR: `127.0.0.1:${this.ports.ml}` });
  }

  async waitReady(timeoutMs = 20000) {
    const until = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < until) {
      for (const [name, p] of Object.entries(this.procs)) {
        if (p.exitCode !== null || p.signalCode !== null) {
          if (name === 'location' && this.locationKilled) continue;
          throw new Error(`${name} exited early (${p.exitCode ?? p.signalCode}); logs in ${this.logDir}`);
        }
      }
      try {
        const r = await fetch(`${this.base}/readyz`);
        last = await r.text();
        if (r.status === 200) return JSON.parse(last);
      } catch (e) { last = String(e); }
      await sleep(100);
    }
    throw new Error(`mesh not ready: ${last}; logs in ${this.logDir}`);
  }

  async stop() {
    const gw = this.procs.gateway;
    let gwExit = null;
    if (gw && gw.exitCode === null && gw.signalCode === null) {
      gw.kill('SIGTERM');
      gwExit = await Promise.race([gw.exited, sleep(15000).then(() => ({ code: 'timeout' }))]);
    }
    for (const [name, p] of Object.entries(this.procs)) {
      if (name !== 'gateway' && p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
    }
    await Promise.race([Promise.all(Object.values(this.procs).map((p) => p.exited)), sleep(10000)]);
    killAll();
    return gwExit;
  }

  log(name) {
    try { return fs.readFileSync(path.join(this.logDir, `${name}.log`), 'utf8'); } catch { return ''; }
  }
}
