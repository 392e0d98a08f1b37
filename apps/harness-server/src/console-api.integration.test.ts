/**
 * The endpoints behind the web console, on a real server: `/ui` (files, headers, the page shown
 * when the console is not built), `/v1/info`, `/v1/runs`, and the approval feed
 * (`/v1/approvals/events`, `/v1/approvals/history`).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_BUILD_COMMAND, consoleAssetsDirectory, uiRoutes } from './routes/ui.ts';
import {
  readEventStream,
  type ServerSentEvent,
  startTestServer,
  TENANT_KEYS,
  type TestServer,
} from './test-support.ts';

let server: TestServer;

/**
 * A long-lived event stream over node:http, closed by the test. (fetch's pool opens a spare
 * connection when a streaming response is cancelled, and a connection that never sends a request
 * holds up the server's close until its headers timeout.)
 */
async function openStream(path: string, tenant: keyof typeof TENANT_KEYS) {
  const controller = new AbortController();
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const request = httpRequest(
      `${server.url}${path}`,
      {
        headers: { authorization: `Bearer ${TENANT_KEYS[tenant]}`, accept: 'text/event-stream' },
        signal: controller.signal,
      },
      resolve,
    );
    request.on('error', (error) => {
      if (!controller.signal.aborted) reject(error);
    });
    request.end();
  });
  response.on('error', () => {});
  const events = readEventStream(Readable.toWeb(response) as ReadableStream<Uint8Array>);
  return {
    response,
    async next(): Promise<ServerSentEvent> {
      const { value, done } = await events.next();
      if (done) throw new Error('the stream ended');
      return value;
    },
    close: () => controller.abort(),
  };
}

beforeAll(async () => {
  server = await startTestServer({
    overrides: { policy: { rules: [{ tool: 'writeFile', decision: 'ask', reason: 'writes are reviewed' }] } },
  });
});

afterAll(async () => {
  await server?.close();
});

