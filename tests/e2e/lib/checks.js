// checks.js — the one-line checks of the e2e scripts: `ok(cond, what)` prints "ok   what"
// or "FAIL what" and throws (the script then exits 1); `passed()` counts the oks.
'use strict';

function checks() {
  let n = 0;
  return {
    ok(cond, what) {
      if (!cond) {
        console.log(`FAIL ${what}`);
        throw new Error(`check failed: ${what}`);
      }
      n++;
      console.log(`ok   ${what}`);
    },
    passed: () => n,
  };
}

module.exports = { checks };
