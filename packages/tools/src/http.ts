/**
 * The `http` tool: one HTTP(S) request from the host to an allowed host, on the script's behalf.
 *
 * Server-side request forgery (THREATS item 22) is what this file is mostly about. Every hop of a
 * request, the first and each redirect, is checked the same way: the URL must be http or https
 * without credentials, its host must be on the allowlist, the host is resolved once and every
 * address it resolves to must be public (net.ts), and the connection goes to one of exactly those
 * addresses (a pinned `lookup`), so a DNS answer that changes in between cannot steer it.
 *
 * Secrets (THREATS item 23) are added by the host, never by the script: `headerTemplates` fill
 * `${NAME}` from the secret source for requests to matching hosts only. The filled values are
 * scrubbed from what the server sends back and never appear in a message.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { type AnyTool, defineTool, HarnessError, type ToolExecuteContext } from '@script-harness/core';
import { z } from 'zod';
import { jsonBytes, prefixWithinJsonBytes } from './json-size.ts';
import {
  type AddressFilter,
  type CheckedDestination,
  createAddressFilter,
  type HostPattern,
  type HostResolver,
  hostnameOfParsedUrl,
  matchesHostPattern,
  type PrivateAddressAllowance,
  parseHostPattern,
  parseHostPatterns,
  pinnedLookup,
  resolveChecked,
  systemResolver,
} from './net.ts';

export interface HttpToolOptions {
  /** Hosts requests may go to: `api.example.com`, `*.example.com` (subdomains only) or an exact IP. Required. */
  readonly allowHosts: readonly string[];
  /**
   * Headers the host adds to requests to matching hosts (keys are host patterns). `${NAME}` in a
   * value is replaced by the secret `NAME` when the request is made; the script never sees it.
   */
  readonly headerTemplates?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Where `${NAME}` is looked up (default: `process.env`, read at each request). */
  readonly secrets?: Readonly<Record<string, string | undefined>>;
  /** Most response body bytes returned (default 1 MiB); the harness's tool-result limit also applies. */
  readonly maxResponseBytes?: number;
  /** Whole-request timeout when the script gives none (default 10 s). */
  readonly defaultTimeoutMs?: number;
  /** Largest `timeoutMs` a script may ask for (default 60 s). */
  readonly maxTimeoutMs?: number;
  /** Redirects followed before giving up (default 5; 0 returns the redirect response itself). */
  readonly maxRedirects?: number;
  /**
   * Non-public addresses that may be reached anyway: `false` (default), `true` (loopback, private,
   * link-local and the like), or a list of addresses and CIDR ranges of known internal services.
   */
  readonly allowPrivateAddresses?: PrivateAddressAllowance;
  /** Resolves hostnames (default: the system resolver, every address). Tests inject answers here. */
  readonly resolver?: HostResolver;
  /** Certificate authorities (PEM) trusted besides the system's, for internal services with a private CA. */
  readonly ca?: string | readonly string[];
}

export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_HTTP_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_REDIRECTS = 5;
/** What stands in the response for a secret the server echoed back. */
export const REDACTED_SECRET = '[redacted]';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * Request headers a script may not set: they frame the message or the connection (a script that
 * sets them could smuggle a second request), route it (`Host` must match the checked name), or
 * change the body encoding to something the tool would return as garbage.
 */
export const FORBIDDEN_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'proxy-connection',
  'proxy-authorization',
  'accept-encoding',
  'http2-settings',
]);

/** Script headers dropped when a redirect leaves the origin they were written for. */
const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(['authorization', 'cookie']);
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
/** Errors that mean no connection was made, so the next resolved address may be tried. */
const CONNECT_ERRORS: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'EAFNOSUPPORT',
]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[^\r\n\0]*$/;
const SECRET_PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
/** Shorter secrets are not scrubbed from responses: replacing every `abc` would wreck the body, and says little. */
const MIN_SCRUBBED_SECRET_LENGTH = 4;
const MAX_URL_LENGTH = 8192;
const MAX_REQUEST_HEADERS = 64;
/** Room left in a tool result for everything but the body and headers. */
const RESULT_OVERHEAD_BYTES = 1024;

interface HeaderTemplate {
  readonly pattern: HostPattern;
  readonly headers: readonly { readonly name: string; readonly value: string }[];
}

