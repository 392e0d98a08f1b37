/**
 * The http tool against a local server on 127.0.0.1. Names under `.test` never resolve through
 * the system resolver, so a request that reaches the server proves the tool connected to the
 * address its injected resolver answered, and nothing else.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { type AnyTool, createHarness, HarnessError, type ToolExecuteContext } from '@script-harness/core';
import { createQuickJSRuntime } from '@script-harness/runtime-quickjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpTool, type HttpResult, type HttpToolOptions, REDACTED_SECRET } from './http.ts';
import { toolContext } from './testing/tool-test-support.ts';

interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

const SECRET = 'sk-live-7f3a9c2e41b8d6';

/**
 * A throwaway self-signed certificate for `api.test` (valid 2000-2100) and its key, made for these
 * tests only: the https server presents it, and the tool trusts it only when given it as `ca`.
 */
const TEST_CERTIFICATE = `-----BEGIN CERTIFICATE-----
MIIBajCCARGgAwIBAgIBATAKBggqhkjOPQQDAjATMREwDwYDVQQDDAhhcGkudGVz
dDAgFw0wMDAxMDEwMDAwMDBaGA8yMTAwMDEwMTAwMDAwMFowEzERMA8GA1UEAwwI
YXBpLnRlc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASKizXv3o4M9o0SY0Kk
ds6ABzjoCDrOCBtFlcwSwiCVBfcB/6CxmB8e0vlKhbqur1hHlGcJvTuuRFGOHbWo
Nunfo1QwUjAPBgNVHRMBAf8EBTADAQH/MBMGA1UdEQQMMAqCCGFwaS50ZXN0MAsG
A1UdDwQEAwIChDAdBgNVHQ4EFgQUlBvf8vflwomhuoOeBQUN2jpmWJQwCgYIKoZI
zj0EAwIDRwAwRAIgGDYubT2uRIypWTK5y66q5/3MuzS0xhPwCY27ZldTkasCIFml
G3Hn1iQXt51eio3g/fXhmkdpUKnFMY4Gnt22fu/P
-----END CERTIFICATE-----
`;
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgdGv4ZZG8FQggyxRf
SvKidpAmph/9bgdvo8cFz+bEed2hRANCAASKizXv3o4M9o0SY0Kkds6ABzjoCDrO
CBtFlcwSwiCVBfcB/6CxmB8e0vlKhbqur1hHlGcJvTuuRFGOHbWoNunf
-----END PRIVATE KEY-----
`;
let server: http.Server;
let port: number;
let received: ReceivedRequest[] = [];
/** Sockets the server has seen close, to tell an aborted request from one left hanging. */
let closedSockets = 0;

beforeAll(async () => {
  server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      route(request, response, body);
    });
  });
  server.on('connection', (socket) => socket.on('close', () => closedSockets++));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  received = [];
});

function route(request: http.IncomingMessage, response: http.ServerResponse, body: string): void {
  const url = new URL(request.url ?? '/', 'http://placeholder');
  switch (url.pathname) {
    case '/json':
      response.writeHead(200, { 'content-type': 'application/json', 'x-test': 'yes' });
      response.end(JSON.stringify({ hello: 'world' }));
      return;
    case '/echo':
      // Echoes everything, the way a debugging endpoint would: headers in the body and in a header.
      response.writeHead(200, {
        'content-type': 'application/json',
        'x-echo-authorization': request.headers.authorization ?? '',
      });
      response.end(JSON.stringify({ method: request.method, headers: request.headers, body }));
      return;
    case '/big':
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('x'.repeat(Number(url.searchParams.get('bytes') ?? 5000)));
      return;
    case '/echo-at-end':
      // The secret sits right where the size cap cuts the body.
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end(`${'y'.repeat(Number(url.searchParams.get('pad')))}${request.headers.authorization ?? ''}`);
      return;
    case '/redirect':
      response.writeHead(Number(url.searchParams.get('status') ?? 302), {
        location: url.searchParams.get('to') ?? '/',
      });
      response.end();
      return;
    case '/hang':
      return;
    case '/reset':
      request.socket.destroy();
      return;
    default:
      response.writeHead(404);
      response.end('not found');
  }
}

/** A resolver that answers from a table and counts its lookups per name. */
function fakeResolver(table: Record<string, readonly (readonly string[])[]>) {
  const lookups = new Map<string, number>();
  const resolver = async (hostname: string): Promise<readonly string[]> => {
    const count = lookups.get(hostname) ?? 0;
    lookups.set(hostname, count + 1);
    const answers = table[hostname];
    if (answers === undefined)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return answers[Math.min(count, answers.length - 1)] as readonly string[];
  };
  return { resolver, lookups };
}

/** The usual setup: api.test and other.test answer 127.0.0.1, which is the one non-public address allowed. */
function localTool(overrides: Partial<HttpToolOptions> = {}) {
  const { resolver, lookups } = fakeResolver({
    'api.test': [['127.0.0.1']],
    'other.test': [['127.0.0.1']],
    'internal.test': [['10.0.0.8']],
    'metadata.test': [['169.254.169.254']],
  });
  const tool = createHttpTool({
    allowHosts: ['api.test', 'other.test', 'internal.test', 'metadata.test'],
    allowPrivateAddresses: ['127.0.0.1'],
    resolver,
    ...overrides,
  });
  return { tool, lookups };
}

const context = (overrides: Partial<ToolExecuteContext> = {}) => toolContext('http-test', overrides);

/** Validates the arguments as the harness would, runs the tool and checks its output schema. */
async function call(tool: AnyTool, args: unknown, ctx: ToolExecuteContext = context()): Promise<HttpResult> {
  const output = await tool.execute(tool.input.parse(args), ctx);
  return tool.output?.parse(output) as HttpResult;
}

async function failure(promise: Promise<unknown>): Promise<HarnessError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(HarnessError);
  return error as HarnessError;
}

describe('http tool', () => {
  it('F32: tools.http returns status, headers and body from an allowed host', async () => {
    const { tool } = localTool();
    const harness = createHarness({ runtime: await createQuickJSRuntime({ mode: 'inline' }), tools: [tool] });
    try {
      const result = await harness.run(
        `const response = await tools.http({ url: 'http://api.test:${port}/json' });
         return { status: response.status, type: response.headers['content-type'], test: response.headers['x-test'],
                  data: JSON.parse(response.body), truncated: response.truncated, url: response.url };`,
      );
      expect(result.error).toBeUndefined();
      expect(result.value).toEqual({
        status: 200,
        type: 'application/json',
        test: 'yes',
        data: { hello: 'world' },
        truncated: false,
        url: `http://api.test:${port}/json`,
      });
    } finally {
      await harness.close();
    }
  });

  it('sends the method, headers and body, with the Host header naming the host the script asked for', async () => {
    const { tool } = localTool();
    const result = await call(tool, {
      url: `http://API.test.:${port}/echo?x=1`,
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', 'X-Custom': 'value' },
      body: 'hé there',
    });
    expect(result.status).toBe(200);
    const request = received[0] as ReceivedRequest;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/echo?x=1');
    expect(request.body).toBe('hé there');
    expect(request.headers.host).toBe(`api.test.:${port}`);
    expect(request.headers['x-custom']).toBe('value');
    expect(request.headers['content-length']).toBe(String(Buffer.byteLength('hé there')));
    expect(request.headers['accept-encoding']).toBe('identity');
  });

  it('returns a non-2xx status as data, not as an error', async () => {
    const { tool } = localTool();
    const result = await call(tool, { url: `http://api.test:${port}/missing` });
    expect(result).toMatchObject({ status: 404, body: 'not found', truncated: false });
  });

  it('is not created when the network policy allows no host', () => {
    expect(() => createHttpTool({ allowHosts: [] })).toThrow(/at least one allowed host/);
    expect(() => createHttpTool({ allowHosts: ['http://x.test'] })).toThrow(/not a host pattern/);
    expect(() => createHttpTool({ allowHosts: ['a.test'], defaultTimeoutMs: 5000, maxTimeoutMs: 1000 })).toThrow(
      /defaultTimeoutMs/,
    );
  });

  it('validates arguments: framing headers, a body on GET, timeouts past the maximum, unknown keys', () => {
    const { tool } = localTool({ maxTimeoutMs: 5000, defaultTimeoutMs: 1000 });
    const url = `http://api.test:${port}/json`;
    for (const args of [
      { url, headers: { Host: 'internal.test' } },
      { url, headers: { 'Transfer-Encoding': 'chunked' } },
      { url, headers: { 'X-Evil': 'a\r\nInjected: yes' } },
      { url, headers: { 'bad name': 'x' } },
      { url, body: 'x' },
      { url, method: 'HEAD', body: 'x' },
      { url, timeoutMs: 5001 },
      { url, follow: false },
      { url, method: 'CONNECT' },
    ]) {
      expect(tool.input.safeParse(args).success, JSON.stringify(args)).toBe(false);
    }
  });

  it('follows redirects: relative locations, 303 and 302-after-POST become GET, 307 keeps method and body', async () => {
    const { tool } = localTool();
    const to = (target: string, status = 302) =>
      `http://api.test:${port}/redirect?status=${status}&to=${encodeURIComponent(target)}`;

    const relative = await call(tool, { url: to('/json') });
    expect(relative).toMatchObject({ status: 200, url: `http://api.test:${port}/json` });

    received = [];
    await call(tool, {
      url: to('/echo', 303),
      method: 'PUT',
      body: 'payload',
      headers: { 'Content-Type': 'text/plain' },
    });
    expect(received.map((request) => [request.method, request.body])).toEqual([
      ['PUT', 'payload'],
      ['GET', ''],
    ]);
    expect(received[1]?.headers['content-type']).toBeUndefined();

    received = [];
    await call(tool, { url: to('/echo', 302), method: 'POST', body: 'payload' });
    expect(received.map((request) => request.method)).toEqual(['POST', 'GET']);

    received = [];
    await call(tool, { url: to('/echo', 307), method: 'POST', body: 'payload' });
    expect(received.map((request) => [request.method, request.body])).toEqual([
      ['POST', 'payload'],
      ['POST', 'payload'],
    ]);
  });

  it('stops after maxRedirects, and with 0 returns the redirect itself', async () => {
    const { tool } = localTool({ maxRedirects: 2 });
    const loop = `http://api.test:${port}/redirect?to=${encodeURIComponent('/redirect?to=%2Fredirect%3Fto%3D%252Fjson')}`;
    const error = await failure(call(tool, { url: loop }));
    expect(error.code).toBe('TOOL_ERROR');
    expect(error.message).toMatch(/more than 2 redirects/);

    const { tool: noFollow } = localTool({ maxRedirects: 0 });
    const result = await call(noFollow, { url: `http://api.test:${port}/redirect?to=%2Fjson` });
    expect(result.status).toBe(302);
    expect(result.headers.location).toBe('/json');
  });

  it("drops the script's Authorization and Cookie headers when a redirect leaves the origin", async () => {
    const { tool } = localTool();
    const headers = { Authorization: 'Bearer script-token', Cookie: 'session=1', 'X-Keep': 'kept' };
    await call(tool, {
      url: `http://api.test:${port}/redirect?to=${encodeURIComponent(`http://other.test:${port}/echo`)}`,
      headers,
    });
    expect(received[0]?.headers.authorization).toBe('Bearer script-token');
    expect(received[1]?.headers.host).toBe(`other.test:${port}`);
    expect(received[1]?.headers.authorization).toBeUndefined();
    expect(received[1]?.headers.cookie).toBeUndefined();
    expect(received[1]?.headers['x-keep']).toBe('kept');

    received = [];
    await call(tool, { url: `http://api.test:${port}/redirect?to=%2Fecho`, headers });
    expect(received[1]?.headers.authorization).toBe('Bearer script-token');
  });

  it('caps the body at maxResponseBytes and says so', async () => {
    const { tool } = localTool({ maxResponseBytes: 1000 });
    const result = await call(tool, { url: `http://api.test:${port}/big?bytes=5000` });
    expect(result.body).toBe('x'.repeat(1000));
    expect(result.truncated).toBe(true);
    const exact = await call(tool, { url: `http://api.test:${port}/big?bytes=1000` });
    expect(exact.truncated).toBe(false);
  });

  it("also keeps the result within the harness's tool-result limit", async () => {
    const { tool } = localTool();
    const result = await call(
      tool,
      { url: `http://api.test:${port}/big?bytes=100000` },
      context({ maxOutputBytes: 8192 }),
    );
    expect(result.truncated).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(8192);
    expect(result.body.length).toBeGreaterThan(4000);
  });

  it('fails with TOOL_ERROR when the whole request takes longer than its timeout', async () => {
    const { tool } = localTool();
    const started = Date.now();
    const error = await failure(call(tool, { url: `http://api.test:${port}/hang`, timeoutMs: 150 }));
    expect(error.code).toBe('TOOL_ERROR');
    expect(error.message).toBe('the request did not complete within 150 ms');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('stops with the signal reason when the call is aborted, and closes the connection', async () => {
    const { tool } = localTool();
    const controller = new AbortController();
    const closedBefore = closedSockets;
    const pending = call(tool, { url: `http://api.test:${port}/hang` }, context({ signal: controller.signal }));
    await waitFor(() => received.length === 1);
    controller.abort(new HarnessError('CANCELLED', 'the script was cancelled by the caller'));
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
    await waitFor(() => closedSockets > closedBefore);
  });

  it('reports network failures as TOOL_ERROR naming the host, never the address', async () => {
    const { tool } = localTool();
    const reset = await failure(call(tool, { url: `http://api.test:${port}/reset` }));
    expect(reset.code).toBe('TOOL_ERROR');
    expect(reset.message).toMatch(/^host "api.test" closed the connection/);

    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await failure(call(tool, { url: `http://api.test:${closedPort}/` }));
    expect(refused.message).toBe('host "api.test" refused the connection (ECONNREFUSED)');
    expect(refused.message).not.toContain('127.0.0.1');

    const unknown = await failure(call(tool, { url: `http://api.test:${port}/`.replace('api.test', 'unknown.test') }));
    expect(unknown.code).toBe('POLICY_DENIED');
  });
});

