import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createEventStream, formatServerSentEvent, wantsEventStream } from './sse.ts';

/** Just enough of a ServerResponse to record what the stream writes. */
function fakeResponse() {
  const emitter = new EventEmitter();
  const written: string[] = [];
  const response = Object.assign(emitter, {
    writableFinished: false,
    head: undefined as { status: number; headers: Record<string, string> } | undefined,
    writeHead(status: number, headers: Record<string, string>) {
      response.head = { status, headers };
      return response;
    },
    write(chunk: string) {
      written.push(chunk);
      return true;
    },
    end() {
      response.writableFinished = true;
      emitter.emit('close');
    },
  });
  return { response, written, asResponse: response as unknown as ServerResponse };
}

describe('formatServerSentEvent', () => {
  it('writes id, event and one data line of JSON', () => {
    expect(formatServerSentEvent('console', { text: 'a\nb' }, 3)).toBe(
      'id: 3\nevent: console\ndata: {"text":"a\\nb"}\n\n',
    );
    expect(() => formatServerSentEvent('bad\nname', {})).toThrow(TypeError);
  });
});

describe('wantsEventStream', () => {
  it('recognises text/event-stream among accepted types', () => {
    expect(wantsEventStream('text/event-stream')).toBe(true);
    expect(wantsEventStream('application/json, text/event-stream;q=0.9')).toBe(true);
    expect(wantsEventStream('application/json')).toBe(false);
    expect(wantsEventStream(undefined)).toBe(false);
    expect(wantsEventStream('text/event-streams')).toBe(false);
  });
});

describe('createEventStream', () => {
  it('buffers events sent before it is attached, then replays them in order', () => {
    const stream = createEventStream();
    stream.send('script_started', { scriptId: 's' });
    stream.send('console', { text: 'early' });
    const { response, written, asResponse } = fakeResponse();
    stream.attach(asResponse, { 'x-request-id': 'r1' });
    stream.send('script_completed', { ok: true });
    stream.end();
    expect(response.head).toEqual({
      status: 200,
      headers: expect.objectContaining({ 'content-type': 'text/event-stream; charset=utf-8', 'x-request-id': 'r1' }),
    });
    const events = written.join('').match(/event: \w+/g);
    expect(events).toEqual(['event: script_started', 'event: console', 'event: script_completed']);
    expect(written.join('')).toContain('id: 3\n');
    expect(response.writableFinished).toBe(true);
  });

  it('ignores events after the end, and after the client left', () => {
    const stream = createEventStream();
    const { response, written, asResponse } = fakeResponse();
    stream.attach(asResponse);
    response.emit('close');
    expect(stream.clientGone).toBe(true);
    const before = written.length;
    stream.send('console', { text: 'nobody listens' });
    stream.end();
    stream.send('console', { text: 'after the end' });
    expect(written).toHaveLength(before);
  });

  it('ends at once when ended before it was attached', () => {
    const stream = createEventStream();
    stream.send('script_error', {});
    stream.end();
    const { response, written, asResponse } = fakeResponse();
    stream.attach(asResponse);
    expect(written.join('')).toContain('event: script_error');
    expect(response.writableFinished).toBe(true);
  });
});
