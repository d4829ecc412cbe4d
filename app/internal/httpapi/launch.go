package httpapi

import (
	"context"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/perm"
	"github.com/miyabi/miyabi/app/internal/store"
)

// IssueNumber is a GitHub issue number as a request names it: the one schema of every
// issue_number a client sends.
type IssueNumber int

func (IssueNumber) Schema(huma.Registry) *huma.Schema {
	lo, hi := 1.0, 2147483647.0
	return &huma.Schema{Type: huma.TypeInteger, Format: "int64", Minimum: &lo, Maximum: &hi,
		Description: "A GitHub issue number of the repository"}
}

func (n *IssueNumber) int() *int {
	if n == nil {
		return nil
	}
	v := int(*n)
	return &v
}

// launchTarget is what a request that may start agents names: POST /tasks, POST
// /agents/execute and POST /workflows/{id}/run all check it with checkLaunch.
type launchTarget struct {
	RepositoryID *uuid.UUID
	// AgentType is the agent to launch (nil: none is named here: a manual task, or a
	// workflow whose nodes name theirs, checked with the definition).
	AgentType *string
	// Agents is true when agents will run on the repository (it must then be active).
	Agents bool
	// Need is what the caller must hold on the repository, org-wide or through a team role
	// on its team (on no repository: org-wide).
	Need []perm.Permission
}

// checkLaunch validates a launch target, always in this order:
//  1. the agent type is in the catalogue (422 naming body.agent_type);
//  2. the repository exists in the caller's organization (422 naming body.repository_id;
//     another organization's repository is indistinguishable from none);
//  3. the caller may launch on it: every needed permission, org-wide or through a team role
//     on the repository's team (403);
//  4. agents run only on an active repository (409).
//
// So a caller who may not launch on a repository learns nothing about its state (403
// before 409). Issue-number bounds are the IssueNumber schema's (422 before any of this).
func (s *Server) checkLaunch(ctx context.Context, l launchTarget) (*store.Repository, error) {
	if l.AgentType != nil {
		if err := domain.CheckAgentType("body.agent_type", *l.AgentType); err != nil {
			return nil, err
		}
	}
	var repo *store.Repository
	var teamID *uuid.UUID
	if l.RepositoryID != nil {
		r, err := s.store.Repository(ctx, principalFrom(ctx).OrgID, *l.RepositoryID)
		if domain.ErrorCode(err) == domain.CodeNotFound {
			return nil, domain.Invalid("body.repository_id", "no repository with this id in the organization")
		}
		if err != nil {
			return nil, err
		}
		repo, teamID = &r, r.TeamID
	}
	for _, need := range l.Need {
		if err := s.mayOnTeam(ctx, need, teamID); err != nil {
			return nil, err
		}
	}
	if repo != nil && l.Agents && !repo.IsActive {
		return nil, domain.Errorf(domain.CodeConflict, "%s is deactivated; activate it before launching agents on it", repo.FullName)
	}
	return repo, nil
}
