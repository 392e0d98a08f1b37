/**
 * The playground: a script (or a whole assistant message), the runtime, tools and limits to run
 * it with, and Run. A script's run is streamed and shown as it happens — console lines, tool calls
 * with their arguments and results, progress, held calls with Approve and Deny — and ends with the
 * result, or the error with its line marked in the source.
 */
import { useRef, useState } from 'preact/hooks';
import type { ApiClient, ApiError } from './api.ts';
import type { ApprovalFeedState } from './approval-feed.ts';
import { ApprovalCard, Failure, failureOf, JsonBlock, ScriptError, SourceView } from './components.tsx';
import { formatDuration } from './format.ts';
import { applyRunEvent, endedRun, failedRun, IDLE_RUN, type RunState, startedRun } from './run-state.ts';
import type { ErrorData, HistoryItem, MessageExecution, RunSettings, ServerInfo } from './types.ts';

const EXAMPLE_SCRIPT = `console.log('hello from the sandbox');
const squares = [1, 2, 3].map((n) => n * n);
return { squares, total: squares.reduce((a, b) => a + b, 0) };
`;

const EXAMPLE_MESSAGE = `Let me add those up.
<tool-calls>
const numbers = [4, 8, 15, 16, 23, 42];
console.log('adding', numbers.length, 'numbers');
return numbers.reduce((a, b) => a + b, 0);
</tool-calls>
`;

type Mode = 'script' | 'message';

export interface PlaygroundProps {
  readonly api: ApiClient;
  readonly info: ServerInfo;
  readonly feed: ApprovalFeedState;
  readonly now: number;
  readonly onUnauthorized: (error: ApiError) => void;
}

