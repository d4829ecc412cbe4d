// Which API routes exist, read from the committed generated types (make test checks they
// match the server): e2e steps whose route has not landed yet are skipped, visibly.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const schema = readFileSync(resolve(import.meta.dirname, "../src/api/schema.d.ts"), "utf8");

export function hasRoute(method: "get" | "post" | "patch" | "delete", path: string): boolean {
  const start = schema.indexOf(`\n    "${path}": {`);
  if (start < 0) return false;
  const end = schema.indexOf("\n    };", start);
  const block = schema.slice(start, end);
  return new RegExp(`\\n        ${method}: operations\\[`).test(block);
}
