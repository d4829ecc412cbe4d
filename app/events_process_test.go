package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/miyabi/miyabi/app/internal/poll"
	"github.com/miyabi/miyabi/app/internal/testdb"
)

// Two API processes on one database: a change made through one reaches a WebSocket
// client of the other (PostgreSQL LISTEN/NOTIFY between them).
func TestEventsCrossTwoAPIProcesses(t *testing.T) {
	dir := t.TempDir()
	binPath := filepath.Join(dir, "miyabi")
	if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build ./app: %v\n%s", err, out)
	}
	dbURL := testdb.URL(t)
	a, b := startAPI(t, binPath, dbURL), startAPI(t, binPath, dbURL)

	// sign in through A, listen through B
	var session struct {
		AccessToken string `json:"access_token"`
	}
	post(t, a, "", "/auth/dev-login", `{"login":"alice"}`, 200, &session)
	var ticket struct {
		Ticket string `json:"ticket"`
	}
	post(t, b, session.AccessToken, "/events/ticket", "", 201, &ticket)
	ws, _, err := websocket.Dial(context.Background(), strings.Replace(b, "http", "ws", 1)+"/api/v1/events?ticket="+ticket.Ticket, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	next := func() map[string]any {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		var m map[string]any
		_ = json.Unmarshal(data, &m)
		return m
	}
	if m := next(); m["type"] != "connected" {
		t.Fatalf("first message %v", m)
	}

	var task struct {
		ID string `json:"id"`
	}
	post(t, a, session.AccessToken, "/tasks", `{"name":"made through A"}`, 201, &task)
	for {
		m := next()
		if m["type"] == "task.updated" && m["id"] == task.ID {
			return
		}
	}
}

func startAPI(t *testing.T, binPath, dbURL string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(binPath, "serve")
	cmd.Env = append(os.Environ(), "APP_ENV=development", "DATABASE_URL="+dbURL, "LISTEN_ADDR="+addr, "DASHBOARD_DIR="+t.TempDir())
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("API %s output:\n%s", addr, out.String())
		}
	})
	base := "http://" + addr
	poll.Until(t, 20*time.Second, "the API on "+addr+" to be healthy", func() bool {
		resp, err := http.Get(base + "/api/v1/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return base
}

func post(t *testing.T, base, token, path, body string, want int, out any) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/api/v1"+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw bytes.Buffer
	_, _ = raw.ReadFrom(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("POST %s: %d, want %d: %s", path, resp.StatusCode, want, raw.String())
	}
	if out != nil {
		if err := json.Unmarshal(raw.Bytes(), out); err != nil {
			t.Fatal(fmt.Errorf("decode %s: %w", raw.String(), err))
		}
	}
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
