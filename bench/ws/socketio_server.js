// socketio_server.js PORT — the baseline of bench/ws/run: socket.io 4 doing the same
// "rooms" fan-out as venta-ws-gateway's shared-area case, on one Node process.
//
// Viewers emit `watch` (with an ack) and join the room "area"; vendors emit `location`
// with the same JSON object the gateway takes, and every socket in the room receives it
// as `location` (socket.io encodes a broadcast once and writes it to each socket).
// Websocket transport only (no long-polling, no upgrade dance), no compression, so the
// C load generator (ws-load --proto sio) speaks the Engine.IO framing directly.
//
// It does less than the gateway per message: no JWT check at connect, no validation, no
// box filter per viewer, no per-viewer queue/coalescing, no NATS hop, no vendor ack,
// no ownership check. The comparison is therefore generous to the baseline.
'use strict';
const http = require('http');
const { Server } = require('socket.io');

const port = Number(process.argv[2] || 8090);
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

io.on('connection', (socket) => {
  socket.on('watch', (box, ack) => {
    socket.data.box = box;
    socket.join('area');
    if (typeof ack === 'function') ack();
  });
  socket.on('location', (m) => {
    io.to('area').emit('location', m);
  });
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`READY ${port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
