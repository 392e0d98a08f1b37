/**
 * A `fetch` for SDK clients that answers each request with the next recorded response body and
 * keeps what was sent: the SDKs run their real request, parsing and tool-runner code, and nothing
 * leaves the process.
 */
export interface ReplayFetch {
  readonly fetch: typeof globalThis.fetch;
  /** The JSON bodies of the requests made so far, in order. */
  readonly requests: Record<string, unknown>[];
}

export function replayFetch(responses: readonly unknown[]): ReplayFetch {
  const pending = [...responses];
  const requests: Record<string, unknown>[] = [];
  const fetch = async (_input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    requests.push(typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : {});
    const body = pending.shift();
    if (body === undefined) return Response.json({ error: { message: 'no recorded response left' } }, { status: 500 });
    return Response.json(body, { headers: { 'request-id': `req_${requests.length}` } });
  };
  return { fetch: fetch as typeof globalThis.fetch, requests };
}
