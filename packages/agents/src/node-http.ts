/**
 * Serves a node:http request (also what fastify's `request.raw`/`reply.raw` are) with a
 * web-standard fetch handler: headers and body in, status, headers and a streamed body out.
 * Streaming matters: an MCP response may be an SSE stream that stays open while a script runs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

export type FetchHandler = (request: Request, options: { parsedBody?: unknown }) => Promise<Response>;

/**
 * Answers `request` on `response` through `handler`. `parsedBody` is the body a framework has
 * already read and parsed (fastify's `request.body`); the stream is then not read again.
 */
export async function serveNodeRequest(
  request: IncomingMessage,
  response: ServerResponse,
  handler: FetchHandler,
  parsedBody?: unknown,
): Promise<void> {
  // A client that goes away cancels the exchange (and with it a running script).
  const disconnected = new AbortController();
  const onClose = () => {
    if (!response.writableFinished) disconnected.abort();
  };
  response.on('close', onClose);
  try {
    const webRequest = toWebRequest(request, parsedBody === undefined, disconnected.signal);
    const webResponse = await handler(webRequest, parsedBody === undefined ? {} : { parsedBody });
    await writeWebResponse(webResponse, response, disconnected.signal);
  } catch (error) {
    if (!response.headersSent) {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          jsonrpc: '2.0',
          id: null,
          error: { code: -32603, message: error instanceof Error ? error.message : 'internal error' },
        }),
      );
    } else response.destroy(error instanceof Error ? error : undefined);
  } finally {
    response.off('close', onClose);
  }
}

function toWebRequest(request: IncomingMessage, readBody: boolean, signal: AbortSignal): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) for (const item of value) headers.append(name, item);
  }
  const method = request.method ?? 'GET';
  const hasBody = readBody && method !== 'GET' && method !== 'HEAD';
  return new Request(`http://${request.headers.host ?? 'localhost'}${request.url ?? '/'}`, {
    method,
    headers,
    signal,
    ...(hasBody ? { body: Readable.toWeb(request) as ReadableStream<Uint8Array>, duplex: 'half' } : {}),
  });
}

async function writeWebResponse(webResponse: Response, response: ServerResponse, signal: AbortSignal): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  webResponse.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const cookies = webResponse.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  response.writeHead(webResponse.status, headers);
  if (webResponse.body === null) {
    response.end();
    return;
  }
  // An SSE stream must reach the client before its first event, not when the buffer fills.
  response.flushHeaders();
  const reader = webResponse.body.getReader();
  const cancel = () => {
    reader.cancel().catch(() => {});
  };
  signal.addEventListener('abort', cancel, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!response.write(value)) await drained(response);
    }
    response.end();
  } finally {
    signal.removeEventListener('abort', cancel);
  }
}

/** Resolves when the response can take more data, or is gone. */
function drained(response: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}
