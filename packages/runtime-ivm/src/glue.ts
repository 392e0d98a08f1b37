/**
 * The guest-side glue, evaluated in every fresh V8 context before the script exists.
 *
 * It captures what it needs, removes code generation (`eval`, `Function` and its siblings), keeps
 * only the allowlisted globals, locks V8's stack-trace hooks, freezes the intrinsics and the global
 * object, and installs `tools`, `console`, `context`, `ToolError` and `ApprovalDeniedError` as
 * read-only globals that are built on first use (a script that never logs never parses its
 * context). It returns one function the host drives through a reference:
 *
 * - `glue('start', fn, toolNamesJson, contextJson, capsJson)` calls the compiled script function;
 * - `glue('deliver', callIds, replies)` resolves the promises of answered tool calls;
 * - `glue('status')` reports `[envelope | null, awaitedCalls, callsMade, linesEmitted]`.
 *
 * Everything the glue hands the host is a string or a number it built itself: the host never
 * touches a guest object, so no getter, Proxy trap or `toJSON` of the script ever runs on the host.
 * The result, and the description of a failure, are built inside the isolate, in the promise
 * reactions of the script, so they run under the script's deadline and memory limit.
 */
export const GLUE_FILENAME = 'harness-glue.js';

/** Globals the harness adds for the script. */
export const INJECTED_GLOBALS = ['tools', 'console', 'context', 'ToolError', 'ApprovalDeniedError'] as const;

/**
 * The standard globals a script keeps; every other own property of the global object is deleted
 * (V8's `console`, `eval`, `WebAssembly`, `SharedArrayBuffer`, `Atomics`, `WeakRef`,
 * `FinalizationRegistry`, and whatever a later V8 adds).
 */
export const KEPT_GLOBALS = [
  'globalThis',
  'Infinity',
  'NaN',
  'undefined',
  'isFinite',
  'isNaN',
  'parseFloat',
  'parseInt',
  'decodeURI',
  'decodeURIComponent',
  'encodeURI',
  'encodeURIComponent',
  'escape',
  'unescape',
  'Object',
  'Function',
  'Array',
  'Number',
  'Boolean',
  'String',
  'Symbol',
  'BigInt',
  'Math',
  'JSON',
  'Reflect',
  'Proxy',
  'Promise',
  'Date',
  'RegExp',
  'Map',
  'Set',
  'WeakMap',
  'WeakSet',
  'Iterator',
  'ArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float16Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
  'Error',
  'EvalError',
  'RangeError',
  'ReferenceError',
  'SyntaxError',
  'TypeError',
  'URIError',
  'AggregateError',
  'SuppressedError',
  'DisposableStack',
  'AsyncDisposableStack',
  'Intl',
] as const;

/**
 * Nesting beyond which `JSON.parse` throws `RangeError: Maximum call stack size exceeded`. V8
 * parses JSON iteratively, so it would build a value nested deeper than its own (recursive)
 * `JSON.stringify` can serialise, which then fails only when the script returns it; QuickJS
 * overflows its stack while parsing. Refusing at parse time keeps the two runtimes alike. Only
 * texts longer than twice this many characters can nest this deep, so shorter ones are not walked.
 */
export const MAX_JSON_PARSE_DEPTH = 10_000;

/** Proxy chains deeper than this are refused like a stack overflow (QuickJS overflows on them; V8 would walk them). */
export const MAX_PROXY_DEPTH = 10_000;

/**
 * Tool calls the glue lets through past the budget the script's context announces: the host
 * refuses calls over the budget itself; the glue refuses the rest without crossing, so a flood of
 * calls costs the host nothing (calls the host does not count, such as unknown names, included).
 */
export const TOOL_BUDGET_MARGIN = 64;

