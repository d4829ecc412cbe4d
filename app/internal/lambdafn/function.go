// Package lambdafn is Miyabi on AWS Lambda: one handler for every event the function
// receives. API Gateway HTTP API events (payload 2.0) go to the same gin engine the local
// server runs; {"action":"migrate"} applies the migrations (the deploy invokes it);
// {"action":"sweep"} and the EventBridge schedule return expired task leases to the queue.
// Anything else is an error that names what arrived.
package lambdafn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/gin"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miyabi/miyabi/app/internal/config"
	liveevents "github.com/miyabi/miyabi/app/internal/events"
	"github.com/miyabi/miyabi/app/internal/ghreport"
	"github.com/miyabi/miyabi/app/internal/httpapi"
	"github.com/miyabi/miyabi/app/internal/metrics"
	"github.com/miyabi/miyabi/app/internal/notify"
	"github.com/miyabi/miyabi/app/internal/store"
	"github.com/miyabi/miyabi/app/internal/sweeper"
)

// Function is the Lambda handler. Invoke is what lambda.Start runs.
type Function struct {
	proxy          *ginadapter.GinLambdaV2
	handler        http.Handler
	srv            *httpapi.Server
	store          *store.Store
	notifier       *notify.Notifier
	log            *slog.Logger
	metrics        *metrics.Registry
	requestTimeout time.Duration
	// masterURL reads the master secret for the migrate action (nil: migrate over the
	// API's own pool, as locally). restrictedDB: the API's pool is the least-privilege
	// role, which cannot migrate.
	masterURL    config.MasterURLFunc
	restrictedDB bool
	// proxyLogin reads RDS Proxy's database login for the migrate action (nil: the stack
	// has no proxy, and a leftover proxy login is switched off once nothing uses it).
	// proxyRetiring: this deploy removes the proxy, which serves until the alias moves.
	proxyLogin    config.ProxyLoginFunc
	proxyRetiring bool
	fanout        *liveevents.Fanout // nil without EVENTS_MANAGEMENT_URL (websocket.go)
	reporter      *ghreport.Reporter // GitHub issue comments still to deliver, retried by the sweep
}

// New wraps an API server (and the store it was built on) as a Lambda handler.
func New(srv *httpapi.Server, st *store.Store, log *slog.Logger, requestTimeout time.Duration) *Function {
	engine := srv.Engine()
	return &Function{
		proxy:          ginadapter.NewV2(engine),
		handler:        engine,
		srv:            srv,
		store:          st,
		notifier:       srv.Notifier(),
		log:            log,
		metrics:        srv.Metrics(),
		reporter:       srv.Reporter(),
		requestTimeout: requestTimeout,
	}
}

// ActionResult answers the migrate and sweep actions.
type ActionResult struct {
	Action string           `json:"action"`
	Status string           `json:"status"`
	Moved  *int             `json:"moved,omitempty"`
	Jobs   []SweepJobResult `json:"jobs,omitempty"` // the sweep's jobs, in the order they ran
}

// SweepJobResult is one job of a sweep in the sweep action's answer.
type SweepJobResult struct {
	Job    string `json:"job"`
	Items  int    `json:"items"`
	Failed int    `json:"failed"`
	Error  string `json:"error,omitempty"`
}

// eventShape holds the fields that tell the event kinds apart.
type eventShape struct {
	Action         *string `json:"action"`
	Source         string  `json:"source"`
	DetailType     string  `json:"detail-type"`
	Version        string  `json:"version"`
	HTTPMethod     string  `json:"httpMethod"`
	RequestContext struct {
		HTTP struct {
			Method string `json:"method"`
		} `json:"http"`
		ConnectionID string `json:"connectionId"`
		EventType    string `json:"eventType"`
	} `json:"requestContext"`
}

