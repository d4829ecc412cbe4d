-- GET /agents/executions/{id}/logs?after=0&limit=100: store.ExecutionLogs (app/internal/store/executions.go).
SELECT EXISTS (SELECT 1 FROM agent_executions WHERE organization_id = ('10ad0000-0000-4000-8000-' || lpad(:o::text, 12, '0'))::uuid AND id = ('10ad0002-0000-4000-8000-' || lpad(:i::text, 12, '0'))::uuid);
SELECT id, stream, message, logged_at FROM execution_logs
	WHERE execution_id = ('10ad0002-0000-4000-8000-' || lpad(:i::text, 12, '0'))::uuid AND organization_id = ('10ad0000-0000-4000-8000-' || lpad(:o::text, 12, '0'))::uuid AND id > 0 ORDER BY id LIMIT 100;
