package main

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Config is every setting of a stack, read and checked once before any resource is
// declared, so a typo fails `pulumi preview` with the key's name instead of half a
// deployment.
type Config struct {
	Stack       string
	Region      string
	Environment string // staging or production
	Production  bool   // deletion protection, final snapshot, protect, alarms

	NatMode         string // gateway or instance
	NatInstanceType string

	DBInstanceClass       string
	DBMultiAZ             bool
	DBAllocatedStorage    int
	DBMaxAllocatedStorage int
	DBBackupRetentionDays int
	DBPoolMax             int
	DBMaxConnections      int    // set in the parameter group, see budget.go
	DBBackupWindow        string // hh:mm-hh:mm UTC, daily
	DBMaintenanceWindow   string // ddd:hh:mm-ddd:hh:mm UTC, weekly
	RDSProxy              bool   // the Lambda reaches the database through RDS Proxy (proxy.go)
	MigrateTimeout        int    // seconds, the migrate function's own timeout

	// RDSProxyPasswordGeneration names the proxy's login secret version: raising it makes a
	// new password (docs/ops.md, "Rotations").
	RDSProxyPasswordGeneration int

	LambdaMemoryMB            int
	LambdaTimeout             int
	LambdaReservedConcurrency int
	LogRetentionDays          int
	APIThrottleRate           int
	APIThrottleBurst          int

	GitHubClientID   string
	GitHubAppID      string // the GitHub App's numeric id; "" for none (docs/ops.md, "GitHub App")
	GitHubAppSlug    string
	DashboardAPIBase string // cloudfront or apigateway
	DashboardBuild   string // auto, always or never
	DomainName       string
	CertificateArn   string
	AlarmEmail       string
	// OperatorGitHubIDs (miyabi:operatorGithubIds): the GitHub accounts, by numeric id,
	// allowed on /api/v1/ops/*, comma-separated; the function's OPERATOR_GITHUB_IDS.
	OperatorGitHubIDs string
	// RunbookURL (miyabi:runbookUrl, empty: the repository's docs/ops.md) is what every
	// alarm's description links to, with the alarm's heading as #fragment.
	RunbookURL string

	Secrets Secrets
}

// Secrets are read from config set with --secret; they only ever leave this program
// wrapped in pulumi.ToSecret, so they stay encrypted in the state.
type Secrets struct {
	GitHubClientSecret string
	JWTSigningKey      string
	TokenEncryptionKey string
	OriginVerifySecret string
	// During a rotation (docs/ops.md, "Rotations"): still accepted, never used to sign,
	// seal or send.
	JWTSigningKeyPrevious      string
	TokenEncryptionKeyPrevious string
	OriginVerifySecretPrevious string
	// The GitHub App's, with GitHubAppID.
	GitHubAppPrivateKey string
	GitHubWebhookSecret string
}

// The dashboard reaches the API through CloudFront (same origin) or directly.
const (
	APIBaseCloudFront = "cloudfront"
	APIBaseGateway    = "apigateway"
)

// configReader collects every problem instead of stopping at the first, and
// remembers which keys were read so a test can hold the stack files to them.
type configReader struct {
	get    func(key string) (string, bool)
	secret func(key string) bool
	errs   []error
	read   map[string]bool
}

func (r *configReader) fail(key, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
}

