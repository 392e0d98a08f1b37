/** Pieces the pages share: source with a highlighted line, JSON blocks, approval cards, errors. */
import { useId, useState } from 'preact/hooks';
import { type ApiClient, ApiError } from './api.ts';
import { formatJson, formatTimeLeft, shortId } from './format.ts';
import type { ErrorData, PendingApproval, SettledApproval } from './types.ts';

/** The source with line numbers; `line` (1-based) is marked, as where an error happened. */
export function SourceView(props: { source: string; line?: number | undefined; label: string }) {
  const lines = props.source.split(/\r?\n/);
  // A final newline does not make a line of its own.
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return (
    <figure class="source-figure">
      <figcaption>{props.label}</figcaption>
      <ol class="source" aria-label={props.label}>
        {lines.map((text, index) => {
          const number = index + 1;
          const marked = number === props.line;
          return (
            <li key={number} class={marked ? 'error-line' : undefined} aria-current={marked ? 'true' : undefined}>
              <code>{text === '' ? ' ' : text}</code>
              {marked ? <span class="visually-hidden"> (the error is on this line)</span> : null}
            </li>
          );
        })}
      </ol>
    </figure>
  );
}

export function JsonBlock(props: { value: unknown }) {
  return <pre class="json">{formatJson(props.value)}</pre>;
}

/** A script error: code, message and where. */
export function ScriptError(props: { error: Pick<ErrorData, 'code' | 'message' | 'line' | 'column' | 'details'> }) {
  const { error } = props;
  return (
    <div class="script-error" role="alert">
      <strong class="code">{error.code}</strong> {error.message}
      {error.line === undefined ? null : (
        <span class="where">
          {' '}
          at line {error.line}
          {error.column === undefined ? '' : `, column ${error.column}`}
        </span>
      )}
    </div>
  );
}

export function Failure(props: { failure: { code: string; message: string } }) {
  return (
    <p class="failure" role="alert">
      <strong>{props.failure.code}</strong>: {props.failure.message}
    </p>
  );
}

/** What a failed request shows; a 401 also tells the app, which asks for a key again. */
export function failureOf(
  error: unknown,
  onUnauthorized: (error: ApiError) => void,
): { code: string; message: string } {
  if (error instanceof ApiError && error.status === 401) onUnauthorized(error);
  return errorInfo(error);
}

export function errorInfo(error: unknown): { code: string; message: string } {
  if (error instanceof ApiError) return { code: error.code, message: error.message };
  if (error instanceof Error) return { code: error.name, message: error.message };
  return { code: 'ERROR', message: String(error) };
}

export interface ApprovalCardProps {
  readonly api: ApiClient;
  readonly approval: PendingApproval;
  /** Server time minus this page's time, for the countdown. */
  readonly clockOffsetMs: number;
  readonly now: number;
  /** The approval's outcome once settled (the card then shows it instead of the buttons). */
  readonly settled?: SettledApproval | undefined;
  readonly headingLevel?: 3 | 4;
}

/** One held tool call: what would run, where in the script, who asked, time left; approve or deny with a reason. */
export function ApprovalCard(props: ApprovalCardProps) {
  const { api, approval, settled } = props;
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | undefined>();
  const Heading = props.headingLevel === 4 ? 'h4' : 'h3';
  const titleId = useId();

  const decide = async (decision: 'approve' | 'deny') => {
    setBusy(true);
    setProblem(undefined);
    try {
      await api.decide(approval.id, decision, { reason, argsHash: approval.argsHash });
    } catch (error) {
      const info = errorInfo(error);
      setProblem(`${info.code}: ${info.message}`);
      setBusy(false);
    }
  };

  return (
    <article class={`approval-card ${settled === undefined ? 'pending' : settled.status}`} aria-labelledby={titleId}>
      <Heading id={titleId}>
        <code>tools.{approval.tool}</code> <span class="muted">call #{approval.sequence}</span>
      </Heading>
      <dl class="facts">
        <dt>Asked by</dt>
        <dd>
          {approval.requestedBy?.tenant ?? 'unknown tenant'} · request{' '}
          <code title={approval.requestedBy?.requestId}>{shortId(approval.requestedBy?.requestId)}</code> · script{' '}
          <code title={approval.scriptId}>{shortId(approval.scriptId)}</code>
        </dd>
        {settled === undefined ? (
          <>
            <dt>Time left</dt>
            <dd class="time-left">{formatTimeLeft(approval.expiresAt, props.now + props.clockOffsetMs)}</dd>
          </>
        ) : null}
      </dl>
      <p class="label">Arguments (secrets redacted)</p>
      <JsonBlock value={approval.args} />
      <p class="label">Calling line</p>
      {approval.scriptExcerpt === undefined ? (
        <p class="muted">not found in the script (a computed tool name, or a script this node did not run)</p>
      ) : (
        <pre class="excerpt">{approval.scriptExcerpt}</pre>
      )}
      {settled === undefined ? (
        <form
          class="decision"
          onSubmit={(event) => {
            event.preventDefault();
          }}
        >
          <label>
            Reason <span class="muted">(optional, recorded with the decision)</span>
            <input
              type="text"
              value={reason}
              maxLength={1000}
              onInput={(event) => setReason(event.currentTarget.value)}
              disabled={busy}
            />
          </label>
          <div class="buttons">
            <button type="button" class="approve" disabled={busy} onClick={() => void decide('approve')}>
              Approve
            </button>
            <button type="button" class="deny" disabled={busy} onClick={() => void decide('deny')}>
              Deny
            </button>
          </div>
          {problem === undefined ? null : (
            <p class="failure" role="alert">
              {problem}
            </p>
          )}
        </form>
      ) : (
        <p class="settled-status" role="status">
          {settledLabel(settled)}
        </p>
      )}
    </article>
  );
}

export function settledLabel(settled: SettledApproval): string {
  const by = settled.by === undefined ? '' : ` by ${settled.by}`;
  const reason = settled.reason === undefined ? '' : `: ${settled.reason}`;
  switch (settled.status) {
    case 'approved':
      return `Approved${by}${reason}`;
    case 'denied':
      return `Denied${by}${reason}`;
    case 'timeout':
      return 'Timed out without a decision';
    default:
      return `Cancelled${reason}`;
  }
}
