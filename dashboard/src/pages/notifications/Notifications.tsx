import { useState } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import { useSession } from "../../session/session";
import { Empty, ErrorView, Page, Pagination, Show, StatusBadge } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";
import { Deliveries } from "./Deliveries";
import { Language } from "./Language";
import { NewChannel, eventLabels } from "./NewChannel";

/** Notification channels of the organization: LINE, Slack and signed webhooks. */
export default function Notifications() {
  const { api, me } = useSession();
  const orgId = me.organization.id;
  const [page, setPage] = useState(1);
  const [open, setOpen] = useState<string | null>(null);
  const channels = useApiData(
    () => unwrap(api.GET("/organizations/{id}/notification-channels", { params: { path: { id: orgId }, query: { page, limit: 20 } } })),
    [orgId, page],
  );
  const toggle = useAction(async (c: Schema<"NotificationChannelOut">) => {
    await unwrap(api.PATCH("/organizations/{id}/notification-channels/{channel_id}", { params: { path: { id: orgId, channel_id: c.id } }, body: { is_active: !c.is_active } }));
    channels.reload();
  });
  const remove = useAction(async (c: Schema<"NotificationChannelOut">) => {
    await unwrap(api.DELETE("/organizations/{id}/notification-channels/{channel_id}", { params: { path: { id: orgId, channel_id: c.id } } }));
    channels.reload();
  });
  return (
    <Page title="Notifications">
      <Language />
      <NewChannel onCreated={channels.reload} />
      {toggle.error && <ErrorView error={toggle.error} title="Channel not changed" />}
      {remove.error && <ErrorView error={remove.error} title="Channel not removed" />}
      <section aria-labelledby="channels-h">
        <h2 id="channels-h">Channels</h2>
        <Show data={channels} what="channels">
          {(p) =>
            (p.items ?? []).length === 0 ? (
              <Empty>No channels yet. Add one above to hear about agents in LINE, Slack or your own webhook.</Empty>
            ) : (
              <>
                <ul className="plain-list">
                  {(p.items ?? []).map((c) => (
                    <li key={c.id} className="panel">
                      <div className="row">
                        <strong>{c.name}</strong> <span className="muted">{c.kind}</span> <code className="muted">{c.target}</code>
                        <StatusBadge status={c.is_active ? c.status : "inactive"} />
                        <span className="row push-right">
                          <button type="button" aria-expanded={open === c.id} onClick={() => setOpen(open === c.id ? null : c.id)}>
                            {open === c.id ? "Hide deliveries" : "Deliveries"}
                            <span className="visually-hidden"> of {c.name}</span>
                          </button>
                          <button type="button" disabled={toggle.pending} onClick={() => void toggle.exec(c)}>
                            {c.is_active ? "Pause" : "Resume"}
                            <span className="visually-hidden"> {c.name}</span>
                          </button>
                          <button
                            type="button"
                            className="danger"
                            disabled={remove.pending}
                            onClick={() => {
                              if (window.confirm(`Remove the channel ${c.name} and its delivery log?`)) void remove.exec(c);
                            }}
                          >
                            Remove<span className="visually-hidden"> {c.name}</span>
                          </button>
                        </span>
                      </div>
                      <p className="muted small">
                        {(c.event_types ?? []).map((t) => eventLabels[t] ?? t).join(", ")}
                        {(c.repository_ids ?? []).length > 0 ? ` · ${(c.repository_ids ?? []).length} repositories` : " · every repository"}
                      </p>
                      {c.status === "failing" && c.failure_reason && (
                        <p className="error" role="note">
                          Failing: {c.failure_reason}
                        </p>
                      )}
                      {open === c.id && <Deliveries channel={c} onTested={channels.reload} />}
                    </li>
                  ))}
                </ul>
                <Pagination page={p.page} limit={p.limit} total={p.total} onPage={setPage} />
              </>
            )
          }
        </Show>
      </section>
    </Page>
  );
}
