package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/miyabi/miyabi/app/internal/apitest"
	"github.com/miyabi/miyabi/app/internal/auth"
	"github.com/miyabi/miyabi/app/internal/config"
	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/fakechat"
	"github.com/miyabi/miyabi/app/internal/fakegithub"
	"github.com/miyabi/miyabi/app/internal/notify"
	"github.com/miyabi/miyabi/app/internal/poll"
	"github.com/miyabi/miyabi/app/internal/store"
)

const lineToken = "line-channel-access-token-for-tests"
const lineTo = "U0123456789abcdef0123456789abcdef"

type scene struct {
	env   *apitest.Env
	alice *apitest.Client
	fake  *fakechat.Server
	sink  string // the fakes' base URL
}

func newScene(t *testing.T) *scene {
	t.Helper()
	fake := fakechat.New(lineToken)
	hs := httptest.NewServer(fake)
	t.Cleanup(hs.Close)
	env := apitest.New(t, func(c *config.Config) { c.LINEAPIURL = hs.URL })
	return &scene{env: env, alice: env.Login("alice"), fake: fake, sink: hs.URL}
}

// notifier is a deliverer over the scene's database, as another process would run it;
// retries wait a millisecond instead of 10 s.
func (s *scene) notifier(t *testing.T, allowPrivate bool) *notify.Notifier {
	t.Helper()
	sealer, err := auth.NewSealer(s.env.Config.TokenEncryptionKey)
	if err != nil {
		t.Fatal(err)
	}
	return notify.New(notify.Options{Store: s.env.Store, Sealer: sealer, Log: slog.New(slog.DiscardHandler), PublicURL: "https://miyabi.example",
		LINEAPIURL: s.sink, AllowPrivate: allowPrivate, Backoff: func(int) time.Duration { return time.Millisecond }})
}

type channelJSON struct {
	ID            uuid.UUID `json:"id"`
	Kind          string    `json:"kind"`
	Target        string    `json:"target"`
	Status        string    `json:"status"`
	FailureReason *string   `json:"failure_reason"`
	SigningSecret string    `json:"signing_secret"`
}

type deliveryJSON struct {
	ID           uuid.UUID `json:"id"`
	EventType    string    `json:"event_type"`
	Status       string    `json:"status"`
	Attempts     int       `json:"attempts"`
	ResponseCode *int      `json:"response_code"`
	ResponseBody *string   `json:"response_body"`
	LastError    *string   `json:"last_error"`
}

// org is the path of alice's organization, where her channels live.
func (s *scene) org() string { return "/organizations/" + s.alice.OrgID.String() }

func (s *scene) channel(t *testing.T, body map[string]any) channelJSON {
	t.Helper()
	var c channelJSON
	s.alice.Do("POST", s.org()+"/notification-channels", body).Expect(201).JSON(&c)
	return c
}

func (s *scene) deliveries(t *testing.T, ch uuid.UUID) []deliveryJSON {
	t.Helper()
	var page struct{ Items []deliveryJSON }
	s.alice.Do("GET", s.org()+"/notification-channels/"+ch.String()+"/deliveries", nil).Expect(200).JSON(&page)
	return page.Items
}

// startAgent launches agent on issue 1 of the repository and starts its task, as its
// worker would.
func (s *scene) startAgent(t *testing.T, repo uuid.UUID, agent string) (exec, task uuid.UUID) {
	t.Helper()
	var l struct {
		Execution struct{ ID uuid.UUID } `json:"execution"`
		Task      struct{ ID uuid.UUID } `json:"task"`
	}
	s.alice.Do("POST", "/agents/execute", map[string]any{"repository_id": repo, "issue_number": 1, "agent_type": agent}).Expect(201).JSON(&l)
	if _, err := s.env.Store.MoveTask(context.Background(), s.alice.OrgID, l.Task.ID, store.Move{Action: domain.ActStart}); err != nil {
		t.Fatal(err)
	}
	return l.Execution.ID, l.Task.ID
}

