// Command seed fills a benchmark database with the platform's data at scale: 100
// organizations, 1,000,000 executions with their tasks, and 5,000,000 log lines, loaded
// with COPY. Secondary indexes are dropped during the load and rebuilt after it, and the
// dashboard counters are computed in one pass instead of by the per-row trigger.
//
// It refuses any database whose name does not end in _bench: it truncates everything.
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

type config struct {
	url         string
	orgs        int
	executions  int
	logsPerExec int
	days        int
	force       bool
}

func main() {
	var c config
	flag.StringVar(&c.url, "url", os.Getenv("BENCH_DATABASE_URL"), "the benchmark database (name must end in _bench)")
	flag.IntVar(&c.orgs, "orgs", 100, "organizations")
	flag.IntVar(&c.executions, "executions", 1_000_000, "executions (each with its task)")
	flag.IntVar(&c.logsPerExec, "logs-per-execution", 5, "log lines per execution")
	flag.IntVar(&c.days, "days", 30, "executions are spread over this many days before now")
	flag.BoolVar(&c.force, "force", false, "seed again even if the database already holds the data")
	flag.Parse()
	if err := run(context.Background(), c); err != nil {
		log.Fatalf("seed: %v", err)
	}
}

func run(ctx context.Context, c config) error {
	u, err := url.Parse(c.url)
	if err != nil || !strings.HasSuffix(strings.TrimPrefix(u.Path, "/"), "_bench") {
		return fmt.Errorf("refusing to seed %q: the database name must end in _bench", c.url)
	}
	pool, err := pgxpool.New(ctx, c.url)
	if err != nil {
		return err
	}
	defer pool.Close()
	var have int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM agent_executions`).Scan(&have); err != nil {
		return fmt.Errorf("is the database migrated? %w", err)
	}
	if have == c.executions && !c.force {
		log.Printf("already seeded with %d executions (use -force to seed again)", have)
		return nil
	}
	start := time.Now()
	step := func(what string, f func() error) error {
		t := time.Now()
		if err := f(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		log.Printf("%-28s %6.1fs", what, time.Since(t).Seconds())
		return nil
	}
	now := time.Now().UTC()
	if err := step("truncate", func() error {
		_, err := pool.Exec(ctx, `TRUNCATE users, organizations, execution_counters, execution_buckets, idempotency_keys CASCADE`)
		return err
	}); err != nil {
		return err
	}
	orgIDs, repoIDs, err := seedTenants(ctx, pool, c)
	if err != nil {
		return err
	}
	var indexes []string
	if err := step("drop secondary indexes", func() error {
		indexes, err = dropIndexes(ctx, pool)
		return err
	}); err != nil {
		return err
	}
	g := generator{c: c, now: now, orgs: orgIDs, repos: repoIDs}
	// two COPY streams at once: executions then tasks on one connection, logs on another
	errs := make(chan error, 2)
	go func() {
		errs <- step("copy executions + tasks", func() error {
			if err := copyRows(ctx, pool, "agent_executions", executionColumns, c.executions, g.execution); err != nil {
				return err
			}
			return copyRows(ctx, pool, "tasks", taskColumns, c.executions, g.task)
		})
	}()
	go func() {
		errs <- step("copy execution_logs", func() error {
			return copyRows(ctx, pool, "execution_logs", logColumns, c.executions*c.logsPerExec, g.log)
		})
	}()
	for range 2 {
		if err := <-errs; err != nil {
			return err
		}
	}
	if err := step("rebuild indexes", func() error { return rebuildIndexes(ctx, pool, indexes) }); err != nil {
		return err
	}
	if err := step("dashboard counters", func() error { return computeCounters(ctx, pool) }); err != nil {
		return err
	}
	if err := step("vacuum analyze", func() error {
		_, err := pool.Exec(ctx, `VACUUM (ANALYZE) agent_executions, tasks, execution_logs, execution_counters, execution_buckets, repositories, workers`)
		return err
	}); err != nil {
		return err
	}
	log.Printf("seeded %d organizations, %d executions, %d tasks, %d log lines in %.0fs",
		c.orgs, c.executions, c.executions, c.executions*c.logsPerExec, time.Since(start).Seconds())
	return nil
}

// seedTenants creates the owner, the organizations, 10 repositories and 4 workers each.
func seedTenants(ctx context.Context, pool *pgxpool.Pool, c config) ([]uuid.UUID, [][]uuid.UUID, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var owner uuid.UUID
	if err := tx.QueryRow(ctx, `INSERT INTO users (github_id, login, name) VALUES (900000001, 'bench-owner', 'Bench owner') RETURNING id`).Scan(&owner); err != nil {
		return nil, nil, err
	}
	rows, _ := tx.Query(ctx, `INSERT INTO organizations (name, slug, plan, max_members, max_repositories, created_by)
		SELECT 'Bench org ' || i, 'bench-org-' || lpad(i::text, 3, '0'), 'enterprise', 1000, 1000, $2
		FROM generate_series(1, $1) i ORDER BY i RETURNING id`, c.orgs, owner)
	orgs, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, nil, fmt.Errorf("organizations: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO organization_members (organization_id, user_id, role, status, joined_at)
		SELECT id, $1, 'owner', 'active', now() FROM organizations`, owner); err != nil {
		return nil, nil, err
	}
	repos := make([][]uuid.UUID, len(orgs))
	for i, org := range orgs {
		rows, _ := tx.Query(ctx, `INSERT INTO repositories (organization_id, github_repo_id, full_name, created_by)
			SELECT $1, 1000000 + $2 * 100 + r, 'bench-org-' || $2 || '/repo-' || r, $3 FROM generate_series(1, 10) r RETURNING id`,
			org, i, owner)
		if repos[i], err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil {
			return nil, nil, fmt.Errorf("repositories: %w", err)
		}
	}
	// 4 workers per organization: 2 online, 1 offline, 1 never seen
	if _, err := tx.Exec(ctx, `INSERT INTO workers (organization_id, name, token_hash, last_heartbeat_at)
		SELECT o.id, 'worker-' || w, sha256((o.id::text || w)::bytea),
			CASE WHEN w <= 2 THEN now() WHEN w = 3 THEN now() - interval '1 hour' END
		FROM organizations o, generate_series(1, 4) w`); err != nil {
		return nil, nil, err
	}
	return orgs, repos, tx.Commit(ctx)
}

