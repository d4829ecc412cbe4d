-- Demo data for the load benchmark, at a realistic size, in plain SQL (psql runs it on a
-- freshly migrated miyabi_load): 20 organizations with 10 repositories and 2 workers each,
-- 200,000 executions over 30 days with their 200,000 tasks, ~1,000,000 log lines, and
-- 500 pending manual tasks per organization for the benchmark's cancel requests.
--
-- Ids the benchmark must find again are made from numbers, so the Go driver and the
-- pgbench scripts can compute them without a lookup:
--   organization o (0..19)          10ad0000-0000-4000-8000-<o, 12 digits>
--   repository   o*10+r (r 0..9)    10ad0001-0000-4000-8000-<o*10+r, 12 digits>
--   execution    i (0..199999)      10ad0002-0000-4000-8000-<i, 12 digits>, organization i % 20
--   cancel task  o*500+k (k 0..499) 10ad0003-0000-4000-8000-<o*500+k, 12 digits>
--
-- Executions go in with one INSERT ... SELECT, through the statement trigger that keeps
-- execution_counters and execution_buckets (so the dashboard counters are what the app
-- itself would have kept). Tasks and log lines go in with foreign-key checks off for this
-- session (session_replication_role = replica): the SELECTs below keep them consistent.
\set ON_ERROR_STOP on
\timing off
SELECT setseed(0.42);

