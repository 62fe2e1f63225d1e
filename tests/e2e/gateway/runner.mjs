// runner.mjs — the little the gateway e2e scripts (run.mjs, images.mjs) share: named
// tests that report and go on after a failure, and the end of a run (stop the mesh,
// fail on a sanitizer report in the named processes' logs, exit 1 if anything failed).
export const results = [];

export async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push([name, true]);
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push([name, false]);
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}

// Runs main, then stops getMesh()'s mesh whatever happened, and exits.
export async function run(main, getMesh, logsToCheck = ['gateway'], cleanup = () => {}) {
  let failed = 0;
  try {
    await main();
  } catch (e) {
    console.log(`FAIL setup: ${e.stack || e}`);
    failed++;
  } finally {
    const mesh = getMesh();
    if (mesh) {
      await mesh.stop();
      for (const name of logsToCheck) {
        const log = mesh.log(name);
        if (/AddressSanitizer|LeakSanitizer|runtime error/.test(log)) {
          console.log(`FAIL sanitizer report in the ${name} log:\n` + log.slice(-6000));
          failed++;
        }
      }
      if (results.some(([, ok]) => !ok)) console.log(`logs kept in ${mesh.logDir}`);
    }
    cleanup();
  }
  failed += results.filter(([, ok]) => !ok).length;
  console.log(`${results.length - results.filter(([, ok]) => !ok).length} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
