// The live map in a real browser: the whole mesh (user, vendor, location, gateway,
// ws-gateway) on free ports, the demo fleet seeded and driven by `venta-cli simulate`
// over the WebSocket edge, and Debian's Chromium (headless, through playwright-core)
// loading the page from the gateway. The page must show vendors, with their names, and
// they must move. A screenshot is left in <build>/artifacts/map.png.
//
//   node map.mjs BUILD_DIR SOURCE_DIR   (under tests/harness/harness.sh run)
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { Mesh, freePort, sleep } from '../gateway/mesh.mjs';
import meshTls from '../lib/mesh_tls.js';

const [buildDir, srcDir] = process.argv.slice(2);
const work = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'venta-map-e2e.'));
const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const keyFile = path.join(work, 'dev-signing-key.pem');
fs.writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
const publicPem = publicKey.export({ type: 'spki', format: 'pem' });
const cli = path.join(buildDir, 'apps', 'cli', 'venta-cli');

const mesh = new Mesh(buildDir, srcDir);
let browser, simulator;

async function waitFor(what, fn, timeoutMs = 30000) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    last = await fn();
    if (last) return last;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function main() {
  const auth = { CLERK_JWT_KEY: publicPem, VENTA_CORS_ORIGINS: '*' };
  await mesh.up({ ...auth, VENTA_WEB_DIR: path.join(srcDir, 'web') });
  execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', mesh.env.VENTA_DATABASE_URL,
    '-f', path.join(srcDir, 'prisma-free-sql', 'seed', '0001_demo_vendors.sql')]);
  const wsPort = await freePort();
  mesh.start('ws', 'ws-gateway', { ...auth, VENTA_WS_ADDR: `127.0.0.1:${wsPort}` });
  await waitFor('the WebSocket edge', async () => {
    try { return (await fetch(`http://127.0.0.1:${wsPort}/healthz`)).ok; } catch { return false; }
  });

  simulator = spawn(cli, ['simulate', '--vendors', '6', '--interval-ms', '250', '--speed', '30',
    '--city', '40.73,-73.99', '--radius', '1500'], {
    env: { ...process.env, ...mesh.env, ...meshTls.tlsEnv('venta-cli'), VENTA_DEV_SIGNING_KEY: keyFile,
      VENTA_WS_ADDR: `127.0.0.1:${wsPort}` },
    stdio: ['ignore', 'ignore', fs.openSync(path.join(mesh.logDir, 'simulator.log'), 'a')],
  });
  const token = execFileSync(cli, ['token', '--sub', 'user_map_viewer', '--key', keyFile]).toString().trim();

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const url = `${mesh.base}/#token=${token}&ws=ws://127.0.0.1:${wsPort}/ws&lat=40.73&lng=-73.99&zoom=0.00004`;
  await page.goto(url);

  // Vendors appear…
  const count = await waitFor('vendors on the map', async () => {
    const n = Number(await page.getAttribute('#count', 'data-count'));
    return n >= 3 ? n : 0;
  });
  assert.ok(count >= 3, `only ${count} vendors shown`);
  assert.equal(await page.textContent('#conn'), 'live');
  // …labelled with their names from the REST gateway…
  const named = await waitFor('vendor names', () => page.evaluate(() =>
    window.ventaMap.positions().filter((v) => window.ventaMap.name(v.id)).length));
  assert.ok(named >= 1);
  // …and they move.
  const before = await page.evaluate(() => window.ventaMap.positions());
  await sleep(2000);
  const after = await page.evaluate(() => window.ventaMap.positions());
  const moved = after.filter((a) => {
    const b = before.find((x) => x.id === a.id);
    return b && (Math.abs(b.at[0] - a.at[0]) > 1e-6 || Math.abs(b.at[1] - a.at[1]) > 1e-6);
  });
  assert.ok(moved.length >= 1, 'no vendor moved in 2 s');
  assert.deepEqual(errors, []);

  const artifacts = path.join(buildDir, 'artifacts');
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, 'map.png') });
  console.log(`ok   map shows ${count} vendors, ${named} named, ${moved.length} moving; screenshot ${artifacts}/map.png`);
}

let failed = false;
try {
  await main();
} catch (e) {
  failed = true;
  console.error(`FAIL ${e.stack || e}`);
  for (const name of ['ws', 'gateway', 'vendor', 'location', 'simulator']) {
    const log = mesh.log(name);
    if (log) console.error(`--- ${name} log (tail)\n${log.split('\n').slice(-15).join('\n')}`);
  }
} finally {
  if (browser) await browser.close().catch(() => {});
  if (simulator) simulator.kill('SIGTERM');
  await mesh.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
