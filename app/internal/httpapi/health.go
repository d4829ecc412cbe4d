package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

type poolStats struct {
	Total    int32 `json:"total" doc:"Open connections"`
	Idle     int32 `json:"idle"`
	Acquired int32 `json:"acquired" doc:"Connections in use"`
	Max      int32 `json:"max"`
}

type databaseHealth struct {
	Status    string    `json:"status" enum:"up,down"`
	LatencyMS float64   `json:"latency_ms"`
	Pool      poolStats `json:"pool"`
}

type healthBody struct {
	Status   string         `json:"status" enum:"ok,degraded"`
	Version  string         `json:"version"`
	Database databaseHealth `json:"database"`
}

type healthOutput struct {
	Status int
	Body   healthBody
}

var (
	docHealth = huma.Operation{
		OperationID: "health", Tags: []string{"health"},
		Summary:     "Service health",
		Description: "200 when the API can reach its database, 503 when it cannot.",
		Responses:   map[string]*huma.Response{"503": {Description: "The database is unreachable"}},
	}
)

func (s *Server) health(ctx context.Context, _ *struct{}) (*healthOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	out := &healthOutput{Status: http.StatusOK, Body: healthBody{Status: "ok", Version: s.deps.Version}}
	st := s.store.Stats()
	out.Body.Database.Pool = poolStats{Total: st.Total, Idle: st.Idle, Acquired: st.Acquired, Max: st.Max}
	latency, err := s.store.Ping(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "health: database unreachable", "error", err)
		out.Status = http.StatusServiceUnavailable
		out.Body.Status = "degraded"
		out.Body.Database.Status = "down"
		return out, nil
	}
	out.Body.Database.Status = "up"
	out.Body.Database.LatencyMS = float64(latency.Microseconds()) / 1000
	return out, nil
}
