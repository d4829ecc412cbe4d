package httpapi

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/miyabi/miyabi/app/internal/store"
)

// idempotencyKey builds the key of a request that carries an Idempotency-Key header (nil
// without one). The request is fingerprinted by the SHA-256 of its decoded body
// re-encoded, so field order and whitespace do not make two equal requests differ.
func idempotencyKey(p *Principal, route, key string, body any) (*store.IdempotencyKey, error) {
	if key == "" {
		return nil, nil
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("fingerprint request: %w", err)
	}
	sum := sha256.Sum256(raw)
	return &store.IdempotencyKey{OrgID: p.OrgID, UserID: p.UserID, Route: route, Key: key, RequestHash: sum[:]}, nil
}

// replayedHeader is the Idempotent-Replayed header: "true" on a replayed answer, else absent.
func replayedHeader(replayed bool) string {
	if replayed {
		return "true"
	}
	return ""
}
