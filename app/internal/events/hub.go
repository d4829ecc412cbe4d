package events

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/store"
)

// HubOptions tune a Hub; zero values take the defaults.
type HubOptions struct {
	SendBuffer   int           // messages queued per connection before it is dropped (256)
	SummaryDelay time.Duration // summary.changed is coalesced per organization (500 ms)
	PingEvery    time.Duration // keep-alive pings (25 s)
	RecheckEvery time.Duration // each connection's grants are reloaded (60 s)
	WriteTimeout time.Duration // one message write (5 s)
}

// Hub delivers events to the WebSocket connections of this process. It listens on the
// database (LISTEN/NOTIFY) while it has connections, so an event committed by any API
// process reaches every client of every process.
type Hub struct {
	store *store.Store
	log   *slog.Logger
	opt   HubOptions
	now   func() time.Time

	mu        sync.Mutex
	byOrg     map[uuid.UUID]map[*Conn]struct{}
	conns     int
	listening *listener
	summaries map[uuid.UUID]bool
}

type listener struct {
	cancel context.CancelFunc
	ready  chan struct{}
	done   chan struct{}
}

// NewHub builds a hub; it starts listening with its first connection.
func NewHub(st *store.Store, log *slog.Logger, opt HubOptions) *Hub {
	if opt.SendBuffer <= 0 {
		opt.SendBuffer = 256
	}
	if opt.SummaryDelay <= 0 {
		opt.SummaryDelay = 500 * time.Millisecond
	}
	if opt.PingEvery <= 0 {
		opt.PingEvery = 25 * time.Second
	}
	if opt.RecheckEvery <= 0 {
		opt.RecheckEvery = 60 * time.Second
	}
	if opt.WriteTimeout <= 0 {
		opt.WriteTimeout = 5 * time.Second
	}
	return &Hub{store: st, log: log, opt: opt, now: time.Now,
		byOrg: map[uuid.UUID]map[*Conn]struct{}{}, summaries: map[uuid.UUID]bool{}}
}

// Tune changes the options' non-zero fields (tests and benchmarks: before connections).
func (h *Hub) Tune(opt HubOptions) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if opt.SendBuffer > 0 {
		h.opt.SendBuffer = opt.SendBuffer
	}
	if opt.SummaryDelay > 0 {
		h.opt.SummaryDelay = opt.SummaryDelay
	}
	if opt.PingEvery > 0 {
		h.opt.PingEvery = opt.PingEvery
	}
	if opt.RecheckEvery > 0 {
		h.opt.RecheckEvery = opt.RecheckEvery
	}
	if opt.WriteTimeout > 0 {
		h.opt.WriteTimeout = opt.WriteTimeout
	}
}

// Conn is one client connection of the hub.
type Conn struct {
	hub    *Hub
	caller Caller

	mu        sync.Mutex
	following map[uuid.UUID]struct{}

	send      chan []byte
	closed    chan struct{}
	closeOnce sync.Once
	code      websocket.StatusCode
	reason    string
}

// Caller is who holds the connection (a copy).
func (c *Conn) Caller() Caller {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.caller
}

// register adds a connection and waits until the hub listens, so no change committed
// after the client got "connected" can be missed.
func (h *Hub) register(ctx context.Context, caller Caller) (*Conn, error) {
	c := &Conn{hub: h, caller: caller, following: map[uuid.UUID]struct{}{},
		send: make(chan []byte, h.opt.SendBuffer), closed: make(chan struct{})}
	h.mu.Lock()
	set := h.byOrg[caller.OrgID]
	if set == nil {
		set = map[*Conn]struct{}{}
		h.byOrg[caller.OrgID] = set
	}
	set[c] = struct{}{}
	h.conns++
	if h.listening == nil {
		h.listening = h.startListening()
	}
	l := h.listening
	h.mu.Unlock()
	select {
	case <-l.ready:
		return c, nil
	case <-ctx.Done():
		h.unregister(c)
		return nil, ctx.Err()
	case <-time.After(10 * time.Second):
		h.unregister(c)
		return nil, errors.New("the event feed is not available")
	}
}

func (h *Hub) unregister(c *Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.byOrg[c.caller.OrgID]
	if _, ok := set[c]; !ok {
		return
	}
	delete(set, c)
	if len(set) == 0 {
		delete(h.byOrg, c.caller.OrgID)
	}
	h.conns--
	if h.conns == 0 && h.listening != nil {
		// nobody left to tell: give the database connection back
		h.listening.cancel()
		h.listening = nil
	}
}

// Connections is how many clients this process serves.
func (h *Hub) Connections() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.conns
}

