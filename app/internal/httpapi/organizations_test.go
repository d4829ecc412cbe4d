package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/apitest"
)

type orgBody struct {
	ID         uuid.UUID `json:"id"`
	Name       string    `json:"name"`
	Slug       string    `json:"slug"`
	Role       string    `json:"role"`
	IsPersonal bool      `json:"is_personal"`
	MaxMembers int       `json:"max_members"`
}

// newTeamOrg has alice create an organization and switch to it.
func newTeamOrg(t *testing.T, alice *apitest.Client, name string) orgBody {
	t.Helper()
	var o orgBody
	alice.Do("POST", "/organizations", map[string]any{"name": name}).Expect(201).JSON(&o)
	if o.Role != "owner" || o.IsPersonal {
		t.Fatalf("created organization: %+v", o)
	}
	return o
}

func switchTo(t *testing.T, c *apitest.Client, org uuid.UUID) {
	t.Helper()
	var s apitest.Session
	c.Do("POST", "/auth/switch-organization", map[string]any{"organization_id": org}).Expect(200).JSON(&s)
	c.Token = s.AccessToken
}

// invite has the owner invite login with role, and the invited person accept.
func invite(t *testing.T, owner, invitee *apitest.Client, org uuid.UUID, role string) {
	t.Helper()
	var inv struct {
		Token      string `json:"token"`
		AcceptPath string `json:"accept_path"`
	}
	owner.Do("POST", "/organizations/"+org.String()+"/invitations", map[string]any{"github_login": invitee.Login, "role": role}).Expect(201).JSON(&inv)
	var o orgBody
	invitee.Do("POST", inv.AcceptPath, map[string]any{"token": inv.Token}).Expect(200).JSON(&o)
	if o.ID != org || o.Role != role {
		t.Fatalf("accepted into %+v", o)
	}
}

func TestOrganizationLifecycle(t *testing.T) {
	env := apitest.New(t)
	alice, bob, carol := env.Login("alice"), env.Login("bob"), env.Login("carol")
	org := newTeamOrg(t, alice, "Acme Robots")
	if org.Slug != "acme-robots" {
		t.Fatalf("slug %q", org.Slug)
	}
	alice.Do("POST", "/organizations", map[string]any{"name": "Other", "slug": "acme-robots"}).Problem(409)

	var list struct {
		Items []orgBody `json:"items"`
		Total int       `json:"total"`
	}
	alice.Do("GET", "/organizations", nil).Expect(200).JSON(&list)
	if list.Total != 2 {
		t.Fatalf("alice sees %d organizations", list.Total)
	}

	// an invitation is accepted by the invited GitHub login only
	var inv struct {
		Token      string `json:"token"`
		AcceptPath string `json:"accept_path"`
	}
	alice.Do("POST", "/organizations/"+org.ID.String()+"/invitations", map[string]any{"github_login": "bob", "role": "viewer"}).Expect(201).JSON(&inv)
	carol.Do("POST", inv.AcceptPath, map[string]any{"token": inv.Token}).Problem(404)
	var joined orgBody
	bob.Do("POST", inv.AcceptPath, map[string]any{"token": inv.Token}).Expect(200).JSON(&joined)
	if joined.Role != "viewer" {
		t.Fatalf("bob joined as %s", joined.Role)
	}
	bob.Do("POST", inv.AcceptPath, map[string]any{"token": inv.Token}).Problem(409) // used

	// bob, a viewer, reads but does not manage
	switchTo(t, bob, org.ID)
	bob.Do("GET", "/organizations/"+org.ID.String(), nil).Expect(200)
	bob.Do("GET", "/organizations/"+org.ID.String()+"/members", nil).Expect(200)
	bob.Do("PATCH", "/organizations/"+org.ID.String(), map[string]any{"name": "Mine"}).Problem(403)
	bob.Do("POST", "/organizations/"+org.ID.String()+"/invitations", map[string]any{"github_login": "carol", "role": "member"}).Problem(403)
	bob.Do("DELETE", "/organizations/"+org.ID.String(), nil).Problem(403)
	var me struct {
		Role        string   `json:"role"`
		Permissions []string `json:"permissions"`
	}
	bob.Do("GET", "/auth/me", nil).Expect(200).JSON(&me)
	for _, p := range me.Permissions {
		if !strings.HasSuffix(p, ".read") {
			t.Errorf("viewer holds %s", p)
		}
	}

	// an admin cannot touch owners; the last owner cannot leave or be demoted
	alice.Do("PATCH", "/organizations/"+org.ID.String()+"/members/"+bob.UserID.String(), map[string]any{"role": "admin"}).Expect(200)
	bob.Do("PATCH", "/organizations/"+org.ID.String()+"/members/"+alice.UserID.String(), map[string]any{"role": "member"}).Problem(403)
	bob.Do("PATCH", "/organizations/"+org.ID.String()+"/members/"+bob.UserID.String(), map[string]any{"role": "owner"}).Problem(403)
	alice.Do("PATCH", "/organizations/"+org.ID.String()+"/members/"+alice.UserID.String(), map[string]any{"role": "admin"}).Problem(409)
	alice.Do("DELETE", "/organizations/"+org.ID.String()+"/members/"+alice.UserID.String(), nil).Problem(409)
	alice.Do("PATCH", "/organizations/"+org.ID.String()+"/members/"+bob.UserID.String(), map[string]any{"role": "owner"}).Expect(200)
	alice.Do("PATCH", "/organizations/"+org.ID.String()+"/members/"+alice.UserID.String(), map[string]any{"role": "admin"}).Expect(200)

	// the personal organization cannot be deleted; a team one can, by its owner
	bob.Do("DELETE", "/organizations/"+bob.OrgID.String(), nil).Problem(409)
	bob.Do("DELETE", "/organizations/"+org.ID.String(), nil).Expect(204)
	alice.Do("GET", "/organizations/"+org.ID.String(), nil).Problem(404)
	// bob's session falls back to his personal organization
	bob.Do("POST", "/auth/refresh", nil).Expect(200)
}

