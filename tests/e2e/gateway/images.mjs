// images.mjs — e2e tests of vendor images through venta-gateway and venta-vendor's
// MediaService, over the harness's real PostgreSQL, Redis and NATS.
//
//   node images.mjs BUILD_DIR SOURCE_DIR     (under tests/harness/harness.sh run)
//
// Real clients and real encoders only: images are made in the test by ImageMagick
// (`convert`) and given EXIF GPS tags by exiftool; uploads go through Node's own
// FormData + fetch and through `curl -F`; what GET /images serves is read back by
// exiftool (no GPS, no EXIF at all) and by ImageMagick (`identify`: format, size,
// orientation). Rows are counted with psql. Nothing asserts timing.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import * as jose from 'jose';
import { Mesh, sleep } from './mesh.mjs';
import { test, run as runAll } from './runner.mjs';

const [buildDir, srcDir] = process.argv.slice(2);
const ISSUER = 'https://clerk.venta.test';
const AZP = 'http://app.venta.test';
const PUBLIC_URL = 'https://img.venta.test';

let mesh;
let keys;
let dbUrl;

async function token(sub) {
  const now = Math.floor(Date.now() / 1000);
  return new jose.SignJWT({ azp: AZP })
    .setProtectedHeader({ alg: 'RS256', kid: 'test-key', typ: 'JWT' })
    .setSubject(sub).setIssuer(ISSUER).setIssuedAt(now).setExpirationTime(now + 600)
    .sign(keys.privateKey);
}

const work = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'venta-images-e2e.'));
const file = (name) => path.join(work, name);
const run = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });

// A photo as a phone makes one: JPEG, rotated by EXIF orientation 6 (stored 400x200,
// upright 200x400), with a GPS position, camera make and a comment.
function phonePhoto(name, { seed = 'a', orientation = 6, size = '400x200' } = {}) {
  const out = file(name);
  run('convert', ['-size', size, `plasma:${seed === 'a' ? 'red-blue' : 'green-yellow'}`,
    '-seed', '1', '-quality', '90', out]);
  run('exiftool', ['-q', '-overwrite_original', '-GPSLatitude=48.8583', '-GPSLatitudeRef=N',
    '-GPSLongitude=2.2945', '-GPSLongitudeRef=E', '-Make=VentaPhone', `-Orientation=${orientation}`,
    '-n', '-Comment=secret comment', out]);
  return out;
}

function exif(pathOrBuf) {
  let p = pathOrBuf;
  if (Buffer.isBuffer(pathOrBuf)) {
    p = file(`served-${crypto.randomBytes(4).toString('hex')}`);
    fs.writeFileSync(p, pathOrBuf);
  }
  return JSON.parse(run('exiftool', ['-j', '-a', '-G1', p]).toString())[0];
}

function identify(buf) {
  const p = file(`id-${crypto.randomBytes(4).toString('hex')}`);
  fs.writeFileSync(p, buf);
  const [fmt, w, h] = run('identify', ['-format', '%m %w %h', p]).toString().trim().split(' ');
  return { fmt, w: Number(w), h: Number(h) };
}

function sql(query) {
  return run('psql', ['-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', dbUrl, '-c', query])
    .toString().trim();
}
const rowCounts = () => sql('SELECT (SELECT count(*) FROM media.images) || \' \' || ' +
  '(SELECT count(*) FROM media.renditions)');

// Node's own multipart encoder.
async function uploadFetch(route, bytes, { tok, filename = 'photo.jpg', type = 'image/jpeg',
  method = 'POST', headers = {} } = {}) {
  const form = new FormData();
  form.append('caption', 'a field before the file');
  form.append('file', new Blob([bytes], { type }), filename);
  const h = { ...headers };
  if (tok) h.authorization = `Bearer ${tok}`;
  const r = await fetch(mesh.base + route, { method, headers: h, body: form });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, headers: r.headers, text, json };
}

