// The live map in a real browser: the whole mesh (user, vendor, location, gateway,
// ws-gateway) on free ports, the demo fleet seeded and driven by `venta-cli simulate`
// over the WebSocket edge, a few vendors of the test's own placed over REST, and
// Debian's Chromium (headless, through playwright-core) loading the page from the
// gateway. Checked as a user would see it:
//   - the page and everything it loads come from 127.0.0.1 (no CDN, no tile server);
//   - the offline basemap (Natural Earth's land) is drawn, with a real coastline;
//   - vendors appear with their names and move; online and offline ones look different;
//   - vendors close together are clustered when zoomed out, and their labels never
//     overlap when zoomed in;
//   - a search flies to the vendor found and opens its card;
//   - a click on a vendor opens its card with the REST API's data and its image;
//   - after venta-ws-gateway is killed and started again, the page reconnects by itself;
//   - with VENTA_MAP_TILE_URL (a second gateway, a tile server of the test's own on
//     127.0.0.1) the page draws that server's tiles for the view, with the attribution.
// Screenshots of each step are left in <build>/tests/e2e/map/*.png (docs/map.md).
//
//   node map.mjs BUILD_DIR SOURCE_DIR   (under tests/harness/harness.sh run)
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { Mesh, freePort, sleep } from '../gateway/mesh.mjs';
import meshTls from '../lib/mesh_tls.js';
import { untilValue } from '../lib/until.mjs';

const [buildDir, srcDir] = process.argv.slice(2);
const work = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'venta-map-e2e.'));
const artifacts = path.join(buildDir, 'tests', 'e2e', 'map');
fs.mkdirSync(artifacts, { recursive: true });
const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const keyFile = path.join(work, 'dev-signing-key.pem');
fs.writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
const publicPem = publicKey.export({ type: 'spki', format: 'pem' });
const cli = path.join(buildDir, 'apps', 'cli', 'venta-cli');
const auth = { CLERK_JWT_KEY: publicPem, VENTA_CORS_ORIGINS: '*' };

const mesh = new Mesh(buildDir, srcDir);
const t0 = Date.now();
const elapsed = () => `[${((Date.now() - t0) / 1000).toFixed(1)} s]`;
let browser, page, simulator, wsPort;
const consoleLines = [], pageErrors = [];

const waitFor = untilValue;

const token = (sub) => execFileSync(cli, ['token', '--sub', sub, '--key', keyFile]).toString().trim();

async function api(method, route, tok, body) {
  const headers = { authorization: `Bearer ${tok}` };
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) { headers['content-type'] = 'application/json'; payload = JSON.stringify(body); }
  const r = await fetch(`${mesh.base}${route}`, { method, headers, body: payload });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  assert.ok(r.ok, `${method} ${route}: ${r.status} ${text}`);
  return json;
}

async function startWs() {
  mesh.start('ws', 'ws-gateway', { ...auth, VENTA_WS_ADDR: `127.0.0.1:${wsPort}` });
  await waitFor('the WebSocket edge', async () => {
    try { return (await fetch(`http://127.0.0.1:${wsPort}/healthz`)).ok; } catch { return false; }
  });
}

// A vendor of the test's own, placed over REST: never streamed, so offline on the map.
async function placeVendor(tok, body, at) {
  const v = await api('POST', '/api/v1/vendors', tok, body);
  await api('PUT', `/api/v1/vendors/${v.id}/location`, tok, { lat: at[0], lng: at[1] });
  return v;
}