func endMove(to domain.TaskAction, pr *int) store.Move {
	if to == domain.ActFail {
		return store.Move{Action: to, Error: "secret log line: token=abc"}
	}
	return store.Move{Action: to, Result: &store.TaskResult{PRNumber: pr}}
}

// finishAgent launches an agent and ends its task with to (pr: the pull request it
// reports).
func (s *scene) finishAgent(t *testing.T, repo uuid.UUID, agent string, to domain.TaskAction, pr *int) uuid.UUID {
	t.Helper()
	exec, task := s.startAgent(t, repo, agent)
	if _, err := s.env.Store.MoveTask(context.Background(), s.alice.OrgID, task, endMove(to, pr)); err != nil {
		t.Fatal(err)
	}
	return exec
}

func (s *scene) repo(t *testing.T, fullName string) uuid.UUID {
	t.Helper()
	var r struct{ ID uuid.UUID }
	s.alice.Do("POST", "/repositories", map[string]any{"full_name": fullName}).Expect(201).JSON(&r)
	return r.ID
}

func received(f *fakechat.Server, kind string) []fakechat.Received {
	var out []fakechat.Received
	for _, r := range f.Received() {
		if r.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

// timePasses makes every scheduled retry due now.
func (s *scene) timePasses(t *testing.T) {
	t.Helper()
	if _, err := s.env.DB.Exec(context.Background(), `UPDATE notification_deliveries SET next_attempt_at = now() WHERE status = 'pending'`); err != nil {
		t.Fatal(err)
	}
}

func deliver(t *testing.T, n *notify.Notifier) notify.Stats {
	t.Helper()
	st, err := n.DeliverDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestExecutionCompletedNotifiesEachSubscribedChannelOnce(t *testing.T) {
	s := newScene(t)
	playground := s.repo(t, "miyabi-demo/agent-playground")
	webapp := s.repo(t, "miyabi-demo/webapp")
	hook := s.channel(t, map[string]any{"name": "ops", "kind": "webhook", "url": s.sink + "/webhook/ops", "event_types": []string{"execution.completed"}})
	s.channel(t, map[string]any{"name": "team", "kind": "slack", "url": s.sink + "/services/T1/B1/x", "event_types": []string{"execution.completed", "pr.opened"},
		"repository_ids": []uuid.UUID{playground}})
	s.channel(t, map[string]any{"name": "webapp only", "kind": "slack", "url": s.sink + "/services/T1/B2/y", "event_types": []string{"execution.completed"},
		"repository_ids": []uuid.UUID{webapp}})
	line := s.channel(t, map[string]any{"name": "phone", "kind": "line", "line_to": lineTo, "line_channel_access_token": lineToken, "event_types": []string{"execution.failed"}})

	pr := 142
	exec := s.finishAgent(t, playground, "codegen", domain.ActComplete, &pr)
	n := s.notifier(t, true)
	if st := deliver(t, n); st.Delivered != 3 || st.Failed != 0 {
		t.Fatalf("first pass: %+v, want 3 delivered (webhook, slack completed + pr.opened)", st)
	}
	// a second deliverer pass (the sweeper) sends nothing again
	if st := deliver(t, n); st != (notify.Stats{}) {
		t.Fatalf("second pass sent again: %+v", st)
	}
	hooks := received(s.fake, "webhook")
	if len(hooks) != 1 {
		t.Fatalf("webhook got %d requests, want 1", len(hooks))
	}
	var body struct {
		ID, Type, Text, URL string
		Data                struct {
			ExecutionID uuid.UUID `json:"execution_id"`
			PRNumber    int       `json:"pr_number"`
		}
	}
	if err := json.Unmarshal(hooks[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Type != "execution.completed" || body.Data.ExecutionID != exec || body.Data.PRNumber != 142 ||
		!strings.HasPrefix(body.Text, "✅ codegen opened PR #142 on miyabi-demo/agent-playground (issue #1) — ") ||
		body.URL != "https://miyabi.example/executions/"+exec.String() {
		t.Fatalf("webhook body: %s", hooks[0].Body)
	}
	if got := hooks[0].Header.Get("X-Miyabi-Delivery"); got != body.ID {
		t.Fatalf("delivery header %q, body id %q", got, body.ID)
	}
	slack := received(s.fake, "slack")
	if len(slack) != 2 || slack[0].Path != "/services/T1/B1/x" || slack[1].Path != "/services/T1/B1/x" {
		t.Fatalf("slack requests: %+v", slack)
	}
	texts := slack[0].Text + "\n" + slack[1].Text
	if !strings.Contains(texts, "🔀 codegen opened PR #142") || !strings.Contains(texts, "<https://miyabi.example/executions/"+exec.String()+"|Open in Miyabi>") {
		t.Fatalf("slack texts: %s", texts)
	}
	if len(received(s.fake, "line")) != 0 || len(s.deliveries(t, line.ID)) != 0 {
		t.Fatal("the LINE channel subscribes to failures only")
	}
	if d := s.deliveries(t, hook.ID); len(d) != 1 || d[0].Status != "delivered" || d[0].Attempts != 1 || d[0].ResponseCode == nil || *d[0].ResponseCode != 200 {
		t.Fatalf("delivery log: %+v", d)
	}

	// a failure reaches LINE without the error text (it may quote logs)
	s.finishAgent(t, playground, "review", domain.ActFail, nil)
	deliver(t, n)
	got := received(s.fake, "line")
	if len(got) != 1 || !strings.HasPrefix(got[0].Text, "❌ review failed on miyabi-demo/agent-playground (issue #1)") || strings.Contains(string(got[0].Body), "token=abc") {
		t.Fatalf("LINE got %+v", got)
	}
	if got[0].Header.Get("Authorization") != "Bearer "+lineToken {
		t.Fatal("LINE push without the channel access token")
	}
}

func TestRetriesOnServerErrorsUntilDelivered(t *testing.T) {
	s := newScene(t)
	hook := s.channel(t, map[string]any{"name": "ops", "kind": "webhook", "url": s.sink + "/webhook/ops", "event_types": []string{"execution.completed"}})
	s.fake.Script("webhook", 500, 500)
	var d deliveryJSON
	s.alice.Do("POST", s.org()+"/notification-channels/"+hook.ID.String()+"/test", nil).Expect(201).JSON(&d)
	if d.Status != "pending" || d.Attempts != 1 || *d.ResponseCode != 500 {
		t.Fatalf("after the first attempt: %+v", d)
	}
	n := s.notifier(t, true)
	poll.Until(t, 10*time.Second, "the delivery to succeed", func() bool {
		s.timePasses(t)
		deliver(t, n)
		d = s.deliveries(t, hook.ID)[0]
		return d.Status == "delivered"
	})
	reqs := received(s.fake, "webhook")
	if d.Attempts != 3 || len(reqs) != 3 || *d.ResponseCode != 200 {
		t.Fatalf("delivery %+v after %d requests, want 3 attempts and one success", d, len(reqs))
	}
	for _, r := range reqs {
		if r.Header.Get("X-Miyabi-Delivery") != d.ID.String() {
			t.Fatal("a retry changed the delivery id")
		}
	}
	var ch channelJSON
	s.alice.Do("GET", s.org()+"/notification-channels/"+hook.ID.String(), nil).Expect(200).JSON(&ch)
	if ch.Status != "ok" {
		t.Fatalf("channel %+v", ch)
	}
}

func TestClientErrorStopsRetriesAndMarksTheChannel(t *testing.T) {
	s := newScene(t)
	slack := s.channel(t, map[string]any{"name": "team", "kind": "slack", "url": s.sink + "/services/T1/B1/x", "event_types": []string{"execution.completed"}})
	s.fake.Script("slack", 404)
	var d deliveryJSON
	s.alice.Do("POST", s.org()+"/notification-channels/"+slack.ID.String()+"/test", nil).Expect(201).JSON(&d)
	if d.Status != "failed" || d.Attempts != 1 || *d.ResponseCode != 404 || *d.ResponseBody != "no_service" {
		t.Fatalf("delivery %+v", d)
	}
	deliver(t, s.notifier(t, true))
	if n := len(received(s.fake, "slack")); n != 1 {
		t.Fatalf("slack got %d requests after a 404, want 1", n)
	}
	var ch channelJSON
	s.alice.Do("GET", s.org()+"/notification-channels/"+slack.ID.String(), nil).Expect(200).JSON(&ch)
	if ch.Status != "failing" || ch.FailureReason == nil || !strings.Contains(*ch.FailureReason, "404") || !strings.Contains(*ch.FailureReason, "no_service") {
		t.Fatalf("channel %+v", ch)
	}
	if strings.Contains(ch.Target, "B1") {
		t.Fatalf("the Slack URL is a secret, shown as %q", ch.Target)
	}

	// rate limited: retried after Retry-After, then delivered; the channel is ok again
	s.fake.Script("slack", 429)
	s.alice.Do("POST", s.org()+"/notification-channels/"+slack.ID.String()+"/test", nil).Expect(201).JSON(&d)
	if d.Status != "pending" || *d.ResponseCode != 429 {
		t.Fatalf("rate limited: %+v", d)
	}
	n := s.notifier(t, true)
	poll.Until(t, 10*time.Second, "a delivery after the rate limit", func() bool {
		s.timePasses(t)
		deliver(t, n)
		return s.deliveries(t, slack.ID)[0].Status == "delivered"
	})
	s.alice.Do("GET", s.org()+"/notification-channels/"+slack.ID.String(), nil).Expect(200).JSON(&ch)
	if ch.Status != "ok" || ch.FailureReason != nil {
		t.Fatalf("a delivered message should clear the mark: %+v", ch)
	}
}

func TestLINEAnswersDriveTheOutcome(t *testing.T) {
	s := newScene(t)
	bad := s.channel(t, map[string]any{"name": "wrong token", "kind": "line", "line_to": lineTo, "line_channel_access_token": "not-the-token", "event_types": []string{"execution.failed"}})
	var d deliveryJSON
	s.alice.Do("POST", s.org()+"/notification-channels/"+bad.ID.String()+"/test", nil).Expect(201).JSON(&d)
	if d.Status != "failed" || *d.ResponseCode != 401 || !strings.Contains(*d.ResponseBody, "Authentication failed") {
		t.Fatalf("bad token: %+v", d)
	}
	good := s.channel(t, map[string]any{"name": "phone", "kind": "line", "line_to": lineTo, "line_channel_access_token": lineToken, "event_types": []string{"execution.failed"}})
	s.fake.Script("line", 500)
	s.alice.Do("POST", s.org()+"/notification-channels/"+good.ID.String()+"/test", nil).Expect(201).JSON(&d)
	if d.Status != "pending" || *d.ResponseCode != 500 {
		t.Fatalf("LINE 500: %+v", d)
	}
	s.timePasses(t)
	deliver(t, s.notifier(t, true))
	got := received(s.fake, "line")
	last := got[len(got)-1]
	if last.Status != 200 || last.Header.Get("X-Line-Retry-Key") != d.ID.String() || !strings.Contains(last.Text, "Test message from Miyabi") {
		t.Fatalf("LINE retry: %+v", last)
	}
}

func TestTwoSweepersDeliverOnce(t *testing.T) {
	s := newScene(t)
	hook := s.channel(t, map[string]any{"name": "ops", "kind": "webhook", "url": s.sink + "/webhook/ops", "event_types": []string{"execution.completed"}})
	ctx := context.Background()
	if _, err := s.env.DB.Exec(ctx, `INSERT INTO notification_deliveries (organization_id, channel_id, event_type, event_key, payload)
		SELECT $1, $2, 'test', 'load:' || g, '{"channel_name":"ops"}' FROM generate_series(1, 300) g`, s.alice.OrgID, hook.ID); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 2 {
		n := s.notifier(t, true)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := n.DeliverDue(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	seen := map[string]int{}
	for _, r := range received(s.fake, "webhook") {
		seen[r.Header.Get("X-Miyabi-Delivery")]++
	}
	if len(seen) != 300 {
		t.Fatalf("%d distinct deliveries arrived, want 300", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("delivery %s arrived %d times", id, n)
		}
	}
}

func TestPrivateAddressesAreRefusedInProduction(t *testing.T) {
	s := newScene(t)
	// created in development, where local receivers are allowed
	hook := s.channel(t, map[string]any{"name": "ops", "kind": "webhook", "url": s.sink + "/webhook/ops", "event_types": []string{"execution.completed"}})
	loopbackName := strings.Replace(s.sink, "127.0.0.1", "localhost", 1)
	https := s.channel(t, map[string]any{"name": "tls", "kind": "webhook", "url": strings.Replace(loopbackName, "http:", "https:", 1) + "/webhook/tls", "event_types": []string{"execution.completed"}})
	for _, ch := range []channelJSON{hook, https} {
		s.alice.Do("POST", s.org()+"/notification-channels/"+ch.ID.String()+"/test", nil).Expect(201)
	}
	// The development API's attempt reached the sink (http) or failed TLS (https: the
	// sink speaks http) and was queued for retry; a production deliverer refuses both.
	if _, err := s.env.DB.Exec(context.Background(), `UPDATE notification_deliveries SET status = 'pending', next_attempt_at = now()`); err != nil {
		t.Fatal(err)
	}
	before := len(s.fake.Received())
	deliver(t, s.notifier(t, false))
	if len(s.fake.Received()) != before {
		t.Fatal("a production deliverer called a loopback receiver")
	}
	for _, ch := range []channelJSON{hook, https} {
		d := s.deliveries(t, ch.ID)[0]
		if d.Status != "failed" || d.LastError == nil || !strings.Contains(*d.LastError, "refused") {
			t.Fatalf("%s: %+v", ch.Target, d)
		}
		var got channelJSON
		s.alice.Do("GET", s.org()+"/notification-channels/"+ch.ID.String(), nil).Expect(200).JSON(&got)
		if got.Status != "failing" {
			t.Fatalf("%s: channel %+v", ch.Target, got)
		}
	}
}

// The README's recipe, line for line, verifies what a receiver gets.
func TestWebhookSignatureVerifiesWithTheDocumentedRecipe(t *testing.T) {
	s := newScene(t)
	var got struct {
		sync.Mutex
		body   []byte
		header http.Header
	}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Lock()
		defer got.Unlock()
		got.header = r.Header.Clone()
		got.body = make([]byte, r.ContentLength)
		_, _ = r.Body.Read(got.body)
	}))
	defer receiver.Close()
	hook := s.channel(t, map[string]any{"name": "ops", "kind": "webhook", "url": receiver.URL + "/hook", "event_types": []string{"execution.completed"}})
	if !strings.HasPrefix(hook.SigningSecret, "mwhsec_") {
		t.Fatalf("no signing secret in the create answer: %+v", hook)
	}
	again := s.alice.Do("GET", s.org()+"/notification-channels/"+hook.ID.String(), nil).Expect(200)
	if strings.Contains(string(again.Body), hook.SigningSecret) || strings.Contains(string(again.Body), "signing_secret") {
		t.Fatal("the signing secret is shown more than once")
	}
	var sealed []byte
	if err := s.env.DB.QueryRow(context.Background(), `SELECT secret_sealed FROM notification_channels WHERE id = $1`, hook.ID).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), hook.SigningSecret) {
		t.Fatal("the signing secret is stored in plaintext")
	}
	var d deliveryJSON
	s.alice.Do("POST", s.org()+"/notification-channels/"+hook.ID.String()+"/test", nil).Expect(201).JSON(&d)
	if d.Status != "delivered" {
		t.Fatalf("test message: %+v", d)
	}
	got.Lock()
	defer got.Unlock()
	secret, body, r := hook.SigningSecret, got.body, struct{ Header http.Header }{got.header}

	// --- README: verifying a delivery ---
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body) // the raw request body, before any JSON parsing
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	ok := hmac.Equal([]byte(want), []byte(r.Header.Get("X-Miyabi-Signature-256")))
	// ---

	if !ok {
		t.Fatalf("signature %q does not verify", got.header.Get("X-Miyabi-Signature-256"))
	}
	// and the README shows exactly these lines
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		`mac := hmac.New(sha256.New, []byte(secret))`,
		`mac.Write(body)`,
		`want := "sha256=" + hex.EncodeToString(mac.Sum(nil))`,
		`ok := hmac.Equal([]byte(want), []byte(r.Header.Get("X-Miyabi-Signature-256")))`,
	} {
		if !strings.Contains(string(readme), "\n"+line) {
			t.Errorf("README's recipe lacks %s", line)
		}
	}
	var payload struct{ Timestamp string }
	_ = json.Unmarshal(body, &payload)
	if payload.Timestamp == "" || payload.Timestamp != got.header.Get("X-Miyabi-Timestamp") || got.header.Get("X-Miyabi-Delivery") != d.ID.String() {
		t.Fatalf("timestamp/delivery headers: %v body %s", got.header, body)
	}
	if notify.Verify(secret, append(body, ' '), got.header.Get("X-Miyabi-Signature-256")) {
		t.Fatal("a changed body still verifies")
	}
}

