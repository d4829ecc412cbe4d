import type { ReactNode } from "react";
import { useT } from "../i18n/i18n";

/** The filter bar above a list; each filter writes to the address through useListQuery. */
export function Filters({ children }: { children: ReactNode }) {
  const t = useT();
  return (
    <form className="filters" aria-label={t.common.filters} onSubmit={(e) => e.preventDefault()}>
      {children}
    </form>
  );
}

export function SelectFilter({
  id,
  label,
  value,
  onChange,
  options,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (v: string) => void;
  options: [value: string, label: string][];
}) {
  const t = useT();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{t.common.any}</option>
        {options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
    </div>
  );
}
