package lambdafn_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miyabi/miyabi/app/internal/auth"
	"github.com/miyabi/miyabi/app/internal/lambdafn/fakesecrets"
	"github.com/miyabi/miyabi/app/internal/lambdafn/lambdatest"
	"github.com/miyabi/miyabi/app/internal/store"
	"github.com/miyabi/miyabi/app/internal/testdb"
)

// The keys of the production-like runs: real-looking, never the development defaults.
const (
	jwtKey       = "emulator-test-jwt-signing-key-of-more-than-32-bytes"
	encKey       = "ZW11bGF0b3ItdGVzdC10b2tlbi1rZXktMzItYnl0ZXM=" // 32 bytes
	githubSecret = "emulator-test-github-client-secret-32-bytes"
	// a comma inside: the adapter alone would split the header and refuse every call
	originSecret = "emulator,origin-verify-secret-of-32+-bytes"
	appSecretARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:miyabi/test/app-AbCdEf"
)

var (
	buildOnce sync.Once
	buildDir  string
	bootstrap string
	rie       string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// artifacts builds the bootstrap (internal/artifact, this machine's GOARCH) and the pinned
// emulator once per run. A build failure fails the test: the artifact is what ships.
func artifacts(t *testing.T) (string, string) {
	t.Helper()
	buildOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		if buildDir, buildErr = os.MkdirTemp("", "miyabi-lambda-"); buildErr != nil {
			return
		}
		var res struct{ BinaryPath string }
		r, err := lambdatest.BuildBootstrap(ctx, buildDir)
		if err != nil {
			buildErr = err
			return
		}
		res.BinaryPath = r.BinaryPath
		bootstrap = res.BinaryPath
		rie, buildErr = lambdatest.BuildEmulator(ctx, buildDir)
	})
	if buildErr != nil {
		t.Fatalf("build the Lambda artifact and the emulator: %v", buildErr)
	}
	return bootstrap, rie
}

func startEmulator(t *testing.T, env map[string]string) *lambdatest.Emulator {
	t.Helper()
	bs, rieBin := artifacts(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, err := lambdatest.Start(ctx, rieBin, bs, env)
	if err != nil {
		t.Fatalf("the emulator cannot run: %v", err)
	}
	t.Cleanup(func() {
		e.Stop()
		if t.Failed() {
			t.Logf("emulator output:\n%s", e.Output())
		}
	})
	return e
}

const operatorToken = "emulator-operator-token-0123456789abcdef"

// productionEnv is a production configuration whose database comes from the env.
func productionEnv(databaseURL string) map[string]string {
	return map[string]string{
		"APP_ENV":          "production",
		"LOG_FORMAT":       "json",
		"DATABASE_URL":     databaseURL,
		"GITHUB_CLIENT_ID": "emulator-client",
		"PUBLIC_URL":       "https://miyabi.example.com",
		"AWS_REGION":       "eu-west-1",
		"OPERATOR_TOKEN":   operatorToken,
		// what the Lambda service puts in every function's environment
		"AWS_ACCESS_KEY_ID":     "AKIAEMULATORTEST0000",
		"AWS_SECRET_ACCESS_KEY": "emulator-test-secret-access-key",
		"AWS_SESSION_TOKEN":     "emulator-test-session-token",
	}
}

// event is an API Gateway HTTP API (payload 2.0) request as the service sends it.
type event struct {
	method, path, query string
	headers             map[string]string
	cookies             []string
	body                []byte
	base64              bool
}

func (ev event) payload() events.APIGatewayV2HTTPRequest {
	headers := map[string]string{
		"accept": "application/json", "host": "abc123.execute-api.eu-west-1.amazonaws.com",
		"user-agent": "emulator-test/1.0", "x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https",
		strings.ToLower("X-Miyabi-Origin-Verify"): originSecret,
	}
	for k, v := range ev.headers {
		if v == "" {
			delete(headers, strings.ToLower(k))
			continue
		}
		headers[strings.ToLower(k)] = v
	}
	body := string(ev.body)
	if ev.base64 {
		body = base64.StdEncoding.EncodeToString(ev.body)
	}
	now := time.Now()
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: ev.path, RawQueryString: ev.query,
		Cookies: ev.cookies, Headers: headers, Body: body, IsBase64Encoded: ev.base64,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: "$default", AccountID: "123456789012", Stage: "$default", RequestID: uuid.NewString(),
			APIID: "abc123", DomainName: "abc123.execute-api.eu-west-1.amazonaws.com", DomainPrefix: "abc123",
			Time: now.UTC().Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: ev.method, Path: ev.path, Protocol: "HTTP/1.1", SourceIP: "203.0.113.9", UserAgent: "emulator-test/1.0",
			},
		},
	}
}

