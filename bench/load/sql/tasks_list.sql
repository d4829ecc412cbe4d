-- GET /tasks (page 1, limit 20, no filter): store.ListTasks (app/internal/store/tasks.go).
SELECT t.id, t.organization_id, t.name, t.description, t.status, t.priority, t.agent_type, t.repository_id,
	t.issue_number, t.execution_id, t.workflow_run_id, t.workflow_node_id, t.metadata, t.result, t.error,
	t.retry_count, t.max_retries, t.deps_pending,
	ARRAY(SELECT d.depends_on_task_id FROM task_dependencies d WHERE d.task_id = t.id ORDER BY d.depends_on_task_id) AS depends_on,
	t.lease_owner, t.lease_expires_at, t.created_by, t.created_at, t.updated_at,
	t.started_at, t.completed_at, t.failed_at, t.cancelled_at
FROM tasks t
WHERE t.organization_id = ('10ad0000-0000-4000-8000-' || lpad(:o::text, 12, '0'))::uuid AND (NULL::text IS NULL OR t.status = NULL) AND (NULL::text IS NULL OR t.priority = NULL)
	AND (NULL::uuid IS NULL OR t.repository_id = NULL) AND (NULL::text IS NULL OR t.agent_type = NULL)
	AND (NULL::uuid IS NULL OR t.workflow_run_id = NULL)
ORDER BY t.priority, t.created_at DESC, t.id DESC LIMIT 20 OFFSET 0;
SELECT count(*) FROM tasks t
WHERE t.organization_id = ('10ad0000-0000-4000-8000-' || lpad(:o::text, 12, '0'))::uuid AND (NULL::text IS NULL OR t.status = NULL) AND (NULL::text IS NULL OR t.priority = NULL)
	AND (NULL::uuid IS NULL OR t.repository_id = NULL) AND (NULL::text IS NULL OR t.agent_type = NULL)
	AND (NULL::uuid IS NULL OR t.workflow_run_id = NULL);
