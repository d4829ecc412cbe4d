import { useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import { useSession } from "../../session/session";
import { navigate } from "../../router/router";
import { ErrorView } from "../../ui/states";
import { useAction } from "../../ui/useApiData";
import { useT } from "../../i18n/i18n";

export function OrgDetails() {
  const { api, me, can, reloadMe, switchOrganization } = useSession();
  const org = me.organization;
  const t = useT();
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
        <code>{org.slug}</code> · {t.org.plan(org.plan, org.max_members, org.max_repositories)}
        {org.is_personal && ` · ${t.org.personal}`} · {t.org.youAre} <strong>{t.roles[me.role as keyof typeof t.roles] ?? me.role}</strong>
      </p>
      {editable && (
        <form className="form-row" onSubmit={submit}>
          <div className="field">
            <label htmlFor="org-edit-name">{t.common.name}</label>
            <input id="org-edit-name" required value={name} onChange={(e) => setName(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="org-edit-description">{t.tasks.description}</label>
            <input id="org-edit-description" value={description} onChange={(e) => setDescription(e.target.value)} />
          </div>
          <button type="submit" disabled={save.pending}>
            {t.common.save}
          </button>
        </form>
      )}
      {save.error && <ErrorView error={save.error} title={t.org.notSaved} />}
      {editable && (
        <form
          className="form-row"
          aria-label={t.org.changeSlug}
          onSubmit={(e) => {
            e.preventDefault();
            void rename.exec();
          }}
        >
          <div className="field">
            <label htmlFor="org-edit-slug">{t.org.slug}</label>
            <input id="org-edit-slug" value={slug} spellCheck={false} autoCapitalize="none" onChange={(e) => setSlug(e.target.value)} />
          </div>
          <button type="submit" disabled={rename.pending || slug.trim() === "" || slug.trim() === org.slug}>
            {t.org.changeSlug}
          </button>
        </form>
      )}
      {rename.error && <ErrorView error={rename.error} title={t.org.slugNotChanged} />}
      {can("organization.delete") && !org.is_personal && (
        <button
          type="button"
          className="danger"
          disabled={remove.pending}
          onClick={() => {
            if (window.confirm(t.org.confirmDelete(org.name))) void remove.exec();
          }}
        >
          {t.org.delete}
        </button>
      )}
      {remove.error && <ErrorView error={remove.error} title={t.org.notDeleted} />}
      <details>
        <summary>{t.org.permissions((me.permissions ?? []).length)}</summary>
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
