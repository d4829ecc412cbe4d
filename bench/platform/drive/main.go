// Command drive measures the dashboard endpoints and a filtered execution list through the
// running API, then the same SQL straight through pgx, and prints p50/p99 side by side.
//
// The SQL here mirrors app/internal/store (dashboard.go, executions.go); the benchmark
// cannot import internal packages, so keep the two in step when either changes.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

type config struct {
	api         string
	db          string
	duration    time.Duration
	warmup      time.Duration
	concurrency int
	orgs        int
	pool        int
}

func main() {
	var c config
	flag.StringVar(&c.api, "api", "http://127.0.0.1:18090", "the running API")
	flag.StringVar(&c.db, "db", os.Getenv("BENCH_DATABASE_URL"), "the benchmark database")
	flag.DurationVar(&c.duration, "duration", 5*time.Second, "measuring time per endpoint")
	flag.DurationVar(&c.warmup, "warmup", time.Second, "warm-up time per endpoint")
	flag.IntVar(&c.concurrency, "concurrency", 4, "requests in flight")
	flag.IntVar(&c.orgs, "orgs", 8, "organizations the callers rotate over")
	flag.IntVar(&c.pool, "pool", 8, "pgx pool size for the direct SQL (the API's DB_POOL_MAX)")
	flag.Parse()
	if err := run(context.Background(), c); err != nil {
		log.Fatalf("drive: %v", err)
	}
}

type caller struct {
	org   uuid.UUID
	token string
}

type endpoint struct {
	name string
	path string
	sql  func(ctx context.Context, pool *pgxpool.Pool, org uuid.UUID) error
}

func run(ctx context.Context, c config) error {
	pool, err := pgxpool.New(ctx, c.db+poolParam(c.db, c.pool))
	if err != nil {
		return err
	}
	defer pool.Close()
	callers, err := signIn(ctx, c, pool)
	if err != nil {
		return err
	}
	var execs, logs int64
	_ = pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM agent_executions), (SELECT count(*) FROM execution_logs)`).Scan(&execs, &logs)
	var perOrg int64
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM agent_executions WHERE organization_id = $1`, callers[0].org).Scan(&perOrg)
	fmt.Printf("data: %d executions, %d log lines; ~%d executions per organization\n", execs, logs, perOrg)
	fmt.Printf("load: %d requests in flight, %s per endpoint after %s warm-up, callers over %d organizations, pool %d\n\n",
		c.concurrency, c.duration, c.warmup, len(callers), c.pool)

	eps := endpoints()
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "endpoint\tAPI p50 ms\tAPI p99 ms\tAPI req/s\tSQL p50 ms\tSQL p99 ms\tSQL q/s\t")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c.concurrency * 2}, Timeout: 30 * time.Second}
	for _, ep := range eps {
		api, err := measure(ctx, c, callers, func(ctx context.Context, cl caller) error { return get(ctx, client, c.api+ep.path, cl.token) })
		if err != nil {
			return fmt.Errorf("%s via the API: %w", ep.name, err)
		}
		sql, err := measure(ctx, c, callers, func(ctx context.Context, cl caller) error { return ep.sql(ctx, pool, cl.org) })
		if err != nil {
			return fmt.Errorf("%s in SQL: %w", ep.name, err)
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.0f\t%.2f\t%.2f\t%.0f\t\n", ep.name, api.p50, api.p99, api.rate, sql.p50, sql.p99, sql.rate)
	}
	return tw.Flush()
}

func poolParam(url string, n int) string {
	sep := "?"
	if bytes.ContainsRune([]byte(url), '?') {
		sep = "&"
	}
	return fmt.Sprintf("%spool_max_conns=%d", sep, n)
}

