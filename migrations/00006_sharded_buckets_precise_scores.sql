-- +goose Up
-- Quality scores keep the value the agent reported (real rounded 94.4 to 94.4000015).
ALTER TABLE agent_executions ALTER COLUMN quality_score TYPE double precision;

-- The hourly chart buckets are split over the same 8 shards as the counters: every
-- claim and completion of an organization used to update the same (hour, status) row and
-- held its lock to commit, serialising one organization's workers on it. Readers sum.
ALTER TABLE execution_buckets ADD COLUMN shard smallint NOT NULL DEFAULT 0;
ALTER TABLE execution_buckets DROP CONSTRAINT execution_buckets_pkey;
ALTER TABLE execution_buckets ADD PRIMARY KEY (organization_id, bucket, status, shard);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION agent_executions_count_statement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  d execution_count_delta[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(ROW(e.organization_id, e.status, (hashtext(e.id::text) & 7), date_trunc('hour', e.created_at), 1,
        (e.pr_number IS NOT NULL)::int, coalesce((extract(epoch FROM e.completed_at - e.started_at) * 1000)::bigint, 0))::execution_count_delta)
      INTO d FROM new_rows e;
  ELSIF TG_OP = 'DELETE' THEN
    -- an organization being deleted takes its counters with it: nothing to keep
    SELECT array_agg(ROW(e.organization_id, e.status, (hashtext(e.id::text) & 7), date_trunc('hour', e.created_at), -1,
        -(e.pr_number IS NOT NULL)::int, -coalesce((extract(epoch FROM e.completed_at - e.started_at) * 1000)::bigint, 0))::execution_count_delta)
      INTO d FROM old_rows e WHERE EXISTS (SELECT 1 FROM organizations o WHERE o.id = e.organization_id);
  ELSE
    SELECT array_agg(x) INTO d FROM (
      SELECT ROW(o.organization_id, o.status, (hashtext(o.id::text) & 7), date_trunc('hour', o.created_at), -1,
          -(o.pr_number IS NOT NULL)::int, -coalesce((extract(epoch FROM o.completed_at - o.started_at) * 1000)::bigint, 0))::execution_count_delta AS x
      FROM old_rows o JOIN new_rows n ON n.id = o.id
      WHERE o.status <> n.status OR o.pr_number IS DISTINCT FROM n.pr_number OR o.completed_at IS DISTINCT FROM n.completed_at
      UNION ALL
      SELECT ROW(n.organization_id, n.status, (hashtext(n.id::text) & 7), date_trunc('hour', n.created_at), 1,
          (n.pr_number IS NOT NULL)::int, coalesce((extract(epoch FROM n.completed_at - n.started_at) * 1000)::bigint, 0))::execution_count_delta
      FROM old_rows o JOIN new_rows n ON n.id = o.id
      WHERE o.status <> n.status OR o.pr_number IS DISTINCT FROM n.pr_number OR o.completed_at IS DISTINCT FROM n.completed_at
    ) s;
  END IF;
  IF d IS NULL THEN
    RETURN NULL;
  END IF;
  INSERT INTO execution_counters AS c (organization_id, status, shard, n, prs, duration_ms)
  SELECT organization_id, status, shard, sum(n), sum(prs), sum(ms) FROM unnest(d)
  GROUP BY organization_id, status, shard
  HAVING sum(n) <> 0 OR sum(prs) <> 0 OR sum(ms) <> 0
  ORDER BY organization_id, status, shard
  ON CONFLICT (organization_id, status, shard) DO UPDATE
    SET n = c.n + excluded.n, prs = c.prs + excluded.prs, duration_ms = c.duration_ms + excluded.duration_ms;
  INSERT INTO execution_buckets AS b (organization_id, bucket, status, shard, n)
  SELECT organization_id, bucket, status, shard, sum(n) FROM unnest(d)
  GROUP BY organization_id, bucket, status, shard
  HAVING sum(n) <> 0
  ORDER BY organization_id, bucket, status, shard
  ON CONFLICT (organization_id, bucket, status, shard) DO UPDATE SET n = b.n + excluded.n;
  RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION agent_executions_count_statement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  d execution_count_delta[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(ROW(e.organization_id, e.status, (hashtext(e.id::text) & 7), date_trunc('hour', e.created_at), 1,
        (e.pr_number IS NOT NULL)::int, coalesce((extract(epoch FROM e.completed_at - e.started_at) * 1000)::bigint, 0))::execution_count_delta)
      INTO d FROM new_rows e;
  ELSIF TG_OP = 'DELETE' THEN
    -- an organization being deleted takes its counters with it: nothing to keep
    SELECT array_agg(ROW(e.organization_id, e.status, (hashtext(e.id::text) & 7), date_trunc('hour', e.created_at), -1,
        -(e.pr_number IS NOT NULL)::int, -coalesce((extract(epoch FROM e.completed_at - e.started_at) * 1000)::bigint, 0))::execution_count_delta)
      INTO d FROM old_rows e WHERE EXISTS (SELECT 1 FROM organizations o WHERE o.id = e.organization_id);
  ELSE
    SELECT array_agg(x) INTO d FROM (
      SELECT ROW(o.organization_id, o.status, (hashtext(o.id::text) & 7), date_trunc('hour', o.created_at), -1,
          -(o.pr_number IS NOT NULL)::int, -coalesce((extract(epoch FROM o.completed_at - o.started_at) * 1000)::bigint, 0))::execution_count_delta AS x
      FROM old_rows o JOIN new_rows n ON n.id = o.id
      WHERE o.status <> n.status OR o.pr_number IS DISTINCT FROM n.pr_number OR o.completed_at IS DISTINCT FROM n.completed_at
      UNION ALL
      SELECT ROW(n.organization_id, n.status, (hashtext(n.id::text) & 7), date_trunc('hour', n.created_at), 1,
          (n.pr_number IS NOT NULL)::int, coalesce((extract(epoch FROM n.completed_at - n.started_at) * 1000)::bigint, 0))::execution_count_delta
      FROM old_rows o JOIN new_rows n ON n.id = o.id
      WHERE o.status <> n.status OR o.pr_number IS DISTINCT FROM n.pr_number OR o.completed_at IS DISTINCT FROM n.completed_at
    ) s;
  END IF;
  IF d IS NULL THEN
    RETURN NULL;
  END IF;
  INSERT INTO execution_counters AS c (organization_id, status, shard, n, prs, duration_ms)
  SELECT organization_id, status, shard, sum(n), sum(prs), sum(ms) FROM unnest(d)
  GROUP BY organization_id, status, shard
  HAVING sum(n) <> 0 OR sum(prs) <> 0 OR sum(ms) <> 0
  ORDER BY organization_id, status, shard
  ON CONFLICT (organization_id, status, shard) DO UPDATE
    SET n = c.n + excluded.n, prs = c.prs + excluded.prs, duration_ms = c.duration_ms + excluded.duration_ms;
  INSERT INTO execution_buckets AS b (organization_id, bucket, status, n)
  SELECT organization_id, bucket, status, sum(n) FROM unnest(d)
  GROUP BY organization_id, bucket, status
  HAVING sum(n) <> 0
  ORDER BY organization_id, bucket, status
  ON CONFLICT (organization_id, bucket, status) DO UPDATE SET n = b.n + excluded.n;
  RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TEMPORARY TABLE execution_buckets_folded AS
  SELECT organization_id, bucket, status, sum(n)::bigint AS n FROM execution_buckets GROUP BY 1, 2, 3;
DELETE FROM execution_buckets;
ALTER TABLE execution_buckets DROP CONSTRAINT execution_buckets_pkey;
ALTER TABLE execution_buckets DROP COLUMN shard;
ALTER TABLE execution_buckets ADD PRIMARY KEY (organization_id, bucket, status);
INSERT INTO execution_buckets (organization_id, bucket, status, n) SELECT organization_id, bucket, status, n FROM execution_buckets_folded;
DROP TABLE execution_buckets_folded;

ALTER TABLE agent_executions ALTER COLUMN quality_score TYPE real;
