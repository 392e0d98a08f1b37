import { describe, expect, it } from 'vitest';
import { readEventStream, type ServerSentEvent } from './sse.ts';

function streamOf(chunks: readonly string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function collect(chunks: readonly string[]): Promise<ServerSentEvent[]> {
  const events: ServerSentEvent[] = [];
  for await (const event of readEventStream(streamOf(chunks))) events.push(event);
  return events;
}

describe('readEventStream', () => {
  it('reads named events with ids and skips comments', async () => {
    const events = await collect([
      ': stream open\n\n',
      'id: 1\nevent: console\ndata: {"text":"hi"}\n\n',
      ': keep-alive\n\n',
    ]);
    expect(events).toEqual([{ event: 'console', data: '{"text":"hi"}', id: '1' }]);
  });

  it('joins data lines, defaults the name to message and drops events without data', async () => {
    const events = await collect(['data: a\ndata: b\n\nevent: empty\n\ndata:c\n\n']);
    expect(events).toEqual([
      { event: 'message', data: 'a\nb', id: undefined },
      { event: 'message', data: 'c', id: undefined },
    ]);
  });

  it('reassembles events split anywhere across chunks, CRLF and CR line ends included', async () => {
    const text = 'event: one\r\ndata: 1\r\n\r\nevent: two\rdata: 2\r\revent: three\ndata: 3\n\n';
    for (let cut = 1; cut < text.length; cut++) {
      const events = await collect([text.slice(0, cut), text.slice(cut)]);
      expect(events.map((event) => `${event.event}=${event.data}`)).toEqual(['one=1', 'two=2', 'three=3']);
    }
  });

  it('decodes multi-byte characters split between chunks', async () => {
    const bytes = new TextEncoder().encode('data: héllo ✓\n\n');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const byte of bytes) controller.enqueue(new Uint8Array([byte]));
        controller.close();
      },
    });
    const events: ServerSentEvent[] = [];
    for await (const event of readEventStream(body)) events.push(event);
    expect(events).toEqual([{ event: 'message', data: 'héllo ✓', id: undefined }]);
  });

  it('does not dispatch an event the stream ended in the middle of', async () => {
    expect(await collect(['event: done\ndata: {}\n\nevent: cut\ndata: {'])).toEqual([
      { event: 'done', data: '{}', id: undefined },
    ]);
  });
});
