import { useEffect, useRef, useState } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import { useSession } from "../../session/session";
import { useT } from "../../i18n/i18n";
import { Empty, ErrorView, Pagination, Show, StatusBadge, Time } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";
import { fingerprint, nextRefreshIn } from "./refresh";

/** A channel's delivery log, newest first, with "send a test message". */
export function Deliveries({ channel, onTested }: { channel: Schema<"NotificationChannelOut">; onTested: () => void }) {
  const { api, me } = useSession();
  const t = useT();
  const orgId = me.organization.id;
  const [page, setPage] = useState(1);
  const log = useApiData(
    () => unwrap(api.GET("/organizations/{id}/notification-channels/{channel_id}/deliveries", {
          params: { path: { id: orgId, channel_id: channel.id }, query: { page, limit: 20 } },
        }),
      ),
    [orgId, channel.id, page],
  );
  // The log follows what is in flight: the first attempt may belong to another deliverer
  // (the API after commit, the sweep), so "delivering" is read again until it settles.
  const items = log.status === "ready" ? log.data.items : undefined;
  const { reload } = log;
  const seen = useRef({ print: "", unchanged: 0 });
  useEffect(() => {
    const print = fingerprint(items ?? []);
    seen.current = print === seen.current.print ? { print, unchanged: seen.current.unchanged + 1 } : { print, unchanged: 0 };
    const wait = nextRefreshIn(items ?? [], Date.now(), seen.current.unchanged);
    if (wait === null) return;
    const timer = window.setTimeout(reload, wait);
    return () => window.clearTimeout(timer);
  }, [items, reload]);
  const test = useAction(async () => {
    await unwrap(api.POST("/organizations/{id}/notification-channels/{channel_id}/test", { params: { path: { id: orgId, channel_id: channel.id } } }));
    log.reload();
    onTested();
  });
  return (
    <div aria-label={t.notifications.deliveriesOf(channel.name)} role="region">
      <div className="row">
        <button type="button" disabled={test.pending} aria-label={t.notifications.sendTestTo(channel.name)} onClick={() => void test.exec()}>
          {t.notifications.sendTest}
        </button>
        <button type="button" onClick={log.reload}>
          {t.notifications.refresh}
        </button>
      </div>
      {test.error && <ErrorView error={test.error} title={t.notifications.testNotSent} />}
      <Show data={log} what={t.notifications.deliveriesWhat}>
        {(p) =>
          (p.items ?? []).length === 0 ? (
            <Empty>{t.notifications.noDeliveries}</Empty>
          ) : (
            <>
              <div className="table-wrap" tabIndex={0}>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">{t.notifications.event}</th>
                      <th scope="col">{t.common.status}</th>
                      <th scope="col">{t.notifications.attempts}</th>
                      <th scope="col">{t.notifications.answer}</th>
                      <th scope="col">{t.notifications.lastError}</th>
                      <th scope="col">{t.notifications.queued}</th>
                      <th scope="col">{t.notifications.nextAttempt}</th>
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
              <Pagination page={p.page} limit={p.limit} total={p.total} onPage={setPage} label={t.notifications.deliveriesOf(channel.name)} />
            </>
          )
        }
      </Show>
    </div>
  );
}
