package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/auth"
	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/github"
	"github.com/miyabi/miyabi/app/internal/store"
)

var (
	docListOrganizations = huma.Operation{OperationID: "list-organizations", Tags: []string{"organizations"},
		Summary: "List my organizations, with my role in each"}
	docCreateOrganization = huma.Operation{OperationID: "create-organization", Tags: []string{"organizations"},
		Summary: "Create an organization (I become its owner)", DefaultStatus: http.StatusCreated}
	docGetOrganization = huma.Operation{OperationID: "get-organization", Tags: []string{"organizations"},
		Summary: "Get an organization"}
	docUpdateOrganization = huma.Operation{OperationID: "update-organization", Tags: []string{"organizations"},
		Summary: "Change an organization's name, slug or description"}
	docDeleteOrganization = huma.Operation{OperationID: "delete-organization", Tags: []string{"organizations"},
		Summary: "Delete an organization and everything in it (not a personal one)", DefaultStatus: http.StatusNoContent}
	docListMembers = huma.Operation{OperationID: "list-members", Tags: []string{"organizations"},
		Summary: "List the members", Description: "Owners first, then by login. q finds members by login or name: plain text, at most 100 characters, no control characters (otherwise a 422); logins starting with it come first. status keeps one status."}
	docUpdateMember = huma.Operation{OperationID: "update-member", Tags: []string{"organizations"},
		Summary: "Change a member's role or status", Description: "Only an owner grants or takes away owner; the last owner cannot be demoted."}
	docRemoveMember = huma.Operation{OperationID: "remove-member", Tags: []string{"organizations"},
		Summary: "Remove a member", DefaultStatus: http.StatusNoContent}
	docListInvitations = huma.Operation{OperationID: "list-invitations", Tags: []string{"organizations"},
		Summary: "List pending invitations, newest first"}
	docCreateInvitation = huma.Operation{OperationID: "create-invitation", Tags: []string{"organizations"},
		Summary: "Invite a GitHub user", Description: "The login is resolved to GitHub's numeric account id, which the invitation is bound to (422 when no account has the login). The token is shown once; the invited account reads it with POST /invitations/lookup {token} and accepts it with POST /invitations/accept {token}. A pending invitation of the same account is revoked and replaced: replaced_invitation says so, and the old link stops working. max_members counts members and pending invitations.",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusBadGateway}}
	docRevokeInvitation = huma.Operation{OperationID: "revoke-invitation", Tags: []string{"organizations"},
		Summary: "Withdraw a pending invitation", DefaultStatus: http.StatusNoContent}
	docAcceptInvitationBody = huma.Operation{OperationID: "accept-invitation-token", Tags: []string{"organizations"},
		Summary: "Accept an invitation addressed to my GitHub account", Description: "The token rides in the body, so no access log records it. 404 when no pending invitation for your GitHub account has this token.",
		Errors: []int{http.StatusNotFound}}
	docLookupInvitation = huma.Operation{OperationID: "lookup-invitation", Tags: []string{"organizations"},
		Summary: "Read what an invitation is before accepting it",
		Description: "For a signed-in person holding the token (in the body, never the URL): the organization, the role, " +
			"who invited, which GitHub login it is for (addressed_to_you says whether that is the caller's account: only " +
			"that account can accept), when it expires, and whether the caller is already a member. Changes nothing. An " +
			"unknown, revoked, accepted or expired token is one and the same 404. Rate limited per address with " +
			"POST /invitations/accept.",
		Errors: []int{404}}
	docAcceptInvitation = huma.Operation{OperationID: "accept-invitation", Tags: []string{"organizations"},
		Summary: "Accept an invitation (deprecated: the token is in the path; use POST /invitations/accept)", Deprecated: true}
)

type orgIDInput struct {
	ID uuid.UUID `path:"id" doc:"Organization id"`
}

type listOrganizationsInput struct{ PageParams }

type orgPageOutput struct{ Body Page[OrganizationOut] }

