import { useState, type FormEvent } from "react";
import { unwrap } from "../api/client";
import { useSession } from "../session/session";
import { ErrorView, Page } from "../ui/states";
import { useAction } from "../ui/useApiData";

/** Creating an organization makes the caller its owner and switches to it. */
export default function NewOrganization() {
  const { api, switchOrganization } = useSession();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const create = useAction(async () => {
    const org = await unwrap(api.POST("/organizations", { body: { name: name.trim(), description: description.trim() || undefined } }));
    await switchOrganization(org.id);
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void create.exec();
  };
  return (
    <Page title="New organization">
      <form className="stack panel" onSubmit={submit}>
        <div className="field">
          <label htmlFor="org-name">Name</label>
          <input id="org-name" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="org-description">Description (optional)</label>
          <input id="org-description" value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
        <div className="row">
          <button type="submit" className="primary" disabled={create.pending || name.trim() === ""}>
            {create.pending ? "Creating…" : "Create organization"}
          </button>
        </div>
        {create.error && <ErrorView error={create.error} title="The organization was not created" />}
      </form>
    </Page>
  );
}
