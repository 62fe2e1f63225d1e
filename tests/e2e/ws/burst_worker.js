// burst_worker.js — the slow-reader test's burst, published from a worker thread so
// that the test's main thread stays free to read the "fast" client (a reader that a
// busy publisher starves is, correctly, a slow reader). Publishes `rounds` × ids
// positions straight on NATS as vt_events_publish_location would, alternating each
// vendor between a point inside the watched box (odd rounds) and one outside it, with
// the left-cell copy after every move; posts the last ts used when done.
const { workerData, parentPort } = require('node:worker_threads');
const path = require('node:path');
const { connect } = require('nats');
const protobuf = require('protobufjs');

(async () => {
  const { natsServers, protoRoot, ids, cellIn, cellOut, tsStart, rounds } = workerData;
  const root = protobuf.loadSync(path.join(protoRoot, 'venta/events/v1/events.proto'));
  const VendorLocation = root.lookupType('venta.events.v1.VendorLocation');
  const nc = await connect({ servers: natsServers });
  const subject = (cell, id) => `loc.${cell.split('').join('.')}.${id}`;
  let ts = tsStart;
  for (let round = 0; round < rounds; round++) {
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
    // Paced like a busy city, not a firehose: the fast reader (a node client parsing
    // every message) must be able to keep up, or it is rightly a slow reader too.
    await new Promise((r) => setTimeout(r, 5));
  }
  await nc.drain();
  parentPort.postMessage(ts);
})().catch((e) => { throw e; });