func (s *Server) listOrganizations(ctx context.Context, in *listOrganizationsInput) (*orgPageOutput, error) {
	orgs, err := s.store.OrganizationsForUser(ctx, principalFrom(ctx).UserID)
	if err != nil {
		return nil, err
	}
	return &orgPageOutput{Body: pageSlice(mapSlice(orgs, orgOut), in.PageParams)}, nil
}

type createOrganizationInput struct {
	Body struct {
		Name        string `json:"name" minLength:"1" maxLength:"100"`
		Slug        string `json:"slug,omitempty" pattern:"^[a-z0-9][a-z0-9-]{0,62}$" maxLength:"63" doc:"Defaults to one made from the name in any script, with a random suffix while that one is taken; a slug given here that is taken is a 409"`
		Description string `json:"description,omitempty" maxLength:"1000"`
	}
}

type orgOutput struct{ Body OrganizationOut }

func (s *Server) createOrganization(ctx context.Context, in *createOrganizationInput) (*orgOutput, error) {
	// Any script gets a slug; a made-up one that is taken gets a suffix (a chosen one is a 409).
	o, err := domain.CreateWithSlug(in.Body.Slug, in.Body.Name, "org", func(slug string) (store.Organization, error) {
		return s.store.CreateOrganization(ctx, principalFrom(ctx).UserID, in.Body.Name, slug, in.Body.Description)
	})
	if err != nil {
		return nil, err
	}
	return &orgOutput{Body: orgOut(o)}, nil
}

func (s *Server) getOrganization(ctx context.Context, in *orgIDInput) (*orgOutput, error) {
	p := principalFrom(ctx)
	o, err := s.store.OrganizationForMember(ctx, in.ID, p.UserID)
	if err != nil {
		return nil, err
	}
	return &orgOutput{Body: orgOut(o)}, nil
}

type updateOrganizationInput struct {
	ID   uuid.UUID `path:"id"`
	Body struct {
		Name        *string `json:"name,omitempty" minLength:"1" maxLength:"100"`
		Slug        *string `json:"slug,omitempty" pattern:"^[a-z0-9][a-z0-9-]{0,62}$" maxLength:"63"`
		Description *string `json:"description,omitempty" maxLength:"1000"`
	}
}

func (s *Server) updateOrganization(ctx context.Context, in *updateOrganizationInput) (*orgOutput, error) {
	p := principalFrom(ctx)
	if err := s.store.UpdateOrganization(ctx, in.ID, store.OrganizationPatch{Name: in.Body.Name, Slug: in.Body.Slug, Description: in.Body.Description}); err != nil {
		return nil, err
	}
	o, err := s.store.OrganizationForMember(ctx, in.ID, p.UserID)
	if err != nil {
		return nil, err
	}
	return &orgOutput{Body: orgOut(o)}, nil
}

func (s *Server) deleteOrganization(ctx context.Context, in *orgIDInput) (*struct{}, error) {
	return nil, s.store.DeleteOrganization(ctx, in.ID)
}

// MemberOut is a member of an organization.
type MemberOut struct {
	UserID    uuid.UUID  `json:"user_id"`
	Login     string     `json:"login"`
	Name      *string    `json:"name"`
	AvatarURL *string    `json:"avatar_url"`
	Role      string     `json:"role" enum:"owner,admin,member,viewer"`
	Status    string     `json:"status" enum:"invited,active,suspended"`
	JoinedAt  *time.Time `json:"joined_at"`
}

func memberOut(m store.Member) MemberOut {
	return MemberOut{UserID: m.UserID, Login: m.Login, Name: m.Name, AvatarURL: m.AvatarURL, Role: m.Role, Status: m.Status, JoinedAt: m.JoinedAt}
}

type listMembersInput struct {
	ID     uuid.UUID `path:"id"`
	Q      string    `query:"q" maxLength:"100" doc:"Only members whose GitHub login or name contains this text, ignoring case (surrounding spaces are ignored, at most 100 characters as sent; logins that start with it come first). Plain text: no wildcards."`
	Status string    `query:"status" enum:"invited,active,suspended" doc:"Only members in this status"`
	PageParams
}

