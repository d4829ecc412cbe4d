import { unwrap } from "../../api/client";
import { useSession } from "../../session/session";
import { useT } from "../../i18n/i18n";
import { ErrorView, Show } from "../../ui/states";
import { useAction, useApiData } from "../../ui/useApiData";

type Lang = "en" | "ja";

/** The language every message of the organization's channels is written in. */
export function Language() {
  const { api, me } = useSession();
  const t = useT();
  const orgId = me.organization.id;
  const settings = useApiData(() => unwrap(api.GET("/organizations/{id}/notification-settings", { params: { path: { id: orgId } } })), [orgId]);
  const save = useAction(async (language: Lang) => {
    await unwrap(api.PATCH("/organizations/{id}/notification-settings", { params: { path: { id: orgId } }, body: { language } }));
    settings.reload();
  });
  return (
    <Show data={settings} what={t.notifications.languageWhat}>
      {(s) => (
        <div className="field">
          <label htmlFor="notify-language">{t.notifications.language}</label>
          <select id="notify-language" value={s.language} disabled={save.pending} onChange={(e) => void save.exec(e.target.value as Lang)}>
            <option value="en" lang="en">
              English
            </option>
            <option value="ja" lang="ja">
              日本語
            </option>
          </select>
          {save.error && <ErrorView error={save.error} title={t.notifications.languageNotChanged} />}
        </div>
      )}
    </Show>
  );
}