func TestMaxMembersIsEnforced(t *testing.T) {
	env := apitest.New(t)
	alice, bob, carol := env.Login("alice"), env.Login("bob"), env.Login("carol")
	org := newTeamOrg(t, alice, "Tiny")
	if _, err := env.DB.Exec(context.Background(), `UPDATE organizations SET max_members = 2 WHERE id = $1`, org.ID); err != nil {
		t.Fatal(err)
	}
	invite(t, alice, bob, org.ID, "member")
	p := alice.Do("POST", "/organizations/"+org.ID.String()+"/invitations", map[string]any{"github_login": "carol", "role": "member"}).Problem(409)
	if !strings.Contains(p.Detail, "seats") {
		t.Fatalf("unclear message: %s", p.Detail)
	}
	_ = carol
}

func TestRemovedMemberLosesAccessAtOnce(t *testing.T) {
	env := apitest.New(t)
	alice, bob := env.Login("alice"), env.Login("bob")
	org := newTeamOrg(t, alice, "Team")
	invite(t, alice, bob, org.ID, "member")
	switchTo(t, bob, org.ID)
	bob.Do("GET", "/organizations/"+org.ID.String()+"/members", nil).Expect(200)
	alice.Do("DELETE", "/organizations/"+org.ID.String()+"/members/"+bob.UserID.String(), nil).Expect(204)
	bob.Do("GET", "/organizations/"+org.ID.String()+"/members", nil).Expect(403, 404)
	var me struct {
		Organization orgBody `json:"organization"`
	}
	bob.Do("GET", "/auth/me", nil).Expect(200).JSON(&me)
	if me.Organization.ID == org.ID {
		t.Fatal("me still shows the organization bob was removed from")
	}

	// demotion also acts at once
	invite(t, alice, bob, org.ID, "admin")
	switchTo(t, bob, org.ID)
	bob.Do("PATCH", "/organizations/"+org.ID.String(), map[string]any{"description": "ok"}).Expect(200)
	alice.Do("PATCH", "/organizations/"+org.ID.String()+"/members/"+bob.UserID.String(), map[string]any{"role": "viewer"}).Expect(200)
	bob.Do("PATCH", "/organizations/"+org.ID.String(), map[string]any{"description": "no"}).Problem(403)
}

