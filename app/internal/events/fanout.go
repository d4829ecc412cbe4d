package events

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/store"
)

// The AWS side of live events: API Gateway holds the WebSockets and invokes the
// function for $connect, $disconnect and $default; the connections live in
// websocket_connections; events reach them through the @connections management
// endpoint, posted by the API Lambda after each request that may have changed
// something (the outbox of migration 00012) and by the sweeper.

// Poster calls API Gateway's @connections endpoint, signed with SigV4.
type Poster struct {
	// Endpoint is the management endpoint, https://{api-id}.execute-api.{region}.amazonaws.com/{stage}.
	Endpoint string
	Region   string
	// Credentials returns the function's credentials (the Lambda environment's).
	Credentials func() aws.Credentials
	HTTP        *http.Client
	signer      *v4.Signer
}

// ErrGone is a connection API Gateway no longer has (410): it is forgotten.
var ErrGone = errors.New("the connection is gone")

// Post sends one message to a connection.
func (p *Poster) Post(ctx context.Context, connID string, msg []byte) error {
	return p.do(ctx, http.MethodPost, connID, msg)
}

// Disconnect closes a connection from the server side.
func (p *Poster) Disconnect(ctx context.Context, connID string) error {
	return p.do(ctx, http.MethodDelete, connID, nil)
}

func (p *Poster) do(ctx context.Context, method, connID string, body []byte) error {
	if p.signer == nil {
		p.signer = v4.NewSigner()
	}
	if p.HTTP == nil {
		p.HTTP = &http.Client{Timeout: 5 * time.Second}
	}
	u := strings.TrimRight(p.Endpoint, "/") + "/@connections/" + url.PathEscape(connID)
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256(body)
	if err := p.signer.SignHTTP(ctx, p.Credentials(), req, hex.EncodeToString(sum[:]), "execute-api", p.Region, time.Now()); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	resp, err := p.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode == http.StatusGone:
		return ErrGone
	case resp.StatusCode >= 300:
		return fmt.Errorf("@connections %s: %s", method, resp.Status)
	}
	return nil
}

// Fanout delivers events to API Gateway connections.
type Fanout struct {
	Store  *store.Store
	Poster *Poster
	Log    *slog.Logger
	Now    func() time.Time
}

// Connect accepts a $connect that carries a valid ticket, refusing anything else.
func (f *Fanout) Connect(ctx context.Context, connID, ticket string) error {
	if ticket == "" {
		return store.ErrCallerGone
	}
	c, err := f.Store.RedeemEventTicket(ctx, ticket)
	if err != nil {
		return err
	}
	if _, err := f.Store.LoadEventGrants(ctx, c); err != nil {
		return err
	}
	return f.Store.AddWSConnection(ctx, connID, f.Poster.Endpoint, c)
}

// Disconnected forgets a connection.
func (f *Fanout) Disconnected(ctx context.Context, connID string) error {
	return f.Store.RemoveWSConnections(ctx, []string{connID})
}

// Message handles a client message ($default): follow or unfollow, answered like the
// local server answers; a malformed message closes the connection (API Gateway cannot
// carry a close reason: the reason is sent as an error event first).
func (f *Fanout) Message(ctx context.Context, connID string, body []byte) error {
	conn, err := f.Store.WSConnection(ctx, connID)
	if err != nil {
		return err
	}
	now := f.now()
	m, ok := parseClientMessage(body)
	if !ok {
		_ = f.Poster.Post(ctx, connID, errorMessage(conn.Caller.OrgID, uuid.Nil, MalformedReason, now))
		_ = f.Poster.Disconnect(ctx, connID)
		return f.Store.RemoveWSConnections(ctx, []string{connID})
	}
	if m.Action == "unfollow" {
		if err := f.Store.SetWSFollow(ctx, connID, m.ExecutionID, false); err != nil {
			return err
		}
		return f.post(ctx, conn, followingMessage(conn.Caller.OrgID, m.ExecutionID, false, now))
	}
	g, err := f.Store.LoadEventGrants(ctx, conn.Caller)
	if errors.Is(err, store.ErrCallerGone) {
		f.drop(ctx, []string{connID})
		return nil
	}
	if err != nil {
		return err
	}
	caller := Caller{EventCaller: conn.Caller, Grants: g}
	team, err := f.Store.ExecutionTeam(ctx, conn.Caller.OrgID, m.ExecutionID)
	if err != nil || !caller.MayFollow(team) {
		return f.post(ctx, conn, errorMessage(conn.Caller.OrgID, m.ExecutionID, "execution not found", now))
	}
	if err := f.Store.SetWSFollow(ctx, connID, m.ExecutionID, true); err != nil {
		return err
	}
	return f.post(ctx, conn, followingMessage(conn.Caller.OrgID, m.ExecutionID, true, now))
}

