// Venta live map on Leaflet (docs/map.md). One WebSocket to the edge watches the visible
// box, re-sent after every pan or zoom; vendors are markers in a cluster group. A fix
// moves a marker's official position at once (so clusters stay right) while its icon
// glides there from where it was drawn, over the interval between its last two fixes.
// Names come from the REST gateway once per vendor; labels that would overlap are hidden
// by a declutter pass. A click opens the vendor's card; the search box asks the REST
// search route and flies to the result. The socket reconnects by itself with backoff.
(() => {
  "use strict";
  const params = new URLSearchParams(location.hash.slice(1) || location.search.slice(1));
  let token = params.get("token") || sessionStorage.getItem("venta.token") || "";
  const wsUrl = params.get("ws") || `ws://${location.hostname}:8081/ws`;
  const $ = (id) => document.getElementById(id);
  const countEl = $("count"), connEl = $("conn"), statusEl = $("status");

  // ---- the map and its basemap ------------------------------------------------------
  // `zoom` is a Leaflet zoom level; the old page's degrees-per-pixel values (< 1) are
  // still read, so links made for it keep working.
  const zoomParam = Number(params.get("zoom") || 13);
  const zoom = zoomParam > 0 && zoomParam < 1 ? Math.log2(360 / (256 * zoomParam)) : zoomParam;
  // maxZoom is set here because the offline basemap is no tile layer (markercluster
  // needs one or the other to know where clustering ends).
  const map = L.map("map", { worldCopyJump: true, zoomSnap: 0.25, minZoom: 2, maxZoom: 19 })
    .setView([Number(params.get("lat") || 40.73), Number(params.get("lng") || -73.99)], zoom);
  map.createPane("land").style.zIndex = 150;
  // The land is drawn on its own canvas under the markers (400,000 points at 1:10m are
  // one bitmap, not a DOM path).
  const landRenderer = L.canvas({ pane: "land", padding: 0.2 });

  function useTiles(cfg) {
    L.tileLayer(cfg.tileUrl, { attribution: cfg.tileAttribution || "", maxZoom: 19 }).addTo(map);
    $("map").dataset.basemap = "tiles";
  }
  // Natural Earth's land over the water-coloured map: 1:50m (550 KiB) for the world and
  // 1:10m (3 MiB, where Manhattan is an island) from zoom 8, each fetched when first
  // needed. Only one is on the map at a time.
  const land = { scales: {}, shown: "" };
  const LAND_STYLE = { className: "land", color: "#9bb0a0", weight: 1, opacity: 1, fillColor: "#f2efe6", fillOpacity: 1 };
  const landScale = () => (map.getZoom() >= 8 ? "10m" : "50m");
  function loadLand(scale) {
    if (!land.scales[scale]) {
      land.scales[scale] = fetch(`/land-${scale}.json`)
        .then((r) => { if (!r.ok) throw new Error(`land ${scale}: HTTP ${r.status}`); return r.json(); })
        .then((topo) => L.geoJSON(topojson.feature(topo, topo.objects.land), {
          pane: "land", renderer: landRenderer, interactive: false, style: LAND_STYLE,
          attribution: "Natural Earth",
        }));
      land.scales[scale].catch(() => { delete land.scales[scale]; });
    }
    return land.scales[scale];
  }
  function useLand() {
    const scale = landScale();
    if (land.shown === scale) return Promise.resolve();
    return loadLand(scale).then((layer) => {
      if (landScale() !== scale || land.shown === scale) return;
      if (land.shown) land.scales[land.shown].then((old) => map.removeLayer(old));
      layer.addTo(map);
      land.shown = scale;
      $("map").dataset.basemap = "land";
      $("map").dataset.land = scale;
    });
  }
  // Is (lat, lng) drawn as land? The pixel of the land canvas there is read back: land
  // is opaque, water is the map's background through a transparent canvas. (For the
  // e2e test.)
  function isLand(lat, lng) {
    const c = map.getPane("land").querySelector("canvas");
    if (!c) return false;
    const r = c.getBoundingClientRect(), box = map.getContainer().getBoundingClientRect();
    const p = map.latLngToContainerPoint([lat, lng]);
    const x = Math.floor((box.left + p.x - r.left) * (c.width / r.width));
    const y = Math.floor((box.top + p.y - r.top) * (c.height / r.height));
    if (x < 0 || y < 0 || x >= c.width || y >= c.height) return false;
    return c.getContext("2d").getImageData(x, y, 1, 1).data[3] === 255;
  }
  fetch("/config.json")
    .then((r) => (r.ok ? r.json() : {}))
    .catch(() => ({}))
    .then((cfg) => {
      if (cfg.tileUrl) return useTiles(cfg);
      map.on("zoomend", () => useLand().catch(showBasemapError));
      return useLand();
    })
    .catch(showBasemapError);
  function showBasemapError(e) { statusEl.textContent = `basemap: ${e.message}`; }

  // ---- vendors ------------------------------------------------------------------------
  const cluster = L.markerClusterGroup({
    maxClusterRadius: 48, disableClusteringAtZoom: 17, showCoverageOnHover: false, chunkedLoading: true,
  });
  map.addLayer(cluster);
  const vendors = new Map(); // id -> {marker, from, to, t0, t1, ts, online}
  const info = new Map();    // id -> the REST vendor (null while asked)
  let zooming = false;

  const wrapLng = (x) => ((x + 540) % 360) - 180;
  function position(v, now) {
    const k = v.t1 <= v.t0 ? 1 : Math.min(1, (now - v.t0) / (v.t1 - v.t0));
    let dl = v.to[1] - v.from[1];
    if (dl > 180) dl -= 360; else if (dl < -180) dl += 360;
    return [v.from[0] + (v.to[0] - v.from[0]) * k, wrapLng(v.from[1] + dl * k)];
  }
  const vendorName = (id) => (info.get(id) && info.get(id).name) || "";

  // What the icon shows follows the state; the element exists only while the marker is
  // drawn on its own (not inside a cluster), so it is painted again on every "add".
  function paint(id) {
    const v = vendors.get(id);
    const el = v && v.marker.getElement();
    if (!el) return;
    el.classList.toggle("online", v.online);
    el.classList.toggle("offline", !v.online);
    el.dataset.vendorId = id;
    el.querySelector(".label").textContent = vendorName(id) || id.slice(0, 8);
  }

  function place(m, entering) {
    const now = performance.now();
    let v = vendors.get(m.vendorId);
    if (v && m.ts && v.ts && m.ts < v.ts) return; // an older fix
    if (!v) {
      const marker = L.marker([m.lat, m.lng], {
        icon: L.divIcon({ className: "vendor", html: '<span class="dot"></span><span class="label"></span>',
          iconSize: [14, 14], iconAnchor: [7, 7] }),
        keyboard: false,
      });
      v = { marker, from: [m.lat, m.lng], to: [m.lat, m.lng], t0: now, t1: now, ts: m.ts,
        online: m.online !== false };
      vendors.set(m.vendorId, v);
      marker.on("add", () => { paint(m.vendorId); scheduleDeclutter(); });
      marker.on("click", () => openCard(m.vendorId));
      cluster.addLayer(marker);
    } else {
      const here = entering ? [m.lat, m.lng] : position(v, now);
      const dt = Math.min(Math.max(now - v.t1, 200), 5000);
      Object.assign(v, { from: here, to: [m.lat, m.lng], t0: now, t1: now + dt, ts: m.ts || v.ts, arrived: false });
      if (typeof m.online === "boolean") v.online = m.online;
      v.marker.setLatLng([m.lat, m.lng]);
      paint(m.vendorId);
    }
    lookup(m.vendorId);
    if (card.id === m.vendorId) fillLive();
  }
  function remove(id) {
    const v = vendors.get(id);
    if (!v) return;
    cluster.removeLayer(v.marker);
    vendors.delete(id);
  }
  function setOnline(id, online) {
    const v = vendors.get(id);
    if (!v) return;
    v.online = online;
    paint(id);
    if (card.id === id) fillLive();
  }

  function authHeaders() { return { Authorization: `Bearer ${token}` }; }
  function fetchVendor(id) {
    return fetch(`/api/v1/vendors/${encodeURIComponent(id)}`, { headers: authHeaders() })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`vendor ${id}: HTTP ${r.status}`))));
  }
  function lookup(id) {
    if (info.has(id)) return;
    info.set(id, null);
    fetchVendor(id).then((v) => { info.set(id, v); paint(id); scheduleDeclutter(); })
      .catch(() => info.delete(id));
  }

  // Each frame, icons still gliding are drawn where they are on their way; Leaflet
  // itself puts every icon at its official position (the latest fix) on zoom and pan.
  map.on("zoomstart", () => { zooming = true; });
  map.on("zoomend", () => { zooming = false; scheduleDeclutter(); });
  map.on("moveend", scheduleDeclutter);
  function frame() {
    const now = performance.now();
    if (!zooming) {
      for (const v of vendors.values()) {
        if (v.arrived) continue;
        const el = v.marker.getElement();
        if (el) L.DomUtil.setPosition(el, map.latLngToLayerPoint(position(v, now)));
        v.arrived = now >= v.t1;
      }
    }
    requestAnimationFrame(frame);
  }

  // ---- labels that do not overlap -----------------------------------------------------
  // Greedy: online before offline, then labels shown last time (so they do not flicker),
  // then by id; a label is shown when its box, grown by a small margin, overlaps neither
  // a label already kept nor another vendor's dot.
  let declutterTimer = null, shownLast = new Set();
  function scheduleDeclutter() {
    if (!declutterTimer) declutterTimer = setTimeout(() => { declutterTimer = null; declutter(); }, 100);
  }
  const overlap = (a, b) => a.left < b.right && a.right > b.left && a.top < b.bottom && a.bottom > b.top;
  function drawnVendors() {
    const items = [];
    for (const [id, v] of vendors) {
      const el = v.marker.getElement();
      if (el) items.push({ id, v, label: el.querySelector(".label"), dot: el.querySelector(".dot").getBoundingClientRect() });
    }
    return items;
  }
  function declutter() {
    const items = drawnVendors();
    items.sort((a, b) => (b.v.online - a.v.online) || (shownLast.has(b.id) - shownLast.has(a.id)) ||
      (a.id < b.id ? -1 : 1));
    const kept = [], pad = 3, shown = new Set();
    for (const it of items) {
      const r = it.label.getBoundingClientRect();
      const box = { left: r.left - pad, top: r.top - pad, right: r.right + pad, bottom: r.bottom + pad };
      const clash = kept.some((k) => overlap(box, k)) || items.some((o) => o !== it && overlap(box, o.dot));
      it.label.classList.toggle("hidden", clash);
      if (!clash) { kept.push(box); shown.add(it.id); }
    }
    shownLast = shown;
  }
  setInterval(declutter, 400);
  // Pairs (label, label) and (label, another vendor's dot) that overlap on screen.
  function visibleLabelOverlaps() {
    const items = drawnVendors().filter((it) => !it.label.classList.contains("hidden"));
    let n = 0;
    for (let i = 0; i < items.length; i++) {
      const a = items[i].label.getBoundingClientRect();
      for (let j = 0; j < items.length; j++) {
        if (i === j) continue;
        if (j > i && overlap(a, items[j].label.getBoundingClientRect())) n++;
        if (overlap(a, items[j].dot)) n++;
      }
    }
    return n;
  }

  setInterval(() => {
    const b = map.getBounds();
    let n = 0;
    for (const v of vendors.values()) if (b.contains(v.marker.getLatLng())) n++;
    countEl.textContent = `${n} vendor${n === 1 ? "" : "s"}`;
    countEl.dataset.count = String(n);
  }, 300);

  // ---- the vendor card ----------------------------------------------------------------
  const card = { id: "", rest: null };
  function ago(ms) {
    const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (s < 60) return `${s} s ago`;
    if (s < 3600) return `${Math.round(s / 60)} min ago`;
    if (s < 86400) return `${Math.round(s / 3600)} h ago`;
    return new Date(ms).toLocaleDateString();
  }
  // The later of the REST location's time and the latest live fix.
  function lastSeen(id) {
    const v = vendors.get(id);
    const rest = card.rest && card.rest.location && Date.parse(card.rest.location.updatedAt);
    const live = v && v.ts ? Number(v.ts) : 0;
    const t = Math.max(rest || 0, live);
    return t || null;
  }
  function fillLive() {
    const v = vendors.get(card.id);
    $("card-online").textContent = v ? (v.online ? "online" : "offline") : "not on the map";
    $("card-online").dataset.online = v ? String(v.online) : "";
    const t = lastSeen(card.id);
    $("card-seen").textContent = t ? `${ago(t)} (${new Date(t).toLocaleTimeString()})` : "never";
    $("card-seen").dataset.ts = t ? String(t) : "";
  }
  function openCard(id) {
    card.id = id;
    card.rest = info.get(id) || null;
    const c = $("card");
    c.dataset.vendorId = id;
    c.dataset.loaded = "false";
    c.hidden = false;
    $("card-name").textContent = vendorName(id) || "…";
    fetchVendor(id).then((v) => {
      if (card.id !== id) return;
      info.set(id, v);
      card.rest = v;
      $("card-name").textContent = v.name || "(no name)";
      $("card-description").textContent = v.description || "";
      $("card-open").textContent = v.isOpen ? "open" : "closed";
      const img = $("card-image");
      img.hidden = !v.profileImage;
      if (v.profileImage) img.src = smallImage(v.profileImage); else img.removeAttribute("src");
      fillLive();
      c.dataset.loaded = "true";
    }).catch((e) => { if (card.id === id) statusEl.textContent = e.message; });
  }
  // The gateway's own images come in two sizes: the card needs the small one.
  function smallImage(url) {
    try {
      const u = new URL(url, location.href);
      if (/^\/images\/[0-9a-f]{64}\.(jpg|webp)$/.test(u.pathname)) u.searchParams.set("w", "256");
      return u.href;
    } catch { return url; }
  }
  $("card-close").addEventListener("click", () => { $("card").hidden = true; card.id = ""; });
  setInterval(() => { if (card.id) fillLive(); }, 1000);

  // ---- search -------------------------------------------------------------------------
  const q = $("q"), results = $("results");
  let searchTimer = null, searchSeq = 0, hits = [];
  function search(text) {
    const seq = ++searchSeq;
    if (!text.trim()) { results.hidden = true; hits = []; return Promise.resolve([]); }
    const c = map.getCenter();
    const qs = new URLSearchParams({ q: text, limit: "6", lat: c.lat.toFixed(5), lng: wrapLng(c.lng).toFixed(5) });
    return fetch(`/api/v1/vendors/search?${qs}`, { headers: authHeaders() })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`search: HTTP ${r.status}`))))
      .then((body) => {
        if (seq !== searchSeq) return hits;
        hits = body.vendors || [];
        showHits();
        return hits;
      })
      .catch((e) => { statusEl.textContent = e.message; return []; });
  }
  function showHits() {
    results.replaceChildren(...hits.map((v, i) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = v.name || v.id;
      if (!v.location) {
        const s = document.createElement("small");
        s.textContent = " · no known position";
        b.append(s);
      }
      b.addEventListener("click", () => go(hits[i]));
      li.append(b);
      return li;
    }));
    if (!hits.length) {
      const li = document.createElement("li");
      li.textContent = "no vendor found";
      li.style.padding = "6px 8px";
      results.replaceChildren(li);
    }
    results.hidden = false;
  }
  function go(v) {
    results.hidden = true;
    if (!v) return;
    info.set(v.id, v);
    if (!v.location) { statusEl.textContent = `${v.name}: no known position`; return; }
    map.once("moveend", () => openCard(v.id));
    map.flyTo([v.location.lat, v.location.lng], Math.max(map.getZoom(), 16), { duration: 1.2 });
  }
  q.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => search(q.value), 250);
  });
  $("search").addEventListener("submit", (e) => {
    e.preventDefault();
    clearTimeout(searchTimer);
    search(q.value).then((found) => go(found[0]));
  });

  // ---- the WebSocket edge, reconnecting with backoff -----------------------------------
  let socket = null, watchTimer = null, retryMs = 500, retryTimer = null, snapshots = 0;
  function setConn(state, text) { connEl.dataset.state = state; connEl.textContent = text; }
  function send(msg) { if (socket && socket.readyState === 1) socket.send(JSON.stringify(msg)); }
  function box() {
    const b = map.getBounds();
    const clamp = (v) => Math.max(-90, Math.min(90, v));
    const span = b.getEast() - b.getWest();
    return {
      ne: { lat: clamp(b.getNorth()), lng: span >= 360 ? 180 : wrapLng(b.getEast()) },
      sw: { lat: clamp(b.getSouth()), lng: span >= 360 ? -180 : wrapLng(b.getWest()) },
    };
  }
  function scheduleWatch() {
    clearTimeout(watchTimer);
    watchTimer = setTimeout(() => send({ op: "watch.bounds", ...box() }), 150);
  }
  map.on("moveend", scheduleWatch);

  function onMessage(line) {
    let m;
    try { m = JSON.parse(line); } catch { return; }
    switch (m.op) {
      case "snapshot": {
        snapshots++;
        const keep = new Set((m.vendors || []).map((v) => v.vendorId));
        for (const id of [...vendors.keys()]) if (!keep.has(id)) remove(id);
        for (const v of m.vendors || []) place(v, true);
        break;
      }
      case "enter": place(m, true); break;
      case "location": place(m, false); break;
      case "leave": remove(m.vendorId); break;
      case "status": setOnline(m.vendorId, m.online); break;
      case "error": statusEl.textContent = `server: ${m.code} ${m.message}`; break;
    }
  }

  function connect() {
    clearTimeout(retryTimer);
    if (!token) { $("auth").hidden = false; setConn("signed-out", "signed out"); return; }
    sessionStorage.setItem("venta.token", token);
    setConn("connecting", "connecting…");
    socket = new WebSocket(`${wsUrl}?access_token=${encodeURIComponent(token)}`, "venta.v1.json");
    socket.onopen = () => { setConn("live", "live"); retryMs = 500; scheduleWatch(); };
    socket.onmessage = (e) => String(e.data).split("\n").forEach(onMessage);
    socket.onclose = (e) => {
      socket = null;
      if (e.code === 1008 || e.code === 4401) {
        $("auth").hidden = false;
        setConn("signed-out", `signed out (${e.code}${e.reason ? " " + e.reason : ""})`);
        return;
      }
      // Exponential backoff with jitter, so that a restarted edge is not hit by every
      // page at the same instant.
      const wait = Math.round(retryMs * (0.8 + Math.random() * 0.4));
      retryMs = Math.min(retryMs * 2, 10000);
      setConn("reconnecting", `reconnecting in ${Math.max(1, Math.round(wait / 1000))} s`);
      retryTimer = setTimeout(connect, wait);
    };
  }
  addEventListener("online", () => { if (!socket) connect(); });
  $("auth").addEventListener("submit", (e) => {
    e.preventDefault();
    token = $("token").value.trim();
    $("auth").hidden = true;
    connect();
  });

  // Read-only view of what the map shows, for the browser e2e test and for debugging.
  window.ventaMap = {
    positions: () => [...vendors].map(([id, v]) => ({ id, at: position(v, performance.now()), online: v.online })),
    name: vendorName,
    center: () => { const c = map.getCenter(); return [c.lat, wrapLng(c.lng)]; },
    zoom: () => map.getZoom(),
    isLand,
    count: () => Number(countEl.dataset.count || 0),
    setView: (lat, lng, z) => { map.setView([lat, lng], z, { animate: false }); },
    snapshots: () => snapshots,
    clusters: () => document.querySelectorAll(".marker-cluster").length,
    declutter: () => { declutter(); return visibleLabelOverlaps(); },
    // Labels shown: of the vendors ids, or of every vendor drawn.
    labels: (ids) => (ids || [...vendors.keys()]).filter((id) => {
      const el = vendors.has(id) && vendors.get(id).marker.getElement();
      const label = el && el.querySelector(".label");
      return label && !label.classList.contains("hidden");
    }).length,
    screenPoint: (id) => {
      const v = vendors.get(id);
      const el = v && v.marker.getElement();
      if (!el) return null;
      const r = el.getBoundingClientRect();
      return [r.left + r.width / 2, r.top + r.height / 2];
    },
  };

  connect();
  requestAnimationFrame(frame);
})();
