// Package metrics is what operators watch: it aggregates the API's figures in memory
// (requests by route template and status class, latency per route template, database
// pool waits, worker claims) and writes them as CloudWatch Embedded Metric Format lines,
// which CloudWatch Logs turns into metrics without an agent and without an SDK call on
// the request path. The same figures are kept as running totals for /api/v1/ops/metrics.
//
// Cardinality is bounded on purpose: a route is its template ("GET /tasks/{id}"), never
// a raw path that could carry an id or a token, so each route costs one metric however
// many objects it serves.
package metrics

import (
	"encoding/json"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
)

// Units CloudWatch knows (the EMF Unit member).
const (
	UnitCount        = "Count"
	UnitMilliseconds = "Milliseconds"
	UnitSeconds      = "Seconds"
)

// Dimension names and the fixed value of the service-wide one.
const (
	DimRoute       = "Route"
	DimStatusClass = "StatusClass"
	DimService     = "Service"
	DimAgentType   = "AgentType"
	DimResult      = "Result"
	DimJob         = "Job"
	ServiceName    = "miyabi"
)

// Metric names, shared with the Pulumi program's dashboard and alarms through the docs.
const (
	MetricRequests          = "Requests"
	MetricLatency           = "Latency"
	MetricPoolAcquires      = "PoolAcquires"
	MetricPoolWaits         = "PoolWaits"
	MetricPoolAcquireTime   = "PoolAcquireTime"
	MetricPoolCanceled      = "PoolCanceledAcquires"
	MetricPoolInUse         = "PoolConnsInUse"
	MetricClaims            = "Claims"
	MetricTasksClaimed      = "TasksClaimed"
	MetricSweepRuns         = "SweepRuns"
	MetricTasksRequeued     = "TasksRequeued"
	MetricWorkersOnline     = "WorkersOnline"
	MetricQueueDepth        = "QueueDepth"
	MetricOldestClaimable   = "OldestClaimableAge"
	MetricMigrationRuns     = "MigrationRuns"
	MetricMigrationFailures = "MigrationFailures"
	// live events posted to WebSocket connections (API Gateway), and drains that failed
	MetricEventsPosted      = "EventsPosted"
	MetricEventDrainsFailed = "EventDrainsFailed"
	// GitHub issue comments delivered by a sweep, and sweeps whose delivery failed
	MetricIssueCommentsSent      = "IssueCommentsSent"
	MetricIssueCommentRunsFailed = "IssueCommentRunsFailed"
	// notification delivery attempts by result (Result: delivered, retrying, failed)
	MetricNotifications = "Notifications"
	// per job of a sweep (Job: requeue_leases, purge, issue_comments, notifications,
	// queue_figures, record): the items it handled, the items that failed (retried
	// later), and 1 when the job itself stopped on an error
	MetricSweepJobItems       = "SweepJobItems"
	MetricSweepJobItemsFailed = "SweepJobItemsFailed"
	MetricSweepJobErrors      = "SweepJobErrors"
)

// Results of a notification attempt (the Result dimension of MetricNotifications).
const (
	NotificationDelivered = "delivered"
	NotificationRetrying  = "retrying"
	NotificationFailed    = "failed"
)

var notificationResults = [3]string{NotificationDelivered, NotificationRetrying, NotificationFailed}

// maxValues is EMF's limit of values per metric in one document.
const maxValues = 100

// Unmatched and Static name requests no route matched: API paths nobody registered, and
// the dashboard's files. Their raw paths are never a dimension.
const (
	RouteUnmatched = "unmatched"
	RouteStatic    = "static"
)

// PoolStat is the database pool's cumulative counters and current use (pgxpool.Stat).
type PoolStat struct {
	Acquires      int64         // acquisitions
	EmptyAcquires int64         // acquisitions that had to wait for a connection
	Canceled      int64         // acquisitions given up (deadline) while waiting
	AcquireTime   time.Duration // total time spent acquiring
	InUse         int32         // connections held right now
	Total, Max    int32
}

// Registry aggregates figures between flushes. It is safe for concurrent use; the
// request path costs a lock and an append.
type Registry struct {
	namespace string
	out       io.Writer // nil: keep totals only (the local server)
	now       func() time.Time
	started   time.Time

	mu       sync.Mutex
	pending  map[routeClass][]float64 // latencies in ms since the last flush
	totals   map[routeClass]int64
	hist     map[string]*histogram // per route, since start
	claims   [2]int64              // pending since flush: empty, with work
	claimed  int64
	claimTot [2]int64
	notes    [3]int64 // notification attempts since flush: delivered, retrying, failed
	notesTot [3]int64
	pool     PoolStat // at the last flush
}

type routeClass struct{ route, class string }

