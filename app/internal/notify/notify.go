// Package notify delivers notifications (LINE pushes, Slack incoming webhooks, signed
// webhooks) from the outbox the store fills in the same transaction as the change. The
// API process delivers right after commit (woken by PostgreSQL NOTIFY); the sweeper
// delivers what is left. Leases keep two deliverers from sending one delivery twice.
package notify

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/auth"
	"github.com/miyabi/miyabi/app/internal/metrics"
	"github.com/miyabi/miyabi/app/internal/store"
)

// Options configure a Notifier; zero values take the defaults.
type Options struct {
	Store     *store.Store
	Sealer    *auth.Sealer
	Log       *slog.Logger
	PublicURL string // links in messages point here (the dashboard)
	// LINEAPIURL is LINE's Messaging API base (https://api.line.me; a fake in dev).
	LINEAPIURL string
	// AllowPrivate lets receivers be plain http and private or loopback addresses:
	// development only.
	AllowPrivate bool
	// Backoff is the wait before retry n (n = attempts so far, from 1).
	Backoff     func(attempt int) time.Duration
	GiveUpAfter time.Duration // 24 h
	Lease       time.Duration // how long a claimed delivery is ours (30 s)
	Batch       int           // deliveries claimed at once (100)
	Concurrency int           // requests in flight (32)
	Now         func() time.Time
	// Metrics counts each attempt by result (nil: not counted).
	Metrics *metrics.Registry
}

// Notifier sends due deliveries.
type Notifier struct {
	store        *store.Store
	sealer       *auth.Sealer
	log          *slog.Logger
	publicURL    string
	lineAPI      string
	allowPrivate bool
	backoff      func(int) time.Duration
	giveUpAfter  time.Duration
	lease        time.Duration
	batch        int
	concurrency  int
	now          func() time.Time
	http         httpDoer
	metrics      *metrics.Registry

	mu        sync.Mutex
	lastPrune time.Time
}

type httpDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// DefaultBackoff waits 10 s, 20 s, 40 s ... up to an hour, with 20% jitter so that
// deliveries failing together do not retry together.
func DefaultBackoff(attempt int) time.Duration {
	d := 10 * time.Second << min(max(attempt-1, 0), 9)
	d = min(d, time.Hour)
	return d + time.Duration(rand.Int64N(int64(d/5)+1))
}

// New builds a Notifier.
func New(o Options) *Notifier {
	n := &Notifier{store: o.Store, sealer: o.Sealer, log: o.Log, publicURL: o.PublicURL,
		lineAPI: strings.TrimRight(o.LINEAPIURL, "/"), allowPrivate: o.AllowPrivate, backoff: o.Backoff,
		giveUpAfter: o.GiveUpAfter, lease: o.Lease, batch: o.Batch, concurrency: o.Concurrency, now: o.Now,
		http: newHTTPClient(o.AllowPrivate), metrics: o.Metrics}
	if n.log == nil {
		n.log = slog.Default()
	}
	if n.lineAPI == "" {
		n.lineAPI = "https://api.line.me"
	}
	if n.backoff == nil {
		n.backoff = DefaultBackoff
	}
	if n.giveUpAfter <= 0 {
		n.giveUpAfter = 24 * time.Hour
	}
	if n.lease <= 0 {
		n.lease = 30 * time.Second
	}
	if n.batch <= 0 {
		n.batch = 100
	}
	if n.concurrency <= 0 {
		n.concurrency = 32
	}
	if n.now == nil {
		n.now = time.Now
	}
	return n
}

// Stats counts what one DeliverDue did.
type Stats struct{ Delivered, Retrying, Failed int }

// DeliverDue sends every delivery due now, batch after batch, and returns when a claim
// comes back short (what remains is due later).
func (n *Notifier) DeliverDue(ctx context.Context) (Stats, error) {
	var (
		st  Stats
		mu  sync.Mutex
		sem = make(chan struct{}, n.concurrency)
	)
	for ctx.Err() == nil {
		claimed, err := n.store.ClaimNotifications(ctx, n.batch, n.lease)
		if err != nil {
			return st, err
		}
		var wg sync.WaitGroup
		for _, c := range claimed {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				o := n.attempt(ctx, c)
				// record even when ctx ended meanwhile: the message may be out
				if err := n.store.FinishNotification(context.WithoutCancel(ctx), c, o); err != nil {
					n.log.Warn("record delivery failed", "delivery_id", c.ID, "error", err)
					return
				}
				if o.Status != "delivered" {
					n.log.Info("notification not delivered", "delivery_id", c.ID, "org_id", c.OrgID, "channel_id", c.ChannelID,
						"kind", c.Kind, "status", o.Status, "attempt", c.Attempts, "error", o.Error)
				}
				mu.Lock()
				switch n.observe(o.Status) {
				case metrics.NotificationDelivered:
					st.Delivered++
				case metrics.NotificationRetrying:
					st.Retrying++
				default:
					st.Failed++
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		if len(claimed) < n.batch {
			break
		}
	}
	return st, nil
}

// Run delivers until ctx ends: at once when a commit queued something (LISTEN), and
// every poll for retries that came due and workers that went offline.
func (n *Notifier) Run(ctx context.Context, poll time.Duration) {
	wake := make(chan struct{}, 1)
	signal := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	go func() { _ = n.store.ListenNotifications(ctx, signal) }()
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return
		case <-wake:
			_, err = n.DeliverDue(ctx)
		case <-t.C:
			_, err = n.Sweep(ctx)
		}
		if err != nil && ctx.Err() == nil {
			n.log.Warn("deliver notifications failed", "error", err)
		}
	}
}

// DeliverNow makes one attempt at a delivery of the organization right away, if it is
// due and no other deliverer holds it ("send a test message" answers with the result).
func (n *Notifier) DeliverNow(ctx context.Context, orgID, id uuid.UUID) error {
	claimed, err := n.store.ClaimNotification(ctx, orgID, id, n.lease)
	if err != nil {
		return err
	}
	for _, c := range claimed {
		o := n.attempt(ctx, c)
		if err := n.store.FinishNotification(context.WithoutCancel(ctx), c, o); err != nil {
			return err
		}
		n.observe(o.Status)
	}
	return nil
}

// observe counts one recorded attempt in the metrics and returns its result's name.
func (n *Notifier) observe(status string) string {
	result := metrics.NotificationFailed
	switch status {
	case "delivered":
		result = metrics.NotificationDelivered
	case "pending":
		result = metrics.NotificationRetrying
	}
	n.metrics.ObserveNotification(result)
	return result
}

// KeepDeliveries is how long the delivery log keeps finished deliveries.
const KeepDeliveries = 30 * 24 * time.Hour

// Sweep is the scheduled pass (the local poll, the Lambda's sweep action): report
// workers that went silent, prune the log (hourly), then deliver everything due.
func (n *Notifier) Sweep(ctx context.Context) (Stats, error) {
	if _, err := n.store.QueueOfflineWorkerNotifications(ctx); err != nil {
		return Stats{}, err
	}
	n.mu.Lock()
	prune := n.now().Sub(n.lastPrune) > time.Hour
	if prune {
		n.lastPrune = n.now()
	}
	n.mu.Unlock()
	if prune {
		if _, err := n.store.PruneNotificationDeliveries(ctx, KeepDeliveries); err != nil {
			return Stats{}, err
		}
	}
	return n.DeliverDue(ctx)
}