// Invoke handles one event, then writes the metrics it produced: a frozen instance runs
// no timer, so each invocation flushes its own.
func (f *Function) Invoke(ctx context.Context, event json.RawMessage) (any, error) {
	defer f.srv.FlushMetrics()
	var shape eventShape
	if err := json.Unmarshal(event, &shape); err != nil {
		return nil, fmt.Errorf("unsupported event: not a JSON object (%s)", describeJSON(event))
	}
	switch {
	case shape.Version == "2.0" && shape.RequestContext.HTTP.Method != "":
		defer f.drainEvents(ctx, shape.RequestContext.HTTP.Method)
		return f.serveHTTP(ctx, event)
	case isWebSocketEvent(shape):
		return f.serveWebSocket(ctx, event)
	case shape.Action != nil:
		switch *shape.Action {
		case "migrate":
			return f.migrate(ctx)
		case "sweep":
			return f.sweep(ctx, "action")
		case "health":
			return f.srv.DeepCheck(ctx), nil
		default:
			return nil, fmt.Errorf("unsupported event: unknown action %q (want migrate, sweep or health)", *shape.Action)
		}
	case shape.Source == "aws.events" && shape.DetailType == "Scheduled Event":
		return f.sweep(ctx, "schedule")
	case shape.Source != "":
		return nil, fmt.Errorf("unsupported event: source %q, detail-type %q (only EventBridge scheduled events sweep)", shape.Source, shape.DetailType)
	case shape.HTTPMethod != "" || shape.Version == "1.0":
		return nil, errors.New("unsupported event: API Gateway payload format 1.0; the integration must use payload format 2.0")
	default:
		return nil, fmt.Errorf("unsupported event: %s", describeJSON(event))
	}
}

// migrate applies the pending migrations. On AWS it runs on the migrate function, as
// the master user whose password RDS rotates: the secret is read now, on every run, and
// the connection closed after, so a rotation between two deploys changes nothing.
func (f *Function) migrate(ctx context.Context) (ActionResult, error) {
	start := time.Now()
	svc := map[string]string{metrics.DimService: metrics.ServiceName}
	if err := f.runMigrations(ctx); err != nil {
		// the "migration failure" alarm counts these (and the migrate function's errors)
		f.metrics.Emit(svc, nil, map[string]any{metrics.MetricMigrationRuns: 1, metrics.MetricMigrationFailures: 1})
		f.log.ErrorContext(ctx, "migration failed", "error", err.Error())
		return ActionResult{}, fmt.Errorf("migrate: %w", err)
	}
	f.metrics.Emit(svc, nil, map[string]any{metrics.MetricMigrationRuns: 1, metrics.MetricMigrationFailures: 0})
	f.log.InfoContext(ctx, "migrations up to date", "duration_ms", time.Since(start).Milliseconds())
	return ActionResult{Action: "migrate", Status: "ok"}, nil
}

func (f *Function) runMigrations(ctx context.Context) error {
	switch {
	case f.masterURL != nil:
		url, err := f.masterURL(ctx)
		if err != nil {
			return err
		}
		pool, err := store.OpenPool(ctx, url, 2, store.ForMigrations())
		if err != nil {
			return err
		}
		defer pool.Close()
		if err := store.Migrate(ctx, pool, f.log); err != nil {
			return err
		}
		return f.syncProxyLogin(ctx, pool)
	case f.restrictedDB:
		return errors.New("this function connects as the application role and has no DB_SECRET_ARN; migrations run on the migrate function")
	default:
		return f.store.Migrate(ctx, f.log)
	}
}

