/**
 * The guest-side glue, evaluated when a QuickJS context is booted, before any script exists.
 *
 * The boot part runs first, so it captures the primordials the glue needs before any user code
 * exists; then it removes code generation (`eval`, `Function` and its siblings) and the globals
 * outside the allowlist, freezes the intrinsics and the global object, and installs `tools`,
 * `console`, `context`, `ToolError` and `ApprovalDeniedError` as read-only globals.
 *
 * The parts behind the injected globals are made for each script the first time it reads the
 * global (a getter calls the host, which calls the part's factory with the script's data). A warm
 * sandbox (snapshot.ts) compiles every part at boot, once; a context booted for a single script
 * compiles only the parts that script uses (QuickJS compiles about 90 µs per KB of source in
 * WebAssembly), and the error reader only when the script fails.
 *
 * Everything the glue hands the host is a string it built itself, so the host never touches a
 * guest object: no getter, Proxy trap or `toJSON` of the script ever runs on the host side.
 */
export const GLUE_FILENAME = 'harness-glue.js';

/** Globals the harness adds for the script. */
export const INJECTED_GLOBALS = ['tools', 'console', 'context', 'ToolError', 'ApprovalDeniedError'] as const;
export type InjectedGlobal = (typeof INJECTED_GLOBALS)[number];

/** Globals removed from every context: code generation, GC observation, shared memory. */
export const REMOVED_GLOBALS = [
  'eval',
  'WeakRef',
  'FinalizationRegistry',
  'SharedArrayBuffer',
  'Atomics',
  'WebAssembly',
] as const;

/**
 * `(hostLoad) => run`. `hostLoad(name)` returns the value of an injected global for the current
 * script (undefined when its part could not be made because the script was at its stack or memory
 * limit: the getter then throws, caches nothing, and tries again on next use);
 * `run(fn, runJson)` seeds `Math.random` from `runJson` (the caps and four random 32-bit words from
 * the host), calls the compiled script function and resolves to `{"ok":true}` or
 * `{"ok":true,"value":<json>}`, or to a described failure.
 *
 * `Math.random` is the glue's own xoshiro128** generator, seeded by the host for every script: a
 * sandbox restored from a snapshot would otherwise replay the snapshot's sequence in every script.
 */
export const BOOT_SOURCE = `(function (hostLoad) {
'use strict';
const G = globalThis, O = Object, freeze = O.freeze, define = O.defineProperty, protoOf = O.getPrototypeOf;
const fnProtos = [protoOf(function () {}), protoOf(async function () {}), protoOf(function* () {}), protoOf(async function* () {})];
for (const p of fnProtos) {
  const blocked = function () { throw new TypeError('code generation from strings is not available in the sandbox'); };
  define(blocked, 'prototype', { value: p });
  define(p, 'constructor', { value: blocked });
}
define(G, 'Function', { value: fnProtos[0].constructor });
for (const name of ${JSON.stringify(REMOVED_GLOBALS)}) delete G[name];
let s0 = 1, s1 = 2, s2 = 3, s3 = 4;
const imul = Math.imul;
define(Math, 'random', { value: freeze({ random() {
  let r = 0;
  for (let i = 5; i < 7; i++) {
    const x = imul(s1, 5), t = s1 << 9;
    r = r * 67108864 + (imul(x << 7 | x >>> 25, 9) >>> i);
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = s3 << 11 | s3 >>> 21;
  }
  return r / 9007199254740992;
} }.random) });
for (const v of [fnProtos[1], fnProtos[2], fnProtos[3], protoOf(fnProtos[2].prototype), protoOf(fnProtos[3].prototype),
  protoOf(protoOf(fnProtos[3].prototype)), protoOf([][Symbol.iterator]()), protoOf(protoOf([][Symbol.iterator]())),
  protoOf(new Map()[Symbol.iterator]()), protoOf(new Set()[Symbol.iterator]()), protoOf(''[Symbol.iterator]()),
  protoOf(''.matchAll(/a/g)), protoOf(Int8Array), protoOf(Int8Array.prototype), O, Array, Promise, Reflect, JSON, Symbol, Proxy, Math]) freeze(v);
for (const name of O.getOwnPropertyNames(G)) {
  const v = G[name];
  if (typeof v === 'function' && v.prototype) freeze(v.prototype);
}
const loaded = O.create(null);
for (const name of ${JSON.stringify(INJECTED_GLOBALS)}) {
  define(G, name, { get: freeze(function () {
    if (name in loaded) return loaded[name];
    const v = hostLoad(name);
    if (v === undefined) throw new RangeError(name + ' is unavailable at the stack or memory limit');
    return (loaded[name] = v);
  }) });
}
freeze(G);
let maxChars = 0;
const fail = (message, preview) => JSON.stringify({ ok: false, name: 'Error', code: preview === undefined ? 'SERIALIZATION' : 'OUTPUT_LIMIT', message, preview });
return function run(fn, runJson) {
  const settings = JSON.parse(runJson);
  maxChars = settings.outputChars;
  [s0, s1, s2, s3] = settings.seed;
  return fn().then(function (value) {
    if (value === undefined) return '{"ok":true}';
    if (typeof value === 'function' || typeof value === 'symbol') return fail('the script returned a ' + typeof value + '; return plain data');
    let json;
    try { json = JSON.stringify(value); } catch (e) {}
    if (json === undefined) return fail('the returned value is not JSON-compatible data');
    if (json.length > maxChars) return fail('the returned value is larger than ' + maxChars + ' bytes', json.slice(0, maxChars));
    return '{"ok":true,"value":' + json + '}';
  });
};
})`;

