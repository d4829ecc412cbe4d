// Package demo seeds what a newcomer sees in `make dev`: two people (alice and bob, the
// fake GitHub's users), an organization with both, a team and miyabi-demo/agent-playground
// connected through the GitHub App. It is idempotent and runs
// only in development.
package demo

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/auth"
	"github.com/miyabi/miyabi/app/internal/devid"
	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/store"
)

// OrgSlug is the demo organization.
const OrgSlug = "miyabi-demo"

// Seed creates (or finds) the demo people, organization and team, and returns the
// organization's id.
func Seed(ctx context.Context, st *store.Store, sealer *auth.Sealer) (uuid.UUID, error) {
	people := []struct{ login, name, email string }{
		{"alice", "Alice Example", "alice@example.com"},
		{"bob", "Bob Example", "bob@example.com"},
	}
	ids := make([]uuid.UUID, len(people))
	for i, p := range people {
		u, _, err := st.UpsertUser(ctx, store.SignIn{
			GitHubID: devid.UserID(p.login), Login: p.login, Name: p.name, Email: p.email,
			SealToken: func(id uuid.UUID) []byte { return sealer.Seal([]byte(devid.TokenFor(p.login)), id[:]) },
		})
		if err != nil {
			return uuid.Nil, fmt.Errorf("seed %s: %w", p.login, err)
		}
		ids[i] = u.ID
	}
	orgID, err := st.OrganizationIDBySlug(ctx, OrgSlug)
	if err != nil {
		o, err := st.CreateOrganization(ctx, ids[0], "Miyabi Demo", OrgSlug, "A demo organization: alice owns it, bob is a member.")
		if err != nil {
			return uuid.Nil, fmt.Errorf("seed organization: %w", err)
		}
		orgID = o.ID
	}
	if err := st.EnsureMember(ctx, orgID, ids[1], "member"); err != nil {
		return uuid.Nil, fmt.Errorf("seed membership: %w", err)
	}
	teamID, err := st.TeamIDBySlug(ctx, orgID, "agents")
	if err != nil {
		t, err := st.CreateTeam(ctx, orgID, "Agents", "agents", "The people who look after the agents.")
		if err != nil && domain.ErrorCode(err) != domain.CodeConflict {
			return uuid.Nil, fmt.Errorf("seed team: %w", err)
		}
		teamID = t.ID
	}
	for i, role := range []string{"lead", "member"} {
		if _, err := st.AddTeamMember(ctx, orgID, teamID, ids[i], role); err != nil {
			return uuid.Nil, fmt.Errorf("seed team member: %w", err)
		}
	}
	// the GitHub loop works out of the box: agent-playground is connected through the
	// fake's App installation, so labelling its issues launches agents here
	inst := devid.InstallationID(OrgSlug)
	if _, err := st.CreateRepository(ctx, orgID, store.NewRepository{GitHubRepoID: 700_000, FullName: "miyabi-demo/agent-playground",
		DefaultBranch: "main", CreatedBy: ids[0], InstallationID: &inst}); err != nil && domain.ErrorCode(err) != domain.CodeConflict {
		return uuid.Nil, fmt.Errorf("seed repository: %w", err)
	}
	return orgID, nil
}