/** Creates the `http` tool. Throws `INVALID_REQUEST` when no host is allowed: there is then no tool to offer. */
export function createHttpTool(options: HttpToolOptions): AnyTool {
  if (!Array.isArray(options.allowHosts) || options.allowHosts.length === 0) {
    throw new HarnessError(
      'INVALID_REQUEST',
      'the http tool needs at least one allowed host: the network policy allows none (allowHosts is empty), so do not offer the tool',
    );
  }
  const allowed = parseHostPatterns(options.allowHosts, 'allowHosts');
  const templates = parseTemplates(options.headerTemplates ?? {});
  const maxResponseBytes = positiveInteger(options.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES, 'maxResponseBytes');
  const maxTimeoutMs = positiveInteger(options.maxTimeoutMs, DEFAULT_MAX_HTTP_TIMEOUT_MS, 'maxTimeoutMs');
  const defaultTimeoutMs = positiveInteger(
    options.defaultTimeoutMs,
    Math.min(DEFAULT_HTTP_TIMEOUT_MS, maxTimeoutMs),
    'defaultTimeoutMs',
  );
  if (defaultTimeoutMs > maxTimeoutMs) {
    throw new HarnessError('INVALID_REQUEST', 'defaultTimeoutMs must not be larger than maxTimeoutMs');
  }
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  if (!Number.isSafeInteger(maxRedirects) || maxRedirects < 0 || maxRedirects > 20) {
    throw new HarnessError('INVALID_REQUEST', 'maxRedirects must be an integer from 0 to 20');
  }
  const settings: RequestSettings = {
    allowed,
    templates,
    secrets: options.secrets,
    maxResponseBytes,
    maxRedirects,
    filter: createAddressFilter(options.allowPrivateAddresses ?? false),
    resolver: options.resolver ?? systemResolver,
    // Node's `ca` replaces the system roots; the extra authorities are added to them instead.
    ca:
      options.ca === undefined
        ? undefined
        : [...rootCertificates, ...(typeof options.ca === 'string' ? [options.ca] : options.ca)],
  };

  const Input = z
    .strictObject({
      url: z
        .string()
        .min(1)
        .max(MAX_URL_LENGTH)
        .describe('Absolute http:// or https:// URL on an allowed host, e.g. "https://api.example.com/v1/items?q=1".'),
      method: z.enum(HTTP_METHODS).optional().describe('HTTP method (default GET).'),
      headers: z
        .record(
          z.string().regex(HEADER_NAME, 'not an HTTP header name'),
          z.string().max(MAX_URL_LENGTH).regex(HEADER_VALUE, 'a header value must not contain line breaks or NUL'),
        )
        .optional()
        .describe('Request headers. Credentials for configured hosts are added by the host; do not send any.'),
      body: z.string().optional().describe('Request body as text (not allowed with GET or HEAD).'),
      timeoutMs: z
        .number()
        .int()
        .min(1)
        .max(maxTimeoutMs)
        .optional()
        .describe(`Whole-request timeout in ms, redirects included (default ${defaultTimeoutMs}).`),
    })
    .superRefine((args, issues) => {
      const names = Object.keys(args.headers ?? {});
      if (names.length > MAX_REQUEST_HEADERS) {
        issues.addIssue({ code: 'custom', path: ['headers'], message: `at most ${MAX_REQUEST_HEADERS} headers` });
      }
      for (const name of names) {
        if (FORBIDDEN_REQUEST_HEADERS.has(name.toLowerCase())) {
          issues.addIssue({ code: 'custom', path: ['headers', name], message: `header ${name} is set by the host` });
        }
      }
      if (args.body !== undefined && (args.method === undefined || args.method === 'GET' || args.method === 'HEAD')) {
        issues.addIssue({
          code: 'custom',
          path: ['body'],
          message: `a body needs a method such as POST or PUT, not ${args.method ?? 'GET'}`,
        });
      }
    });

  const Output = z.object({
    url: z.string().describe('The URL of the final response, after redirects.'),
    status: z.number().int().describe('HTTP status code, e.g. 200.'),
    headers: z
      .record(z.string(), z.string())
      .describe('Response headers, names in lower case; repeated headers joined with ", ".'),
    body: z.string().describe('Response body decoded as UTF-8 text.'),
    truncated: z.boolean().describe('True when the body was longer than the size cap and was cut.'),
  });

  type Args = z.output<typeof Input>;
  type Result = z.output<typeof Output>;

  return defineTool<Args, Result>({
    name: 'http',
    description:
      `Makes an HTTP(S) request to an allowed host (${options.allowHosts.join(', ')}) and returns the status, headers ` +
      `and text body. Redirects are followed (up to ${maxRedirects}), each one checked again; the body is cut at ` +
      `${formatBytes(maxResponseBytes)} with truncated: true. Private and internal addresses are refused.`,
    input: Input,
    output: Output,
    execute: (args, context) =>
      runRequest(settings, { ...args, timeoutMs: args.timeoutMs ?? defaultTimeoutMs }, context),
  });
}

