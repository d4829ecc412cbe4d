-- GET /dashboard/recent (limit 10): store.RecentExecutions (app/internal/store/executions.go).
SELECT e.id, e.organization_id, e.repository_id, r.full_name AS repository_full_name, e.workflow_run_id,
	t.id AS task_id, e.agent_type, e.issue_number, e.status, e.options, e.pr_number, e.quality_score::float8 AS quality_score,
	e.summary, e.error, e.created_by, e.created_at, e.updated_at, e.started_at, e.completed_at
FROM agent_executions e
LEFT JOIN repositories r ON r.organization_id = e.organization_id AND r.id = e.repository_id
LEFT JOIN tasks t ON t.execution_id = e.id
WHERE e.organization_id = ('10ad0000-0000-4000-8000-' || lpad(:o::text, 12, '0'))::uuid ORDER BY e.created_at DESC, e.id DESC LIMIT 10;
