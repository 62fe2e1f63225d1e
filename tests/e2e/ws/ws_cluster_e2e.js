// ws_cluster_e2e.js — a deletion that passes while a gateway's NATS node is down still
// reaches that gateway (run_cluster.sh starts the cluster, the services and gateway WS
// on node 3 alone). Each check prints a line; the first failure exits non-zero. No
// timing is asserted: every wait is for an event, with a generous timeout.
'use strict';
const http = require('http');
const { execFileSync } = require('child_process');
const { createVendor, deleteVendor, connect, nextTs, move } = require('../lib/ws_mesh_client.js');

const { WS, CLUSTER_CTL, VENTA_LOCATION_METRICS } = process.env;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function ok(cond, what) {
  if (!cond) {
    console.log(`FAIL ${what}`);
    throw new Error(`check failed: ${what}`);
  }
  console.log(`ok   ${what}`);
}

function metric(addr, name) {
  return new Promise((resolve, reject) => http.get(`http://${addr}/metrics`, (res) => {
    let body = '';
    res.on('data', (d) => { body += d; });
    res.on('end', () => {
      const line = body.split('\n').find((l) => l.startsWith(`${name} `));
      resolve(line ? Number(line.split(' ')[1]) : 0);
    });
  }).on('error', reject));
}

async function main() {
  const id = await createVendor('user_cluster_del', 'Deleted While Away');
  const box = { sw: { lat: 45, lng: 45 }, ne: { lat: 45.5, lng: 45.5 } };
  const viewer = await connect(WS, 'user_cluster_viewer', { name: 'viewer' });
  await viewer.request({ op: 'watch.bounds', ...box });
  await viewer.op('snapshot');
  const app = await connect(WS, 'user_cluster_del', { name: 'app' });
  await move(app, id, 45.2, 45.2);
  await viewer.op('enter', { vendorId: id });
  ok(true, 'a vendor streams through the gateway on node 3, its viewer sees it');

  // Node 3 goes away: the gateway's only NATS server. Its clients stay connected.
  execFileSync(CLUSTER_CTL, ['stop'], { stdio: 'inherit' });
  const applied = await metric(VENTA_LOCATION_METRICS, 'venta_location_deletions_applied_total');
  await deleteVendor('user_cluster_del', id);
  // The deletion is in the stream (two of its three copies are up) once venta-location,
  // on node 1, has applied it from there.
  for (let i = 0; i < 300; i++) {
    if (await metric(VENTA_LOCATION_METRICS, 'venta_location_deletions_applied_total') > applied) break;
    await sleep(100);
  }
  ok(await metric(VENTA_LOCATION_METRICS, 'venta_location_deletions_applied_total') > applied,
    'the deletion passed while the gateway had no NATS connection');

  execFileSync(CLUSTER_CTL, ['start'], { stdio: 'inherit' });
  const told = await app.take((m) => m.op === 'error' && m.code === 'PERMISSION_DENIED', 'deleted error', 30000);
  ok(/deleted/.test(told.message), `once node 3 is back the streaming app is told (${told.message})`);
  const left = await viewer.take((m) => m.vendorId === id && m.op === 'leave', 'leave', 30000);
  ok(left.op === 'leave', 'and the viewer sees the deleted vendor leave its box');
  const r = await app.request({ op: 'location', vendorId: id, lat: 45.21, lng: 45.2, ts: nextTs() });
  ok(r.op === 'error' && r.code === 'PERMISSION_DENIED', `later positions are denied (${r.message})`);
  app.close();
  viewer.close();
}

main().then(() => process.exit(0), (e) => { console.log(e.stack || e); process.exit(1); });