/**
 * The parts below are compiled after the script may have run. They use the globals directly: the
 * boot part froze every object they touch (Object, Array, Promise, Reflect, JSON, the prototypes)
 * and the global object itself, so nothing they rely on can have been replaced.
 */

/**
 * `(hostCall, toolsJson, capsJson) => { tools, ToolError, ApprovalDeniedError }`; `toolsJson` is
 * `{"names":[…],"budget":N}`. The host refuses calls over the budget; past the budget plus a margin
 * (for calls the host does not count, such as unknown names) the glue refuses them itself, so a
 * flood of calls never crosses to the host (and is refused cheaply: no stack, no serialisation).
 * Names longer than any tool's never cross either: the host would spend time suggesting names.
 */
export const TOOLS_SOURCE = `(function (hostCall, toolsJson, capsJson) {
'use strict';
const maxArgs = JSON.parse(capsJson).toolArgsChars, freeze = Object.freeze, define = Object.defineProperty;
const spec = JSON.parse(toolsJson), budget = spec.budget;
function deepFreeze(v) {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) { freeze(v); for (const k of Reflect.ownKeys(v)) deepFreeze(v[k]); }
  return v;
}
class ToolError extends Error {
  constructor(code, message, details, stack) {
    super(message);
    define(this, 'code', { value: code, enumerable: true });
    if (details !== undefined) define(this, 'details', { value: deepFreeze(details), enumerable: true });
    define(this, 'stack', { value: this.name + ': ' + message + '\\n' + stack });
  }
}
define(ToolError.prototype, 'name', { value: 'ToolError' });
class ApprovalDeniedError extends ToolError {}
define(ApprovalDeniedError.prototype, 'name', { value: 'ApprovalDeniedError' });
let callCount = 0;
function callTool(name, args) {
  if (budget !== undefined && callCount >= budget + 64) return Promise.reject(new ToolError('TOOL_BUDGET', 'the script made more than ' + budget + ' tool calls', { maxToolCalls: budget }, ''));
  let json;
  try { json = args === undefined ? '' : JSON.stringify(args); } catch (e) {}
  const stack = new Error().stack;
  if (name.length > 1000) return Promise.reject(new ToolError('TOOL_NOT_FOUND', 'tools.' + name.slice(0, 64) + '… does not exist', undefined, stack));
  if (json === undefined) return Promise.reject(new ToolError('SERIALIZATION', 'arguments of tools.' + name + ' must be JSON-compatible data', undefined, stack));
  if (json.length > maxArgs) return Promise.reject(new ToolError('TOOL_VALIDATION', 'arguments of tools.' + name + ' are larger than ' + maxArgs + ' bytes', undefined, stack));
  return hostCall(++callCount, name, json).then(function (replyJson) {
    const reply = JSON.parse(replyJson);
    if (reply.ok) return deepFreeze(reply.value);
    const E = reply.error.code === 'APPROVAL_DENIED' ? ApprovalDeniedError : ToolError;
    throw new E(reply.error.code, reply.error.message, reply.error.details, stack);
  });
}
function namespace(prefix, tree) {
  const target = Object.create(null);
  for (const key of Reflect.ownKeys(tree)) {
    const full = prefix + key;
    target[key] = tree[key] === true ? freeze(function (args) { return callTool(full, args); }) : namespace(full + '.', tree[key]);
  }
  return new Proxy(freeze(target), {
    get: (t, key) => Object.hasOwn(t, key) ? t[key] : typeof key !== 'string' || key === 'then' ? undefined : function (args) { return callTool(prefix + key, args); },
    set: () => false, defineProperty: () => false, deleteProperty: () => false, setPrototypeOf: () => false,
  });
}
const tree = Object.create(null);
for (const name of spec.names) {
  const parts = name.split('.');
  let node = tree;
  for (let i = 0; i < parts.length - 1; i++) node = Object.hasOwn(node, parts[i]) ? node[parts[i]] : (node[parts[i]] = Object.create(null));
  node[parts[parts.length - 1]] = true;
}
freeze(ToolError); freeze(ToolError.prototype); freeze(ApprovalDeniedError); freeze(ApprovalDeniedError.prototype);
return freeze({ tools: namespace('', tree), ToolError, ApprovalDeniedError });
})`;

