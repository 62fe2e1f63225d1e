// tls_client.js — @grpc/grpc-js against a venta-vendor serving mTLS (run by run.sh).
//
//   node tls_client.js checks TARGET CERTS OTHER PROTO_ROOT
//       every case of docs/security.md; prints "ok"/"FAIL" lines, exits with the number
//       of failures (0 = pass). CERTS holds the mesh CA and one certificate per process
//       (scripts/mesh-certs); OTHER holds a second CA and a venta-gateway certificate of it.
//   node tls_client.js fingerprint TARGET CERTS PROTO_ROOT
//       prints the SHA-256 fingerprint of the certificate the server presents to a new
//       connection (after a Health Check as venta-gateway), or exits 1.
'use strict';
const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [mode, ...args] = process.argv.slice(2);
const protoRoot = args[args.length - 1];
const def = protoLoader.loadSync(
  ['venta/vendor/v1/vendor.proto', 'grpc/health/v1/health.proto'],
  { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true,
    includeDirs: [path.resolve(protoRoot)] });
const pkg = grpc.loadPackageDefinition(def);
const Vendor = pkg.venta.vendor.v1.VendorService;
const Health = pkg.grpc.health.v1.Health;

// What the server showed during the last handshake, from grpc-js's checkServerIdentity.
let lastServerCert = null;

// Credentials of process `name` from dir (ca.pem, NAME.pem, NAME.key); name null: no
// client certificate. The server's identity is checked as the C client does: its one
// SPIFFE id must be spiffe://venta/venta-vendor (hostnames are not the identity).
function creds(dir, name, caDir = dir) {
  const ca = fs.readFileSync(path.join(caDir, 'ca.pem'));
  const key = name ? fs.readFileSync(path.join(dir, `${name}.key`)) : null;
  const cert = name ? fs.readFileSync(path.join(dir, `${name}.pem`)) : null;
  return grpc.credentials.createSsl(ca, key, cert, {
    checkServerIdentity: (host, peer) => {
      lastServerCert = peer;
      const uris = (peer.subjectaltname || '').split(', ').filter((s) => s.startsWith('URI:'));
      if (uris.length !== 1 || uris[0] !== 'URI:spiffe://venta/venta-vendor')
        return new Error(`server is ${uris.join(' ')}, not spiffe://venta/venta-vendor`);
      return undefined;
    },
  });
}

const deadline = () => new Date(Date.now() + 10000);
// A fresh channel per call (no connection shared between cases, so each is its own
// handshake); resolves {code, details, resp}.
function call(target, credentials, method, req, userId) {
  const Client = method === 'Check' ? Health : Vendor;
  // A distinct channel option keeps grpc-js from reusing a subchannel of another case.
  const client = new Client(target, credentials, { 'grpc.venta-case': Math.random() });
  const md = new grpc.Metadata();
  if (userId) md.set('x-user-id', userId);
  return new Promise((resolve) => {
    client[method](req, md, { deadline: deadline() }, (err, resp) => {
      client.close();
      resolve(err ? { code: err.code, details: err.details } : { code: 0, resp });
    });
  });
}