describe('http tool refusals (threat 22)', () => {
  it('S42: a host that is not on the allowlist is refused before any lookup (threat 22)', async () => {
    const { tool, lookups } = localTool();
    for (const url of [
      `http://evil.test:${port}/`,
      `http://sub.api.test:${port}/`,
      `http://api.test.evil.test:${port}/`,
    ]) {
      const error = await failure(call(tool, { url }));
      expect(error.code, url).toBe('POLICY_DENIED');
      expect(error.message).toMatch(/is not in the allowed hosts/);
    }
    expect(lookups.size).toBe(0);
    expect(received).toEqual([]);
  });

  it('S42: *.suffix patterns allow subdomains only, case-insensitively (threat 22)', async () => {
    const { resolver } = fakeResolver({ 'a.svc.test': [['127.0.0.1']], 'svc.test': [['127.0.0.1']] });
    const tool = createHttpTool({ allowHosts: ['*.SVC.test'], allowPrivateAddresses: ['127.0.0.1'], resolver });
    expect((await call(tool, { url: `http://A.svc.test:${port}/json` })).status).toBe(200);
    expect((await failure(call(tool, { url: `http://svc.test:${port}/json` }))).code).toBe('POLICY_DENIED');
  });

  it('S42: non-HTTP schemes are refused: file, ftp, data, gopher, javascript, ws (threat 22)', async () => {
    const { tool } = localTool();
    for (const url of [
      'file:///etc/passwd',
      `ftp://api.test:${port}/`,
      'data:text/plain,hello',
      `gopher://api.test:${port}/_GET`,
      'javascript:alert(1)',
      `ws://api.test:${port}/`,
    ]) {
      const error = await failure(call(tool, { url }));
      expect(error.code, url).toBe('POLICY_DENIED');
      expect(error.message).toMatch(/only http: and https: URLs are allowed/);
    }
    expect(received).toEqual([]);
  });

  it('S42: credentials in the URL are refused, including the user@host confusion (threat 22)', async () => {
    const { tool } = localTool();
    for (const url of [
      `http://api.test@evil.test:${port}/`,
      `http://api.test:${port}@evil.test/`,
      `http://user:pass@api.test:${port}/json`,
      `http://user@api.test:${port}/json`,
    ]) {
      const error = await failure(call(tool, { url }));
      expect(error.code, url).toBe('POLICY_DENIED');
      expect(error.message).toMatch(/credentials \(user@host\)/);
    }
    // After a fragment or a backslash, an @ does not start the host: the real host is what is checked.
    expect((await failure(call(tool, { url: `http://evil.test:${port}#@api.test/` }))).message).toMatch(
      /host "evil.test" is not in the allowed hosts/,
    );
    expect((await call(tool, { url: `http://api.test:${port}\\@evil.test/` })).status).toBe(404);
    expect(received.map((request) => request.headers.host)).toEqual([`api.test:${port}`]);
  });

  it('S42: decimal, octal, hex and short IPv4 forms are normalised and refused as loopback (threat 22)', async () => {
    const tool = createHttpTool({ allowHosts: ['127.0.0.1'] });
    for (const host of ['2130706433', '0x7f.1', '0177.0.0.1', '127.1', '0x7f000001', '127.0.0.1']) {
      const error = await failure(call(tool, { url: `http://${host}:${port}/json` }));
      expect(error.code, host).toBe('POLICY_DENIED');
      expect(error.message).toBe('host "127.0.0.1" is a loopback address; refused');
    }
    expect(received).toEqual([]);
  });

  it('S42: IPv6 literals for loopback and IPv4-mapped loopback are refused (threat 22)', async () => {
    const tool = createHttpTool({ allowHosts: ['::1', '::ffff:127.0.0.1', '::', '0.0.0.0'] });
    for (const host of ['[::1]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[::]', '0.0.0.0', '0']) {
      const error = await failure(call(tool, { url: `http://${host}:${port}/json` }));
      expect(error.code, host).toBe('POLICY_DENIED');
    }
    // Even with non-public addresses allowed, the mapped form and the unspecified address are not.
    const lenient = createHttpTool({ allowHosts: ['::ffff:127.0.0.1', '0.0.0.0'], allowPrivateAddresses: true });
    expect((await failure(call(lenient, { url: `http://[::ffff:127.0.0.1]:${port}/json` }))).message).toMatch(
      /IPv4-mapped/,
    );
    expect((await failure(call(lenient, { url: `http://0.0.0.0:${port}/json` }))).message).toMatch(/unspecified/);
    expect(received).toEqual([]);
  });

  it('S42: an allowed name that resolves to a private, metadata, mapped or NAT64 address is refused (threat 22)', async () => {
    const { resolver } = fakeResolver({
      'private.test': [['10.0.0.8']],
      'metadata.test': [['169.254.169.254']],
      'mapped.test': [['::ffff:127.0.0.1']],
      'nat64.test': [['64:ff9b::a9fe:a9fe']],
      'ula.test': [['fd00::1']],
      'cgnat.test': [['100.64.1.1']],
      'mixed.test': [['127.0.0.1', '192.168.1.20']],
    });
    const tool = createHttpTool({ allowHosts: ['*.test'], allowPrivateAddresses: ['127.0.0.1'], resolver });
    const cases: [string, RegExp][] = [
      ['private.test', /resolves to a private address/],
      ['metadata.test', /resolves to a link-local address/],
      ['mapped.test', /resolves to an IPv4-mapped IPv6 address/],
      ['nat64.test', /resolves to a NAT64 address/],
      ['ula.test', /resolves to a unique-local address/],
      ['cgnat.test', /resolves to a carrier-grade NAT address/],
      ['mixed.test', /resolves to a private address/],
    ];
    for (const [host, message] of cases) {
      const error = await failure(call(tool, { url: `http://${host}:${port}/json` }));
      expect(error.code, host).toBe('POLICY_DENIED');
      expect(error.message).toMatch(message);
      expect(error.message).toContain(`"${host}"`);
      expect(error.message).not.toMatch(/\d+\.\d+\.\d+\.\d+|::/);
    }
    expect(received).toEqual([]);
  });

  it('S42: DNS rebinding: the name is resolved once and the connection goes to the checked address (threat 22)', async () => {
    // First answer: the allowed address; any later lookup would answer a private one.
    const { resolver, lookups } = fakeResolver({ 'rebind.test': [['127.0.0.1'], ['10.0.0.5']] });
    const tool = createHttpTool({ allowHosts: ['rebind.test'], allowPrivateAddresses: ['127.0.0.1'], resolver });
    const result = await call(tool, { url: `http://rebind.test:${port}/json` });
    expect(result.status).toBe(200);
    expect(lookups.get('rebind.test')).toBe(1);
    // rebind.test has no system DNS entry: reaching the server means the pinned address was used.
    expect(received.map((request) => request.headers.host)).toEqual([`rebind.test:${port}`]);
  });

  it('S42: each redirect hop is resolved and checked again; a rebound answer on the second hop is refused (threat 22)', async () => {
    const { resolver, lookups } = fakeResolver({ 'rebind.test': [['127.0.0.1'], ['10.0.0.5']] });
    const tool = createHttpTool({ allowHosts: ['rebind.test'], allowPrivateAddresses: ['127.0.0.1'], resolver });
    const error = await failure(call(tool, { url: `http://rebind.test:${port}/redirect?to=%2Fjson` }));
    expect(error.code).toBe('POLICY_DENIED');
    expect(error.message).toBe('redirect refused: host "rebind.test" resolves to a private address; refused');
    expect(lookups.get('rebind.test')).toBe(2);
    expect(received.map((request) => request.url)).toEqual(['/redirect?to=%2Fjson']);
  });

  it('S42: redirects to internal hosts, other schemes or unlisted hosts are refused (threat 22)', async () => {
    const { tool } = localTool();
    const cases: [string, RegExp][] = [
      [
        'http://169.254.169.254/latest/meta-data/',
        /redirect refused: host "169.254.169.254" is not in the allowed hosts/,
      ],
      [
        `http://metadata.test:${port}/latest/meta-data/`,
        /redirect refused: host "metadata.test" resolves to a link-local/,
      ],
      [`http://internal.test:${port}/admin`, /redirect refused: host "internal.test" resolves to a private address/],
      [`http://2130706433:${port}/json`, /redirect refused: host "127.0.0.1" is not in the allowed hosts/],
      ['file:///etc/passwd', /redirect from host "api.test" refused: only http: and https:/],
      [`http://user@api.test:${port}/json`, /redirect from host "api.test" refused: URLs with credentials/],
    ];
    for (const [target, message] of cases) {
      received = [];
      const error = await failure(
        call(tool, { url: `http://api.test:${port}/redirect?status=307&to=${encodeURIComponent(target)}` }),
      );
      expect(error.code, target).toBe('POLICY_DENIED');
      expect(error.message).toMatch(message);
      expect(received).toHaveLength(1);
    }
  });
});