// startListening runs the LISTEN loop until cancelled; when the database connection
// fails, every client is asked to reconnect (and so to refetch what it shows): events
// of the gap are lost, the screens are not left wrong.
func (h *Hub) startListening() *listener {
	ctx, cancel := context.WithCancel(context.Background())
	l := &listener{cancel: cancel, ready: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		var once sync.Once
		for ctx.Err() == nil {
			err := h.store.ListenEvents(ctx, func() { once.Do(func() { close(l.ready) }) }, h.dispatch)
			if ctx.Err() != nil {
				return
			}
			h.log.Warn("events: listener lost its database connection; clients reconnect", "err", err)
			h.closeAll(websocket.StatusServiceRestart, "the server lost its event feed; reconnect")
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}()
	return l
}

func (h *Hub) closeAll(code websocket.StatusCode, reason string) {
	h.mu.Lock()
	var all []*Conn
	for _, set := range h.byOrg {
		for c := range set {
			all = append(all, c)
		}
	}
	h.mu.Unlock()
	for _, c := range all {
		c.kill(code, reason)
	}
}

// dispatch handles one notification.
func (h *Hub) dispatch(channel, payload string) {
	switch channel {
	case store.EventChannel:
		ev, err := parseEvent([]byte(payload))
		if err != nil {
			h.log.Error("events: unreadable event", "err", err)
			return
		}
		h.Deliver(ev)
	case store.AuthChannel:
		var a authChange
		if err := json.Unmarshal([]byte(payload), &a); err != nil {
			h.log.Error("events: unreadable auth change", "err", err)
			return
		}
		h.recheckMatching(a)
	}
}

// Deliver sends an event to every connection of its organization that may read it
// (execution.log only to those following the execution). It never blocks: a connection
// whose buffer is full is dropped.
func (h *Hub) Deliver(ev Event) {
	msg, err := json.Marshal(ev)
	if err != nil {
		return
	}
	h.mu.Lock()
	targets := make([]*Conn, 0, len(h.byOrg[ev.OrganizationID]))
	for c := range h.byOrg[ev.OrganizationID] {
		targets = append(targets, c)
	}
	scheduleSummary := movesSummary(ev.Type) && len(targets) > 0 && !h.summaries[ev.OrganizationID]
	if scheduleSummary {
		h.summaries[ev.OrganizationID] = true
	}
	h.mu.Unlock()
	if ev.Type == TypeWorkAvailable {
		// map order is random: a different few workers each time
		limit := nudgeLimit(ev.count)
		for _, c := range targets {
			if limit > 0 && c.wants(&ev) {
				c.offer(msg)
				limit--
			}
		}
	} else {
		for _, c := range targets {
			if c.wants(&ev) {
				c.offer(msg)
			}
		}
	}
	if scheduleSummary {
		org := ev.OrganizationID
		time.AfterFunc(h.opt.SummaryDelay, func() {
			h.mu.Lock()
			delete(h.summaries, org)
			h.mu.Unlock()
			h.Deliver(summaryChanged(org, h.now()))
		})
	}
}

func (c *Conn) wants(ev *Event) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.caller.May(ev) {
		return false
	}
	if ev.Type == TypeExecutionLog {
		_, ok := c.following[ev.ID]
		return ok
	}
	return true
}

// offer queues a message; a client that lets its buffer fill is too slow and is dropped
// rather than allowed to hold anyone else up.
func (c *Conn) offer(msg []byte) {
	select {
	case <-c.closed:
	case c.send <- msg:
	default:
		c.kill(websocket.StatusPolicyViolation, "too slow: the client does not read its events")
	}
}

// kill closes the connection with a code and reason (the first one wins).
func (c *Conn) kill(code websocket.StatusCode, reason string) {
	c.closeOnce.Do(func() {
		c.code, c.reason = code, reason
		close(c.closed)
	})
}

// authChange is a payload of the auth channel.
type authChange struct {
	SessionID *uuid.UUID `json:"session_id"`
	UserID    *uuid.UUID `json:"user_id"`
	OrgID     *uuid.UUID `json:"organization_id"`
	WorkerID  *uuid.UUID `json:"worker_id"`
}

func (a authChange) matches(c store.EventCaller) bool {
	switch {
	case a.SessionID != nil:
		return c.SessionID != nil && *c.SessionID == *a.SessionID
	case a.WorkerID != nil:
		return c.WorkerID != nil && *c.WorkerID == *a.WorkerID
	case a.UserID != nil:
		return c.UserID != nil && *c.UserID == *a.UserID && (a.OrgID == nil || *a.OrgID == c.OrgID)
	}
	return false
}

func (h *Hub) recheckMatching(a authChange) {
	h.mu.Lock()
	var hit []*Conn
	for _, set := range h.byOrg {
		for c := range set {
			if a.matches(c.caller.EventCaller) {
				hit = append(hit, c)
			}
		}
	}
	h.mu.Unlock()
	for _, c := range hit {
		go c.recheck(context.Background())
	}
}

// CloseReasonGone is the close reason of a connection whose caller lost access.
const CloseReasonGone = "signed out, removed or revoked"

// StatusGone is the close code for it (an application code: 4000-4999).
const StatusGone websocket.StatusCode = 4401

// recheck reloads what the caller may read, closing the connection when nothing.
func (c *Conn) recheck(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	g, err := c.hub.store.LoadEventGrants(ctx, c.caller.EventCaller)
	switch {
	case errors.Is(err, store.ErrCallerGone):
		c.kill(StatusGone, CloseReasonGone)
	case err != nil:
		c.hub.log.Warn("events: could not recheck a connection", "err", err)
	default:
		c.mu.Lock()
		c.caller.Grants = g
		c.mu.Unlock()
	}
}