export function Playground(props: PlaygroundProps) {
  const { api, info } = props;
  const [mode, setMode] = useState<Mode>('script');
  const [code, setCode] = useState(EXAMPLE_SCRIPT);
  const [message, setMessage] = useState(EXAMPLE_MESSAGE);
  const [language, setLanguage] = useState<'ts' | 'js'>('ts');
  const [runtime, setRuntime] = useState(info.defaultRuntime);
  const [tools, setTools] = useState<ReadonlySet<string>>(() => new Set(info.tools.map((tool) => tool.name)));
  const [limits, setLimits] = useState<Readonly<Record<string, string>>>({});
  const [run, setRun] = useState<RunState>(IDLE_RUN);
  const [ranSource, setRanSource] = useState('');
  const [execution, setExecution] = useState<MessageExecution | undefined>();
  const controller = useRef<AbortController | undefined>(undefined);
  const running = run.phase === 'running';

  const settings = (): RunSettings => {
    const chosenLimits: Record<string, number> = {};
    for (const [name, text] of Object.entries(limits)) {
      if (text.trim() !== '' && Number.isFinite(Number(text))) chosenLimits[name] = Number(text);
    }
    return {
      ...(runtime === info.defaultRuntime ? {} : { runtime }),
      ...(tools.size === info.tools.length ? {} : { tools: [...tools] }),
      ...(Object.keys(chosenLimits).length === 0 ? {} : { limits: chosenLimits }),
    };
  };

  const start = async () => {
    if (running) return;
    const abort = new AbortController();
    controller.current = abort;
    setExecution(undefined);
    setRun(startedRun());
    try {
      if (mode === 'script') {
        setRanSource(code);
        for await (const event of api.streamScript({ code, language, ...settings() }, abort.signal)) {
          setRun((state) => applyRunEvent(state, event));
        }
        setRun(endedRun);
      } else {
        setRanSource(message);
        const result = await api.executeMessage({ message, ...settings() }, abort.signal);
        setExecution(result);
        setRun((state) => ({ ...state, phase: 'done' }));
      }
    } catch (error) {
      if (abort.signal.aborted) {
        setRun((state) => failedRun(state, { code: 'STOPPED', message: 'stopped here; the server cancels the run' }));
        return;
      }
      const failure = failureOf(error, props.onUnauthorized);
      setRun((state) => failedRun(state, failure));
    } finally {
      if (controller.current === abort) controller.current = undefined;
    }
  };

  const onEditorKey = (event: KeyboardEvent) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void start();
    }
  };

  return (
    <div class="playground">
      <form
        class="run-form"
        aria-label="Run a script"
        onSubmit={(event) => {
          event.preventDefault();
          void start();
        }}
      >
        <fieldset class="mode">
          <legend>Run</legend>
          <label>
            <input type="radio" name="mode" checked={mode === 'script'} onChange={() => setMode('script')} /> a script
          </label>
          <label>
            <input type="radio" name="mode" checked={mode === 'message'} onChange={() => setMode('message')} /> an
            assistant message
          </label>
        </fieldset>

        {mode === 'script' ? (
          <label class="editor-label">
            Script <span class="muted">(the body of an async function; Ctrl+Enter runs it)</span>
            <textarea
              class="editor"
              name="code"
              rows={12}
              spellcheck={false}
              autocapitalize="off"
              value={code}
              onInput={(event) => setCode(event.currentTarget.value)}
              onKeyDown={onEditorKey}
            />
          </label>
        ) : (
          <label class="editor-label">
            Assistant message <span class="muted">(text with &lt;tool-calls&gt; blocks; Ctrl+Enter runs it)</span>
            <textarea
              class="editor"
              name="message"
              rows={12}
              spellcheck={false}
              autocapitalize="off"
              value={message}
              onInput={(event) => setMessage(event.currentTarget.value)}
              onKeyDown={onEditorKey}
            />
          </label>
        )}

        <div class="pickers">
          {mode === 'script' ? (
            <label>
              Language
              <select value={language} onChange={(event) => setLanguage(event.currentTarget.value as 'ts' | 'js')}>
                <option value="ts">TypeScript</option>
                <option value="js">JavaScript</option>
              </select>
            </label>
          ) : null}
          <label>
            Runtime
            <select value={runtime} onChange={(event) => setRuntime(event.currentTarget.value)}>
              {info.runtimes.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </label>
        </div>

        <details class="tools-picker">
          <summary>
            Tools ({tools.size} of {info.tools.length})
          </summary>
          {info.tools.length === 0 ? <p class="muted">This server has no tools.</p> : null}
          <ul class="checklist">
            {info.tools.map((tool) => (
              <li key={tool.name}>
                <label title={tool.description}>
                  <input
                    type="checkbox"
                    checked={tools.has(tool.name)}
                    onChange={(event) => {
                      const next = new Set(tools);
                      if (event.currentTarget.checked) next.add(tool.name);
                      else next.delete(tool.name);
                      setTools(next);
                    }}
                  />{' '}
                  <code>{tool.name}</code>
                  {tool.requiresApproval === 'never' ? null : (
                    <span class="badge">
                      {tool.requiresApproval === 'always' ? 'asks approval' : 'may ask approval'}
                    </span>
                  )}
                </label>
              </li>
            ))}
          </ul>
        </details>

        <details class="limits-picker">
          <summary>Limits</summary>
          <p class="muted">Empty fields keep the server's value (shown); the most a run may ask for is the ceiling.</p>
          <div class="limits-grid">
            {info.limits.map((limit) => (
              <label key={limit.name} title={limit.description}>
                <code>{limit.name}</code>
                <input
                  type="number"
                  inputMode="numeric"
                  min={0}
                  max={limit.max}
                  placeholder={String(limit.value)}
                  value={limits[limit.name] ?? ''}
                  onInput={(event) => setLimits({ ...limits, [limit.name]: event.currentTarget.value })}
                />
                <span class="muted small">
                  {limit.description}
                  {limit.max === undefined ? '' : ` (ceiling ${limit.max})`}
                </span>
              </label>
            ))}
          </div>
        </details>

        <div class="buttons">
          <button type="submit" class="primary" disabled={running}>
            {running ? 'Running…' : 'Run'}
          </button>
          <button type="button" disabled={!running} onClick={() => controller.current?.abort()}>
            Stop
          </button>
        </div>
      </form>

      <section class="output" aria-labelledby="output-heading">
        <h3 id="output-heading">Output</h3>
        <RunStatus run={run} execution={execution} />
        {mode === 'script' || execution === undefined ? (
          <ScriptOutput {...props} run={run} source={ranSource} />
        ) : (
          <MessageOutput execution={execution} />
        )}
      </section>
    </div>
  );
}

function RunStatus(props: { run: RunState; execution: MessageExecution | undefined }) {
  const { run, execution } = props;
  let text = 'Nothing has run yet.';
  if (run.phase === 'running') text = 'Running…';
  else if (run.failure !== undefined) text = 'The run did not complete.';
  else if (run.result !== undefined) {
    const { metadata } = run.result;
    text = `${run.result.ok ? 'Completed' : 'Failed'} in ${formatDuration(metadata.durationMs)} · ${metadata.toolCalls} tool call${metadata.toolCalls === 1 ? '' : 's'}`;
  } else if (execution !== undefined) {
    const failed = execution.results.filter((result) => !result.ok).length;
    text = `${execution.blocks} block${execution.blocks === 1 ? '' : 's'} · ${execution.results.length} ran · ${failed} failed`;
  }
  return (
    <p class="run-status" role="status" data-phase={run.phase}>
      {text}
    </p>
  );
}