export interface HttpArgs {
  readonly url: string;
  readonly method?: (typeof HTTP_METHODS)[number];
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs?: number;
}

export interface HttpResult {
  readonly url: string;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly truncated: boolean;
}

interface RequestSettings {
  readonly allowed: readonly HostPattern[];
  readonly templates: readonly HeaderTemplate[];
  readonly secrets: Readonly<Record<string, string | undefined>> | undefined;
  readonly maxResponseBytes: number;
  readonly maxRedirects: number;
  readonly filter: AddressFilter;
  readonly resolver: HostResolver;
  readonly ca: readonly string[] | undefined;
}

async function runRequest(
  settings: RequestSettings,
  args: HttpArgs & { readonly timeoutMs: number },
  context: ToolExecuteContext,
): Promise<HttpResult> {
  const controller = new AbortController();
  const onCallerAbort = () => controller.abort(context.signal.reason);
  if (context.signal.aborted) onCallerAbort();
  else context.signal.addEventListener('abort', onCallerAbort, { once: true });
  const timer = setTimeout(
    () => controller.abort(new HarnessError('TOOL_ERROR', `the request did not complete within ${args.timeoutMs} ms`)),
    args.timeoutMs,
  );
  try {
    return await followRedirects(settings, args, context.maxOutputBytes, controller.signal);
  } catch (error) {
    // The caller's abort reason is what the harness reports; a timeout is this tool's own error.
    if (controller.signal.aborted) throw controller.signal.reason;
    throw error;
  } finally {
    clearTimeout(timer);
    context.signal.removeEventListener('abort', onCallerAbort);
  }
}

async function followRedirects(
  settings: RequestSettings,
  args: HttpArgs,
  maxOutputBytes: number,
  signal: AbortSignal,
): Promise<HttpResult> {
  let url = parseTarget(args.url, undefined);
  let method: string = args.method ?? 'GET';
  let body = args.body;
  const scriptHeaders = new Map<string, { name: string; value: string }>();
  for (const [name, value] of Object.entries(args.headers ?? {}))
    scriptHeaders.set(name.toLowerCase(), { name, value });
  const firstOrigin = url.origin;
  const firstProtocol = url.protocol;
  /** Every secret sent on any hop: the final response is scrubbed of all of them. */
  const sentSecrets = new Set<string>();

  for (let hop = 0; ; hop++) {
    const hostname = checkHost(settings, url, hop > 0);
    let destination: CheckedDestination;
    try {
      destination = await resolveChecked(hostname, { resolver: settings.resolver, filter: settings.filter, signal });
    } catch (error) {
      if (hop > 0 && error instanceof HarnessError && error.code === 'POLICY_DENIED') {
        throw new HarnessError('POLICY_DENIED', `redirect refused: ${error.message}`);
      }
      throw error;
    }

    // Credentials the script wrote were meant for the origin it named, not wherever a redirect points.
    if (url.origin !== firstOrigin) for (const name of CREDENTIAL_HEADERS) scriptHeaders.delete(name);
    const headers: Record<string, string> = {
      'User-Agent': 'script-harness',
      Accept: '*/*',
    };
    for (const { name, value } of scriptHeaders.values()) headers[name] = value;
    // A redirect from https to plain http would carry the secrets in clear text; they stay behind.
    if (!(firstProtocol === 'https:' && url.protocol === 'http:')) {
      for (const { name, value } of fillTemplates(settings, hostname, sentSecrets)) {
        for (const key of Object.keys(headers)) if (key.toLowerCase() === name.toLowerCase()) delete headers[key];
        headers[name] = value;
      }
    }
    headers['Accept-Encoding'] = 'identity';
    headers.Host = url.host;
    if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body, 'utf8'));

    const response = await send(
      { url, method, headers, body, hostname, ca: settings.ca },
      destination.addresses,
      signal,
    );
    const location = response.headers.location;
    if (REDIRECT_STATUSES.has(response.statusCode ?? 0) && typeof location === 'string' && settings.maxRedirects > 0) {
      response.destroy();
      if (hop >= settings.maxRedirects) {
        throw new HarnessError(
          'TOOL_ERROR',
          `more than ${settings.maxRedirects} redirects; stopped at host ${quoteHost(hostname)}`,
        );
      }
      url = parseTarget(location, url);
      const status = response.statusCode as number;
      // As browsers do: 303 turns anything but HEAD into GET, and so do 301/302 for POST.
      if ((status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        scriptHeaders.delete('content-type');
      }
      continue;
    }
    return await readResponse(response, {
      url,
      hostname,
      method,
      maxResponseBytes: settings.maxResponseBytes,
      maxOutputBytes,
      secrets: sentSecrets,
      signal,
    });
  }
}

