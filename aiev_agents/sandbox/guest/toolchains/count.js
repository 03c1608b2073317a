// Preloaded into every JavaScript program (`node -r count.js main.js`): counts the assertions it
// makes, as evidence that its tests ran. Every function of the `assert`, `node:assert`,
// `assert/strict` and `node:assert/strict` modules (the module called as a function included)
// counts one assertion; `console.assert` counts one too, and a false one counts a failure (it
// only prints). At exit one line `__AIEV_HARNESS_<nonce>__ {"assertions": N, "test_failures": F}`
// goes to fd 3, the runner's report pipe. Evidence, not a boundary: a program could forge it.
'use strict';
const Module = require('module');
const fs = require('fs');

const counts = { assertions: 0, test_failures: 0 };
const ASSERT_MODULES = new Set(['assert', 'node:assert', 'assert/strict', 'node:assert/strict']);
const NOT_ASSERTIONS = new Set(['AssertionError', 'CallTracker']);
const proxies = new WeakMap();

function counted(target) {
  if (proxies.has(target)) return proxies.get(target);
  const proxy = new Proxy(target, {
    apply(fn, self, args) {
      counts.assertions += 1;
      return Reflect.apply(fn, self, args);
    },
    get(fn, name, receiver) {
      const value = Reflect.get(fn, name, receiver);
      if (typeof value !== 'function' || NOT_ASSERTIONS.has(name)) return value;
      return counted(value);
    },
  });
  proxies.set(target, proxy);
  return proxy;
}

const originalRequire = Module.prototype.require;
Module.prototype.require = function require(id) {
  const loaded = originalRequire.apply(this, arguments);
  return ASSERT_MODULES.has(id) ? counted(loaded) : loaded;
};

const consoleAssert = console.assert.bind(console);
console.assert = function assert(value, ...message) {
  counts.assertions += 1;
  if (!value) counts.test_failures += 1;
  return consoleAssert(value, ...message);
};

process.on('exit', () => {
  const line = `\n__AIEV_HARNESS_${process.env.AIEV_HARNESS_NONCE || ''}__ ${JSON.stringify(counts)}\n`;
  try {
    fs.writeSync(3, line);
  } catch (error) {
    // no report pipe (run outside the sandbox): nothing to report to
  }
});
