import { useId, useState, type FormEvent } from "react";
import type { ApiError } from "../api/problem";
import { ErrorView } from "./states";
import { useT } from "../i18n/i18n";

/** A "Rename" button that opens a one-field form in place. */
export function InlineRename({
  what,
  value,
  onSave,
}: {
  what: string;
  value: string;
  onSave: (name: string) => Promise<ApiError | null>;
}) {
  const t = useT();
  const id = useId();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState(value);
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setPending(true);
    const err = await onSave(name.trim());
    setPending(false);
    setError(err);
    if (!err) setOpen(false);
  };
  if (!open)
    return (
      <button type="button" onClick={() => { setName(value); setOpen(true); }}>
        {t.common.rename}<span className="visually-hidden"> {what}</span>
      </button>
    );
  return (
    <form className="row" onSubmit={(e) => void submit(e)}>
      <label htmlFor={id} className="visually-hidden">
        {t.common.newNameOf(what)}
      </label>
      <input id={id} required value={name} onChange={(e) => setName(e.target.value)} autoFocus />
      <button type="submit" disabled={pending || name.trim() === ""}>
        {t.common.save}
      </button>
      <button type="button" onClick={() => setOpen(false)}>
        {t.common.cancel}
      </button>
      {error && <ErrorView error={error} title={t.common.notRenamed} />}
    </form>
  );
}