/**
 * Parses a URL (relative to `base` for a redirect's Location) and refuses what is not plain
 * http(s) or carries credentials. WHATWG parsing normalises the host first, so `2130706433`,
 * `0x7f.1` and `127.1` all arrive here as `127.0.0.1`.
 */
function parseTarget(text: string, base: URL | undefined): URL {
  let url: URL;
  try {
    url = base === undefined ? new URL(text) : new URL(text, base);
  } catch {
    if (base === undefined) throw new HarnessError('TOOL_VALIDATION', 'url is not a valid absolute URL');
    throw new HarnessError('TOOL_ERROR', `host ${quoteHost(base.hostname)} sent a redirect to an invalid URL`);
  }
  const prefix = base === undefined ? '' : `redirect from host ${quoteHost(base.hostname)} refused: `;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new HarnessError(
      'POLICY_DENIED',
      `${prefix}only http: and https: URLs are allowed, not ${JSON.stringify(url.protocol)}`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new HarnessError(
      'POLICY_DENIED',
      `${prefix}URLs with credentials (user@host) are not allowed; the host adds credentials for configured hosts`,
    );
  }
  return url;
}

/** The canonical hostname of `url` when the allowlist names it; `POLICY_DENIED` otherwise. */
function checkHost(settings: RequestSettings, url: URL, isRedirect: boolean): string {
  const hostname = hostnameOfParsedUrl(url.hostname);
  const prefix = isRedirect ? 'redirect refused: ' : '';
  if (hostname === undefined) throw new HarnessError('POLICY_DENIED', `${prefix}the URL has no usable host`);
  if (!settings.allowed.some((pattern) => matchesHostPattern(pattern, hostname))) {
    throw new HarnessError('POLICY_DENIED', `${prefix}host ${quoteHost(hostname)} is not in the allowed hosts`);
  }
  return hostname;
}

/** The template headers for `hostname`, secrets filled in; more specific patterns override broader ones. */
function fillTemplates(
  settings: RequestSettings,
  hostname: string,
  sentSecrets: Set<string>,
): { name: string; value: string }[] {
  const matching = settings.templates
    .filter((template) => matchesHostPattern(template.pattern, hostname))
    .sort(
      (a, b) =>
        Number(a.pattern.wildcard === false) - Number(b.pattern.wildcard === false) ||
        a.pattern.name.length - b.pattern.name.length,
    );
  const byName = new Map<string, { name: string; value: string }>();
  const source = settings.secrets ?? process.env;
  for (const template of matching) {
    for (const header of template.headers) {
      const value = header.value.replace(SECRET_PLACEHOLDER, (_match, secretName: string) => {
        const secret = source[secretName];
        if (typeof secret !== 'string' || secret === '') {
          // Sending the request without its credential would fail in a confusing way, or worse, succeed.
          throw new HarnessError(
            'TOOL_ERROR',
            `the host is not configured for ${quoteHost(hostname)}: secret ${secretName} of header ${header.name} is not set`,
          );
        }
        if (!HEADER_VALUE.test(secret)) {
          throw new HarnessError(
            'TOOL_ERROR',
            `the host is not configured for ${quoteHost(hostname)}: secret ${secretName} contains a line break or NUL`,
          );
        }
        sentSecrets.add(secret);
        return secret;
      });
      byName.set(header.name.toLowerCase(), { name: header.name, value });
    }
  }
  return [...byName.values()];
}

