// Command load drives the running API with 100 concurrent signed-in users mixing reads
// and writes (vegeta as a library), then measures each read alone through the API and
// its SQL alone through pgbench at the same concurrency, and prints one table: per
// endpoint throughput, p50/p95/p99 and errors in the mix, and beside each read the
// ceiling of its SQL and the ratio.
//
// bench/ cannot import app/internal: it talks HTTP to the API and SQL to the database.
// The SQL pgbench runs lives in bench/load/sql/*.sql, copied from app/internal/store;
// keep them in step when the store changes.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

type config struct {
	live     int
	api      string
	db       string
	users    int
	orgs     int
	workers  int
	rate     int
	duration time.Duration
	warmup   time.Duration
	solo     time.Duration
	pgbench  string
	sqlDir   string
	// only runs just the solo measurement of the reads whose name contains it
	only        string
	skipPgbench bool
}

func main() {
	var c config
	flag.StringVar(&c.api, "api", "http://127.0.0.1:18091", "the running API")
	flag.StringVar(&c.db, "db", os.Getenv("LOAD_DATABASE_URL"), "the seeded database (as a superuser, for pgbench)")
	flag.IntVar(&c.users, "users", 100, "signed-in users, and requests in flight")
	flag.IntVar(&c.orgs, "orgs", 20, "seeded organizations the users are spread over")
	flag.IntVar(&c.rate, "rate", 0, "requests per second of the paced phase; 0: half the saturated phase's throughput")
	flag.DurationVar(&c.duration, "duration", 20*time.Second, "length of the mixed run")
	flag.DurationVar(&c.warmup, "warmup", 3*time.Second, "unmeasured mixed load before it")
	flag.DurationVar(&c.solo, "solo", 5*time.Second, "length of each read's solo run, through the API and through pgbench (whole seconds)")
	flag.StringVar(&c.pgbench, "pgbench", "/usr/lib/postgresql/15/bin/pgbench", "the pgbench binary")
	flag.StringVar(&c.sqlDir, "sql", "bench/load/sql", "the pgbench scripts")
	flag.StringVar(&c.only, "only", "", "measure only the reads whose name contains this, alone (for profiling)")
	flag.BoolVar(&c.skipPgbench, "skip-pgbench", false, "with -only: the API alone")
	flag.IntVar(&c.live, "live", 0, "dashboard connections to the live-events WebSocket kept open (reading) during the run")
	flag.Parse()
	c.workers = c.users
	if err := run(context.Background(), c); err != nil {
		log.Fatalf("load: %v", err)
	}
}

// loadID is the seed's numbered id (bench/load/seed.sql): kind 0 organization,
// 1 repository, 2 execution, 3 cancellable task.
func loadID(kind, n int) string { return fmt.Sprintf("10ad000%d-0000-4000-8000-%012d", kind, n) }

const (
	executionsSeeded   = 200_000
	cancellablePerOrg  = 500
	reposPerOrg        = 10
	agentTypesLaunched = "coordinator codegen review issue pr deployment refresher"
)

type caller struct {
	n       int
	org     int
	token   string
	userID  uuid.UUID
	session uuid.UUID
}

// endpoint is one kind of request of the mix.
type endpoint struct {
	name   string
	weight int    // share of the mix, out of the sum of weights
	script string // pgbench script in sqlDir for a read; "" for a write
	pgVars []string
	target func(l *load, c *caller, t *vegeta.Target)
}

func (e endpoint) write() bool { return e.script == "" }

type load struct {
	c       config
	callers []caller
	cancels []atomic.Int64 // next cancellable task per organization
}

