package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/apitest"
	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/poll"
	"github.com/miyabi/miyabi/app/internal/store"
)

// The tests run the real binaries: the worker daemon and the demo agent, built once.
var bin struct {
	worker, agent string
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "miyabi-worker-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin.worker, bin.agent = filepath.Join(dir, "worker"), filepath.Join(dir, "demoagent")
	for out, pkg := range map[string]string{bin.worker: "./app/worker", bin.agent: "./app/demoagent"} {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Dir = "../.."
		if b, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", pkg, err, b)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// daemon is a running worker process.
type daemon struct {
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDaemon runs the worker binary against apiURL with the token and the demo agent
// called with agentArgs as its command.
func startDaemon(t *testing.T, apiURL, token string, agentArgs string, flags ...string) *daemon {
	t.Helper()
	args := append([]string{"--api-url", apiURL, "--poll", "100ms",
		"--command", bin.agent + " {agent_type} --issue {issue_number} --repository {repository} " + agentArgs}, flags...)
	cmd := exec.Command(bin.worker, args...)
	cmd.Env = append(os.Environ(), "MIYABI_WORKER_TOKEN="+token)
	d := &daemon{cmd: cmd, out: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = d.out, d.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-d.exited
		if t.Failed() {
			t.Logf("worker output:\n%s", d.out.String())
		}
	})
	return d
}

func newWorker(t *testing.T, alice *apitest.Client, name string) (uuid.UUID, string) {
	t.Helper()
	var w struct {
		ID    uuid.UUID `json:"id"`
		Token string    `json:"token"`
	}
	alice.Do("POST", "/workers", map[string]any{"name": name, "agent_types": []string{"codegen"}, "max_concurrency": 2}).Expect(201).JSON(&w)
	return w.ID, w.Token
}

// queueTask queues one codegen task on octo/widgets issue 42 with its execution.
func queueTask(t *testing.T, env *apitest.Env, org uuid.UUID) (task, execution uuid.UUID) {
	t.Helper()
	err := env.DB.QueryRow(context.Background(), `
		WITH r AS (
			INSERT INTO repositories (organization_id, github_repo_id, full_name) VALUES ($1, 4242, 'octo/widgets')
			ON CONFLICT (organization_id, github_repo_id) DO UPDATE SET full_name = excluded.full_name RETURNING id
		), e AS (
			INSERT INTO agent_executions (organization_id, repository_id, agent_type, issue_number)
			SELECT $1, r.id, 'codegen', 42 FROM r RETURNING id, repository_id
		)
		INSERT INTO tasks (organization_id, name, agent_type, repository_id, issue_number, execution_id)
		SELECT $1, 'codegen octo/widgets#42', 'codegen', e.repository_id, 42, e.id FROM e RETURNING id, execution_id`, org).Scan(&task, &execution)
	if err != nil {
		t.Fatal(err)
	}
	return task, execution
}

type taskState struct {
	Status, ExecStatus string
	LeaseOwner         *uuid.UUID
	RetryCount         int
	PRNumber           *int
	Score              *float64
	Logs               []string
}

func stateOf(t *testing.T, env *apitest.Env, id uuid.UUID) taskState {
	t.Helper()
	var s taskState
	ctx := context.Background()
	err := env.DB.QueryRow(ctx, `
		SELECT t.status, e.status, t.lease_owner, t.retry_count, e.pr_number, e.quality_score::float8,
			coalesce((SELECT array_agg(l.stream || ': ' || l.message ORDER BY l.id) FROM execution_logs l WHERE l.execution_id = e.id), '{}')
		FROM tasks t JOIN agent_executions e ON e.id = t.execution_id WHERE t.id = $1`, id).
		Scan(&s.Status, &s.ExecStatus, &s.LeaseOwner, &s.RetryCount, &s.PRNumber, &s.Score, &s.Logs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func readPID(t *testing.T, path string) int {
	t.Helper()
	var pid int
	poll.Until(t, 15*time.Second, "the agent to start", func() bool {
		b, err := os.ReadFile(path)
		if err != nil || len(b) == 0 {
			return false
		}
		pid, err = strconv.Atoi(string(b))
		return err == nil
	})
	return pid
}

func TestDaemonRunsATaskAndReportsWithLogs(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	_, token := newWorker(t, alice, "local")
	task, _ := queueTask(t, env, alice.OrgID)
	startDaemon(t, env.URL+"/api/v1", token, "--steps 3 --step-delay 20ms")

	poll.Until(t, 20*time.Second, "the task to complete", func() bool { return stateOf(t, env, task).Status == "completed" })
	s := stateOf(t, env, task)
	if s.ExecStatus != "completed" || s.PRNumber == nil || *s.PRNumber != 142 || s.Score == nil {
		t.Fatalf("execution %+v, want completed with PR #142 and a score", s)
	}
	logs := strings.Join(s.Logs, "\n")
	for _, want := range []string{"stdout: codegen agent starting on octo/widgets issue #42", "stdout: [1/3] reading the issue",
		"stderr: note: step 2 took 20ms", "stdout: [3/3] writing changes", `"pr_number":142`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if strings.Index(logs, "[1/3]") > strings.Index(logs, "[3/3]") {
		t.Errorf("logs out of order:\n%s", logs)
	}
}

func TestKilledWorkerLeaseExpiresAndAnotherWorkerCompletes(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	aID, aToken := newWorker(t, alice, "doomed")
	bID, bToken := newWorker(t, alice, "survivor")
	task, _ := queueTask(t, env, alice.OrgID)
	pidFile := filepath.Join(t.TempDir(), "agent.pid")

	a := startDaemon(t, env.URL+"/api/v1", aToken, "--steps 1 --step-delay 1ms --sleep 1h --pid-file "+pidFile,
		"--lease", "2s", "--heartbeat", "300ms")
	agentPID := readPID(t, pidFile)
	if s := stateOf(t, env, task); s.Status != "running" || *s.LeaseOwner != aID {
		t.Fatalf("task %+v, want running under worker a", s)
	}
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-a.exited
	poll.Until(t, 10*time.Second, "the orphaned agent to die with its worker", func() bool { return processGone(agentPID) })

	// nobody renews the lease: it expires and the sweeper requeues the task
	poll.Until(t, 15*time.Second, "the sweeper to requeue the task", func() bool {
		n, err := env.Store.SweepExpiredLeases(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return n == 1
	})
	if s := stateOf(t, env, task); s.Status != "pending" || s.RetryCount != 1 || s.ExecStatus != "pending" {
		t.Fatalf("after the sweep: %+v, want pending with retry 1", s)
	}

	b := startDaemon(t, env.URL+"/api/v1", bToken, "--steps 1 --step-delay 1ms")
	poll.Until(t, 20*time.Second, "worker b to complete the task", func() bool { return stateOf(t, env, task).Status == "completed" })
	if s := stateOf(t, env, task); s.ExecStatus != "completed" || s.PRNumber == nil || *s.PRNumber != 142 {
		t.Fatalf("after b: %+v", s)
	}
	// the server records the completion before b logs that it was accepted
	poll.Until(t, 10*time.Second, "worker b to log that its report was accepted", func() bool {
		return strings.Contains(b.out.String(), "task reported")
	})
	_ = bID
}

func TestCancelKillsTheRunningAgent(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	_, token := newWorker(t, alice, "local")
	task, execution := queueTask(t, env, alice.OrgID)
	pidFile := filepath.Join(t.TempDir(), "agent.pid")
	startDaemon(t, env.URL+"/api/v1", token, "--steps 1 --step-delay 1ms --sleep 1h --pid-file "+pidFile,
		"--lease", "3s", "--heartbeat", "200ms")
	pid := readPID(t, pidFile)

	// a person cancels the execution: through the API when the route exists
	r := alice.Do("POST", "/agents/executions/"+execution.String()+"/cancel", nil)
	if r.Status >= 300 {
		if _, err := env.Store.MoveTask(context.Background(), alice.OrgID, task, store.Move{Action: domain.ActCancel}); err != nil {
			t.Fatal(err)
		}
	}
	poll.Until(t, 15*time.Second, "the agent process to be killed", func() bool { return processGone(pid) })
	if s := stateOf(t, env, task); s.Status != "cancelled" || s.ExecStatus != "cancelled" {
		t.Fatalf("after cancel: %+v, want cancelled", s)
	}
}

// cuttableProxy relays to the API until cut; while cut it drops every connection, as a
// network outage would, and counts the calls it dropped by path.
type cuttableProxy struct {
	cut     atomic.Bool
	mu      sync.Mutex
	dropped map[string]int
}

// droppedFor counts the dropped calls whose path ends with suffix.
func (p *cuttableProxy) droppedFor(suffix string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for path, c := range p.dropped {
		if strings.HasSuffix(path, suffix) {
			n += c
		}
	}
	return n
}

func newCuttableProxy(t *testing.T, target string) (*cuttableProxy, string) {
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &cuttableProxy{dropped: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.cut.Load() {
			p.mu.Lock()
			p.dropped[r.URL.Path]++
			p.mu.Unlock()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				if tc, ok := conn.(*net.TCPConn); ok {
					_ = tc.SetLinger(0)
				}
				conn.Close()
			}
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return p, srv.URL
}

func TestDaemonKeepsAFinishedResultThroughAnAPIOutage(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	_, token := newWorker(t, alice, "local")
	task, _ := queueTask(t, env, alice.OrgID)
	proxy, proxyURL := newCuttableProxy(t, env.URL)
	goFile := filepath.Join(t.TempDir(), "go")
	startDaemon(t, proxyURL+"/api/v1", token, "--steps 2 --step-delay 1ms --wait-file "+goFile)

	poll.Until(t, 15*time.Second, "the task to run", func() bool { return stateOf(t, env, task).Status == "running" })
	proxy.cut.Store(true)
	if err := os.WriteFile(goFile, nil, 0o644); err != nil { // the agent finishes during the outage
		t.Fatal(err)
	}
	// the agent's last lines, then its result, wait in the worker while every call fails
	poll.Until(t, 20*time.Second, "the worker to try reporting during the outage", func() bool {
		return proxy.droppedFor("/logs")+proxy.droppedFor("/complete") >= 3
	})
	if s := stateOf(t, env, task); s.Status != "running" {
		t.Fatalf("during the outage the task is %s", s.Status)
	}
	proxy.cut.Store(false)
	poll.Until(t, 20*time.Second, "the result to arrive after the outage", func() bool { return stateOf(t, env, task).Status == "completed" })
	s := stateOf(t, env, task)
	if s.PRNumber == nil || *s.PRNumber != 142 {
		t.Fatalf("delivered %+v, want the agent's PR #142", s)
	}
	if logs := strings.Join(s.Logs, "\n"); !strings.Contains(logs, "[2/2]") {
		t.Fatalf("logs written during the outage were lost:\n%s", logs)
	}
}

func TestSigtermFailsUnfinishedTasksAsRetryable(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	_, token := newWorker(t, alice, "local")
	task, _ := queueTask(t, env, alice.OrgID)
	pidFile := filepath.Join(t.TempDir(), "agent.pid")
	d := startDaemon(t, env.URL+"/api/v1", token, "--steps 1 --step-delay 1ms --sleep 1h --pid-file "+pidFile, "--grace", "300ms")
	pid := readPID(t, pidFile)
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.exited:
	case <-time.After(20 * time.Second):
		t.Fatal("the worker did not stop after SIGTERM")
	}
	if code := d.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("worker exited %d", code)
	}
	if !processGone(pid) {
		t.Fatal("the agent outlived the worker")
	}
	s := stateOf(t, env, task)
	if s.Status != "pending" || s.RetryCount != 1 || !strings.Contains(strings.Join(s.Logs, "\n"), "worker shutting down") {
		t.Fatalf("after SIGTERM: %+v, want requeued (pending, retry 1) with a log line saying why", s)
	}
}

// Subscribed to live events, an idle worker claims as soon as work is announced, not at
// its next poll (here a minute away).
func TestDaemonClaimsWhenWorkIsAnnounced(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	_, token := newWorker(t, alice, "live")
	startDaemon(t, env.URL+"/api/v1", token, "--steps 1 --step-delay 10ms", "--poll", "1m", "--idle-poll", "1m")
	poll.Until(t, 20*time.Second, "the worker to subscribe", func() bool { return env.Server.Hub().Connections() == 1 })
	first, _ := queueTask(t, env, alice.OrgID)
	poll.Until(t, 10*time.Second, "the announced task to complete", func() bool { return stateOf(t, env, first).Status == "completed" })
	// and again, once the worker is surely idle on its minute-long poll
	second, _ := queueTask(t, env, alice.OrgID)
	poll.Until(t, 10*time.Second, "the second announced task to complete", func() bool { return stateOf(t, env, second).Status == "completed" })
}
