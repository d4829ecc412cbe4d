package config_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miyabi/miyabi/app/internal/config"
)

const (
	proxyARN  = "arn:aws:secretsmanager:eu-west-1:1:secret:miyabi/production/rds-proxy"
	proxyHost = "miyabi-production-db-proxy.proxy-cxyz.eu-west-1.rds.amazonaws.com"
)

// The roots each endpoint chains to, by SHA-256 of the certificate (DER). The Amazon Root
// CAs are those of Mozilla's store (ca-certificates: Amazon_Root_CA_{1,2,3,4}.crt); RDS
// Proxy's certificates come from ACM and chain to them. An RDS instance's chain to its
// region's RDS root (us-west-2 here, where the stacks run).
var wantRoots = map[string]string{
	"Amazon Root CA 1": "8ecde6884f3d87b1125ba31ac3fcb13d7016de7f57cc904fe1cb97c6ae98196e",
	"Amazon Root CA 2": "1ba5b2aa8c65401a82960118f80bec4f62304d83cec4713a19c39c011ea46db4",
	"Amazon Root CA 3": "18ce6cfe7bf14e60b2e347b8dfe868cb31d02ebb3ada271569f50343b46db3a4",
	"Amazon Root CA 4": "e35d28419ed02025cfa69038cd623962458da5c695fbdea3c22b0bfb25897092",
}

func bundleCerts(t *testing.T) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for rest := config.RDSCABundle; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return out
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
}

// With RDS Proxy the API connects to the proxy's endpoint as miyabi_proxy, verify-full:
// the pool's TLS configuration checks the proxy's name, and its root set (the embedded
// bundle, from sslrootcert) holds both the RDS roots and the Amazon Root CAs, so the same
// binary verifies an instance and a proxy.
func TestAPIPoolTrustsTheInstanceAndTheProxy(t *testing.T) {
	_, aws := fake(t, goodSecrets)
	res, err := config.ResolveLambdaEnv(context.Background(), lambdaEnv(map[string]string{"DB_HOST": proxyHost, "DB_APP_USER": "miyabi_proxy"}), aws)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(res.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg := pc.ConnConfig.TLSConfig
	if tlsCfg == nil || tlsCfg.InsecureSkipVerify || tlsCfg.ServerName != proxyHost || len(pc.ConnConfig.Fallbacks) != 0 {
		t.Fatalf("TLS %+v, fallbacks %d: want the proxy's name verified, no plain fallback", tlsCfg, len(pc.ConnConfig.Fallbacks))
	}
	if pc.ConnConfig.User != "miyabi_proxy" || pc.ConnConfig.Host != proxyHost || pc.ConnConfig.Password != "" {
		t.Fatalf("connects as %s@%s (password set: %v)", pc.ConnConfig.User, pc.ConnConfig.Host, pc.ConnConfig.Password != "")
	}
	roots := tlsCfg.RootCAs
	verify := func(c *x509.Certificate) error {
		_, err := c.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: c.NotBefore.Add(time.Hour)})
		return err
	}
	found := map[string]bool{}
	rds := 0
	for _, c := range bundleCerts(t) {
		sum := sha256.Sum256(c.Raw)
		fp := hex.EncodeToString(sum[:])
		for name, want := range wantRoots {
			if fp == want {
				if c.Subject.CommonName != name {
					t.Errorf("%s: the certificate with its fingerprint is %s", name, c.Subject)
				}
				found[name] = true
			}
		}
		if strings.HasPrefix(c.Subject.CommonName, "Amazon RDS us-west-2 Root CA") {
			rds++
		}
		if err := verify(c); err != nil {
			t.Errorf("%s is in the bundle but not trusted by the pool: %v", c.Subject.CommonName, err)
		}
	}
	for name := range wantRoots {
		if !found[name] {
			t.Errorf("the embedded bundle lacks %s (RDS Proxy's certificates chain to it)", name)
		}
	}
	if rds < 3 {
		t.Errorf("%d us-west-2 RDS roots in the bundle, want RSA2048, RSA4096 and ECC384", rds)
	}
	// The check can fail: a CA of no one's is not trusted.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Not Amazon Root CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	stranger, _ := x509.ParseCertificate(der)
	if verify(stranger) == nil {
		t.Fatal("the pool trusts a CA that is not in the bundle")
	}

	// Its IAM token is for the proxy's endpoint and the proxy's user (rds-db:connect on
	// dbuser:prx-.../miyabi_proxy).
	tok, err := res.Password(context.Background(), pc.ConnConfig.Host, pc.ConnConfig.Port, pc.ConnConfig.User)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse("https://" + tok)
	if err != nil || u.Host != proxyHost+":5432" || u.Query().Get("DBUser") != "miyabi_proxy" || u.Query().Get("Action") != "connect" {
		t.Fatalf("token %s (%v)", tok, err)
	}
}