interface OutgoingRequest {
  readonly url: URL;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
  /** Canonical hostname the URL names (for SNI, certificate checks and messages). */
  readonly hostname: string;
  readonly ca: readonly string[] | undefined;
}

function send(
  outgoing: OutgoingRequest,
  addresses: readonly string[],
  signal: AbortSignal,
): Promise<http.IncomingMessage> {
  const attempt = (index: number): Promise<http.IncomingMessage> =>
    sendTo(outgoing, addresses[index] as string, signal).catch((error: unknown) => {
      // Only when no connection was made is it safe (and useful) to try the next checked address.
      if (!signal.aborted && CONNECT_ERRORS.has(errorCode(error) ?? '') && index + 1 < addresses.length) {
        return attempt(index + 1);
      }
      throw error;
    });
  return attempt(0).catch((error: unknown) => {
    if (signal.aborted) throw signal.reason;
    throw networkFailure(error, outgoing.hostname);
  });
}

function sendTo(outgoing: OutgoingRequest, address: string, signal: AbortSignal): Promise<http.IncomingMessage> {
  const { url, method, headers, body, hostname, ca } = outgoing;
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const options: https.RequestOptions = {
      method,
      host: hostname,
      port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
      path: `${url.pathname}${url.search}`,
      headers,
      // The connection goes to the address that was checked, whatever DNS would answer now.
      lookup: pinnedLookup(address),
      family: isIP(address),
      // A pooled socket could be connected to an address checked for an earlier request.
      agent: false,
      signal,
    };
    if (secure) {
      // SNI and the certificate check use the name the script asked for, not the address.
      if (isIP(hostname) === 0) options.servername = hostname;
      if (ca !== undefined) options.ca = [...ca];
    }
    const request = (secure ? https : http).request(options);
    request.once('response', resolve);
    request.once('error', reject);
    request.end(body);
  });
}

interface ReadOptions {
  readonly url: URL;
  readonly hostname: string;
  readonly method: string;
  readonly maxResponseBytes: number;
  readonly maxOutputBytes: number;
  readonly secrets: ReadonlySet<string>;
  readonly signal: AbortSignal;
}

async function readResponse(response: http.IncomingMessage, options: ReadOptions): Promise<HttpResult> {
  const { url, hostname, method, maxResponseBytes, maxOutputBytes, secrets, signal } = options;
  const scrub = scrubber(secrets);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined) continue;
    headers[name] = scrub(Array.isArray(value) ? value.join(', ') : value);
  }
  const finalUrl = scrub(url.href);
  const status = response.statusCode ?? 0;
  if (method === 'HEAD' || status === 204 || status === 304) {
    response.destroy();
    return { url: finalUrl, status, headers, body: '', truncated: false };
  }

  // The body must fit the tool-result cap as JSON, next to the headers.
  const jsonBudget = Math.max(0, maxOutputBytes - RESULT_OVERHEAD_BYTES - jsonBytes(headers) - jsonBytes(finalUrl));
  const keepBytes = Math.min(maxResponseBytes, jsonBudget);
  // Read a little past the cap so a secret that straddles it is still recognised and scrubbed.
  const window = Math.max(0, ...[...secrets].map((secret) => Buffer.byteLength(secret, 'utf8')));
  const chunks: Buffer[] = [];
  let received = 0;
  let overflow = false;
  const onAbort = () => response.destroy(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      received += chunk.length;
      if (received > keepBytes + window) {
        overflow = true;
        break;
      }
    }
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw networkFailure(error, hostname);
  } finally {
    signal.removeEventListener('abort', onAbort);
    response.destroy();
  }
  const bytes = Buffer.concat(chunks);
  let text = scrub(new TextDecoder('utf-8').decode(bytes.subarray(0, utf8Boundary(bytes))));
  let truncated = overflow || bytes.length > keepBytes;
  if (Buffer.byteLength(text, 'utf8') > keepBytes) {
    text = prefixWithinUtf8Bytes(text, keepBytes);
    truncated = true;
  }
  if (jsonBytes(text) > jsonBudget) {
    text = prefixWithinJsonBytes(text, jsonBudget - 2); // the budget holds the quotes too
    truncated = true;
  }
  return { url: finalUrl, status, headers, body: text, truncated };
}

