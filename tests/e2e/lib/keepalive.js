// keepalive.js — the keep-alive check both HTTP edges must pass (libs/http/keepalive.c).
//
// A kept-alive HTTP connection (Node's agent reuses one for up to 5 s) must never be
// hung up while a client may still reuse it, even when the server's loop is busy:
// libuv runs due timers before it reads sockets, so an idle timeout equal to the
// client's dropped requests that came in while the loop was working (the e2e-ws flake:
// "socket hang up" from /metrics after the slow-reader burst). The server advertises
// its timeout and closes only a grace period later; SIGSTOP stands in for a busy loop
// from just before the advertised timeout to past it.
'use strict';
const net = require('net');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Returns { hint, first, second }: the advertised timeout in seconds and whether the
// request before the idle period and the one reused after it were answered 200.
async function keepAliveWhileBusy({ host, port, pid, path = '/healthz' }) {
  const s = net.connect(Number(port), host);
  let buf = '', closed = false;
  s.on('data', (d) => { buf += d; });
  s.on('close', () => { closed = true; });
  s.on('error', () => {});
  const req = `GET ${path} HTTP/1.1\r\nHost: venta\r\n\r\n`;
  const answered = async () => {
    for (let i = 0; i < 500 && !closed; i++) {
      const head = buf.indexOf('\r\n\r\n');
      const len = Number((buf.match(/^content-length: *(\d+)/im) || [])[1]);
      if (head >= 0 && buf.length >= head + 4 + len) break;
      await sleep(20);
    }
    return /^HTTP\/1\.1 200/.test(buf);
  };
  s.write(req);
  const first = await answered();
  const hint = Number((buf.match(/^keep-alive: *timeout=(\d+)/im) || [])[1]);
  buf = '';
  await sleep(((hint || 5) * 1000) - 1500);
  process.kill(pid, 'SIGSTOP');
  try {
    await sleep(1000);
    s.write(req); // before the advertised timeout: a client may reuse the connection
    await sleep(1500); // the loop "busy" until past the advertised timeout
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  const second = await answered();
  s.destroy();
  return { hint, first, second };
}

module.exports = { keepAliveWhileBusy };
