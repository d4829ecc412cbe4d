package config

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// LambdaPoolMax is DB_POOL_MAX on Lambda unless set: every concurrent instance holds its
// own pool, so reserved concurrency x this must fit the database's connection budget.
const LambdaPoolMax = "2"

// SecretSource reads a Secrets Manager secret's string value.
type SecretSource interface {
	SecretString(ctx context.Context, secretID string) (string, error)
}

// LambdaEnv is what ResolveLambdaEnv did, for the init log and the benchmark.
type LambdaEnv struct {
	Getenv  func(string) string // the environment completed with the secrets' values
	Fetched []string            // the ARNs that were read
	Took    time.Duration       // time spent fetching (both fetches run at once)
}

// appSecretKeys maps the app secret's JSON keys (the contract with infra/secrets.go)
// to the variables they stand in for.
var appSecretKeys = []struct{ json, env string }{
	{"jwt_signing_key", "JWT_SIGNING_KEY"},
	{"token_encryption_key", "TOKEN_ENCRYPTION_KEY"},
	{"github_client_secret", "GITHUB_CLIENT_SECRET"},
	{"origin_verify_secret", "ORIGIN_VERIFY_SECRET"},
	// optional, like the origin secret: present when the stack configures the GitHub App
	{"github_app_private_key", "GITHUB_APP_PRIVATE_KEY"},
	{"github_webhook_secret", "GITHUB_WEBHOOK_SECRET"},
}