/** Replaces every secret the host sent (long enough to recognise) with `[redacted]`. */
function scrubber(secrets: ReadonlySet<string>): (text: string) => string {
  // Longest first, so a secret that contains another is replaced whole.
  const list = [...secrets]
    .filter((secret) => secret.length >= MIN_SCRUBBED_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length);
  if (list.length === 0) return (text) => text;
  return (text) => list.reduce((current, secret) => current.split(secret).join(REDACTED_SECRET), text);
}

function parseTemplates(input: Readonly<Record<string, Readonly<Record<string, string>>>>): HeaderTemplate[] {
  const templates: HeaderTemplate[] = [];
  const problems: string[] = [];
  for (const [patternText, headers] of Object.entries(input)) {
    const pattern = parseHostPattern(patternText);
    if (pattern === undefined) {
      problems.push(`${JSON.stringify(patternText)} is not a host pattern`);
      continue;
    }
    const list: { name: string; value: string }[] = [];
    for (const [name, value] of Object.entries(headers ?? {})) {
      // Problems name the header, never the value: it may hold a secret written inline.
      if (!HEADER_NAME.test(name)) problems.push(`${JSON.stringify(name)} is not an HTTP header name`);
      else if (FORBIDDEN_REQUEST_HEADERS.has(name.toLowerCase())) {
        problems.push(`header ${name} cannot be templated`);
      } else if (typeof value !== 'string' || !HEADER_VALUE.test(value)) {
        problems.push(`the value of header ${name} for ${patternText} is not a single-line string`);
      } else list.push({ name, value });
    }
    templates.push({ pattern, headers: list });
  }
  if (problems.length > 0) {
    throw new HarnessError('INVALID_REQUEST', `invalid headerTemplates: ${problems.join('; ')}`);
  }
  return templates;
}

/**
 * A harness error for a failed connection or exchange. Node's messages carry the address it
 * connected to (an internal one, for a refused redirect) and sometimes paths, so only the code is kept.
 */
function networkFailure(error: unknown, hostname: string): HarnessError {
  if (error instanceof HarnessError) return error;
  const code = errorCode(error);
  const host = quoteHost(hostname);
  const suffix = code === undefined ? '' : ` (${code})`;
  switch (code) {
    case 'ECONNREFUSED':
      return new HarnessError('TOOL_ERROR', `host ${host} refused the connection${suffix}`);
    case 'ECONNRESET':
    case 'EPIPE':
      return new HarnessError('TOOL_ERROR', `host ${host} closed the connection${suffix}`);
    case 'ETIMEDOUT':
      return new HarnessError('TOOL_ERROR', `connecting to host ${host} timed out${suffix}`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new HarnessError('TOOL_ERROR', `host ${host} is not reachable${suffix}`);
    default:
      if (code !== undefined && (code.startsWith('ERR_TLS') || /CERT|SSL|SIGNATURE/.test(code))) {
        return new HarnessError('TOOL_ERROR', `the TLS certificate of host ${host} was not accepted${suffix}`);
      }
      if (code?.startsWith('HPE_')) {
        return new HarnessError('TOOL_ERROR', `host ${host} sent a malformed HTTP response${suffix}`);
      }
      return new HarnessError('TOOL_ERROR', `the request to host ${host} failed${suffix}`);
  }
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[A-Z0-9_]+$/.test(code) ? code : undefined;
}

function quoteHost(hostname: string): string {
  return JSON.stringify(hostname.length > 253 ? `${hostname.slice(0, 253)}...` : hostname);
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  const chosen = value ?? fallback;
  if (!Number.isSafeInteger(chosen) || chosen <= 0) {
    throw new HarnessError('INVALID_REQUEST', `${name} must be a positive integer`);
  }
  return chosen;
}

/** Length of the longest prefix of `bytes` that does not end inside a multi-byte UTF-8 sequence. */
function utf8Boundary(bytes: Buffer): number {
  let lead = bytes.length - 1;
  while (lead >= 0 && ((bytes[lead] as number) & 0xc0) === 0x80) lead--;
  if (lead < 0) return bytes.length;
  const first = bytes[lead] as number;
  const sequenceLength = first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : first >= 0xc0 ? 2 : 1;
  return lead + sequenceLength > bytes.length ? lead : bytes.length;
}

function prefixWithinUtf8Bytes(text: string, budget: number): string {
  const bytes = Buffer.from(text, 'utf8').subarray(0, budget);
  return bytes.subarray(0, utf8Boundary(bytes)).toString('utf8');
}

function formatBytes(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
