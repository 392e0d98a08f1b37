/**
 * Server-sent events for a running script. Events can happen before the stream is open (a job
 * may start inside `submit`, before the route has answered), so the stream buffers until it is
 * attached to the response and then replays what it holds, in order.
 */
import type { ServerResponse } from 'node:http';

/** One event in the text/event-stream format; JSON never contains a raw newline, so `data` is one line. */
export function formatServerSentEvent(event: string, data: unknown, id?: number): string {
  if (!/^[a-z_]+$/.test(event)) throw new TypeError(`invalid event name ${JSON.stringify(event)}`);
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function wantsEventStream(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(accept);
}

export interface EventStreamOptions {
  /** A comment line this often keeps proxies from closing an idle stream (default 15 s). */
  readonly heartbeatMs?: number;
}

export interface EventStream {
  /** Sends (or, before `attach`, buffers) one event; ignored once the stream is ended or the client left. */
  send(event: string, data: unknown): void;
  /** Writes the response head and everything buffered so far. */
  attach(response: ServerResponse, headers?: Readonly<Record<string, string>>): void;
  /** Ends the response after the events sent so far. */
  end(): void;
  /** True once the client closed the connection. */
  readonly clientGone: boolean;
}

export function createEventStream(options: EventStreamOptions = {}): EventStream {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const buffered: string[] = [];
  let response: ServerResponse | undefined;
  let nextId = 1;
  let ended = false;
  let clientGone = false;
  let heartbeat: NodeJS.Timeout | undefined;

  const write = (chunk: string) => {
    if (response === undefined) buffered.push(chunk);
    else if (!clientGone) response.write(chunk);
  };

  return {
    get clientGone() {
      return clientGone;
    },
    send(event, data) {
      if (ended) return;
      write(formatServerSentEvent(event, data, nextId++));
    },
    attach(target, headers = {}) {
      response = target;
      target.on('close', () => {
        if (!target.writableFinished) clientGone = true;
        clearInterval(heartbeat);
      });
      target.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        // Reverse proxies (nginx) would otherwise hold events back until the buffer fills.
        'x-accel-buffering': 'no',
        ...headers,
      });
      target.write(': stream open\n\n');
      for (const chunk of buffered.splice(0)) target.write(chunk);
      heartbeat = setInterval(() => {
        if (!clientGone && !ended) target.write(': keep-alive\n\n');
      }, heartbeatMs);
      heartbeat.unref();
      if (ended) target.end();
    },
    end() {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      if (response !== undefined && !clientGone) response.end();
    },
  };
}