func call(t *testing.T, e *lambdatest.Emulator, ev event) events.APIGatewayV2HTTPResponse {
	t.Helper()
	inv, err := e.Invoke(context.Background(), ev.payload())
	if err != nil {
		t.Fatal(err)
	}
	if inv.FunctionError != nil {
		t.Fatalf("%s %s: the function failed: %s: %s", ev.method, ev.path, inv.FunctionError.Type, inv.FunctionError.Message)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(inv.Body, &resp); err != nil {
		t.Fatalf("%s %s: not an HTTP API response: %v: %s", ev.method, ev.path, err, inv.Body)
	}
	return resp
}

func body(t *testing.T, resp events.APIGatewayV2HTTPResponse) []byte {
	t.Helper()
	if !resp.IsBase64Encoded {
		return []byte(resp.Body)
	}
	b, err := base64.StdEncoding.DecodeString(resp.Body)
	if err != nil {
		t.Fatalf("isBase64Encoded body is not base64: %v", err)
	}
	return b
}

func header(resp events.APIGatewayV2HTTPResponse, name string) string {
	for k, v := range resp.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func expectProblem(t *testing.T, resp events.APIGatewayV2HTTPResponse, status int) map[string]any {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, body(t, resp))
	}
	if ct := header(resp, "Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var p map[string]any
	if err := json.Unmarshal(body(t, resp), &p); err != nil {
		t.Fatal(err)
	}
	if p["status"] != float64(status) {
		t.Fatalf("problem %v, want status %d", p, status)
	}
	return p
}

// refreshCookie returns the miyabi_refresh pair from the response's cookies array.
func refreshCookie(t *testing.T, resp events.APIGatewayV2HTTPResponse) string {
	t.Helper()
	if h := header(resp, "Set-Cookie"); h != "" {
		t.Fatalf("Set-Cookie arrived as a header, not in the cookies array: %q", h)
	}
	for _, c := range resp.Cookies {
		if strings.HasPrefix(c, "miyabi_refresh=") {
			for _, attr := range []string{"HttpOnly", "Secure", "SameSite=Strict", "Path=/api/v1/auth"} {
				if !strings.Contains(c, attr) {
					t.Fatalf("refresh cookie %q lacks %s", c, attr)
				}
			}
			return strings.SplitN(c, ";", 2)[0]
		}
	}
	t.Fatalf("no miyabi_refresh in the cookies array %q", resp.Cookies)
	return ""
}

type session struct {
	AccessToken  string `json:"access_token"`
	Organization struct {
		ID uuid.UUID `json:"id"`
	} `json:"organization"`
	User struct {
		Login string `json:"login"`
	} `json:"user"`
}

func decode[T any](t *testing.T, resp events.APIGatewayV2HTTPResponse, status int) T {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, body(t, resp))
	}
	var v T
	if err := json.Unmarshal(body(t, resp), &v); err != nil {
		t.Fatalf("%v: %s", err, body(t, resp))
	}
	return v
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestEmulatorProductionWithSecrets runs the shipped bootstrap in production mode with
// its keys in the (fake) Secrets Manager, starting from an empty database that the
// migrate action prepares, as a deploy does.
func TestEmulatorProductionWithSecrets(t *testing.T) {
	dbURL := testdb.Empty(t)
	secrets := fakesecrets.New(map[string]string{appSecretARN: mustJSON(map[string]string{
		"jwt_signing_key": jwtKey, "token_encryption_key": encKey,
		"github_client_secret": githubSecret, "origin_verify_secret": originSecret,
	})})
	t.Cleanup(secrets.Close)

	env := productionEnv(dbURL)
	env["APP_SECRET_ARN"] = appSecretARN
	env["REQUIRE_ORIGIN_SECRET"] = "true"
	env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = secrets.URL
	e := startEmulator(t, env)
	ctx := context.Background()

	// The deploy's first call: {"action":"migrate"} on the empty database.
	inv, err := e.Invoke(ctx, map[string]string{"action": "migrate"})
	if err != nil {
		t.Fatal(err)
	}
	if inv.FunctionError != nil || !strings.Contains(string(inv.Body), `"status":"ok"`) {
		t.Fatalf("migrate: %s", inv.Body)
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	for _, table := range []string{"users", "organizations", "sessions", "tasks", "workers", "goose_db_version"} {
		var exists bool
		if err := pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, "public."+table).Scan(&exists); err != nil || !exists {
			t.Fatalf("after migrate, table %s exists=%v err=%v", table, exists, err)
		}
	}
	t.Run("health", func(t *testing.T) {
		// the pool figures are for operators (an anonymous caller learns only up or down)
		resp := call(t, e, event{method: "GET", path: "/api/v1/health", headers: map[string]string{"Authorization": "Bearer " + operatorToken}})
		h := decode[struct {
			Status   string `json:"status"`
			Database struct {
				Status string `json:"status"`
				Pool   struct {
					Max int `json:"max"`
				} `json:"pool"`
			} `json:"database"`
		}](t, resp, http.StatusOK)
		if h.Status != "ok" || h.Database.Status != "up" {
			t.Fatalf("health %+v", h)
		}
		if h.Database.Pool.Max != 2 {
			t.Fatalf("pool max %d, want the Lambda default 2", h.Database.Pool.Max)
		}
	})

	t.Run("without the origin secret the API refuses", func(t *testing.T) {
		resp := call(t, e, event{method: "GET", path: "/api/v1/health", headers: map[string]string{"X-Miyabi-Origin-Verify": ""}})
		expectProblem(t, resp, http.StatusForbidden)
	})

	t.Run("dev login does not exist in production", func(t *testing.T) {
		resp := call(t, e, event{method: "POST", path: "/api/v1/auth/dev-login",
			headers: map[string]string{"Content-Type": "application/json"}, body: []byte(`{"login":"mallory"}`)})
		expectProblem(t, resp, http.StatusNotFound)
	})

	t.Run("404 stays 404 with problem+json", func(t *testing.T) {
		resp := call(t, e, event{method: "GET", path: "/api/v1/no-such-thing", query: "a=1&b=two%2Cthree"})
		p := expectProblem(t, resp, http.StatusNotFound)
		if !strings.Contains(fmt.Sprint(p["detail"]), "/api/v1/no-such-thing") {
			t.Fatalf("detail %v", p["detail"])
		}
	})

	// Sign-in needs GitHub in production, so the session is opened in the database
	// (as the GitHub callback would) and everything after goes through the function.
	st := store.New(pool)
	user, personal, err := st.UpsertUser(ctx, store.SignIn{GitHubID: 4242, Login: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	refresh, hash := auth.NewOpaqueToken("")
	if _, err := st.CreateSession(ctx, user.ID, personal, hash, "emulator-test", auth.SessionTTL); err != nil {
		t.Fatal(err)
	}

	var access, cookie string
	t.Run("refresh cookie round trip through the cookies array", func(t *testing.T) {
		resp := call(t, e, event{method: "POST", path: "/api/v1/auth/refresh", cookies: []string{"theme=dark", "miyabi_refresh=" + refresh}})
		s := decode[session](t, resp, http.StatusOK)
		cookie = refreshCookie(t, resp)
		access = s.AccessToken

		me := decode[struct {
			User struct {
				Login string `json:"login"`
			} `json:"user"`
			Role string `json:"role"`
		}](t, call(t, e, event{method: "GET", path: "/api/v1/auth/me", headers: map[string]string{"Authorization": "Bearer " + access}}), http.StatusOK)
		if me.User.Login != "alice" || me.Role != "owner" {
			t.Fatalf("me %+v", me)
		}

		// the rotated cookie from the cookies array works on the next call
		resp = call(t, e, event{method: "POST", path: "/api/v1/auth/refresh", cookies: []string{cookie}})
		s = decode[session](t, resp, http.StatusOK)
		next := refreshCookie(t, resp)
		if next == cookie {
			t.Fatal("the refresh cookie was not rotated")
		}
		access, cookie = s.AccessToken, next

		// and the first one, already rotated, is refused
		expectProblem(t, call(t, e, event{method: "POST", path: "/api/v1/auth/refresh", cookies: []string{"miyabi_refresh=" + refresh}}), http.StatusUnauthorized)
	})

	t.Run("gzip body arrives intact", func(t *testing.T) {
		// a fresh session: the reuse above revoked the family
		refresh, hash := auth.NewOpaqueToken("")
		if _, err := st.CreateSession(ctx, user.ID, personal, hash, "emulator-test", auth.SessionTTL); err != nil {
			t.Fatal(err)
		}
		s := decode[session](t, call(t, e, event{method: "POST", path: "/api/v1/auth/refresh", cookies: []string{"miyabi_refresh=" + refresh}}), http.StatusOK)
		plain := []byte(fmt.Sprintf(`{"organization_id":%q}`, personal))
		resp := call(t, e, event{method: "POST", path: "/api/v1/auth/switch-organization", base64: true, body: gz(t, plain),
			headers: map[string]string{"Authorization": "Bearer " + s.AccessToken, "Content-Type": "application/json", "Content-Encoding": "gzip"}})
		got := decode[session](t, resp, http.StatusOK)
		if got.Organization.ID != personal {
			t.Fatalf("the API read organization %s, want %s", got.Organization.ID, personal)
		}

		// a corrupt stream is the client's fault
		resp = call(t, e, event{method: "POST", path: "/api/v1/auth/switch-organization", base64: true, body: []byte("\x1f\x8bnot gzip at all"),
			headers: map[string]string{"Authorization": "Bearer " + s.AccessToken, "Content-Type": "application/json", "Content-Encoding": "gzip"}})
		expectProblem(t, resp, http.StatusBadRequest)
	})

	t.Run("sweep requeues an expired lease", func(t *testing.T) {
		for _, trigger := range []struct {
			name  string
			event any
		}{
			{"action", map[string]string{"action": "sweep"}},
			{"EventBridge schedule", map[string]any{
				"version": "0", "id": uuid.NewString(), "detail-type": "Scheduled Event", "source": "aws.events",
				"account": "123456789012", "time": time.Now().UTC().Format(time.RFC3339), "region": "eu-west-1",
				"resources": []string{"arn:aws:events:eu-west-1:123456789012:rule/miyabi-test-sweep"}, "detail": map[string]any{},
			}},
		} {
			t.Run(trigger.name, func(t *testing.T) {
				var org, worker, task uuid.UUID
				slug := "sweep-" + strings.ToLower(uuid.NewString()[:8])
				if err := pool.QueryRow(ctx, `INSERT INTO organizations (name, slug) VALUES ($1, $1) RETURNING id`, slug).Scan(&org); err != nil {
					t.Fatal(err)
				}
				_, whash := auth.NewOpaqueToken("mw_")
				if err := pool.QueryRow(ctx, `INSERT INTO workers (organization_id, name, token_hash) VALUES ($1, 'w1', $2) RETURNING id`, org, whash).Scan(&worker); err != nil {
					t.Fatal(err)
				}
				if err := pool.QueryRow(ctx, `
					INSERT INTO tasks (organization_id, name, agent_type, status, lease_owner, lease_expires_at, started_at)
					VALUES ($1, 'expired', 'codegen', 'running', $2, now() - interval '1 minute', now() - interval '10 minutes')
					RETURNING id`, org, worker).Scan(&task); err != nil {
					t.Fatal(err)
				}
				inv, err := e.Invoke(ctx, trigger.event)
				if err != nil {
					t.Fatal(err)
				}
				// the answer lists each job; the Lambda's sweep delivers the notifications too
				if inv.FunctionError != nil || !strings.Contains(string(inv.Body), `"moved":1`) ||
					!strings.Contains(string(inv.Body), `{"job":"requeue_leases","items":1,"failed":0}`) || !strings.Contains(string(inv.Body), `"job":"notifications"`) {
					t.Fatalf("sweep answered %s", inv.Body)
				}
				var status string
				var retries int
				if err := pool.QueryRow(ctx, `SELECT status, retry_count FROM tasks WHERE organization_id = $1 AND id = $2`, org, task).Scan(&status, &retries); err != nil {
					t.Fatal(err)
				}
				if status != "pending" || retries != 1 {
					t.Fatalf("after the sweep the task is %s with retry_count %d, want pending with 1", status, retries)
				}
			})
		}
	})

	t.Run("anything else is an error naming what arrived", func(t *testing.T) {
		cases := []struct {
			name  string
			event any
			want  string
		}{
			{"unknown action", map[string]string{"action": "drop-database"}, `unknown action "drop-database"`},
			{"payload 1.0", map[string]any{"version": "1.0", "httpMethod": "GET", "path": "/"}, "payload format 1.0"},
			{"SQS", map[string]any{"Records": []any{map[string]string{"eventSource": "aws:sqs"}}}, "keys [Records]"},
			{"other EventBridge", map[string]any{"source": "aws.s3", "detail-type": "Object Created"}, `source "aws.s3"`},
			{"not an object", []int{1, 2}, "a JSON array"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				inv, err := e.Invoke(ctx, tc.event)
				if err != nil {
					t.Fatal(err)
				}
				if inv.FunctionError == nil || !strings.Contains(inv.FunctionError.Message, tc.want) {
					t.Fatalf("answer %s, want a function error containing %q", inv.Body, tc.want)
				}
			})
		}
	})

	// the keys were fetched once, at init, not per invoke
	if n := secrets.Reads(appSecretARN); n != 1 {
		t.Fatalf("the app secret was read %d times, want once at init", n)
	}
}

// TestEmulatorProductionWithEnvKeys: with DATABASE_URL and the keys in the environment
// (self-hosted), the function uses them and reads no secret, even with ARNs configured.
func TestEmulatorProductionWithEnvKeys(t *testing.T) {
	secrets := fakesecrets.New(map[string]string{appSecretARN: `{"jwt_signing_key":"must-not-be-used"}`})
	t.Cleanup(secrets.Close)
	env := productionEnv(testdb.URL(t))
	env["JWT_SIGNING_KEY"] = jwtKey
	env["TOKEN_ENCRYPTION_KEY"] = encKey
	env["GITHUB_CLIENT_SECRET"] = githubSecret
	env["APP_SECRET_ARN"] = appSecretARN
	env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = secrets.URL
	e := startEmulator(t, env)

	resp := call(t, e, event{method: "GET", path: "/api/v1/health"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("health %d: %s", resp.StatusCode, body(t, resp))
	}
	expectProblem(t, call(t, e, event{method: "POST", path: "/api/v1/auth/dev-login", body: []byte(`{"login":"x"}`),
		headers: map[string]string{"Content-Type": "application/json"}}), http.StatusNotFound)
	if n := secrets.TotalReads(); n != 0 {
		t.Fatalf("read %d secrets, want none when the environment has everything", n)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// mustMigrate invokes the migrate action and fails the test unless it answers ok.
func mustMigrate(t *testing.T, ctx context.Context, e *lambdatest.Emulator, step string) {
	t.Helper()
	inv, err := e.Invoke(ctx, map[string]string{"action": "migrate"})
	if err != nil || inv.FunctionError != nil || !strings.Contains(string(inv.Body), `"status":"ok"`) {
		t.Fatalf("%s: migrate: %v %s", step, err, inv.Body)
	}
}

// healthStatus is the status of GET /api/v1/health through the function.
func healthStatus(t *testing.T, e *lambdatest.Emulator) int {
	t.Helper()
	return call(t, e, event{method: "GET", path: "/api/v1/health"}).StatusCode
}
