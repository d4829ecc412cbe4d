import { useState } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import { useSession } from "../../session/session";
import { useT } from "../../i18n/i18n";
import { lookup } from "../../i18n/en";
import { Empty, ErrorView, Page, Pagination, Show, StatusBadge } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";
import { Deliveries } from "./Deliveries";
import { Language } from "./Language";
import { NewChannel } from "./NewChannel";

/** Notification channels of the organization: LINE, Slack and signed webhooks. */
export default function Notifications() {
  const { api, me } = useSession();
  const t = useT();
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
    <Page title={t.notifications.title}>
      <Language />
      <NewChannel onCreated={channels.reload} />
      {toggle.error && <ErrorView error={toggle.error} title={t.notifications.notChanged} />}
      {remove.error && <ErrorView error={remove.error} title={t.notifications.notRemoved} />}
      <section aria-labelledby="channels-h">
        <h2 id="channels-h">{t.notifications.channels}</h2>
        <Show data={channels} what={t.notifications.channelsWhat}>
          {(p) =>
            (p.items ?? []).length === 0 ? (
              <Empty>{t.notifications.empty}</Empty>
            ) : (
              <>
                <ul className="plain-list">
                  {(p.items ?? []).map((c) => (
                    <li key={c.id} className="panel">
                      <div className="row">
                        <strong>{c.name}</strong> <span className="muted">{c.kind}</span> <code className="muted">{c.target}</code>
                        <StatusBadge status={c.is_active ? c.status : "inactive"} />
                        <span className="row push-right">
                          <button
                            type="button"
                            aria-expanded={open === c.id}
                            aria-label={open === c.id ? t.notifications.hideDeliveriesOf(c.name) : t.notifications.deliveriesOf(c.name)}
                            onClick={() => setOpen(open === c.id ? null : c.id)}
                          >
                            {open === c.id ? t.notifications.hideDeliveries : t.notifications.deliveries}
                          </button>
                          <button
                            type="button"
                            disabled={toggle.pending}
                            aria-label={c.is_active ? t.notifications.pauseChannel(c.name) : t.notifications.resumeChannel(c.name)}
                            onClick={() => void toggle.exec(c)}
                          >
                            {c.is_active ? t.notifications.pause : t.notifications.resume}
                          </button>
                          <button
                            type="button"
                            className="danger"
                            disabled={remove.pending}
                            aria-label={t.notifications.removeChannel(c.name)}
                            onClick={() => {
                              if (window.confirm(t.notifications.confirmRemove(c.name))) void remove.exec(c);
                            }}
                          >
                            {t.common.remove}
                          </button>
                        </span>
                      </div>
                      <p className="muted small">
                        {(c.event_types ?? []).map((e) => lookup(t.notifications.events, e)).join(", ")}
                        {" · "}
                        {(c.repository_ids ?? []).length > 0 ? t.notifications.repositories((c.repository_ids ?? []).length) : t.notifications.everyRepository}
                      </p>
                      {c.status === "failing" && c.failure_reason && (
                        <p className="error" role="note">
                          {t.notifications.failing(c.failure_reason)}
                        </p>
                      )}
                      {open === c.id && <Deliveries channel={c} onTested={channels.reload} />}
                    </li>
                  ))}
                </ul>
                <Pagination page={p.page} limit={p.limit} total={p.total} onPage={setPage} label={t.notifications.channels} />
              </>
            )
          }
        </Show>
      </section>
    </Page>
  );
}
