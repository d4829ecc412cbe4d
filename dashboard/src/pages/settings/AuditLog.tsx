import { useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import { useSession } from "../../session/session";
import { Empty, Page, Pagination, Show, Time } from "../../ui/states";
import { useApiData } from "../../ui/useApiData";

const LIMIT = 50;

/** What the organization's owners and admins see of who did what: the audit trail. */
export default function AuditLog() {
  const { api, me } = useSession();
  const orgId = me.organization.id;
  const [page, setPage] = useState(1);
  const [draft, setDraft] = useState({ action: "", actor: "", since: "", until: "" });
  const [filter, setFilter] = useState(draft);
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
              since: filter.since ? new Date(filter.since).toISOString() : undefined,
              until: filter.until ? new Date(filter.until).toISOString() : undefined,
            },
          },
        }),
      ),
    [orgId, page, filter],
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setPage(1);
    setFilter(draft);
  };

  return (
    <Page title="Audit log">
      <form className="form-row" onSubmit={submit} aria-label="Filter the audit log">
        <div className="field">
          <label htmlFor="audit-action">Action</label>
          <input id="audit-action" placeholder="member. or member.removed" value={draft.action} onChange={(e) => setDraft({ ...draft, action: e.target.value.trim() })} />
        </div>
        <div className="field">
          <label htmlFor="audit-actor">Actor (user id)</label>
          <input id="audit-actor" value={draft.actor} onChange={(e) => setDraft({ ...draft, actor: e.target.value.trim() })} />
        </div>
        <div className="field">
          <label htmlFor="audit-since">From</label>
          <input id="audit-since" type="datetime-local" value={draft.since} onChange={(e) => setDraft({ ...draft, since: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="audit-until">Until</label>
          <input id="audit-until" type="datetime-local" value={draft.until} onChange={(e) => setDraft({ ...draft, until: e.target.value })} />
        </div>
        <button type="submit">Filter</button>
      </form>
      <Show data={list} what="audit log">
        {(p) =>
          (p.items ?? []).length === 0 ? (
            <Empty>Nothing recorded for these filters.</Empty>
          ) : (
            <>
              <div className="table-wrap" tabIndex={0}>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">When</th>
                      <th scope="col">Who</th>
                      <th scope="col">Action</th>
                      <th scope="col">Target</th>
                      <th scope="col">Details</th>
                      <th scope="col">From</th>
                    </tr>
                  </thead>
                  <tbody>
                    {(p.items ?? []).map((e) => (
                      <tr key={e.id}>
                        <td>
                          <Time value={e.created_at} />
                        </td>
                        <td>{e.actor_login || <span className="muted">system</span>}</td>
                        <td>
                          <code>{e.action}</code>
                        </td>
                        <td>
                          {e.target_type} <span className="muted">{e.target_id}</span>
                        </td>
                        <td>
                          <code>{JSON.stringify(e.details ?? {})}</code>
                        </td>
                        <td>{e.client_address}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pagination page={page} limit={LIMIT} total={p.total} onPage={setPage} />
            </>
          )
        }
      </Show>
    </Page>
  );
}
