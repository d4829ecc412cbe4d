package auth

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Sealer encrypts secrets at rest (GitHub tokens) with AES-256-GCM. A sealed value
// names its key, so the key can rotate: values sealed with the previous key still open,
// and ResealIfStale turns them into values sealed with the current one.
//
// Layout: "mk1" | key id (8 bytes, the start of SHA-256 of the key) | nonce | ciphertext.
// Values sealed before keys were versioned are nonce | ciphertext; they open with
// whichever key made them.
type Sealer struct {
	current sealKey
	keys    []sealKey // current first
}

type sealKey struct {
	id   []byte
	aead cipher.AEAD
}

// sealMagic starts every versioned value. A legacy value starts with a random nonce, so
// it takes this form by chance with probability 2^-88, and even then the key id must
// match one of ours and the GCM tag must verify.
var sealMagic = []byte("mk1")

const sealKeyIDLen = 8

// NewSealer takes the 32-byte TOKEN_ENCRYPTION_KEY and, during a rotation, the previous
// keys (TOKEN_ENCRYPTION_KEY_PREVIOUS) that values may still be sealed with.
func NewSealer(current []byte, previous ...[]byte) (*Sealer, error) {
	s := &Sealer{}
	for i, key := range append([][]byte{current}, previous...) {
		if i > 0 && len(key) == 0 {
			continue
		}
		k, err := newSealKey(key)
		if err != nil {
			if i > 0 {
				return nil, fmt.Errorf("previous %w", err)
			}
			return nil, err
		}
		s.keys = append(s.keys, k)
	}
	s.current = s.keys[0]
	return s, nil
}

func newSealKey(key []byte) (sealKey, error) {
	if len(key) != 32 {
		return sealKey{}, fmt.Errorf("token encryption key: want 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return sealKey{}, fmt.Errorf("token encryption key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return sealKey{}, fmt.Errorf("token encryption key: %w", err)
	}
	return sealKey{id: KeyID(key)[:sealKeyIDLen], aead: aead}, nil
}

// KeyID names a key without revealing it: the first bytes of its SHA-256, in a domain
// of its own so the id of a key is never a hash someone else publishes.
func KeyID(key []byte) []byte {
	h := sha256.New()
	h.Write([]byte("miyabi key id\x00"))
	h.Write(key)
	return h.Sum(nil)
}

// Seal encrypts plaintext with the current key; additional binds it to its owner (the
// user id).
func (s *Sealer) Seal(plaintext, additional []byte) []byte {
	k := s.current
	n := k.aead.NonceSize()
	out := make([]byte, 0, len(sealMagic)+sealKeyIDLen+n+len(plaintext)+k.aead.Overhead())
	out = append(append(out, sealMagic...), k.id...)
	nonce := make([]byte, n)
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plaintext, additional)
}

// Open decrypts what Seal produced (with this key or a previous one) with the same
// additional data.
func (s *Sealer) Open(sealed, additional []byte) ([]byte, error) {
	plain, _, err := s.open(sealed, additional)
	return plain, err
}

// ResealIfStale opens sealed and, when it was not sealed with the current key (a
// previous key, or the unversioned form), returns it sealed again with the current key
// so the caller can store that instead. fresh is nil when sealed is already current.
func (s *Sealer) ResealIfStale(sealed, additional []byte) (plain, fresh []byte, err error) {
	plain, current, err := s.open(sealed, additional)
	if err != nil {
		return nil, nil, err
	}
	if !current {
		fresh = s.Seal(plain, additional)
	}
	return plain, fresh, nil
}

// ErrSealedUnreadable means no configured key opens the value.
var ErrSealedUnreadable = errors.New("sealed value cannot be opened with any configured key")

func (s *Sealer) open(sealed, additional []byte) (plain []byte, current bool, err error) {
	if bytes.HasPrefix(sealed, sealMagic) && len(sealed) >= len(sealMagic)+sealKeyIDLen {
		id := sealed[len(sealMagic) : len(sealMagic)+sealKeyIDLen]
		for i, k := range s.keys {
			if !bytes.Equal(id, k.id) {
				continue
			}
			body := sealed[len(sealMagic)+sealKeyIDLen:]
			if p, err := openWith(k.aead, body, additional); err == nil {
				return p, i == 0, nil
			}
		}
	}
	// The unversioned form: try every key; GCM's tag tells the right one.
	for _, k := range s.keys {
		if p, err := openWith(k.aead, sealed, additional); err == nil {
			return p, false, nil
		}
	}
	if len(sealed) < 12+16 {
		return nil, false, errors.New("sealed value too short")
	}
	return nil, false, ErrSealedUnreadable
}

func openWith(aead cipher.AEAD, body, additional []byte) ([]byte, error) {
	n := aead.NonceSize()
	if len(body) < n+aead.Overhead() {
		return nil, errors.New("sealed value too short")
	}
	return aead.Open(nil, body[:n], body[n:], additional)
}
