// Venta live map. One WebSocket to the edge; the visible box is re-watched after every
// pan or zoom (debounced); vendors glide between updates (linear interpolation over
// the interval between their last two fixes) and are labelled with their names, which
// come from the REST gateway once per vendor.
(() => {
  "use strict";
  const params = new URLSearchParams(location.hash.slice(1) || location.search.slice(1));
  let token = params.get("token") || sessionStorage.getItem("venta.token") || "";
  const wsUrl = params.get("ws") || `ws://${location.hostname}:8081/ws`;
  const canvas = document.getElementById("map");
  const ctx = canvas.getContext("2d");
  const countEl = document.getElementById("count");
  const connEl = document.getElementById("conn");
  const statusEl = document.getElementById("status");

  // View: centre and degrees of longitude per pixel (latitude uses a simple
  // equirectangular scale corrected by cos(lat) so cities keep their shape).
  const view = {
    lat: Number(params.get("lat") || 40.73), lng: Number(params.get("lng") || -73.99),
    degPerPx: Number(params.get("zoom") || 0.0004),
  };
  const vendors = new Map(); // id -> {from, to, t0, t1, online, name}
  const names = new Map();
  let socket = null, watchTimer = null, retry = 500;

  function resize() {
    canvas.width = innerWidth * devicePixelRatio;
    canvas.height = innerHeight * devicePixelRatio;
    ctx.setTransform(devicePixelRatio, 0, 0, devicePixelRatio, 0, 0);
    scheduleWatch();
  }
  const latScale = () => view.degPerPx * Math.cos(view.lat * Math.PI / 180);
  const toScreen = (lat, lng) => {
    let dl = lng - view.lng;
    if (dl > 180) dl -= 360; else if (dl < -180) dl += 360;
    return [innerWidth / 2 + dl / view.degPerPx, innerHeight / 2 - (lat - view.lat) / latScale()];
  };
  const wrapLng = (x) => ((x + 540) % 360) - 180;
  function bounds() {
    const halfW = innerWidth / 2 * view.degPerPx, halfH = innerHeight / 2 * latScale();
    const clamp = (v) => Math.max(-90, Math.min(90, v));
    const span = Math.min(halfW, 180);
    return {
      ne: { lat: clamp(view.lat + halfH), lng: span >= 180 ? 180 : wrapLng(view.lng + span) },
      sw: { lat: clamp(view.lat - halfH), lng: span >= 180 ? -180 : wrapLng(view.lng - span) },
    };
  }

  function send(msg) { if (socket && socket.readyState === 1) socket.send(JSON.stringify(msg)); }
  function scheduleWatch() {
    clearTimeout(watchTimer);
    watchTimer = setTimeout(() => send({ op: "watch.bounds", ...bounds() }), 150);
  }

  function place(m, entering) {
    const now = performance.now();
    const v = vendors.get(m.vendorId);
    if (v && m.ts && v.ts && m.ts < v.ts) return; // older fix: ignore
    const here = v ? position(v, now) : [m.lat, m.lng];
    const dt = v ? Math.min(Math.max(now - v.t1, 200), 5000) : 1;
    vendors.set(m.vendorId, {
      from: entering && !v ? [m.lat, m.lng] : here, to: [m.lat, m.lng], t0: now, t1: now + dt,
      ts: m.ts, online: m.online !== false && (v ? v.online : true),
    });
    lookupName(m.vendorId);
  }
  function position(v, now) {
    const k = v.t1 <= v.t0 ? 1 : Math.min(1, (now - v.t0) / (v.t1 - v.t0));
    let dl = v.to[1] - v.from[1];
    if (dl > 180) dl -= 360; else if (dl < -180) dl += 360;
    return [v.from[0] + (v.to[0] - v.from[0]) * k, wrapLng(v.from[1] + dl * k)];
  }
  function lookupName(id) {
    if (names.has(id)) return;
    names.set(id, "");
    fetch(`/api/v1/vendors/${encodeURIComponent(id)}`, { headers: { Authorization: `Bearer ${token}` } })
      .then((r) => (r.ok ? r.json() : null))
      .then((v) => { if (v && v.name) names.set(id, v.name); })
      .catch(() => {});
  }

  function onMessage(line) {
    let m;
    try { m = JSON.parse(line); } catch { return; }
    switch (m.op) {
      case "snapshot":
        vendors.clear();
        for (const v of m.vendors || []) place(v, true);
        break;
      case "enter": place(m, true); break;
      case "location": place(m, false); break;
      case "leave": vendors.delete(m.vendorId); break;
      case "status": {
        const v = vendors.get(m.vendorId);
        if (v) v.online = m.online;
        break;
      }
      case "error": statusEl.textContent = `server: ${m.code} ${m.message}`; break;
    }
  }

  function connect() {
    if (!token) { document.getElementById("auth").hidden = false; return; }
    sessionStorage.setItem("venta.token", token);
    socket = new WebSocket(`${wsUrl}?access_token=${encodeURIComponent(token)}`, "venta.v1.json");
    socket.onopen = () => { connEl.textContent = "live"; connEl.className = "on"; retry = 500; scheduleWatch(); };
    socket.onmessage = (e) => String(e.data).split("\n").forEach(onMessage);
    socket.onclose = (e) => {
      connEl.textContent = `offline (${e.code}${e.reason ? " " + e.reason : ""})`;
      connEl.className = "off";
      if (e.code === 1008 || e.code === 4401) { document.getElementById("auth").hidden = false; return; }
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10000);
    };
  }
  document.getElementById("auth").addEventListener("submit", (e) => {
    e.preventDefault();
    token = document.getElementById("token").value.trim();
    document.getElementById("auth").hidden = true;
    connect();
  });

  // Pan and zoom.
  let drag = null;
  canvas.addEventListener("mousedown", (e) => { drag = [e.clientX, e.clientY]; canvas.style.cursor = "grabbing"; });
  addEventListener("mouseup", () => { drag = null; canvas.style.cursor = "grab"; });
  addEventListener("mousemove", (e) => {
    if (!drag) return;
    view.lng = wrapLng(view.lng - (e.clientX - drag[0]) * view.degPerPx);
    view.lat = Math.max(-85, Math.min(85, view.lat + (e.clientY - drag[1]) * latScale()));
    drag = [e.clientX, e.clientY];
    scheduleWatch();
  });
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    view.degPerPx = Math.max(0.00001, Math.min(1, view.degPerPx * (e.deltaY > 0 ? 1.25 : 0.8)));
    scheduleWatch();
  }, { passive: false });

  // A grid with coordinates as the basemap: a step of 1, 2 or 5 × 10^n degrees.
  function drawGrid() {
    const target = 120 * view.degPerPx;
    const p = Math.pow(10, Math.floor(Math.log10(target)));
    const step = [1, 2, 5, 10].map((k) => k * p).find((s) => s >= target);
    const b = bounds();
    ctx.strokeStyle = "#1d2a36"; ctx.fillStyle = "#4b5b6b"; ctx.lineWidth = 1; ctx.font = "11px monospace";
    const digits = Math.max(0, -Math.floor(Math.log10(step)));
    for (let lat = Math.ceil(b.sw.lat / step) * step; lat <= b.ne.lat; lat += step) {
      const [, y] = toScreen(lat, view.lng);
      ctx.beginPath(); ctx.moveTo(0, y); ctx.lineTo(innerWidth, y); ctx.stroke();
      ctx.fillText(lat.toFixed(digits), 4, y - 2);
    }
    const w = innerWidth * view.degPerPx;
    for (let lng = Math.ceil((view.lng - w / 2) / step) * step; lng <= view.lng + w / 2; lng += step) {
      const [x] = toScreen(view.lat, wrapLng(lng));
      ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, innerHeight); ctx.stroke();
      ctx.fillText(wrapLng(lng).toFixed(digits), x + 2, innerHeight - 24);
    }
  }

  function frame() {
    const now = performance.now();
    ctx.fillStyle = "#0f1720"; ctx.fillRect(0, 0, innerWidth, innerHeight);
    drawGrid();
    let shown = 0;
    ctx.font = "12px system-ui";
    for (const [id, v] of vendors) {
      const [lat, lng] = position(v, now);
      const [x, y] = toScreen(lat, lng);
      if (x < -20 || y < -20 || x > innerWidth + 20 || y > innerHeight + 20) continue;
      shown++;
      ctx.beginPath(); ctx.arc(x, y, 6, 0, 2 * Math.PI);
      ctx.fillStyle = v.online ? "#f5a623" : "#6b7785"; ctx.fill();
      ctx.fillStyle = v.online ? "#dbe4ee" : "#7c8a99";
      ctx.fillText(names.get(id) || id.slice(0, 8), x + 9, y + 4);
    }
    countEl.textContent = `${shown} vendor${shown === 1 ? "" : "s"}`;
    countEl.dataset.count = String(shown);
    requestAnimationFrame(frame);
  }

  // Read-only view of what the map shows, for the browser e2e test and for debugging.
  window.ventaMap = {
    positions: () => [...vendors].map(([id, v]) => ({ id, at: position(v, performance.now()), online: v.online })),
    name: (id) => names.get(id) || "",
  };

  addEventListener("resize", resize);
  resize();
  connect();
  requestAnimationFrame(frame);
})();