// curl's multipart encoder, for a file on disk.
function uploadCurl(route, filePath, { tok, method = 'POST', field = 'file' } = {}) {
  const out = file(`curl-${crypto.randomBytes(4).toString('hex')}`);
  const args = ['-sS', '-o', out, '-w', '%{http_code}', '-X', method, '-H', 'Expect:',
    '-F', `${field}=@${filePath}`];
  if (tok) args.push('-H', `authorization: Bearer ${tok}`);
  const status = Number(run('curl', [...args, mesh.base + route]).toString());
  const text = fs.readFileSync(out, 'utf8');
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status, text, json };
}

async function get(p, headers = {}) {
  const r = await fetch(mesh.base + p, { headers });
  const body = Buffer.from(await r.arrayBuffer());
  return { status: r.status, headers: r.headers, body };
}

// A PNG whose header declares width x height, with a real (tiny, zlib) IDAT: a
// decompression bomb made by hand, as an attacker would.
function bombPng(width, height) {
  const crc32 = (buf) => {
    let c = ~0;
    for (const b of buf) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xEDB88320 & -(c & 1));
    }
    return (~c) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
  const row = Buffer.alloc(1 + 3 * Math.min(width, 1000));
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(row)), chunk('IEND', Buffer.alloc(0))]);
}