// The migrate function of a stack with a proxy reads the proxy's login on each run, never
// at init; only the migrate function (which has the master secret) may have it.
func TestProxyLoginIsReadOnEveryRun(t *testing.T) {
	secrets := map[string]string{dbARN: goodSecrets[dbARN], appARN: goodSecrets[appARN],
		proxyARN: `{"username":"miyabi_proxy","password":"first-proxy-password-of-32-characters"}`}
	f, aws := fake(t, secrets)
	res, err := config.ResolveLambdaEnv(context.Background(), lambdaEnv(map[string]string{"DB_SECRET_ARN": dbARN, "DB_PROXY_SECRET_ARN": proxyARN}), aws)
	if err != nil {
		t.Fatal(err)
	}
	if res.ProxyLogin == nil || f.Reads(proxyARN) != 0 {
		t.Fatalf("proxy login %v, read %d times at init", res.ProxyLogin != nil, f.Reads(proxyARN))
	}
	for i, want := range []string{"first-proxy-password-of-32-characters", "rotated-proxy-password-of-32-characters"} {
		if i == 1 {
			f.Set(proxyARN, `{"username":"miyabi_proxy","password":"rotated-proxy-password-of-32-characters"}`)
		}
		user, pw, err := res.ProxyLogin(context.Background())
		if err != nil || user != "miyabi_proxy" || pw != want {
			t.Fatalf("run %d: %q %q %v", i, user, pw, err)
		}
	}
	if f.Reads(proxyARN) != 2 {
		t.Fatalf("read %d times, want once per run", f.Reads(proxyARN))
	}
	for _, bad := range []string{`{"username":"miyabi_proxy"}`, `hunter2-not-json`} {
		f.Set(proxyARN, bad)
		if _, _, err := res.ProxyLogin(context.Background()); err == nil || !strings.Contains(err.Error(), "DB_PROXY_SECRET_ARN") || strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("%s: %v", bad, err)
		}
	}

	// the API function has no master secret, so no business with the proxy's login
	if _, err := config.ResolveLambdaEnv(context.Background(), lambdaEnv(map[string]string{"DB_PROXY_SECRET_ARN": proxyARN}), aws); err == nil ||
		!strings.Contains(err.Error(), "DB_PROXY_SECRET_ARN") {
		t.Fatalf("a proxy login without DB_SECRET_ARN: %v", err)
	}
	res, err = config.ResolveLambdaEnv(context.Background(), lambdaEnv(map[string]string{"DB_SECRET_ARN": dbARN}), aws)
	if err != nil || res.ProxyLogin != nil {
		t.Fatalf("without DB_PROXY_SECRET_ARN: proxy login %v, %v", res.ProxyLogin != nil, err)
	}
}

// DB_PROXY_RETIRING is the migrate function's, on the deploy that removes the proxy: a
// boolean, with the master secret, never beside the proxy's login.
func TestProxyRetiring(t *testing.T) {
	_, aws := fake(t, map[string]string{dbARN: goodSecrets[dbARN], appARN: goodSecrets[appARN]})
	resolve := func(env map[string]string) (config.LambdaEnv, error) {
		return config.ResolveLambdaEnv(context.Background(), lambdaEnv(env), aws)
	}
	res, err := resolve(map[string]string{"DB_SECRET_ARN": dbARN, "DB_PROXY_RETIRING": "true"})
	if err != nil || !res.ProxyRetiring || res.ProxyLogin != nil {
		t.Fatalf("retiring: %+v %v", res.ProxyRetiring, err)
	}
	if res, err := resolve(map[string]string{"DB_SECRET_ARN": dbARN}); err != nil || res.ProxyRetiring {
		t.Fatalf("unset: retiring %v, %v", res.ProxyRetiring, err)
	}
	for msg, env := range map[string]map[string]string{
		"must be true or false":    {"DB_SECRET_ARN": dbARN, "DB_PROXY_RETIRING": "soon"},
		"without DB_SECRET_ARN":    {"DB_PROXY_RETIRING": "true"},
		"with DB_PROXY_SECRET_ARN": {"DB_SECRET_ARN": dbARN, "DB_PROXY_RETIRING": "true", "DB_PROXY_SECRET_ARN": proxyARN},
	} {
		if _, err := resolve(env); err == nil || !strings.Contains(err.Error(), "DB_PROXY_RETIRING") || !strings.Contains(err.Error(), msg) {
			t.Errorf("%v: %v, want an error that says %q", env, err, msg)
		}
	}
}
