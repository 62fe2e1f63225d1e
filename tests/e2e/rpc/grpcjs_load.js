// grpcjs_load.js — loads the project's own .proto files for the grpc-js interop
// scripts (keepCase: field names stay snake_case, as in proto/).
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

function load(protoRoot) {
  const def = protoLoader.loadSync(
    ['venta/test/v1/echo.proto', 'grpc/health/v1/health.proto'],
    { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true,
      includeDirs: [path.resolve(protoRoot)] });
  return grpc.loadPackageDefinition(def);
}

module.exports = { grpc, load };