func TestTeams(t *testing.T) {
	env := apitest.New(t)
	alice, bob, carol := env.Login("alice"), env.Login("bob"), env.Login("carol")
	org := newTeamOrg(t, alice, "Teamy")
	invite(t, alice, bob, org.ID, "member")
	base := "/organizations/" + org.ID.String() + "/teams"
	var team struct {
		ID          uuid.UUID `json:"id"`
		Slug        string    `json:"slug"`
		MemberCount int       `json:"member_count"`
	}
	alice.Do("POST", base, map[string]any{"name": "Platform Team"}).Expect(201).JSON(&team)
	if team.Slug != "platform-team" {
		t.Fatalf("slug %q", team.Slug)
	}
	alice.Do("POST", base, map[string]any{"name": "Again", "slug": "platform-team"}).Problem(409)
	alice.Do("POST", base+"/"+team.ID.String()+"/members", map[string]any{"user_id": bob.UserID, "role": "lead"}).Expect(201)
	// carol is not a member of the organization
	p := alice.Do("POST", base+"/"+team.ID.String()+"/members", map[string]any{"user_id": carol.UserID}).Problem(422)
	if !p.Mentions("user_id") {
		t.Fatalf("problem does not name user_id: %+v", p)
	}
	alice.Do("GET", base+"/"+team.ID.String(), nil).Expect(200).JSON(&team)
	if team.MemberCount != 1 {
		t.Fatalf("member count %d", team.MemberCount)
	}
	switchTo(t, bob, org.ID)
	bob.Do("GET", base, nil).Expect(200)
	bob.Do("POST", base, map[string]any{"name": "Mine"}).Problem(403)
	bob.Do("DELETE", base+"/"+team.ID.String(), nil).Problem(403)
	alice.Do("PATCH", base+"/"+team.ID.String(), map[string]any{"name": "Platform"}).Expect(200)
	alice.Do("DELETE", base+"/"+team.ID.String()+"/members/"+bob.UserID.String(), nil).Expect(204)
	alice.Do("DELETE", base+"/"+team.ID.String(), nil).Expect(204)
	alice.Do("GET", base+"/"+team.ID.String(), nil).Problem(404)
}

// Every identity route, called by a member of another organization, is 404 and changes nothing.
func TestIdentityRoutesAcrossOrganizations(t *testing.T) {
	env := apitest.New(t)
	alice, bob, mallory := env.Login("alice"), env.Login("bob"), env.Login("mallory")
	org := newTeamOrg(t, alice, "Secret")
	invite(t, alice, bob, org.ID, "member")
	var team struct {
		ID uuid.UUID `json:"id"`
	}
	alice.Do("POST", "/organizations/"+org.ID.String()+"/teams", map[string]any{"name": "T"}).Expect(201).JSON(&team)
	var inv struct {
		Invitation struct {
			ID uuid.UUID `json:"id"`
		} `json:"invitation"`
	}
	alice.Do("POST", "/organizations/"+org.ID.String()+"/invitations", map[string]any{"github_login": "carol", "role": "member"}).Expect(201).JSON(&inv)
	o, tm, u := org.ID.String(), team.ID.String(), bob.UserID.String()
	calls := []struct {
		method, path string
		body         any
	}{
		{"GET", "/organizations/" + o, nil},
		{"PATCH", "/organizations/" + o, map[string]any{"name": "pwned"}},
		{"DELETE", "/organizations/" + o, nil},
		{"GET", "/organizations/" + o + "/members", nil},
		{"PATCH", "/organizations/" + o + "/members/" + u, map[string]any{"role": "viewer"}},
		{"DELETE", "/organizations/" + o + "/members/" + u, nil},
		{"GET", "/organizations/" + o + "/invitations", nil},
		{"POST", "/organizations/" + o + "/invitations", map[string]any{"github_login": "mallory", "role": "owner"}},
		{"DELETE", "/organizations/" + o + "/invitations/" + inv.Invitation.ID.String(), nil},
		{"GET", "/organizations/" + o + "/teams", nil},
		{"POST", "/organizations/" + o + "/teams", map[string]any{"name": "x"}},
		{"GET", "/organizations/" + o + "/teams/" + tm, nil},
		{"PATCH", "/organizations/" + o + "/teams/" + tm, map[string]any{"name": "x"}},
		{"DELETE", "/organizations/" + o + "/teams/" + tm, nil},
		{"GET", "/organizations/" + o + "/teams/" + tm + "/members", nil},
		{"POST", "/organizations/" + o + "/teams/" + tm + "/members", map[string]any{"user_id": mallory.UserID}},
		{"DELETE", "/organizations/" + o + "/teams/" + tm + "/members/" + u, nil},
	}
	for _, c := range calls {
		mallory.Do(c.method, c.path, c.body).Problem(404)
	}
	mallory.Do("POST", "/auth/switch-organization", map[string]any{"organization_id": org.ID}).Problem(404)
	var name string
	var members, teams, invites int
	ctx := context.Background()
	_ = env.DB.QueryRow(ctx, `SELECT name FROM organizations WHERE id = $1`, org.ID).Scan(&name)
	_ = env.DB.QueryRow(ctx, `SELECT count(*) FROM organization_members WHERE organization_id = $1`, org.ID).Scan(&members)
	_ = env.DB.QueryRow(ctx, `SELECT count(*) FROM teams WHERE organization_id = $1`, org.ID).Scan(&teams)
	_ = env.DB.QueryRow(ctx, `SELECT count(*) FROM invitations WHERE organization_id = $1 AND status = 'pending'`, org.ID).Scan(&invites)
	if name != "Secret" || members != 2 || teams != 1 || invites != 1 {
		t.Fatalf("organization changed: name=%s members=%d teams=%d invites=%d", name, members, teams, invites)
	}
}