func endpoints() []endpoint {
	get := func(path string) func(*load, *caller, *vegeta.Target) {
		return func(l *load, c *caller, t *vegeta.Target) { l.request(t, c, http.MethodGet, path, nil) }
	}
	exec := func(c *caller) int { return rand.IntN(executionsSeeded/20)*20 + c.org }
	types := strings.Fields(agentTypesLaunched)
	return []endpoint{
		{name: "GET /dashboard/summary", weight: 14, script: "dashboard_summary.sql", target: get("/dashboard/summary")},
		{name: "GET /dashboard/recent", weight: 14, script: "dashboard_recent.sql", target: get("/dashboard/recent")},
		{name: "GET /dashboard/metrics?range=7d", weight: 10, script: "dashboard_metrics.sql", target: get("/dashboard/metrics?range=7d")},
		{name: "GET /agents/executions?status=failed", weight: 14, script: "executions_list.sql", pgVars: []string{"status=failed"},
			target: get("/agents/executions?status=failed")},
		{name: "GET /agents/executions/{id}", weight: 14, script: "execution_detail.sql", target: func(l *load, c *caller, t *vegeta.Target) {
			l.request(t, c, http.MethodGet, "/agents/executions/"+loadID(2, exec(c)), nil)
		}},
		{name: "GET /agents/executions/{id}/logs", weight: 10, script: "execution_logs.sql", target: func(l *load, c *caller, t *vegeta.Target) {
			l.request(t, c, http.MethodGet, "/agents/executions/"+loadID(2, exec(c))+"/logs?after=0&limit=100", nil)
		}},
		{name: "GET /tasks", weight: 10, script: "tasks_list.sql", target: get("/tasks")},
		{name: "POST /agents/execute", weight: 8, target: func(l *load, c *caller, t *vegeta.Target) {
			l.request(t, c, http.MethodPost, "/agents/execute", map[string]any{
				"repository_id": loadID(1, c.org*reposPerOrg+rand.IntN(reposPerOrg)), "issue_number": 1 + rand.IntN(5000),
				"agent_type": types[rand.IntN(len(types))]})
			t.Header.Set("Idempotency-Key", uuid.NewString())
		}},
		{name: "POST /tasks", weight: 3, target: func(l *load, c *caller, t *vegeta.Target) {
			l.request(t, c, http.MethodPost, "/tasks", map[string]any{"name": "Load task " + strconv.Itoa(rand.IntN(1e6)), "priority": "P2"})
			t.Header.Set("Idempotency-Key", uuid.NewString())
		}},
		{name: "POST /tasks/{id}/cancel", weight: 3, target: func(l *load, c *caller, t *vegeta.Target) {
			k := int(l.cancels[c.org].Add(1) - 1) // each seeded pending task once; past 500 per organization they answer 409
			l.request(t, c, http.MethodPost, "/tasks/"+loadID(3, c.org*cancellablePerOrg+k%cancellablePerOrg)+"/cancel", nil)
		}},
	}
}

func (l *load) request(t *vegeta.Target, c *caller, method, path string, body any) {
	t.Method, t.URL, t.Body = method, l.c.api+"/api/v1"+path, nil
	t.Header = http.Header{"Authorization": {"Bearer " + c.token}}
	if body != nil {
		t.Body, _ = json.Marshal(body)
		t.Header.Set("Content-Type", "application/json")
	}
}

