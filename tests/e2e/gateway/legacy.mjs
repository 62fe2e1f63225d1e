// legacy.mjs — the original Venta backend's routes on venta-gateway (issue 18): what its
// web app, Clerk and RevenueCat send, and the shapes they read back. Called by run.mjs
// with its mesh and client helpers, so one mesh serves both.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';

// The original's error envelope, and the status it goes with.
function expectLegacyError(r, status, type, path) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text}`);
  const e = r.json && r.json.error;
  assert.ok(e, `error body expected: ${r.text}`);
  assert.equal(e.type, type, r.text);
  assert.equal(typeof e.code, 'string');
  assert.ok(e.message.length > 0);
  assert.equal(e.path, path);
  assert.equal(e.requestId, r.headers.get('x-request-id'));
  assert.ok(!Number.isNaN(Date.parse(e.timestamp)), `timestamp: ${e.timestamp}`);
}

export default async function legacyRoutes({ mesh, api, token, test, clerkUser, clerkHeaders, msgId, rcAuth }) {
  const owner = 'user_legacy' + crypto.randomBytes(4).toString('hex');
  const other = 'user_other' + crypto.randomBytes(4).toString('hex');
  const tok = await token(owner);
  const otherTok = await token(other);
  let id;

  await test('original GET /health answers as @nestjs/terminus', async () => {
    const r = await api('GET', '/health');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'ok');
    assert.equal(r.json.info.memory_rss.status, 'up');
    assert.deepEqual(r.json.error, {});
  });

  await test('original POST /vendor → 201 {id}; GET /vendor/:id in its shape', async () => {
    let r = await api('POST', '/vendor', { body: { name: 'x' } });
    expectLegacyError(r, 401, 'AUTHENTICATION', '/vendor');
    r = await api('POST', '/vendor', { tok, body: { description: 'no name' } });
    expectLegacyError(r, 400, 'VALIDATION', '/vendor');
    r = await api('POST', '/vendor', { tok, body: { name: 7 } });
    expectLegacyError(r, 400, 'VALIDATION', '/vendor');
    r = await api('POST', '/vendor', { tok, body: '{"name":' });
    expectLegacyError(r, 400, 'VALIDATION', '/vendor');
    r = await api('POST', '/vendor', {
      tok,
      body: { name: 'Taco Legacy', description: 'al pastor', email: null, phone: '+15550100',
        website: 'https://tacos.example', imageUrl: 'https://res.cloudinary.com/x/taco.jpg', unknown: 1 },
    });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(Object.keys(r.json), ['id']);
    id = r.json.id;
    r = await api('GET', `/vendor/${id}`, { tok: otherTok });
    assert.equal(r.status, 200, r.text);
    const v = r.json.vendor;
    assert.equal(v.id, id);
    assert.equal(v.name, 'Taco Legacy');
    assert.equal(v.description, 'al pastor');
    assert.equal(v.email, '');
    assert.equal(v.phone, '+15550100');
    assert.equal(v.primaryImage, 'https://res.cloudinary.com/x/taco.jpg');
    assert.equal(v.open, false);
    assert.equal(v.lat, 0);
    assert.equal(v.long, 0);
    assert.ok(Date.parse(v.createdAt) > 0 && Date.parse(v.updatedAt) > 0);
    r = await api('GET', '/vendor/00000000-0000-4000-8000-000000000000', { tok });
    expectLegacyError(r, 404, 'NOT_FOUND', '/vendor/00000000-0000-4000-8000-000000000000');
    r = await api('GET', `/vendor/${id}`);
    expectLegacyError(r, 401, 'AUTHENTICATION', `/vendor/${id}`);
  });

  await test('original PUT /vendor/:id: owner only, fields left out are kept', async () => {
    let r = await api('PUT', `/vendor/${id}`, { tok, body: { description: 'carnitas too', open: true } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { message: 'Vendor updated successfully', success: true });
    r = await api('PUT', `/vendor/${id}`, { tok, body: { primaryImage: 'https://img.example/2.jpg', phone: null } });
    assert.equal(r.status, 200, r.text);
    const v = (await api('GET', `/vendor/${id}`, { tok })).json.vendor;
    assert.equal(v.name, 'Taco Legacy');
    assert.equal(v.description, 'carnitas too');
    assert.equal(v.open, true);
    assert.equal(v.primaryImage, 'https://img.example/2.jpg');
    assert.equal(v.phone, '');
    assert.equal(v.website, 'https://tacos.example');
    r = await api('PUT', `/vendor/${id}`, { tok: otherTok, body: { name: 'stolen' } });
    expectLegacyError(r, 403, 'AUTHORIZATION', `/vendor/${id}`);
    r = await api('PUT', `/vendor/${id}`, { tok, body: { name: '' } });
    expectLegacyError(r, 400, 'VALIDATION', `/vendor/${id}`);
    r = await api('PUT', `/vendor/${id}`, { tok, body: { open: 'yes' } });
    expectLegacyError(r, 400, 'VALIDATION', `/vendor/${id}`);
    r = await api('PUT', '/vendor/00000000-0000-4000-8000-000000000000', { tok, body: { name: 'x' } });
    expectLegacyError(r, 404, 'NOT_FOUND', '/vendor/00000000-0000-4000-8000-000000000000');
    assert.equal((await api('GET', `/vendor/${id}`, { tok })).json.vendor.name, 'Taco Legacy');
  });

  await test('original GET /vendor/:id carries the last position as lat/long', async () => {
    const r = await api('PUT', `/api/v1/vendors/${id}/location`, { tok, body: { lat: 40.7128, lng: -74.006 } });
    assert.equal(r.status, 200, r.text);
    let v; // the position is stored in batches: wait for it
    for (let i = 0; i < 100 && !(v && v.lat); i++) {
      if (i) await new Promise((res) => setTimeout(res, 100));
      v = (await api('GET', `/vendor/${id}`, { tok })).json.vendor;
    }
    assert.equal(v.lat, 40.7128);
    assert.equal(v.long, -74.006);
  });

  await test('original GET /user/vendors lists every vendor of the user as {id,name}', async () => {
    // 150 more, written straight into the database: more than one page of the service.
    execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', mesh.env.VENTA_DATABASE_URL, '-c',
      `INSERT INTO vendor.vendors (owner_id, name) SELECT '${owner}', 'bulk ' || g FROM generate_series(1, 150) g`]);
    const r = await api('GET', '/user/vendors', { tok });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.vendors.length, 151);
    assert.deepEqual(r.json.vendors.find((v) => v.id === id), { id, name: 'Taco Legacy' });
    assert.equal(new Set(r.json.vendors.map((v) => v.id)).size, 151);
    const none = await api('GET', '/user/vendors', { tok: otherTok });
    assert.deepEqual(none.json, { vendors: [] });
    expectLegacyError(await api('GET', '/user/vendors'), 401, 'AUTHENTICATION', '/user/vendors');
  });

  await test('original POST /webhook/clerk is Svix-verified like /webhooks/clerk', async () => {
    const uid = 'user_hook' + crypto.randomBytes(4).toString('hex');
    const p = clerkUser('user.created', uid);
    let r = await fetch(`${mesh.base}/webhook/clerk`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...clerkHeaders(msgId(), p) }, body: p });
    assert.equal(r.status, 200, await r.text());
    const me = await api('GET', '/api/v1/users/me', { tok: await token(uid) });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.json.email, `${uid}@example.com`);
    const forged = await fetch(`${mesh.base}/webhook/clerk`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'svix-id': msgId(),
        'svix-timestamp': String(Math.floor(Date.now() / 1000)), 'svix-signature': 'v1,AAAA' }, body: p });
    const text = await forged.text();
    expectLegacyError({ status: forged.status, json: JSON.parse(text), text, headers: forged.headers },
      401, 'AUTHENTICATION', '/webhook/clerk');
  });

  await test('original POST /webhook/subscription: the user is subscriber_attributes.clerkUserId', async () => {
    const uid = 'user_sub' + crypto.randomBytes(4).toString('hex');
    const event = { id: crypto.randomUUID(), type: 'INITIAL_PURCHASE', app_user_id: '$RCAnonymousID:abc' + uid,
      original_app_user_id: '$RCAnonymousID:abc' + uid, product_id: 'pro_monthly', entitlement_ids: ['pro'],
      period_type: 'NORMAL', store: 'APP_STORE', environment: 'SANDBOX', purchased_at_ms: Date.now(),
      expiration_at_ms: Date.now() + 30 * 86400e3, event_timestamp_ms: Date.now(), transaction_id: 'tx1',
      subscriber_attributes: { clerkUserId: { value: uid, updated_at_ms: Date.now() } } };
    const post = (auth) => fetch(`${mesh.base}/webhook/subscription`, { method: 'POST',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
      body: JSON.stringify({ api_version: '1.0', event }) });
    let r = await post(null);
    assert.equal(r.status, 401, await r.text());
    r = await post(rcAuth);
    assert.equal(r.status, 200, await r.text());
    const me = await api('GET', '/api/v1/users/me', { tok: await token(uid) });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.json.subscription.status, 'active');
    assert.equal(me.json.subscription.productId, 'pro_monthly');
  });
}