async function main() {
  await mesh.up({ ...auth, VENTA_WEB_DIR: path.join(buildDir, 'web') });
  execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', mesh.env.VENTA_DATABASE_URL,
    '-f', path.join(srcDir, 'prisma-free-sql', 'seed', '0001_demo_vendors.sql')]);
  wsPort = await freePort();
  await startWs();

  simulator = spawn(cli, ['simulate', '--vendors', '6', '--interval-ms', '250', '--speed', '30',
    '--city', '40.73,-73.99', '--radius', '1500'], {
    env: { ...process.env, ...mesh.env, ...meshTls.tlsEnv('venta-cli'), VENTA_DEV_SIGNING_KEY: keyFile,
      VENTA_WS_ADDR: `127.0.0.1:${wsPort}` },
    stdio: ['ignore', 'ignore', fs.openSync(path.join(mesh.logDir, 'simulator.log'), 'a')],
  });

  // The test's vendors, 2.5 km north of the fleet (out of the first view): one with a
  // photo to find by search and click, and a tight row of three whose labels would
  // overlap.
  const ownerTok = token(`user_map_owner_${process.pid}`);
  const star = await placeVendor(ownerTok,
    { name: 'Zanzibar Spice Wagon', description: 'pilau and urojo soup', isOpen: true }, [40.7530, -73.9900]);
  execFileSync('convert', ['-size', '240x160', 'gradient:orange-purple', path.join(work, 'photo.png')]);
  const form = new FormData();
  form.append('file', new Blob([fs.readFileSync(path.join(work, 'photo.png'))], { type: 'image/png' }), 'photo.png');
  const withImage = await api('PUT', `/api/v1/vendors/${star.id}/image`, ownerTok, form);
  assert.match(withImage.profileImage, /\/images\/[0-9a-f]{64}\.jpg$/);
  const row = [];
  for (let i = 0; i < 3; i++) {
    row.push(await placeVendor(ownerTok, { name: `Row Cart Number ${i + 1}`, description: 'a row' },
      [40.7560, -73.9860 + i * 0.00006]));
  }

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  const errors = pageErrors, outside = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!['data:', 'blob:'].includes(u.protocol) && u.hostname !== '127.0.0.1') outside.push(r.url());
  });
  const viewer = token('user_map_viewer');
  await page.goto(`${mesh.base}/#token=${viewer}&ws=ws://127.0.0.1:${wsPort}/ws&lat=40.73&lng=-73.99&zoom=15`);
  const shot = (name) => page.screenshot({ path: path.join(artifacts, `${name}.png`) });

  // The offline basemap: Natural Earth's land at 1:10m this close, as SVG paths under
  // the markers: Manhattan is land, the Hudson beside it water.
  await page.waitForSelector('#map[data-basemap="land"][data-land="10m"]', { timeout: 30000 });
  assert.equal(await page.evaluate(() => window.ventaMap.isLand(40.73, -73.99)), true, 'Manhattan is not land');
  assert.equal(await page.evaluate(() => window.ventaMap.isLand(40.74, -74.015)), false, 'the Hudson is land');

  // Vendors appear…
  const count = await waitFor('vendors on the map', async () => {
    const n = Number(await page.getAttribute('#count', 'data-count'));
    return n >= 3 ? n : 0;
  });
  assert.equal(await page.getAttribute('#conn', 'data-state'), 'live');
  // …labelled with their names from the REST gateway…
  const named = await waitFor('vendor names', () => page.evaluate(() =>
    window.ventaMap.positions().filter((v) => window.ventaMap.name(v.id)).length));
  // …and they move, on screen too.
  const fleet = await page.evaluate(() => window.ventaMap.positions().filter((v) => v.online).map((v) => v.id));
  assert.ok(fleet.length >= 3, `only ${fleet.length} online vendors`);
  const before = await page.evaluate(() => window.ventaMap.positions());
  const beforeXY = await page.evaluate((ids) => ids.map((id) => window.ventaMap.screenPoint(id)), fleet);
  await sleep(2000);
  const after = await page.evaluate(() => window.ventaMap.positions());
  const afterXY = await page.evaluate((ids) => ids.map((id) => window.ventaMap.screenPoint(id)), fleet);
  const moved = after.filter((a) => {
    const b = before.find((x) => x.id === a.id);
    return b && (Math.abs(b.at[0] - a.at[0]) > 1e-6 || Math.abs(b.at[1] - a.at[1]) > 1e-6);
  });
  assert.ok(moved.length >= 1, 'no vendor moved in 2 s');
  const movedOnScreen = fleet.filter((_, i) => beforeXY[i] && afterXY[i] &&
    Math.hypot(beforeXY[i][0] - afterXY[i][0], beforeXY[i][1] - afterXY[i][1]) >= 1);
  assert.ok(movedOnScreen.length >= 1, 'no marker moved on screen in 2 s');
  await shot('map');
  console.log(`ok   ${elapsed()} basemap drawn; ${count} vendors shown, ${named} named, ${moved.length} moving`);

  // The row of three: one cluster from afar; apart, with labels that do not overlap,
  // close up. Offline (placed over REST) and online (streaming) vendors look different.
  await page.evaluate(() => window.ventaMap.setView(40.7560, -73.9858, 14));
  await waitFor('the row clustered', () => page.evaluate(() => window.ventaMap.clusters() >= 1));
  await page.evaluate(() => window.ventaMap.setView(40.7560, -73.9858, 19));
  await waitFor('the row as three markers', () => page.evaluate((ids) =>
    ids.every((id) => window.ventaMap.screenPoint(id)), row.map((v) => v.id)));
  await waitFor('the row named', () => page.evaluate((ids) =>
    ids.every((id) => window.ventaMap.name(id)), row.map((v) => v.id)));
  // Where they stand, not gliding there: in a row on one line, about 22 px apart at zoom
  // 19 (0.00006° of longitude), the same twice 300 ms apart.
  const rowPoints = () => page.evaluate((ids) => ids.map((id) => window.ventaMap.screenPoint(id)), row.map((v) => v.id));
  await waitFor('the row standing in place', async () => {
    const a = await rowPoints();
    await sleep(300);
    const b = await rowPoints();
    if (a.some((p) => !p) || b.some((p) => !p)) return false;
    const still = a.every((p, i) => Math.hypot(p[0] - b[i][0], p[1] - b[i][1]) < 0.5);
    const inRow = b.every((p, i) => Math.abs(p[1] - b[0][1]) < 2 &&
      (i === 0 || (p[0] - b[i - 1][0] > 15 && p[0] - b[i - 1][0] < 30)));
    return still && inRow;
  });
  const overlaps = await page.evaluate(() => window.ventaMap.declutter());
  assert.equal(overlaps, 0, `${overlaps} labels overlap another label or dot`);
  const shownLabels = await page.evaluate((ids) => window.ventaMap.labels(ids), row.map((v) => v.id));
  assert.ok(shownLabels >= 1 && shownLabels < 3, `${shownLabels} of the row's 3 labels shown`);
  const dotColour = (sel) => page.evaluate((s) => {
    const d = document.querySelector(s);
    return d ? getComputedStyle(d).backgroundColor : null;
  }, sel);
  const offlineDot = await dotColour(`[data-vendor-id="${row[0].id}"].offline .dot`);
  assert.ok(offlineDot, 'the row is not drawn offline');
  await shot('declutter');
  await page.evaluate(() => window.ventaMap.setView(40.73, -73.99, 15));
  const onlineDot = await waitFor('an online marker', () => dotColour('.vendor.online .dot'));
  assert.notEqual(onlineDot, offlineDot, 'online and offline vendors look the same');
  console.log(`ok   ${elapsed()} the row is clustered from afar; close up ${shownLabels} of 3 labels, none overlapping`);

  // Search: the name typed and Enter (once venta-vendor, which answers searches, has
  // taken the vendor's position from the bus: it writes positions every 3 s here)…
  await waitFor('the position in search results', async () => {
    const r = await api('GET', '/api/v1/vendors/search?q=zanzibar', viewer);
    return r.vendors && r.vendors[0] && r.vendors[0].location;
  });
  // …then the name typed and Enter: the map flies there and opens the card.
  await page.fill('#q', 'zanzibar');
  await page.press('#q', 'Enter');
  await waitFor('the flight to the search result', () => page.evaluate(() => {
    const [lat, lng] = window.ventaMap.center();
    return Math.abs(lat - 40.7530) < 0.0005 && Math.abs(lng + 73.9900) < 0.0005 && window.ventaMap.zoom() >= 16;
  }));
  await page.waitForSelector(`#card[data-vendor-id="${star.id}"][data-loaded="true"]`, { timeout: 15000 });
  await waitFor('the vendor counted in view', () => page.evaluate(() => window.ventaMap.count() >= 1));
  await shot('search');
  console.log(`ok   ${elapsed()} a search flew to the vendor and opened its card`);

  // A click on the vendor's marker opens its card with the REST API's data.
  await page.click('#card-close');
  assert.equal(await page.isHidden('#card'), true);
  const xy = await waitFor('the vendor on screen', () => page.evaluate((id) => window.ventaMap.screenPoint(id), star.id));
  await page.mouse.click(xy[0], xy[1]);
  await page.waitForSelector(`#card[data-vendor-id="${star.id}"][data-loaded="true"]`, { timeout: 15000 });
  assert.equal(await page.textContent('#card-name'), 'Zanzibar Spice Wagon');
  assert.equal(await page.textContent('#card-description'), 'pilau and urojo soup');
  assert.equal(await page.textContent('#card-open'), 'open');
  assert.equal(await page.textContent('#card-online'), 'offline');
  const seen = Number(await page.getAttribute('#card-seen', 'data-ts'));
  assert.ok(Math.abs(Date.now() - seen) < 10 * 60 * 1000, `last seen ${seen} is not the REST fix`);
  const img = await waitFor('the vendor photo', () => page.evaluate(() => {
    const i = document.getElementById('card-image');
    return !i.hidden && i.complete && i.naturalWidth > 0 ? i.src : null;
  }));
  assert.ok(img.startsWith(`${withImage.profileImage}?w=256`), img);
  await shot('card');
  console.log(`ok   ${elapsed()} a click opened the card with name, description, photo, open, online, last seen`);

  // The WebSocket edge dies and comes back on the same port: the page says so, and
  // reconnects and watches again by itself.
  const snapshots = await page.evaluate(() => window.ventaMap.snapshots());
  const ws = mesh.procs.ws;
  ws.kill('SIGKILL');
  await ws.exited;
  await page.waitForSelector('#conn[data-state="reconnecting"]', { timeout: 15000 });
  await shot('reconnecting');
  await startWs();
  await page.waitForSelector('#conn[data-state="live"]', { timeout: 30000 });
  await waitFor('a snapshot after the reconnect', () => page.evaluate((n) => window.ventaMap.snapshots() > n, snapshots));
  await waitFor('the vendor back on the map', () => page.evaluate((id) => window.ventaMap.screenPoint(id), star.id));
  await shot('reconnected');
  console.log(`ok   ${elapsed()} the page reconnected by itself after venta-ws-gateway restarted`);

  assert.deepEqual(errors, []);
  assert.deepEqual(outside, [], 'the page asked a host other than 127.0.0.1');
  console.log(`ok   ${elapsed()} no request left 127.0.0.1; screenshots in ${artifacts}`);

  await checkTileBasemap(viewer);
}

