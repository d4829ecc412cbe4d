package httpapi

import (
	"context"

	"github.com/danielgtaylor/huma/v2"

	"github.com/miyabi/miyabi/app/internal/domain"
)

// AgentOut is one agent of the catalogue with how many online workers can run it now.
type AgentOut struct {
	domain.Agent
	OnlineWorkers int `json:"online_workers" doc:"Workers of the organization with a heartbeat in the last 60 s that accept this type"`
}

var (
	docListAgents = huma.Operation{OperationID: "list-agents", Tags: []string{"agents"},
		Summary: "The agent catalogue, with the online workers able to run each agent"}
)

type agentsOutput struct {
	Body struct {
		Items []AgentOut `json:"items"`
	}
}

func (s *Server) listAgents(ctx context.Context, _ *struct{}) (*agentsOutput, error) {
	counts, err := s.store.AgentWorkers(ctx, principalFrom(ctx).OrgID, domain.AgentTypes())
	if err != nil {
		return nil, err
	}
	out := &agentsOutput{}
	out.Body.Items = make([]AgentOut, len(domain.Agents))
	for i, a := range domain.Agents {
		out.Body.Items[i] = AgentOut{Agent: a, OnlineWorkers: counts[a.Type]}
	}
	return out, nil
}
