package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/miyabi/miyabi/app/internal/apitest"
	"github.com/miyabi/miyabi/app/internal/poll"
)

// failingProxy relays to the API but answers 500 to every call whose path contains one
// of the fragments, as an API that keeps failing on some input did (issue 14, finding 3:
// a NUL byte made every log batch of a task a 500).
func failingProxy(t *testing.T, target string, fragments ...string) (string, *atomic.Int64) {
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	var failed atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, f := range fragments {
			if strings.Contains(r.URL.Path, f) {
				failed.Add(1)
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = w.Write([]byte(`{"status":500,"detail":"Internal error."}`))
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &failed
}

func taskError(t *testing.T, env *apitest.Env, task any) (status string, msg string) {
	t.Helper()
	var e *string
	if err := env.DB.QueryRow(context.Background(), `SELECT status, error FROM tasks WHERE id = $1`, task).Scan(&status, &e); err != nil {
		t.Fatal(err)
	}
	if e != nil {
		msg = *e
	}
	return status, msg
}

// The worker retried a failing log batch forever: the task hung, running, while the
// agent's output piled up. Now the retries are bounded and the task fails with the reason.
func TestWorkerRetriesAreBoundedAndTheTaskFailsWithTheReason(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	_, token := newWorker(t, alice, "local")
	task, _ := queueTask(t, env, alice.OrgID)
	proxyURL, failed := failingProxy(t, env.URL, "/logs")
	startDaemon(t, proxyURL+"/api/v1", token, "--steps 2 --step-delay 1ms --sleep 1h", "--retries", "3")

	poll.Until(t, 30*time.Second, "the task to fail", func() bool {
		s, _ := taskError(t, env, task)
		return s == "failed"
	})
	_, msg := taskError(t, env, task)
	if !strings.Contains(msg, "could not be delivered") || !strings.Contains(msg, "3 attempts") {
		t.Fatalf("the task failed with %q, want the reason", msg)
	}
	if n := failed.Load(); n < 3 || n > 6 {
		t.Fatalf("%d log calls refused, want the bounded 3 (a batch or two)", n)
	}
}

// The worker kept retrying past its grace after SIGTERM (attempt 40 after 2.5 minutes).
func TestSigtermIsHonouredWhenTheAPIKeepsFailing(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	_, token := newWorker(t, alice, "local")
	queueTask(t, env, alice.OrgID)
	pidFile := filepath.Join(t.TempDir(), "agent.pid")
	proxyURL, _ := failingProxy(t, env.URL, "/logs", "/fail", "/complete")
	d := startDaemon(t, proxyURL+"/api/v1", token, "--steps 1 --step-delay 1ms --sleep 1h --pid-file "+pidFile, "--grace", "300ms")
	pid := readPID(t, pidFile)
	start := time.Now()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// grace 300 ms + the agent's SIGTERM→SIGKILL 3 s + delivery 10 s (the default)
	select {
	case <-d.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("the worker ignored SIGTERM while the API kept failing")
	}
	if !processGone(pid) {
		t.Fatal("the agent outlived the worker")
	}
	if !strings.Contains(d.out.String(), "undelivered report follows") {
		t.Fatalf("the worker exited without saying what it could not deliver (after %s):\n%s", time.Since(start), d.out.String())
	}
}
