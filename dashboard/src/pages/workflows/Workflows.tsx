import { unwrap } from "../../api/client";
import { DagView } from "../../dag/DagView";
import { useSession } from "../../session/session";
import { Link } from "../../router/router";
import { ErrorView, Page } from "../../ui/states";
import { useAction } from "../../ui/useApiData";
import { useT } from "../../i18n/i18n";
import { DataTable } from "../../lists/DataTable";
import { useListQuery } from "../../lists/useListQuery";
import { dagNodes } from "./definition";

export default function Workflows() {
  const { api, can } = useSession();
  const t = useT();
  const q = useListQuery("/workflows", []);
  const list = q.list;
  const remove = useAction(async (id: string) => {
    await unwrap(api.DELETE("/workflows/{id}", { params: { path: { id } } }));
    list.reload();
  });
  return (
    <Page
      title={t.nav.workflows}
      actions={
        can("workflows.create") && (
          <Link to="/workflows/new" className="button primary">
            {t.workflows.new}
          </Link>
        )
      }
    >
      {remove.error && <ErrorView error={remove.error} title={t.workflows.notDeleted} />}
      <DataTable
        data={list}
        what={t.nav.workflows}
        caption={t.nav.workflows}
        rowKey={(w) => w.id}
        empty={t.workflows.empty}
        onPage={q.setPage}
        item={(w) => (
                  <>
                    <div className="row">
                      <h2 className="inline-h">
                        <Link to={`/workflows/${w.id}`}>{w.name}</Link>
                      </h2>
                      <span className="row push-right">
                        <Link to={`/workflows/${w.id}`} className="button">
                          {t.workflows.runs}<span className="visually-hidden"> {t.workflows.of(w.name)}</span>
                        </Link>
                        {can("workflows.update") && (
                          <Link to={`/workflows/${w.id}/edit`} className="button">
                            {t.common.edit}<span className="visually-hidden"> {w.name}</span>
                          </Link>
                        )}
                        {can("workflows.delete") && (
                          <button
                            type="button"
                            className="danger"
                            disabled={remove.pending}
                            onClick={() => {
                              if (window.confirm(t.workflows.confirmDelete(w.name))) void remove.exec(w.id);
                            }}
                          >
                            {t.common.delete}<span className="visually-hidden"> {w.name}</span>
                          </button>
                        )}
                      </span>
                    </div>
                    {w.description && <p className="muted">{w.description}</p>}
                    <DagView title={w.name} nodes={dagNodes(w.definition)} edges={w.definition.edges ?? []} />
                  </>
        )}
      />
    </Page>
  );
}
