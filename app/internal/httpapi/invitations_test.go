package httpapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/miyabi/miyabi/app/internal/apitest"
	"github.com/miyabi/miyabi/app/internal/config"
)

type invitationPreviewJSON struct {
	Organization struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Slug string `json:"slug"`
	} `json:"organization"`
	Role      string `json:"role"`
	InvitedBy *struct {
		Login string `json:"login"`
	} `json:"invited_by"`
	GitHubLogin    string    `json:"github_login"`
	AddressedToYou bool      `json:"addressed_to_you"`
	ExpiresAt      time.Time `json:"expires_at"`
	AlreadyMember  bool      `json:"already_member"`
}

type createdInvitationJSON struct {
	Invitation struct {
		ID string `json:"id"`
	} `json:"invitation"`
	Token              string `json:"token"`
	ReplacedInvitation bool   `json:"replaced_invitation"`
}

func lookup(c *apitest.Client, token string) *apitest.Response {
	return c.Do("POST", "/invitations/lookup", map[string]any{"token": token})
}

// The invited person sees what they are joining before they accept; looking changes
// nothing; a token that does not work is one 404 whatever the reason.
func TestInvitationLookup(t *testing.T) {
	env := apitest.New(t)
	alice, bob, carol := env.Login("alice"), env.Login("bob"), env.Login("carol")
	org := newTeamOrg(t, alice, "Acme Robots")
	path := "/organizations/" + org.ID.String() + "/invitations"
	var inv createdInvitationJSON
	alice.Do("POST", path, map[string]any{"github_login": "bob", "role": "member"}).Expect(201).JSON(&inv)

	var p invitationPreviewJSON
	lookup(bob, inv.Token).Expect(200).JSON(&p)
	if p.Organization.ID != org.ID.String() || p.Organization.Name != "Acme Robots" || p.Organization.Slug != "acme-robots" ||
		p.Role != "member" || p.InvitedBy == nil || p.InvitedBy.Login != "alice" || p.GitHubLogin != "bob" ||
		!p.AddressedToYou || p.AlreadyMember {
		t.Fatalf("bob's preview: %+v", p)
	}
	if d := time.Until(p.ExpiresAt); d < 6*24*time.Hour || d > 7*24*time.Hour+time.Minute {
		t.Fatalf("expires in %v, want ~7 days", d)
	}
	// someone else holding the link sees whom it is for, and that it is not them
	lookup(carol, inv.Token).Expect(200).JSON(&p)
	if p.AddressedToYou || p.GitHubLogin != "bob" {
		t.Fatalf("carol's preview: %+v", p)
	}
	// the owner, already a member
	lookup(alice, inv.Token).Expect(200).JSON(&p)
	if !p.AlreadyMember {
		t.Fatalf("alice's preview: %+v", p)
	}

	// looking changed nothing: bob accepts; the used token is then 404
	bob.Do("POST", "/invitations/accept", map[string]any{"token": inv.Token}).Expect(200)
	used := lookup(bob, inv.Token).Problem(404)

	unknown := lookup(bob, "inv_no-such-token-0000000000000000000000").Problem(404)

	var revoked createdInvitationJSON
	alice.Do("POST", path, map[string]any{"github_login": "carol", "role": "viewer"}).Expect(201).JSON(&revoked)
	alice.Do("DELETE", path+"/"+revoked.Invitation.ID, nil).Expect(204)
	gone := lookup(carol, revoked.Token).Problem(404)

	var expired createdInvitationJSON
	alice.Do("POST", path, map[string]any{"github_login": "carol", "role": "viewer"}).Expect(201).JSON(&expired)
	if _, err := env.DB.Exec(context.Background(), `UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = $1`,
		expired.Invitation.ID); err != nil {
		t.Fatal(err)
	}
	late := lookup(carol, expired.Token).Problem(404)
	for _, pr := range []apitest.Problem{used, gone, late} {
		if pr.Detail != unknown.Detail || pr.Title != unknown.Title {
			t.Errorf("a token that does not work answers %+v, an unknown one %+v: they must be the same", pr, unknown)
		}
	}
	env.Anonymous().Do("POST", "/invitations/lookup", map[string]any{"token": inv.Token}).Problem(401)
}

// Inviting an account again replaces its pending invitation, and says so: the old link
// stops working.
func TestReinvitingSaysTheOldLinkDies(t *testing.T) {
	env := apitest.New(t)
	alice, carol := env.Login("alice"), env.Login("carol")
	org := newTeamOrg(t, alice, "Acme Robots")
	path := "/organizations/" + org.ID.String() + "/invitations"
	var first, second createdInvitationJSON
	alice.Do("POST", path, map[string]any{"github_login": "carol", "role": "viewer"}).Expect(201).JSON(&first)
	if first.ReplacedInvitation {
		t.Fatal("a first invitation says it replaced one")
	}
	alice.Do("POST", path, map[string]any{"github_login": "carol", "role": "member"}).Expect(201).JSON(&second)
	if !second.ReplacedInvitation {
		t.Fatal("the second invitation does not say it replaced the first")
	}
	lookup(carol, first.Token).Problem(404)
	carol.Do("POST", "/invitations/accept", map[string]any{"token": first.Token}).Problem(409) // accept says it was revoked
	var p invitationPreviewJSON
	lookup(carol, second.Token).Expect(200).JSON(&p)
	if p.Role != "member" {
		t.Fatalf("the new invitation: %+v", p)
	}
}

// Looking up shares accept's budget per address: it is guessing tokens all the same.
func TestInvitationLookupIsRateLimitedWithAccept(t *testing.T) {
	env := apitest.New(t, withRateLimits(config.RateLimits{SignIn: config.Rate{N: 3, Per: time.Minute}}))
	bob := env.Login("bob")
	lookup(bob, "inv_guess-0000000000000000000000000001").Problem(404)
	bob.Do("POST", "/invitations/accept", map[string]any{"token": "inv_guess-0000000000000000000000000002"}).Problem(404)
	lookup(bob, "inv_guess-0000000000000000000000000003").Problem(404)
	r := lookup(bob, "inv_guess-0000000000000000000000000004")
	r.Problem(429)
	if r.Header.Get("Retry-After") == "" {
		t.Fatalf("429 without Retry-After: %v", r.Header)
	}
}