// A tile server of the test's own: every /z/x/y.png is one light-blue PNG; the paths
// asked are kept.
async function startTileServer() {
  const png = path.join(work, 'tile.png');
  execFileSync('convert', ['-size', '256x256', 'xc:#cfe3ff', png]);
  const body = fs.readFileSync(png);
  const asked = [];
  const server = http.createServer((req, res) => {
    asked.push(req.url);
    const ok = /^\/\d+\/\d+\/\d+\.png$/.test(req.url);
    res.writeHead(ok ? 200 : 404, { 'content-type': ok ? 'image/png' : 'text/plain' });
    res.end(ok ? body : 'no such tile');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, asked, port: server.address().port };
}

// VENTA_MAP_TILE_URL, as production sets it: a second gateway with a tile URL serves it in
// /config.json, and the page draws those tiles (around the view's own tile) instead of
// the offline land, with the attribution.
async function checkTileBasemap(viewer) {
  const tiles = await startTileServer();
  const port = await freePort();
  const gw = mesh.start('gateway-tiles', 'gateway', {
    ...auth, VENTA_WEB_DIR: path.join(buildDir, 'web'), VENTA_GATEWAY_ADDR: `127.0.0.1:${port}`,
    VENTA_MAP_TILE_URL: `http://127.0.0.1:${tiles.port}/{z}/{x}/{y}.png`,
    VENTA_MAP_TILE_ATTRIBUTION: 'Test tiles of the e2e run',
  });
  try {
    await waitFor('the tile gateway', async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.ok);
    const tilePage = await browser.newPage({ viewport: { width: 800, height: 600 } });
    await tilePage.goto(`http://127.0.0.1:${port}/#token=${viewer}&ws=ws://127.0.0.1:${wsPort}/ws&lat=40.73&lng=-73.99&zoom=15`);
    await tilePage.waitForSelector('#map[data-basemap="tiles"]', { timeout: 30000 });
    // The tile holding (40.73, -73.99) at zoom 15 (x 9649, y 12315), and its neighbours.
    const x = Math.floor(((-73.99 + 180) / 360) * 2 ** 15);
    const lat = (40.73 * Math.PI) / 180;
    const y = Math.floor(((1 - Math.log(Math.tan(lat) + 1 / Math.cos(lat)) / Math.PI) / 2) * 2 ** 15);
    await waitFor('the view\'s tile from the tile server', () => tiles.asked.includes(`/15/${x}/${y}.png`));
    assert.ok(tiles.asked.every((u) => u.startsWith('/15/')), `tiles of another zoom: ${tiles.asked.slice(0, 5)}`);
    assert.match(await tilePage.textContent('.leaflet-control-attribution'), /Test tiles of the e2e run/);
    await tilePage.screenshot({ path: path.join(artifacts, 'tiles.png') });
    await tilePage.close();
    console.log(`ok   ${elapsed()} with VENTA_MAP_TILE_URL the page drew ${tiles.asked.length} tiles of that server`);
  } finally {
    gw.kill('SIGTERM');
    await gw.exited;
    tiles.server.close();
  }
}

let failed = false;
try {
  await main();
} catch (e) {
  failed = true;
  console.error(`FAIL ${e.stack || e}`);
  if (page) {
    const state = await page.evaluate(() => `connection: ${document.getElementById('conn').textContent}; ` +
      `status: ${document.getElementById('status').textContent}`).catch((x) => String(x));
    console.error(`--- page\n${state}\n${consoleLines.slice(-20).join("\n")}\n${pageErrors.join("\n")}`);
    await page.screenshot({ path: path.join(artifacts, 'failure.png') }).catch(() => {});
  }
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
