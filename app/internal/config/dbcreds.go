package config

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/credentials"
	rdsauth "github.com/aws/aws-sdk-go-v2/feature/rds/auth"
)

// Database credentials on AWS. The API connects as the least-privilege role (DB_APP_USER,
// miyabi_app) with a password asked for each new connection: an RDS IAM token built
// locally from the function's role (DB_APP_AUTH=iam, the default), or the current value
// of a Secrets Manager secret (DB_APP_AUTH=secret, for a database without IAM
// authentication). Only the migrate action uses the RDS-managed master secret
// (DB_SECRET_ARN), read afresh on every run, so RDS's weekly rotation of it never
// reaches a warm environment; with RDS Proxy it also reads the proxy's login
// (DB_PROXY_SECRET_ARN), afresh too, and sets that user's password from it.

// PasswordFunc returns the password for one new connection (store.PasswordFunc).
type PasswordFunc func(ctx context.Context, host string, port uint16, user string) (string, error)

// RDSIAMToken builds an RDS IAM authentication token: a SigV4-presigned URL for
// rds-db:connect, made locally (no network call) from the role credentials Lambda puts
// in the environment. RDS accepts it for 15 minutes, and only when a connection opens.
func RDSIAMToken(getenv func(string) string) PasswordFunc {
	return func(ctx context.Context, host string, port uint16, user string) (string, error) {
		region := or(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"))
		if region == "" {
			return "", errors.New("RDS IAM token: AWS_REGION is not set")
		}
		if getenv("AWS_ACCESS_KEY_ID") == "" {
			return "", errors.New("RDS IAM token: the function has no role credentials (AWS_ACCESS_KEY_ID)")
		}
		creds := credentials.NewStaticCredentialsProvider(getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"), getenv("AWS_SESSION_TOKEN"))
		tok, err := rdsauth.BuildAuthToken(ctx, net.JoinHostPort(host, strconv.Itoa(int(port))), region, user, creds)
		if err != nil {
			return "", fmt.Errorf("RDS IAM token for %s: %w", user, err)
		}
		return tok, nil
	}
}

// SecretPassword reads the password from a Secrets Manager secret for each new
// connection: a JSON object with "password" (the RDS-managed form), or the bare value.
func SecretPassword(src SecretSource, arn string) PasswordFunc {
	return func(ctx context.Context, _ string, _ uint16, user string) (string, error) {
		v, err := src.SecretString(ctx, arn)
		if err != nil {
			return "", fmt.Errorf("password of %s from %s: %w", user, arn, err)
		}
		var obj struct {
			Password string `json:"password"`
		}
		if json.Unmarshal([]byte(v), &obj) == nil && obj.Password != "" {
			return obj.Password, nil
		}
		if v == "" || v[0] == '{' {
			return "", fmt.Errorf("password of %s: %s holds no password", user, arn)
		}
		return v, nil
	}
}

// MasterURLFunc returns the master user's DATABASE_URL, read from its secret now.
type MasterURLFunc func(ctx context.Context) (string, error)

func masterURL(src SecretSource, arn, host, port, name, caBundle string) MasterURLFunc {
	return func(ctx context.Context) (string, error) {
		s, err := src.SecretString(ctx, arn)
		if err != nil {
			return "", fmt.Errorf("DB_SECRET_ARN: read %s: %w", arn, err)
		}
		u, err := databaseURLFromSecret(s, host, port, name, caBundle)
		if err != nil {
			return "", fmt.Errorf("DB_SECRET_ARN: %s: %w", arn, err)
		}
		return u, nil
	}
}

// ProxyLoginFunc reads RDS Proxy's database login (DB_PROXY_SECRET_ARN) now: the user
// and password the proxy signs in to the database with. Only the migrate action reads
// it, to give that user its password (store.EnsureProxyRole).
type ProxyLoginFunc func(ctx context.Context) (user, password string, err error)

func proxyLogin(src SecretSource, arn string) ProxyLoginFunc {
	return func(ctx context.Context) (string, string, error) {
		s, err := src.SecretString(ctx, arn)
		if err != nil {
			return "", "", fmt.Errorf("DB_PROXY_SECRET_ARN: read %s: %w", arn, err)
		}
		var creds struct {
			Username string `json:"username"`
			Password string `json:"password"`
		}
		// the errors name no value: a secret must never reach a log
		if err := json.Unmarshal([]byte(s), &creds); err != nil {
			return "", "", fmt.Errorf("DB_PROXY_SECRET_ARN: %s is not JSON with username and password", arn)
		}
		if creds.Username == "" || creds.Password == "" {
			return "", "", fmt.Errorf("DB_PROXY_SECRET_ARN: %s lacks username or password", arn)
		}
		return creds.Username, creds.Password, nil
	}
}

// RDSCABundle is Amazon RDS's certificate authorities and the Amazon Root CAs 1-4
// (rdsca/README.md), shipped in the binary so the connection is verified
// (sslmode=verify-full) without a download: an RDS instance presents a certificate of
// the RDS CAs, RDS Proxy one from ACM, which chains to the Amazon Root CAs.
//
//go:embed rdsca/rds-ca-bundle.pem
var RDSCABundle []byte

// EmbeddedCABundle is the DB_CA_BUNDLE value that means "the bundle in the binary".
const EmbeddedCABundle = "embedded"

var (
	caOnce sync.Once
	caPath string
	caErr  error
)

// caBundlePath resolves DB_CA_BUNDLE: a PEM file's path as it is, "embedded" the
// shipped bundle written once to the temporary directory (pgx reads sslrootcert from a
// file; /tmp is the only writable place on Lambda).
func caBundlePath(v string) (string, error) {
	if v != EmbeddedCABundle {
		return v, nil
	}
	caOnce.Do(func() {
		p := filepath.Join(os.TempDir(), "miyabi-rds-ca-bundle.pem")
		if caErr = os.WriteFile(p, RDSCABundle, 0o644); caErr == nil {
			caPath = p
		}
	})
	return caPath, caErr
}
