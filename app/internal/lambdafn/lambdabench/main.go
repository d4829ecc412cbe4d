// Command lambdabench measures the Lambda artifact (bench/lambda/run.sh runs it): zip
// size, cold init (process start to ready for the first invoke, by this program's clock:
// it plays the Lambda Runtime API, so "ready" is the bootstrap's first request for
// work), first-request and warm latency, with the secret fetch and the database
// connect measured apart.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/miyabi/miyabi/app/internal/lambdafn/fakesecrets"
	"github.com/miyabi/miyabi/app/internal/lambdafn/lambdatest"
	"github.com/miyabi/miyabi/app/internal/store"
	"github.com/miyabi/miyabi/app/internal/testdb"
	"github.com/miyabi/miyabi/internal/artifact"
)

const (
	coldRuns = 7
	warmRuns = 200
	appARN   = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:miyabi/bench/app"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "lambdabench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "miyabi-lambdabench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	root, err := lambdatest.RepoRoot()
	if err != nil {
		return err
	}
	arm, err := artifact.BuildLambda(ctx, artifact.Options{RepoRoot: root, OutDir: filepath.Join(dir, "arm64"), GOARCH: "arm64"})
	if err != nil {
		return err
	}
	native, err := lambdatest.BuildBootstrap(ctx, filepath.Join(dir, "native"))
	if err != nil {
		return err
	}

	dbURL, drop, err := freshDatabase(ctx)
	if err != nil {
		return err
	}
	defer drop()
	connect, err := medianOf(7, func() (time.Duration, error) {
		start := time.Now()
		c, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			return 0, err
		}
		d := time.Since(start)
		return d, c.Close(ctx)
	})
	if err != nil {
		return err
	}

	secrets := fakesecrets.New(map[string]string{appARN: `{"jwt_signing_key":"bench-jwt-signing-key-of-more-than-32-bytes",` +
		`"token_encryption_key":"YmVuY2gtdG9rZW4tZW5jcnlwdGlvbi1rZXktMzJieXQ=","github_client_secret":"bench-github-client-secret-of-32-bytes"}`})
	defer secrets.Close()
	base := map[string]string{
		"APP_ENV": "production", "LOG_FORMAT": "json", "DATABASE_URL": dbURL, "GITHUB_CLIENT_ID": "bench",
		"PUBLIC_URL": "https://miyabi.example.com", "AWS_REGION": "eu-west-1",
		"AWS_ACCESS_KEY_ID": "AKIABENCH", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": "bench",
	}
	withSecret := clone(base)
	withSecret["APP_SECRET_ARN"] = appARN
	withSecret["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = secrets.URL
	withEnv := clone(base)
	withEnv["JWT_SIGNING_KEY"] = "bench-jwt-signing-key-of-more-than-32-bytes"
	withEnv["TOKEN_ENCRYPTION_KEY"] = "YmVuY2gtdG9rZW4tZW5jcnlwdGlvbi1rZXktMzJieXQ="
	withEnv["GITHUB_CLIENT_SECRET"] = "bench-github-client-secret-of-32-bytes"

	fmt.Printf("Lambda artifact (%s)\n\n", time.Now().Format("2006-01-02 15:04"))
	fmt.Printf("| measure | value | target |\n|---|---|---|\n")
	fmt.Printf("| zip size (linux/arm64) | %.2f MB (%d bytes) | < 8 MB |\n", float64(arm.Size)/1e6, arm.Size)
	for _, mode := range []struct {
		name string
		env  map[string]string
	}{{"keys in env", withEnv}, {"keys from Secrets Manager (local fake)", withSecret}} {
		var ready, init, secretsMS, first, bootMS []time.Duration
		var warm []time.Duration
		for i := 0; i < coldRuns; i++ {
			r, err := coldStart(ctx, native.BinaryPath, mode.env, i == 0)
			if err != nil {
				return fmt.Errorf("%s: %w", mode.name, err)
			}
			ready = append(ready, r.ready)
			init = append(init, r.initWithoutSecrets)
			secretsMS = append(secretsMS, r.secrets)
			first = append(first, r.first)
			bootMS = append(bootMS, r.ready-r.initTotal)
			warm = append(warm, r.warm...)
		}
		fmt.Printf("| cold init, process start to ready, %s (median of %d) | %s | |\n", mode.name, coldRuns, fmtD(median(ready)))
		fmt.Printf("| ... of which Go runtime + package init (before Init) | %s | |\n", fmtD(median(bootMS)))
		fmt.Printf("| ... of which Init without the secret fetch | %s | |\n", fmtD(median(init)))
		fmt.Printf("| ... cold init without the secret fetch | %s | < 50 ms |\n", fmtD(median(ready)-median(secretsMS)))
		fmt.Printf("| ... secret fetch | %s | reported apart |\n", fmtD(median(secretsMS)))
		fmt.Printf("| first request (GET /api/v1/health, connects to the database), %s | %s | |\n", mode.name, fmtD(median(first)))
		slices.Sort(warm)
		fmt.Printf("| warm request p50 / p99 (%d health calls) | %s / %s | |\n", len(warm), fmtD(warm[len(warm)/2]), fmtD(warm[len(warm)*99/100]))
	}
	fmt.Printf("| database connect (pgx.Connect, loopback, median of 7) | %s | reported apart |\n", fmtD(connect))
	fmt.Printf("\nLocal fake Secrets Manager and loopback PostgreSQL: on AWS the secret fetch and the TLS connect to RDS take longer (not measured here); both are outside the 50 ms target.\n")
	return nil
}

type coldResult struct {
	ready, initTotal, initWithoutSecrets, secrets, first time.Duration
	warm                                                 []time.Duration
}

