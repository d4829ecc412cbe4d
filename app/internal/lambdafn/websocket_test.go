package lambdafn_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miyabi/miyabi/app/internal/auth"
	"github.com/miyabi/miyabi/app/internal/lambdafn/lambdatest"
	"github.com/miyabi/miyabi/app/internal/metrics/emfcheck"
	"github.com/miyabi/miyabi/app/internal/poll"
	"github.com/miyabi/miyabi/app/internal/store"
	"github.com/miyabi/miyabi/app/internal/testdb"
)

// managementAPI is a fake API Gateway @connections endpoint: it records what the
// function posts and deletes, checks the SigV4 signature's scope, and answers 410 for
// connections whose id starts with "gone".
type managementAPI struct {
	*httptest.Server
	mu    sync.Mutex
	posts map[string][]map[string]any
	dels  map[string]int
	bad   []string
}

func newManagementAPI(t *testing.T) *managementAPI {
	m := &managementAPI{posts: map[string][]map[string]any{}, dels: map[string]int{}}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := strings.CutPrefix(r.URL.Path, "/prod/@connections/")
		authz := r.Header.Get("Authorization")
		m.mu.Lock()
		defer m.mu.Unlock()
		if !ok || !strings.HasPrefix(authz, "AWS4-HMAC-SHA256 Credential=AKIAEMULATORTEST0000/") ||
			!strings.Contains(authz, "/eu-west-1/execute-api/aws4_request") || r.Header.Get("X-Amz-Security-Token") != "emulator-test-session-token" {
			m.bad = append(m.bad, r.Method+" "+r.URL.Path+" "+authz)
			w.WriteHeader(http.StatusForbidden)
			return
		}
		if strings.HasPrefix(id, "gone") {
			w.WriteHeader(http.StatusGone)
			return
		}
		switch r.Method {
		case http.MethodPost:
			var msg map[string]any
			b, _ := io.ReadAll(r.Body)
			_ = json.Unmarshal(b, &msg)
			m.posts[id] = append(m.posts[id], msg)
		case http.MethodDelete:
			m.dels[id]++
		}
	}))
	t.Cleanup(m.Close)
	return m
}

func (m *managementAPI) postsTo(id string) []map[string]any {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]map[string]any(nil), m.posts[id]...)
}

func (m *managementAPI) deleted(id string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dels[id]
}

func wsEvent(eventType, connID string, query map[string]string, body string) events.APIGatewayWebsocketProxyRequest {
	route := map[string]string{"CONNECT": "$connect", "DISCONNECT": "$disconnect", "MESSAGE": "$default"}[eventType]
	return events.APIGatewayWebsocketProxyRequest{QueryStringParameters: query, Body: body,
		RequestContext: events.APIGatewayWebsocketProxyRequestContext{RouteKey: route, EventType: eventType,
			ConnectionID: connID, Stage: "prod", DomainName: "ws123.execute-api.eu-west-1.amazonaws.com",
			RequestID: uuid.NewString(), APIID: "ws123", ConnectedAt: time.Now().UnixMilli()}}
}

