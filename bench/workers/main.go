// Command workers measures the task queue through the real API: N workers (each a loop
// that claims and completes no-op tasks over HTTP) drain a queue of agent tasks, and it
// prints tasks per second and claim latency for each N. run.sh starts the API for it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type api struct {
	base  string
	http  *http.Client
	token string
}

func (a *api) post(ctx context.Context, path string, in, out any) error {
	body, _ := json.Marshal(in)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

func run() error {
	apiURL := flag.String("api", "http://127.0.0.1:18181/api/v1", "the API base URL")
	dbURL := flag.String("db", "", "the API's database (to queue tasks fast)")
	counts := flag.String("workers", "1,4,16", "worker counts to measure")
	perWorker := flag.Int("tasks-per-worker", 250, "tasks queued per worker in a round (at least 1000 a round)")
	batch := flag.Int("batch", 1, "tasks per claim (the worker's concurrency)")
	flag.Parse()
	ctx := context.Background()
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 128, MaxIdleConns: 128}}
	person := &api{base: *apiURL, http: hc}
	var session struct {
		AccessToken  string `json:"access_token"`
		Organization struct {
			ID string `json:"id"`
		} `json:"organization"`
	}
	if err := person.post(ctx, "/auth/dev-login", map[string]any{"login": "bench"}, &session); err != nil {
		return err
	}
	person.token = session.AccessToken
	db, err := pgx.Connect(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close(ctx)

	fmt.Printf("| workers | tasks | tasks/s | claim p50 | claim p99 | complete p50 | complete p99 |\n|---|---|---|---|---|---|---|\n")
	for _, f := range strings.Split(*counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("-workers: %q", f)
		}
		r, err := round(ctx, person, db, session.Organization.ID, n, max(*perWorker*n, 1000), *batch)
		if err != nil {
			return err
		}
		fmt.Printf("| %d | %d | %.0f | %s | %s | %s | %s |\n", n, r.tasks, float64(r.tasks)/r.elapsed.Seconds(),
			ms(pct(r.claims, 50)), ms(pct(r.claims, 99)), ms(pct(r.completes, 50)), ms(pct(r.completes, 99)))
	}
	return nil
}

type result struct {
	tasks             int
	elapsed           time.Duration
	claims, completes []time.Duration
}

func round(ctx context.Context, person *api, db *pgx.Conn, org string, workers, tasks, batch int) (result, error) {
	if _, err := db.Exec(ctx, `
		WITH e AS (
			INSERT INTO agent_executions (organization_id, agent_type, issue_number)
			SELECT $1, 'codegen', g FROM generate_series(1, $2) g RETURNING id, issue_number
		)
		INSERT INTO tasks (organization_id, name, agent_type, issue_number, execution_id)
		SELECT $1, 'bench #' || issue_number, 'codegen', issue_number, id FROM e`, org, tasks); err != nil {
		return result{}, fmt.Errorf("queue tasks: %w", err)
	}
	_, _ = db.Exec(ctx, `ANALYZE tasks`)
	var clients []*api
	var ids []string
	for i := range workers {
		var w struct {
			ID    string `json:"id"`
			Token string `json:"token"`
		}
		if err := person.post(ctx, "/workers", map[string]any{"name": fmt.Sprintf("bench-%d-%d-%d", workers, i, time.Now().UnixNano()),
			"agent_types": []string{"codegen"}, "max_concurrency": batch}, &w); err != nil {
			return result{}, err
		}
		clients = append(clients, &api{base: person.base, http: person.http, token: w.Token})
		ids = append(ids, w.ID)
	}
	var (
		mu   sync.Mutex
		res  = result{tasks: tasks}
		wg   sync.WaitGroup
		errs = make(chan error, workers)
	)
	start := time.Now()
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var claims, completes []time.Duration
			defer func() {
				mu.Lock()
				res.claims = append(res.claims, claims...)
				res.completes = append(res.completes, completes...)
				mu.Unlock()
			}()
			for {
				var out struct {
					Tasks []struct {
						ID string `json:"id"`
					} `json:"tasks"`
				}
				t0 := time.Now()
				if err := c.post(ctx, "/worker/claim", map[string]any{"max": batch}, &out); err != nil {
					errs <- err
					return
				}
				claims = append(claims, time.Since(t0))
				if len(out.Tasks) == 0 {
					return
				}
				for _, t := range out.Tasks {
					t1 := time.Now()
					if err := c.post(ctx, "/worker/tasks/"+t.ID+"/complete", map[string]any{"pr_number": 1, "quality_score": 90}, nil); err != nil {
						errs <- err
						return
					}
					completes = append(completes, time.Since(t1))
				}
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	close(errs)
	for err := range errs {
		return res, err
	}
	for _, id := range ids {
		req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, person.base+"/workers/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+person.token)
		if resp, err := person.http.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	var left int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM tasks WHERE organization_id = $1 AND status <> 'completed'`, org).Scan(&left); err != nil || left != 0 {
		return res, fmt.Errorf("%d tasks not completed (%v)", left, err)
	}
	return res, nil
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
