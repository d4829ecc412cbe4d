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
	Took    time.Duration       // time spent fetching
	// Password gives each new connection of the API's pool its password (an RDS IAM
	// token); nil when DATABASE_URL carries its own.
	Password PasswordFunc
	// MasterURL reads the master user's secret afresh and returns its DATABASE_URL: the
	// migrate action's connection. Nil without DB_SECRET_ARN.
	MasterURL MasterURLFunc
	// AppUser is the role the API connects as when built from DB_APP_USER.
	AppUser string
	// ProxyLogin reads RDS Proxy's database login afresh (DB_PROXY_SECRET_ARN): the
	// migrate action gives that user its password. Nil without a proxy.
	ProxyLogin ProxyLoginFunc
	// ProxyRetiring (DB_PROXY_RETIRING=true, the migrate function only) says this deploy
	// removes the proxy: it still serves the live version until the alias moves, so the
	// migrate action leaves its login alone; the next run switches it off.
	ProxyRetiring bool
}

// appSecretKeys maps the app secret's JSON keys (the contract with infra/secrets.go)
// to the variables they stand in for. The *_previous keys are set during a rotation
// only (docs/ops.md, "Rotations").
var appSecretKeys = []struct {
	json, env string
	required  bool
}{
	{"jwt_signing_key", "JWT_SIGNING_KEY", true},
	{"token_encryption_key", "TOKEN_ENCRYPTION_KEY", true},
	{"github_client_secret", "GITHUB_CLIENT_SECRET", true},
	{"origin_verify_secret", "ORIGIN_VERIFY_SECRET", false},
	{"jwt_signing_key_previous", "JWT_SIGNING_KEY_PREVIOUS", false},
	{"token_encryption_key_previous", "TOKEN_ENCRYPTION_KEY_PREVIOUS", false},
	{"origin_verify_secret_previous", "ORIGIN_VERIFY_SECRET_PREVIOUS", false},
	// present when the stack configures the GitHub App
	{"github_app_private_key", "GITHUB_APP_PRIVATE_KEY", false},
	{"github_webhook_secret", "GITHUB_WEBHOOK_SECRET", false},
}

