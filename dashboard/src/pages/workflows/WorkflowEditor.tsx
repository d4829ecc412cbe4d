import { useMemo, useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import type { PageProps } from "../../routes";
import { DagView } from "../../dag/DagView";
import { useSession } from "../../session/session";
import { navigate } from "../../router/router";
import { ErrorView, Page, Show } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";
import { dagNodes, type Definition } from "./definition";

type Workflow = Schema<"WorkflowOut">;
type Agent = Schema<"AgentOut">;

/** Create (no id) or edit a workflow. The API validates; its field errors are shown as they come. */
export default function WorkflowEditorPage({ params }: PageProps) {
  const { api } = useSession();
  const id = params.id;
  const agents = useApiData(() => unwrap(api.GET("/agents")), []);
  const existing = useApiData(
    () => (id ? unwrap(api.GET("/workflows/{id}", { params: { path: { id } } })) : Promise.resolve(null)),
    [id],
  );
  return (
    <Page title={id ? "Edit workflow" : "New workflow"}>
      <Show data={existing} what="the workflow">
        {(w) => <Show data={agents} what="agent types">{(a) => <Editor workflow={w} agents={a.items ?? []} />}</Show>}
      </Show>
    </Page>
  );
}

function Editor({ workflow, agents }: { workflow: Workflow | null; agents: Agent[] }) {
  const { api } = useSession();
  const [name, setName] = useState(workflow?.name ?? "");
  const [description, setDescription] = useState(workflow?.description ?? "");
  const [nodes, setNodes] = useState(workflow?.definition.nodes ?? [{ id: "analyze", name: "Analyze", agent_type: agents[0]?.type ?? "" }]);
  const [edges, setEdges] = useState(workflow?.definition.edges ?? []);
  const definition: Definition = useMemo(() => ({ nodes, edges }), [nodes, edges]);

  const save = useAction(async () => {
    const saved = workflow
      ? await unwrap(api.PATCH("/workflows/{id}", { params: { path: { id: workflow.id } }, body: { name: name.trim(), description, definition } }))
      : await unwrap(api.POST("/workflows", { body: { name: name.trim(), description: description || undefined, definition } }));
    navigate(`/workflows/${saved.id}`);
  });
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
      <div className="form-row">
        <div className="field">
          <label htmlFor="wf-name">Name</label>
          <input id="wf-name" required value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field grow">
          <label htmlFor="wf-description">Description</label>
          <input id="wf-description" value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
      </div>

      <fieldset className="panel">
        <legend>Nodes</legend>
        {nodes.map((n, i) => (
          <div className="form-row" key={i}>
            <div className="field">
              <label htmlFor={`node-id-${i}`}>Node id</label>
              <input id={`node-id-${i}`} value={n.id} onChange={(e) => setNode(i, { id: e.target.value })} />
            </div>
            <div className="field">
              <label htmlFor={`node-name-${i}`}>Node name</label>
              <input id={`node-name-${i}`} value={n.name} onChange={(e) => setNode(i, { name: e.target.value })} />
            </div>
            <div className="field">
              <label htmlFor={`node-agent-${i}`}>Agent type</label>
              <select id={`node-agent-${i}`} value={n.agent_type} onChange={(e) => setNode(i, { agent_type: e.target.value })}>
                {!agents.some((a) => a.type === n.agent_type) && <option value={n.agent_type}>{n.agent_type || "choose…"}</option>}
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
              Remove node<span className="visually-hidden"> {n.id}</span>
            </button>
          </div>
        ))}
        <button
          type="button"
          onClick={() => setNodes([...nodes, { id: freshId(ids), name: "", agent_type: agents[0]?.type ?? "" }])}
        >
          Add node
        </button>
      </fieldset>

      <fieldset className="panel">
        <legend>Edges (runs after)</legend>
        {edges.length === 0 && <p className="muted">No edges: every node can run at once.</p>}
        {edges.map((e, i) => (
          <div className="form-row" key={i}>
            <div className="field">
              <label htmlFor={`edge-from-${i}`}>From</label>
              <select id={`edge-from-${i}`} value={e.from} onChange={(ev) => setEdges(edges.map((x, j) => (j === i ? { ...x, from: ev.target.value } : x)))}>
                {!ids.includes(e.from) && <option value={e.from}>{e.from || "choose…"}</option>}
                {ids.map((id) => (
                  <option key={id}>{id}</option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={`edge-to-${i}`}>To</label>
              <select id={`edge-to-${i}`} value={e.to} onChange={(ev) => setEdges(edges.map((x, j) => (j === i ? { ...x, to: ev.target.value } : x)))}>
                {!ids.includes(e.to) && <option value={e.to}>{e.to || "choose…"}</option>}
                {ids.map((id) => (
                  <option key={id}>{id}</option>
                ))}
              </select>
            </div>
            <button type="button" onClick={() => setEdges(edges.filter((_, j) => j !== i))}>
              Remove edge<span className="visually-hidden"> {e.from} to {e.to}</span>
            </button>
          </div>
        ))}
        <button type="button" disabled={ids.length < 2} onClick={() => setEdges([...edges, { from: ids[0] ?? "", to: ids[1] ?? "" }])}>
          Add edge
        </button>
      </fieldset>

      <section className="panel" aria-labelledby="preview-h">
        <h2 id="preview-h">Preview</h2>
        <DagView title="Preview" nodes={dagNodes(definition)} edges={edges} />
      </section>

      {save.error && <ErrorView error={save.error} title="The workflow was not saved" />}
      <div className="row">
        <button type="submit" className="primary" disabled={save.pending || name.trim() === ""}>
          {save.pending ? "Saving…" : workflow ? "Save workflow" : "Create workflow"}
        </button>
      </div>
    </form>
  );
}

function freshId(taken: string[]): string {
  for (let i = taken.length + 1; ; i++) if (!taken.includes(`step${i}`)) return `step${i}`;
}