// New returns a registry writing EMF lines for namespace to out (nil: no lines).
func New(namespace string, out io.Writer) *Registry {
	r := &Registry{namespace: namespace, out: out, now: time.Now,
		pending: map[routeClass][]float64{}, totals: map[routeClass]int64{}, hist: map[string]*histogram{}}
	r.started = r.now()
	return r
}

// Namespace is the CloudWatch namespace of an environment: one per stack.
func Namespace(env string) string { return "Miyabi/" + env }

// Route turns a request into its metric name: the method and the route template with
// the API prefix cut, "{name}" for each parameter. pattern is the router's template
// (gin's FullPath, ":id" style); empty when no route matched.
func Route(method, pattern, path, apiPrefix string) string {
	if pattern == "" {
		if strings.HasPrefix(path, "/api/") || path == "/api" {
			return RouteUnmatched
		}
		return RouteStatic
	}
	p := strings.TrimPrefix(pattern, apiPrefix)
	if p == "" {
		p = "/"
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if len(s) > 1 && (s[0] == ':' || s[0] == '*') {
			segs[i] = "{" + s[1:] + "}"
		}
	}
	return method + " " + strings.Join(segs, "/")
}

// StatusClass is "2xx", "4xx", ... for an HTTP status.
func StatusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return string(rune('0'+status/100)) + "xx"
}

// ObserveRequest records one answered request.
func (r *Registry) ObserveRequest(route string, status int, d time.Duration) {
	if r == nil {
		return
	}
	ms := float64(d.Microseconds()) / 1000
	k := routeClass{route, StatusClass(status)}
	r.mu.Lock()
	if r.out != nil { // without an output only the totals are kept
		r.pending[k] = append(r.pending[k], ms)
	}
	r.totals[k]++
	h := r.hist[route]
	if h == nil {
		h = &histogram{}
		r.hist[route] = h
	}
	h.add(ms)
	full := r.out != nil && len(r.pending[k]) >= maxValues
	var lines [][]byte
	if full {
		lines = r.requestDocsLocked(k)
	}
	r.mu.Unlock()
	r.write(lines)
}

// ObserveClaim records one worker claim that handed out n tasks.
func (r *Registry) ObserveClaim(n int) {
	if r == nil {
		return
	}
	i := 0
	if n > 0 {
		i = 1
	}
	r.mu.Lock()
	r.claims[i]++
	r.claimTot[i]++
	r.claimed += int64(n)
	r.mu.Unlock()
}

// ObserveNotification records one notification delivery attempt and its result
// (NotificationDelivered, NotificationRetrying or NotificationFailed).
func (r *Registry) ObserveNotification(result string) {
	if r == nil {
		return
	}
	for i, name := range notificationResults {
		if name == result {
			r.mu.Lock()
			r.notes[i]++
			r.notesTot[i]++
			r.mu.Unlock()
			return
		}
	}
}

// Flush writes every figure gathered since the last flush, with the pool's counters
// as deltas against the last flush. The Lambda flushes after each invocation (a frozen
// instance runs no timer); a long-running server would flush on a ticker.
func (r *Registry) Flush(pool *PoolStat) {
	if r == nil || r.out == nil {
		return
	}
	r.mu.Lock()
	var lines [][]byte
	keys := make([]routeClass, 0, len(r.pending))
	for k := range r.pending {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].route+keys[i].class < keys[j].route+keys[j].class })
	for _, k := range keys {
		lines = append(lines, r.requestDocsLocked(k)...)
	}
	for i, result := range []string{"empty", "work"} {
		if r.claims[i] == 0 {
			continue
		}
		d := r.doc(directive{dims: [][]string{{DimResult}}, metrics: []metricDef{{MetricClaims, UnitCount}, {MetricTasksClaimed, UnitCount}}})
		d[DimResult] = result
		d[MetricClaims] = r.claims[i]
		d[MetricTasksClaimed] = int64(0)
		if i == 1 {
			d[MetricTasksClaimed] = r.claimed
		}
		lines = append(lines, encode(d))
	}
	r.claims, r.claimed = [2]int64{}, 0
	for i, result := range notificationResults {
		if r.notes[i] == 0 {
			continue
		}
		d := r.doc(directive{dims: [][]string{{DimResult}}, metrics: []metricDef{{MetricNotifications, UnitCount}}})
		d[DimResult] = result
		d[MetricNotifications] = r.notes[i]
		lines = append(lines, encode(d))
	}
	r.notes = [3]int64{}
	if pool != nil {
		prev := r.pool
		r.pool = *pool
		if pool.Acquires != prev.Acquires || pool.InUse != prev.InUse || pool.Canceled != prev.Canceled {
			d := r.doc(directive{dims: [][]string{{DimService}}, metrics: []metricDef{
				{MetricPoolAcquires, UnitCount}, {MetricPoolWaits, UnitCount}, {MetricPoolCanceled, UnitCount},
				{MetricPoolAcquireTime, UnitMilliseconds}, {MetricPoolInUse, UnitCount}}})
			d[DimService] = ServiceName
			d[MetricPoolAcquires] = pool.Acquires - prev.Acquires
			d[MetricPoolWaits] = pool.EmptyAcquires - prev.EmptyAcquires
			d[MetricPoolCanceled] = pool.Canceled - prev.Canceled
			d[MetricPoolAcquireTime] = float64((pool.AcquireTime - prev.AcquireTime).Microseconds()) / 1000
			d[MetricPoolInUse] = pool.InUse
			lines = append(lines, encode(d))
		}
	}
	r.mu.Unlock()
	r.write(lines)
}

