import type { ApiError } from "../api/problem";
import { lookup } from "../i18n/en";
import { useT } from "../i18n/i18n";

/** humanize answers what a person reads: the detail without `body.field:` prefixes, each field by its label. */
export function humanize(error: ApiError, fieldLabels: Record<string, string>, messages?: (field: string, message: string) => string | null) {
  const p = error.problem;
  const detail = (p.detail ?? "").replace(/(^|;\s*)(body|query|path)\.[\w.[\]]+:\s*/g, "$1");
  const fields = error.fieldErrors().map((f) => {
    const key = f.field.split(".").pop() ?? f.field;
    return { label: f.field ? lookup(fieldLabels, key) : "", message: messages?.(key, f.message) ?? f.message };
  });
  // Field errors the detail already spells out are not repeated.
  return { detail, fields: fields.filter((f) => !detail.includes(f.message)) };
}

/**
 * ErrorView shows a failure for people: what went wrong, per field by its label, with the
 * request id (small, for support) and a retry when one is offered. No status codes.
 */
export function ErrorView({
  error,
  onRetry,
  title,
  messages,
}: {
  error: ApiError;
  onRetry?: () => void;
  title?: string;
  /** Rewrites a known field message in the user's language (answers null to keep the API's). */
  messages?: (field: string, message: string) => string | null;
}) {
  const t = useT();
  const p = error.problem;
  const timeout = error.status === 0 && p.title === "timeout";
  const network = error.status === 0 && !timeout;
  const { detail, fields } = humanize(error, t.errors.field, messages);
  const heading = title ?? (timeout ? t.common.timedOut : network ? t.common.networkTitle : (p.title ?? t.common.somethingWrong));
  return (
    <div className="error" role="alert">
      <strong>{heading}</strong>
      {timeout && title && <p>{t.common.timedOut}</p>}
      {network ? <p>{t.common.networkDetail}</p> : !timeout && detail && fields.length === 0 && <p>{detail}</p>}
      {fields.length > 0 && (
        <ul>
          {fields.map((f, i) => (
            <li key={i}>
              {f.label && <strong>{f.label}: </strong>}
              {f.message}
            </li>
          ))}
        </ul>
      )}
      {error.requestId && (
        <p className="muted small">
          {t.common.requestId}: <code>{error.requestId}</code>
        </p>
      )}
      {onRetry && (
        <button type="button" onClick={onRetry}>
          {t.common.tryAgain}
        </button>
      )}
    </div>
  );
}
