-- GET /agents/executions?status=failed (page 1, limit 20): store.ListExecutions
-- (app/internal/store/executions.go); pgbench runs it with -D status=failed, the unused
-- filters are NULL as in the handler.
SELECT e.id, e.organization_id, e.repository_id, r.full_name AS repository_full_name, e.workflow_run_id,
	t.id AS task_id, e.agent_type, e.issue_number, e.status, e.options, e.pr_number, e.quality_score::float8 AS quality_score,
	e.summary, e.error, e.created_by, e.created_at, e.updated_at, e.started_at, e.completed_at
FROM agent_executions e
LEFT JOIN repositories r ON r.organization_id = e.organization_id AND r.id = e.repository_id
LEFT JOIN tasks t ON t.execution_id = e.id
WHERE e.organization_id = ('10ad0000-0000-4000-8000-' || lpad(:o::text, 12, '0'))::uuid AND (:status::text IS NULL OR e.status = :status)
	AND (NULL::text IS NULL OR e.agent_type = NULL) AND (NULL::uuid IS NULL OR e.repository_id = NULL)
ORDER BY e.created_at DESC, e.id DESC LIMIT 20 OFFSET 0;
SELECT count(*) FROM agent_executions e
WHERE e.organization_id = ('10ad0000-0000-4000-8000-' || lpad(:o::text, 12, '0'))::uuid AND (:status::text IS NULL OR e.status = :status)
	AND (NULL::text IS NULL OR e.agent_type = NULL) AND (NULL::uuid IS NULL OR e.repository_id = NULL);
