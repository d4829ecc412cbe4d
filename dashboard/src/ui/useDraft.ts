import { useCallback, useEffect, useRef, useState } from "react";

const prefix = "miyabi.draft.";

/** clearDrafts forgets every kept draft (an explicit sign-out). */
export function clearDrafts(): void {
  try {
    for (let i = window.sessionStorage.length - 1; i >= 0; i--) {
      const k = window.sessionStorage.key(i);
      if (k?.startsWith(prefix)) window.sessionStorage.removeItem(k);
    }
  } catch {
    // nothing kept
  }
}

function read<T>(key: string): T | null {
  try {
    const raw = window.sessionStorage.getItem(prefix + key);
    return raw ? (JSON.parse(raw) as T) : null;
  } catch {
    return null;
  }
}

/**
 * useDraft keeps a form's fields in this tab's session storage as they are typed, so a
 * session that ends mid-form (sign-in again, even through GitHub) brings the draft back.
 * `clear` forgets it once the form went through. `restored` says the draft came back.
 */
export function useDraft<T extends object>(key: string, initial: T) {
  const [restored] = useState(() => read<T>(key) !== null);
  const [value, setValue] = useState<T>(() => ({ ...initial, ...(read<T>(key) ?? {}) }));
  const initialRef = useRef(initial);
  const dirty = useRef(false);
  useEffect(() => {
    if (!dirty.current) return;
    try {
      window.sessionStorage.setItem(prefix + key, JSON.stringify(value));
    } catch {
      // storage full or disabled: the form still works, the draft is not kept
    }
  }, [key, value]);
  const set = useCallback((changes: Partial<T>) => {
    dirty.current = true;
    setValue((v) => ({ ...v, ...changes }));
  }, []);
  const clear = useCallback(
    (keep: Partial<T> = {}) => {
      dirty.current = false;
      try {
        window.sessionStorage.removeItem(prefix + key);
      } catch {
        // nothing kept
      }
      setValue({ ...initialRef.current, ...keep });
    },
    [key],
  );
  return { value, set, clear, restored };
}