func wsCall(t *testing.T, e *lambdatest.Emulator, ev events.APIGatewayWebsocketProxyRequest) int {
	t.Helper()
	inv, err := e.Invoke(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if inv.FunctionError != nil {
		t.Fatalf("%s: the function failed: %s", ev.RequestContext.EventType, inv.FunctionError.Message)
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(inv.Body, &resp); err != nil {
		t.Fatalf("not a proxy response: %s", inv.Body)
	}
	return resp.StatusCode
}

// The WebSocket API under the emulator: $connect checks the ticket, writes fan out after
// the request through @connections (signed), other organizations hear nothing, gone
// connections are pruned, a malformed message and a logout close the connection.
func TestEmulatorWebSocketEvents(t *testing.T) {
	ctx := context.Background()
	dbURL := testdb.URL(t)
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	st := store.New(pool)
	mgmt := newManagementAPI(t)

	env := productionEnv(dbURL)
	env["JWT_SIGNING_KEY"] = jwtKey
	env["TOKEN_ENCRYPTION_KEY"] = encKey
	env["GITHUB_CLIENT_SECRET"] = githubSecret
	env["EVENTS_MANAGEMENT_URL"] = mgmt.URL + "/prod"
	e := startEmulator(t, env)

	tokens := auth.NewTokens([]byte(jwtKey), time.Now)
	signIn := func(githubID int64, login string) (string, uuid.UUID) {
		user, org, err := st.UpsertUser(ctx, store.SignIn{GitHubID: githubID, Login: login})
		if err != nil {
			t.Fatal(err)
		}
		_, hash := auth.NewOpaqueToken("")
		sess, err := st.CreateSession(ctx, user.ID, org, hash, "emulator-test", auth.SessionTTL)
		if err != nil {
			t.Fatal(err)
		}
		access, _, err := tokens.Issue(user.ID, sess.ID, org)
		if err != nil {
			t.Fatal(err)
		}
		return access, org
	}
	aliceToken, aliceOrg := signIn(1, "alice")
	bobToken, _ := signIn(2, "bob")
	bearer := func(tok string) map[string]string {
		return map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
	}
	ticket := func(tok string) string {
		return decode[struct {
			Ticket string `json:"ticket"`
		}](t, call(t, e, event{method: "POST", path: "/api/v1/events/ticket", headers: bearer(tok)}), http.StatusCreated).Ticket
	}

	aliceTicket := ticket(aliceToken)
	if got := wsCall(t, e, wsEvent("CONNECT", "alice-1", map[string]string{"ticket": aliceTicket}, "")); got != 200 {
		t.Fatalf("$connect with a ticket: %d", got)
	}
	if got := wsCall(t, e, wsEvent("CONNECT", "alice-2", map[string]string{"ticket": aliceTicket}, "")); got != 401 {
		t.Errorf("$connect with a reused ticket: %d, want 401", got)
	}
	if got := wsCall(t, e, wsEvent("CONNECT", "nobody", nil, "")); got != 401 {
		t.Errorf("$connect without a ticket: %d, want 401", got)
	}
	if got := wsCall(t, e, wsEvent("CONNECT", "gone-alice", map[string]string{"ticket": ticket(aliceToken)}, "")); got != 200 {
		t.Fatalf("$connect: %d", got)
	}
	if got := wsCall(t, e, wsEvent("CONNECT", "bob-1", map[string]string{"ticket": ticket(bobToken)}, "")); got != 200 {
		t.Fatalf("$connect bob: %d", got)
	}

	// a write through the API: its events reach alice's connection after the request
	var task struct {
		ID uuid.UUID `json:"id"`
	}
	task = decode[struct {
		ID uuid.UUID `json:"id"`
	}](t, call(t, e, event{method: "POST", path: "/api/v1/tasks", headers: bearer(aliceToken), body: []byte(`{"name":"live"}`)}), http.StatusCreated)
	var sawTask, sawSummary bool
	for _, m := range mgmt.postsTo("alice-1") {
		if m["type"] == "task.updated" && m["id"] == task.ID.String() && m["organization_id"] == aliceOrg.String() {
			sawTask = true
		}
		if m["type"] == "summary.changed" {
			sawSummary = true
		}
	}
	if !sawTask || !sawSummary {
		t.Errorf("alice's connection got %v, want task.updated and summary.changed", mgmt.postsTo("alice-1"))
	}
	if p := mgmt.postsTo("bob-1"); len(p) != 0 {
		t.Errorf("bob (another organization) got %v", p)
	}
	var left int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM websocket_connections WHERE connection_id = 'gone-alice'`).Scan(&left); err != nil || left != 0 {
		t.Errorf("a connection answered 410 is still recorded (%d, %v)", left, err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM event_outbox`).Scan(&left); err != nil || left != 0 {
		t.Errorf("outbox holds %d events after the drain (%v)", left, err)
	}
	// operators see the drain: the events posted through @connections are an EMF figure
	poll.Until(t, 10*time.Second, "EventsPosted (at least alice's two) in the function's output", func() bool {
		docs, err := emfcheck.Lines([]byte(e.Output()))
		if err != nil {
			t.Fatal(err)
		}
		posted := 0.0
		for _, m := range emfcheck.Find(docs, "EventsPosted", map[string]string{"Service": "miyabi"}) {
			posted += m.Values[0]
		}
		return posted >= 2
	})

	// a malformed message: the reason is posted, then the connection is closed
	if got := wsCall(t, e, wsEvent("CONNECT", "bob-2", map[string]string{"ticket": ticket(bobToken)}, "")); got != 200 {
		t.Fatalf("$connect: %d", got)
	}
	wsCall(t, e, wsEvent("MESSAGE", "bob-2", nil, `{"action":"subscribe"}`))
	if p := mgmt.postsTo("bob-2"); len(p) != 1 || p[0]["type"] != "error" || mgmt.deleted("bob-2") != 1 {
		t.Errorf("malformed message: posts %v, deletes %d", p, mgmt.deleted("bob-2"))
	}
	// following an execution of another organization is refused, the connection stays
	wsCall(t, e, wsEvent("MESSAGE", "bob-1", nil, `{"action":"follow","execution_id":"`+uuid.NewString()+`"}`))
	if p := mgmt.postsTo("bob-1"); len(p) != 1 || p[0]["type"] != "error" || mgmt.deleted("bob-1") != 0 {
		t.Errorf("follow of an unknown execution: posts %v", p)
	}

	// logout: alice's connection is closed by the request that signed her out
	if resp := call(t, e, event{method: "POST", path: "/api/v1/auth/logout", headers: bearer(aliceToken)}); resp.StatusCode != 204 {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if mgmt.deleted("alice-1") != 1 {
		t.Errorf("alice's connection was not closed after logout")
	}

	if got := wsCall(t, e, wsEvent("DISCONNECT", "bob-1", nil, "")); got != 200 {
		t.Errorf("$disconnect: %d", got)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM websocket_connections`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d connections still recorded (%v)", left, err)
	}
	if len(mgmt.bad) > 0 {
		t.Errorf("unsigned or mis-scoped calls to @connections: %v", mgmt.bad)
	}
}
