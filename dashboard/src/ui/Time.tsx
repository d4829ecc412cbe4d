import { useI18n } from "../i18n/i18n";

/**
 * Time shows an instant in the user's one time zone (the browser's, or UTC when toggled),
 * formatted for their language; `relative` shows "5 minutes ago" with the exact time on hover.
 */
export function Time({ value, relative = false }: { value: string | null | undefined; relative?: boolean }) {
  const { fmt } = useI18n();
  if (!value) return <span className="muted">—</span>;
  const exact = `${fmt.dateTime(value)} (${fmt.zoneLabel})`;
  return (
    <time dateTime={value} title={exact}>
      {relative ? fmt.relative(value) : fmt.dateTime(value)}
    </time>
  );
}