// coldStart runs the bootstrap against a minimal Runtime API on loopback.
func coldStart(ctx context.Context, bootstrap string, env map[string]string, measureWarm bool) (coldResult, error) {
	rt := newRuntimeAPI()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return coldResult{}, err
	}
	srv := &http.Server{Handler: rt}
	go srv.Serve(ln)
	defer srv.Close()

	cmd := exec.Command(bootstrap)
	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + ln.Addr().String(), "AWS_LAMBDA_FUNCTION_NAME=bench",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=1024", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var logs syncBuf
	cmd.Stdout, cmd.Stderr = &logs, &logs
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return coldResult{}, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	var res coldResult
	health := healthEvent()
	select {
	case <-rt.firstNext:
		res.ready = time.Since(start)
	case <-time.After(20 * time.Second):
		return res, fmt.Errorf("the bootstrap did not ask for work within 20s:\n%s", logs.String())
	}
	if res.first, err = rt.invoke(health); err != nil {
		return res, fmt.Errorf("%w\n%s", err, logs.String())
	}
	if measureWarm {
		for i := 0; i < warmRuns; i++ {
			d, err := rt.invoke(health)
			if err != nil {
				return res, err
			}
			res.warm = append(res.warm, d)
		}
	}
	var initLog struct {
		Msg       string  `json:"msg"`
		InitMS    float64 `json:"init_ms"`
		SecretsMS float64 `json:"secrets_ms"`
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if json.Unmarshal([]byte(line), &initLog) == nil && initLog.Msg == "lambda init" {
			break
		}
	}
	if initLog.Msg == "" {
		return res, fmt.Errorf("no lambda init log line:\n%s", logs.String())
	}
	res.initTotal = ms(initLog.InitMS)
	res.secrets = ms(initLog.SecretsMS)
	res.initWithoutSecrets = res.initTotal - res.secrets
	return res, nil
}

// runtimeAPI is the part of the Lambda Runtime API a Go function uses: next, response,
// error. One invoke at a time, like Lambda.
type runtimeAPI struct {
	firstNext chan struct{}
	once      sync.Once
	events    chan []byte
	results   chan result
}

type result struct {
	body []byte
	err  bool
}

func newRuntimeAPI() *runtimeAPI {
	return &runtimeAPI{firstNext: make(chan struct{}), events: make(chan []byte), results: make(chan result)}
}

func (r *runtimeAPI) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	switch {
	case req.Method == http.MethodGet && req.URL.Path == "/2018-06-01/runtime/invocation/next":
		r.once.Do(func() { close(r.firstNext) })
		select {
		case ev := <-r.events:
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", "bench-request")
			w.Header().Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(30*time.Second).UnixMilli()))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:123456789012:function:bench")
			_, _ = w.Write(ev)
		case <-req.Context().Done():
		}
	case req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/response"):
		b, _ := io.ReadAll(req.Body)
		w.WriteHeader(http.StatusAccepted)
		r.results <- result{body: b}
	case req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/error"):
		b, _ := io.ReadAll(req.Body)
		w.WriteHeader(http.StatusAccepted)
		r.results <- result{body: b, err: true}
	default:
		http.NotFound(w, req)
	}
}

func (r *runtimeAPI) invoke(event []byte) (time.Duration, error) {
	start := time.Now()
	select {
	case r.events <- event:
	case <-time.After(10 * time.Second):
		return 0, fmt.Errorf("the function did not take the event")
	}
	select {
	case res := <-r.results:
		d := time.Since(start)
		if res.err || !strings.Contains(string(res.body), `"statusCode":200`) {
			return 0, fmt.Errorf("invoke failed: %s", res.body)
		}
		return d, nil
	case <-time.After(30 * time.Second):
		return 0, fmt.Errorf("no answer within 30s")
	}
}

func healthEvent() []byte {
	b, _ := json.Marshal(map[string]any{
		"version": "2.0", "routeKey": "$default", "rawPath": "/api/v1/health", "rawQueryString": "",
		"headers": map[string]string{"host": "abc.execute-api.eu-west-1.amazonaws.com", "accept": "application/json"},
		"requestContext": map[string]any{"accountId": "123456789012", "apiId": "abc", "domainName": "abc.execute-api.eu-west-1.amazonaws.com",
			"requestId": "bench", "routeKey": "$default", "stage": "$default", "timeEpoch": time.Now().UnixMilli(),
			"http": map[string]string{"method": "GET", "path": "/api/v1/health", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": "bench"}},
		"isBase64Encoded": false,
	})
	return b
}

// freshDatabase creates a migrated database on the test cluster and a func to drop it.
func freshDatabase(ctx context.Context) (string, func(), error) {
	admin := os.Getenv("MIYABI_TEST_DATABASE_URL")
	if admin == "" {
		admin = testdb.DefaultURL
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", nil, fmt.Errorf("the test PostgreSQL (make db): %w", err)
	}
	name := fmt.Sprintf("miyabi_lambdabench_%d", os.Getpid())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close(ctx)
		return "", nil, err
	}
	drop := func() {
		_, _ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		conn.Close(context.Background())
	}
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	pool, err := store.OpenPool(ctx, u.String(), 2)
	if err != nil {
		drop()
		return "", nil, err
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool, slog.New(slog.DiscardHandler)); err != nil {
		drop()
		return "", nil, err
	}
	return u.String(), drop, nil
}

func medianOf(n int, f func() (time.Duration, error)) (time.Duration, error) {
	var ds []time.Duration
	for i := 0; i < n; i++ {
		d, err := f()
		if err != nil {
			return 0, err
		}
		ds = append(ds, d)
	}
	return median(ds), nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

func fmtD(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func clone(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