/**
 * `(hostCall, hostEmit, memoryBytes) => glue`. `hostCall` and `hostEmit` are references to host
 * functions, called fire-and-forget with strings and numbers only. `memoryBytes` is the script's
 * memory limit: a string built by `repeat`, `padStart` or `padEnd` that could not fit in it is
 * refused like a failed allocation (V8 keeps such strings as cheap ropes until first used, and then
 * allocates them whole, past the limit), and so is memory of resizable ArrayBuffers (V8 commits it
 * outside the allocator isolated-vm limits).
 */
export const BOOT_SOURCE = `(function (hostCall, hostEmit, memoryBytes) {
'use strict';
const G = globalThis, O = Object, R = Reflect, freeze = O.freeze, define = O.defineProperty, protoOf = O.getPrototypeOf;
const ownDescriptor = O.getOwnPropertyDescriptor, hasOwn = O.hasOwn, isFrozen = O.isFrozen, create = O.create;
const apply = R.apply, ownKeys = R.ownKeys, isArray = Array.isArray;
const parseJson = JSON.parse, toJson = JSON.stringify, promiseThen = Promise.prototype.then;
const callIgnored = hostCall.applyIgnored, emitIgnored = hostEmit.applyIgnored;
const stackGetter = ownDescriptor(new Error(), 'stack').get;

// Code generation: every function constructor is replaced by one that refuses.
const fnProtos = [protoOf(function () {}), protoOf(async function () {}), protoOf(function* () {}), protoOf(async function* () {})];
for (const p of fnProtos) {
  const blocked = function () { throw new TypeError('code generation from strings is not available in the sandbox'); };
  define(blocked, 'prototype', { value: p });
  define(p, 'constructor', { value: blocked });
}
define(G, 'Function', { value: fnProtos[0].constructor });

// Globals: the allowlist, nothing else.
const kept = new Set(${JSON.stringify(KEPT_GLOBALS)});
for (const key of ownKeys(G)) if (typeof key === 'string' && !kept.has(key)) delete G[key];

// V8's stack-trace hooks. Error.prepareStackTrace reads as undefined and cannot be set, so no
// formatter of the script can ever receive call sites (which expose functions and receivers). While
// the glue itself reads a stack, V8 gets the glue's formatter instead: it writes V8's usual frames
// but takes the header from data properties only, so the glue reading a stack never runs a getter
// of the script. No captureStackTrace (QuickJS has none), a fixed depth, and instanceof on Error
// (and so on ToolError) that the script cannot redirect.
const hasInstance = Function.prototype[Symbol.hasInstance], isError = Error.isError;
const dataOf = function (obj, key) {
  // Own data properties up the prototype chain; an accessor, or anything odd, counts as absent.
  try {
    for (let o = obj, depth = 0; o !== null && depth < 32; depth++, o = protoOf(o)) {
      const d = ownDescriptor(o, key);
      if (d !== undefined) return hasOwn(d, 'value') && typeof d.value === 'string' ? d.value : undefined;
    }
  } catch (e) {}
  return undefined;
};
const formatStack = { prepareStackTrace(error, sites) {
  const name = dataOf(error, 'name') ?? 'Error', message = dataOf(error, 'message') ?? '';
  let text = name === '' ? message : message === '' ? name : name + ': ' + message;
  if (isArray(sites)) for (let i = 0; i < sites.length; i++) {
    try { text += '\\n    at ' + sites[i].toString(); } catch (e) {}
  }
  return text;
} }.prepareStackTrace;
let glueReadsStack = false;
const stackOf = function (error) {
  glueReadsStack = true;
  try { return apply(stackGetter, error, []); } finally { glueReadsStack = false; }
};
delete Error.captureStackTrace;
define(Error, 'prepareStackTrace', { get: freeze(function () { return glueReadsStack ? formatStack : undefined; }), enumerable: false, configurable: false });
define(Error, Symbol.hasInstance, { value: hasInstance, writable: false, enumerable: false, configurable: false });
define(Error, 'stackTraceLimit', { value: 10, writable: false, enumerable: false, configurable: false });

// Allocations V8 would make past the memory limit fail like allocations QuickJS cannot make.
const memoryErrors = new WeakSet();
const outOfMemory = function (what) {
  const error = new RangeError('out of memory: ' + what + ' would not fit in the memory limit');
  memoryErrors.add(error);
  return error;
};
const SP = String.prototype, nativeRepeat = SP.repeat, nativePadStart = SP.padStart, nativePadEnd = SP.padEnd;
const sized = function (s) { if (s.length > memoryBytes) throw outOfMemory('the string'); return s; };
define(SP, 'repeat', { value: { repeat(count) { return sized(apply(nativeRepeat, this, [count])); } }.repeat });
define(SP, 'padStart', { value: { padStart(length, fill) { return sized(apply(nativePadStart, this, [length, fill])); } }.padStart });
define(SP, 'padEnd', { value: { padEnd(length, fill) { return sized(apply(nativePadEnd, this, [length, fill])); } }.padEnd });
const NativeArrayBuffer = ArrayBuffer, ABP = NativeArrayBuffer.prototype, construct = R.construct;
const nativeResize = ABP.resize, nativeTransfer = ABP.transfer;
const byteLengthOf = ownDescriptor(ABP, 'byteLength').get, isResizable = ownDescriptor(ABP, 'resizable').get;
let resizableBytes = 0;
const trunc = Math.trunc, toNumber = Number;
const toLength = function (value) { const n = trunc(toNumber(value)); return n === n ? n : 0; };
const commit = function (bytes) {
  if (bytes <= 0) return;
  if (resizableBytes + bytes > memoryBytes) throw outOfMemory('the ArrayBuffer');
  resizableBytes += bytes;
};
const GuardedArrayBuffer = new Proxy(NativeArrayBuffer, { construct(target, args, newTarget) {
  const options = args[1], length = toLength(args[0]);
  const max = options !== null && typeof options === 'object' ? options.maxByteLength : undefined;
  if (max === undefined) return construct(target, [length], newTarget);
  commit(length);
  return construct(target, [length, { maxByteLength: max }], newTarget);
} });
define(ABP, 'constructor', { value: GuardedArrayBuffer });
define(G, 'ArrayBuffer', { value: GuardedArrayBuffer });
define(ABP, 'resize', { value: { resize(newLength) {
  const length = toLength(newLength);
  const grown = length - apply(byteLengthOf, this, []);
  apply(nativeResize, this, [length]);
  commit(grown);
} }.resize });
define(ABP, 'transfer', { value: { transfer(newLength) {
  const before = apply(byteLengthOf, this, []), length = newLength === undefined ? before : toLength(newLength);
  if (apply(isResizable, this, [])) commit(length - before);
  return apply(nativeTransfer, this, [length]);
} }.transfer });
const overflow = function () { return new RangeError('Maximum call stack size exceeded'); };
const NativeProxy = Proxy, nativeRevocable = Proxy.revocable, proxyDepth = new WeakMap();
const proxyLevel = function (target) { const d = proxyDepth.get(target); return (d === undefined ? 0 : d) + 1; };
define(NativeProxy, 'revocable', { value: { revocable(target, handler) {
  const level = proxyLevel(target);
  if (level > ${MAX_PROXY_DEPTH}) throw overflow();
  const made = nativeRevocable(target, handler);
  proxyDepth.set(made.proxy, level);
  return made;
} }.revocable });
define(G, 'Proxy', { value: new NativeProxy(NativeProxy, { construct(target, args, newTarget) {
  const level = proxyLevel(args[0]);
  if (level > ${MAX_PROXY_DEPTH}) throw overflow();
  const made = construct(target, args, newTarget);
  proxyDepth.set(made, level);
  return made;
} }) });
const checkDepth = function (root) {
  const stack = [root, 1];
  while (stack.length > 0) {
    const depth = stack.pop(), value = stack.pop();
    if (depth > ${MAX_JSON_PARSE_DEPTH}) throw overflow();
    if (isArray(value)) { for (let i = 0; i < value.length; i++) { const v = value[i]; if (v !== null && typeof v === 'object') stack.push(v, depth + 1); } }
    else for (const key in value) { const v = value[key]; if (v !== null && typeof v === 'object') stack.push(v, depth + 1); }
  }
};
define(JSON, 'parse', { value: { parse(text, reviver) {
  const value = parseJson(text, reviver);
  // A reviver makes V8 walk the result recursively, which overflows on its own.
  if (typeof reviver !== 'function' && value !== null && typeof value === 'object' && (typeof text !== 'string' || text.length > ${2 * MAX_JSON_PARSE_DEPTH})) checkDepth(value);
  return value;
} }.parse });

// Intrinsics: prototypes, the namespaces, the hidden prototypes, then the global object below.
const iteratorOf = function (v) { return protoOf(v[Symbol.iterator]()); };
for (const v of [fnProtos[1], fnProtos[2], fnProtos[3], protoOf(fnProtos[2].prototype), protoOf(fnProtos[3].prototype),
  protoOf(protoOf(fnProtos[3].prototype)), iteratorOf([]), protoOf(iteratorOf([])), iteratorOf(new Map()), iteratorOf(new Set()),
  iteratorOf(''), protoOf(''.matchAll(/a/g)), protoOf(Iterator.from({ next() {} })), protoOf([].values().map(function (x) { return x; })),
  protoOf(Int8Array), protoOf(Int8Array.prototype), O, Array, Promise, R, JSON, Symbol, NativeProxy, Math, Intl]) freeze(v);
for (const name of O.getOwnPropertyNames(G)) {
  const v = G[name];
  if (typeof v === 'function' && v.prototype) freeze(v.prototype);
}
for (const name of O.getOwnPropertyNames(Intl)) {
  const v = Intl[name];
  if (typeof v === 'function' && v.prototype) { freeze(v.prototype); freeze(v); }
}

// Settled by start(): the request's data, then the script's end.
let toolNamesJson = '[]', contextJson = '{}', caps = { outputChars: 0, consoleLineChars: 0, toolArgsChars: 0 };
let envelope = null, callCount = 0, awaited = 0, emitted = 0, started = false;
// Set when the script's result is being serialised or its failure read: hooks of the script may
// still run then (toJSON, getters, traps), but nothing they do reaches the host any more.
let ended = false;
const resolvers = new Map();
const never = new Promise(function () {});

const deepFreeze = function (v) {
  if (v !== null && typeof v === 'object' && !isFrozen(v)) { freeze(v); for (const k of ownKeys(v)) deepFreeze(v[k]); }
  return v;
};
const emit = function (kind, level, text) {
  if (ended) return;
  emitted++;
  apply(emitIgnored, hostEmit, [undefined, [kind, level, text]]);
};
// V8 refuses to build a string past its maximum length: the data was too large, not malformed.
const tooBig = function (error) { return isError(error) && dataOf(error, 'message') === 'Invalid string length'; };

const buildTools = function () {
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
  let budget;
  try { const limit = parseJson(contextJson).limits.maxToolCalls; if (typeof limit === 'number') budget = limit + ${TOOL_BUDGET_MARGIN}; } catch (e) {}
  let overBudget;
  const callTool = function (name, args) {
    if (ended) return never;
    if (budget !== undefined && callCount >= budget) {
      // One shared error: a flood of refused calls allocates nothing.
      overBudget ??= freeze(new ToolError('TOOL_BUDGET', 'the script made more than ' + (budget - ${TOOL_BUDGET_MARGIN}) + ' tool calls', { maxToolCalls: budget - ${TOOL_BUDGET_MARGIN} }, ''));
      return Promise.reject(overBudget);
    }
    let json, failure;
    try { json = args === undefined ? '' : toJson(args); } catch (e) { failure = e; }
    // Where the script made the call: the frames of a failed call point at the script's line.
    const stack = stackOf(new Error());
    // A name no tool has never crosses: the host would spend time suggesting names for it.
    if (name.length > 1000) return Promise.reject(new ToolError('TOOL_NOT_FOUND', 'tools.' + name.slice(0, 64) + '… does not exist', undefined, stack));
    if (json === undefined && tooBig(failure) || json !== undefined && json.length > caps.toolArgsChars) return Promise.reject(new ToolError('TOOL_VALIDATION', 'arguments of tools.' + name + ' are larger than ' + caps.toolArgsChars + ' bytes', undefined, stack));
    if (json === undefined) return Promise.reject(new ToolError('SERIALIZATION', 'arguments of tools.' + name + ' must be JSON-compatible data', undefined, stack));
    if (ended) return never;
    const callId = ++callCount;
    const answered = new Promise(function (resolve) { resolvers.set(callId, resolve); });
    awaited++;
    apply(callIgnored, hostCall, [undefined, [callId, name, json]]);
    return apply(promiseThen, answered, [function (replyJson) {
      const reply = parseJson(replyJson);
      if (reply.ok) return deepFreeze(reply.value);
      const E = reply.error.code === 'APPROVAL_DENIED' ? ApprovalDeniedError : ToolError;
      throw new E(reply.error.code, reply.error.message, reply.error.details, stack);
    }]);
  };
  const namespace = function (prefix, tree) {
    const target = create(null);
    for (const key of ownKeys(tree)) {
      const full = prefix + key;
      target[key] = tree[key] === true ? freeze(function (args) { return callTool(full, args); }) : namespace(full + '.', tree[key]);
    }
    return new NativeProxy(freeze(target), {
      get: function (t, key) { return hasOwn(t, key) ? t[key] : typeof key !== 'string' || key === 'then' ? undefined : function (args) { return callTool(prefix + key, args); }; },
      set: function () { return false; }, defineProperty: function () { return false; },
      deleteProperty: function () { return false; }, setPrototypeOf: function () { return false; },
    });
  };
  const tree = create(null);
  for (const name of parseJson(toolNamesJson)) {
    const parts = name.split('.');
    let node = tree;
    for (let i = 0; i < parts.length - 1; i++) node = hasOwn(node, parts[i]) ? node[parts[i]] : (node[parts[i]] = create(null));
    node[parts[parts.length - 1]] = true;
  }
  freeze(ToolError); freeze(ToolError.prototype); freeze(ApprovalDeniedError); freeze(ApprovalDeniedError.prototype);
  return { tools: namespace('', tree), ToolError, ApprovalDeniedError };
};

// A console line is cut to the byte cap (UTF-8), so the host never has to cut it again.
const cutToBytes = function (line, maxBytes) {
  if (line.length * 3 <= maxBytes) return line;
  let bytes = 0, i = 0;
  while (i < line.length) {
    const c = line.charCodeAt(i);
    const pair = c >= 0xd800 && c < 0xdc00 && i + 1 < line.length;
    const size = c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
    if (bytes + size > maxBytes) break;
    bytes += size;
    i += pair ? 2 : 1;
  }
  return i === line.length ? line : line.slice(0, i);
};
const buildIo = function () {
  const format = function (args) {
    const parts = [];
    for (const a of args) {
      let text;
      try { text = typeof a === 'string' ? a : typeof a === 'object' && a !== null ? toJson(a) : String(a); } catch (e) { text = '[unprintable]'; }
      parts.push(text === undefined ? typeof a : text);
    }
    return cutToBytes(parts.join(' '), caps.consoleLineChars);
  };
  const console = create(null);
  for (const level of ['log', 'info', 'warn', 'error', 'debug']) console[level] = freeze(function (...args) { if (!ended) emit('console', level, format(args)); });
  const context = parseJson(contextJson);
  context.emitProgress = freeze(function (message) { if (!ended) emit('progress', 'info', format([message])); });
  return { console: freeze(console), context: deepFreeze(context) };
};

let toolsPart, ioPart;
for (const name of ${JSON.stringify(INJECTED_GLOBALS)}) {
  const io = name === 'console' || name === 'context';
  // A part that fails to build (the script is at its stack or memory limit) is built again on next use.
  define(G, name, { get: freeze(function () { return io ? (ioPart ??= buildIo())[name] : (toolsPart ??= buildTools())[name]; }) });
}
freeze(G);

// Reads name, message, stack and (for tool errors) code of whatever was thrown, from data
// properties and V8's own stack accessor (whose text the glue's formatter writes from data
// properties too): no getter, toString or toPrimitive of the script runs.
const read = function (obj, key) {
  try {
    for (let o = obj, depth = 0; o !== null && depth < 32; depth++, o = protoOf(o)) {
      const d = ownDescriptor(o, key);
      if (d === undefined) continue;
      if (hasOwn(d, 'value')) return typeof d.value === 'string' ? d.value : undefined;
      if (key === 'stack' && d.get === stackGetter) {
        const text = stackOf(obj);
        return typeof text === 'string' ? text : undefined;
      }
      return undefined;
    }
  } catch (e) {}
  return undefined;
};
const isToolError = function (error) {
  if (toolsPart === undefined) return false;
  try {
    for (let p = protoOf(error), depth = 0; p !== null && depth < 32; depth++, p = protoOf(p)) if (p === toolsPart.ToolError.prototype) return true;
  } catch (e) {}
  return false;
};
const describe = function (error) {
  try {
    let name = 'Uncaught', message = '', stack, code, memory = false;
    if (error !== null && (typeof error === 'object' || typeof error === 'function')) {
      name = read(error, 'name') ?? 'Error';
      message = read(error, 'message') ?? '';
      stack = read(error, 'stack');
      memory = memoryErrors.has(error);
      if (isToolError(error)) code = read(error, 'code');
    } else if (error === null) {
      name = 'null';
    } else {
      message = String(error);
    }
    return toJson({ ok: false, name: name.slice(0, 128), message: message.slice(0, 4096), stack: stack === undefined ? undefined : stack.slice(0, 8192), code, memory: memory || undefined });
  } catch (e) {
    return '{"ok":false,"name":"Error","message":"[an error that could not be read]"}';
  }
};

const fail = function (code, message, preview) {
  return toJson({ ok: false, name: 'Error', code, message, preview });
};
// Parenthesised so V8 compiles them with the glue (they are in the code cache) rather than on first call.
const onValue = (function (value) {
  ended = true;
  if (value === undefined) { envelope = '{"ok":true}'; return; }
  if (typeof value === 'function' || typeof value === 'symbol') { envelope = fail('SERIALIZATION', 'the script returned a ' + typeof value + '; return plain data'); return; }
  let json, failure;
  try { json = toJson(value); } catch (e) { failure = e; }
  if (json === undefined && tooBig(failure)) envelope = fail('OUTPUT_LIMIT', 'the returned value is larger than ' + caps.outputChars + ' bytes', '');
  else if (json === undefined) envelope = fail('SERIALIZATION', 'the returned value is not JSON-compatible data');
  else if (json.length > caps.outputChars) envelope = fail('OUTPUT_LIMIT', 'the returned value is larger than ' + caps.outputChars + ' bytes', json.slice(0, caps.outputChars));
  else envelope = '{"ok":true,"value":' + json + '}';
});
const onError = (function (error) { ended = true; envelope = describe(error); });

// One entry point, so the host holds a single reference: ('start', fn, toolNamesJson, contextJson,
// capsJson), ('deliver', callIds, replies) or ('status').
return (function glue(operation, a, b, c, d) {
  if (operation === 'status') return [envelope, awaited, callCount, emitted];
  if (operation === 'deliver') {
    for (let i = 0; i < a.length; i++) {
      const resolve = resolvers.get(a[i]);
      if (resolve === undefined) continue;
      resolvers.delete(a[i]);
      awaited--;
      resolve(b[i]);
    }
    return;
  }
  if (operation !== 'start' || started) return;
  started = true;
  toolNamesJson = b;
  contextJson = c;
  caps = parseJson(d);
  let running;
  try { running = a(); } catch (error) { onError(error); return; }
  apply(promiseThen, running, [onValue, onError]);
});
})`;
