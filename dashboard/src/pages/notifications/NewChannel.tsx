import { useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import { useSession } from "../../session/session";
import { useT } from "../../i18n/i18n";
import { CopyButton, ErrorView } from "../../ui/states";
import { useAction } from "../../ui/useApiData";

type Kind = Schema<"NotificationChannelOut">["kind"];
type EventType = NonNullable<Schema<"CreateNotificationChannelInputBody">["event_types"]>[number];

const events: EventType[] = ["execution.completed", "execution.failed", "execution.cancelled", "pr.opened", "workflow_run.finished", "worker.offline"];

/** Adds a channel; a webhook's signing secret is shown once, right here. */
export function NewChannel({ onCreated }: { onCreated: () => void }) {
  const { api, me } = useSession();
  const t = useT();
  const [name, setName] = useState("");
  const [kind, setKind] = useState<Kind>("webhook");
  const [url, setUrl] = useState("");
  const [lineTo, setLineTo] = useState("");
  const [lineToken, setLineToken] = useState("");
  const [chosen, setChosen] = useState<EventType[]>(["execution.completed", "execution.failed"]);
  const [created, setCreated] = useState<Schema<"NotificationChannelOut"> | null>(null);
  const create = useAction(async () => {
    const body: Schema<"CreateNotificationChannelInputBody"> =
      kind === "line"
        ? { name: name.trim(), kind, event_types: chosen, line_to: lineTo.trim(), line_channel_access_token: lineToken.trim() }
        : { name: name.trim(), kind, event_types: chosen, url: url.trim() };
    const c = await unwrap(api.POST("/organizations/{id}/notification-channels", { params: { path: { id: me.organization.id } }, body }));
    setCreated(c);
    setName("");
    setUrl("");
    setLineTo("");
    setLineToken("");
    onCreated();
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setCreated(null);
    void create.exec();
  };
  return (
    <div className="panel">
      <form onSubmit={submit} aria-label={t.notifications.addLabel}>
        <div className="form-row">
          <div className="field">
            <label htmlFor="channel-name">{t.notifications.name}</label>
            <input id="channel-name" required value={name} onChange={(e) => setName(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="channel-kind">{t.notifications.kind}</label>
            <select id="channel-kind" value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
              <option value="webhook">webhook</option>
              <option value="slack">slack</option>
              <option value="line">line</option>
            </select>
          </div>
          {kind === "line" ? (
            <>
              <div className="field">
                <label htmlFor="channel-line-to">{t.notifications.lineTo}</label>
                <input id="channel-line-to" required value={lineTo} onChange={(e) => setLineTo(e.target.value)} />
              </div>
              <div className="field">
                <label htmlFor="channel-line-token">{t.notifications.lineToken}</label>
                <input id="channel-line-token" type="password" required value={lineToken} onChange={(e) => setLineToken(e.target.value)} />
              </div>
            </>
          ) : (
            <div className="field">
              <label htmlFor="channel-url">{kind === "slack" ? t.notifications.slackUrl : t.notifications.webhookUrl}</label>
              <input id="channel-url" type="url" required value={url} onChange={(e) => setUrl(e.target.value)} />
            </div>
          )}
        </div>
        <fieldset>
          <legend>{t.notifications.eventsLegend}</legend>
          {events.map((ev) => (
            <label key={ev} style={{ display: "inline-flex", alignItems: "center", gap: "0.3rem", marginRight: "1rem", fontWeight: "normal" }}>
              <input
                type="checkbox"
                checked={chosen.includes(ev)}
                onChange={(e) => setChosen(e.target.checked ? [...chosen, ev] : chosen.filter((x) => x !== ev))}
              />{" "}
              {t.notifications.events[ev]}
            </label>
          ))}
        </fieldset>
        <button type="submit" className="primary" disabled={create.pending || name.trim() === "" || chosen.length === 0}>
          {t.notifications.add}
        </button>
      </form>
      {create.error && <ErrorView error={create.error} title={t.notifications.notAdded} />}
      {created && (
        <div role="status">
          <p>
            {t.notifications.added(created.name)}
            {created.signing_secret && (
              <>
                {" "}
                {t.notifications.secretBefore} <strong>{t.notifications.secretOnce}</strong>
                {t.notifications.secretAfter}
              </>
            )}
          </p>
          {created.signing_secret && (
            <>
              <p className="secret" data-testid="signing-secret">
                {created.signing_secret}
              </p>
              <CopyButton text={created.signing_secret} label={t.notifications.copySecret} />
            </>
          )}
          <button type="button" onClick={() => setCreated(null)}>
            {t.notifications.done}
          </button>
        </div>
      )}
    </div>
  );
}
