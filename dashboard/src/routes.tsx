import { lazy, type ComponentType, type LazyExoticComponent } from "react";
import Overview from "./pages/Overview";
import type { SessionContext } from "./session/session";
import type { Messages } from "./i18n/en";

export type PageProps = { params: Record<string, string> };

export interface RouteDef {
  path: string;
  component: ComponentType<PageProps> | LazyExoticComponent<ComponentType<PageProps>>;
  /** The label in the navigation, if the route is listed there. */
  nav?: keyof Messages["nav"];
  /** Whether the caller may see the route at all (hidden from the navigation otherwise). */
  allowed?: (s: SessionContext) => boolean;
}

const page = (load: () => Promise<{ default: ComponentType<PageProps> }>) => lazy(load);

// The overview is the first page most people see: it ships in the main bundle; the rest
// load on demand. First match wins, so fixed paths precede their `:id` siblings.
export const routes: RouteDef[] = [
  { path: "/", component: Overview, nav: "overview" },
  {
    path: "/launch",
    component: page(() => import("./pages/Launch")),
    nav: "launch",
    allowed: (s) => s.canSomewhere("agents.execute"),
  },
  { path: "/executions", component: page(() => import("./pages/executions/Executions")), nav: "executions", allowed: (s) => s.canSomewhere("agents.read") },
  { path: "/executions/:id", component: page(() => import("./pages/executions/ExecutionDetail")), allowed: (s) => s.canSomewhere("agents.read") },
  { path: "/repositories", component: page(() => import("./pages/repositories/Repositories")), nav: "repositories", allowed: (s) => s.canSomewhere("repositories.read") },
  { path: "/repositories/:id/issues", component: page(() => import("./pages/github/RepositoryIssues")), allowed: (s) => s.canSomewhere("repositories.read") },
  { path: "/workflows", component: page(() => import("./pages/workflows/Workflows")), nav: "workflows", allowed: (s) => s.can("workflows.read") },
  { path: "/workflows/new", component: page(() => import("./pages/workflows/WorkflowEditor")), allowed: (s) => s.can("workflows.create") },
  { path: "/workflows/:id", component: page(() => import("./pages/workflows/WorkflowDetail")), allowed: (s) => s.can("workflows.read") },
  { path: "/workflows/:id/edit", component: page(() => import("./pages/workflows/WorkflowEditor")), allowed: (s) => s.can("workflows.update") },
  { path: "/workflow-runs/:id", component: page(() => import("./pages/workflows/WorkflowRun")), allowed: (s) => s.can("workflows.read") },
  { path: "/tasks", component: page(() => import("./pages/tasks/Tasks")), nav: "tasks", allowed: (s) => s.canSomewhere("tasks.read") },
  { path: "/tasks/:id", component: page(() => import("./pages/tasks/TaskDetail")), allowed: (s) => s.canSomewhere("tasks.read") },
  { path: "/workers", component: page(() => import("./pages/workers/Workers")), nav: "workers", allowed: (s) => s.canSomewhere("agents.read") },
  { path: "/notifications", component: page(() => import("./pages/notifications/Notifications")), nav: "notifications", allowed: (s) => s.can("notifications.manage") },
  { path: "/settings", component: page(() => import("./pages/settings/Settings")), nav: "settings" },
  { path: "/settings/audit", component: page(() => import("./pages/settings/AuditLog")), nav: "audit", allowed: (s) => s.can("organization.audit.read") },
  { path: "/organizations/new", component: page(() => import("./pages/NewOrganization")) },
  { path: "/invitations/:token", component: page(() => import("./pages/AcceptInvitation")) },
];
