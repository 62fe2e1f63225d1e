// node_gateway.js — the Node baseline for bench/gateway: what a NestJS-style REST
// gateway does for GET /api/v1/vendors/:id, with node:http, jose (verifying the Clerk
// JWT from CLERK_JWT_KEY on every request, as Clerk's networkless verifyToken does) and
// @grpc/grpc-js calling the same venta-vendor with x-user-id / x-request-id metadata,
// then venta-location's GetVendorLocation for the live position, as venta-gateway does
// (the newer of the two positions is the vendor's location).
//
//   PORT=8090 VENTA_VENDOR_ADDR=127.0.0.1:50052 VENTA_LOCATION_ADDR=127.0.0.1:50053 \
//     CLERK_JWT_KEY="$(cat key.pem)" node node_gateway.js
'use strict';
const http = require('node:http');
const crypto = require('node:crypto');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

async function main() {
  const jose = await import('jose');
  const protoRoot = process.env.VENTA_PROTO_ROOT || path.join(__dirname, '..', '..', 'proto');
  const def = protoLoader.loadSync(['venta/vendor/v1/vendor.proto', 'venta/location/v1/location.proto'], {
    includeDirs: [protoRoot], keepCase: false, longs: String, enums: String, defaults: true, oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def);
  const client = new pkg.venta.vendor.v1.VendorService(process.env.VENTA_VENDOR_ADDR, grpc.credentials.createInsecure());
  const locations = new pkg.venta.location.v1.LocationService(process.env.VENTA_LOCATION_ADDR, grpc.credentials.createInsecure());
  const key = await jose.importSPKI(process.env.CLERK_JWT_KEY, 'RS256');
  const issuer = process.env.VENTA_JWT_ISSUER || undefined;
  const send = (res, status, body) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const server = http.createServer(async (req, res) => {
    const m = /^\/api\/v1\/vendors\/([^/?]+)$/.exec(req.url);
    if (req.method !== 'GET' || !m) return send(res, 404, { error: { code: 'NOT_FOUND' } });
    const auth = req.headers.authorization || '';
    let sub;
    try {
      const { payload } = await jose.jwtVerify(auth.replace(/^Bearer\s+/i, ''), key, { algorithms: ['RS256'], issuer });
      sub = payload.sub;
    } catch (e) {
      return send(res, 401, { error: { code: 'UNAUTHENTICATED', message: e.message } });
    }
    const md = new grpc.Metadata();
    md.set('x-user-id', sub);
    md.set('x-request-id', crypto.randomUUID());
    client.getVendor({ id: m[1] }, md, { deadline: Date.now() + 5000 }, (err, vendor) => {
      if (err) return send(res, err.code === 5 ? 404 : 503, { error: { code: String(err.code), message: err.details } });
      locations.getVendorLocation({ vendorId: m[1] }, md, { deadline: Date.now() + 5000 }, (lerr, pos) => {
        if (!lerr && pos) {
          const at = new Date(Number(pos.ts)).toISOString();
          if (!vendor.location || !vendor.location.updatedAt || at > vendor.location.updatedAt) {
            vendor.location = { lat: pos.lat, lng: pos.lng, updatedAt: at };
          }
        }
        send(res, 200, vendor);
      });
    });
  });
  server.keepAliveTimeout = 5000;
  server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
}
main();