function ScriptOutput(props: PlaygroundProps & { run: RunState; source: string }) {
  const { run, feed } = props;
  return (
    <>
      {run.entries.length === 0 ? null : (
        <ol class="events" aria-label="Events of the run">
          {run.entries.map((entry, index) => {
            switch (entry.kind) {
              case 'console':
                return (
                  <li key={index} class={`event console level-${entry.level}`}>
                    <span class="tag">{entry.level}</span> <span class="console-text">{entry.text}</span>
                  </li>
                );
              case 'progress':
                return (
                  <li key={index} class="event progress">
                    <span class="tag">progress</span> {entry.message}
                  </li>
                );
              case 'tool':
                return (
                  <li key={index} class={`event tool status-${entry.status ?? 'running'}`}>
                    <span class="tag">tool</span> <code>tools.{entry.tool}</code>{' '}
                    <span class="muted">
                      {entry.status ?? 'running'}
                      {entry.durationMs === undefined ? '' : ` in ${formatDuration(entry.durationMs)}`}
                    </span>
                    <div class="call-detail">
                      <span class="label">arguments</span>
                      <JsonBlock value={entry.args} />
                      {entry.value === undefined ? null : (
                        <>
                          <span class="label">result</span>
                          <JsonBlock value={entry.value} />
                        </>
                      )}
                      {entry.error === undefined ? null : <ScriptError error={entry.error} />}
                    </div>
                  </li>
                );
              default: {
                const settled = feed.history.find((known) => known.approval.id === entry.approval.id);
                return (
                  <li key={index} class="event approval">
                    <span class="tag">held</span> this call needs approval
                    <ApprovalCard
                      api={props.api}
                      approval={{
                        ...entry.approval,
                        ...(feed.pending.find((known) => known.id === entry.approval.id) ?? {}),
                      }}
                      clockOffsetMs={feed.clockOffsetMs}
                      now={props.now}
                      settled={settled}
                      headingLevel={4}
                    />
                  </li>
                );
              }
            }
          })}
        </ol>
      )}
      {run.failure === undefined ? null : <Failure failure={run.failure} />}
      {run.result === undefined ? null : (
        <ResultPanel ok={run.result.ok} value={run.result.value} error={run.result.error} />
      )}
      {run.result?.warnings.map((warning) => (
        <p key={warning.code} class="warning">
          <strong>{warning.code}</strong>: {warning.message}
        </p>
      ))}
      {run.phase === 'done' && props.source !== '' ? (
        <SourceView source={props.source} line={run.result?.error?.line} label="Source that ran" />
      ) : null}
    </>
  );
}

function ResultPanel(props: { ok: boolean; value: unknown; error: ErrorData | undefined }) {
  return (
    <div class={`result ${props.ok ? 'ok' : 'error'}`}>
      <h4>{props.ok ? 'Result' : 'Error'}</h4>
      {props.ok ? <JsonBlock value={props.value} /> : null}
      {props.error === undefined ? null : <ScriptError error={props.error} />}
    </div>
  );
}

function MessageOutput(props: { execution: MessageExecution }) {
  const { items } = props.execution;
  const outputs = new Map<string, Extract<HistoryItem, { type: 'script_tool_call_output' }>>();
  for (const item of items) if (item.type === 'script_tool_call_output') outputs.set(item.callId, item);
  return (
    <ol class="items" aria-label="The message, block by block">
      {items.map((item, index) => {
        switch (item.type) {
          case 'text':
          case 'reasoning':
            return (
              <li key={index} class={`item ${item.type}`}>
                <p>{item.text}</p>
              </li>
            );
          case 'tool_call':
            return (
              <li key={index} class="item">
                <span class="tag">tool call</span> <code>{item.name}</code>
                <JsonBlock value={item.arguments} />
              </li>
            );
          case 'script_tool_call': {
            const output = outputs.get(item.callId);
            return (
              <li key={index} class="item script">
                <SourceView source={item.source} line={output?.error?.line} label={`Script block ${item.callId}`} />
              </li>
            );
          }
          default:
            return (
              <li key={index} class="item output">
                {item.console?.map((line, lineIndex) => (
                  <p key={lineIndex} class="event console">
                    <span class="tag">{line.level}</span> <span class="console-text">{line.text}</span>
                  </p>
                ))}
                {item.calls?.map((call) => (
                  <p key={call.callId} class="event tool">
                    <span class="tag">tool</span> <code>tools.{call.tool}</code>{' '}
                    <span class="muted">{call.status}</span>
                  </p>
                ))}
                <ResultPanel ok={item.ok} value={item.value} error={item.error} />
              </li>
            );
        }
      })}
    </ol>
  );
}
