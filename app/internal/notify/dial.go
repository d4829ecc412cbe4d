package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Timeout bounds one delivery attempt: connect, TLS, request and answer.
const Timeout = 5 * time.Second

// ErrBlockedAddress is a receiver that resolves to an address Miyabi never calls in
// production: loopback, private, link-local (cloud metadata), CGNAT, multicast or
// unspecified.
var ErrBlockedAddress = errors.New("the address is private, loopback or link-local")

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

func blocked(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || cgnat.Contains(a) ||
		a == netip.MustParseAddr("255.255.255.255")
}

// newHTTPClient is the one client deliveries go through. Without allowPrivate, the
// address is checked when the socket is about to connect, after DNS resolution: a name
// that resolved to a public address at creation and to 127.0.0.1 now (DNS rebinding) is
// still refused. Redirects are never followed; proxies from the environment are ignored
// (they would hide the real destination from the check).
func newHTTPClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: Timeout}
	if !allowPrivate {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrBlockedAddress, address)
			}
			if blocked(ap.Addr()) {
				return fmt.Errorf("%w: %s", ErrBlockedAddress, ap.Addr())
			}
			return nil
		}
	}
	transport := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
		TLSHandshakeTimeout:   Timeout,
		ResponseHeaderTimeout: Timeout,
		MaxIdleConns:          128,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       60 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: transport, Timeout: Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
