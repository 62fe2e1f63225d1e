// grpcjs_server.js <proto_root> — a @grpc/grpc-js Echo server with the semantics of
// tests/unit/rpc/echo_service.c, for libs/rpc's client to call. Prints "PORT <n>" once
// listening on 127.0.0.1 (a free port), exits on SIGTERM.
'use strict';
const { grpc, load } = require('./grpcjs_load');

const pkg = load(process.argv[2]);
const server = new grpc.Server({ 'grpc.max_receive_message_length': 1024 * 1024 });

// grpc-js gives the deadline as a Date or a number of ms since the epoch (Infinity: none).
function remaining(dl) {
  const at = dl instanceof Date ? dl.getTime() : Number(dl);
  return Number.isFinite(at) ? String(at - Date.now()) : '-1';
}

function unary(call, callback) {
  const req = call.request;
  const md = call.metadata;
  const initial = new grpc.Metadata();
  initial.set('x-echo-initial', 'initial');
  call.sendMetadata(initial);
  const trailer = new grpc.Metadata();
  trailer.set('x-echo-trailer', 'trailer');
  const respond = () => {
    if (call.cancelled) return;
    if (req.status_code) {
      callback({ code: req.status_code, details: req.status_message, metadata: trailer });
      return;
    }
    callback(null, {
      message: req.message,
      payload: req.response_size > 0 ? Buffer.alloc(req.response_size, 120) : req.payload,
      request_id: (md.get('x-request-id')[0] || '').toString(),
      user_id: (md.get('x-user-id')[0] || '').toString(),
      metadata_value: req.metadata_key ? (md.get(req.metadata_key)[0] || '').toString() : '',
      deadline_ms: remaining(call.getDeadline()),
      worker: 0,
    }, trailer);
  };
  if (req.sleep_ms > 0) setTimeout(respond, req.sleep_ms);
  else respond();
}

server.addService(pkg.venta.test.v1.Echo.service, { Unary: unary });
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) { console.error(err); process.exit(1); }
  console.log(`PORT ${port}`);
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