type memberPageOutput struct{ Body Page[MemberOut] }

// searchText checks a free-text search parameter: trimmed, valid UTF-8, and no control
// characters (which no login or name holds, and PostgreSQL refuses NUL outright).
func searchText(field, q string) (string, error) {
	if !utf8.ValidString(q) {
		return "", domain.Invalid(field, "is not valid UTF-8 text")
	}
	if strings.IndexFunc(q, unicode.IsControl) >= 0 {
		return "", domain.Invalid(field, "must not contain control characters")
	}
	return strings.TrimSpace(q), nil
}

func (s *Server) listMembers(ctx context.Context, in *listMembersInput) (*memberPageOutput, error) {
	q, err := searchText("query.q", in.Q)
	if err != nil {
		return nil, err
	}
	items, total, err := s.store.ListMembers(ctx, in.ID, store.MemberFilter{Query: q, Status: in.Status}, in.Limit, in.Offset())
	if err != nil {
		return nil, err
	}
	return &memberPageOutput{Body: pageOf(mapSlice(items, memberOut), total, in.PageParams)}, nil
}

type updateMemberInput struct {
	ID     uuid.UUID `path:"id"`
	UserID uuid.UUID `path:"user_id"`
	Body   struct {
		Role   *string `json:"role,omitempty" enum:"owner,admin,member,viewer"`
		Status *string `json:"status,omitempty" enum:"active,suspended"`
	}
}

type memberOutput struct{ Body MemberOut }

func (s *Server) updateMember(ctx context.Context, in *updateMemberInput) (*memberOutput, error) {
	p := principalFrom(ctx)
	m, err := s.store.UpdateMember(ctx, in.ID, p.Role, in.UserID, store.MemberPatch{Role: in.Body.Role, Status: in.Body.Status})
	if err != nil {
		return nil, err
	}
	return &memberOutput{Body: memberOut(m)}, nil
}

type memberPathInput struct {
	ID     uuid.UUID `path:"id"`
	UserID uuid.UUID `path:"user_id"`
}

func (s *Server) removeMember(ctx context.Context, in *memberPathInput) (*struct{}, error) {
	p := principalFrom(ctx)
	return nil, s.store.RemoveMember(ctx, in.ID, p.Role, in.UserID)
}

// InvitationOut is a pending invitation.
type InvitationOut struct {
	ID          uuid.UUID  `json:"id"`
	GitHubLogin string     `json:"github_login"`
	Role        string     `json:"role" enum:"owner,admin,member,viewer"`
	Status      string     `json:"status" enum:"pending,accepted,revoked,expired"`
	InvitedBy   *uuid.UUID `json:"invited_by" nullable:"true" doc:"The inviter's user id (kept for existing clients; inviter names them)"`
	Inviter     *PersonRef `json:"inviter" doc:"The person who invited, by id and login; null when nobody is named or their account is gone"`
	ExpiresAt   time.Time  `json:"expires_at"`
	CreatedAt   time.Time  `json:"created_at"`
}

func invitationOut(i store.Invitation) InvitationOut {
	return InvitationOut{ID: i.ID, GitHubLogin: i.GitHubLogin, Role: i.Role, Status: i.Status, InvitedBy: i.InvitedBy,
		Inviter: personRef(i.InvitedBy, i.InvitedByLogin), ExpiresAt: i.ExpiresAt, CreatedAt: i.CreatedAt}
}

type listInvitationsInput struct {
	ID          uuid.UUID `path:"id" doc:"Organization id"`
	GitHubLogin string    `query:"github_login" maxLength:"39" doc:"Only the pending invitation of this GitHub login (ignoring case), to warn before replacing it"`
	PageParams
}

type invitationPageOutput struct{ Body Page[InvitationOut] }