describe('/ui', () => {
  it('serves the built console without a key, under a strict content security policy', async () => {
    const redirect = await fetch(`${server.url}/ui`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/ui/');

    const page = await server.request('/ui/', { tenant: null });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const html = await page.text();
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    // Every asset is bundled and referenced relatively: nothing comes from another origin.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);

    const asset = await server.request(`/ui/${script}`, { tenant: null });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(await asset.text()).not.toMatch(/https?:\/\/(?!www\.w3\.org\/)/);

    expect((await server.request('/ui/no-such-file.js', { tenant: null })).status).toBe(404);
    expect((await server.request('/ui/../package.json', { tenant: null })).status).toBe(404);
  });

  it('finds the console build in the console package', async () => {
    const directory = consoleAssetsDirectory();
    expect(directory).toBeDefined();
    expect(await readdir(directory ?? '')).toContain('index.html');
  });

  it('says how to build the console when its files are missing', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'console-missing-'));
    const app = Fastify();
    await app.register(uiRoutes({ directory: empty }));
    try {
      for (const path of ['/ui', '/ui/', '/ui/assets/index.js']) {
        const reply = await app.inject({ method: 'GET', url: path });
        expect(reply.statusCode).toBe(503);
        expect(reply.headers['content-type']).toMatch(/^text\/html/);
        expect(reply.body).toContain('The console is not built');
        expect(reply.body).toContain(CONSOLE_BUILD_COMMAND);
      }
    } finally {
      await app.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('/v1/info', () => {
  it('needs a key, and tells the tenant, runtimes, tools and limits', async () => {
    expect((await server.request('/v1/info', { tenant: null })).status).toBe(401);
    const response = await server.request('/v1/info');
    expect(response.status).toBe(200);
    const info = (await response.json()) as {
      tenant: string;
      auth: string;
      runtimes: string[];
      defaultRuntime: string;
      tools: { name: string; requiresApproval: string }[];
      limits: { name: string; value: number; max?: number; description: string }[];
    };
    expect(info).toMatchObject({ tenant: 'alpha', auth: 'api-key', runtimes: ['quickjs'], defaultRuntime: 'quickjs' });
    expect(info.tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['echo', 'sleep', 'writeFile']));
    const timeout = info.limits.find((limit) => limit.name === 'timeoutMs');
    expect(timeout).toMatchObject({ value: expect.any(Number), max: expect.any(Number) });
    expect(timeout?.description).toMatch(/deadline/i);
  });
});

describe('/v1/runs', () => {
  it("lists the caller's recent scripts with outcome, duration and tool calls, and shows one with its source", async () => {
    const ok = await server.request('/v1/scripts', {
      body: { code: 'const a = await tools.echo({ text: "a" });\nconsole.log(a.text);\nreturn a.text;' },
    });
    expect(((await ok.json()) as { ok: boolean }).ok).toBe(true);
    const failed = await server.request('/v1/scripts', { body: { code: 'const x = 1;\nthrow new Error("boom");' } });
    const failedId = ((await failed.json()) as { metadata: { scriptId: string } }).metadata.scriptId;
    await server.request('/v1/messages:execute', {
      body: { message: 'Two things.\n<tool-calls>\nreturn await tools.echo({ text: "m" });\n</tool-calls>' },
    });

    const list = (await (await server.request('/v1/runs?limit=10')).json()) as {
      runs: {
        scriptId: string;
        status: string;
        durationMs?: number;
        toolCalls?: number;
        error?: { code: string; line?: number };
      }[];
    };
    expect(list.runs.map((run) => [run.status, run.toolCalls])).toEqual([
      ['ok', 1],
      ['error', 0],
      ['ok', 1],
    ]);
    expect(list.runs[1]).toMatchObject({ scriptId: failedId, error: { code: 'GUEST_ERROR', line: 2 } });
    expect(list.runs.every((run) => typeof run.durationMs === 'number')).toBe(true);

    const detail = (await (await server.request(`/v1/runs/${failedId}`)).json()) as {
      source: string;
      language: string;
    };
    expect(detail).toMatchObject({ source: 'const x = 1;\nthrow new Error("boom");', language: 'ts' });

    expect(((await (await server.request('/v1/runs', { tenant: 'beta' })).json()) as { runs: unknown[] }).runs).toEqual(
      [],
    );
    expect((await server.request(`/v1/runs/${failedId}`, { tenant: 'beta' })).status).toBe(404);
    expect((await server.request('/v1/runs?limit=0')).status).toBe(400);
    expect((await server.request('/v1/runs', { tenant: null })).status).toBe(401);
  });
});

describe('the approval feed', () => {
  it('streams a snapshot, each held call with its calling line and who asked, and its outcome', async () => {
    const feed = await openStream('/v1/approvals/events', 'alpha');
    const betaFeed = await openStream('/v1/approvals/events', 'beta');
    try {
      expect(feed.response.statusCode).toBe(200);
      expect(feed.response.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(await feed.next()).toMatchObject({
        event: 'snapshot',
        data: { pending: [], serverTime: expect.any(Number) },
      });
      expect(await betaFeed.next()).toMatchObject({ event: 'snapshot', data: { pending: [] } });

      const script = server.request('/v1/scripts', {
        body: {
          code: 'console.log("about to write");\ntry {\n  await tools.writeFile({ path: "note.txt", content: "hi" });\n  return "written";\n} catch (error) {\n  return error.code;\n}',
        },
      });
      const requested = await feed.next();
      expect(requested.event).toBe('approval_requested');
      const approval = requested.data as { id: string; argsHash: string };
      expect(approval).toMatchObject({
        tool: 'writeFile',
        args: { path: 'note.txt', content: 'hi' },
        scriptExcerpt: 'line 3: await tools.writeFile({ path: "note.txt", content: "hi" });',
        requestedBy: { tenant: 'alpha', requestId: expect.any(String) },
      });

      const decided = await server.request(`/v1/approvals/${approval.id}`, {
        body: { decision: 'deny', reason: 'not today', argsHash: approval.argsHash },
      });
      expect(decided.status).toBe(200);
      expect(await feed.next()).toMatchObject({
        event: 'approval_settled',
        data: { status: 'denied', by: 'alpha', reason: 'not today', approval: { id: approval.id } },
      });
      expect(((await (await script).json()) as { value: unknown }).value).toBe('APPROVAL_DENIED');

      const history = (await (await server.request('/v1/approvals/history')).json()) as {
        approvals: { status: string; approval: { id: string } }[];
      };
      expect(history.approvals[0]).toMatchObject({ status: 'denied', approval: { id: approval.id } });
      const betaHistory = (await (await server.request('/v1/approvals/history', { tenant: 'beta' })).json()) as {
        approvals: unknown[];
      };
      expect(betaHistory.approvals).toEqual([]);

      // The other tenant's stream hears nothing of alpha's approvals: its next event is its own.
      const betaScript = server.request('/v1/scripts', {
        tenant: 'beta',
        body: {
          code: 'try { await tools.writeFile({ path: "b.txt", content: "b" }); } catch (error) { return error.code; }',
        },
      });
      const betaRequested = await betaFeed.next();
      expect(betaRequested).toMatchObject({ event: 'approval_requested', data: { requestedBy: { tenant: 'beta' } } });
      const betaId = (betaRequested.data as { id: string }).id;
      await server.request(`/v1/approvals/${betaId}`, { tenant: 'beta', body: { decision: 'deny' } });
      expect(((await (await betaScript).json()) as { value: unknown }).value).toBe('APPROVAL_DENIED');
    } finally {
      feed.close();
      betaFeed.close();
    }
  });

  it('ends open streams when the server shuts down, so they do not hold it up', async () => {
    const other = await startTestServer();
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = httpRequest(
        `${other.url}/v1/approvals/events`,
        { headers: { authorization: `Bearer ${TENANT_KEYS.alpha}` } },
        resolve,
      );
      request.on('error', reject);
      request.end();
    });
    const ended = new Promise<string>((resolve) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => resolve(text));
    });
    await other.close();
    expect(await ended).toContain('event: snapshot');
  });

  it('needs a key', async () => {
    expect((await server.request('/v1/approvals/events', { tenant: null })).status).toBe(401);
    expect((await server.request('/v1/approvals/history', { tenant: null })).status).toBe(401);
  });
});
