import { useState } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import { useSession } from "../../session/session";
import { Empty, ErrorView, Pagination, Show, StatusBadge, Time } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";

/** A channel's delivery log, newest first, with "send a test message". */
export function Deliveries({ channel, onTested }: { channel: Schema<"NotificationChannelOut">; onTested: () => void }) {
  const { api, me } = useSession();
  const orgId = me.organization.id;
  const [page, setPage] = useState(1);
  const log = useApiData(
    () => unwrap(api.GET("/organizations/{id}/notification-channels/{channel_id}/deliveries", {
          params: { path: { id: orgId, channel_id: channel.id }, query: { page, limit: 20 } },
        }),
      ),
    [orgId, channel.id, page],
  );
  const test = useAction(async () => {
    await unwrap(api.POST("/organizations/{id}/notification-channels/{channel_id}/test", { params: { path: { id: orgId, channel_id: channel.id } } }));
    log.reload();
    onTested();
  });
  return (
    <div aria-label={`Deliveries of ${channel.name}`} role="region">
      <div className="row">
        <button type="button" disabled={test.pending} onClick={() => void test.exec()}>
          Send a test message<span className="visually-hidden"> to {channel.name}</span>
        </button>
        <button type="button" onClick={log.reload}>
          Refresh
        </button>
      </div>
      {test.error && <ErrorView error={test.error} title="Test message not sent" />}
      <Show data={log} what="deliveries">
        {(p) =>
          (p.items ?? []).length === 0 ? (
            <Empty>Nothing delivered yet.</Empty>
          ) : (
            <>
              <div className="table-wrap" tabIndex={0}>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Event</th>
                      <th scope="col">Status</th>
                      <th scope="col">Attempts</th>
                      <th scope="col">Answer</th>
                      <th scope="col">Last error</th>
                      <th scope="col">Queued</th>
                      <th scope="col">Next attempt</th>
                    </tr>
                  </thead>
                  <tbody>
                    {(p.items ?? []).map((d) => (
                      <tr key={d.id} data-testid="delivery">
                        <td>{d.event_type}</td>
                        <td>
                          <StatusBadge status={d.status} />
                        </td>
                        <td>{d.attempts}</td>
                        <td title={d.response_body ?? undefined}>{d.response_code ?? <span className="muted">—</span>}</td>
                        <td>{d.last_error ?? <span className="muted">—</span>}</td>
                        <td>
                          <Time value={d.created_at} />
                        </td>
                        <td>
                          <Time value={d.next_attempt_at} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pagination page={p.page} limit={p.limit} total={p.total} onPage={setPage} />
            </>
          )
        }
      </Show>
    </div>
  );
}