// ResolveLambdaEnv completes the environment of a Lambda function before Load reads it.
// On AWS the function's environment holds only names and ARNs:
//   - DATABASE_URL is built from DB_HOST, DB_PORT, DB_NAME and DB_APP_USER (the
//     least-privilege role) with no password: Password supplies one per connection, an
//     RDS IAM token (DB_APP_AUTH=iam, the default) or the value of the secret at
//     DB_APP_PASSWORD_SECRET_ARN (DB_APP_AUTH=secret). TLS is verified against
//     DB_CA_BUNDLE, the RDS bundle in the binary unless set.
//   - DB_SECRET_ARN (the RDS-managed master secret) is not read here: MasterURL reads it
//     when the migrate action runs, each time. So is DB_PROXY_SECRET_ARN (RDS Proxy's
//     database login, on the migrate function of a stack with a proxy): ProxyLogin.
//   - the keys come from the app secret at APP_SECRET_ARN, read once at init; a rotation
//     changes APP_SECRET_VERSION in the function's configuration, which starts new
//     environments.
//
// Whatever the environment already holds wins and is never fetched: with DATABASE_URL
// and the three keys set, nothing is read from Secrets Manager (self-hosted setups and
// the emulator tests run that way). DB_POOL_MAX defaults to LambdaPoolMax.
func ResolveLambdaEnv(ctx context.Context, getenv func(string) string, src SecretSource) (LambdaEnv, error) {
	overlay := map[string]string{}
	if getenv("DB_POOL_MAX") == "" {
		overlay["DB_POOL_MAX"] = LambdaPoolMax
	}
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	res := LambdaEnv{}

	host, name, port := getenv("DB_HOST"), getenv("DB_NAME"), or(getenv("DB_PORT"), "5432")
	dbArn := getenv("DB_SECRET_ARN")
	buildURL := getenv("DATABASE_URL") == ""
	if buildURL || dbArn != "" {
		why := "when DATABASE_URL is not set"
		if !buildURL {
			why = "with DB_SECRET_ARN (the migrate action's connection)"
		}
		if host == "" {
			bad("DB_HOST", "is required on Lambda %s", why)
		}
		if name == "" {
			bad("DB_NAME", "is required on Lambda %s", why)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			bad("DB_PORT", "must be a port number, not %q", port)
		}
	}
	caBundle := getenv("DB_CA_BUNDLE")
	if caBundle == "" && buildURL {
		caBundle = EmbeddedCABundle
	}
	caPath, err := caBundlePath(caBundle)
	if err != nil {
		bad("DB_CA_BUNDLE", "write the embedded RDS CA bundle: %v", err)
	}
	if buildURL {
		res.AppUser = getenv("DB_APP_USER")
		if res.AppUser == "" {
			bad("DB_APP_USER", "is required on Lambda when DATABASE_URL is not set (the role the API connects as, e.g. miyabi_app)")
		}
		switch mode := or(getenv("DB_APP_AUTH"), "iam"); mode {
		case "iam":
			res.Password = RDSIAMToken(getenv)
		case "secret":
			arn := getenv("DB_APP_PASSWORD_SECRET_ARN")
			if arn == "" {
				bad("DB_APP_PASSWORD_SECRET_ARN", "is required with DB_APP_AUTH=secret")
			}
			res.Password = SecretPassword(src, arn)
		default:
			bad("DB_APP_AUTH", "must be iam or secret, not %q", mode)
		}
		overlay["DATABASE_URL"] = DatabaseURL(host, port, name, res.AppUser, "", caPath)
	}
	if dbArn != "" {
		res.MasterURL = masterURL(src, dbArn, host, port, name, caPath)
	}
	if proxyArn := getenv("DB_PROXY_SECRET_ARN"); proxyArn != "" {
		if dbArn == "" {
			bad("DB_PROXY_SECRET_ARN", "is set without DB_SECRET_ARN: only the migrate function, which connects as the master user, sets the proxy's login")
		}
		res.ProxyLogin = proxyLogin(src, proxyArn)
	}
	if v := getenv("DB_PROXY_RETIRING"); v != "" {
		retiring, err := strconv.ParseBool(v)
		switch {
		case err != nil:
			bad("DB_PROXY_RETIRING", "must be true or false, not %q", v)
		case retiring && dbArn == "":
			bad("DB_PROXY_RETIRING", "is set without DB_SECRET_ARN: only the migrate function manages the proxy's login")
		case retiring && getenv("DB_PROXY_SECRET_ARN") != "":
			bad("DB_PROXY_RETIRING", "is set with DB_PROXY_SECRET_ARN: a stack has a proxy or retires one, not both")
		}
		res.ProxyRetiring = retiring && err == nil
	}

	appArn := ""
	var missing []string
	for _, k := range appSecretKeys {
		if k.required && getenv(k.env) == "" {
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

	if appArn != "" {
		start := time.Now()
		res.Fetched = append(res.Fetched, appArn)
		appSecret, err := src.SecretString(ctx, appArn)
		res.Took = time.Since(start)
		if err != nil {
			bad("APP_SECRET_ARN", "read %s: %v", appArn, err)
		} else {
			var keys map[string]string
			if err := json.Unmarshal([]byte(appSecret), &keys); err != nil {
				// the error names no value: a secret must never reach a log
				bad("APP_SECRET_ARN", "%s is not a JSON object of strings", appArn)
			}
			for _, k := range appSecretKeys {
				if getenv(k.env) != "" {
					continue
				}
				if v := keys[k.json]; v != "" {
					overlay[k.env] = v
				} else if k.required && keys != nil {
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

// DatabaseURL is the postgres:// URL of an RDS database: verify-full against caBundle
// (a PEM file path), or sslmode=require (encrypted, not verified) without one.
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
	if password == "" {
		u.User = url.User(user) // the password comes per connection (PasswordFunc)
	}
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
