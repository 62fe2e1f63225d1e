// mesh_tls.js — mTLS for the e2e suites and benchmarks (docs/security.md). When the
// harness made certificates (VENTA_HARNESS_TLS=1 exports VENTA_TEST_TLS_DIR, filled by
// scripts/mesh-certs), every process started gets its own (tlsEnv) and a node gRPC
// client calls as the process it stands in for (grpcCredentials); otherwise both are
// plaintext, as the mesh runs by default.
'use strict';
const fs = require('fs');
const path = require('path');

const dir = () => process.env.VENTA_TEST_TLS_DIR || '';

// The VENTA_TLS_* variables of process `name` ("venta-vendor"); {} without TLS.
function tlsEnv(name) {
  const d = dir();
  if (!d) return {};
  return {
    VENTA_TLS_CA: path.join(d, 'ca.pem'),
    VENTA_TLS_CERT: path.join(d, `${name}.pem`),
    VENTA_TLS_KEY: path.join(d, `${name}.key`),
  };
}

// grpc-js credentials of process `name`; insecure without TLS.
function grpcCredentials(grpc, name) {
  const d = dir();
  if (!d) return grpc.credentials.createInsecure();
  const read = (f) => fs.readFileSync(path.join(d, f));
  return grpc.credentials.createSsl(read('ca.pem'), read(`${name}.key`), read(`${name}.pem`));
}

module.exports = { tlsEnv, grpcCredentials, enabled: () => dir() !== '' };
