// mesh_tls.js — mTLS for the e2e suites and benchmarks (docs/security.md). When the
// harness made certificates (VENTA_HARNESS_TLS=1 exports VENTA_TEST_TLS_DIR, filled by
// scripts/mesh-certs), every process started gets its own (tlsEnv) and a node gRPC
// client calls as the process it stands in for (grpcCredentials); otherwise both are
// plaintext, as the mesh runs by default. With TLS the harness's NATS and Redis also
// take only the mesh's users (VENTA_TEST_LOGINS_DIR, scripts/lib/logins.sh): tlsEnv
// gives a process its logins too, natsLogin and redisCliLogin those of a test client.
'use strict';
const fs = require('fs');
const path = require('path');

const dir = () => process.env.VENTA_TEST_TLS_DIR || '';
const loginsDir = () => process.env.VENTA_TEST_LOGINS_DIR || '';

// The password of login `name` on `kind` ("nats", "redis"); '' when it has none.
function password(kind, name) {
  const d = loginsDir();
  if (!d) return '';
  try {
    return fs.readFileSync(path.join(d, `${name}.${kind}-password`), 'utf8').trim();
  } catch (e) {
    if (e.code === 'ENOENT') return '';
    throw e;
  }
}

// The VENTA_NATS_* and VENTA_REDIS_* variables of process `name`; {} without logins.
function loginEnv(name) {
  const env = {};
  const nats = password('nats', name);
  const redis = password('redis', name);
  if (nats) Object.assign(env, { VENTA_NATS_USER: name, VENTA_NATS_PASSWORD: nats });
  if (redis) Object.assign(env, { VENTA_REDIS_USER: name, VENTA_REDIS_PASSWORD: redis });
  return env;
}

// nats.js connection options of login `name` (default the operators' venta-admin).
function natsLogin(name = 'venta-admin') {
  const pass = password('nats', name);
  return pass ? { user: name, pass } : {};
}

// redis-cli arguments of login `name` (default venta-admin); [] without logins.
function redisCliLogin(name = 'venta-admin') {
  const pass = password('redis', name);
  return pass ? ['--user', name, '--pass', pass, '--no-auth-warning'] : [];
}

// The VENTA_TLS_* variables of process `name` ("venta-vendor"); {} without TLS.
function tlsEnv(name) {
  const d = dir();
  if (!d) return {};
  return {
    ...loginEnv(name),
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

module.exports = { tlsEnv, grpcCredentials, natsLogin, redisCliLogin, enabled: () => dir() !== '' };
