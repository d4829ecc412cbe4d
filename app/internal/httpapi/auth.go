package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/auth"
	"github.com/miyabi/miyabi/app/internal/devid"
	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/github"
	"github.com/miyabi/miyabi/app/internal/store"
)

const (
	refreshCookie = "miyabi_refresh"
	stateCookie   = "miyabi_oauth"
	authPath      = APIPrefix + "/auth"
)

// UserOut is a person as the API shows them.
type UserOut struct {
	ID        uuid.UUID `json:"id"`
	GitHubID  int64     `json:"github_id"`
	Login     string    `json:"login"`
	Name      *string   `json:"name"`
	Email     *string   `json:"email"`
	AvatarURL *string   `json:"avatar_url"`
}

func userOut(u store.User) UserOut {
	return UserOut{ID: u.ID, GitHubID: u.GitHubID, Login: u.Login, Name: u.Name, Email: u.Email, AvatarURL: u.AvatarURL}
}

// OrganizationOut is an organization as one of its members sees it.
type OrganizationOut struct {
	ID              uuid.UUID `json:"id"`
	Name            string    `json:"name"`
	Slug            string    `json:"slug"`
	Description     string    `json:"description"`
	IsPersonal      bool      `json:"is_personal"`
	Plan            string    `json:"plan" enum:"free,team,enterprise"`
	MaxMembers      int       `json:"max_members"`
	MaxRepositories int       `json:"max_repositories"`
	Role            string    `json:"role" enum:"owner,admin,member,viewer" doc:"The caller's role in it"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

func orgOut(o store.Organization) OrganizationOut {
	return OrganizationOut{ID: o.ID, Name: o.Name, Slug: o.Slug, Description: o.Description, IsPersonal: o.IsPersonal,
		Plan: o.Plan, MaxMembers: o.MaxMembers, MaxRepositories: o.MaxRepositories, Role: o.Role,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}

// SessionOut answers every sign-in, refresh and organization switch.
type SessionOut struct {
	AccessToken  string          `json:"access_token"`
	TokenType    string          `json:"token_type" enum:"Bearer"`
	ExpiresIn    int             `json:"expires_in" doc:"Seconds until the access token expires"`
	User         UserOut         `json:"user"`
	Organization OrganizationOut `json:"organization"`
}

type sessionOutput struct {
	SetCookie []http.Cookie `header:"Set-Cookie"`
	Body      SessionOut
}

type redirectOutput struct {
	Status    int
	Location  string        `header:"Location"`
	SetCookie []http.Cookie `header:"Set-Cookie"`
}

var (
	docAuthGithub = huma.Operation{
		OperationID: "auth-github", Tags: []string{"auth"},
		Summary:       "Start GitHub sign-in",
		Description:   "Redirects to GitHub with a random state and a PKCE S256 challenge; both ride, with the redirect path, in a signed 10-minute HttpOnly cookie.",
		DefaultStatus: http.StatusFound,
	}
	docAuthGithubCallback = huma.Operation{
		OperationID: "auth-github-callback", Tags: []string{"auth"},
		Summary: "Finish GitHub sign-in", DefaultStatus: http.StatusFound,
		Errors: []int{400, 502},
	}
	docAuthRefresh = huma.Operation{
		OperationID: "auth-refresh", Tags: []string{"auth"},
		Summary:     "Rotate the refresh cookie and get a new access token",
		Description: "Presenting a refresh token that was already rotated revokes the whole session.",
		Errors:      []int{401},
	}
	docAuthLogout = huma.Operation{
		OperationID: "auth-logout", Tags: []string{"auth"},
		Summary: "Sign out: revoke the session at once", DefaultStatus: http.StatusNoContent,
	}
	docAuthMe = huma.Operation{
		OperationID: "auth-me", Tags: []string{"auth"},
		Summary: "Who am I: user, active organization, role, permissions, memberships",
	}
	docAuthSwitchOrganization = huma.Operation{
		OperationID: "auth-switch-organization", Tags: []string{"auth"},
		Summary: "Make another of my organizations the active one", Errors: []int{404, 422},
	}
	docAuthDevLogin = huma.Operation{
		OperationID: "auth-dev-login", Tags: []string{"auth"},
		Summary:     "Development only: sign in as any GitHub login",
		Description: "Exists only when APP_ENV=development. Signs in exactly as the GitHub callback would, with a token the local fake GitHub accepts.",
	}
)

func (s *Server) callbackURL() string { return s.cfg.PublicURL + authPath + "/github/callback" }

func (s *Server) cookie(name, value, path string, maxAge int, sameSite http.SameSite) http.Cookie {
	return http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge, HttpOnly: true,
		Secure: s.cfg.SecureCookies(), SameSite: sameSite}
}

func (s *Server) refreshCookie(token string) http.Cookie {
	return s.cookie(refreshCookie, token, authPath, int(auth.SessionTTL.Seconds()), http.SameSiteStrictMode)
}

type githubStartInput struct {
	Redirect string `query:"redirect" maxLength:"2048" doc:"Local path to land on after sign-in"`
}

func (s *Server) githubStart(ctx context.Context, in *githubStartInput) (*redirectOutput, error) {
	st := auth.NewOAuthState(in.Redirect, s.now())
	// Lax, not Strict: the cookie must come back on GitHub's top-level redirect.
	c := s.cookie(stateCookie, s.states.Encode(st), authPath+"/github", int(auth.OAuthStateTTL.Seconds()), http.SameSiteLaxMode)
	return &redirectOutput{Status: http.StatusFound, Location: s.github.AuthorizeURL(st.State, st.Challenge(), s.callbackURL()),
		SetCookie: []http.Cookie{c}}, nil
}

type githubCallbackInput struct {
	Code             string `query:"code" maxLength:"512"`
	State            string `query:"state" maxLength:"512"`
	Error            string `query:"error" maxLength:"200"`
	ErrorDescription string `query:"error_description" maxLength:"1000"`
	StateCookie      string `cookie:"miyabi_oauth" maxLength:"4096" doc:"The signed sign-in state GET /auth/github set"`
	UserAgent        string `header:"User-Agent"`
}

func (s *Server) githubCallback(ctx context.Context, in *githubCallbackInput) (*redirectOutput, error) {
	clear := s.cookie(stateCookie, "", authPath+"/github", -1, http.SameSiteLaxMode)
	st, err := s.states.Decode(in.StateCookie, s.now())
	switch {
	case errors.Is(err, auth.ErrStateMissing):
		return nil, domain.Errorf(domain.CodeBadRequest, "The sign-in cookie is missing; start again from the sign-in page.")
	case errors.Is(err, auth.ErrStateExpired):
		return nil, domain.Errorf(domain.CodeBadRequest, "The sign-in took longer than 10 minutes; start again.")
	case err != nil:
		return nil, domain.Errorf(domain.CodeBadRequest, "The sign-in cookie is invalid; start again.")
	}
	if in.State == "" || in.State != st.State {
		return nil, domain.Errorf(domain.CodeBadRequest, "The sign-in state does not match; start again.")
	}
	// single use, on the server: a replayed callback (the same cookie and state, within
	// its 10 minutes) must not sign anyone in again
	fresh, err := s.store.SpendOAuthState(ctx, auth.HashToken(st.State))
	if err != nil {
		return nil, err
	}
	if !fresh {
		return nil, domain.Errorf(domain.CodeBadRequest, "This sign-in was already completed; start again from the sign-in page.")
	}
	if in.Error != "" {
		return nil, domain.Errorf(domain.CodeBadRequest, "GitHub did not approve the sign-in: %s.", in.Error)
	}
	if in.Code == "" {
		return nil, domain.Invalid("code", "is required")
	}
	ghToken, err := s.github.ExchangeCode(ctx, in.Code, st.Verifier, s.callbackURL())
	if err != nil {
		return nil, &domain.Error{Code: domain.CodeBadGateway, Message: "GitHub refused the sign-in code; start again.", Err: err}
	}
	gu, err := s.github.User(ctx, ghToken)
	if err != nil {
		return nil, &domain.Error{Code: domain.CodeBadGateway, Message: "GitHub did not tell who you are; try again.", Err: err}
	}
	if gu.Email == "" {
		if gu.Email, err = s.github.PrimaryEmail(ctx, ghToken); err != nil {
			s.log.WarnContext(ctx, "github emails unavailable", "error", err) // the email is optional
		}
	}
	_, refresh, err := s.signIn(ctx, gu, ghToken, in.UserAgent)
	if err != nil {
		return nil, err
	}
	return &redirectOutput{Status: http.StatusFound, Location: st.Redirect, SetCookie: []http.Cookie{clear, s.refreshCookie(refresh)}}, nil
}

// signIn records the user and opens a session in their personal organization.
func (s *Server) signIn(ctx context.Context, gu github.User, ghToken, userAgent string) (SessionOut, string, error) {
	user, personal, err := s.store.UpsertUser(ctx, store.SignIn{
		GitHubID: gu.ID, Login: gu.Login, Name: gu.Name, Email: gu.Email, AvatarURL: gu.AvatarURL,
		SealToken: func(id uuid.UUID) []byte { return s.sealer.Seal([]byte(ghToken), id[:]) },
	})
	if err != nil {
		return SessionOut{}, "", err
	}
	refresh, hash := auth.NewOpaqueToken("")
	sess, err := s.store.CreateSession(ctx, user.ID, personal, hash, userAgent, auth.SessionTTL)
	if err != nil {
		return SessionOut{}, "", err
	}
	out, err := s.sessionOut(ctx, user, sess)
	return out, refresh, err
}

func (s *Server) sessionOut(ctx context.Context, user store.User, sess store.Session) (SessionOut, error) {
	org, err := s.store.OrganizationForMember(ctx, sess.OrgID, user.ID)
	if err != nil {
		return SessionOut{}, err
	}
	token, exp, err := s.tokens.Issue(user.ID, sess.ID, sess.OrgID)
	if err != nil {
		return SessionOut{}, err
	}
	return SessionOut{AccessToken: token, TokenType: "Bearer", ExpiresIn: int(exp.Sub(s.now()).Seconds()),
		User: userOut(user), Organization: orgOut(org)}, nil
}

type refreshInput struct {
	Refresh   string `cookie:"miyabi_refresh" maxLength:"4096" doc:"The refresh token the last sign-in or refresh set"`
	UserAgent string `header:"User-Agent"`
}

func (s *Server) refresh(ctx context.Context, in *refreshInput) (*sessionOutput, error) {
	if in.Refresh == "" {
		return nil, domain.Errorf(domain.CodeUnauthorized, "No session: sign in first.")
	}
	next, nextHash := s.successors.Successor(in.Refresh)
	sess, err := s.store.RotateRefresh(ctx, auth.HashToken(in.Refresh), nextHash, auth.RefreshGrace)
	if err != nil {
		return nil, err
	}
	user, err := s.store.UserByID(ctx, sess.UserID)
	if err != nil {
		return nil, err
	}
	out, err := s.sessionOut(ctx, user, sess)
	if err != nil {
		return nil, err
	}
	return &sessionOutput{SetCookie: []http.Cookie{s.refreshCookie(next)}, Body: out}, nil
}

type logoutOutput struct {
	SetCookie []http.Cookie `header:"Set-Cookie"`
}

func (s *Server) logout(ctx context.Context, _ *struct{}) (*logoutOutput, error) {
	p := principalFrom(ctx)
	if err := s.store.RevokeSession(ctx, p.SessionID, "logout"); err != nil {
		return nil, err
	}
	return &logoutOutput{SetCookie: []http.Cookie{s.cookie(refreshCookie, "", authPath, -1, http.SameSiteStrictMode)}}, nil
}

// MeOut is the caller as the dashboard needs them.
type MeOut struct {
	User            UserOut           `json:"user"`
	Organization    OrganizationOut   `json:"organization" doc:"The active organization"`
	Role            string            `json:"role" enum:"owner,admin,member,viewer"`
	Permissions     []string          `json:"permissions" doc:"Effective organization-wide permissions"`
	TeamPermissions []string          `json:"team_permissions" doc:"Permissions granted by team roles, on the team's repositories only"`
	Memberships     []OrganizationOut `json:"memberships" doc:"Every organization the caller belongs to, with their role"`
}

type meOutput struct{ Body MeOut }

func (s *Server) me(ctx context.Context, _ *struct{}) (*meOutput, error) {
	p := principalFrom(ctx)
	user, err := s.store.UserByID(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	orgs, err := s.store.OrganizationsForUser(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	out := MeOut{User: userOut(user), Role: p.Role, Permissions: p.perms, TeamPermissions: p.teamPerms, Memberships: []OrganizationOut{}}
	if out.Permissions == nil {
		out.Permissions = []string{}
	}
	if out.TeamPermissions == nil {
		out.TeamPermissions = []string{}
	}
	found := false
	for _, o := range orgs {
		out.Memberships = append(out.Memberships, orgOut(o))
		if o.ID == p.OrgID {
			out.Organization, found = orgOut(o), true
		}
	}
	if !found {
		// no longer a member of the token's organization: show the personal one, which
		// the next refresh makes active
		for _, o := range orgs {
			if o.IsPersonal {
				out.Organization, out.Role, out.Permissions, out.TeamPermissions = orgOut(o), o.Role, []string{}, []string{}
			}
		}
	}
	return &meOutput{Body: out}, nil
}

type switchInput struct {
	Body struct {
		OrganizationID uuid.UUID `json:"organization_id" format:"uuid"`
	}
}

type sessionBodyOutput struct{ Body SessionOut }

func (s *Server) switchOrganization(ctx context.Context, in *switchInput) (*sessionBodyOutput, error) {
	p := principalFrom(ctx)
	if err := s.store.SwitchOrganization(ctx, p.SessionID, p.UserID, in.Body.OrganizationID); err != nil {
		return nil, err
	}
	user, err := s.store.UserByID(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	out, err := s.sessionOut(ctx, user, store.Session{ID: p.SessionID, UserID: p.UserID, OrgID: in.Body.OrganizationID})
	if err != nil {
		return nil, err
	}
	return &sessionBodyOutput{Body: out}, nil
}

type devLoginInput struct {
	UserAgent string `header:"User-Agent"`
	Body      struct {
		Login string `json:"login" minLength:"1" maxLength:"39" pattern:"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$" doc:"A GitHub login"`
		Name  string `json:"name,omitempty" maxLength:"100"`
		Email string `json:"email,omitempty" maxLength:"254" format:"email"`
	}
}

// devLogin signs in as the fake GitHub would: same numeric id, same token, so a dev
// user and the same login through "Sign in with GitHub" against the fake are one person.
func (s *Server) devLogin(ctx context.Context, in *devLoginInput) (*sessionOutput, error) {
	gu := github.User{ID: devid.UserID(in.Body.Login), Login: in.Body.Login, Name: in.Body.Name, Email: in.Body.Email}
	out, refresh, err := s.signIn(ctx, gu, devid.TokenFor(in.Body.Login), in.UserAgent)
	if err != nil {
		return nil, err
	}
	return &sessionOutput{SetCookie: []http.Cookie{s.refreshCookie(refresh)}, Body: out}, nil
}
