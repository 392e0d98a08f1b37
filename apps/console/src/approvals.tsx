/** The approvals page: pending approvals live, each with Approve and Deny; settled ones below. */
import type { ApiClient } from './api.ts';
import type { ApprovalFeedState } from './approval-feed.ts';
import { ApprovalCard, settledLabel } from './components.tsx';
import { formatClock, formatJson } from './format.ts';

export function Approvals(props: { api: ApiClient; feed: ApprovalFeedState; now: number }) {
  const { feed } = props;
  return (
    <div class="approvals">
      <p class="connection" role="status">
        {feed.connected ? 'Live: new approvals appear here as scripts ask.' : 'Connecting to the approval stream…'}
        {feed.problem === undefined ? null : <span class="failure"> ({feed.problem}; retrying)</span>}
      </p>
      <section aria-labelledby="pending-heading">
        <h3 id="pending-heading">Pending ({feed.pending.length})</h3>
        {feed.pending.length === 0 ? <p class="muted">No tool call is waiting for a decision.</p> : null}
        <div class="cards">
          {feed.pending.map((approval) => (
            <ApprovalCard
              key={approval.id}
              api={props.api}
              approval={approval}
              clockOffsetMs={feed.clockOffsetMs}
              now={props.now}
              headingLevel={4}
            />
          ))}
        </div>
      </section>
      <section aria-labelledby="history-heading">
        <h3 id="history-heading">Decided</h3>
        {feed.history.length === 0 ? (
          <p class="muted">Nothing decided yet.</p>
        ) : (
          <div class="table-wrap">
            <table class="history">
              <thead>
                <tr>
                  <th scope="col">Settled</th>
                  <th scope="col">Tool</th>
                  <th scope="col">Arguments</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Asked by</th>
                </tr>
              </thead>
              <tbody>
                {feed.history.map((settled) => (
                  <tr key={settled.approval.id} class={`outcome-${settled.status}`}>
                    <td>{formatClock(settled.settledAt)}</td>
                    <td>
                      <code>{settled.approval.tool}</code>
                    </td>
                    <td>
                      <code class="clip">{formatJson(settled.approval.args, 200).replace(/\s+/g, ' ')}</code>
                    </td>
                    <td>{settledLabel(settled)}</td>
                    <td>{settled.approval.requestedBy?.tenant ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
