// Package devid is the identities of development sign-in, shared by the production code
// that signs people in without GitHub (the dev login, the demo seed) and by the local
// GitHub stand-in that must recognise them. Production code imports this, never the fake.
package devid

import (
	"hash/fnv"
	"strings"
)

// TokenPrefix marks the GitHub tokens of development identities.
const TokenPrefix = "gho_fake_"

// TokenFor is the GitHub token a development identity holds (the fake GitHub accepts it,
// so repository lookups work for dev users).
func TokenFor(login string) string { return TokenPrefix + strings.ToLower(login) }

// UserID is the numeric GitHub id of a development identity (stable across runs).
func UserID(login string) int64 {
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(login)))
	return 1_000_000 + int64(h.Sum32()%900_000_000)
}

// InstallationID is the id of the development GitHub App's installation on an account
// (stable across runs, so the demo seed can connect a repository through it).
func InstallationID(account string) int64 {
	h := fnv.New32a()
	h.Write([]byte("installation:" + strings.ToLower(account)))
	return 10_000 + int64(h.Sum32()%90_000_000)
}
