package notify

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// The check runs on the socket, after DNS: a name that resolves to loopback is refused
// however it is spelled, while the development client reaches it.
func TestProductionClientRefusesPrivateAddressesAtDialTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	byName := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	for _, u := range []string{srv.URL, byName} {
		_, err := newHTTPClient(false).Post(u, "application/json", nil)
		if !errors.Is(err, ErrBlockedAddress) {
			t.Fatalf("%s: %v, want ErrBlockedAddress", u, err)
		}
		resp, err := newHTTPClient(true).Post(u, "application/json", nil)
		if err != nil {
			t.Fatalf("development client: %v", err)
		}
		resp.Body.Close()
	}
}

func TestBlockedAddresses(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1": true, "10.1.2.3": true, "172.16.0.1": true, "192.168.1.1": true, "169.254.169.254": true,
		"100.64.0.1": true, "0.0.0.0": true, "::1": true, "fe80::1": true, "fd00::1": true, "::ffff:127.0.0.1": true,
		"224.0.0.1": true, "8.8.8.8": false, "2606:4700::1111": false, "52.95.110.1": false,
	} {
		if got := blocked(netip.MustParseAddr(addr)); got != want {
			t.Errorf("%s: blocked %v, want %v", addr, got, want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://hooks.example.com/x": true, "http://hooks.example.com/x": false, "https://127.0.0.1/x": false,
		"https://[::1]/x": false, "https://localhost:8443/": false, "https://10.0.0.1/": false, "ftp://example.com": false,
		"https://u:p@example.com/": false, "/relative": false,
	} {
		if err := CheckURL(raw, false); (err == nil) != ok {
			t.Errorf("%s: %v", raw, err)
		}
	}
	if err := CheckURL("http://127.0.0.1:8082/webhook", true); err != nil {
		t.Errorf("development: %v", err)
	}
}
