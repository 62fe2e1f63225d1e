// until.mjs — the one polling wait of the e2e checks: run fn every 250 ms until it
// returns true; past ms, fail naming what was awaited and fn's last answer (what it
// returned instead of true, or what it threw), so a timeout says what was seen.
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function until(what, fn, ms = 30000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try { last = await fn(); if (last === true) return; } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`${what}: ${last instanceof Error ? last.stack : JSON.stringify(last)}`);
    await sleep(250);
  }
}
