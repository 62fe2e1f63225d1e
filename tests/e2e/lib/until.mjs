// until.mjs — the one polling wait of the e2e checks: run fn every 250 ms until it
// answers; past ms, fail naming what was awaited and fn's last answer (what it returned
// instead, or what it threw), so a timeout says what was seen.
//   until(what, fn, ms)       waits for fn to return true
//   untilValue(what, fn, ms)  waits for a truthy answer, and returns it
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function poll(what, fn, ms, done) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try { last = await fn(); if (done(last)) return last; } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`${what}: ${last instanceof Error ? last.stack : JSON.stringify(last)}`);
    await sleep(250);
  }
}

export async function until(what, fn, ms = 30000) {
  await poll(what, fn, ms, (v) => v === true);
}

export function untilValue(what, fn, ms = 30000) {
  return poll(what, fn, ms, (v) => Boolean(v) && !(v instanceof Error));
}