let failed = 0;
function check(cond, what, got) {
  if (!cond) failed++;
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}${cond ? '' : ` (got ${JSON.stringify(got)})`}`);
}
const S = grpc.status;

async function checks(target, certs, other) {
  const owner = 'user_tls_owner';
  const gw = creds(certs, 'venta-gateway');
  let r = await call(target, gw, 'CreateVendor', { name: 'TLS Tacos' }, owner);
  check(r.code === 0 && r.resp.owner_id === owner, 'gateway: CreateVendor with x-user-id works', r);
  const id = r.resp ? r.resp.id : '';
  check(lastServerCert && /URI:spiffe:\/\/venta\/venta-vendor/.test(lastServerCert.subjectaltname),
    'the server presents spiffe://venta/venta-vendor', lastServerCert && lastServerCert.subjectaltname);
  r = await call(target, gw, 'GetVendor', { id }, owner);
  check(r.code === 0 && r.resp.name === 'TLS Tacos', 'gateway: GetVendor works', r);

  r = await call(target, creds(certs, 'venta-ws-gateway'), 'GetVendor', { id }, owner);
  check(r.code === 0, 'ws-gateway: GetVendor with x-user-id works', r);
  r = await call(target, creds(certs, 'venta-ws-gateway'), 'DeleteVendor', { id }, owner);
  check(r.code === S.PERMISSION_DENIED, 'ws-gateway: DeleteVendor is PERMISSION_DENIED', r);

  r = await call(target, creds(certs, null), 'GetVendor', { id }, owner);
  check(r.code === S.UNAVAILABLE, 'no client certificate: refused in the handshake (UNAVAILABLE)', r);
  r = await call(target, grpc.credentials.createInsecure(), 'GetVendor', { id }, owner);
  check(r.code === S.UNAVAILABLE, 'plaintext client: refused (UNAVAILABLE)', r);
  r = await call(target, creds(other, 'venta-gateway', other), 'GetVendor', { id }, owner);
  check(r.code === S.UNAVAILABLE, 'certificate of another CA: refused in the handshake', r);
  // A client of the other CA that trusts our CA: the server still refuses its certificate.
  const mixed = grpc.credentials.createSsl(fs.readFileSync(path.join(certs, 'ca.pem')),
    fs.readFileSync(path.join(other, 'venta-gateway.key')),
    fs.readFileSync(path.join(other, 'venta-gateway.pem')),
    { checkServerIdentity: () => undefined });
  r = await call(target, mixed, 'GetVendor', { id }, owner);
  check(r.code === S.UNAVAILABLE, 'certificate of another CA, server trusted: still refused', r);

  const loc = creds(certs, 'venta-location');
  r = await call(target, loc, 'GetVendor', { id });
  check(r.code === S.PERMISSION_DENIED && /venta-location may not call/.test(r.details),
    'venta-location calling VendorService: PERMISSION_DENIED', r);
  r = await call(target, loc, 'Check', { service: '' });
  check(r.code === 0 && r.resp.status === 'SERVING', 'venta-location: health Check allowed', r);

  const user = creds(certs, 'venta-user');
  r = await call(target, user, 'ListVendors', { owner_id: owner });
  check(r.code === 0 && r.resp.vendors.length === 1, 'venta-user: ListVendors works', r);
  r = await call(target, user, 'ListVendors', { owner_id: owner }, owner);
  check(r.code === S.PERMISSION_DENIED && /x-user-id/.test(r.details),
    'venta-user with x-user-id: PERMISSION_DENIED', r);
  r = await call(target, user, 'CreateVendor', { name: 'Nope' }, owner);
  check(r.code === S.PERMISSION_DENIED, 'venta-user: CreateVendor is PERMISSION_DENIED', r);
  r = await call(target, creds(certs, 'venta-cli'), 'DeleteVendor', { id }, owner);
  check(r.code === S.PERMISSION_DENIED, 'venta-cli with x-user-id on DeleteVendor: PERMISSION_DENIED', r);
  r = await call(target, gw, 'GetVendor', { id }, owner);
  check(r.code === 0, 'the vendor is still there after the refused calls', r);
}

async function main() {
  if (mode === 'checks') {
    const [target, certs, other] = args;
    await checks(target, certs, other);
    console.log(`${failed} failed`);
    process.exit(failed);
  }
  if (mode === 'fingerprint') {
    const [target, certs] = args;
    const r = await call(target, creds(certs, 'venta-gateway'), 'Check', { service: '' });
    if (r.code !== 0 || !lastServerCert) {
      console.error(`fingerprint: ${JSON.stringify(r)}`);
      process.exit(1);
    }
    console.log(lastServerCert.fingerprint256);
    return;
  }
  console.error('usage: tls_client.js checks|fingerprint ...');
  process.exit(2);
}
main();
