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
	webhookURL := flag.String("webhook-url", "http://127.0.0.1:8080/api/v1/github/webhook", "where the fake sends the GitHub App's signed webhooks")
	webhookSecret := flag.String("webhook-secret", envOr("GITHUB_WEBHOOK_SECRET", config.DevGitHubWebhookSecret), "the App's webhook secret")
	flag.Parse()
	fake := fakegithub.New(*clientID, *secret)
	// the development App: its JWTs are checked against the development key
	if err := fake.ConfigureApp(config.DevGitHubAppID, []byte(config.DevGitHubAppPrivateKey), *webhookURL, []byte(*webhookSecret)); err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: *addr, Handler: fake, ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(os.Stderr, "fake GitHub on http://%s (repositories and issues: http://%s/_fake/; webhooks to %s)\n", *addr, *addr, *webhookURL)
	log.Fatal(srv.ListenAndServe())
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
