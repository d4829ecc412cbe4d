// Command fakegithub serves the local stand-in for GitHub that `make dev` signs in
// against: `go run ./app/fakegithub -addr 127.0.0.1:8081`.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/miyabi/miyabi/app/internal/config"
	"github.com/miyabi/miyabi/app/internal/fakegithub"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address (loopback only)")
	clientID := flag.String("client-id", envOr("GITHUB_CLIENT_ID", config.DevGitHubClientID), "OAuth client id to accept")
	secret := flag.String("client-secret", envOr("GITHUB_CLIENT_SECRET", config.DevGitHubClientSecret), "OAuth client secret to accept")
	flag.Parse()
	srv := &http.Server{Addr: *addr, Handler: fakegithub.New(*clientID, *secret), ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(os.Stderr, "fake GitHub on http://%s\n", *addr)
	log.Fatal(srv.ListenAndServe())
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