// requestDocsLocked turns one route and class's pending latencies into documents of at
// most maxValues values each, and forgets them.
func (r *Registry) requestDocsLocked(k routeClass) [][]byte {
	vals := r.pending[k]
	delete(r.pending, k)
	if r.out == nil {
		return nil
	}
	var lines [][]byte
	for len(vals) > 0 {
		n := min(len(vals), maxValues)
		d := r.doc(
			// Requests by route and class, and by class alone for the totals; latency
			// by route, whatever the class, so p99 covers every answer of the route.
			directive{dims: [][]string{{DimRoute, DimStatusClass}, {DimStatusClass}}, metrics: []metricDef{{MetricRequests, UnitCount}}},
			directive{dims: [][]string{{DimRoute}}, metrics: []metricDef{{MetricLatency, UnitMilliseconds}}},
		)
		d[DimRoute] = k.route
		d[DimStatusClass] = k.class
		d[MetricRequests] = n
		d[MetricLatency] = vals[:n]
		lines = append(lines, encode(d))
		vals = vals[n:]
	}
	return lines
}

func (r *Registry) write(lines [][]byte) {
	if len(lines) == 0 {
		return
	}
	var b []byte
	for _, l := range lines {
		b = append(b, l...)
		b = append(b, '\n')
	}
	// One write: on Lambda each line must reach the log as one event, unbroken.
	_, _ = r.out.Write(b)
}

// Emit writes one document now: for figures that are not aggregated per request (the
// sweep's, a migration's). values maps metric names to numbers; dims are the dimension
// values, every key of which forms the one dimension set.
func (r *Registry) Emit(dims map[string]string, units map[string]string, values map[string]any) {
	if r == nil || r.out == nil {
		return
	}
	keys := make([]string, 0, len(dims))
	for k := range dims {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	names := make([]string, 0, len(values))
	for k := range values {
		names = append(names, k)
	}
	sort.Strings(names)
	defs := make([]metricDef, len(names))
	for i, n := range names {
		defs[i] = metricDef{n, units[n]}
		if defs[i].Unit == "" {
			defs[i].Unit = UnitCount
		}
	}
	d := r.doc(directive{dims: [][]string{keys}, metrics: defs})
	for k, v := range dims {
		d[k] = v
	}
	for k, v := range values {
		d[k] = v
	}
	r.write([][]byte{encode(d)})
}

type directive struct {
	dims    [][]string
	metrics []metricDef
}

type metricDef struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []metricDef `json:"Metrics"`
}

type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

// doc starts an EMF document. "metrics" marks it for Logs Insights queries that want
// (or want to skip) metric lines.
func (r *Registry) doc(ds ...directive) map[string]any {
	meta := emfMeta{Timestamp: r.now().UnixMilli()}
	for _, d := range ds {
		meta.CloudWatchMetrics = append(meta.CloudWatchMetrics, emfDirective{Namespace: r.namespace, Dimensions: d.dims, Metrics: d.metrics})
	}
	return map[string]any{"_aws": meta, "msg": "metrics"}
}

func encode(d map[string]any) []byte {
	b, _ := json.Marshal(d)
	return b
}

// histogram keeps latencies in exponential buckets (each 2^(1/4) wider than the one
// before, from 50 us), so a percentile is known within 19% in constant memory.
type histogram struct {
	counts [histBuckets]int64
	n      int64
	sum    float64
}

const (
	histBuckets = 96
	histBase    = 0.05 // ms, upper bound of the first bucket
)

func bucketBound(i int) float64 { return histBase * math.Pow(2, float64(i)/4) }

func (h *histogram) add(ms float64) {
	i := 0
	if ms > histBase {
		i = int(math.Ceil(4 * math.Log2(ms/histBase)))
	}
	i = min(max(i, 0), histBuckets-1)
	h.counts[i]++
	h.n++
	h.sum += ms
}

// quantile is the upper bound of the bucket holding the q-th value.
func (h *histogram) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return math.Round(bucketBound(i)*1000) / 1000
		}
	}
	return bucketBound(histBuckets - 1)
}