/** `(hostEmit, contextJson, capsJson) => { console, context }`: console lines and progress go to the host as strings. */
export const IO_SOURCE = `(function (hostEmit, contextJson, capsJson) {
'use strict';
const maxLine = JSON.parse(capsJson).consoleLineChars, freeze = Object.freeze;
function format(args) {
  const parts = [];
  for (const a of args) {
    let text;
    try { text = typeof a === 'string' ? a : typeof a === 'object' && a !== null ? JSON.stringify(a) : String(a); } catch (e) { text = '[unprintable]'; }
    parts.push(text === undefined ? typeof a : text);
  }
  const line = parts.join(' ');
  return line.length > maxLine ? line.slice(0, maxLine) : line;
}
const console = Object.create(null);
for (const level of ['log', 'info', 'warn', 'error', 'debug']) console[level] = freeze(function (...args) { hostEmit('console', level, format(args)); });
function deepFreeze(v) {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) { freeze(v); for (const k of Reflect.ownKeys(v)) deepFreeze(v[k]); }
  return v;
}
const context = JSON.parse(contextJson);
context.emitProgress = freeze(function (message) { hostEmit('progress', 'info', format([message])); });
return freeze({ console: freeze(console), context: deepFreeze(context) });
})`;

/**
 * Compiled only when a script fails: reads `name`, `message`, `stack` and (for tool errors)
 * `code` of whatever was thrown, following own data properties up the prototype chain so that no
 * getter of the script runs, and returns them as a JSON string. Everything it uses is frozen by
 * then, so the script cannot have redirected it.
 */
export const DESCRIBE_SOURCE = `(function (error, ToolErrorClass) {
'use strict';
function read(obj, key) {
  try {
    for (let o = obj, depth = 0; o !== null && depth < 32; depth++, o = Object.getPrototypeOf(o)) {
      const d = Object.getOwnPropertyDescriptor(o, key);
      if (d !== undefined) return Object.hasOwn(d, 'value') && typeof d.value === 'string' ? d.value : undefined;
    }
  } catch (e) {}
  return undefined;
}
try {
  let name = 'Uncaught', message = '', stack, code;
  if (error !== null && (typeof error === 'object' || typeof error === 'function')) {
    name = read(error, 'name') ?? 'Error';
    message = read(error, 'message') ?? '';
    stack = read(error, 'stack');
    // Not instanceof: that would consult Symbol.hasInstance, which the script may have redefined on Error.
    try { for (let p = Object.getPrototypeOf(error), d = 0; ToolErrorClass !== undefined && p !== null && d < 32; d++, p = Object.getPrototypeOf(p)) if (p === ToolErrorClass.prototype) { code = read(error, 'code'); break; } } catch (e) {}
  } else if (error === null) {
    name = 'null';
  } else {
    try { message = String(error); } catch (e) { message = typeof error; }
  }
  return JSON.stringify({ ok: false, name: name.slice(0, 128), message: message.slice(0, 4096), stack: stack === undefined ? undefined : stack.slice(0, 8192), code });
} catch (e) {
  return '{"ok":false,"name":"Error","message":"[an error that could not be read]"}';
}
})`;
