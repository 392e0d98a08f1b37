/** Recent runs with outcome, duration and tool calls (one opens with its source); spawned tasks, cancellable. */
import { useState } from 'preact/hooks';
import type { ApiClient, ApiError } from './api.ts';
import { Failure, failureOf, JsonBlock, ScriptError, SourceView } from './components.tsx';
import { formatClock, formatDuration, shortId } from './format.ts';
import { usePolling } from './hooks.ts';
import type { RunDetail, RunSummary, TaskRecord } from './types.ts';

const POLL_MS = 2000;

export function RunsAndTasks(props: { api: ApiClient; active: boolean; onUnauthorized: (error: ApiError) => void }) {
  const { api } = props;
  const [runs, setRuns] = useState<readonly RunSummary[] | undefined>();
  const [tasks, setTasks] = useState<readonly TaskRecord[] | undefined>();
  const [problem, setProblem] = useState<{ code: string; message: string } | undefined>();
  const [detail, setDetail] = useState<RunDetail | undefined>();
  const [cancelling, setCancelling] = useState<string | undefined>();

  const refresh = usePolling(
    async (signal) => {
      try {
        const [nextRuns, nextTasks] = await Promise.all([api.runs(50, signal), api.tasks(50, signal)]);
        setRuns(nextRuns);
        setTasks(nextTasks);
        setProblem(undefined);
      } catch (error) {
        if (signal.aborted) return;
        setProblem(failureOf(error, props.onUnauthorized));
      }
    },
    POLL_MS,
    props.active,
  );

  const open = async (scriptId: string) => {
    try {
      setDetail(await api.run(scriptId));
    } catch (error) {
      setProblem(failureOf(error, props.onUnauthorized));
    }
  };

  const cancel = async (id: string) => {
    setCancelling(id);
    try {
      await api.cancelTask(id);
      refresh();
    } catch (error) {
      setProblem(failureOf(error, props.onUnauthorized));
    } finally {
      setCancelling(undefined);
    }
  };

  return (
    <div class="runs">
      {problem === undefined ? null : <Failure failure={problem} />}
      <section aria-labelledby="runs-heading">
        <h3 id="runs-heading">Recent scripts</h3>
        {runs === undefined ? <p class="muted">Loading…</p> : null}
        {runs?.length === 0 ? <p class="muted">No script has run on this server for you yet.</p> : null}
        {runs === undefined || runs.length === 0 ? null : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Started</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Duration</th>
                  <th scope="col">Tool calls</th>
                  <th scope="col">Console</th>
                  <th scope="col">Request</th>
                  <th scope="col">
                    <span class="visually-hidden">Details</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {runs.map((run) => (
                  <tr key={run.scriptId} class={`status-${run.status}`}>
                    <td>{formatClock(run.startedAt)}</td>
                    <td>
                      <span class={`pill ${run.status}`}>{run.status === 'error' ? run.error?.code : run.status}</span>
                      {run.attempts > 1 ? <span class="muted"> ({run.attempts} attempts)</span> : null}
                    </td>
                    <td>{formatDuration(run.durationMs)}</td>
                    <td>{run.toolCalls ?? '—'}</td>
                    <td>{run.consoleLines ?? '—'}</td>
                    <td>
                      <code title={run.requestId}>{shortId(run.requestId)}</code>
                    </td>
                    <td>
                      <button type="button" class="small" onClick={() => void open(run.scriptId)}>
                        Source<span class="visually-hidden"> of the run started at {formatClock(run.startedAt)}</span>
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {detail === undefined ? null : (
          <section class="run-detail" aria-label="The chosen run">
            <h4>
              Script <code>{shortId(detail.scriptId)}</code> · {detail.status} · {formatDuration(detail.durationMs)}
            </h4>
            {detail.error === undefined ? null : <ScriptError error={detail.error} />}
            <SourceView source={detail.source} line={detail.error?.line} label="Source" />
            {detail.sourceTruncated ? <p class="muted">The source was cut for display.</p> : null}
            <button type="button" onClick={() => setDetail(undefined)}>
              Close
            </button>
          </section>
        )}
      </section>
      <section aria-labelledby="tasks-heading">
        <h3 id="tasks-heading">Spawned tasks</h3>
        {tasks?.length === 0 ? <p class="muted">No task has been spawned for you.</p> : null}
        {tasks === undefined || tasks.length === 0 ? null : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Task</th>
                  <th scope="col">Tool</th>
                  <th scope="col">Status</th>
                  <th scope="col">Started</th>
                  <th scope="col">Ended</th>
                  <th scope="col">Result</th>
                  <th scope="col">
                    <span class="visually-hidden">Cancel</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {tasks.map((task) => {
                  const live = task.status === 'queued' || task.status === 'running';
                  return (
                    <tr key={task.id}>
                      <td>
                        <code title={task.id}>{shortId(task.id)}</code>
                      </td>
                      <td>
                        <code>{task.tool}</code>
                      </td>
                      <td>
                        <span class={`pill ${task.status}`}>{task.status}</span>
                      </td>
                      <td>{formatClock(task.startedAt)}</td>
                      <td>{task.endedAt === undefined ? '—' : formatClock(task.endedAt)}</td>
                      <td>
                        {task.error === undefined ? (
                          task.result === undefined ? (
                            '—'
                          ) : (
                            <JsonBlock value={task.result} />
                          )
                        ) : (
                          <ScriptError error={task.error} />
                        )}
                      </td>
                      <td>
                        {live ? (
                          <button
                            type="button"
                            class="small deny"
                            disabled={cancelling === task.id}
                            onClick={() => void cancel(task.id)}
                          >
                            Cancel<span class="visually-hidden"> task {task.id}</span>
                          </button>
                        ) : null}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
