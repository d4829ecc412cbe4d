import { useMemo } from "react";
import { useT } from "../i18n/i18n";
import { suggestSlug } from "../slug/slug";

/**
 * SlugField shows the slug a name will get, editable: `value` undefined follows the name's
 * suggestion (any script, see slug.ts); typing takes it over. effectiveSlug answers what to send.
 */
export function SlugField({ id, name, value, onChange, prefix = "team" }: { id: string; name: string; value: string | undefined; onChange: (v: string | undefined) => void; prefix?: string }) {
  const t = useT();
  const suggested = useSuggestedSlug(name, prefix);
  return (
    <div className="field">
      <label htmlFor={id}>{t.slug.label}</label>
      <input
        id={id}
        value={value ?? suggested}
        pattern="[a-z0-9][a-z0-9\-]{0,62}"
        aria-describedby={`${id}-help`}
        onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value)}
      />
      <span id={`${id}-help`} className="muted small">
        {t.slug.help}
      </span>
    </div>
  );
}

/** The suggestion is stable while the name stays (its random part does not change per keystroke elsewhere). */
export function useSuggestedSlug(name: string, prefix: string): string {
  return useMemo(() => (name.trim() ? suggestSlug(name, prefix) : ""), [name, prefix]);
}