func (s *Server) listInvitations(ctx context.Context, in *listInvitationsInput) (*invitationPageOutput, error) {
	login := strings.TrimSpace(in.GitHubLogin)
	if !utf8.ValidString(login) {
		// no GitHub login is such text (and PostgreSQL would refuse it): nobody's invitation
		return &invitationPageOutput{Body: pageOf[InvitationOut](nil, 0, in.PageParams)}, nil
	}
	list, total, err := s.store.ListInvitations(ctx, in.ID, login, in.Limit, in.Offset())
	if err != nil {
		return nil, err
	}
	return &invitationPageOutput{Body: pageOf(mapSlice(list, invitationOut), total, in.PageParams)}, nil
}

type createInvitationInput struct {
	ID   uuid.UUID `path:"id"`
	Body struct {
		GitHubLogin string `json:"github_login" minLength:"1" maxLength:"39" pattern:"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$"`
		Role        string `json:"role" enum:"owner,admin,member,viewer"`
	}
}

// CreatedInvitationOut carries the invitation token, shown this once.
type CreatedInvitationOut struct {
	Invitation         InvitationOut `json:"invitation"`
	Token              string        `json:"token" doc:"Give it to the invited person; it is not shown again"`
	AcceptPath         string        `json:"accept_path" doc:"Where the invited person accepts (POST)"`
	ReplacedInvitation bool          `json:"replaced_invitation" doc:"true when the account had a pending invitation: it was revoked, and its link no longer works"`
}

type createdInvitationOutput struct{ Body CreatedInvitationOut }

func (s *Server) createInvitation(ctx context.Context, in *createInvitationInput) (*createdInvitationOutput, error) {
	p := principalFrom(ctx)
	if in.Body.Role == "owner" && p.Role != "owner" {
		return nil, domain.Errorf(domain.CodeForbidden, "only an owner can invite an owner")
	}
	gu, err := s.resolveGitHubLogin(ctx, p.UserID, in.Body.GitHubLogin)
	if err != nil {
		return nil, err
	}
	token, hash := auth.NewOpaqueToken("inv_")
	inv, err := s.store.CreateInvitation(ctx, in.ID, store.NewInvitation{Login: gu.Login, GitHubID: gu.ID, Role: in.Body.Role,
		TokenHash: hash, InvitedBy: p.UserID})
	if err != nil {
		return nil, err
	}
	return &createdInvitationOutput{Body: CreatedInvitationOut{Invitation: invitationOut(inv), Token: token,
		AcceptPath: APIPrefix + "/invitations/accept", ReplacedInvitation: inv.Replaced}}, nil
}

// resolveGitHubLogin asks GitHub, with the inviter's token, which account holds login
// now: the invitation is bound to that account's numeric id, not to the login.
func (s *Server) resolveGitHubLogin(ctx context.Context, userID uuid.UUID, login string) (github.User, error) {
	sealed, err := s.store.SealedGitHubToken(ctx, userID)
	if err != nil {
		return github.User{}, err
	}
	if len(sealed) == 0 {
		return github.User{}, domain.Errorf(domain.CodeConflict, "Miyabi holds no GitHub token for you to look %s up with; sign in with GitHub again.", login)
	}
	token, err := s.sealer.Open(sealed, userID[:])
	if err != nil {
		return github.User{}, &domain.Error{Code: domain.CodeConflict, Message: "Your stored GitHub token cannot be read; sign in with GitHub again.", Err: err}
	}
	gu, err := s.github.UserByLogin(ctx, string(token), login)
	switch {
	case errors.Is(err, github.ErrNotFound):
		return github.User{}, domain.Invalid("body.github_login", "no GitHub account has the login %s", login)
	case errors.Is(err, github.ErrUnauthorized):
		return github.User{}, &domain.Error{Code: domain.CodeBadGateway, Message: "GitHub refused your token; sign in with GitHub again.", Err: err}
	case err != nil:
		return github.User{}, &domain.Error{Code: domain.CodeBadGateway, Message: "GitHub did not answer the login lookup; try again.", Err: err}
	}
	return gu, nil
}

type invitationPathInput struct {
	ID           uuid.UUID `path:"id"`
	InvitationID uuid.UUID `path:"invitation_id"`
}

