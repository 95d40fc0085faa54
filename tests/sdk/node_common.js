'use strict';
// Shared plumbing of the Node SDK conformance scripts (tests/sdk/node*.js); the Python
// counterpart is sdkcheck.py and behaves the same way.
//
// Environment:
//   FNF_ENDPOINT           host:port of the fnf-server under test (required)
//   FNF_ACCESS_KEY_ID      / FNF_ACCESS_KEY_SECRET (default: the public development key)
//   FNF_RUN_ID             suffix for flow names (default: random)
//   FNF_REGION             region the server serves (default cn-hangzhou)
//   FNF_SDK_NODE_MODULES   node_modules holding @alicloud/fnf-2019-03-15
//                          (default: NODE_PATH resolution, then target/sdk-node/node_modules)
//   FNF_SDK_ALLOW_REMOTE   1 to allow an endpoint that is not a loopback address
//
// Prints `ok <n> <check>` per check and `OK <n> checks`; exits 1 on the first failed check,
// 2 when FNF_ENDPOINT is unset or nothing listens there.

const crypto = require('crypto');
const net = require('net');
const path = require('path');

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const REQUEST_ID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;
const TERMINAL = ['Succeeded', 'Failed', 'Stopped', 'TimedOut'];

class CheckFailed extends Error {}

function die(script, message) {
  process.stderr.write(`FAIL ${script}: ${message}\n`);
  process.exit(2);
}

function sdkRequire(name) {
  const base = process.env.FNF_SDK_NODE_MODULES;
  if (base) return require(path.resolve(base, name));
  try {
    return require(name);
  } catch (e) {
    return require(path.resolve(__dirname, '..', '..', 'target', 'sdk-node', 'node_modules', name));
  }
}

function isLoopback(host) {
  if (host === 'localhost' || host === '::1') return true;
  return net.isIPv4(host) && host.startsWith('127.');
}

function readEnv(script) {
  const endpoint = (process.env.FNF_ENDPOINT || '').trim();
  if (!endpoint) die(script, 'FNF_ENDPOINT is not set (want host:port of the fnf-server under test, e.g. 127.0.0.1:8089)');
  if (endpoint.includes('://')) die(script, `FNF_ENDPOINT=${endpoint} must be host:port without a scheme`);
  const colon = endpoint.lastIndexOf(':');
  const host = endpoint.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(endpoint.slice(colon + 1));
  if (colon < 1 || !Number.isInteger(port)) die(script, `FNF_ENDPOINT=${endpoint} is not host:port`);
  if (/aliyuncs\.com$|aliyun\.com$/.test(host)) {
    die(script, `refusing to point the SDK at ${host}: the target must be a local fnf-server`);
  }
  if (!isLoopback(host) && process.env.FNF_SDK_ALLOW_REMOTE !== '1') {
    die(script, `FNF_ENDPOINT host ${host} is not a loopback address (set FNF_SDK_ALLOW_REMOTE=1 to allow it)`);
  }
  const runId = (process.env.FNF_RUN_ID || crypto.randomBytes(6).toString('hex'))
    .replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);
  return {
    script,
    endpoint,
    host,
    port,
    accessKeyId: process.env.FNF_ACCESS_KEY_ID || 'fnf-dev-access-key-id',
    accessKeySecret: process.env.FNF_ACCESS_KEY_SECRET || 'fnf-dev-access-key-secret',
    region: process.env.FNF_REGION || 'cn-hangzhou',
    runId,
    name(tag) {
      return `${script}_${runId}_${tag}`.slice(0, 128);
    },
  };
}

function preflight(env) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: env.host, port: env.port });
    socket.setTimeout(3000);
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    const fail = (why) => {
      socket.destroy();
      die(env.script, `nothing listens on FNF_ENDPOINT=${env.endpoint} (${why}); start fnf-server there first`);
    };
    socket.once('timeout', () => fail('connect timed out'));
    socket.once('error', (e) => fail(`${e.code || e.name}: ${e.message}`));
  });
}

class Checker {
  constructor(env) {
    this.env = env;
    this.count = 0;
    this.step = 'start';
  }

  at(step) {
    this.step = step;
  }

  ok(name) {
    this.count += 1;
    process.stdout.write(`ok ${this.count} ${name}\n`);
  }

  fail(name, why) {
    throw new CheckFailed(`${name}: ${why}`);
  }

  check(name, cond, why) {
    if (!cond) this.fail(name, why || 'condition is false');
    this.ok(name);
  }

  eq(name, got, want) {
    const g = JSON.stringify(got);
    const w = JSON.stringify(want);
    if (g !== w) this.fail(name, `got ${g}, want ${w}`);
    this.ok(name);
  }

  jsonEq(name, text, want) {
    let got;
    try {
      got = JSON.parse(text);
    } catch (e) {
      this.fail(name, `not JSON text (${e.message}): ${JSON.stringify(text)}`);
    }
    this.eq(name, canonical(got), canonical(want));
  }

  time(name, value) {
    if (typeof value !== 'string' || !RFC3339.test(value)) this.fail(name, `not an RFC 3339 UTC time: ${JSON.stringify(value)}`);
    this.ok(name);
  }

