import { unwrap } from "../api/client";
import { useSession } from "../session/session";
import { useApiData } from "../ui/useApiData";

/** useRepositories answers the organization's repositories (first 100) for pickers and filters. */
export function useRepositories(opts: { activeOnly?: boolean } = {}) {
  const { api } = useSession();
  const repos = useApiData(() => unwrap(api.GET("/repositories", { params: { query: { limit: 100 } } })), []);
  const all = repos.status === "ready" || repos.data ? (repos.data?.items ?? []) : [];
  const items = opts.activeOnly ? all.filter((r) => r.is_active) : all;
  return { ...repos, items };
}

/** useAgents answers the agent catalogue with how many online workers accept each type. */
export function useAgents() {
  const { api } = useSession();
  const agents = useApiData(() => unwrap(api.GET("/agents")), []);
  return { ...agents, items: agents.data?.items ?? [] };
}
