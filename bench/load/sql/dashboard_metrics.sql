-- GET /dashboard/metrics?range=7d: store.ExecutionMetrics (app/internal/store/dashboard.go), unit day, n 7.
WITH span AS (
	SELECT date_trunc('day', now(), 'UTC') AS last, ('1 ' || 'day')::interval AS step
), g AS (
	SELECT generate_series(span.last - (7 - 1) * span.step, span.last, span.step) AS at FROM span
), b AS (
	SELECT date_trunc('day', eb.bucket, 'UTC') AS at, eb.status, sum(eb.n) AS n
	FROM execution_buckets eb, span
	WHERE eb.organization_id = ('10ad0000-0000-4000-8000-' || lpad(:o::text, 12, '0'))::uuid AND eb.bucket >= span.last - (7 - 1) * span.step
	GROUP BY 1, 2
)
SELECT g.at,
	coalesce(sum(b.n) FILTER (WHERE b.status = 'pending'), 0)::bigint AS pending,
	coalesce(sum(b.n) FILTER (WHERE b.status = 'running'), 0)::bigint AS running,
	coalesce(sum(b.n) FILTER (WHERE b.status = 'completed'), 0)::bigint AS completed,
	coalesce(sum(b.n) FILTER (WHERE b.status = 'failed'), 0)::bigint AS failed,
	coalesce(sum(b.n) FILTER (WHERE b.status = 'cancelled'), 0)::bigint AS cancelled,
	coalesce(sum(b.n), 0)::bigint AS total
FROM g LEFT JOIN b ON b.at = g.at
GROUP BY g.at ORDER BY g.at;