func TestMessagesInTheOrganizationsLanguage(t *testing.T) {
	s := newScene(t)
	repo := s.repo(t, "miyabi-demo/agent-playground")
	s.channel(t, map[string]any{"name": "team", "kind": "slack", "url": s.sink + "/services/T1/B1/x", "event_types": []string{"execution.completed"}})
	s.alice.Do("PATCH", s.org()+"/notification-settings", map[string]any{"language": "fr"}).Problem(422)
	var settings struct{ Language string }
	s.alice.Do("PATCH", s.org()+"/notification-settings", map[string]any{"language": "ja"}).Expect(200).JSON(&settings)
	s.alice.Do("GET", s.org()+"/notification-settings", nil).Expect(200).JSON(&settings)
	if settings.Language != "ja" {
		t.Fatalf("settings %+v", settings)
	}
	pr := 7
	s.finishAgent(t, repo, "codegen", domain.ActComplete, &pr)
	deliver(t, s.notifier(t, true))
	got := received(s.fake, "slack")
	if len(got) != 1 || !strings.HasPrefix(got[0].Text, "✅ codegen が miyabi-demo/agent-playground に PR #7 を作成しました（issue #1） — ") ||
		!strings.Contains(got[0].Text, "|Miyabi で開く>") {
		t.Fatalf("slack got %+v", got)
	}
}

