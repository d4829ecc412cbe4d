package httpapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

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

type invitationListJSON struct {
	Items []struct {
		ID          uuid.UUID  `json:"id"`
		GitHubLogin string     `json:"github_login"`
		InvitedBy   *uuid.UUID `json:"invited_by"`
		Inviter     *struct {
			ID    uuid.UUID `json:"id"`
			Login string    `json:"login"`
		} `json:"inviter"`
	} `json:"items"`
	Total, Page, Limit int
}

func (l invitationListJSON) logins() string {
	out := make([]string, len(l.Items))
	for i, it := range l.Items {
		out[i] = it.GitHubLogin
		if it.Inviter != nil {
			out[i] += "<" + it.Inviter.Login
		}
	}
	return strings.Join(out, ",")
}

// An invitation names who made it, by id and login, read with it: an inviter who has
// since left the organization (and is in no member list) is named all the same. Another
// organization's invitations, even for the same login, never appear.
func TestInvitationsNameTheirInviter(t *testing.T) {
	env := apitest.New(t)
	alice, bob, carol := env.Login("alice"), env.Login("bob"), env.Login("carol")
	org := newTeamOrg(t, alice, "Named")
	o := "/organizations/" + org.ID.String()
	invite(t, alice, carol, org.ID, "admin")
	switchTo(t, carol, org.ID)

	var created struct {
		Invitation struct {
			InvitedBy *uuid.UUID `json:"invited_by"`
			Inviter   *struct {
				ID    uuid.UUID `json:"id"`
				Login string    `json:"login"`
			} `json:"inviter"`
		} `json:"invitation"`
	}
	carol.Do("POST", o+"/invitations", map[string]any{"github_login": "erin", "role": "member"}).Expect(201).JSON(&created)
	if c := created.Invitation; c.InvitedBy == nil || *c.InvitedBy != carol.UserID || c.Inviter == nil ||
		c.Inviter.ID != carol.UserID || c.Inviter.Login != "carol" {
		t.Fatalf("the created invitation names %+v", c)
	}
	alice.Do("POST", o+"/invitations", map[string]any{"github_login": "dave", "role": "viewer"}).Expect(201)

	// bob's organization invites erin too, and frank
	other := newTeamOrg(t, bob, "Elsewhere")
	for _, login := range []string{"erin", "frank"} {
		bob.Do("POST", "/organizations/"+other.ID.String()+"/invitations", map[string]any{"github_login": login, "role": "member"}).Expect(201)
	}

	// carol leaves: her invitation still names her
	alice.Do("DELETE", o+"/members/"+carol.UserID.String(), nil).Expect(204)
	var l invitationListJSON
	alice.Do("GET", o+"/invitations", nil).Expect(200).JSON(&l)
	if l.Total != 2 || l.logins() != "dave<alice,erin<carol" {
		t.Fatalf("alice's invitations: total %d, %s", l.Total, l.logins())
	}
	for _, it := range l.Items {
		if it.InvitedBy == nil || it.Inviter == nil || *it.InvitedBy != it.Inviter.ID {
			t.Fatalf("invited_by and inviter disagree: %+v", it)
		}
	}
	if l.Items[0].Inviter.ID != alice.UserID || l.Items[1].Inviter.ID != carol.UserID {
		t.Fatalf("inviters: %+v", l.Items)
	}

	// the login filter and paging stay within the organization
	alice.Do("GET", o+"/invitations?github_login=ERIN", nil).Expect(200).JSON(&l)
	if l.Total != 1 || l.logins() != "erin<carol" {
		t.Fatalf("erin in alice's: total %d, %s", l.Total, l.logins())
	}
	alice.Do("GET", o+"/invitations?github_login=frank", nil).Expect(200).JSON(&l)
	if l.Total != 0 || len(l.Items) != 0 {
		t.Fatalf("bob's frank in alice's: %+v", l)
	}
	alice.Do("GET", o+"/invitations?limit=1&page=2", nil).Expect(200).JSON(&l)
	if l.Total != 2 || l.logins() != "erin<carol" {
		t.Fatalf("page 2: total %d, %s", l.Total, l.logins())
	}
	alice.Do("GET", o+"/invitations?limit=1&page=5", nil).Expect(200).JSON(&l)
	if l.Total != 2 || len(l.Items) != 0 {
		t.Fatalf("past the end: %+v", l)
	}
	// text that is no login (not UTF-8) finds nothing rather than failing
	alice.Do("GET", o+"/invitations?github_login=%FF", nil).Expect(200).JSON(&l)
	if l.Total != 0 || len(l.Items) != 0 {
		t.Fatalf("not UTF-8: %+v", l)
	}

	// and bob sees his own only, and none of alice's
	bob.Do("GET", "/organizations/"+other.ID.String()+"/invitations", nil).Expect(200).JSON(&l)
	if l.Total != 2 || l.logins() != "frank<bob,erin<bob" {
		t.Fatalf("bob's invitations: total %d, %s", l.Total, l.logins())
	}
	bob.Do("GET", o+"/invitations", nil).Problem(404)
	bob.Do("GET", o+"/invitations?github_login=erin", nil).Problem(404)
}
