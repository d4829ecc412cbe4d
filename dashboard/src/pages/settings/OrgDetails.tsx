import { useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import { useSession } from "../../session/session";
import { navigate } from "../../router/router";
import { ErrorView } from "../../ui/states";
import { useAction } from "../../ui/useApiData";

export function OrgDetails() {
  const { api, me, can, reloadMe, switchOrganization } = useSession();
  const org = me.organization;
  const [name, setName] = useState(org.name);
  const [description, setDescription] = useState(org.description);
  const save = useAction(async () => {
    await unwrap(api.PATCH("/organizations/{id}", { params: { path: { id: org.id } }, body: { name: name.trim(), description } }));
    await reloadMe();
  });
  const [slug, setSlug] = useState(org.slug);
  // The slug is in addresses and the API's lookups: it changes on its own, and the API says
  // why it refuses (409 taken, 422 not a slug).
  const rename = useAction(async () => {
    await unwrap(api.PATCH("/organizations/{id}", { params: { path: { id: org.id } }, body: { slug: slug.trim() } }));
    await reloadMe();
  });
  const remove = useAction(async () => {
    await unwrap(api.DELETE("/organizations/{id}", { params: { path: { id: org.id } } }));
    const personal = (me.memberships ?? []).find((m) => m.is_personal);
    if (personal) await switchOrganization(personal.id);
    else navigate("/");
  });
  const editable = can("organization.update");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save.exec();
  };

  return (
    <section className="panel" aria-labelledby="org-h">
      <h2 id="org-h">{org.name}</h2>
      <p className="muted">
        <code>{org.slug}</code> · plan {org.plan} · up to {org.max_members} members and {org.max_repositories} repositories
        {org.is_personal && " · personal organization"} · you are <strong>{me.role}</strong>
      </p>
      {editable && (
        <form className="form-row" onSubmit={submit}>
          <div className="field">
            <label htmlFor="org-edit-name">Name</label>
            <input id="org-edit-name" required value={name} onChange={(e) => setName(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="org-edit-description">Description</label>
            <input id="org-edit-description" value={description} onChange={(e) => setDescription(e.target.value)} />
          </div>
          <button type="submit" disabled={save.pending}>
            Save
          </button>
        </form>
      )}
      {save.error && <ErrorView error={save.error} title="Not saved" />}
      {editable && (
        <form
          className="form-row"
          aria-label="Organization slug"
          onSubmit={(e) => {
            e.preventDefault();
            void rename.exec();
          }}
        >
          <div className="field">
            <label htmlFor="org-edit-slug">Slug</label>
            <input id="org-edit-slug" value={slug} spellCheck={false} autoCapitalize="none" onChange={(e) => setSlug(e.target.value)} />
          </div>
          <button type="submit" disabled={rename.pending || slug.trim() === "" || slug.trim() === org.slug}>
            Change slug
          </button>
        </form>
      )}
      {rename.error && <ErrorView error={rename.error} title="Slug not changed" />}
      {can("organization.delete") && !org.is_personal && (
        <button
          type="button"
          className="danger"
          disabled={remove.pending}
          onClick={() => {
            if (window.confirm(`Delete ${org.name} and everything in it?`)) void remove.exec();
          }}
        >
          Delete organization
        </button>
      )}
      {remove.error && <ErrorView error={remove.error} title="Not deleted" />}
      <details>
        <summary>Your permissions ({(me.permissions ?? []).length})</summary>
        <ul className="tags">
          {(me.permissions ?? []).map((p) => (
            <li key={p}>
              <code>{p}</code>
            </li>
          ))}
        </ul>
      </details>
    </section>
  );
}