async function main() {
  keys = await jose.generateKeyPair('RS256', { modulusLength: 2048 });
  const pem = await jose.exportSPKI(keys.publicKey);
  mesh = new Mesh(buildDir, srcDir);
  await mesh.up({
    CLERK_JWT_KEY: pem,
    VENTA_JWT_ISSUER: ISSUER,
    VENTA_JWT_AUTHORIZED_PARTIES: AZP,
  });
  dbUrl = mesh.env.VENTA_DATABASE_URL;
  const alice = 'user_alice' + crypto.randomBytes(4).toString('hex');
  const bob = 'user_bob' + crypto.randomBytes(4).toString('hex');
  const aliceTok = await token(alice);
  const bobTok = await token(bob);
  const photo = phonePhoto('phone.jpg');
  const photoBytes = fs.readFileSync(photo);
  const photoHash = crypto.createHash('sha256').update(photoBytes).digest('hex');

  await test('the test photo really carries GPS, EXIF and a rotation', async () => {
    const e = exif(photo);
    assert.ok(e['GPS:GPSLatitude'], JSON.stringify(e));
    assert.equal(e['IFD0:Make'], 'VentaPhone');
    assert.equal(e['IFD0:Orientation'], 'Rotate 90 CW');
  });

  let uploaded;
  await test('POST /upload/image (fetch + FormData): Cloudinary-shaped answer', async () => {
    assert.equal(rowCounts(), '0 0');
    const r = await uploadFetch('/upload/image', photoBytes, { tok: aliceTok });
    assert.equal(r.status, 201, r.text);
    uploaded = r.json;
    assert.equal(uploaded.public_id, photoHash);
    assert.equal(uploaded.secure_url, `http://127.0.0.1:${mesh.ports.gateway}/images/${photoHash}.jpg`);
    assert.equal(uploaded.url, uploaded.secure_url);
    assert.equal(uploaded.format, 'jpg');
    // Upright: the EXIF rotation was applied (stored 400x200 → 200x400).
    assert.equal(uploaded.width, 200);
    assert.equal(uploaded.height, 400);
    assert.equal(typeof uploaded.bytes, 'number');
    assert.ok(uploaded.bytes > 0);
    assert.equal(rowCounts(), '1 4');
  });

  await test('served images carry no GPS and no metadata at all (exiftool)', async () => {
    for (const [p, accept, fmt] of [[`/images/${photoHash}.jpg`, 'image/jpeg', 'JPEG'],
      [`/images/${photoHash}.webp`, '*/*', 'WEBP'],
      [`/images/${photoHash}.jpg?w=256`, '', 'JPEG'],
      [`/images/${photoHash}.webp?w=256`, '', 'WEBP']]) {
      const r = await get(p, accept ? { accept } : {});
      assert.equal(r.status, 200, p);
      const e = exif(r.body);
      const leaked = Object.keys(e).filter((k) => /^(GPS|EXIF|IFD0|IFD1|XMP|IPTC|ICC|Photoshop|MakerNotes|Composite:GPS)/.test(k)
        || /GPS/i.test(k) || k === 'File:Comment');
      assert.deepEqual(leaked, [], `${p} leaks ${leaked.join(', ')}`);
      assert.doesNotMatch(r.body.toString('latin1'), /VentaPhone|secret comment|Exif\0\0/);
      const id = identify(r.body);
      assert.equal(id.fmt, fmt, p);
      const big = !p.includes('w=256');
      assert.equal(Math.max(id.w, id.h), big ? 400 : 256, `${p}: ${id.w}x${id.h}`);
      assert.ok(id.h > id.w, `${p} is upright (${id.w}x${id.h})`);
    }
    // The bytes the answer described are the ones served to a JPEG-only client.
    const jpg = await get(`/images/${photoHash}.jpg`);
    assert.equal(jpg.body.length, uploaded.bytes);
  });

  await test('HEAD /images: the headers of GET, no body, the connection kept', async () => {
    const imgPath = `/images/${photoHash}.jpg`;
    const full = await get(imgPath, { accept: 'image/jpeg' });
    // HEAD then GET on one connection: any body byte after HEAD's headers would be
    // read as the start of the next answer.
    const raw = await new Promise((resolve, reject) => {
      const sock = net.connect(mesh.ports.gateway, '127.0.0.1');
      const chunks = [];
      sock.on('data', (d) => chunks.push(d));
      sock.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
      sock.on('error', reject);
      sock.write(`HEAD ${imgPath} HTTP/1.1\r\nHost: t\r\nAccept: image/jpeg\r\n\r\n` +
        'GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    });
    const [head, rest] = raw.split('\r\n\r\n', 2);
    assert.match(head, /^HTTP\/1\.1 200/);
    assert.match(head, new RegExp(`\r\ncontent-length: ${full.body.length}\r\n`, 'i'));
    assert.match(head, /\r\ncontent-type: image\/jpeg\r\n/i);
    assert.match(head, new RegExp(`\r\netag: "${photoHash}-1024.jpg"`, 'i'));
    assert.match(rest, /^HTTP\/1\.1 200/, 'the GET answer follows HEAD\'s headers directly');
    assert.ok(raw.endsWith('{"status":"ok"}'), raw.slice(-80));
  });

  await test('a second upload of the same bytes (curl -F): same hash, stored once', async () => {
    const r = uploadCurl('/upload/image', photo, { tok: bobTok });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.public_id, photoHash);
    assert.equal(r.json.width, uploaded.width);
    assert.equal(r.json.bytes, uploaded.bytes);
    assert.equal(rowCounts(), '1 4');
  });

  await test('GET /images: ETag, immutable caching, 304, WebP by Accept', async () => {
    const webp = await get(`/images/${photoHash}.jpg`, { accept: 'image/avif,image/webp,*/*' });
    assert.equal(webp.status, 200);
    assert.equal(webp.headers.get('content-type'), 'image/webp');
    assert.equal(webp.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(webp.headers.get('vary'), 'Accept');
    const etag = webp.headers.get('etag');
    assert.equal(etag, `"${photoHash}-1024.webp"`);
    const jpeg = await get(`/images/${photoHash}.jpg`, { accept: 'image/jpeg,*/*' });
    assert.equal(jpeg.headers.get('content-type'), 'image/jpeg');
    assert.equal(jpeg.headers.get('etag'), `"${photoHash}-1024.jpg"`);
    const refused = await get(`/images/${photoHash}.jpg`, { accept: 'image/webp;q=0, */*' });
    assert.equal(refused.headers.get('content-type'), 'image/jpeg');
    const small = await get(`/images/${photoHash}.webp?w=256`);
    assert.equal(small.headers.get('etag'), `"${photoHash}-256.webp"`);
    // Revalidation: 304 with the same validators, no body.
    const again = await get(`/images/${photoHash}.jpg`, { accept: 'image/webp', 'if-none-match': etag });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    assert.equal(again.headers.get('etag'), etag);
    const other = await get(`/images/${photoHash}.jpg`, { accept: 'image/jpeg', 'if-none-match': etag });
    assert.equal(other.status, 200, 'a WebP ETag does not validate the JPEG');
    // curl, the other real client, sees the same.
    const head = run('curl', ['-sS', '-D', '-', '-o', '/dev/null', '-H', `if-none-match: ${etag}`,
      '-H', 'accept: image/webp', `${mesh.base}/images/${photoHash}.jpg`]).toString();
    assert.match(head, /^HTTP\/1\.1 304/);
    // Unknown and malformed names, a bad size; errors are not cached.
    const missing = await get(`/images/${'0'.repeat(64)}.jpg`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('cache-control'), null);
    assert.equal((await get(`/images/${photoHash}.png`)).status, 404);
    assert.equal((await get('/images/../../etc/passwd')).status, 404);
    assert.equal((await get(`/images/${photoHash}.jpg?w=300`)).status, 400);
  });

  const before = () => rowCounts();
  await test('bad input: non-image 415, over 10 MiB 413, bomb 422, truncated 422; nothing stored', async () => {
    const start = before();
    // Not an image (a text file named .jpg, and a real PDF-ish header).
    let r = await uploadFetch('/upload/image', Buffer.from('hello, not an image\n'), { tok: aliceTok });
    assert.equal(r.status, 415, r.text);
    // The original's error envelope on its route.
    assert.equal(r.json.error.type, 'VALIDATION');
    assert.equal(r.json.error.path, '/upload/image');
    assert.match(r.json.error.message, /not a JPEG, PNG, WebP, HEIC or AVIF/);
    fs.writeFileSync(file('doc.pdf'), '%PDF-1.4\n1 0 obj<<>>endobj\n');
    r = uploadCurl('/upload/image', file('doc.pdf'), { tok: aliceTok });
    assert.equal(r.status, 415, r.text);
    // A body over 10 MiB.
    const huge = crypto.randomBytes(10 * 1024 * 1024 + 1);
    huge[0] = 0xff; huge[1] = 0xd8; huge[2] = 0xff;
    r = await uploadFetch('/upload/image', huge, { tok: aliceTok });
    assert.equal(r.status, 413, r.text);
    assert.equal(r.json.error.code, 'RESOURCE_EXHAUSTED');
    fs.writeFileSync(file('huge.jpg'), huge);
    r = uploadCurl('/upload/image', file('huge.jpg'), { tok: aliceTok });
    assert.equal(r.status, 413, r.text);
    // A decompression bomb: a tiny PNG declaring 30000 x 30000.
    const bomb = bombPng(30000, 30000);
    assert.ok(bomb.length < 2000);
    r = await uploadFetch('/upload/image', bomb, { tok: aliceTok, filename: 'bomb.png', type: 'image/png' });
    assert.equal(r.status, 422, r.text);
    assert.match(r.json.error.message, /30000 x 30000/);
    // A highly compressible huge image made by a real encoder (libvips' CLI; ImageMagick's
    // own policy refuses to make it): 10000 x 10000 of one colour, a few hundred KiB.
    run('vips', ['black', `${file('white.jpg')}[Q=10]`, '10000', '10000']);
    assert.ok(fs.statSync(file('white.jpg')).size < 10 * 1024 * 1024);
    r = uploadCurl('/upload/image', file('white.jpg'), { tok: aliceTok });
    assert.equal(r.status, 422, r.text);
    // A truncated photo: the first half of a real JPEG.
    const other = phonePhoto('other.jpg', { seed: 'b' });
    const cut = fs.readFileSync(other).subarray(0, Math.floor(fs.statSync(other).size / 2));
    r = await uploadFetch('/upload/image', cut, { tok: aliceTok });
    assert.equal(r.status, 422, r.text);
    assert.match(r.json.error.message, /truncated or damaged/);
    // A truncated PNG too.
    run('convert', ['-size', '300x300', 'gradient:red-blue', file('grad.png')]);
    const png = fs.readFileSync(file('grad.png'));
    r = await uploadFetch('/upload/image', png.subarray(0, png.length - 200), { tok: aliceTok, type: 'image/png' });
    assert.equal(r.status, 422, r.text);
    // Malformed multipart: no file field, no boundary, a body cut mid-part.
    r = uploadCurl('/upload/image', photo, { tok: aliceTok, field: 'picture' });
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.error.message, /no field "file"/);
    const raw = await fetch(`${mesh.base}/upload/image`, { method: 'POST',
      headers: { authorization: `Bearer ${aliceTok}`, 'content-type': 'multipart/form-data; boundary=xyz' },
      body: '--xyz\r\nContent-Disposition: form-data; name="file"\r\n\r\n\xff\xd8\xff partial' });
    assert.equal(raw.status, 400);
    const json = await fetch(`${mesh.base}/upload/image`, { method: 'POST',
      headers: { authorization: `Bearer ${aliceTok}`, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(json.status, 415);
    assert.equal(before(), start, 'nothing was stored by a refused upload');
  });

  await test('uploads need the session token (unlike the original)', async () => {
    const r = await uploadFetch('/upload/image', photoBytes);
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.error.type, 'AUTHENTICATION');
  });

  await test('PUT /api/v1/vendors/{id}/image: owner only, sets profileImage', async () => {
    const c = await fetch(`${mesh.base}/api/v1/vendors`, { method: 'POST',
      headers: { authorization: `Bearer ${aliceTok}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Alice Tacos' }) });
    assert.equal(c.status, 201);
    const vendor = await c.json();
    const start = before();
    const second = phonePhoto('second.jpg', { seed: 'b', orientation: 1 });
    // Someone else's vendor: 403, and the image is not stored.
    let r = uploadCurl(`/api/v1/vendors/${vendor.id}/image`, second, { tok: bobTok, method: 'PUT' });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.error.code, 'PERMISSION_DENIED');
    // An unknown vendor: 404.
    r = uploadCurl(`/api/v1/vendors/${crypto.randomUUID()}/image`, second, { tok: aliceTok, method: 'PUT' });
    assert.equal(r.status, 404, r.text);
    assert.equal(before(), start);
    // Bad input on this route too, nothing stored.
    r = await uploadFetch(`/api/v1/vendors/${vendor.id}/image`, bombPng(30000, 30000),
      { tok: aliceTok, method: 'PUT', type: 'image/png' });
    assert.equal(r.status, 422, r.text);
    assert.equal(before(), start);
    // The owner, with the public base configured below in the gateway's env.
    r = await uploadFetch(`/api/v1/vendors/${vendor.id}/image`, fs.readFileSync(second),
      { tok: aliceTok, method: 'PUT' });
    assert.equal(r.status, 200, r.text);
    const hash = crypto.createHash('sha256').update(fs.readFileSync(second)).digest('hex');
    const url = `http://127.0.0.1:${mesh.ports.gateway}/images/${hash}.jpg`;
    assert.equal(r.json.profileImage, url);
    assert.equal(r.json.id, vendor.id);
    const [imgs] = before().split(' ');
    assert.equal(Number(imgs), Number(start.split(' ')[0]) + 1);
    // GET /api/v1/vendors/{id} keeps profileImage a URL string, and it serves the image.
    const g = await fetch(`${mesh.base}/api/v1/vendors/${vendor.id}`, { headers: { authorization: `Bearer ${bobTok}` } });
    const got = await g.json();
    assert.equal(got.profileImage, url);
    const served = await get(new URL(got.profileImage).pathname);
    assert.equal(served.status, 200);
    assert.equal(identify(served.body).fmt, 'JPEG');
    assert.equal(exif(served.body)['GPS:GPSLatitude'], undefined);
  });

  await test('VENTA_PUBLIC_URL names the images; VENTA_HTTP_MAX_UPLOADS; upload metrics', async () => {
    await mesh.procs.gateway.kill('SIGTERM');
    await mesh.procs.gateway.exited;
    mesh.start('gateway', 'gateway', { ...mesh.gatewayEnv, VENTA_PUBLIC_URL: `${PUBLIC_URL}/`,
      VENTA_HTTP_MAX_UPLOADS: '1' });
    await mesh.waitReady();
    // One upload body over 64 KiB at a time here: a slow client holding the only slot
    // makes the next such upload 503 (and nothing else), and the slot comes back when
    // it goes.
    const big = fs.readFileSync(phonePhoto('big.jpg', { size: '1600x1200' }));
    assert.ok(big.length > 64 * 1024, `${big.length} bytes`);
    const slow = net.connect(mesh.ports.gateway, '127.0.0.1');
    await new Promise((resolve) => slow.on('connect', resolve));
    slow.write(`POST /upload/image HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${aliceTok}\r\n` +
      'Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 5000000\r\n\r\n--b\r\n');
    // Until the gateway has read the slow request's headers and given it the slot (an
    // upload sent before that would take the slot itself).
    const held = async () => Number(((await fetch(`${mesh.base}/metrics`).then((x) => x.text()))
      .match(/^venta_gateway_upload_bodies (\d+)/m) || [])[1]);
    for (let i = 0; i < 500 && (await held()) !== 1; i++) await sleep(20);
    assert.equal(await held(), 1, 'venta_gateway_upload_bodies counts the slow upload');
    const busy = await uploadFetch('/upload/image', big, { tok: aliceTok });
    assert.equal(busy.status, 503, busy.text);
    assert.equal(busy.headers.get('retry-after'), '1');
    assert.equal((await get(`/images/${photoHash}.jpg`)).status, 200, 'other routes unaffected');
    const small = await uploadFetch('/upload/image', photoBytes, { tok: aliceTok });
    assert.equal(small.status, 201, 'a body under 64 KiB needs no slot');
    slow.destroy();
    let r;
    for (let i = 0; i < 200; i++) {
      r = await uploadFetch('/upload/image', big, { tok: aliceTok });
      if (r.status !== 503) break;
      await sleep(20);
    }
    assert.equal(r.status, 201, r.text);
    r = await uploadFetch('/upload/image', photoBytes, { tok: aliceTok });
    assert.equal(r.json.secure_url, `${PUBLIC_URL}/images/${photoHash}.jpg`);
    const m = await fetch(`http://127.0.0.1:${mesh.ports.mv}/metrics`).then((x) => x.text());
    assert.match(m, /venta_vendor_image_uploads_total\{outcome="stored"\} 3/);
    assert.match(m, /venta_vendor_image_uploads_total\{outcome="duplicate"\} 3/);
    assert.match(m, /venta_vendor_image_uploads_total\{outcome="too-many-pixels"\} [1-9]/);
    assert.match(m, /venta_vendor_image_uploads_total\{outcome="corrupt"\} [1-9]/);
    assert.match(m, /venta_vendor_image_upload_bytes_total [1-9]/);
    assert.match(m, /venta_vendor_image_stored_bytes_total [1-9]/);
  });
}

await runAll(main, () => mesh, ['gateway', 'vendor'],
  () => fs.rmSync(work, { recursive: true, force: true }));
