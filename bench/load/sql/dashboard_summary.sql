-- GET /dashboard/summary: store.DashboardSummary (app/internal/store/dashboard.go), one
-- read-only repeatable-read transaction (the store rolls it back when done).
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SELECT status, sum(n)::bigint, sum(prs)::bigint, sum(duration_ms)::bigint
	FROM execution_counters WHERE organization_id = ('10ad0000-0000-4000-8000-' || lpad(:o::text, 12, '0'))::uuid GROUP BY status;
SELECT status, count(*) FROM tasks WHERE organization_id = ('10ad0000-0000-4000-8000-' || lpad(:o::text, 12, '0'))::uuid AND execution_id IS NULL GROUP BY status;
SELECT (SELECT count(*) FROM repositories WHERE organization_id = ('10ad0000-0000-4000-8000-' || lpad(:o::text, 12, '0'))::uuid),
	count(*) FILTER (WHERE w.last_heartbeat_at > now() - make_interval(secs => 60) AND w.busy),
	count(*) FILTER (WHERE w.last_heartbeat_at > now() - make_interval(secs => 60) AND NOT w.busy),
	count(*) FILTER (WHERE w.last_heartbeat_at IS NULL OR w.last_heartbeat_at <= now() - make_interval(secs => 60))
FROM (SELECT wk.last_heartbeat_at,
		EXISTS (SELECT 1 FROM tasks t WHERE t.lease_owner = wk.id AND t.status = 'running') AS busy
	FROM workers wk WHERE wk.organization_id = ('10ad0000-0000-4000-8000-' || lpad(:o::text, 12, '0'))::uuid AND wk.revoked_at IS NULL) w;
ROLLBACK;
