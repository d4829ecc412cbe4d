// Command notifysink is the local receiver of notifications `make dev` runs: LINE's push
// endpoint and Slack incoming webhooks (the fakes, with their real answers) and a
// webhook sink, printing one line per delivery. Point a webhook channel at
// http://127.0.0.1:8082/webhook/<anything>, a Slack channel at
// http://127.0.0.1:8082/services/<anything>; LINE_API_URL points the API at it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/miyabi/miyabi/app/internal/fakechat"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "listen address")
	lineToken := flag.String("line-token", "dev-line-token", "the LINE channel access token the fake accepts")
	flag.Parse()
	fake := fakechat.New(*lineToken)
	fake.OnReceive = func(r fakechat.Received) {
		text := r.Text
		if r.Kind == "webhook" {
			text = fmt.Sprintf("%s delivery %s (signed %s) %s", r.Header.Get("X-Miyabi-Event"), r.Header.Get("X-Miyabi-Delivery"),
				short(r.Header.Get("X-Miyabi-Signature-256")), r.Body)
		}
		fmt.Printf("[notify] %s %-7s %s -> %d  %s\n", time.Now().Format("15:04:05"), r.Kind, r.Path, r.Status, strings.ReplaceAll(text, "\n", " | "))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Addr: *addr, Handler: fake, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Printf("[notify] sink on http://%s (webhooks: /webhook/..., Slack: /services/..., LINE: /v2/bot/message/push with token %q)\n", *addr, *lineToken)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "notifysink:", err)
		os.Exit(1)
	}
}

func short(sig string) string {
	if len(sig) > 19 {
		return sig[:19] + "…"
	}
	return sig
}
