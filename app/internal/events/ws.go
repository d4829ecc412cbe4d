package events

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/store"
)

// Open checks that the ticket's caller may still read something and registers their
// connection; it fails (before any upgrade) with a domain unauthorized error when not.
func (h *Hub) Open(ctx context.Context, ec store.EventCaller) (*Conn, error) {
	g, err := h.store.LoadEventGrants(ctx, ec)
	if errors.Is(err, store.ErrCallerGone) {
		return nil, domain.Errorf(domain.CodeUnauthorized, "The ticket's session or worker is no longer active.")
	}
	if err != nil {
		return nil, err
	}
	return h.register(ctx, Caller{EventCaller: ec, Grants: g})
}

// Serve upgrades the request to a WebSocket and serves the connection until it ends.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, c *Conn) {
	defer h.unregister(c)
	// the server's read and write timeouts bound requests, not a connection that lives
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept answered the client
	}
	ws.SetReadLimit(4096)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	c.offer(h.connectedMessage(c))
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		h.write(ctx, ws, c)
	}()
	go c.recheckEvery(ctx, h.opt.RecheckEvery)

	for {
		typ, data, err := ws.Read(ctx)
		if err != nil {
			// the client left, or the writer closed the socket (then its reason stands)
			c.kill(websocket.StatusNormalClosure, "")
			break
		}
		if typ != websocket.MessageText {
			c.kill(websocket.StatusUnsupportedData, MalformedReason)
			break
		}
		m, ok := parseClientMessage(data)
		if !ok {
			c.kill(websocket.StatusPolicyViolation, MalformedReason)
			break
		}
		h.follow(ctx, c, m)
	}
	<-writerDone
}

func (h *Hub) connectedMessage(c *Conn) []byte {
	d, _ := json.Marshal(map[string]any{"worker": c.caller.IsWorker()})
	b, _ := json.Marshal(Event{Type: TypeConnected, OrganizationID: c.caller.OrgID, ID: c.caller.OrgID,
		At: h.now().UTC().Format(time.RFC3339Nano), Data: d})
	return b
}

// write sends queued messages and pings; it closes the socket with the connection's
// close code once the connection is killed (by the reader, a slow buffer or a recheck).
func (h *Hub) write(ctx context.Context, ws *websocket.Conn, c *Conn) {
	ping := time.NewTicker(h.opt.PingEvery)
	defer ping.Stop()
	for {
		select {
		case <-c.closed:
			if c.code == websocket.StatusNormalClosure && c.reason == "" {
				_ = ws.CloseNow() // the client closed: nothing more to say
				return
			}
			_ = ws.Close(c.code, c.reason)
			return
		case msg := <-c.send:
			wctx, cancel := context.WithTimeout(ctx, h.opt.WriteTimeout)
			err := ws.Write(wctx, websocket.MessageText, msg)
			cancel()
			if err != nil {
				c.kill(websocket.StatusPolicyViolation, "too slow: the client does not read its events")
				_ = ws.CloseNow()
				return
			}
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := ws.Ping(pctx)
			cancel()
			if err != nil {
				c.kill(websocket.StatusGoingAway, "no pong")
				_ = ws.CloseNow()
				return
			}
		}
	}
}

func (c *Conn) recheckEvery(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.closed:
			return
		case <-t.C:
			c.recheck(ctx)
		}
	}
}

// follow handles a follow or unfollow: only executions the caller may read, answered
// with an error event otherwise (the connection stays).
func (h *Hub) follow(ctx context.Context, c *Conn, m ClientMessage) {
	caller := c.Caller()
	if m.Action == "unfollow" {
		c.mu.Lock()
		delete(c.following, m.ExecutionID)
		c.mu.Unlock()
		c.offer(followingMessage(caller.OrgID, m.ExecutionID, false, h.now()))
		return
	}
	team, err := h.store.ExecutionTeam(ctx, caller.OrgID, m.ExecutionID)
	if err != nil || !caller.MayFollow(team) {
		c.offer(errorMessage(caller.OrgID, m.ExecutionID, "execution not found", h.now()))
		return
	}
	c.mu.Lock()
	_, already := c.following[m.ExecutionID]
	full := !already && len(c.following) >= MaxFollowing
	if !full {
		c.following[m.ExecutionID] = struct{}{}
	}
	c.mu.Unlock()
	if full {
		c.offer(errorMessage(caller.OrgID, m.ExecutionID, "too many followed executions; unfollow one first", h.now()))
		return
	}
	// from this message on every new line arrives: a client fetches the lines before it
	// by cursor, so nothing falls between the fetch and the stream
	c.offer(followingMessage(caller.OrgID, m.ExecutionID, true, h.now()))
}