// The API process delivers right after the commit, woken by PostgreSQL, without a
// sweep.
func TestTheAPIProcessDeliversAfterCommit(t *testing.T) {
	s := newScene(t)
	repo := s.repo(t, "miyabi-demo/agent-playground")
	s.channel(t, map[string]any{"name": "ops", "kind": "webhook", "url": s.sink + "/webhook/ops", "event_types": []string{"execution.completed"}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.env.Server.Notifier().Run(ctx, time.Hour)
	// a move that rolls back queues nothing
	_, task := s.startAgent(t, repo, "review")
	rollback := errors.New("rollback")
	err := pgx.BeginTxFunc(ctx, s.env.DB, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if _, err := store.MoveTaskTx(ctx, tx, s.alice.OrgID, task, endMove(domain.ActComplete, nil)); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	var queued int
	if err := s.env.DB.QueryRow(ctx, `SELECT count(*) FROM notification_deliveries`).Scan(&queued); err != nil || queued != 0 {
		t.Fatalf("a rolled-back move queued %d deliveries (%v)", queued, err)
	}
	s.finishAgent(t, repo, "codegen", domain.ActComplete, nil)
	poll.Until(t, 10*time.Second, "a delivery after the commit", func() bool { return len(received(s.fake, "webhook")) > 0 })
}

// A workflow run that ends tells its channels once, however its last tasks ended; a
// worker that stops sending heartbeats is reported once per silence.
func TestWorkflowRunFinishedAndWorkerOffline(t *testing.T) {
	s := newScene(t)
	repo := s.repo(t, "miyabi-demo/agent-playground")
	s.channel(t, map[string]any{"name": "ops", "kind": "slack", "url": s.sink + "/services/T1/B1/x",
		"event_types": []string{"workflow_run.finished", "worker.offline"}})
	var wf struct{ ID uuid.UUID }
	s.alice.Do("POST", "/workflows", map[string]any{"name": "Ship it", "definition": map[string]any{
		"nodes": []map[string]any{{"id": "a", "agent_type": "codegen", "name": "code"}, {"id": "b", "agent_type": "review", "name": "review"}},
		"edges": []map[string]any{{"from": "a", "to": "b"}}}}).Expect(201).JSON(&wf)
	var run struct {
		ID    uuid.UUID
		Nodes []struct {
			TaskID uuid.UUID `json:"task_id"`
		}
	}
	s.alice.Do("POST", "/workflows/"+wf.ID.String()+"/run", map[string]any{"repository_id": repo, "issue_number": 3}).Expect(201).JSON(&run)
	ctx := context.Background()
	for _, node := range run.Nodes[:1] {
		for _, m := range []store.Move{{Action: domain.ActStart}, endMove(domain.ActFail, nil)} {
			if _, err := s.env.Store.MoveTask(ctx, s.alice.OrgID, node.TaskID, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	n := s.notifier(t, true)
	deliver(t, n)
	got := received(s.fake, "slack")
	if len(got) != 1 || !strings.HasPrefix(got[0].Text, `❌ Workflow "Ship it" failed on miyabi-demo/agent-playground`) ||
		!strings.Contains(got[0].Text, "/workflow-runs/"+run.ID.String()) {
		t.Fatalf("slack got %+v", got)
	}

	var w struct{ ID uuid.UUID }
	s.alice.Do("POST", "/workers", map[string]any{"name": "build-box"}).Expect(201).JSON(&w)
	if _, err := s.env.DB.Exec(ctx, `UPDATE workers SET last_heartbeat_at = now() - interval '5 minutes' WHERE id = $1`, w.ID); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := n.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got = received(s.fake, "slack")
	if len(got) != 2 || !strings.HasPrefix(got[1].Text, `⚠️ Worker "build-box" is offline (last heartbeat `) {
		t.Fatalf("slack got %+v", got)
	}
}

func TestSweepPrunesOldFinishedDeliveries(t *testing.T) {
	s := newScene(t)
	hook := s.channel(t, map[string]any{"name": "ops", "kind": "webhook", "url": s.sink + "/webhook/ops", "event_types": []string{"execution.completed"}})
	ctx := context.Background()
	if _, err := s.env.DB.Exec(ctx, `INSERT INTO notification_deliveries (organization_id, channel_id, event_type, event_key, payload, status, created_at)
		VALUES ($1, $2, 'test', 'old-done', '{}', 'delivered', now() - interval '31 days'),
		       ($1, $2, 'test', 'old-failed', '{}', 'failed', now() - interval '31 days'),
		       ($1, $2, 'test', 'recent', '{}', 'delivered', now() - interval '29 days')`, s.alice.OrgID, hook.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.notifier(t, true).Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if d := s.deliveries(t, hook.ID); len(d) != 1 {
		t.Fatalf("%d deliveries left, want the recent one", len(d))
	}
}

// "PR opened" is about the pull request as recorded (pull_requests, the GitHub loop's
// table): its URL reaches the receiver, and an agent that reports the same pull request
// again (a retry, a second execution) does not announce it twice.
func TestPROpenedAnnouncesTheRecordedPullRequestOnce(t *testing.T) {
	s := newScene(t)
	repo := s.repo(t, "miyabi-demo/agent-playground")
	hook := s.channel(t, map[string]any{"name": "prs", "kind": "webhook", "url": s.sink + "/webhook/prs", "event_types": []string{"pr.opened"}})
	pr := 142
	exec := s.finishAgent(t, repo, "codegen", domain.ActComplete, &pr)
	var url string
	if err := s.env.DB.QueryRow(context.Background(), `SELECT url FROM pull_requests WHERE organization_id = $1 AND execution_id = $2 AND number = 142`,
		s.alice.OrgID, exec).Scan(&url); err != nil {
		t.Fatalf("the pull request was not recorded: %v", err)
	}
	s.finishAgent(t, repo, "codegen", domain.ActComplete, &pr) // the same pull request, reported again
	n := s.notifier(t, true)
	if st := deliver(t, n); st.Delivered != 1 {
		t.Fatalf("delivered %+v, want the pull request announced once", st)
	}
	hooks := received(s.fake, "webhook")
	var body struct {
		Type, Text string
		Data       struct {
			PRNumber int    `json:"pr_number"`
			PRURL    string `json:"pr_url"`
		}
	}
	if err := json.Unmarshal(hooks[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Type != "pr.opened" || body.Data.PRNumber != 142 || body.Data.PRURL != url || url == "" ||
		!strings.HasPrefix(body.Text, "🔀 codegen opened PR #142 on miyabi-demo/agent-playground") {
		t.Fatalf("webhook body: %s", hooks[0].Body)
	}
	if d := s.deliveries(t, hook.ID); len(d) != 1 {
		t.Fatalf("delivery log: %+v", d)
	}
}

// Operators see how deliveries go: each attempt is counted by result in /ops/metrics
// (and, on Lambda, in the Notifications metric of the EMF lines).
func TestDeliveriesAreCountedForOperators(t *testing.T) {
	fake := fakechat.New(lineToken)
	hs := httptest.NewServer(fake)
	t.Cleanup(hs.Close)
	env := apitest.New(t, func(c *config.Config) {
		c.LINEAPIURL = hs.URL
		c.OperatorGitHubIDs = []int64{fakegithub.UserID("alice")}
	})
	s := &scene{env: env, alice: env.Login("alice"), fake: fake, sink: hs.URL}
	type figures struct {
		Process struct {
			Notifications struct{ Delivered, Retrying, Failed int }
		}
	}
	var before figures
	s.alice.Do("GET", "/ops/metrics", nil).Expect(200).JSON(&before)

	retried := s.channel(t, map[string]any{"name": "flaky", "kind": "webhook", "url": s.sink + "/webhook/flaky", "event_types": []string{"execution.completed"}})
	fine := s.channel(t, map[string]any{"name": "fine", "kind": "webhook", "url": s.sink + "/webhook/fine", "event_types": []string{"execution.completed"}})
	gone := s.channel(t, map[string]any{"name": "gone", "kind": "slack", "url": s.sink + "/services/T1/B1/x", "event_types": []string{"execution.completed"}})
	s.fake.Script("webhook", 500)
	s.fake.Script("slack", 404)
	for _, c := range []struct {
		ch     channelJSON
		status string
	}{{retried, "pending"}, {fine, "delivered"}, {gone, "failed"}} {
		var d deliveryJSON
		s.alice.Do("POST", s.org()+"/notification-channels/"+c.ch.ID.String()+"/test", nil).Expect(201).JSON(&d)
		if d.Status != c.status {
			t.Fatalf("test message to %s: %+v, want %s", c.ch.Kind, d, c.status)
		}
	}
	var after figures
	s.alice.Do("GET", "/ops/metrics", nil).Expect(200).JSON(&after)
	got, was := after.Process.Notifications, before.Process.Notifications
	if got.Delivered-was.Delivered != 1 || got.Retrying-was.Retrying != 1 || got.Failed-was.Failed != 1 {
		t.Fatalf("/ops/metrics notifications went from %+v to %+v, want one of each", was, got)
	}
}
