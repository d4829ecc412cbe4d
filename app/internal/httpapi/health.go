package httpapi

import (
	"context"
	"crypto/subtle"
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
	Status    string     `json:"status" enum:"up,down"`
	LatencyMS *float64   `json:"latency_ms,omitempty" doc:"Operators only"`
	Pool      *poolStats `json:"pool,omitempty" doc:"Operators only"`
}

type healthBody struct {
	Status   string         `json:"status" enum:"ok,degraded"`
	Version  string         `json:"version,omitempty" doc:"Operators only"`
	Database databaseHealth `json:"database"`
}

type healthInput struct {
	Authorization string `header:"Authorization" doc:"Bearer OPERATOR_TOKEN shows the version and pool figures"`
}

type healthOutput struct {
	Status int
	Body   healthBody
}

var (
	docHealth = huma.Operation{
		OperationID: "health", Tags: []string{"health"},
		Summary:     "Service health",
		Description: "200 when the API can reach its database, 503 when it cannot. An anonymous caller learns only up or down; the version, latency and pool figures are for operators (Authorization: Bearer OPERATOR_TOKEN).",
		Responses:   map[string]*huma.Response{"503": {Description: "The database is unreachable"}},
	}
)

// operator reports whether the caller presented the operator token.
func (s *Server) operator(authorization string) bool {
	token, ok := bearer(authorization)
	return ok && s.cfg.OperatorToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.OperatorToken)) == 1
}

func (s *Server) health(ctx context.Context, in *healthInput) (*healthOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	operator := s.operator(in.Authorization)
	out := &healthOutput{Status: http.StatusOK, Body: healthBody{Status: "ok"}}
	if operator {
		st := s.store.Stats()
		out.Body.Version = s.deps.Version
		out.Body.Database.Pool = &poolStats{Total: st.Total, Idle: st.Idle, Acquired: st.Acquired, Max: st.Max}
	}
	latency, err := s.store.Ping(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "health: database unreachable", "error", err)
		out.Status = http.StatusServiceUnavailable
		out.Body.Status = "degraded"
		out.Body.Database.Status = "down"
		return out, nil
	}
	out.Body.Database.Status = "up"
	if operator {
		ms := float64(latency.Microseconds()) / 1000
		out.Body.Database.LatencyMS = &ms
	}
	return out, nil
}
