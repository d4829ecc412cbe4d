package config

import (
	"crypto/x509"
	"encoding/pem"
	"regexp"
	"strconv"
	"strings"
)

// GitHubApp is the Miyabi GitHub App: how Miyabi reaches repositories (installation
// tokens minted with the App's JWT) and how GitHub tells Miyabi what happened (signed
// webhooks). The zero value (ID 0) means no App: repository connections then look
// repositories up with the person's sign-in token and the webhook route answers 503.
type GitHubApp struct {
	ID            int64
	Slug          string // github.com/apps/<slug>: the install link
	PrivateKeyPEM []byte // RSA, PKCS#1 or PKCS#8 PEM
	WebhookSecret []byte
}

// Enabled reports whether an App is configured.
func (a GitHubApp) Enabled() bool { return a.ID > 0 }

// InstallURL is where a person installs the App on their repositories.
func (a GitHubApp) InstallURL(oauthURL string) string {
	return strings.TrimRight(oauthURL, "/") + "/apps/" + a.Slug + "/installations/new"
}

// Development defaults for the App: the fake GitHub `make dev` runs knows them.
const (
	DevGitHubAppID         = 424242
	DevGitHubAppSlug       = "miyabi-dev"
	DevGitHubWebhookSecret = "miyabi-development-webhook-secret-not-secret"
)

var appSlugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,99}$`)

// loadGitHubApp reads GITHUB_APP_ID, GITHUB_APP_SLUG, GITHUB_APP_PRIVATE_KEY (PEM, or
// the PEM with "\n" escapes as a one-line variable) and GITHUB_WEBHOOK_SECRET. Outside
// development the App is optional, but when GITHUB_APP_ID is set the others are required.
func loadGitHubApp(getenv func(string) string, dev bool, bad func(name, format string, args ...any)) GitHubApp {
	id, slug := getenv("GITHUB_APP_ID"), getenv("GITHUB_APP_SLUG")
	key := strings.ReplaceAll(getenv("GITHUB_APP_PRIVATE_KEY"), `\n`, "\n")
	secret := getenv("GITHUB_WEBHOOK_SECRET")
	if dev {
		if id == "" {
			id = strconv.Itoa(DevGitHubAppID)
		}
		slug = or(slug, DevGitHubAppSlug)
		key = or(key, DevGitHubAppPrivateKey)
		secret = or(secret, DevGitHubWebhookSecret)
	}
	if id == "" {
		for _, v := range []struct{ name, value string }{{"GITHUB_APP_SLUG", slug}, {"GITHUB_APP_PRIVATE_KEY", key}, {"GITHUB_WEBHOOK_SECRET", secret}} {
			if v.value != "" {
				bad(v.name, "is set but GITHUB_APP_ID is not; set both or neither")
			}
		}
		return GitHubApp{}
	}
	var app GitHubApp
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		bad("GITHUB_APP_ID", "must be the App's numeric id, not %q", id)
	}
	app.ID = n
	if !appSlugPattern.MatchString(slug) {
		bad("GITHUB_APP_SLUG", "must be the App's slug (lower-case letters, digits, dashes), required with GITHUB_APP_ID")
	}
	app.Slug = slug
	if key == "" {
		bad("GITHUB_APP_PRIVATE_KEY", "is required with GITHUB_APP_ID (the App's private key, PEM)")
	} else if !dev && key == DevGitHubAppPrivateKey {
		bad("GITHUB_APP_PRIVATE_KEY", "is the development default; use the App's own key")
	} else if err := checkRSAKey(key); err != nil {
		bad("GITHUB_APP_PRIVATE_KEY", "%v", err) // never the value: it is a secret
	}
	app.PrivateKeyPEM = []byte(key)
	switch {
	case secret == "":
		bad("GITHUB_WEBHOOK_SECRET", "is required with GITHUB_APP_ID")
	case dev:
	case secret == DevGitHubWebhookSecret:
		bad("GITHUB_WEBHOOK_SECRET", "is the development default; set a real secret")
	case len(secret) < 20:
		bad("GITHUB_WEBHOOK_SECRET", "must be at least 20 bytes")
	}
	app.WebhookSecret = []byte(secret)
	return app
}

func checkRSAKey(key string) error {
	block, _ := pem.Decode([]byte(key))
	if block == nil {
		return errString("is not a PEM block")
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return nil
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		return nil
	}
	return errString("is not an RSA private key (PKCS#1 or PKCS#8)")
}

type errString string

func (e errString) Error() string { return string(e) }

// DevGitHubAppPrivateKey is the development App's key; the fake GitHub checks App JWTs
// against it. Not a secret: refused outside development.
const DevGitHubAppPrivateKey = `-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEA3JfuEWwEpftpr389rrEIkaW4ENsWq7Q1dYMK1TstfDZAQV/7
dacmikuCbE1P3pOlo7tDgIWOHgiLqosQrSr0C9p0ubo01jI7GT6H1ZO+RMNpbq0r
oe9FJYcKxIJaQjTOowCGZIoLip641ZOOUKoCMLam7vKPkuCwmitnJ+f2X64323/U
J+d+CZeG8sQQgkzt8rmemwBzSny5EWzxDLRRg2ER4XhyrtigBnj/DrdMIj990noH
GpVMamj2IRwHBg505n9F3e2MPEoruyb+4ypNvSjEstj24/8gkL7ajrkbNFAC9MrK
pCg8pXuB2J4/prZNhZv3NZe2MjdaDtUy/ye8swIDAQABAoIBAGjBNWrMkwCHfc67
a/1TULBptBk9EW0ErQZa7oAIFDeSQ71H6VAbym+OICdyJ2WZU+WG/i1APxcAE+Mv
GwJBDZe7bAbu6Dx3qhz41uSTvp1E9wJ59eh2ia2ijXh4NoiOLzq0+x0veP+hFEFI
SyL/OP8NHgUG5ytmzDbKObh3rUYNwcPKnMWphpk5L145OTRr4KnyyCIM+jmlMqIJ
jjASb33H1+EAmOCUd/VJ5Q2yBpjSPSdFIL6sv49Z75ijv/VLZ0BDV6siSbkEG2I2
qBiRicno3PdsrlbWpChNgoivkQBTpZHDkQgq+ZkszDO7x552Z7/D1GEohlcz2KeL
T/5J8/ECgYEA+Nzgg6beXCoJW2if8kUpLvz3IY47sY+fzZnVZ1SjqWHLQmzT53hj
VJrjK+4k1K8pUjidZKZWUP8ehV83AxoqiKrMH5sq3JIk+lmR4NCu4VEeggYO9ANz
VK6/0okAkyPNSfR0ABMMFwLC1PI6K7WDu4o533F7H0YbBqrOzJlHUkcCgYEA4uuA
sZ1DiFfAPkQitT+/Gph8JEV3pZfLGcSEXsixOdKoLERz5eZHjipfiEbcsV4vvGj/
uasqN/Fj4glycWWWItrDa6Hh/HLvkxVUejkH3bX3nSOFiuJ6sfsFgZzogZ3OZl7x
DKNFsE2ZQiR+vAYj0/vIDq1A1gg1RGiVEfkErDUCgYASRcWGZR42ji+Zspjr5QAd
Hx3WLOddJjqJkh4FNEXADhoqimsUt9YzRBwiAZ5ar3HNQ7LqzPvRfqnzCQa1B5rP
5hqOx4niICju6Ny5MRlmGdqvmVpHuGkjcqFLCBwusZZFM9nAl6VvmxhLIm36/5zo
jEGrkl2D8lXRq4D7rNV7yQKBgDF+GAWlPVOBgCaUidVqX+4XEAyBMkVlxCCMoipi
L3VjItb03ypnfXfeehOpEP2Gg3bel9gRIxYsihKE6Pcepw5XFIRnPHjpQKOd5Vz7
D2ImDCmz066lEwm6rErGxFdw6dGeJ4kQG2UGp8SrXRD5bdsQcWPyGdAU3jlbbhgL
bh95AoGBALqZ6DNtJ79JPneV9VX67hfucC+bBWp5+3vAwnQ2guzajM7jTSPnmzXT
D0+dcLWnpdz+6iuNTWQW1ZIDFNmHFct2ScZ/Xf0JJgC/LB+iipZAPXLB4bQcUN3P
7Z0+OtXLf0ANIOHngPzwhtA1zZ7VjuONf2/zIQC2yfzBbSSSPdBQ
-----END RSA PRIVATE KEY-----
`