describe('http tool secrets (threat 23)', () => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: `${NAME}` is the placeholder syntax of headerTemplates.
  const templates = { 'api.test': { Authorization: 'Bearer ${API_TOKEN}', 'X-Client': 'script-harness' } };

  it('S43: a templated secret reaches the matching host but never the result (threat 23)', async () => {
    const { tool } = localTool({ headerTemplates: templates, secrets: { API_TOKEN: SECRET } });
    const result = await call(tool, { url: `http://api.test:${port}/echo` });
    expect(received[0]?.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(received[0]?.headers['x-client']).toBe('script-harness');
    expect(JSON.stringify(result)).not.toContain(SECRET);
    expect(result.headers['x-echo-authorization']).toBe(`Bearer ${REDACTED_SECRET}`);
    expect(JSON.parse(result.body).headers.authorization).toBe(`Bearer ${REDACTED_SECRET}`);
  });

  it('S43: a secret echoed right where the size cap cuts the body is still scrubbed (threat 23)', async () => {
    const { tool } = localTool({ headerTemplates: templates, secrets: { API_TOKEN: SECRET }, maxResponseBytes: 100 });
    for (const pad of [80, 90, 95, 99]) {
      const result = await call(tool, { url: `http://api.test:${port}/echo-at-end?pad=${pad}` });
      expect(result.truncated).toBe(true);
      expect(result.body.length).toBeLessThanOrEqual(100);
      for (let length = 4; length <= SECRET.length; length++) {
        expect(result.body, `pad ${pad}`).not.toContain(SECRET.slice(0, length));
      }
    }
  });

  it('S43: the secret is not sent to other hosts, nor across a redirect to another host (threat 23)', async () => {
    const { tool } = localTool({ headerTemplates: templates, secrets: { API_TOKEN: SECRET } });
    await call(tool, { url: `http://other.test:${port}/echo` });
    expect(received[0]?.headers.authorization).toBeUndefined();

    received = [];
    const result = await call(tool, {
      url: `http://api.test:${port}/redirect?to=${encodeURIComponent(`http://other.test:${port}/echo`)}`,
    });
    expect(received[0]?.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(received[1]?.headers.authorization).toBeUndefined();
    expect(received[1]?.headers['x-client']).toBeUndefined();
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  it('S43: the template overrides a header of the same name the script sends (threat 23)', async () => {
    const { tool } = localTool({ headerTemplates: templates, secrets: { API_TOKEN: SECRET } });
    await call(tool, { url: `http://api.test:${port}/echo`, headers: { authorization: 'Bearer forged' } });
    expect(received[0]?.headers.authorization).toBe(`Bearer ${SECRET}`);
  });

  it('S43: secrets come from process.env by default, read at each request (threat 23)', async () => {
    const name = 'SCRIPT_HARNESS_HTTP_TEST_TOKEN';
    const { tool } = localTool({ headerTemplates: { '*.test': { 'X-Api-Key': `\${${name}}` } } });
    const missing = await failure(call(tool, { url: `http://api.test:${port}/echo` }));
    expect(missing.code).toBe('TOOL_ERROR');
    expect(missing.message).toBe(
      `the host is not configured for "api.test": secret ${name} of header X-Api-Key is not set`,
    );
    expect(received).toEqual([]);
    process.env[name] = SECRET;
    try {
      const result = await call(tool, { url: `http://api.test:${port}/echo` });
      expect(received[0]?.headers['x-api-key']).toBe(SECRET);
      expect(JSON.stringify(result)).not.toContain(SECRET);
    } finally {
      delete process.env[name];
    }
  });

  it('S43: errors after the secret was sent do not contain it (threat 23)', async () => {
    const { tool } = localTool({ headerTemplates: templates, secrets: { API_TOKEN: SECRET } });
    const reset = await failure(call(tool, { url: `http://api.test:${port}/reset` }));
    const timeout = await failure(call(tool, { url: `http://api.test:${port}/hang`, timeoutMs: 100 }));
    expect(received.every((request) => request.headers.authorization === `Bearer ${SECRET}`)).toBe(true);
    for (const error of [reset, timeout]) {
      expect(JSON.stringify(error.toData())).not.toContain(SECRET);
      expect(error.message).not.toContain(SECRET);
    }
  });

  it('S43: template problems are reported without the header value (threat 23)', () => {
    expect(() =>
      createHttpTool({
        allowHosts: ['api.test'],
        headerTemplates: { 'api.test': { 'X-Key': 'inline-secret\r\nX: y' } },
      }),
    ).toThrow(/the value of header X-Key for api.test is not a single-line string/);
    try {
      createHttpTool({ allowHosts: ['api.test'], headerTemplates: { 'api.test': { Host: 'inline-secret' } } });
    } catch (error) {
      expect(String(error)).not.toContain('inline-secret');
    }
    expect(() => createHttpTool({ allowHosts: ['api.test'], headerTemplates: { 'api.test': { Host: 'x' } } })).toThrow(
      /header Host cannot be templated/,
    );
  });

  it('S43: through a real harness the secret appears nowhere in the result, call log or events (threat 23)', async () => {
    const { tool } = localTool({ headerTemplates: templates, secrets: { API_TOKEN: SECRET } });
    const harness = createHarness({ runtime: await createQuickJSRuntime({ mode: 'inline' }), tools: [tool] });
    const events: unknown[] = [];
    try {
      const result = await harness.run(
        `const ok = await tools.http({ url: 'http://api.test:${port}/echo' });
         let failed;
         try { await tools.http({ url: 'http://api.test:${port}/reset' }); } catch (error) { failed = error.message; }
         console.log(ok.body);
         return { body: ok.body, failed };`,
        { onEvent: (event) => events.push(event) },
      );
      expect(result.ok).toBe(true);
      expect(received[0]?.headers.authorization).toBe(`Bearer ${SECRET}`);
      expect(JSON.stringify(result)).not.toContain(SECRET);
      expect(JSON.stringify(events)).not.toContain(SECRET);
      expect(JSON.stringify(result.calls.map((record) => record.args))).not.toContain('Bearer');
    } finally {
      await harness.close();
    }
  });
});

describe('http tool over https', () => {
  let secure: https.Server;
  let securePort: number;
  const serverNames: (string | false | null)[] = [];

  beforeAll(async () => {
    secure = https.createServer({ key: TEST_KEY, cert: TEST_CERTIFICATE }, (request, response) => {
      serverNames.push((request.socket as TLSSocket).servername);
      received.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: '' });
      route(request, response, '');
    });
    await new Promise<void>((resolve) => secure.listen(0, '127.0.0.1', resolve));
    securePort = (secure.address() as AddressInfo).port;
  });

  afterAll(async () => {
    secure.closeAllConnections();
    await new Promise<void>((resolve) => secure.close(() => resolve()));
  });

  it('checks the certificate against the requested name and sends it as SNI, while connecting to the pinned address', async () => {
    serverNames.length = 0;
    const untrusted = localTool();
    const error = await failure(call(untrusted.tool, { url: `https://api.test:${securePort}/json` }));
    expect(error.code).toBe('TOOL_ERROR');
    expect(error.message).toMatch(/^the TLS certificate of host "api.test" was not accepted \(/);

    const { tool } = localTool({ ca: TEST_CERTIFICATE });
    const result = await call(tool, { url: `https://api.test:${securePort}/json` });
    expect(result.status).toBe(200);
    expect(serverNames).toEqual(['api.test']);

    // Same address, another name: the certificate does not cover it, so the request is refused.
    const mismatch = await failure(call(tool, { url: `https://other.test:${securePort}/json` }));
    expect(mismatch.message).toMatch(
      /TLS certificate of host "other.test" was not accepted \(ERR_TLS_CERT_ALTNAME_INVALID\)/,
    );
  });

  it('S43: templated secrets are not sent over a redirect from https down to plain http (threat 23)', async () => {
    const { tool } = localTool({
      ca: TEST_CERTIFICATE,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: `${NAME}` is the placeholder syntax of headerTemplates.
      headerTemplates: { 'api.test': { Authorization: 'Bearer ${API_TOKEN}' } },
      secrets: { API_TOKEN: SECRET },
    });
    const downgrade = `http://api.test:${port}/echo`;
    const result = await call(tool, {
      url: `https://api.test:${securePort}/redirect?to=${encodeURIComponent(downgrade)}`,
    });
    expect(result.status).toBe(200);
    expect(received[0]?.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(received[1]?.headers.authorization).toBeUndefined();
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
