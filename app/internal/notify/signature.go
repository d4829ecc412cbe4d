package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Webhook headers: the signature of the raw body, when it was sent, and the delivery id
// (the same on every retry, for idempotency on the receiver's side).
const (
	HeaderSignature = "X-Miyabi-Signature-256"
	HeaderTimestamp = "X-Miyabi-Timestamp"
	HeaderDelivery  = "X-Miyabi-Delivery"
	HeaderEvent     = "X-Miyabi-Event"
)

// Sign returns the X-Miyabi-Signature-256 value of body: sha256=<hex HMAC-SHA256>.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a signature header against the raw body in constant time.
func Verify(secret string, body []byte, header string) bool {
	if !strings.HasPrefix(header, "sha256=") {
		return false
	}
	return hmac.Equal([]byte(Sign(secret, body)), []byte(header))
}
