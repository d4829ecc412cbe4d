import { useEffect, useMemo, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import type { PageProps } from "../../routes";
import { DagView } from "../../dag/DagView";
import { useSession } from "../../session/session";
import { navigate } from "../../router/router";
import { ErrorView, Page, Show } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";
import { dagNodes, nextEdge, type Definition } from "./definition";
import { useT } from "../../i18n/i18n";
import { useDraft } from "../../ui/useDraft";

type Workflow = Schema<"WorkflowOut">;
type Agent = Schema<"AgentOut">;

/** Create (no id) or edit a workflow. The API validates; its field errors are shown as they come. */
export default function WorkflowEditorPage({ params }: PageProps) {
  const { api } = useSession();
  const t = useT();
  const id = params.id;
  const agents = useApiData(() => unwrap(api.GET("/agents")), []);
  const existing = useApiData(
    () => (id ? unwrap(api.GET("/workflows/{id}", { params: { path: { id } } })) : Promise.resolve(null)),
    [id],
  );
  return (
    <Page title={id ? t.editor.editTitle : t.workflows.new}>
      <Show data={existing} what={t.workflows.workflow}>
        {(w) => <Show data={agents} what={t.launch.agentTypes}>{(a) => <Editor workflow={w} agents={a.items ?? []} />}</Show>}
      </Show>
    </Page>
  );
}

function Editor({ workflow, agents }: { workflow: Workflow | null; agents: Agent[] }) {
  const { api } = useSession();
  const t = useT();
  // The unsaved definition is kept as a draft: a session that ends mid-edit brings it back.
  const draft = useDraft(`workflow.${workflow?.id ?? "new"}`, {
    name: workflow?.name ?? "",
    description: workflow?.description ?? "",
    nodes: workflow?.definition.nodes ?? [{ id: "analyze", name: "Analyze", agent_type: agents[0]?.type ?? "" }],
    edges: workflow?.definition.edges ?? [],
  });
  const { name, description, nodes, edges } = draft.value;
  const setName = (v: string) => draft.set({ name: v });
  const setDescription = (v: string) => draft.set({ description: v });
  const setNodes = (v: typeof nodes) => draft.set({ nodes: v });
  const setEdges = (v: typeof edges) => draft.set({ edges: v });
  const definition: Definition = useMemo(() => ({ nodes, edges }), [nodes, edges]);

  const save = useAction(async () => {
    const saved = workflow
      ? await unwrap(api.PATCH("/workflows/{id}", { params: { path: { id: workflow.id } }, body: { name: name.trim(), description, definition } }))
      : await unwrap(api.POST("/workflows", { body: { name: name.trim(), description: description || undefined, definition } }));
    draft.clear();
    navigate(`/workflows/${saved.id}`);
  });
  // The server's verdict was on the definition as it was: an edit makes it stale.
  const clearSaveError = save.clearError;
  useEffect(() => clearSaveError(), [definition, clearSaveError]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save.exec();
  };
  const setNode = (i: number, patch: Partial<(typeof nodes)[number]>) => {
    const old = nodes[i]!;
    const next = { ...old, ...patch };
    setNodes(nodes.map((n, j) => (j === i ? next : n)));
    // Renaming a node id carries its edges along.
    if (patch.id !== undefined && patch.id !== old.id)
      setEdges(edges.map((e) => ({ from: e.from === old.id ? next.id : e.from, to: e.to === old.id ? next.id : e.to })));
  };
  const ids = nodes.map((n) => n.id).filter(Boolean);

  return (
    <form onSubmit={submit} className="editor">
      {draft.restored && <p className="muted small">{t.session.draftRestored}</p>}
      <div className="form-row">
        <div className="field">
          <label htmlFor="wf-name">{t.common.name}</label>
          <input id="wf-name" required value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field grow">
          <label htmlFor="wf-description">{t.tasks.description}</label>
          <input id="wf-description" value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
      </div>

      <fieldset className="panel">
        <legend>{t.editor.nodes}</legend>
        {nodes.map((n, i) => (
          <div className="form-row" key={i}>
            <div className="field">
              <label htmlFor={`node-id-${i}`}>{t.editor.nodeId}</label>
              <input id={`node-id-${i}`} value={n.id} onChange={(e) => setNode(i, { id: e.target.value })} />
            </div>
            <div className="field">
              <label htmlFor={`node-name-${i}`}>{t.editor.nodeName}</label>
              <input id={`node-name-${i}`} value={n.name} onChange={(e) => setNode(i, { name: e.target.value })} />
            </div>
            <div className="field">
              <label htmlFor={`node-agent-${i}`}>{t.common.agentType}</label>
              <select id={`node-agent-${i}`} value={n.agent_type} onChange={(e) => setNode(i, { agent_type: e.target.value })}>
                {!agents.some((a) => a.type === n.agent_type) && <option value={n.agent_type}>{n.agent_type || t.teamMembers.choose}</option>}
                {agents.map((a) => (
                  <option key={a.type} value={a.type}>
                    {a.type}
                  </option>
                ))}
              </select>
            </div>
            <button
              type="button"
              onClick={() => {
                setNodes(nodes.filter((_, j) => j !== i));
                setEdges(edges.filter((e) => e.from !== n.id && e.to !== n.id));
              }}
            >
              {t.editor.removeNode}<span className="visually-hidden"> {n.id}</span>
            </button>
          </div>
        ))}
        <button
          type="button"
          onClick={() => setNodes([...nodes, { id: freshId(ids), name: "", agent_type: agents[0]?.type ?? "" }])}
        >
          {t.editor.addNode}
        </button>
      </fieldset>

      <fieldset className="panel">
        <legend>{t.editor.edges}</legend>
        {edges.length === 0 && <p className="muted">{t.editor.noEdges}</p>}
        {edges.map((e, i) => (
          <div className="form-row" key={i}>
            <div className="field">
              <label htmlFor={`edge-from-${i}`}>{t.editor.from}</label>
              <select id={`edge-from-${i}`} value={e.from} onChange={(ev) => setEdges(edges.map((x, j) => (j === i ? { ...x, from: ev.target.value } : x)))}>
                {!ids.includes(e.from) && <option value={e.from}>{e.from || t.teamMembers.choose}</option>}
                {ids.map((id) => (
                  <option key={id}>{id}</option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={`edge-to-${i}`}>{t.editor.to}</label>
              <select id={`edge-to-${i}`} value={e.to} onChange={(ev) => setEdges(edges.map((x, j) => (j === i ? { ...x, to: ev.target.value } : x)))}>
                {!ids.includes(e.to) && <option value={e.to}>{e.to || t.teamMembers.choose}</option>}
                {ids.map((id) => (
                  <option key={id}>{id}</option>
                ))}
              </select>
            </div>
            <button type="button" onClick={() => setEdges(edges.filter((_, j) => j !== i))}>
              {t.editor.removeEdge}<span className="visually-hidden"> {t.editor.edgeName(e.from, e.to)}</span>
            </button>
          </div>
        ))}
        <button type="button" disabled={ids.length < 2} onClick={() => setEdges([...edges, nextEdge(ids, edges)])}>
          {t.editor.addEdge}
        </button>
      </fieldset>

      <section className="panel" aria-labelledby="preview-h">
        <h2 id="preview-h">{t.editor.preview}</h2>
        <DagView title={t.editor.preview} nodes={dagNodes(definition)} edges={edges} />
      </section>

      {save.error && <ErrorView error={save.error} title={t.editor.notSaved} />}
      <div className="row">
        <button type="submit" className="primary" disabled={save.pending || name.trim() === ""}>
          {save.pending ? t.editor.saving : workflow ? t.editor.save : t.editor.create}
        </button>
      </div>
    </form>
  );
}

function freshId(taken: string[]): string {
  for (let i = taken.length + 1; ; i++) if (!taken.includes(`step${i}`)) return `step${i}`;
}
