// algolia.mjs — Algolia's query API on venta-gateway (issue 19), driven by the real
// `algoliasearch` client (v5, its fetch requester) with its hosts pointed at the gateway,
// as the apps would be:
// the three searches, highlights, the multi-query InstantSearch sends, each
// filter, the v4 params string, a JWT instead of the key, and the 403 in Algolia's
// shape. Also the REST search route with the new filters. Called by run.mjs with its
// mesh and helpers, so one mesh serves all.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { algoliasearch } from 'algoliasearch';
// The requester of algoliasearch's fetch build (its "worker" export), installed with it.
// The apps' builds (browser and React Native: XHR) send a Content-Length like this one;
// the Node build's http requester streams its body chunked, which venta-gateway refuses
// with 411 (docs/gateway.md).
import { createFetchRequester } from '@algolia/requester-fetch';
import { sleep } from './mesh.mjs';

export const ALGOLIA_KEY = 'search-only-' + crypto.randomBytes(8).toString('hex');

export default async function algoliaRoutes({ mesh, api, token, test, freshIp }) {
  const owner = 'user_algolia' + crypto.randomBytes(4).toString('hex');
  const tok = await token(owner);
  const port = new URL(mesh.base).port;
  const client = (key, ip = freshIp()) => algoliasearch('VENTAMESH', key, {
    hosts: [{ url: `127.0.0.1:${port}`, protocol: 'http', accept: 'readWrite' }],
    baseHeaders: { 'x-forwarded-for': ip },
    requester: createFetchRequester(),
  });
  // The client's errors say little when printed: name their status and message.
  const explain = (p) => p.catch((e) => { throw new Error(`${e.name} ${e.status}: ${e.message}`); });
  const raw = client(ALGOLIA_KEY);
  const search = {
    searchSingleIndex: (a) => explain(raw.searchSingleIndex(a)),
    search: (a) => explain(raw.search(a)),
  };
  const tag = crypto.randomBytes(3).toString('hex').replace(/[0-9]/g, 'q'); // a word of our own
  const ids = {};
  const create = async (key, body) => {
    const r = await api('POST', '/api/v1/vendors', { tok, body });
    assert.equal(r.status, 201, r.text);
    ids[key] = r.json.id;
  };

  await test('algolia: vendors created over REST are searchable', async () => {
    await create('zeta', { name: `Taco Truck Zeta ${tag}`, description: 'al pastor and horchata', isOpen: true });
    await create('pizza', { name: `Pizza Napoli ${tag}`, description: 'wood-fired, horchata too' });
  });

  await test('algolia: the issue’s searches find "Taco Truck Zeta", highlighted', async () => {
    for (const query of ['Taco Truk', 'Tako Truk', 'horch', 'horchatta']) {
      const r = await search.searchSingleIndex({ indexName: 'vendor', searchParams: { query, hitsPerPage: 50 } });
      const hit = r.hits.find((h) => h.objectID === ids.zeta);
      assert.ok(hit, `"${query}" does not find it: ${JSON.stringify(r.hits.map((h) => h.name))}`);
      assert.equal(r.query, query);
      assert.equal(typeof r.processingTimeMS, 'number');
      assert.equal(r.page, 0);
      assert.equal(r.hitsPerPage, 50);
      assert.ok(r.nbHits >= 1 && r.nbPages >= 1);
      assert.ok(r.params.includes('hitsPerPage=50'), r.params);
    }
    const r = await search.searchSingleIndex({ indexName: 'vendor', searchParams: { query: `Tako Truk ${tag}` } });
    assert.equal(r.nbHits, 1);
    const hit = r.hits[0];
    assert.equal(hit.objectID, ids.zeta);
    assert.equal(hit.id, ids.zeta);
    assert.equal(hit.open, true);
    assert.equal(hit._highlightResult.name.value, `<em>Taco</em> <em>Truck</em> Zeta <em>${tag}</em>`);
    assert.equal(hit._highlightResult.name.matchLevel, 'full');
    assert.deepEqual(hit._highlightResult.name.matchedWords, ['tako', 'truk', tag]);
    assert.equal(hit._highlightResult.description.matchLevel, 'none');
    const h = await search.searchSingleIndex({ indexName: 'vendor', searchParams: { query: `${tag} horch` } });
    const zeta = h.hits.find((x) => x.objectID === ids.zeta);
    assert.equal(zeta._highlightResult.description.value, 'al pastor and <em>horch</em>ata');
  });

  await test('algolia: the multi-query InstantSearch sends', async () => {
    const r = await search.search({ requests: [
      { indexName: 'vendor', query: `pizza ${tag}`, hitsPerPage: 5 },
      { indexName: 'vendor', query: `zeta ${tag}`, highlightPreTag: '__ais-highlight__', highlightPostTag: '__/ais-highlight__' },
      { indexName: 'vendor', query: '' },
    ] });
    assert.equal(r.results.length, 3);
    assert.deepEqual(r.results[0].hits.map((x) => x.objectID), [ids.pizza]);
    assert.equal(r.results[1].hits[0]._highlightResult.name.value,
      `Taco Truck __ais-highlight__Zeta__/ais-highlight__ __ais-highlight__${tag}__/ais-highlight__`);
    assert.equal(r.results[2].nbHits, 0);
    assert.equal(r.results[1].index, 'vendor');
  });

  await test('algolia: filters open, aroundLatLng + aroundRadius, insideBoundingBox', async () => {
    let r = await search.searchSingleIndex({ indexName: 'vendor', searchParams: { query: tag, filters: 'open:true' } });
    assert.deepEqual(r.hits.map((x) => x.objectID), [ids.zeta]);
    for (const [key, lat, lng] of [['zeta', 40.7128, -74.006], ['pizza', 40.8448, -73.8648]]) {
      const p = await api('PUT', `/api/v1/vendors/${ids[key]}/location`, { tok, body: { lat, lng } });
      assert.equal(p.status, 200, p.text);
    }
    // venta-vendor learns positions from loc.> every few seconds: wait for both.
    for (let i = 0; i < 100; i++) {
      r = await search.searchSingleIndex({ indexName: 'vendor', searchParams: { query: tag } });
      if (r.hits.length === 2 && r.hits.every((x) => x._geoloc)) break;
      await sleep(100);
    }
    assert.ok(r.hits.every((x) => x._geoloc), JSON.stringify(r.hits));
    assert.equal(r.hits.find((x) => x.objectID === ids.zeta)._geoloc.lat, 40.7128);
    r = await search.searchSingleIndex({ indexName: 'vendor',
      searchParams: { query: tag, aroundLatLng: '40.71, -74.0', aroundRadius: 2000 } });
    assert.deepEqual(r.hits.map((x) => x.objectID), [ids.zeta]);
    r = await search.searchSingleIndex({ indexName: 'vendor', searchParams: { query: tag, aroundLatLng: '40.85,-73.86' } });
    assert.deepEqual(r.hits.map((x) => x.objectID), [ids.pizza, ids.zeta]); // nearest first
    r = await search.searchSingleIndex({ indexName: 'vendor',
      searchParams: { query: tag, insideBoundingBox: [[40.9, -73.9, 40.8, -73.8]] } });
    assert.deepEqual(r.hits.map((x) => x.objectID), [ids.pizza]);
  });

  await test('algolia: the v4 params string, with a session JWT instead of the key', async () => {
    const r = await fetch(`${mesh.base}/1/indexes/vendor/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tok}`, 'x-algolia-application-id': 'ANY', 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': freshIp() },
      body: JSON.stringify({ params: `query=${encodeURIComponent('tako ' + tag)}&hitsPerPage=1&page=0` }),
    });
    const j = await r.json();
    assert.equal(r.status, 200, JSON.stringify(j));
    assert.equal(j.hits.length, 1);
    assert.equal(j.hits[0].objectID, ids.zeta);
    assert.equal(j.params, `query=tako%20${tag}&hitsPerPage=1&page=0`);
    // The key in the query string, as browser clients send it.
    const q = await fetch(`${mesh.base}/1/indexes/*/queries?x-algolia-api-key=${ALGOLIA_KEY}&x-algolia-application-id=X`, {
      method: 'POST', headers: { 'x-forwarded-for': freshIp() },
      body: JSON.stringify({ requests: [{ indexName: 'vendor', params: `query=${tag}` }] }),
    });
    assert.equal(q.status, 200);
    assert.equal((await q.json()).results[0].nbHits, 2);
  });

  await test('algolia: a wrong key or none is a 403 in Algolia’s shape; bad params a 400', async () => {
    await assert.rejects(client('wrong-key').searchSingleIndex({ indexName: 'vendor', searchParams: { query: 'taco' } }),
      (e) => e.status === 403 && e.message === 'Invalid Application-ID or API key');
    for (const headers of [{}, { 'x-algolia-api-key': ALGOLIA_KEY + 'x' }, { authorization: 'Bearer not.a.jwt' }]) {
      const r = await fetch(`${mesh.base}/1/indexes/vendor/query`, {
        method: 'POST', headers: { ...headers, 'x-forwarded-for': freshIp() }, body: '{"query":"taco"}' });
      assert.equal(r.status, 403);
      assert.deepEqual(await r.json(), { message: 'Invalid Application-ID or API key', status: 403 });
    }
    const bad = await fetch(`${mesh.base}/1/indexes/vendor/query`, {
      method: 'POST', headers: { 'x-algolia-api-key': ALGOLIA_KEY, 'x-forwarded-for': freshIp() },
      body: '{"query":"taco","filters":"price < 3"}' });
    assert.equal(bad.status, 400);
    const body = await bad.json();
    assert.equal(body.status, 400);
    assert.match(body.message, /filters/);
  });

  await test('REST search: openNow, the box, highlights in matches, total', async () => {
    let r = await api('GET', `/api/v1/vendors/search?q=${tag}&openNow=true`, { tok });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.vendors.map((v) => v.id), [ids.zeta]);
    assert.equal(r.json.total, 1);
    assert.equal(r.json.matches[0].name.matchLevel, 'full');
    assert.equal(r.json.matches[0].name.value, `Taco Truck Zeta <em>${tag}</em>`);
    r = await api('GET', `/api/v1/vendors/search?q=tako+${tag}&swLat=40.8&swLng=-73.9&neLat=40.9&neLng=-73.8`, { tok });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.vendors.length, 0); // Zeta is not in the Bronx
    r = await api('GET', `/api/v1/vendors/search?q=${tag}&swLat=40.8`, { tok });
    assert.equal(r.status, 400, r.text);
  });
}
