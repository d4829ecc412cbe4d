-- +goose Up
-- The dashboard counters were kept by a row-level trigger: a statement that changes many
-- executions (a worker claiming a batch, the sweeper, cancelled dependents) locked the
-- counter and bucket rows row by row, interleaved, and deadlocked against concurrent
-- claims and completions. The same counts are now kept per statement: the statement's
-- changes are summed first, then applied to the counter rows and the bucket rows, each
-- in one fixed order, so two statements can never wait on each other in a cycle.

CREATE TYPE execution_count_delta AS (
  organization_id uuid, status text, shard smallint, bucket timestamptz, n bigint, prs bigint, ms bigint
);

-- +goose StatementBegin
CREATE FUNCTION agent_executions_count_statement() RETURNS trigger LANGUAGE plpgsql AS $$
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

DROP TRIGGER agent_executions_count ON agent_executions;
CREATE TRIGGER agent_executions_count_insert AFTER INSERT ON agent_executions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION agent_executions_count_statement();
CREATE TRIGGER agent_executions_count_update AFTER UPDATE ON agent_executions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION agent_executions_count_statement();
CREATE TRIGGER agent_executions_count_delete AFTER DELETE ON agent_executions
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION agent_executions_count_statement();

-- +goose Down
DROP TRIGGER agent_executions_count_delete ON agent_executions;
DROP TRIGGER agent_executions_count_update ON agent_executions;
DROP TRIGGER agent_executions_count_insert ON agent_executions;
DROP FUNCTION agent_executions_count_statement();
DROP TYPE execution_count_delta;
CREATE TRIGGER agent_executions_count AFTER INSERT OR UPDATE OR DELETE ON agent_executions
  FOR EACH ROW EXECUTE FUNCTION agent_executions_count();