// classify names the endpoint of a result from its method and path.
var uuidSeg = regexp.MustCompile(`/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

func classify(r *vegeta.Result) string {
	path := r.URL[strings.Index(r.URL, "/api/v1")+len("/api/v1"):]
	path = uuidSeg.ReplaceAllString(path, "/{id}")
	if i := strings.IndexByte(path, '?'); i >= 0 && !strings.HasPrefix(path, "/dashboard/metrics") && !strings.HasPrefix(path, "/agents/executions?") {
		path = path[:i]
	}
	return r.Method + " " + path
}

func orEmpty(st *stats) *stats {
	if st == nil {
		return &stats{errors: map[string]int{}}
	}
	return st
}

// soloRun measures one read alone: through the API, then its SQL through pgbench.
func soloRun(c config, l *load, e endpoint) (api, sql float64, err error) {
	one := func(t *vegeta.Target) error { e.target(l, &l.callers[rand.IntN(len(l.callers))], t); return nil }
	st := orEmpty(attack(c, one, c.solo, 0)[e.name])
	api = float64(st.ok) / c.solo.Seconds()
	if int(st.m.Requests) != st.ok {
		return 0, 0, fmt.Errorf("solo %s: %d errors: %v", e.name, int(st.m.Requests)-st.ok, st.errors)
	}
	if c.skipPgbench {
		return api, 1, nil
	}
	if sql, err = pgbench(c, e); err != nil {
		return 0, 0, fmt.Errorf("pgbench %s: %w", e.name, err)
	}
	log.Printf("%-36s solo API %6.0f req/s  pgbench %6.0f tps", e.name, api, sql)
	return api, sql, nil
}

// soloOnly measures the reads whose name contains c.only (for profiling one of them).
func soloOnly(c config, l *load, eps []endpoint) error {
	for _, e := range eps {
		if !e.write() && strings.Contains(e.name, c.only) {
			api, sql, err := soloRun(c, l, e)
			if err != nil {
				return err
			}
			fmt.Printf("%s: solo API %.0f req/s, pgbench %.0f tps\n", e.name, api, sql)
		}
	}
	return nil
}

type stats struct {
	m      vegeta.Metrics
	ok     int
	errors map[string]int
}

func run(ctx context.Context, c config) error {
	pool, err := pgxpool.New(ctx, c.db)
	if err != nil {
		return err
	}
	defer pool.Close()
	l := &load{c: c, cancels: make([]atomic.Int64, c.orgs)}
	start := time.Now()
	if l.callers, err = signIn(ctx, c, pool); err != nil {
		return err
	}
	log.Printf("signed in %d users over %d organizations in %.1fs", len(l.callers), c.orgs, time.Since(start).Seconds())
	if c.live > 0 {
		received, stop, err := openLive(ctx, c, l.callers)
		if err != nil {
			return err
		}
		defer func() {
			stop()
			log.Printf("live: %d connections received %d events", c.live, received.Load())
		}()
		log.Printf("live: %d dashboard connections open", c.live)
	}

	eps := endpoints()
	var schedule []int
	for i, e := range eps {
		for range e.weight {
			schedule = append(schedule, i)
		}
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(schedule), func(i, j int) { schedule[i], schedule[j] = schedule[j], schedule[i] })
	var seq atomic.Uint64
	mix := func(t *vegeta.Target) error {
		s := seq.Add(1)
		eps[schedule[s%uint64(len(schedule))]].target(l, &l.callers[rand.IntN(len(l.callers))], t)
		return nil
	}
	if c.only != "" {
		return soloOnly(c, l, eps)
	}
	loadBefore := loadavg()
	if c.warmup > 0 {
		attack(c, mix, c.warmup, 0)
	}
	// 1. saturation: every user sends its next request as soon as the last one answers
	saturated := attack(c, mix, c.duration, 0)
	capacity := 0
	for _, st := range saturated {
		capacity += st.ok
	}
	rate := c.rate
	if rate == 0 {
		rate = int(float64(capacity) / c.duration.Seconds() / 2)
	}
	// 2. the same mix at a fixed rate (half the capacity just measured unless -rate):
	// latency with headroom, which is what a user notices
	paced := attack(c, mix, c.duration, rate)
	loadAfter := loadavg()

	solo := map[string]float64{}
	ceiling := map[string]float64{}
	for _, e := range eps {
		if e.write() {
			continue
		}
		var err error
		if solo[e.name], ceiling[e.name], err = soloRun(c, l, e); err != nil {
			return err
		}
	}

	fmt.Printf("\n## Load: %d signed-in users over %d organizations, %s per phase (after %s warm-up)\n\n", c.users, c.orgs, c.duration, c.warmup)
	fmt.Printf("machine: %d cores; load average %s before, %s after the two mixed phases; Go %s\n\n", runtime.NumCPU(), loadBefore, loadAfter, runtime.Version())
	fmt.Printf("saturated: closed loop, %d requests in flight (each user sends the next request when the last answers)\n", c.workers)
	fmt.Printf("paced:     open loop at %d requests/s, at most %d in flight\n", rate, c.workers)
	fmt.Printf("solo:      the read alone through the API (%d in flight, %s), and its SQL alone through pgbench (-c %d -j 2 -M prepared, %s)\n\n", c.workers, c.solo, c.users, c.solo)
	fmt.Println("| endpoint | share | saturated req/s | saturated p50 / p99 ms | paced req/s | paced p50 / p95 / p99 ms | errors | solo API req/s | pgbench tps | API/pgbench | targets |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	totalW := 0
	for _, e := range eps {
		totalW += e.weight
	}
	var satTotal, pacedTotal, totalErr int
	for _, e := range eps {
		sat, pc := orEmpty(saturated[e.name]), orEmpty(paced[e.name])
		errs := int(sat.m.Requests) - sat.ok + int(pc.m.Requests) - pc.ok
		satTotal, pacedTotal, totalErr = satTotal+sat.ok, pacedTotal+pc.ok, totalErr+errs
		p99 := ms(pc.m.Latencies.P99)
		var misses []string
		if errs > 0 {
			misses = append(misses, "errors")
		}
		limit := 50.0
		if e.write() {
			limit = 100
		}
		if p99 >= limit {
			misses = append(misses, fmt.Sprintf("paced p99 >= %.0f", limit))
		}
		soloCol, pgCol, ratioCol := "", "", ""
		if !e.write() {
			r := solo[e.name] / ceiling[e.name]
			soloCol, pgCol, ratioCol = fmt.Sprintf("%.0f", solo[e.name]), fmt.Sprintf("%.0f", ceiling[e.name]), fmt.Sprintf("%.2f", r)
			if r < 0.5 {
				misses = append(misses, "ratio < 0.5")
			}
		}
		verdict := "met"
		if len(misses) > 0 {
			verdict = "MISSED: " + strings.Join(misses, ", ")
		}
		fmt.Printf("| %s | %d%% | %.0f | %.1f / %.1f | %.0f | %.1f / %.1f / %.1f | %d | %s | %s | %s | %s |\n", e.name, e.weight*100/totalW,
			float64(sat.ok)/c.duration.Seconds(), ms(sat.m.Latencies.P50), ms(sat.m.Latencies.P99),
			float64(pc.ok)/c.duration.Seconds(), ms(pc.m.Latencies.P50), ms(pc.m.Latencies.P95), p99,
			errs, soloCol, pgCol, ratioCol, verdict)
	}
	fmt.Printf("| **all** | 100%% | %.0f | | %.0f | | %d | | | | |\n\n", float64(satTotal)/c.duration.Seconds(), float64(pacedTotal)/c.duration.Seconds(), totalErr)
	for _, e := range eps {
		for phase, res := range map[string]map[string]*stats{"saturated": saturated, "paced": paced} {
			if st := res[e.name]; st != nil && len(st.errors) > 0 {
				fmt.Printf("errors of %s (%s): %v\n", e.name, phase, st.errors)
			}
		}
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// attack runs the targeter with c.workers workers for d, closed loop (rate 0) or at
// rate requests per second, and returns the results per endpoint.
func attack(c config, tr vegeta.Targeter, d time.Duration, rate int) map[string]*stats {
	a := vegeta.NewAttacker(vegeta.Workers(uint64(c.workers)), vegeta.MaxWorkers(uint64(c.workers)),
		vegeta.Connections(c.workers), vegeta.MaxConnections(c.workers), vegeta.KeepAlive(true), vegeta.Timeout(30*time.Second))
	pacer := vegeta.Rate{Freq: rate, Per: time.Second}
	out := map[string]*stats{}
	for r := range a.Attack(tr, pacer, d, "load") {
		name := classify(r)
		st := out[name]
		if st == nil {
			st = &stats{errors: map[string]int{}}
			out[name] = st
		}
		st.m.Add(r)
		if r.Error == "" && r.Code >= 200 && r.Code < 300 {
			st.ok++
		} else {
			key := strconv.Itoa(int(r.Code))
			if r.Error != "" {
				key += " " + r.Error
			} else if len(r.Body) > 0 {
				key += " " + truncate(string(r.Body), 160)
			}
			if len(st.errors) < 5 || st.errors[key] > 0 {
				st.errors[key]++
			}
		}
	}
	for _, st := range out {
		st.m.Close()
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// pgbench runs the endpoint's SQL (the per-request caller query, then the endpoint's
// queries) from c.users clients on 2 threads, prepared, for the solo duration.
func pgbench(c config, e endpoint) (float64, error) {
	header := "\\set c random(0, " + strconv.Itoa(c.users-1) + ")\n\\set o :c % " + strconv.Itoa(c.orgs) +
		"\n\\set i random(0, " + strconv.Itoa(executionsSeeded/c.orgs-1) + ") * " + strconv.Itoa(c.orgs) + " + :o\n"
	caller, err := os.ReadFile(filepath.Join(c.sqlDir, "_caller.sql"))
	if err != nil {
		return 0, err
	}
	body, err := os.ReadFile(filepath.Join(c.sqlDir, e.script))
	if err != nil {
		return 0, err
	}
	f, err := os.CreateTemp("", "load-*.sql")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(header + string(caller) + string(body)); err != nil {
		return 0, err
	}
	f.Close()
	args := []string{"-n", "-c", strconv.Itoa(c.users), "-j", "2", "-M", "prepared", "-T", strconv.Itoa(int(c.solo.Seconds())), "-f", f.Name()}
	for _, v := range e.pgVars {
		args = append(args, "-D", v)
	}
	out, err := exec.Command(c.pgbench, append(args, c.db)...).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%w: %s", err, out)
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no tps in: %s", out)
	}
	if failed := regexp.MustCompile(`number of failed transactions: ([1-9][0-9]*)`).FindSubmatch(out); failed != nil {
		return 0, fmt.Errorf("%s failed transactions: %s", failed[1], out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// signIn signs each user in with the dev login, makes them a member of their seeded
// organization (user n: organization n % orgs), switches their session to it, and records
// their session in load_callers for the pgbench scripts.
func signIn(ctx context.Context, c config, pool *pgxpool.Pool) ([]caller, error) {
	if _, err := pool.Exec(ctx, `DROP TABLE IF EXISTS load_callers;
		CREATE TABLE load_callers (n int PRIMARY KEY, session_id uuid NOT NULL, user_id uuid NOT NULL)`); err != nil {
		return nil, err
	}
	callers := make([]caller, c.users)
	errs := make(chan error, c.users)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for n := range c.users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			cl, err := signInOne(ctx, c, pool, n)
			if err != nil {
				errs <- fmt.Errorf("user %d: %w", n, err)
				return
			}
			callers[n] = cl
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	for _, cl := range callers {
		if _, err := pool.Exec(ctx, `INSERT INTO load_callers (n, session_id, user_id) VALUES ($1, $2, $3)`, cl.n, cl.session, cl.userID); err != nil {
			return nil, err
		}
	}
	_, err := pool.Exec(ctx, `ANALYZE load_callers, sessions, organization_members, users`)
	return callers, err
}

func signInOne(ctx context.Context, c config, pool *pgxpool.Pool, n int) (caller, error) {
	cl := caller{n: n, org: n % c.orgs}
	var s struct {
		AccessToken string `json:"access_token"`
		User        struct {
			ID uuid.UUID `json:"id"`
		} `json:"user"`
	}
	if err := postJSON(ctx, c.api+"/api/v1/auth/dev-login", "", map[string]any{"login": fmt.Sprintf("load-user-%03d", n)}, &s); err != nil {
		return cl, fmt.Errorf("dev login: %w", err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO organization_members (organization_id, user_id, role, status, joined_at)
		VALUES ($1, $2, 'member', 'active', now()) ON CONFLICT DO NOTHING`, loadID(0, cl.org), s.User.ID); err != nil {
		return cl, err
	}
	var sw struct {
		AccessToken string `json:"access_token"`
	}
	if err := postJSON(ctx, c.api+"/api/v1/auth/switch-organization", s.AccessToken, map[string]any{"organization_id": loadID(0, cl.org)}, &sw); err != nil {
		return cl, fmt.Errorf("switch organization: %w", err)
	}
	cl.token, cl.userID = sw.AccessToken, s.User.ID
	// the session id is the token's sid claim
	parts := strings.Split(sw.AccessToken, ".")
	if len(parts) != 3 {
		return cl, fmt.Errorf("access token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return cl, err
	}
	var claims struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return cl, err
	}
	cl.session, err = uuid.Parse(claims.SID)
	return cl, err
}

