/** A GitHub issue named by its URL: https://github.com/owner/name/issues/12 (or a pull request's). */
export interface IssueRef {
  fullName: string;
  number: number;
}

const pattern = /^https?:\/\/(?:www\.)?github\.com\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)\/(?:issues|pull)\/(\d+)\/?(?:[?#].*)?$/;

/** Reads a pasted GitHub issue URL; null when it is not one. */
export function parseIssueUrl(text: string): IssueRef | null {
  const m = pattern.exec(text.trim());
  if (!m) return null;
  const number = Number(m[3]);
  if (!Number.isSafeInteger(number) || number < 1 || number > 2147483647) return null;
  return { fullName: `${m[1]}/${m[2]}`, number };
}
