import type { Schema } from "../../api/types";

type Execution = Pick<Schema<"ExecutionOut">, "agent_type" | "repository_full_name" | "issue_number" | "pr_number">;

const github = "https://github.com";

/** executionTitle names a run as people say it: `codegen · agent-playground#42`. */
export function executionTitle(e: Execution): string {
  const repo = e.repository_full_name?.split("/")[1];
  if (!repo) return e.agent_type;
  return `${e.agent_type} · ${repo}${e.issue_number != null ? `#${e.issue_number}` : ""}`;
}

export function githubIssueURL(e: Execution): string | null {
  return e.repository_full_name && e.issue_number != null ? `${github}/${e.repository_full_name}/issues/${e.issue_number}` : null;
}

export function githubPullURL(e: Execution): string | null {
  return e.repository_full_name && e.pr_number != null ? `${github}/${e.repository_full_name}/pull/${e.pr_number}` : null;
}

/**
 * parseGitHubRef reads what people paste: `owner/name`, a repository URL, or an issue URL
 * (`https://github.com/owner/name/issues/42`), answering the repository and the issue.
 */
export function parseGitHubRef(input: string): { fullName: string; issue?: number } | null {
  const s = input.trim().replace(/\.git$/, "").replace(/\/+$/, "");
  const url = /^(?:https?:\/\/)?(?:www\.)?github\.com\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)(?:\/(?:issues|pull)\/(\d+))?(?:[/?#].*)?$/.exec(s);
  if (url) return { fullName: `${url[1]}/${url[2]}`, issue: url[3] ? Number(url[3]) : undefined };
  const plain = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)(?:#(\d+))?$/.exec(s);
  if (plain) return { fullName: `${plain[1]}/${plain[2]}`, issue: plain[3] ? Number(plain[3]) : undefined };
  return null;
}