func TestIdentityWritesRejectBadInput(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	org := newTeamOrg(t, alice, "Valid")
	o := org.ID.String()
	long := strings.Repeat("n", 5000)
	cases := []struct {
		name, method, path string
		body               any
		field              string
	}{
		{"org without name", "POST", "/organizations", map[string]any{}, "name"},
		{"org name wrong type", "POST", "/organizations", map[string]any{"name": 42}, "name"},
		{"org name too long", "POST", "/organizations", map[string]any{"name": long}, "name"},
		{"org bad slug", "POST", "/organizations", map[string]any{"name": "x", "slug": "Not A Slug"}, "slug"},
		{"org mass assignment", "POST", "/organizations", map[string]any{"name": "x", "max_members": 1000}, "max_members"},
		{"patch org plan", "PATCH", "/organizations/" + o, map[string]any{"plan": "enterprise"}, "plan"},
		{"invite bad role", "POST", "/organizations/" + o + "/invitations", map[string]any{"github_login": "bob", "role": "god"}, "role"},
		{"invite without login", "POST", "/organizations/" + o + "/invitations", map[string]any{"role": "member"}, "github_login"},
		{"invite bad login", "POST", "/organizations/" + o + "/invitations", map[string]any{"github_login": "a b'; DROP TABLE users;--", "role": "member"}, "github_login"},
		{"team without name", "POST", "/organizations/" + o + "/teams", map[string]any{}, "name"},
		{"team member bad id", "POST", "/organizations/" + o + "/teams/" + uuid.NewString() + "/members", map[string]any{"user_id": "nope"}, "user_id"},
		{"switch to non-uuid", "POST", "/auth/switch-organization", map[string]any{"organization_id": "x"}, "organization_id"},
		{"dev login bad login", "POST", "/auth/dev-login", map[string]any{"login": "-bad-"}, "login"},
	}
	ctx := context.Background()
	count := func() (n int) {
		_ = env.DB.QueryRow(ctx, `SELECT (SELECT count(*) FROM organizations) + (SELECT count(*) FROM invitations) + (SELECT count(*) FROM teams) + (SELECT count(*) FROM users)`).Scan(&n)
		return n
	}
	before := count()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := alice.Do(tc.method, tc.path, tc.body).Problem(422)
			if !p.Mentions(tc.field) {
				t.Fatalf("problem does not name %s: %+v", tc.field, p)
			}
		})
	}
	if after := count(); after != before {
		t.Fatalf("bad input changed the database: %d -> %d rows", before, after)
	}
}

// Names in any script get a slug, and a second all-Japanese name is not refused as "org" taken.
func TestSlugsForNamesInAnyScript(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	a, b := newTeamOrg(t, alice, "雅 東京チーム"), newTeamOrg(t, alice, "雅 大阪")
	if a.Slug == b.Slug || !strings.HasPrefix(a.Slug, "chiimu-") || !strings.HasPrefix(b.Slug, "org-") {
		t.Fatalf("slugs %q and %q: want distinct, spelled where they can be", a.Slug, b.Slug)
	}
	// The same made-up slug twice: the second gets a suffix instead of a conflict.
	c, d := newTeamOrg(t, alice, "Acme"), newTeamOrg(t, alice, "ACME")
	if c.Slug != "acme" || !strings.HasPrefix(d.Slug, "acme-") {
		t.Fatalf("slugs %q and %q: want acme and acme-xxxx", c.Slug, d.Slug)
	}
	// A slug the person chose is theirs: taken is a conflict, not silently changed.
	alice.Do("POST", "/organizations", map[string]any{"name": "Other", "slug": "acme"}).Problem(409)
	base := "/organizations/" + a.ID.String() + "/teams"
	var t1, t2 struct {
		Slug string `json:"slug"`
	}
	alice.Do("POST", base, map[string]any{"name": "開発"}).Expect(201).JSON(&t1)
	alice.Do("POST", base, map[string]any{"name": "運用"}).Expect(201).JSON(&t2)
	if t1.Slug == t2.Slug || !strings.HasPrefix(t1.Slug, "team-") {
		t.Fatalf("team slugs %q and %q", t1.Slug, t2.Slug)
	}
}
