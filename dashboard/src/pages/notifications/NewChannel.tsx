import { useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import type { Schema } from "../../api/types";
import { useSession } from "../../session/session";
import { CopyButton, ErrorView } from "../../ui/states";
import { useAction } from "../../ui/useApiData";

type Kind = Schema<"NotificationChannelOut">["kind"];
type EventType = NonNullable<Schema<"CreateNotificationChannelInputBody">["event_types"]>[number];

export const eventLabels: Record<string, string> = {
  "execution.completed": "Agent completed",
  "execution.failed": "Agent failed",
  "execution.cancelled": "Agent cancelled",
  "pr.opened": "Pull request opened",
  "workflow_run.finished": "Workflow run finished",
  "worker.offline": "Worker offline",
};
const events = Object.keys(eventLabels) as EventType[];

/** Adds a channel; a webhook's signing secret is shown once, right here. */
export function NewChannel({ onCreated }: { onCreated: () => void }) {
  const { api, me } = useSession();
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
      <form onSubmit={submit} aria-label="Add a notification channel">
        <div className="form-row">
          <div className="field">
            <label htmlFor="channel-name">Channel name</label>
            <input id="channel-name" required value={name} onChange={(e) => setName(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="channel-kind">Kind</label>
            <select id="channel-kind" value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
              <option value="webhook">webhook</option>
              <option value="slack">slack</option>
              <option value="line">line</option>
            </select>
          </div>
          {kind === "line" ? (
            <>
              <div className="field">
                <label htmlFor="channel-line-to">LINE user, group or room id</label>
                <input id="channel-line-to" required value={lineTo} onChange={(e) => setLineTo(e.target.value)} />
              </div>
              <div className="field">
                <label htmlFor="channel-line-token">Channel access token</label>
                <input id="channel-line-token" type="password" required value={lineToken} onChange={(e) => setLineToken(e.target.value)} />
              </div>
            </>
          ) : (
            <div className="field">
              <label htmlFor="channel-url">{kind === "slack" ? "Slack incoming webhook URL" : "Webhook URL (https)"}</label>
              <input id="channel-url" type="url" required value={url} onChange={(e) => setUrl(e.target.value)} />
            </div>
          )}
        </div>
        <fieldset>
          <legend>Events</legend>
          {events.map((t) => (
            <label key={t} style={{ display: "inline-flex", alignItems: "center", gap: "0.3rem", marginRight: "1rem", fontWeight: "normal" }}>
              <input
                type="checkbox"
                checked={chosen.includes(t)}
                onChange={(e) => setChosen(e.target.checked ? [...chosen, t] : chosen.filter((x) => x !== t))}
              />{" "}
              {eventLabels[t]}
            </label>
          ))}
        </fieldset>
        <button type="submit" className="primary" disabled={create.pending || name.trim() === "" || chosen.length === 0}>
          Add channel
        </button>
      </form>
      {create.error && <ErrorView error={create.error} title="Channel not added" />}
      {created && (
        <div role="status">
          <p>
            Channel <strong>{created.name}</strong> added.
            {created.signing_secret && (
              <>
                {" "}
                Its signing secret is shown <strong>only this once</strong>: give it to the receiver to verify
                X-Miyabi-Signature-256.
              </>
            )}
          </p>
          {created.signing_secret && (
            <>
              <p className="secret" data-testid="signing-secret">
                {created.signing_secret}
              </p>
              <CopyButton text={created.signing_secret} label="Copy secret" />
            </>
          )}
          <button type="button" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      )}
    </div>
  );
}