func (s *Server) revokeInvitation(ctx context.Context, in *invitationPathInput) (*struct{}, error) {
	return nil, s.store.RevokeInvitation(ctx, in.ID, in.InvitationID)
}

type acceptInvitationInput struct {
	Token string `path:"token" minLength:"10" maxLength:"100"`
}

type acceptInvitationBodyInput struct {
	Body struct {
		Token string `json:"token" minLength:"10" maxLength:"100" doc:"The invitation token (inv_...)"`
	}
}

// InvitationPreviewOut is what an invitation says to the person holding its token.
type InvitationPreviewOut struct {
	Organization struct {
		ID   uuid.UUID `json:"id"`
		Name string    `json:"name"`
		Slug string    `json:"slug"`
	} `json:"organization"`
	Role           string      `json:"role" enum:"owner,admin,member,viewer"`
	InvitedBy      *InviterOut `json:"invited_by" doc:"null when the inviter's account is gone"`
	GitHubLogin    string      `json:"github_login" doc:"The GitHub login the invitation is for"`
	AddressedToYou bool        `json:"addressed_to_you" doc:"Whether the caller's GitHub account is the one invited: only that account can accept"`
	ExpiresAt      time.Time   `json:"expires_at"`
	AlreadyMember  bool        `json:"already_member" doc:"The caller is already an active member of the organization"`
}

// InviterOut is who sent an invitation.
type InviterOut struct {
	_     struct{} `nullable:"true"`
	Login string   `json:"login"`
}

type invitationPreviewOutput struct{ Body InvitationPreviewOut }

// lookupInvitation shows an invitation before it is accepted; the token is in the body,
// where no access log records it.
func (s *Server) lookupInvitation(ctx context.Context, in *acceptInvitationBodyInput) (*invitationPreviewOutput, error) {
	p := principalFrom(ctx)
	user, err := s.store.UserByID(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	inv, err := s.store.LookupInvitation(ctx, auth.HashToken(in.Body.Token), p.UserID)
	if err != nil {
		return nil, err
	}
	out := InvitationPreviewOut{Role: inv.Role, GitHubLogin: inv.GitHubLogin, ExpiresAt: inv.ExpiresAt, AlreadyMember: inv.AlreadyMember,
		// the rule AcceptInvitation applies: the account's numeric id, else (older invitations) the login
		AddressedToYou: (inv.GitHubUserID != nil && *inv.GitHubUserID == user.GitHubID) ||
			(inv.GitHubUserID == nil && strings.EqualFold(inv.GitHubLogin, p.Login))}
	out.Organization.ID, out.Organization.Name, out.Organization.Slug = inv.OrgID, inv.OrgName, inv.OrgSlug
	if inv.InvitedByLogin != nil {
		out.InvitedBy = &InviterOut{Login: *inv.InvitedByLogin}
	}
	return &invitationPreviewOutput{Body: out}, nil
}

// acceptInvitation is the old form, with the token in the path: kept for links already
// sent, redacted in the access log (see redactPath).
func (s *Server) acceptInvitation(ctx context.Context, in *acceptInvitationInput) (*orgOutput, error) {
	return s.accept(ctx, in.Token)
}

// acceptInvitationBody takes the token in the body, where no access log records it.
func (s *Server) acceptInvitationBody(ctx context.Context, in *acceptInvitationBodyInput) (*orgOutput, error) {
	return s.accept(ctx, in.Body.Token)
}

func (s *Server) accept(ctx context.Context, token string) (*orgOutput, error) {
	p := principalFrom(ctx)
	user, err := s.store.UserByID(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	orgID, err := s.store.AcceptInvitation(ctx, auth.HashToken(token), p.UserID, p.Login, user.GitHubID)
	if err != nil {
		return nil, err
	}
	o, err := s.store.OrganizationForMember(ctx, orgID, p.UserID)
	if err != nil {
		return nil, err
	}
	return &orgOutput{Body: orgOut(o)}, nil
}
