/** Health: pool size and utilisation, queue depth, error rate and more, read from /ready, /live and /metrics. */
import type { ComponentChildren } from 'preact';
import { useRef, useState } from 'preact/hooks';
import type { ApiClient, ApiError } from './api.ts';
import { Failure, failureOf } from './components.tsx';
import { formatClock, formatDuration, formatPercent } from './format.ts';
import { usePolling } from './hooks.ts';
import {
  baselineOf,
  type HealthFigures,
  healthFigures,
  parsePrometheusText,
  type Reading,
  readingOf,
} from './metrics.ts';

const POLL_MS = 2000;
const WINDOW_MS = 60_000;

export function Health(props: { api: ApiClient; active: boolean; onUnauthorized: (error: ApiError) => void }) {
  const { api } = props;
  const readings = useRef<Reading[]>([]);
  const [figures, setFigures] = useState<HealthFigures | undefined>();
  const [lagMs, setLagMs] = useState<number | undefined>();
  const [updatedAt, setUpdatedAt] = useState<number | undefined>();
  const [problem, setProblem] = useState<{ code: string; message: string } | undefined>();

  usePolling(
    async (signal) => {
      try {
        const [ready, live, text] = await Promise.all([api.ready(signal), api.live(signal), api.metrics(signal)]);
        const now = Date.now();
        const samples = parsePrometheusText(text);
        const reading = readingOf(samples, now);
        readings.current = [...readings.current.filter((known) => now - known.atMs <= WINDOW_MS), reading];
        setFigures(healthFigures(ready, samples, reading, baselineOf(readings.current, now, WINDOW_MS)));
        setLagMs(live.eventLoopLagMs);
        setUpdatedAt(now);
        setProblem(undefined);
      } catch (error) {
        if (signal.aborted) return;
        setProblem(failureOf(error, props.onUnauthorized));
      }
    },
    POLL_MS,
    props.active,
  );

  if (figures === undefined) {
    return problem === undefined ? <p class="muted">Reading the server's figures…</p> : <Failure failure={problem} />;
  }
  const { pool, queue } = figures;
  return (
    <div class="health">
      {problem === undefined ? null : <Failure failure={problem} />}
      <p class="muted" role="status">
        Updated {updatedAt === undefined ? '—' : formatClock(updatedAt)}, every {POLL_MS / 1000} s, from /ready, /live
        and /metrics.
      </p>
      <div class="tiles">
        <Tile title="Readiness">
          <p class={`big ${figures.ready ? 'good' : 'bad'}`}>{figures.ready ? 'ready' : 'not ready'}</p>
          {figures.reasons.length === 0 ? null : (
            <ul>
              {figures.reasons.map((reason) => (
                <li key={reason}>{reason}</li>
              ))}
            </ul>
          )}
        </Tile>
        <Tile title="Sandbox pool">
          {pool === undefined ? (
            <p class="muted">Inline runtime: no pool.</p>
          ) : (
            <>
              <p class="big">{formatPercent(pool.utilisation)}</p>
              <meter min={0} max={pool.size} value={pool.busy} aria-label="busy workers" />
              <p>
                {pool.busy} of {pool.size} workers busy
              </p>
            </>
          )}
        </Tile>
        <Tile title="Queue">
          {queue === undefined ? (
            <p class="muted">No figures.</p>
          ) : (
            <>
              <p class="big">{queue.queued}</p>
              <meter min={0} max={queue.maxQueued} value={queue.queued} aria-label="queue fill" />
              <p>
                waiting (of {queue.maxQueued} allowed), {queue.running} running
              </p>
            </>
          )}
        </Tile>
        <Tile title="Error rate">
          <p class="big">{formatPercent(figures.errorRate)}</p>
          <p>
            {figures.failed} of {figures.scripts} scripts failed since start
          </p>
          <p>
            Last minute:{' '}
            {figures.recentErrorRate === undefined
              ? 'no scripts'
              : `${formatPercent(figures.recentErrorRate)} over ${formatDuration(figures.recentWindowMs)}`}
          </p>
          {figures.failuresByCode.length === 0 ? null : (
            <ul class="codes">
              {figures.failuresByCode.slice(0, 5).map((entry) => (
                <li key={entry.code}>
                  <code>{entry.code}</code> {entry.count}
                </li>
              ))}
            </ul>
          )}
        </Tile>
        <Tile title="Approvals pending">
          <p class="big">{figures.approvalsPending ?? '—'}</p>
        </Tile>
        <Tile title="Scripts running">
          <p class="big">{figures.sandboxesActive ?? '—'}</p>
        </Tile>
        <Tile title="Spawned tasks running">
          <p class="big">{figures.tasksActive ?? '—'}</p>
        </Tile>
        <Tile title="Event loop lag">
          <p class="big">{formatDuration(lagMs)}</p>
          <p class="muted">Worker restarts: {figures.workerRestarts ?? '—'}</p>
        </Tile>
      </div>
    </div>
  );
}

function Tile(props: { title: string; children: ComponentChildren }) {
  return (
    <section class="tile" aria-label={props.title}>
      <h3>{props.title}</h3>
      {props.children}
    </section>
  );
}
