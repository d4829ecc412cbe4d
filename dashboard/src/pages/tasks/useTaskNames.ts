import { unwrap } from "../../api/client";
import { useSession } from "../../session/session";
import { useApiData } from "../../ui/useApiData";

/**
 * useTaskNames knows the organization's recent tasks by name (the first 100): dependencies
 * are shown and chosen by name, not by id.
 */
export function useTaskNames() {
  const { api } = useSession();
  const tasks = useApiData(() => unwrap(api.GET("/tasks", { params: { query: { limit: 100 } } })), []);
  const items = tasks.data?.items ?? [];
  const byId = new Map(items.map((t) => [t.id, t.name]));
  return {
    reload: tasks.reload,
    name: (id: string) => byId.get(id) ?? id.slice(0, 8),
    /** Tasks a new one may wait on: those not ended. */
    open: items.filter((t) => t.status === "pending" || t.status === "running"),
  };
}
