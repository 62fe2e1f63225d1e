// burst_worker.js — the slow-reader test's burst, published from a worker thread so
// that the test's main thread stays free to read the "fast" client (a reader that a
// busy publisher starves is, correctly, a slow reader). Publishes `rounds` × ids
// positions straight on NATS as vt_events_publish_location would, alternating each
// vendor between a point inside the watched box (odd rounds) and one outside it, with
// the left-cell copy after every move. The main thread asks for the rounds in chunks
// ({rounds: n}) and the worker answers each chunk with the last ts used, so the test
// can let its fast reader catch up between chunks; {done: true} ends it.
const { workerData, parentPort } = require('node:worker_threads');
const path = require('node:path');
const { connect } = require('nats');
const protobuf = require('protobufjs');

(async () => {
  const { natsServers, login, protoRoot, ids, cellIn, cellOut, tsStart } = workerData;
  const root = protobuf.loadSync(path.join(protoRoot, 'venta/events/v1/events.proto'));
  const VendorLocation = root.lookupType('venta.events.v1.VendorLocation');
  const nc = await connect({ servers: natsServers, ...login });
  const subject = (cell, id) => `loc.${cell.split('').join('.')}.${id}`;
  let ts = tsStart;
  let round = 0;
  const chunks = [];
  let wake = null;
  parentPort.on('message', (m) => { chunks.push(m); if (wake) wake(); });
  for (;;) {
    while (!chunks.length) await new Promise((r) => { wake = r; });
    const chunk = chunks.shift();
    if (chunk.done) break;
    for (let end = round + chunk.rounds; round < end; round++) {
      const inside = round % 2 === 1;
      const [lat, cell, prev] = inside ? [10.25, cellIn, cellOut] : [11, cellOut, cellIn];
      for (const id of ids) {
        const msg = { vendorId: id, lat, lng: 10.25, heading: 1, speed: 1, ts: ++ts, geohash: cell };
        nc.publish(subject(cell, id), VendorLocation.encode(msg).finish());
        if (round > 0) {
          nc.publish(subject(prev, id),
            VendorLocation.encode({ ...msg, leftCell: true, previousCell: prev }).finish());
        }
      }
      await nc.flush();
      await new Promise((r) => setTimeout(r, 2));
    }
    parentPort.postMessage(ts);
  }
  await nc.drain();
  parentPort.close();
})().catch((e) => { throw e; });
