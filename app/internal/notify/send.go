package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/store"
)

// KeepResponse is how much of a receiver's answer the delivery log keeps.
const KeepResponse = 1024

// lineTextLimit is LINE's limit on a text message (characters).
const lineTextLimit = 5000

// CheckURL refuses a receiver URL Miyabi will not call: not http(s), no host, or (outside
// development) not https or a literal private address. Names are checked again at dial
// time, where DNS rebinding cannot slip past.
func CheckURL(raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("must be an absolute https:// URL")
	}
	if u.User != nil {
		return errors.New("must not carry a user or password")
	}
	if allowPrivate {
		return nil
	}
	if u.Scheme != "https" {
		return errors.New("must be https://")
	}
	if a, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil && blocked(a) {
		return ErrBlockedAddress
	}
	if h := strings.ToLower(u.Hostname()); h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return ErrBlockedAddress
	}
	return nil
}

// request builds the HTTP request of one attempt for the channel's kind.
func (n *Notifier) request(ctx context.Context, c store.ClaimedNotification, secret string, m Message) (*http.Request, error) {
	var (
		target string
		body   []byte
		err    error
		header = http.Header{}
	)
	header.Set("Content-Type", "application/json")
	header.Set("User-Agent", "Miyabi-Notifications/1")
	switch c.Kind {
	case domain.ChannelWebhook:
		target = c.Target
		ts := strconv.FormatInt(n.now().Unix(), 10)
		body, err = json.Marshal(struct {
			ID             string          `json:"id"`
			Type           string          `json:"type"`
			Timestamp      string          `json:"timestamp"`
			OrganizationID string          `json:"organization_id"`
			Text           string          `json:"text"`
			URL            string          `json:"url"`
			Data           json.RawMessage `json:"data"`
		}{c.ID.String(), c.EventType, ts, c.OrgID.String(), m.Text, m.URL, c.Payload})
		header.Set(HeaderEvent, c.EventType)
		header.Set(HeaderDelivery, c.ID.String())
		header.Set(HeaderTimestamp, ts)
		header.Set(HeaderSignature, Sign(secret, body))
	case domain.ChannelSlack:
		target = secret
		text := slackEscape(m.Text)
		if m.URL != "" {
			text += "\n<" + m.URL + "|" + openLabel(c.Language) + ">"
		}
		body, err = json.Marshal(map[string]string{"text": text})
	case domain.ChannelLINE:
		target = n.lineAPI + "/v2/bot/message/push"
		text := m.Text
		if m.URL != "" {
			text += "\n" + m.URL
		}
		if utf8.RuneCountInString(text) > lineTextLimit {
			text = string([]rune(text)[:lineTextLimit])
		}
		body, err = json.Marshal(map[string]any{"to": c.Target, "messages": []map[string]string{{"type": "text", "text": text}}})
		header.Set("Authorization", "Bearer "+secret)
		// LINE accepts a retried push once per retry key (409 with the accepted id after).
		header.Set("X-Line-Retry-Key", c.ID.String())
	default:
		return nil, fmt.Errorf("unknown channel kind %q", c.Kind)
	}
	if err != nil {
		return nil, err
	}
	if c.Kind != domain.ChannelLINE {
		if err := CheckURL(target, n.allowPrivate); err != nil {
			return nil, fmt.Errorf("%w (%s)", errRefusedURL, err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, errRefusedURL // the error would quote the URL, a secret for Slack
	}
	req.Header = header
	return req, nil
}

var errRefusedURL = errors.New("the receiver URL is refused")

func openLabel(lang string) string {
	if lang == "ja" {
		return "Miyabi で開く"
	}
	return "Open in Miyabi"
}

// slackEscape escapes the three characters Slack's mrkdwn reserves.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// attempt sends one delivery and says what came of it.
func (n *Notifier) attempt(ctx context.Context, c store.ClaimedNotification) store.DeliveryOutcome {
	secret, err := n.sealer.Open(c.SecretSealed, c.ChannelID[:])
	if err != nil {
		return failed("the channel's secret cannot be read", "the channel's secret cannot be read; enter it again", nil, "")
	}
	m, err := Render(c.EventType, c.Payload, c.Language, n.publicURL)
	if err != nil {
		return failed(err.Error(), "", nil, "")
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := n.request(ctx, c, string(secret), m)
	if err != nil {
		return failed(err.Error(), err.Error(), nil, "")
	}
	resp, err := n.http.Do(req)
	if err != nil {
		if errors.Is(err, ErrBlockedAddress) {
			msg := "refused: the receiver resolves to a private, loopback or link-local address"
			return failed(msg, msg, nil, "")
		}
		return n.retry(c, describe(err), nil, "", 0)
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, KeepResponse))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	resp.Body.Close()
	body := keepBody(raw)
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return store.DeliveryOutcome{Status: "delivered", ResponseCode: &code, ResponseBody: body}
	case c.Kind == domain.ChannelLINE && code == http.StatusConflict && resp.Header.Get("X-Line-Accepted-Request-Id") != "":
		// an earlier attempt with this retry key got through
		return store.DeliveryOutcome{Status: "delivered", ResponseCode: &code, ResponseBody: body}
	case code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500:
		return n.retry(c, fmt.Sprintf("the receiver answered %d", code), &code, body, retryAfter(resp.Header.Get("Retry-After"), n.now()))
	case code >= 300 && code < 400:
		msg := fmt.Sprintf("the receiver answered %d (a redirect, which Miyabi does not follow); use the final URL", code)
		return failed(msg, msg, &code, body)
	default:
		msg := fmt.Sprintf("the receiver refused the message with %d", code)
		if short := strings.TrimSpace(body); short != "" {
			msg += ": " + cut(short, 200)
		}
		return failed(msg, msg, &code, body)
	}
}

func failed(errText, channelFailure string, code *int, body string) store.DeliveryOutcome {
	return store.DeliveryOutcome{Status: "failed", Error: errText, ChannelFailure: channelFailure, ResponseCode: code, ResponseBody: body}
}

// retry schedules the next attempt, or gives up once the delivery is older than the
// retry window, marking the channel failing.
func (n *Notifier) retry(c store.ClaimedNotification, why string, code *int, body string, after time.Duration) store.DeliveryOutcome {
	wait := n.backoff(c.Attempts)
	if after > wait {
		wait = after
	}
	if n.now().Add(wait).Sub(c.CreatedAt) > n.giveUpAfter {
		msg := fmt.Sprintf("gave up after %d attempts over %s: %s", c.Attempts, n.giveUpAfter, why)
		return failed(msg, msg, code, body)
	}
	return store.DeliveryOutcome{Status: "pending", RetryIn: wait, Error: why, ResponseCode: code, ResponseBody: body}
}

// describe names a transport failure without the URL (a Slack URL is a secret).
func describe(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout"):
		return "no answer within 5 s"
	default:
		return "connection failed: " + cut(err.Error(), 200)
	}
}

// retryAfter reads a Retry-After header (seconds or an HTTP date), capped at an hour.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(strings.TrimSpace(h)); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), time.Hour)
}

// keepBody keeps at most KeepResponse bytes of valid UTF-8.
func keepBody(raw []byte) string {
	return strings.ReplaceAll(strings.ToValidUTF8(string(raw), ""), "\x00", "")
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
