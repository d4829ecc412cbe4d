import { type FormEvent } from "react";
import { unwrap } from "../api/client";
import { useSession } from "../session/session";
import { useT } from "../i18n/i18n";
import { ErrorView, Page } from "../ui/states";
import { useAction } from "../ui/useApiData";
import { useDraft } from "../ui/useDraft";
import { SlugField, useSuggestedSlug } from "../ui/SlugField";

/** Creating an organization makes the caller its owner and switches to it. */
export default function NewOrganization() {
  const { api, switchOrganization } = useSession();
  const t = useT();
  const draft = useDraft<{ name: string; description: string; slug?: string }>("new-organization", { name: "", description: "" });
  const { name, description, slug } = draft.value;
  const suggested = useSuggestedSlug(name, "org");
  const create = useAction(async () => {
    const org = await unwrap(
      api.POST("/organizations", { body: { name: name.trim(), slug: slug || suggested || undefined, description: description.trim() || undefined } }),
    );
    draft.clear();
    await switchOrganization(org.id);
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void create.exec();
  };
  return (
    <Page title={t.shell.newOrganization}>
      <form className="stack panel" onSubmit={submit}>
        <div className="field">
          <label htmlFor="org-name">{t.common.name}</label>
          <input id="org-name" required maxLength={100} value={name} onChange={(e) => draft.set({ name: e.target.value })} />
        </div>
        <SlugField id="org-slug" name={name} value={slug} prefix="org" onChange={(v) => draft.set({ slug: v })} />
        <div className="field">
          <label htmlFor="org-description">{t.teams.description}</label>
          <input id="org-description" value={description} onChange={(e) => draft.set({ description: e.target.value })} />
        </div>
        <div className="row">
          <button type="submit" className="primary" disabled={create.pending || name.trim() === ""}>
            {create.pending ? t.orgs.creating : t.orgs.create}
          </button>
        </div>
        {create.error && <ErrorView error={create.error} title={t.orgs.notCreated} />}
      </form>
    </Page>
  );
}