func (f *Fanout) post(ctx context.Context, conn store.WSConnection, msg []byte) error {
	err := f.Poster.Post(ctx, conn.ID, msg)
	if errors.Is(err, ErrGone) {
		return f.Store.RemoveWSConnections(ctx, []string{conn.ID})
	}
	return err
}

func (f *Fanout) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// drop closes connections whose caller lost access and forgets them.
func (f *Fanout) drop(ctx context.Context, ids []string) {
	for _, id := range ids {
		_ = f.Poster.Disconnect(ctx, id)
	}
	if err := f.Store.RemoveWSConnections(ctx, ids); err != nil {
		f.Log.WarnContext(ctx, "events: forget connections", "err", err)
	}
}

// Drain delivers the outbox until it is empty and returns how many messages it posted.
func (f *Fanout) Drain(ctx context.Context) (int, error) {
	posted := 0
	for {
		batch, err := f.Store.TakeOutbox(ctx, 500)
		if err != nil || len(batch) == 0 {
			return posted, err
		}
		n, err := f.deliver(ctx, batch)
		posted += n
		if err != nil {
			return posted, err
		}
		if len(batch) < 500 {
			return posted, nil
		}
	}
}

func (f *Fanout) deliver(ctx context.Context, batch []json.RawMessage) (int, error) {
	var evs []Event
	var auths []authChange
	orgs := map[uuid.UUID]bool{}
	for _, raw := range batch {
		var head struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if json.Unmarshal(raw, &head) != nil {
			continue
		}
		if head.Type == typeAuthChanged {
			var a authChange
			if json.Unmarshal(head.Data, &a) == nil {
				auths = append(auths, a)
			}
			continue
		}
		ev, err := parseEvent(raw)
		if err != nil {
			continue
		}
		evs = append(evs, ev)
		orgs[ev.OrganizationID] = true
	}
	// who lost access goes first, before anything else is posted to them
	for _, a := range auths {
		conns, err := f.Store.WSConnectionsOf(ctx, a.SessionID, a.UserID, a.WorkerID)
		if err != nil {
			return 0, err
		}
		var gone []string
		for _, c := range conns {
			if a.matches(c.Caller) {
				if _, err := f.Store.LoadEventGrants(ctx, c.Caller); errors.Is(err, store.ErrCallerGone) {
					gone = append(gone, c.ID)
				}
			}
		}
		if len(gone) > 0 {
			f.drop(ctx, gone)
		}
	}
	if len(evs) == 0 {
		return 0, nil
	}
	// one summary.changed per organization and drain
	now := f.now()
	for org := range orgs {
		for _, ev := range evs {
			if ev.OrganizationID == org && movesSummary(ev.Type) {
				evs = append(evs, summaryChanged(org, now))
				break
			}
		}
	}
	ids := make([]uuid.UUID, 0, len(orgs))
	for org := range orgs {
		ids = append(ids, org)
	}
	conns, err := f.Store.WSConnectionsFor(ctx, ids)
	if err != nil {
		return 0, err
	}
	posted := 0
	var gone []string
	nudges := make([]int, len(evs))
	for i := range evs {
		nudges[i] = nudgeLimit(evs[i].count)
	}
	rand.Shuffle(len(conns), func(i, j int) { conns[i], conns[j] = conns[j], conns[i] })
	for _, c := range conns {
		g, err := f.Store.LoadEventGrants(ctx, c.Caller)
		if errors.Is(err, store.ErrCallerGone) {
			f.drop(ctx, []string{c.ID})
			continue
		}
		if err != nil {
			return posted, err
		}
		caller := Caller{EventCaller: c.Caller, Grants: g}
		following := map[uuid.UUID]bool{}
		for _, id := range c.Following {
			following[id] = true
		}
		for i := range evs {
			ev := &evs[i]
			if !caller.May(ev) || (ev.Type == TypeExecutionLog && !following[ev.ID]) {
				continue
			}
			if ev.Type == TypeWorkAvailable {
				if nudges[i] == 0 {
					continue
				}
				nudges[i]--
			}
			msg, _ := json.Marshal(ev)
			err := f.Poster.Post(ctx, c.ID, msg)
			if errors.Is(err, ErrGone) {
				gone = append(gone, c.ID)
				break
			}
			if err != nil {
				f.Log.WarnContext(ctx, "events: post to a connection", "connection", c.ID, "err", err)
				break // the client refetches when it reconnects
			}
			posted++
		}
	}
	if len(gone) > 0 {
		if err := f.Store.RemoveWSConnections(ctx, gone); err != nil {
			return posted, err
		}
	}
	return posted, nil
}