func (r *configReader) raw(key string) (string, bool) {
	r.read[key] = true
	v, ok := r.get(key)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

func (r *configReader) str(key, def string) string {
	if v, ok := r.raw(key); ok {
		return v
	}
	return def
}

func (r *configReader) required(key, expect string) string {
	v, ok := r.raw(key)
	if !ok {
		r.fail(key, "is required (%s)", expect)
	}
	return v
}

func (r *configReader) oneOf(key, def string, allowed ...string) string {
	v, ok := r.raw(key)
	if !ok {
		if def == "" {
			r.fail(key, "is required (one of %s)", strings.Join(allowed, ", "))
		}
		return def
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	r.fail(key, "must be one of %s, not %q", strings.Join(allowed, ", "), v)
	return v
}

// integer reads a whole number in [lo, hi]; def < 0 means the key is required.
func (r *configReader) integer(key string, def, lo, hi int) int {
	v, ok := r.raw(key)
	if !ok {
		if def < 0 {
			r.fail(key, "is required (a whole number from %d to %d)", lo, hi)
		}
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail(key, "must be a whole number from %d to %d, not %q", lo, hi, v)
	}
	return n
}

func (r *configReader) boolean(key string) bool {
	v, ok := r.raw(key)
	if !ok {
		r.fail(key, "is required (true or false)")
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(key, "must be true or false, not %q", v)
	}
	return b
}

// secretValue insists on `pulumi config set --secret`: a plain value would sit
// unencrypted in the stack file and in git.
func (r *configReader) secretValue(key, expect string, check func(string) bool) string {
	v, ok := r.raw(key)
	switch {
	case !ok:
		r.fail(key, "is required (%s); set it with: pulumi config set --secret %s", expect, key)
	case !r.secret(key):
		r.fail(key, "is not a secret; set it with: pulumi config set --secret %s (%s)", key, expect)
	case !check(v):
		r.fail(key, "must be %s", expect)
	}
	return v
}

// optionalSecret is secretValue for a key that may be absent.
func (r *configReader) optionalSecret(key, expect string, check func(string) bool) string {
	if _, ok := r.raw(key); !ok {
		return ""
	}
	return r.secretValue(key, expect, check)
}

// logRetentions are the only values CloudWatch Logs accepts.
var logRetentions = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var (
	githubClientIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)
	domainPattern         = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	certificatePattern    = regexp.MustCompile(`^arn:aws:acm:us-east-1:\d{12}:certificate/[0-9a-f-]+$`)
	regionPattern         = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	headerValuePattern    = regexp.MustCompile(`^[!-~]+$`)
	backupWindowPattern   = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$`)
	maintWindowPattern    = regexp.MustCompile(`^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$`)
)

// loadConfig reads the stack's config through ctx.
func loadConfig(ctx *pulumi.Context) (Config, error) {
	cfg, _, err := readConfig(ctx.Stack(), ctx.GetConfig, ctx.IsConfigSecret)
	return cfg, err
}

// readConfig is loadConfig without a Pulumi context; it also returns the keys it
// read.
func readConfig(stack string, get func(string) (string, bool), secret func(string) bool) (Config, map[string]bool, error) {
	r := &configReader{get: get, secret: secret, read: map[string]bool{}}
	c := Config{Stack: stack}

	c.Region = r.required("aws:region", "an AWS region such as us-west-2")
	if c.Region != "" && !regionPattern.MatchString(c.Region) {
		r.fail("aws:region", "must be an AWS region such as us-west-2, not %q", c.Region)
	}
	c.Environment = r.oneOf("miyabi:environment", "", "staging", "production")
	c.Production = c.Environment == "production"

	c.NatMode = r.oneOf("miyabi:natMode", "", "gateway", "instance")
	c.NatInstanceType = r.str("miyabi:natInstanceType", "t4g.nano")
	if !strings.HasPrefix(c.NatInstanceType, "t4g.") && !strings.HasPrefix(c.NatInstanceType, "c7g") && !strings.HasPrefix(c.NatInstanceType, "m7g") {
		r.fail("miyabi:natInstanceType", "must be a Graviton (arm64) type such as t4g.nano, not %q", c.NatInstanceType)
	}

	c.DBInstanceClass = r.required("miyabi:dbInstanceClass", "an RDS class such as db.t4g.micro")
	if c.DBInstanceClass != "" {
		if mem, ok := instanceMemoryGiB(c.DBInstanceClass); ok {
			c.DBMaxConnections = maxConnections(mem)
		} else {
			r.fail("miyabi:dbInstanceClass", "%q is not a class this program knows the memory of (db.t4g.*, db.t3.*, db.m5/m6g/m6i/m7g/m7i/m8g.*, db.r5/r6g/r6i/r7g/r7i/r8g.*)", c.DBInstanceClass)
		}
	}
	c.DBMultiAZ = r.boolean("miyabi:dbMultiAz")
	c.DBAllocatedStorage = r.integer("miyabi:dbAllocatedStorage", 20, 20, 65536)
	c.DBMaxAllocatedStorage = r.integer("miyabi:dbMaxAllocatedStorage", 100, 20, 65536)
	if c.DBMaxAllocatedStorage <= c.DBAllocatedStorage {
		r.fail("miyabi:dbMaxAllocatedStorage", "must be above miyabi:dbAllocatedStorage (%d) for storage autoscaling, not %d", c.DBAllocatedStorage, c.DBMaxAllocatedStorage)
	}
	c.DBBackupRetentionDays = r.integer("miyabi:dbBackupRetentionDays", 7, 7, 35)
	c.DBPoolMax = r.integer("miyabi:dbPoolMax", -1, 1, 100)
	// Defaults: quiet hours in us-west-2; the maintenance window falls outside the backup
	// window, as RDS requires.
	c.DBBackupWindow = r.str("miyabi:dbBackupWindow", "10:00-10:30")
	if !backupWindowPattern.MatchString(c.DBBackupWindow) {
		r.fail("miyabi:dbBackupWindow", "must be hh:mm-hh:mm in UTC such as 10:00-10:30, not %q", c.DBBackupWindow)
	}
	c.DBMaintenanceWindow = r.str("miyabi:dbMaintenanceWindow", "sun:11:00-sun:11:30")
	if !maintWindowPattern.MatchString(c.DBMaintenanceWindow) {
		r.fail("miyabi:dbMaintenanceWindow", "must be ddd:hh:mm-ddd:hh:mm in UTC such as sun:11:00-sun:11:30, not %q", c.DBMaintenanceWindow)
	} else if backupWindowPattern.MatchString(c.DBBackupWindow) && strings.Contains(c.DBMaintenanceWindow, ":"+c.DBBackupWindow[:5]+"-") {
		r.fail("miyabi:dbMaintenanceWindow", "must not start with the backup window (%s)", c.DBBackupWindow)
	}
	if _, ok := r.raw("miyabi:rdsProxy"); ok {
		c.RDSProxy = r.boolean("miyabi:rdsProxy")
	}
	c.RDSProxyPasswordGeneration = r.integer("miyabi:rdsProxyPasswordGeneration", 1, 1, 1000000)
	c.MigrateTimeout = r.integer("miyabi:migrateTimeout", 600, 60, 900)

	c.LambdaMemoryMB = r.integer("miyabi:lambdaMemoryMb", -1, 128, 10240)
	c.LambdaTimeout = r.integer("miyabi:lambdaTimeout", -1, 1, 900)
	c.LambdaReservedConcurrency = r.integer("miyabi:lambdaReservedConcurrency", -1, 1, 1000)
	c.LogRetentionDays = r.integer("miyabi:logRetentionDays", -1, 1, 3653)
	if c.LogRetentionDays > 0 && !contains(logRetentions, c.LogRetentionDays) {
		r.fail("miyabi:logRetentionDays", "must be one of the values CloudWatch accepts %v, not %d", logRetentions, c.LogRetentionDays)
	}
	c.APIThrottleRate = r.integer("miyabi:apiThrottleRate", 100, 1, 10000)
	c.APIThrottleBurst = r.integer("miyabi:apiThrottleBurst", 200, 1, 5000)

	c.GitHubClientID = r.required("miyabi:githubClientId", "the client id of the stack's GitHub OAuth app")
	if c.GitHubClientID != "" && !githubClientIDPattern.MatchString(c.GitHubClientID) {
		r.fail("miyabi:githubClientId", "must be a GitHub OAuth client id (8-64 letters, digits, . _ -), not %q", c.GitHubClientID)
	}
	c.DashboardAPIBase = r.oneOf("miyabi:dashboardApiBase", APIBaseCloudFront, APIBaseCloudFront, APIBaseGateway)
	c.DashboardBuild = r.oneOf("miyabi:dashboardBuild", "auto", "auto", "always", "never")

	c.DomainName = strings.ToLower(r.str("miyabi:domainName", ""))
	c.CertificateArn = r.str("miyabi:certificateArn", "")
	switch {
	case c.DomainName != "" && !domainPattern.MatchString(c.DomainName):
		r.fail("miyabi:domainName", "must be a host name such as app.example.com, not %q", c.DomainName)
	case c.DomainName != "" && c.CertificateArn == "":
		r.fail("miyabi:certificateArn", "is required with miyabi:domainName (an ACM certificate in us-east-1 covering %s)", c.DomainName)
	case c.DomainName == "" && c.CertificateArn != "":
		r.fail("miyabi:domainName", "is required with miyabi:certificateArn")
	}
	if c.CertificateArn != "" && !certificatePattern.MatchString(c.CertificateArn) {
		r.fail("miyabi:certificateArn", "must be an ACM certificate ARN in us-east-1 (CloudFront only uses those), not %q", c.CertificateArn)
	}
	c.AlarmEmail = r.str("miyabi:alarmEmail", "")
	if c.AlarmEmail == "" && c.Production {
		r.fail("miyabi:alarmEmail", "is required in production (who receives the alarms)")
	} else if c.AlarmEmail != "" {
		if _, err := mail.ParseAddress(c.AlarmEmail); err != nil {
			r.fail("miyabi:alarmEmail", "must be an email address, not %q", c.AlarmEmail)
		}
	}

	c.OperatorGitHubIDs = strings.ReplaceAll(r.str("miyabi:operatorGithubIds", ""), " ", "")
	if c.OperatorGitHubIDs != "" && !operatorIDsPattern.MatchString(c.OperatorGitHubIDs) {
		r.fail("miyabi:operatorGithubIds", "must be numeric GitHub user ids separated by commas, not %q (curl https://api.github.com/users/<login> shows the id)", c.OperatorGitHubIDs)
	}
	c.RunbookURL = r.str("miyabi:runbookUrl", "")
	switch {
	case c.RunbookURL == "":
		c.RunbookURL = defaultRunbook
	case !strings.HasPrefix(c.RunbookURL, "https://") || strings.Contains(c.RunbookURL, "#"):
		r.fail("miyabi:runbookUrl", "must be an https:// URL of docs/ops.md without a #fragment (or empty for the repository's), not %q", c.RunbookURL)
	}

	atLeast32 := func(v string) bool { return len(v) >= 32 }
	c.Secrets.GitHubClientSecret = r.secretValue("miyabi:githubClientSecret", "the GitHub OAuth app's client secret, at least 32 characters", atLeast32)
	c.Secrets.JWTSigningKey = r.secretValue("miyabi:jwtSigningKey", "at least 32 random bytes, e.g. openssl rand -base64 48", atLeast32)
	c.Secrets.TokenEncryptionKey = r.secretValue("miyabi:tokenEncryptionKey", "32 bytes in standard base64, e.g. openssl rand -base64 32", func(v string) bool {
		k, err := base64.StdEncoding.DecodeString(v)
		return err == nil && len(k) == 32
	})
	c.Secrets.OriginVerifySecret = r.secretValue("miyabi:originVerifySecret", "at least 32 random characters, e.g. openssl rand -hex 32", func(v string) bool {
		// It travels as an HTTP header value, so only visible ASCII.
		return len(v) >= 32 && headerValuePattern.MatchString(v)
	})

	c.Secrets.JWTSigningKeyPrevious = r.optionalSecret("miyabi:jwtSigningKeyPrevious", "the signing key being retired, at least 32 bytes", atLeast32)
	c.Secrets.TokenEncryptionKeyPrevious = r.optionalSecret("miyabi:tokenEncryptionKeyPrevious", "the encryption key being retired, 32 bytes in standard base64", func(v string) bool {
		k, err := base64.StdEncoding.DecodeString(v)
		return err == nil && len(k) == 32
	})
	c.Secrets.OriginVerifySecretPrevious = r.optionalSecret("miyabi:originVerifySecretPrevious", "the origin secret being retired, at least 32 visible ASCII characters", func(v string) bool {
		return len(v) >= 32 && headerValuePattern.MatchString(v)
	})
	readGitHubApp(r, &c)
	if c.LambdaTimeout > 0 && c.LambdaTimeout < 5 {
		r.fail("miyabi:lambdaTimeout", "must be at least 5 seconds (requests get the timeout minus 2 s), not %d", c.LambdaTimeout)
	}

	if len(r.errs) == 0 {
		if err := checkConnectionBudget(c); err != nil {
			r.errs = append(r.errs, err)
		}
	}
	if err := errors.Join(r.errs...); err != nil {
		return c, r.read, fmt.Errorf("stack %s config:\n%w", stack, err)
	}
	return c, r.read, nil
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// name prefixes every physical name, so stacks can share an account.
func (c Config) name(suffix string) string { return "miyabi-" + c.Stack + "-" + suffix }

var githubAppSlugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,99}$`)

// readGitHubApp reads the GitHub App's four keys: all of them, or none (the app then runs
// without the App, as docs/ops.md says).
func readGitHubApp(r *configReader, c *Config) {
	c.GitHubAppID = r.str("miyabi:githubAppId", "")
	c.GitHubAppSlug = r.str("miyabi:githubAppSlug", "")
	c.Secrets.GitHubAppPrivateKey = r.optionalSecret("miyabi:githubAppPrivateKey", "the App's RSA private key, PEM (pulumi config set --secret miyabi:githubAppPrivateKey < key.pem)", isRSAKeyPEM)
	c.Secrets.GitHubWebhookSecret = r.optionalSecret("miyabi:githubWebhookSecret", "at least 20 random characters, e.g. openssl rand -hex 32", func(v string) bool { return len(v) >= 20 })
	others := []struct{ key, value string }{
		{"miyabi:githubAppSlug", c.GitHubAppSlug},
		{"miyabi:githubAppPrivateKey", c.Secrets.GitHubAppPrivateKey},
		{"miyabi:githubWebhookSecret", c.Secrets.GitHubWebhookSecret},
	}
	if c.GitHubAppID == "" {
		for _, o := range others {
			if o.value != "" {
				r.fail(o.key, "is set but miyabi:githubAppId is not; set the GitHub App's four keys or none")
			}
		}
		return
	}
	if n, err := strconv.ParseInt(c.GitHubAppID, 10, 64); err != nil || n <= 0 {
		r.fail("miyabi:githubAppId", "must be the App's numeric id (\"App ID\" on its page), not %q", c.GitHubAppID)
	}
	for _, o := range others {
		if o.value == "" {
			r.fail(o.key, "is required with miyabi:githubAppId")
		}
	}
	if c.GitHubAppSlug != "" && !githubAppSlugPattern.MatchString(c.GitHubAppSlug) {
		r.fail("miyabi:githubAppSlug", "must be the App's slug (github.com/apps/<slug>), not %q", c.GitHubAppSlug)
	}
}

// isRSAKeyPEM accepts an RSA private key in PEM (PKCS#1 or PKCS#8), also with "\n" escapes
// as the app does.
func isRSAKeyPEM(v string) bool {
	block, _ := pem.Decode([]byte(strings.ReplaceAll(v, `\n`, "\n")))
	if block == nil {
		return false
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return true
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	_, rsaKey := k.(*rsa.PrivateKey)
	return err == nil && rsaKey
}
