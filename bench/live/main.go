// Command live measures live events through the real API (run.sh starts it):
//
//   - latency: commit-to-client time of execution.updated with 10, 100 and 1,000
//     WebSocket clients connected (the commit is a status change written to the
//     database; the clock starts before the statement, so the commit itself counts);
//   - idle: authenticated claim requests per second of 1,000 idle simulated workers,
//     polling every 2 s (before) and subscribed to work.available with a 30 s safety
//     poll (after), and the pickup latency of tasks launched meanwhile.
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
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5/pgxpool"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type api struct {
	base, token string
	http        *http.Client
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

// dial opens an events connection with a fresh ticket and waits for "connected".
func (a *api) dial(ctx context.Context) (*websocket.Conn, error) {
	var t struct {
		Ticket string `json:"ticket"`
	}
	if err := a.post(ctx, "/events/ticket", nil, &t); err != nil {
		return nil, err
	}
	ws, _, err := websocket.Dial(ctx, strings.Replace(a.base, "http", "ws", 1)+"/events?ticket="+t.Ticket, nil)
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	if _, _, err := ws.Read(ctx); err != nil {
		return nil, err
	}
	return ws, nil
}

func run() error {
	apiURL := flag.String("api", "http://127.0.0.1:18182/api/v1", "the API base URL")
	dbURL := flag.String("db", "", "the API's database")
	clients := flag.String("clients", "10,100,1000", "connected clients for the latency table")
	rounds := flag.Int("rounds", 40, "status changes per client count")
	workers := flag.Int("workers", 1000, "idle simulated workers")
	window := flag.Duration("window", 20*time.Second, "how long each idle mode is measured")
	flag.Parse()
	ctx := context.Background()
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}}
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
	org := session.Organization.ID
	pool, err := pgxpool.New(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()

	fmt.Println("\ncommit-to-client latency of execution.updated")
	fmt.Println("| clients | events | p50 ms | p99 ms | max ms |")
	fmt.Println("|---:|---:|---:|---:|---:|")
	var exec string
	if err := pool.QueryRow(ctx, `INSERT INTO agent_executions (organization_id, agent_type) VALUES ($1, 'codegen') RETURNING id`, org).Scan(&exec); err != nil {
		return err
	}
	for _, s := range strings.Split(*clients, ",") {
		n, _ := strconv.Atoi(s)
		var conns []*websocket.Conn
		for len(conns) < n {
			ws, err := person.dial(ctx)
			if err != nil {
				return fmt.Errorf("client %d: %w", len(conns), err)
			}
			conns = append(conns, ws)
		}
		lat, err := latency(ctx, pool, conns, exec, *rounds)
		if err != nil {
			return err
		}
		fmt.Printf("| %d | %d | %.1f | %.1f | %.1f |\n", n, len(lat), pct(lat, 50), pct(lat, 99), pct(lat, 100))
		for _, c := range conns {
			_ = c.CloseNow()
		}
	}

	return idle(ctx, person, pool, org, *workers, *window)
}

// latency changes the execution's status rounds times, one at a time, and returns how
// long each reached each client.
func latency(ctx context.Context, pool *pgxpool.Pool, conns []*websocket.Conn, exec string, rounds int) ([]float64, error) {
	var mu sync.Mutex
	var lat []float64
	var start atomic.Int64
	var wg sync.WaitGroup
	got := make(chan struct{}, len(conns)*rounds)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, data, err := c.Read(rctx)
				if err != nil {
					return
				}
				if !bytes.Contains(data, []byte(`"execution.updated"`)) {
					continue
				}
				d := float64(time.Now().UnixNano()-start.Load()) / 1e6
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
				got <- struct{}{}
			}
		}()
	}
	status := []string{"running", "pending"}
	for i := 0; i < rounds; i++ {
		start.Store(time.Now().UnixNano())
		if _, err := pool.Exec(ctx, `UPDATE agent_executions SET status = $2 WHERE id = $1`, exec, status[i%2]); err != nil {
			return nil, err
		}
		timeout := time.After(10 * time.Second)
		for k := 0; k < len(conns); k++ {
			select {
			case <-got:
			case <-timeout:
				return nil, fmt.Errorf("round %d: %d of %d clients got the event", i, k, len(conns))
			}
		}
	}
	cancel()
	// the readers stop with the context, which also closes the connections: reopen
	// nothing, the next table size dials its own
	wg.Wait()
	return lat, nil
}

