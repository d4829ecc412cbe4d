/** The outcome of reading the metadata textarea: the value to send, or why it is not JSON. */
export type MetadataParse = { ok: true; value: Record<string, unknown> } | { ok: false; error: string };

/** formatMetadata is what the textarea starts with: the task's metadata, indented. */
export function formatMetadata(metadata: Record<string, unknown> | null | undefined): string {
  return JSON.stringify(metadata ?? {}, null, 2);
}

/**
 * parseMetadata checks the textarea for JSON syntax only. What the value must look like
 * (an object, its size) is the API's to say: its 422 is shown as it comes, so a syntactically
 * valid non-object is passed through rather than second-guessed here.
 */
const english = {
  metadataEmpty: "Metadata is empty: write {} for none.",
  metadataInvalid: (reason: string) => `Metadata is not valid JSON: ${reason}`,
};

export function parseMetadata(text: string, m: typeof english = english): MetadataParse {
  if (text.trim() === "") return { ok: false, error: m.metadataEmpty };
  try {
    return { ok: true, value: JSON.parse(text) as Record<string, unknown> };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { ok: false, error: m.metadataInvalid(reason) };
  }
}
