// socketio_server.js PORT [venta] — the socket.io 4 baselines of bench/ws/run, one Node
// process each. Websocket transport only (no long-polling, no upgrade dance), no
// compression, so the C load generator (ws-load) speaks the Engine.IO framing directly.
//
// Without a mode: the "rooms" fan-out beside venta-ws-gateway's /ws (ws-load --proto
// sio), one room per 1° × 1° square of the map. Viewers emit `watch {ne, sw}` (with an
// ack) and join the room of every square their box touches; vendors emit `location`
// with the same JSON object the gateway takes, and it goes to the room of the square
// the position is in (socket.io encodes a broadcast once and writes it to each socket).
// Both of ws-load's shapes fit a square: the one shared area, and a city's areas (0.1°
// boxes 1° apart), so every viewer gets exactly its area's vendors, as from the gateway,
// with no per-viewer box check. It does less than the gateway per message: no JWT check at
// connect, no validation, no box filter per viewer, no per-viewer queue/coalescing, no
// NATS hop, no vendor ack, no ownership check. Generous to the baseline.
//
// `venta`: the ORIGINAL Venta app's gateway (Venta-HQ/backend apps/websocket-gateway,
// the events of docs/ws.md "Moving an existing Venta app"), beside venta-ws-gateway's
// /socket.io/ (ws-load --proto sio-venta). Namespaces `/user` and `/vendor`; the CONNECT
// auth `token` is verified as an RS256 JWT against CLERK_JWT_KEY (PEM) with `jose`
// (signature, exp, nbf), as the gateway verifies it. Like the original:
//   - `updateUserLocation {neLocation, swLocation}` (validated: four numbers) looks up the
//     vendors whose last position is in the box, leaves the rooms of the vendors no
//     longer in it, joins one room per vendor in it, and answers `vendor_channels
//     [{id, location:{lat,long}}]`. That is the original's box filter: resolved when the
//     viewer sends its box, then one room per vendor.
//   - `updateVendorLocation {lat, long, vendorId}` (validated) stores the position and
//     emits `vendor_sync {id, location:{lat,long}}` to that vendor's room on /user; acks
//     `{ok: true}` when asked. A vendor socket that goes sends `vendor_disconnect {id}`
//     for the vendors it streamed.
// Differences, all generous to the baseline: positions live in a Map in this process,
// where the original awaited a gRPC call (LocationService: Redis GEOADD, a PostgreSQL
// UPDATE, an event) and a Redis ZADD per vendor message and a Redis GEOSEARCH plus one
// Redis write per room joined or left per box; no rate limits and no ownership check (the
// original had none either: it trusted the socket's vendorId). Unlike the original, which
// emitted vendor_sync on the /vendor namespace (`socket.to(vendorId)` of a vendor socket)
// where no viewer is, it is emitted where the viewers' rooms are, on /user. And the
// rooms only hold vendors that were in the box when the viewer sent it, as the
// original's did; venta-ws-gateway also sends vendors that enter it later (the bench
// keeps every vendor in the box, so both deliver the same positions).
'use strict';
const http = require('http');
const { Server } = require('socket.io');

const port = Number(process.argv[2] || 8090);
const mode = process.argv[3] || '';
const server = http.createServer((req, res) => {
  res.writeHead(404);
  res.end();
});
const io = new Server(server, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
  httpCompression: false,
  maxHttpBufferSize: 1e6,
  pingInterval: 25000,
  pingTimeout: 60000,
  connectTimeout: 60000,
});

function roomsFanout() {
  io.on('connection', (socket) => {
    socket.on('watch', (box, ack) => {
      const ok = box && box.ne && box.sw && [box.ne.lat, box.ne.lng, box.sw.lat, box.sw.lng].every(Number.isFinite);
      if (ok && box.ne.lat - box.sw.lat <= 10 && box.ne.lng - box.sw.lng <= 10) {
        for (let lat = Math.floor(box.sw.lat); lat <= Math.floor(box.ne.lat); lat++) {
          for (let lng = Math.floor(box.sw.lng); lng <= Math.floor(box.ne.lng); lng++) socket.join(`${lat},${lng}`);
        }
      }
      if (typeof ack === 'function') ack();
    });
    socket.on('location', (m) => {
      if (m && Number.isFinite(m.lat) && Number.isFinite(m.lng)) {
        io.to(`${Math.floor(m.lat)},${Math.floor(m.lng)}`).emit('location', m);
      }
    });
  });
}

async function ventaApp() {
  const jose = require('jose');
  if (!process.env.CLERK_JWT_KEY) throw new Error('venta mode needs CLERK_JWT_KEY (PEM public key)');
  const key = await jose.importSPKI(process.env.CLERK_JWT_KEY, 'RS256');
  const auth = async (socket, next) => {
    try {
      const { payload } = await jose.jwtVerify(String(socket.handshake.auth.token || ''), key, { algorithms: ['RS256'] });
      socket.data.sub = payload.sub;
      next();
    } catch (e) {
      next(new Error(`UNAUTHENTICATED: ${e.message}`));
    }
  };
  const num = (v) => typeof v === 'number' && Number.isFinite(v);
  const point = (p) => p && num(p.lat) && num(p.long);
  const positions = new Map(); // vendorId → {lat, long}
  const users = io.of('/user');
  const vendors = io.of('/vendor');
  users.use(auth);
  vendors.use(auth);

  users.on('connection', (socket) => {
    socket.on('updateUserLocation', (box) => {
      if (!box || !point(box.neLocation) || !point(box.swLocation)) {
        socket.emit('error', { code: 'INVALID_ARGUMENT', message: 'updateUserLocation needs neLocation and swLocation' });
        return;
      }
      const { neLocation: ne, swLocation: sw } = box;
      const inBox = [];
      for (const [id, p] of positions) {
        if (p.lat >= sw.lat && p.lat <= ne.lat && p.long >= sw.long && p.long <= ne.long) {
          inBox.push({ id, location: { lat: p.lat, long: p.long } });
        }
      }
      const ids = new Set(inBox.map((v) => v.id));
      for (const room of socket.rooms) if (room !== socket.id && !ids.has(room)) socket.leave(room);
      socket.join([...ids]);
      socket.emit('vendor_channels', inBox);
    });
  });

  vendors.on('connection', (socket) => {
    const streamed = new Set();
    socket.on('updateVendorLocation', (m, ack) => {
      if (!m || !num(m.lat) || !num(m.long) || typeof m.vendorId !== 'string') {
        socket.emit('error', { code: 'INVALID_ARGUMENT', message: 'updateVendorLocation needs lat, long and vendorId' });
        return;
      }
      positions.set(m.vendorId, { lat: m.lat, long: m.long });
      streamed.add(m.vendorId);
      users.to(m.vendorId).emit('vendor_sync', { id: m.vendorId, location: { lat: m.lat, long: m.long } });
      if (typeof ack === 'function') ack({ ok: true });
    });
    socket.on('disconnect', () => {
      for (const id of streamed) {
        positions.delete(id);
        users.to(id).emit('vendor_disconnect', { id });
      }
    });
  });
}

(async () => {
  if (mode === 'venta') await ventaApp();
  else if (mode === '') roomsFanout();
  else throw new Error(`unknown mode ${mode}: none or venta`);
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`READY ${port}\n`);
  });
})().catch((e) => {
  process.stderr.write(`socketio_server: ${e.message}\n`);
  process.exit(2);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