func pct(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}

// idle runs n simulated workers, each a loop of claim then wait (2 s; or, subscribed,
// until work.available or 30 s), and counts their claim requests over the window while
// ten tasks are launched one by one, recording how long each waited to be claimed.
func idle(ctx context.Context, person *api, pool *pgxpool.Pool, org string, n int, window time.Duration) error {
	// One organization holds every simulated worker: lift its live-worker limit (50 by
	// default) on the bench's own database, the one UPDATE an operator would run.
	if _, err := pool.Exec(ctx, `UPDATE settings SET value = GREATEST(value, $1) WHERE name = 'max_workers_per_organization'`, n); err != nil {
		return err
	}
	tokens := make([]string, n)
	for i := range tokens {
		var w struct {
			Token string `json:"token"`
		}
		if err := person.post(ctx, "/workers", map[string]any{"name": fmt.Sprintf("sim-%d", i), "agent_types": []string{"codegen"}}, &w); err != nil {
			return err
		}
		tokens[i] = w.Token
	}
	fmt.Printf("\nidle cost: %d simulated workers, %s window, 10 tasks launched 1 by 1 during it\n", n, window)
	fmt.Println("| mode | claim requests/s | tasks picked up | pickup p50 ms | pickup p99 ms |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, live := range []bool{false, true} {
		var claims atomic.Int64
		var mu sync.Mutex
		launched := map[string]time.Time{}
		var pickup []float64
		wctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for _, tok := range tokens {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w := &api{base: person.base, token: tok, http: person.http}
				poll := 2 * time.Second
				nudge := make(chan struct{}, 1)
				if live {
					poll = 30 * time.Second
					ws, err := w.dial(wctx)
					if err != nil {
						return
					}
					defer ws.CloseNow()
					go func() {
						for {
							_, data, err := ws.Read(wctx)
							if err != nil {
								return
							}
							if bytes.Contains(data, []byte(`"work.available"`)) {
								select {
								case nudge <- struct{}{}:
								default:
								}
							}
						}
					}()
				}
				// spread the first claims over one poll, as real workers start at random
				select {
				case <-wctx.Done():
					return
				case <-time.After(time.Duration(time.Now().UnixNano()%int64(2*time.Second)) + 0):
				}
				for {
					var out struct {
						Tasks []struct {
							ID string `json:"id"`
						} `json:"tasks"`
					}
					if err := w.post(wctx, "/worker/claim", map[string]any{"max": 1}, &out); err == nil {
						claims.Add(1)
					}
					for _, t := range out.Tasks {
						mu.Lock()
						if at, ok := launched[t.ID]; ok {
							pickup = append(pickup, float64(time.Since(at).Microseconds())/1000)
						}
						mu.Unlock()
						_ = w.post(wctx, "/worker/tasks/"+t.ID+"/complete", map[string]any{}, nil)
					}
					if len(out.Tasks) > 0 {
						continue
					}
					select {
					case <-wctx.Done():
						return
					case <-nudge:
					case <-time.After(poll):
					}
				}
			}()
		}
		time.Sleep(5 * time.Second) // connections and first claims settle (not measured)
		claims.Store(0)
		began := time.Now()
		for i := 0; i < 10; i++ {
			time.Sleep(window / 10)
			var id string
			if err := pool.QueryRow(ctx, `INSERT INTO tasks (organization_id, name, agent_type) VALUES ($1, 'bench', 'codegen') RETURNING id`, org).Scan(&id); err != nil {
				cancel()
				return err
			}
			mu.Lock()
			launched[id] = time.Now()
			mu.Unlock()
		}
		time.Sleep(window / 10)
		rate := float64(claims.Load()) / time.Since(began).Seconds()
		cancel()
		wg.Wait()
		mode := "polling every 2 s (before)"
		if live {
			mode = "work.available + 30 s poll (after)"
		}
		fmt.Printf("| %s | %.0f | %d/10 | %.0f | %.0f |\n", mode, rate, len(pickup), pct(pickup, 50), pct(pickup, 99))
	}
	return nil
}