// syncProxyLogin runs after the migrations, as the master user. With RDS Proxy it reads
// the proxy's login afresh and makes the database agree: the role exists, has the
// secret's password and exactly miyabi_app's privileges (store.EnsureProxyRole). Without
// one, a proxy login left from an earlier configuration is switched off, but never while
// a proxy may still sign in with it: not on the deploy that removes the proxy (it serves
// the live version until the alias moves, and is deleted at the end of the update), and
// not while sessions of the role are open (store.DisableProxyRole). The log says which.
func (f *Function) syncProxyLogin(ctx context.Context, pool *pgxpool.Pool) error {
	if f.proxyLogin == nil {
		if f.proxyRetiring {
			f.log.InfoContext(ctx, "rds proxy login kept: this deploy removes the proxy, which serves the live version until the alias moves; the next migrate run switches the login off",
				"role", store.ProxyRole)
			return nil
		}
		off, err := store.DisableProxyRole(ctx, pool)
		switch {
		case err != nil:
			return err
		case off.SwitchedOff:
			f.log.InfoContext(ctx, "rds proxy login switched off: the stack has no proxy and no session of the role is open", "role", store.ProxyRole)
		case off.Sessions > 0:
			f.log.WarnContext(ctx, "rds proxy login kept: the stack has no proxy but sessions of the role are open (a proxy still signs in with it); the next migrate run switches it off once none is",
				"role", store.ProxyRole, "sessions", off.Sessions)
		}
		return nil
	}
	user, password, err := f.proxyLogin(ctx)
	if err != nil {
		return err
	}
	res, err := store.EnsureProxyRole(ctx, pool, user, password)
	if err != nil {
		return err
	}
	f.log.InfoContext(ctx, "rds proxy login up to date", "role", store.ProxyRole, "created", res.Created,
		"grants", len(res.Grants), "revokes", len(res.Revokes), "memberships_revoked", res.MembershipsRevoked)
	return nil
}

// sweep runs the sweeper's jobs plus the deliveries: Lambda has no listener or loop
// between invocations, so the issue comments and the notifications due since the last
// sweep go out now. A delivery that fails is counted and retried by the next sweep;
// only the sweep's own work (requeue, purge, record) fails the invocation.
func (f *Function) sweep(ctx context.Context, trigger string) (ActionResult, error) {
	log := f.log.With("trigger", trigger)
	var jobs []sweeper.Job
	if f.reporter != nil && f.reporter.App != nil {
		jobs = append(jobs, sweeper.Job{Name: sweeper.JobIssueComments, Run: func(ctx context.Context) (sweeper.Counts, error) {
			d, err := f.reporter.DeliverDue(ctx)
			if d.Sent > 0 {
				log.InfoContext(ctx, "sweep delivered issue comments", "comments", d.Sent)
			}
			return sweeper.Counts{Items: d.Sent, Failed: d.Failed}, err
		}})
	}
	if f.notifier != nil {
		jobs = append(jobs, sweeper.Job{Name: sweeper.JobNotifications, Run: func(ctx context.Context) (sweeper.Counts, error) {
			st, err := f.notifier.Sweep(ctx)
			if st != (notify.Stats{}) {
				log.InfoContext(ctx, "sweep delivered notifications", "delivered", st.Delivered, "retrying", st.Retrying, "failed", st.Failed)
			}
			return sweeper.Counts{Items: st.Delivered, Failed: st.Retrying + st.Failed}, err
		}})
	}
	rep, err := sweeper.Once(ctx, f.store, f.metrics, log, jobs...)
	f.drainEvents(ctx, http.MethodPost)
	if err != nil {
		return ActionResult{}, err
	}
	n := rep.Requeued()
	out := ActionResult{Action: "sweep", Status: "ok", Moved: &n}
	for _, j := range rep.Jobs {
		r := SweepJobResult{Job: j.Job, Items: j.Items, Failed: j.Failed}
		if j.Err != nil {
			r.Error = j.Err.Error()
		}
		out.Jobs = append(out.Jobs, r)
	}
	return out, nil
}

// describeJSON names what arrived without echoing it: an event may carry anything, and
// the error lands in logs and in the invoker's answer.
func describeJSON(raw json.RawMessage) string {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		trimmed := strings.TrimSpace(string(raw))
		if trimmed == "" {
			return "an empty payload"
		}
		kind := map[byte]string{'[': "a JSON array", '"': "a JSON string", 'n': "null", 't': "a boolean", 'f': "a boolean"}[trimmed[0]]
		if kind == "" {
			kind = "a JSON number or invalid JSON"
		}
		return fmt.Sprintf("%s of %d bytes", kind, len(raw))
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) > 12 {
		keys = append(keys[:12], "...")
	}
	return fmt.Sprintf("an object with keys [%s]; want an API Gateway HTTP API (payload 2.0) event, {\"action\":\"migrate\"}, {\"action\":\"sweep\"}, {\"action\":\"health\"} or an EventBridge scheduled event", strings.Join(keys, ", "))
}