CREATE FUNCTION pg_temp.load_id(kind int, n bigint) RETURNS uuid LANGUAGE sql IMMUTABLE
  AS $$ SELECT ('10ad000' || kind || '-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid $$;

INSERT INTO users (github_id, login, name) VALUES (990000001, 'load-owner', 'Load owner');

INSERT INTO organizations (id, name, slug, plan, max_members, max_repositories, created_by)
SELECT pg_temp.load_id(0, o), 'Load org ' || o, 'load-org-' || lpad(o::text, 2, '0'), 'enterprise', 1000, 1000,
  (SELECT id FROM users WHERE login = 'load-owner')
FROM generate_series(0, 19) o;

INSERT INTO organization_members (organization_id, user_id, role, status, joined_at)
SELECT id, (SELECT id FROM users WHERE login = 'load-owner'), 'owner', 'active', now()
FROM organizations WHERE slug LIKE 'load-org-%';

INSERT INTO repositories (id, organization_id, github_repo_id, full_name, created_by)
SELECT pg_temp.load_id(1, o * 10 + r), pg_temp.load_id(0, o), 2000000 + o * 10 + r,
  'load-org-' || o || '/repo-' || r, (SELECT id FROM users WHERE login = 'load-owner')
FROM generate_series(0, 19) o, generate_series(0, 9) r;

-- 2 workers per organization, one online (the summary counts them), one long gone
INSERT INTO workers (organization_id, name, token_hash, last_heartbeat_at)
SELECT pg_temp.load_id(0, o), 'worker-' || w, sha256(('load' || o || '-' || w)::bytea),
  CASE WHEN w = 1 THEN now() + interval '1 hour' ELSE now() - interval '1 day' END
FROM generate_series(0, 19) o, generate_series(1, 2) w;

-- Executions: ages skew recent (exponential, mean 10 days, capped at 30), ~75 % completed,
-- ~17 % failed, some cancelled; the last hour has running and pending ones.
INSERT INTO agent_executions (id, organization_id, repository_id, agent_type, issue_number, status, options,
  pr_number, quality_score, summary, error, created_by, created_at, updated_at, started_at, completed_at)
SELECT pg_temp.load_id(2, i), pg_temp.load_id(0, i % 20), pg_temp.load_id(1, (i % 20) * 10 + (i / 20) % 10),
  (ARRAY['coordinator', 'issue', 'codegen', 'refresher', 'review', 'test', 'pr', 'deployment'])[1 + agent],
  1 + i % 5000, status, '{}',
  CASE WHEN status = 'completed' AND q < 0.6 THEN 1 + i % 100000 END,
  CASE WHEN status = 'completed' THEN 50 + i % 50 END,
  CASE WHEN status = 'completed' THEN 'Opened a change for the issue' END,
  CASE WHEN status = 'failed' THEN 'tests failed' END,
  (SELECT id FROM users WHERE login = 'load-owner'),
  created, coalesce(completed, started, created), started, completed
FROM (
  SELECT i, agent, q, status, created, started,
    CASE WHEN status IN ('completed', 'failed') THEN least(now(), started + make_interval(secs => run_s)) END AS completed
  FROM (
    SELECT i, agent, q, run_s, now() - make_interval(secs => age_s) AS created,
      CASE WHEN age_s < 600 AND p < 0.5 THEN 'pending' WHEN age_s < 3600 AND p < 0.5 THEN 'running'
           WHEN p < 0.75 THEN 'completed' WHEN p < 0.92 THEN 'failed' ELSE 'cancelled' END AS status,
      CASE WHEN age_s < 600 AND p < 0.5 THEN NULL ELSE now() - make_interval(secs => greatest(age_s - start_s, 0)) END AS started
    FROM (
      SELECT i, floor(random() * 8)::int AS agent, random() AS p, random() AS q,
        least(-ln(1 - random()) / 3, 1) * 2592000 AS age_s, 1 + floor(random() * 30) AS start_s,
        30 + floor(random() * 900) AS run_s
      FROM generate_series(0, 199999) i
    ) g
  ) s
) x;

SET session_replication_role = replica;

-- one task per execution, mirroring it (P0 10 %, P1 60 %, P2 30 %)
INSERT INTO tasks (organization_id, name, status, priority, agent_type, repository_id, issue_number, execution_id,
  created_by, created_at, updated_at, started_at, completed_at, failed_at, cancelled_at)
SELECT e.organization_id, e.agent_type || ' on ' || r.full_name || '#' || e.issue_number, e.status,
  CASE WHEN pr < 0.1 THEN 'P0' WHEN pr < 0.7 THEN 'P1' ELSE 'P2' END,
  e.agent_type, e.repository_id, e.issue_number, e.id, e.created_by, e.created_at, e.updated_at, e.started_at,
  CASE WHEN e.status = 'completed' THEN e.completed_at END,
  CASE WHEN e.status = 'failed' THEN e.completed_at END,
  CASE WHEN e.status = 'cancelled' THEN e.updated_at END
FROM (SELECT *, random() AS pr FROM agent_executions) e
JOIN repositories r ON r.organization_id = e.organization_id AND r.id = e.repository_id;

-- pending manual tasks the benchmark cancels (each once)
INSERT INTO tasks (id, organization_id, name, status, priority, created_by, created_at, updated_at)
SELECT pg_temp.load_id(3, o * 500 + k), pg_temp.load_id(0, o), 'Triage report ' || k, 'pending', 'P1',
  (SELECT id FROM users WHERE login = 'load-owner'), now() - make_interval(mins => k), now() - make_interval(mins => k)
FROM generate_series(0, 19) o, generate_series(0, 499) k;

-- 1 to 9 lines per started execution (~5 on average): ~1,000,000 lines
INSERT INTO execution_logs (organization_id, execution_id, stream, message, logged_at)
SELECT e.organization_id, e.id, CASE WHEN j % 7 = 0 THEN 'stderr' WHEN j = 1 THEN 'system' ELSE 'stdout' END,
  'step ' || j || ': ' || e.agent_type || ' ' || md5(e.id::text || j) || ' ' || repeat('.', j * 7),
  e.started_at + make_interval(secs => j * 3)
FROM agent_executions e, generate_series(1, 1 + abs(hashtext(e.id::text)) % 9) j
WHERE e.started_at IS NOT NULL;

SET session_replication_role = origin;