// signIn makes one caller per organization: a dev-login person who is a member there.
func signIn(ctx context.Context, c config, pool *pgxpool.Pool) ([]caller, error) {
	rows, _ := pool.Query(ctx, `SELECT id FROM organizations WHERE slug LIKE 'bench-org-%' ORDER BY slug LIMIT $1`, c.orgs)
	orgs, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil || len(orgs) == 0 {
		return nil, fmt.Errorf("no bench organizations (seeded?): %v", err)
	}
	// the seed's online workers stay online for the run
	if _, err := pool.Exec(ctx, `UPDATE workers SET last_heartbeat_at = now() + interval '1 hour' WHERE name IN ('worker-1', 'worker-2')`); err != nil {
		return nil, err
	}
	var out []caller
	for i, org := range orgs {
		login := fmt.Sprintf("bench-caller-%d", i)
		var s struct {
			AccessToken string `json:"access_token"`
			User        struct {
				ID uuid.UUID `json:"id"`
			} `json:"user"`
		}
		if err := post(ctx, c.api+"/api/v1/auth/dev-login", "", map[string]any{"login": login}, &s); err != nil {
			return nil, fmt.Errorf("dev login: %w", err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO organization_members (organization_id, user_id, role, status, joined_at)
			VALUES ($1, $2, 'member', 'active', now()) ON CONFLICT DO NOTHING`, org, s.User.ID); err != nil {
			return nil, err
		}
		var sw struct {
			AccessToken string `json:"access_token"`
		}
		if err := post(ctx, c.api+"/api/v1/auth/switch-organization", s.AccessToken, map[string]any{"organization_id": org}, &sw); err != nil {
			return nil, fmt.Errorf("switch organization: %w", err)
		}
		out = append(out, caller{org: org, token: sw.AccessToken})
	}
	return out, nil
}

type result struct{ p50, p99, rate float64 }

// measure runs f from c.concurrency goroutines, each taking the callers in turn, for the
// warm-up and then the measuring time, and reports the latency percentiles.
func measure(ctx context.Context, c config, callers []caller, f func(context.Context, caller) error) (result, error) {
	phase := func(d time.Duration) ([]time.Duration, error) {
		var (
			mu    sync.Mutex
			all   []time.Duration
			first error
			next  atomic.Int64
			wg    sync.WaitGroup
		)
		deadline := time.Now().Add(d)
		for range c.concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []time.Duration
				for time.Now().Before(deadline) {
					cl := callers[int(next.Add(1))%len(callers)]
					t := time.Now()
					if err := f(ctx, cl); err != nil {
						mu.Lock()
						first = err
						mu.Unlock()
						return
					}
					mine = append(mine, time.Since(t))
				}
				mu.Lock()
				all = append(all, mine...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		return all, first
	}
	if _, err := phase(c.warmup); err != nil {
		return result{}, err
	}
	lat, err := phase(c.duration)
	if err != nil {
		return result{}, err
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	return result{p50: pct(0.50), p99: pct(0.99), rate: float64(len(lat)) / c.duration.Seconds()}, nil
}

func get(ctx context.Context, client *http.Client, url, token string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return nil
}

func post(ctx context.Context, url, token string, body, out any) error {
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %d %s", url, resp.StatusCode, data)
	}
	return json.Unmarshal(data, out)
}

// The SQL each endpoint runs (as in app/internal/store), drained like the store drains it.

const executionSelect = `
	SELECT e.id, e.organization_id, e.repository_id, r.full_name AS repository_full_name, e.workflow_run_id,
		t.id AS task_id, e.agent_type, e.issue_number, e.status, e.options, e.pr_number, e.quality_score::float8 AS quality_score,
		e.summary, e.error, e.created_by, e.created_at, e.updated_at, e.started_at, e.completed_at
	FROM agent_executions e
	LEFT JOIN repositories r ON r.organization_id = e.organization_id AND r.id = e.repository_id
	LEFT JOIN tasks t ON t.execution_id = e.id`

func drain(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, sql string, args ...any) error {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		if _, err := rows.Values(); err != nil {
			rows.Close()
			return err
		}
	}
	rows.Close()
	return rows.Err()
}

func endpoints() []endpoint {
	metrics := func(unit string, n int) func(context.Context, *pgxpool.Pool, uuid.UUID) error {
		return func(ctx context.Context, pool *pgxpool.Pool, org uuid.UUID) error {
			return drain(ctx, pool, metricsSQL, org, unit, n)
		}
	}
	return []endpoint{
		{"GET /dashboard/summary", "/api/v1/dashboard/summary", summarySQL},
		{"GET /dashboard/recent?limit=20", "/api/v1/dashboard/recent?limit=20", func(ctx context.Context, pool *pgxpool.Pool, org uuid.UUID) error {
			return drain(ctx, pool, executionSelect+` WHERE e.organization_id = $1 ORDER BY e.created_at DESC, e.id DESC LIMIT $2`, org, 20)
		}},
		{"GET /dashboard/metrics?range=24h", "/api/v1/dashboard/metrics?range=24h", metrics("hour", 24)},
		{"GET /dashboard/metrics?range=7d", "/api/v1/dashboard/metrics?range=7d", metrics("day", 7)},
		{"GET /dashboard/metrics?range=30d", "/api/v1/dashboard/metrics?range=30d", metrics("day", 30)},
		{"GET /agents/executions?status=completed&agent_type=codegen", "/api/v1/agents/executions?status=completed&agent_type=codegen&limit=20",
			listSQL(strp("completed"), strp("codegen"), 0)},
		{"GET /agents/executions?status=failed&page=5", "/api/v1/agents/executions?status=failed&limit=20&page=5",
			listSQL(strp("failed"), nil, 80)},
	}
}

func strp(s string) *string { return &s }

func listSQL(status, agent *string, offset int) func(context.Context, *pgxpool.Pool, uuid.UUID) error {
	const where = ` WHERE e.organization_id = $1 AND ($2::text IS NULL OR e.status = $2)
		AND ($3::text IS NULL OR e.agent_type = $3) AND ($4::uuid IS NULL OR e.repository_id = $4)`
	return func(ctx context.Context, pool *pgxpool.Pool, org uuid.UUID) error {
		if err := drain(ctx, pool, executionSelect+where+` ORDER BY e.created_at DESC, e.id DESC LIMIT $5 OFFSET $6`,
			org, status, agent, nil, 20, offset); err != nil {
			return err
		}
		var total int
		return pool.QueryRow(ctx, `SELECT count(*) FROM agent_executions e`+where, org, status, agent, nil).Scan(&total)
	}
}

func summarySQL(ctx context.Context, pool *pgxpool.Pool, org uuid.UUID) error {
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := drain(ctx, tx, `SELECT status, sum(n)::bigint, sum(prs)::bigint, sum(duration_ms)::bigint
		FROM execution_counters WHERE organization_id = $1 GROUP BY status`, org); err != nil {
		return err
	}
	if err := drain(ctx, tx, `SELECT status, count(*) FROM tasks WHERE organization_id = $1 AND execution_id IS NULL GROUP BY status`, org); err != nil {
		return err
	}
	return drain(ctx, tx, `
		SELECT (SELECT count(*) FROM repositories WHERE organization_id = $1),
			count(*) FILTER (WHERE w.last_heartbeat_at > now() - make_interval(secs => $2) AND w.busy),
			count(*) FILTER (WHERE w.last_heartbeat_at > now() - make_interval(secs => $2) AND NOT w.busy),
			count(*) FILTER (WHERE w.last_heartbeat_at IS NULL OR w.last_heartbeat_at <= now() - make_interval(secs => $2))
		FROM (SELECT wk.last_heartbeat_at,
				EXISTS (SELECT 1 FROM tasks t WHERE t.lease_owner = wk.id AND t.status = 'running') AS busy
			FROM workers wk WHERE wk.organization_id = $1 AND wk.revoked_at IS NULL) w`, org, 60.0)
}

const metricsSQL = `
	WITH span AS (
		SELECT date_trunc($2, now(), 'UTC') AS last, ('1 ' || $2)::interval AS step
	), g AS (
		SELECT generate_series(span.last - ($3 - 1) * span.step, span.last, span.step) AS at FROM span
	), b AS (
		SELECT date_trunc($2, eb.bucket, 'UTC') AS at, eb.status, sum(eb.n) AS n
		FROM execution_buckets eb, span
		WHERE eb.organization_id = $1 AND eb.bucket >= span.last - ($3 - 1) * span.step
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
	GROUP BY g.at ORDER BY g.at`
