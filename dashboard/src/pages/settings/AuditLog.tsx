import { useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import { useSession } from "../../session/session";
import { useI18n } from "../../i18n/i18n";
import { DataTable, type Column } from "../../lists/DataTable";
import { Page, Time } from "../../ui/states";
import { useApiData } from "../../ui/useApiData";

const LIMIT = 50;
type AuditEvent = Schema<"AuditEventOut">;

/** What the organization's owners and admins see of who did what: the audit trail. */
export default function AuditLog() {
  const { api, me } = useSession();
  const { t, fmt } = useI18n();
  const orgId = me.organization.id;
  const [page, setPage] = useState(1);
  const [draft, setDraft] = useState({ action: "", actor: "", since: "", until: "" });
  const [filter, setFilter] = useState(draft);
  // The dates are read in the zone every time is shown in (the browser's, or UTC when the
  // user chose it), and sent as instants: a switch of zone reads them again in the new one.
  const since = fmt.inputToInstant(filter.since) ?? undefined;
  const until = fmt.inputToInstant(filter.until) ?? undefined;
  const list = useApiData(
    () =>
      unwrap(
        api.GET("/organizations/{id}/audit-events", {
          params: {
            path: { id: orgId },
            query: {
              page,
              limit: LIMIT,
              action: filter.action || undefined,
              actor: filter.actor || undefined,
              since,
              until,
            },
          },
        }),
      ),
    [orgId, page, filter.action, filter.actor, since, until],
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setPage(1);
    setFilter(draft);
  };
  const columns: Column<AuditEvent>[] = [
    { header: t.audit.when, cell: (e) => <Time value={e.created_at} /> },
    { header: t.audit.who, cell: (e) => e.actor_login || <span className="muted">{t.audit.system}</span> },
    { header: t.audit.action, cell: (e) => <code>{e.action}</code> },
    {
      header: t.audit.target,
      cell: (e) => (
        <>
          {e.target_type} <span className="muted">{e.target_id}</span>
        </>
      ),
    },
    { header: t.audit.details, priority: "low", cell: (e) => <code>{JSON.stringify(e.details ?? {})}</code> },
    { header: t.audit.from, priority: "low", cell: (e) => e.client_address },
  ];

  return (
    <Page title={t.audit.title}>
      <form className="form-row" onSubmit={submit} aria-label={t.audit.filterLabel}>
        <div className="field">
          <label htmlFor="audit-action">{t.audit.action}</label>
          <input id="audit-action" placeholder={t.audit.actionPlaceholder} value={draft.action} onChange={(e) => setDraft({ ...draft, action: e.target.value.trim() })} />
        </div>
        <div className="field">
          <label htmlFor="audit-actor">{t.audit.actor}</label>
          <input id="audit-actor" value={draft.actor} onChange={(e) => setDraft({ ...draft, actor: e.target.value.trim() })} />
        </div>
        <div className="field">
          <label htmlFor="audit-since">{t.audit.since(fmt.zoneLabel)}</label>
          <input id="audit-since" type="datetime-local" value={draft.since} onChange={(e) => setDraft({ ...draft, since: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="audit-until">{t.audit.until(fmt.zoneLabel)}</label>
          <input id="audit-until" type="datetime-local" value={draft.until} onChange={(e) => setDraft({ ...draft, until: e.target.value })} />
        </div>
        <button type="submit">{t.audit.filter}</button>
      </form>
      <DataTable data={list} what={t.audit.what} caption={t.audit.title} rowKey={(e) => String(e.id)} columns={columns} empty={t.audit.empty} onPage={setPage} />
    </Page>
  );
}
