/** The API root, as the server or the deploy wrote it into index.html; `/api/v1` otherwise. */
export function apiBaseFrom(doc: Pick<Document, "querySelector">): string {
  const content = doc.querySelector('meta[name="miyabi-api-base"]')?.getAttribute("content")?.trim();
  const base = content ? content : "/api/v1";
  return base.replace(/\/+$/, "");
}
