package workerd

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/miyabi/miyabi/app/internal/workerapi"
)

// subscribe keeps the events WebSocket open (a fresh ticket per connection) and wakes
// the claim loop on work.available, and on every (re)connect, since a nudge sent while
// disconnected is lost. Claims stay the source of truth: a lost nudge costs at most
// one idle poll, never a task.
func (d *Daemon) subscribe(ctx context.Context) {
	wait := time.Second
	for ctx.Err() == nil {
		connected, err := d.listen(ctx)
		d.live.Store(false)
		if ctx.Err() != nil {
			return
		}
		if connected {
			wait = time.Second
		}
		d.log.Warn("live events disconnected; polling every "+d.cfg.Poll.String()+" until reconnected", "error", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, 30*time.Second)
	}
}

// listen runs one connection; connected reports whether it got as far as "connected".
func (d *Daemon) listen(ctx context.Context) (connected bool, err error) {
	var ticket workerapi.EventsTicket
	if err := d.api.call(ctx, workerapi.EventsTicketPath, map[string]any{}, &ticket); err != nil {
		return false, err
	}
	u, err := url.Parse(d.api.base + workerapi.EventsPath)
	if err != nil {
		return false, err
	}
	u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	u.RawQuery = url.Values{"ticket": {ticket.Ticket}}.Encode()
	dialCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	ws, _, err := websocket.Dial(dialCtx, u.String(), nil)
	cancel()
	if err != nil {
		return false, err
	}
	defer ws.CloseNow()
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			return connected, err
		}
		var ev struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(data, &ev) != nil {
			continue
		}
		switch ev.Type {
		case "connected":
			connected = true
			d.live.Store(true)
			d.nudge() // whatever was announced while we were away
		case "work.available":
			d.nudge()
		}
	}
}