func postJSON(ctx context.Context, url, token string, body, out any) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var p map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&p)
		return fmt.Errorf("%s: %d %v", url, resp.StatusCode, p)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// openLive opens n live-events connections as the users (round robin), each reading
// and discarding what arrives, as open dashboards do.
func openLive(ctx context.Context, c config, callers []caller) (*atomic.Int64, func(), error) {
	var received atomic.Int64
	lctx, cancel := context.WithCancel(ctx)
	var conns []*websocket.Conn
	for i := 0; i < c.live; i++ {
		cl := callers[i%len(callers)]
		var t struct {
			Ticket string `json:"ticket"`
		}
		if err := postJSON(ctx, c.api+"/api/v1/events/ticket", cl.token, nil, &t); err != nil {
			cancel()
			return nil, nil, err
		}
		ws, _, err := websocket.Dial(ctx, strings.Replace(c.api, "http", "ws", 1)+"/api/v1/events?ticket="+t.Ticket, nil)
		if err != nil {
			cancel()
			return nil, nil, err
		}
		ws.SetReadLimit(1 << 20)
		conns = append(conns, ws)
		go func() {
			for {
				if _, _, err := ws.Read(lctx); err != nil {
					return
				}
				received.Add(1)
			}
		}()
	}
	return &received, func() {
		cancel()
		for _, ws := range conns {
			_ = ws.CloseNow()
		}
	}, nil
}