// dropIndexes drops the secondary indexes of the big tables and returns their definitions.
func dropIndexes(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	rows, _ := pool.Query(ctx, `
		SELECT i.indexname, i.indexdef FROM pg_indexes i
		JOIN pg_class c ON c.relname = i.indexname
		JOIN pg_index x ON x.indexrelid = c.oid
		WHERE i.schemaname = 'public' AND i.tablename IN ('agent_executions', 'tasks', 'execution_logs')
			AND NOT x.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)`)
	type idx struct{ name, def string }
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (idx, error) {
		var i idx
		return i, r.Scan(&i.name, &i.def)
	})
	if err != nil {
		return nil, err
	}
	var defs []string
	for _, i := range list {
		if _, err := pool.Exec(ctx, `DROP INDEX `+pgx.Identifier{i.name}.Sanitize()); err != nil {
			return nil, err
		}
		defs = append(defs, i.def)
	}
	return defs, nil
}

func rebuildIndexes(ctx context.Context, pool *pgxpool.Pool, defs []string) error {
	work := make(chan string)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			conn, err := pool.Acquire(ctx)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Release()
			_, _ = conn.Exec(ctx, `SET maintenance_work_mem = '512MB'`)
			for def := range work {
				if _, err := conn.Exec(ctx, def); err != nil {
					errs <- fmt.Errorf("%s: %w", def, err)
					for range work {
					}
					return
				}
			}
			errs <- nil
		}()
	}
	for _, d := range defs {
		work <- d
	}
	close(work)
	return errorsOf(<-errs, <-errs)
}

