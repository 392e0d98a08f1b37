/**
 * The console's frame: asks for the API key when the server wants one (kept in sessionStorage for
 * this tab only), then shows four pages behind plain links (`#/playground`, `#/approvals`,
 * `#/runs`, `#/health`), so every page is a Tab and an Enter away and the back button works.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { type ApiClient, ApiError, createApiClient } from './api.ts';
import { useApprovalFeed } from './approval-feed.ts';
import { Approvals } from './approvals.tsx';
import { errorInfo, Failure } from './components.tsx';
import { Health } from './health.tsx';
import { useNow } from './hooks.ts';
import { Playground } from './playground.tsx';
import { RunsAndTasks } from './runs.tsx';
import type { ServerInfo } from './types.ts';

const KEY_STORAGE = 'harness-console.api-key';

const PAGES = [
  { id: 'playground', title: 'Playground' },
  { id: 'approvals', title: 'Approvals' },
  { id: 'runs', title: 'Runs and tasks' },
  { id: 'health', title: 'Health' },
] as const;

type PageId = (typeof PAGES)[number]['id'];

function pageOf(hash: string): PageId {
  const id = hash.replace(/^#\/?/, '');
  return PAGES.find((page) => page.id === id)?.id ?? 'playground';
}

function readKey(): string | undefined {
  try {
    return sessionStorage.getItem(KEY_STORAGE) ?? undefined;
  } catch {
    return undefined;
  }
}

function writeKey(key: string | undefined): void {
  try {
    if (key === undefined) sessionStorage.removeItem(KEY_STORAGE);
    else sessionStorage.setItem(KEY_STORAGE, key);
  } catch {
    // Storage may be off; the key then lasts until the page is left.
  }
}

export function App() {
  const [page, setPage] = useState<PageId>(() => pageOf(location.hash));
  const [key, setKey] = useState<string | undefined>(readKey);
  const keyRef = useRef(key);
  keyRef.current = key;
  // The API is at the server's root; the page is at /ui/, whatever prefix a proxy adds in front.
  const api = useMemo<ApiClient>(
    () => createApiClient({ baseUrl: new URL('../', location.href), key: () => keyRef.current }),
    [],
  );
  const [info, setInfo] = useState<ServerInfo | undefined>();
  const [keyProblem, setKeyProblem] = useState<string | undefined>();
  const [loadProblem, setLoadProblem] = useState<{ code: string; message: string } | undefined>();
  const [attempt, setAttempt] = useState(0);
  const now = useNow(1000);
  const mainRef = useRef<HTMLElement>(null);
  const firstPage = useRef(true);

  const onUnauthorized = useCallback((error: ApiError) => {
    setInfo(undefined);
    setKeyProblem(error.message);
  }, []);

  useEffect(() => {
    const onHash = () => setPage(pageOf(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    if (firstPage.current) {
      firstPage.current = false;
      return;
    }
    // After choosing a page, the keyboard continues in it.
    mainRef.current?.querySelector<HTMLElement>(`#page-${page}`)?.focus();
  }, [page]);

  useEffect(() => {
    const controller = new AbortController();
    setLoadProblem(undefined);
    api.info(controller.signal).then(
      (loaded) => {
        setInfo(loaded);
        setKeyProblem(undefined);
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        if (error instanceof ApiError && error.status === 401) {
          setInfo(undefined);
          setKeyProblem(key === undefined ? undefined : error.message);
        } else setLoadProblem(errorInfo(error));
      },
    );
    return () => controller.abort();
  }, [api, key, attempt]);

  const feed = useApprovalFeed(api, info !== undefined, onUnauthorized);

  const chooseKey = (next: string | undefined) => {
    writeKey(next);
    setKey(next);
  };

  return (
    <>
      <button type="button" class="skip-link" onClick={() => mainRef.current?.focus()}>
        Skip to the page
      </button>
      <header class="top">
        <h1>harness console</h1>
        {info === undefined ? null : (
          <p class="who">
            tenant <strong>{info.tenant}</strong>
            {info.auth === 'none' ? <span class="muted"> (no API keys on this server)</span> : null}
            {info.auth === 'api-key' ? (
              <button type="button" class="small" onClick={() => chooseKey(undefined)}>
                Forget key
              </button>
            ) : null}
          </p>
        )}
      </header>
      {info === undefined ? null : (
        <nav class="pages" aria-label="Pages">
          <ul>
            {PAGES.map((entry) => (
              <li key={entry.id}>
                <a href={`#/${entry.id}`} aria-current={page === entry.id ? 'page' : undefined}>
                  {entry.title}
                  {entry.id === 'approvals' && feed.pending.length > 0 ? (
                    <>
                      <span class="count" aria-hidden="true">
                        {feed.pending.length}
                      </span>
                      <span class="visually-hidden"> ({feed.pending.length} pending)</span>
                    </>
                  ) : null}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      )}
      <main id="main" ref={mainRef} tabIndex={-1}>
        {info !== undefined ? (
          // Every page stays mounted (a run in the playground goes on while another page is shown).
          PAGES.map((entry) => (
            <section key={entry.id} hidden={page !== entry.id} aria-labelledby={`page-${entry.id}`}>
              <h2 id={`page-${entry.id}`} tabIndex={-1}>
                {entry.title}
              </h2>
              {entry.id === 'playground' ? (
                <Playground api={api} info={info} feed={feed} now={now} onUnauthorized={onUnauthorized} />
              ) : null}
              {entry.id === 'approvals' ? <Approvals api={api} feed={feed} now={now} /> : null}
              {entry.id === 'runs' ? (
                <RunsAndTasks api={api} active={page === 'runs'} onUnauthorized={onUnauthorized} />
              ) : null}
              {entry.id === 'health' ? (
                <Health api={api} active={page === 'health'} onUnauthorized={onUnauthorized} />
              ) : null}
            </section>
          ))
        ) : loadProblem !== undefined ? (
          <section>
            <h2>The server did not answer</h2>
            <Failure failure={loadProblem} />
            <button type="button" onClick={() => setAttempt(attempt + 1)}>
              Try again
            </button>
          </section>
        ) : (
          <KeyForm problem={keyProblem} onKey={chooseKey} />
        )}
      </main>
    </>
  );
}

function KeyForm(props: { problem: string | undefined; onKey: (key: string) => void }) {
  const [value, setValue] = useState('');
  return (
    <section class="key-form">
      <h2>API key</h2>
      <p>
        This server needs an API key, the same one a client sends as <code>Authorization: Bearer</code>. It is kept in
        this tab's session storage only and sent to this server only.
      </p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (value.trim() !== '') props.onKey(value.trim());
        }}
      >
        <label>
          API key
          <input
            type="password"
            name="api-key"
            autocomplete="off"
            value={value}
            onInput={(event) => setValue(event.currentTarget.value)}
          />
        </label>
        <button type="submit" class="primary">
          Use this key
        </button>
      </form>
      {props.problem === undefined ? null : (
        <p class="failure" role="alert">
          The key was not accepted: {props.problem}
        </p>
      )}
    </section>
  );
}
