// grpcjs_echo_server.js <proto_root> — the baseline of bench/rpc/run: venta.test.v1.Echo
// on @grpc/grpc-js, loaded from the project's own .proto, answering like our echo
// server does on the benchmark path (message, payload, request id). Prints "PORT <n>".
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const def = protoLoader.loadSync('venta/test/v1/echo.proto', {
  keepCase: true, longs: String, defaults: true, includeDirs: [path.resolve(process.argv[2])],
});
const pkg = grpc.loadPackageDefinition(def);
const server = new grpc.Server();
server.addService(pkg.venta.test.v1.Echo.service, {
  Unary(call, callback) {
    const req = call.request;
    callback(null, {
      message: req.message,
      payload: req.payload,
      request_id: (call.metadata.get('x-request-id')[0] || '').toString(),
    });
  },
});
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) { console.error(err); process.exit(1); }
  console.log(`PORT ${port}`);
});
process.on('SIGTERM', () => server.forceShutdown() || process.exit(0));
process.on('SIGINT', () => process.exit(0));