func errorsOf(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// computeCounters fills the counter rows exactly as the trigger would have.
func computeCounters(ctx context.Context, pool *pgxpool.Pool) error {
	if _, err := pool.Exec(ctx, `
		INSERT INTO execution_counters (organization_id, status, shard, n, prs, duration_ms)
		SELECT organization_id, status, (hashtext(id::text) & 7), count(*), count(pr_number),
			coalesce(sum((extract(epoch FROM completed_at - started_at) * 1000)::bigint), 0)
		FROM agent_executions GROUP BY 1, 2, 3`); err != nil {
		return err
	}
	if _, err := pool.Exec(ctx, `
		INSERT INTO execution_buckets (organization_id, bucket, status, n)
		SELECT organization_id, date_trunc('hour', created_at), status, count(*)
		FROM agent_executions GROUP BY 1, 2, 3`); err != nil {
		return err
	}
	// the log ids were given explicitly; the next line a worker sends continues after them
	_, err := pool.Exec(ctx, `SELECT setval(pg_get_serial_sequence('execution_logs', 'id'), (SELECT coalesce(max(id), 1) FROM execution_logs))`)
	return err
}

// copyRows streams n generated rows into table with COPY, with triggers (the counter
// trigger, foreign-key checks) off for this session: the generator keeps the data
// consistent and computeCounters does the counters in one pass.
func copyRows(ctx context.Context, pool *pgxpool.Pool, table string, cols []string, n int, row func(i int, out []any)) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET session_replication_role = replica`); err != nil {
		return err
	}
	defer func() { _, _ = conn.Exec(context.Background(), `SET session_replication_role = origin`) }()
	src := &source{n: n, row: row, vals: make([]any, len(cols))}
	got, err := conn.Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, src)
	if err != nil {
		return err
	}
	if int(got) != n {
		return fmt.Errorf("copied %d rows into %s, want %d", got, table, n)
	}
	return nil
}

type source struct {
	i, n int
	row  func(i int, out []any)
	vals []any
}

func (s *source) Next() bool { s.i++; return s.i <= s.n }
func (s *source) Values() ([]any, error) {
	s.row(s.i-1, s.vals)
	return s.vals, nil
}
func (s *source) Err() error { return nil }

// generator makes row i of each table deterministically, so the three streams agree on
// ids without sharing state.
type generator struct {
	c     config
	now   time.Time
	orgs  []uuid.UUID
	repos [][]uuid.UUID
}

var agentTypes = []string{"coordinator", "issue", "codegen", "refresher", "review", "test", "pr", "deployment"}

// mix is splitmix64: a bijective scramble, so ids look random but are a function of i.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func idOf(kind uint64, i int) uuid.UUID {
	var u uuid.UUID
	binary.BigEndian.PutUint64(u[0:8], mix(uint64(i)<<4|kind))
	binary.BigEndian.PutUint64(u[8:16], mix(uint64(i)<<4|kind+0x5555))
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u
}

// facts of execution i shared by its execution, task and log rows
type facts struct {
	id, org, repo, task uuid.UUID
	agent               string
	issue               int32
	status              string
	created             time.Time
	started, completed  *time.Time
	pr                  *int32
	score               *float32
}

func (g *generator) facts(i int) facts {
	r := rand.New(rand.NewPCG(uint64(i), 42))
	o := i % len(g.orgs)
	f := facts{id: idOf(1, i), task: idOf(2, i), org: g.orgs[o], repo: g.repos[o][r.IntN(len(g.repos[o]))],
		agent: agentTypes[r.IntN(len(agentTypes))], issue: int32(1 + r.IntN(5000))}
	// ages skew recent (exponential, mean a third of the span), so every range has data
	span := time.Duration(g.c.days) * 24 * time.Hour
	age := time.Duration(math.Min(r.ExpFloat64()/3, 1) * float64(span))
	f.created = g.now.Add(-age)
	p := r.Float64()
	switch {
	case age < 10*time.Minute && p < 0.5:
		f.status = "pending"
	case age < time.Hour && p < 0.5:
		f.status = "running"
	case p < 0.75:
		f.status = "completed"
	case p < 0.92:
		f.status = "failed"
	default:
		f.status = "cancelled"
	}
	if f.status != "pending" {
		s := f.created.Add(time.Duration(1+r.IntN(30)) * time.Second)
		f.started = &s
	}
	if f.status == "completed" || f.status == "failed" {
		e := f.started.Add(time.Duration(30+r.IntN(900)) * time.Second)
		f.completed = &e
	}
	if f.status == "completed" {
		sc := float32(50 + r.IntN(50))
		f.score = &sc
		if r.IntN(10) < 6 {
			pr := int32(1 + r.IntN(100000))
			f.pr = &pr
		}
	}
	return f
}

var executionColumns = []string{"id", "organization_id", "repository_id", "agent_type", "issue_number", "status",
	"pr_number", "quality_score", "summary", "error", "created_at", "updated_at", "started_at", "completed_at"}

func (g *generator) execution(i int, out []any) {
	f := g.facts(i)
	var summary, errText *string
	if f.status == "completed" {
		s := "Opened a change for the issue"
		summary = &s
	}
	if f.status == "failed" {
		e := "tests failed"
		errText = &e
	}
	updated := f.created
	if f.completed != nil {
		updated = *f.completed
	}
	copy(out, []any{f.id, f.org, f.repo, f.agent, f.issue, f.status, f.pr, f.score, summary, errText, f.created, updated, f.started, f.completed})
}

var taskColumns = []string{"id", "organization_id", "name", "status", "priority", "agent_type", "repository_id", "issue_number",
	"execution_id", "created_at", "updated_at", "started_at", "completed_at", "failed_at", "cancelled_at"}

var priorities = []string{"P0", "P1", "P1", "P1", "P2", "P2"}

func (g *generator) task(i int, out []any) {
	f := g.facts(i)
	var completed, failed, cancelled *time.Time
	switch f.status {
	case "completed":
		completed = f.completed
	case "failed":
		failed = f.completed
	case "cancelled":
		cancelled = f.started
	}
	copy(out, []any{f.task, f.org, fmt.Sprintf("%s on issue #%d", f.agent, f.issue), f.status, priorities[i%len(priorities)],
		f.agent, f.repo, f.issue, f.id, f.created, f.created, f.started, completed, failed, cancelled})
}

var logColumns = []string{"id", "organization_id", "execution_id", "stream", "message", "logged_at"}

var logMessages = []string{
	"cloning the repository",
	"reading the issue and the files it mentions",
	"running the test suite: 412 passed",
	"warning: a flaky test was retried",
	"pushed the branch and opened the pull request",
}

func (g *generator) log(j int, out []any) {
	i, k := j/g.c.logsPerExec, j%g.c.logsPerExec
	f := g.facts(i)
	stream := "stdout"
	if k == 3 {
		stream = "stderr"
	}
	copy(out, []any{int64(j + 1), f.org, f.id, stream, logMessages[k%len(logMessages)], f.created.Add(time.Duration(k) * time.Second)})
}
