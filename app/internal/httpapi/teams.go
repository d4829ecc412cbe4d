package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/store"
)

var (
	docListTeams  = huma.Operation{OperationID: "list-teams", Tags: []string{"teams"}, Summary: "List teams"}
	docCreateTeam = huma.Operation{OperationID: "create-team", Tags: []string{"teams"}, Summary: "Create a team",
		DefaultStatus: http.StatusCreated}
	docGetTeam    = huma.Operation{OperationID: "get-team", Tags: []string{"teams"}, Summary: "Get a team"}
	docUpdateTeam = huma.Operation{OperationID: "update-team", Tags: []string{"teams"}, Summary: "Change a team"}
	docDeleteTeam = huma.Operation{OperationID: "delete-team", Tags: []string{"teams"}, Summary: "Delete a team",
		DefaultStatus: http.StatusNoContent}
	docListTeamMembers = huma.Operation{OperationID: "list-team-members", Tags: []string{"teams"},
		Summary: "List a team's members, leads first"}
	docAddTeamMember = huma.Operation{OperationID: "add-team-member", Tags: []string{"teams"},
		Summary: "Add an organization member to the team (or change their team role)", DefaultStatus: http.StatusCreated}
	docRemoveTeamMember = huma.Operation{OperationID: "remove-team-member", Tags: []string{"teams"},
		Summary: "Remove someone from the team", DefaultStatus: http.StatusNoContent}
)

// TeamOut is a team of an organization.
type TeamOut struct {
	ID             uuid.UUID `json:"id"`
	OrganizationID uuid.UUID `json:"organization_id"`
	Name           string    `json:"name"`
	Slug           string    `json:"slug"`
	Description    string    `json:"description"`
	MemberCount    int       `json:"member_count"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func teamOut(t store.Team) TeamOut {
	return TeamOut{ID: t.ID, OrganizationID: t.OrgID, Name: t.Name, Slug: t.Slug, Description: t.Description,
		MemberCount: t.MemberCount, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

type listTeamsInput struct {
	ID uuid.UUID `path:"id"`
	PageParams
}

type teamPageOutput struct{ Body Page[TeamOut] }

func (s *Server) listTeams(ctx context.Context, in *listTeamsInput) (*teamPageOutput, error) {
	items, total, err := s.store.ListTeams(ctx, in.ID, in.Limit, in.Offset())
	if err != nil {
		return nil, err
	}
	return &teamPageOutput{Body: pageOf(mapSlice(items, teamOut), total, in.PageParams)}, nil
}

type createTeamInput struct {
	ID   uuid.UUID `path:"id"`
	Body struct {
		Name        string `json:"name" minLength:"1" maxLength:"100"`
		Slug        string `json:"slug,omitempty" pattern:"^[a-z0-9][a-z0-9-]{0,62}$" maxLength:"63" doc:"Defaults to one made from the name in any script, with a random suffix while that one is taken; a slug given here that is taken is a 409"`
		Description string `json:"description,omitempty" maxLength:"1000"`
	}
}

type teamOutput struct{ Body TeamOut }

func (s *Server) createTeam(ctx context.Context, in *createTeamInput) (*teamOutput, error) {
	t, err := domain.CreateWithSlug(in.Body.Slug, in.Body.Name, "team", func(slug string) (store.Team, error) {
		return s.store.CreateTeam(ctx, in.ID, in.Body.Name, slug, in.Body.Description)
	})
	if err != nil {
		return nil, err
	}
	return &teamOutput{Body: teamOut(t)}, nil
}

type teamPathInput struct {
	ID     uuid.UUID `path:"id"`
	TeamID uuid.UUID `path:"team_id"`
}

func (s *Server) getTeam(ctx context.Context, in *teamPathInput) (*teamOutput, error) {
	t, err := s.store.Team(ctx, in.ID, in.TeamID)
	if err != nil {
		return nil, err
	}
	return &teamOutput{Body: teamOut(t)}, nil
}

type updateTeamInput struct {
	ID     uuid.UUID `path:"id"`
	TeamID uuid.UUID `path:"team_id"`
	Body   struct {
		Name        *string `json:"name,omitempty" minLength:"1" maxLength:"100"`
		Slug        *string `json:"slug,omitempty" pattern:"^[a-z0-9][a-z0-9-]{0,62}$" maxLength:"63"`
		Description *string `json:"description,omitempty" maxLength:"1000"`
	}
}

func (s *Server) updateTeam(ctx context.Context, in *updateTeamInput) (*teamOutput, error) {
	t, err := s.store.UpdateTeam(ctx, in.ID, in.TeamID, store.TeamPatch{Name: in.Body.Name, Slug: in.Body.Slug, Description: in.Body.Description})
	if err != nil {
		return nil, err
	}
	return &teamOutput{Body: teamOut(t)}, nil
}

func (s *Server) deleteTeam(ctx context.Context, in *teamPathInput) (*struct{}, error) {
	return nil, s.store.DeleteTeam(ctx, in.ID, in.TeamID)
}

// TeamMemberOut is someone in a team.
type TeamMemberOut struct {
	UserID    uuid.UUID `json:"user_id"`
	Login     string    `json:"login"`
	Name      *string   `json:"name"`
	AvatarURL *string   `json:"avatar_url"`
	Role      string    `json:"role" enum:"lead,member"`
	CreatedAt time.Time `json:"created_at"`
}

func teamMemberOut(m store.TeamMember) TeamMemberOut {
	return TeamMemberOut{UserID: m.UserID, Login: m.Login, Name: m.Name, AvatarURL: m.AvatarURL, Role: m.Role, CreatedAt: m.CreatedAt}
}

type listTeamMembersInput struct {
	ID     uuid.UUID `path:"id"`
	TeamID uuid.UUID `path:"team_id"`
	PageParams
}

type teamMemberPageOutput struct{ Body Page[TeamMemberOut] }

func (s *Server) listTeamMembers(ctx context.Context, in *listTeamMembersInput) (*teamMemberPageOutput, error) {
	list, total, err := s.store.ListTeamMembers(ctx, in.ID, in.TeamID, in.Limit, in.Offset())
	if err != nil {
		return nil, err
	}
	return &teamMemberPageOutput{Body: pageOf(mapSlice(list, teamMemberOut), total, in.PageParams)}, nil
}

type addTeamMemberInput struct {
	ID     uuid.UUID `path:"id"`
	TeamID uuid.UUID `path:"team_id"`
	Body   struct {
		UserID uuid.UUID `json:"user_id" format:"uuid"`
		Role   string    `json:"role,omitempty" enum:"lead,member" default:"member"`
	}
}

type teamMemberOutput struct{ Body TeamMemberOut }

func (s *Server) addTeamMember(ctx context.Context, in *addTeamMemberInput) (*teamMemberOutput, error) {
	role := in.Body.Role
	if role == "" {
		role = "member"
	}
	m, err := s.store.AddTeamMember(ctx, in.ID, in.TeamID, in.Body.UserID, role)
	if err != nil {
		return nil, err
	}
	return &teamMemberOutput{Body: teamMemberOut(m)}, nil
}

type teamMemberPathInput struct {
	ID     uuid.UUID `path:"id"`
	TeamID uuid.UUID `path:"team_id"`
	UserID uuid.UUID `path:"user_id"`
}

func (s *Server) removeTeamMember(ctx context.Context, in *teamMemberPathInput) (*struct{}, error) {
	return nil, s.store.RemoveTeamMember(ctx, in.ID, in.TeamID, in.UserID)
}