  requestId(name, value) {
    if (typeof value !== 'string' || !REQUEST_ID.test(value)) this.fail(name, `not an upper-case UUID request id: ${JSON.stringify(value)}`);
    this.ok(name);
  }

  // fn must reject; match(error) returns null when it is the expected error, else a reason.
  async rejects(name, fn, match) {
    let result;
    try {
      result = await fn();
    } catch (e) {
      if (e instanceof CheckFailed) throw e;
      const why = match(e);
      if (why) this.fail(name, `${why} (got ${e.name}: ${e.message})`);
      this.ok(name);
      return e;
    }
    return this.fail(name, `expected an error, got success: ${JSON.stringify(result)}`);
  }
}

// Sorts object keys so that JSON texts compare as values.
function canonical(value) {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    const out = {};
    for (const key of Object.keys(value).sort()) out[key] = canonical(value[key]);
    return out;
  }
  return value;
}

// How pop-core reports an error answer: an Error named `<Code>Error` with .code and .data
// (the parsed body); the HTTP status is only in .entry.response.statusCode.
function apiError(code, status, mentions = []) {
  return (e) => {
    if (e.code !== code) return `code ${JSON.stringify(e.code)}, want ${code}`;
    if (e.name !== `${code}Error`) return `error name ${e.name}, want ${code}Error`;
    const got = e.entry && e.entry.response && e.entry.response.statusCode;
    if (got !== status) return `HTTP status ${got}, want ${status}`;
    const data = e.data || {};
    if (typeof data.RequestId !== 'string' || !data.RequestId) return 'no RequestId in the error body';
    if (typeof data.Message !== 'string') return 'no string Message in the error body';
    for (const word of mentions) {
      if (!data.Message.includes(word)) return `message ${JSON.stringify(data.Message)} does not mention ${word}`;
    }
    return null;
  };
}

async function poll(c, name, fetch, done, deadlineMs = 20000, intervalMs = 250) {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const result = await fetch();
    if (done(result)) return result;
    if (Date.now() >= end) c.fail(name, `not reached within ${deadlineMs / 1000} s; last: ${JSON.stringify(result)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function findKey(value, key) {
  if (Array.isArray(value)) {
    for (const v of value) {
      const f = findKey(v, key);
      if (f !== null) return f;
    }
  } else if (value && typeof value === 'object') {
    if (typeof value[key] === 'string') return value[key];
    for (const v of Object.values(value)) {
      const f = findKey(v, key);
      if (f !== null) return f;
    }
  }
  return null;
}

function run(script, main) {
  const env = readEnv(script);
  const c = new Checker(env);
  preflight(env)
    .then(() => main(env, c))
    .then(() => {
      process.stdout.write(`OK ${c.count} checks\n`);
      process.exit(0);
    })
    .catch((e) => {
      if (e instanceof CheckFailed) {
        process.stderr.write(`FAIL ${e.message}  [${script} against FNF_ENDPOINT=${env.endpoint}]\n`);
      } else {
        process.stderr.write(`${e.stack || e}\n`);
        process.stderr.write(`FAIL ${c.step}: unexpected ${e.name}: ${e.message}  [${script} against FNF_ENDPOINT=${env.endpoint}]\n`);
      }
      process.exit(1);
    });
}

// Flow definitions (worked examples also in tests/common/definitions.rs): CF-1 pass, FDL-1, Wait, CF-12 on a nested flow.
function passSm(name, states = 1) {
  const lines = ['Type: StateMachine', `Name: ${name}`, 'SpecVersion: v1', 'StartAt: Greet', 'States:'];
  for (let i = 0; i < states; i++) {
    lines.push('  - Type: Pass', `    Name: ${i === 0 ? 'Greet' : `Again${i}`}`);
    lines.push(i + 1 < states ? `    Next: Again${i + 1}` : '    End: true');
  }
  return `${lines.join('\n')}\n`;
}

const PASS_FDL = 'version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: p\n';

function waitSm(name, seconds) {
  return `Type: StateMachine\nName: ${name}\nSpecVersion: v1\nStartAt: Hold\nStates:\n`
    + `  - Type: Wait\n    Name: Hold\n    Seconds: ${seconds}\n    End: true\n`;
}

function callbackSm(name, childFlow, region) {
  return `Type: StateMachine\nName: ${name}\nSpecVersion: v1\nStartAt: Approve\nStates:\n`
    + '  - Type: Task\n    Name: Approve\n    Action: FNF:StartExecution\n'
    + '    TaskMode: WaitForCustomCallback\n    Parameters:\n'
    + `      resourceArn: acs:fnf:${region}:1234567890123456:flow/${childFlow}\n`
    + '      input:\n        token.$: $Context.Current.TaskToken\n        orderId.$: $Input.orderId\n'
    + '    End: true\n';
}

module.exports = {
  RFC3339,
  TERMINAL,
  apiError,
  callbackSm,
  findKey,
  passSm,
  PASS_FDL,
  poll,
  run,
  sdkRequire,
  waitSm,
};