// ResolveLambdaEnv completes the environment of a Lambda function before Load reads it.
// On AWS the function's environment holds only names and ARNs: DATABASE_URL is built
// from DB_HOST, DB_PORT, DB_NAME and the RDS-managed secret at DB_SECRET_ARN (JSON with
// username and password), and the keys come from the app secret at APP_SECRET_ARN.
// Whatever the environment already holds wins and is never fetched: with DATABASE_URL
// and the three keys set, nothing is read from Secrets Manager (self-hosted setups and
// the emulator test run that way). DB_POOL_MAX defaults to LambdaPoolMax.
func ResolveLambdaEnv(ctx context.Context, getenv func(string) string, src SecretSource) (LambdaEnv, error) {
	overlay := map[string]string{}
	if getenv("DB_POOL_MAX") == "" {
		overlay["DB_POOL_MAX"] = LambdaPoolMax
	}
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}

	dbArn := ""
	var host, port, name string
	if getenv("DATABASE_URL") == "" {
		if dbArn = getenv("DB_SECRET_ARN"); dbArn == "" {
			bad("DB_SECRET_ARN", "is required on Lambda when DATABASE_URL is not set")
		}
		host, name, port = getenv("DB_HOST"), getenv("DB_NAME"), or(getenv("DB_PORT"), "5432")
		if host == "" {
			bad("DB_HOST", "is required on Lambda when DATABASE_URL is not set")
		}
		if name == "" {
			bad("DB_NAME", "is required on Lambda when DATABASE_URL is not set")
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			bad("DB_PORT", "must be a port number, not %q", port)
		}
	}
	appArn := ""
	var missing []string
	for _, k := range appSecretKeys[:3] { // the origin secret alone never triggers a fetch
		if getenv(k.env) == "" {
			missing = append(missing, k.env)
		}
	}
	if len(missing) > 0 {
		if appArn = getenv("APP_SECRET_ARN"); appArn == "" {
			bad("APP_SECRET_ARN", "is required on Lambda when %s is not set", strings.Join(missing, ", "))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return LambdaEnv{}, err
	}

	res := LambdaEnv{}
	start := time.Now()
	var dbSecret, appSecret string
	var dbErr, appErr error
	var wg sync.WaitGroup
	if dbArn != "" {
		res.Fetched = append(res.Fetched, dbArn)
		wg.Go(func() { dbSecret, dbErr = src.SecretString(ctx, dbArn) })
	}
	if appArn != "" {
		res.Fetched = append(res.Fetched, appArn)
		wg.Go(func() { appSecret, appErr = src.SecretString(ctx, appArn) })
	}
	wg.Wait()
	res.Took = time.Since(start)

	if dbArn != "" {
		if dbErr != nil {
			bad("DB_SECRET_ARN", "read %s: %v", dbArn, dbErr)
		} else if u, err := databaseURLFromSecret(dbSecret, host, port, name, getenv("DB_CA_BUNDLE")); err != nil {
			bad("DB_SECRET_ARN", "%s: %v", dbArn, err)
		} else {
			overlay["DATABASE_URL"] = u
		}
	}
	if appArn != "" {
		if appErr != nil {
			bad("APP_SECRET_ARN", "read %s: %v", appArn, appErr)
		} else {
			var keys map[string]string
			if err := json.Unmarshal([]byte(appSecret), &keys); err != nil {
				// the error names no value: a secret must never reach a log
				bad("APP_SECRET_ARN", "%s is not a JSON object of strings", appArn)
			}
			for i, k := range appSecretKeys {
				if getenv(k.env) != "" {
					continue
				}
				if v := keys[k.json]; v != "" {
					overlay[k.env] = v
				} else if i < 3 && keys != nil {
					bad("APP_SECRET_ARN", "%s has no %q (needed for %s)", appArn, k.json, k.env)
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return LambdaEnv{}, err
	}
	res.Getenv = func(k string) string {
		if v, ok := overlay[k]; ok {
			return v
		}
		return getenv(k)
	}
	return res, nil
}

// databaseURLFromSecret builds DATABASE_URL from an RDS-managed secret. TLS is always
// required; with a CA bundle the server's certificate and name are verified too.
func databaseURLFromSecret(secret, host, port, name, caBundle string) (string, error) {
	var creds struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := json.Unmarshal([]byte(secret), &creds); err != nil {
		return "", errors.New("the secret is not JSON with username and password")
	}
	if creds.Username == "" || creds.Password == "" {
		return "", errors.New("the secret lacks username or password")
	}
	return DatabaseURL(host, port, name, creds.Username, creds.Password, caBundle), nil
}

// DatabaseURL is the postgres:// URL of an RDS database: sslmode=require, or
// verify-full against caBundle (a PEM file path) when one is given.
func DatabaseURL(host, port, name, user, password, caBundle string) string {
	q := url.Values{}
	if caBundle != "" {
		q.Set("sslmode", "verify-full")
		q.Set("sslrootcert", caBundle)
	} else {
		q.Set("sslmode", "require")
	}
	u := url.URL{Scheme: "postgres", User: url.UserPassword(user, password), Host: net.JoinHostPort(host, port),
		Path: "/" + name, RawQuery: q.Encode()}
	return u.String()
}

// AWSSecrets reads secrets with the aws-sdk-go-v2 Secrets Manager client, configured
// from the standard variables a Lambda function has: AWS_REGION, the role's
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, and the standard
// endpoint overrides AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL (unless
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true) that point tests at a fake. It does not
// use the SDK's full default chain (config files, SSO, IMDS, STS): a Lambda never needs
// it, and leaving it out kept 1.7 MB out of the binary and file reads out of the cold
// start. The client is built on first use, so a function that fetches nothing never
// pays for it.
type AWSSecrets struct {
	// Getenv reads the AWS variables; os.Getenv when nil.
	Getenv func(string) string

	once   sync.Once
	client *secretsmanager.Client
	err    error
}

// SecretString returns the secret's current string value.
func (a *AWSSecrets) SecretString(ctx context.Context, secretID string) (string, error) {
	a.once.Do(func() { a.client, a.err = a.newClient() })
	if a.err != nil {
		return "", a.err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := a.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &secretID})
	if err != nil {
		return "", err
	}
	if out.SecretString == nil {
		return "", errors.New("the secret has no string value")
	}
	return *out.SecretString, nil
}

func (a *AWSSecrets) newClient() (*secretsmanager.Client, error) {
	getenv := a.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	region := or(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"))
	if region == "" {
		return nil, errors.New("AWS_REGION is not set")
	}
	opts := secretsmanager.Options{
		Region: region,
		Credentials: credentials.NewStaticCredentialsProvider(
			getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"), getenv("AWS_SESSION_TOKEN")),
		RetryMaxAttempts: 3,
	}
	if ignore, _ := strconv.ParseBool(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")); !ignore {
		if ep := or(getenv("AWS_ENDPOINT_URL_SECRETS_MANAGER"), getenv("AWS_ENDPOINT_URL")); ep != "" {
			opts.BaseEndpoint = &ep
		}
	}
	return secretsmanager.New(opts), nil
}
