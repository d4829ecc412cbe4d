package main

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"
)

func contextWithTimeout(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	t.Helper()
	return context.WithTimeout(context.Background(), d)
}

func read(cfg map[string]string) (Config, map[string]bool, error) {
	return readConfig("test", func(k string) (string, bool) { v, ok := cfg[k]; return v, ok },
		func(k string) bool { _, ok := testSecrets[k]; return ok })
}

func TestConfigValid(t *testing.T) {
	for _, stack := range []string{"staging", "production"} {
		c, _, err := read(stackConfig(t, stack))
		if err != nil {
			t.Fatalf("%s: %v", stack, err)
		}
		if c.Environment != stack || c.DBMaxConnections == 0 {
			t.Errorf("%s: %+v", stack, c)
		}
	}
}

// Each required key, missing, fails with its name.
func TestConfigRequiredKeys(t *testing.T) {
	required := []string{
		"aws:region", "miyabi:environment", "miyabi:natMode", "miyabi:dbInstanceClass", "miyabi:dbMultiAz",
		"miyabi:dbPoolMax", "miyabi:lambdaMemoryMb", "miyabi:lambdaTimeout", "miyabi:lambdaReservedConcurrency",
		"miyabi:logRetentionDays", "miyabi:githubClientId", "miyabi:githubClientSecret", "miyabi:jwtSigningKey",
		"miyabi:tokenEncryptionKey", "miyabi:originVerifySecret",
	}
	for _, key := range required {
		t.Run(key, func(t *testing.T) {
			cfg := stackConfig(t, "staging")
			delete(cfg, key)
			_, _, err := read(cfg)
			if err == nil || !strings.Contains(err.Error(), key+": is required") {
				t.Errorf("without %s: err = %v, want it named as required", key, err)
			}
		})
	}
	cfg := stackConfig(t, "production")
	delete(cfg, "miyabi:alarmEmail")
	if _, _, err := read(cfg); err == nil || !strings.Contains(err.Error(), "miyabi:alarmEmail") {
		t.Errorf("production without alarmEmail: err = %v", err)
	}
}

func TestConfigMalformed(t *testing.T) {
	tests := []struct{ key, value string }{
		{"aws:region", "oregon"},
		{"miyabi:environment", "prod"},
		{"miyabi:natMode", "none"},
		{"miyabi:natInstanceType", "t3.nano"},
		{"miyabi:dbInstanceClass", "db.x9.huge"},
		{"miyabi:dbMultiAz", "yes please"},
		{"miyabi:dbAllocatedStorage", "10"},
		{"miyabi:dbMaxAllocatedStorage", "20"},
		{"miyabi:dbBackupRetentionDays", "3"},
		{"miyabi:rdsProxy", "sometimes"},
		{"miyabi:rdsProxyPasswordGeneration", "0"},
		{"miyabi:dbPoolMax", "0"},
		{"miyabi:lambdaMemoryMb", "64"},
		{"miyabi:lambdaTimeout", "15s"},
		{"miyabi:lambdaReservedConcurrency", "-1"},
		{"miyabi:logRetentionDays", "10"},
		{"miyabi:apiThrottleRate", "0"},
		{"miyabi:apiThrottleBurst", "lots"},
		{"miyabi:githubClientId", "<set: me>"},
		{"miyabi:dashboardApiBase", "direct"},
		{"miyabi:dashboardBuild", "sometimes"},
		{"miyabi:domainName", "not a domain"},
		{"miyabi:certificateArn", "arn:aws:acm:us-west-2:123456789012:certificate/abc"},
		{"miyabi:alarmEmail", "not-an-email"},
		{"miyabi:githubClientSecret", "short"},
		{"miyabi:jwtSigningKey", "short"},
		{"miyabi:tokenEncryptionKey", "bm90IDMyIGJ5dGVz"},
		{"miyabi:originVerifySecret", "has spaces in it so it is not a header value"},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			cfg := stackConfig(t, "staging")
			cfg[tc.key] = tc.value
			if tc.key == "miyabi:certificateArn" {
				cfg["miyabi:domainName"] = "app.example.com"
			}
			_, _, err := read(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.key+":") {
				t.Errorf("%s=%q: err = %v, want it named", tc.key, tc.value, err)
			}
		})
	}
}

// A secret set without --secret would sit in plain text in the stack file.
func TestConfigSecretsMustBeSecret(t *testing.T) {
	cfg := stackConfig(t, "staging")
	_, _, err := readConfig("test", func(k string) (string, bool) { v, ok := cfg[k]; return v, ok },
		func(k string) bool { return k != "miyabi:jwtSigningKey" })
	if err == nil || !strings.Contains(err.Error(), "miyabi:jwtSigningKey: is not a secret") {
		t.Errorf("err = %v", err)
	}
}

func TestConnectionBudget(t *testing.T) {
	// db.t4g.micro: max_connections 84, of which 10 are kept (migrate 2, reserved 5,
	// ops 3), and every environment counts twice (two generations during a deploy).
	base := stackConfig(t, "staging")
	tests := []struct {
		name              string
		class, conc, pool string
		ok                bool
		proxy             bool
	}{
		{"staging as shipped", "db.t4g.micro", "15", "2", true, false},
		{"exactly at the limit", "db.t4g.micro", "37", "1", true, false},
		{"one over", "db.t4g.micro", "38", "1", false, false},
		{"the nominal-memory figure would have passed this", "db.t4g.micro", "20", "2", false, false},
		{"pool too big", "db.t4g.micro", "15", "3", false, false},
		{"production as shipped", "db.t4g.medium", "80", "2", true, false},
		{"larger concurrency needs the proxy", "db.t4g.medium", "200", "2", false, false},
		{"the proxy takes the environments out of the budget", "db.t4g.medium", "200", "2", true, true},
		{"the proxy on the smallest class", "db.t4g.micro", "1000", "10", true, true},
		{"cap of 5000", "db.r6g.16xlarge", "499", "5", true, false},
		{"cap of 5000 exceeded", "db.r6g.16xlarge", "500", "5", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := maps.Clone(base)
			cfg["miyabi:dbInstanceClass"], cfg["miyabi:lambdaReservedConcurrency"], cfg["miyabi:dbPoolMax"] = tc.class, tc.conc, tc.pool
			cfg["miyabi:rdsProxy"] = fmt.Sprint(tc.proxy)
			_, _, err := read(cfg)
			if tc.ok && err != nil {
				t.Fatalf("want ok, got %v", err)
			}
			if !tc.ok {
				if err == nil {
					t.Fatal("want the budget rule to fail")
				}
				want := []string{"connection budget", "(" + tc.conc + ")", "(" + tc.pool + ")", "max_connections"}
				for _, s := range want {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not name %s", err, s)
					}
				}
			}
		})
	}
}

// Through RDS Proxy the environments share the proxy's pool: the budget counts its share
// (what its target group may open) instead, and still refuses a plan over max_connections.
func TestConnectionBudgetWithAProxy(t *testing.T) {
	c := Config{DBMaxConnections: 337, LambdaReservedConcurrency: 200, DBPoolMax: 2, RDSProxy: true, DBInstanceClass: "db.t4g.medium"}
	if got := ConnectionBudget(c); got != 337*80/100+10 || got > c.DBMaxConnections || checkConnectionBudget(c) != nil {
		t.Fatalf("budget with a proxy = %d (%v)", got, checkConnectionBudget(c))
	}
	c.RDSProxy = false
	if got := ConnectionBudget(c); got != 2*200*2+10 || checkConnectionBudget(c) == nil {
		t.Fatalf("budget without = %d, want it refused", got)
	}
	// 80 % (rounded down) + 10 fits from 46 connections up; under that the rule refuses
	// the proxy too.
	c = Config{DBMaxConnections: 45, LambdaReservedConcurrency: 1, DBPoolMax: 1, RDSProxy: true, DBInstanceClass: "db.tiny"}
	err := checkConnectionBudget(c)
	if err == nil || !strings.Contains(err.Error(), "RDS Proxy's share (80 % of max_connections = 36)") || !strings.Contains(err.Error(), "= 46 exceeds max_connections (45)") {
		t.Fatalf("a proxy over max_connections: %v", err)
	}
	c.DBMaxConnections = 46
	if err := checkConnectionBudget(c); err != nil {
		t.Fatalf("a proxy at exactly max_connections: %v", err)
	}
	// every class the program knows has room for the proxy
	for family, sizes := range familySizes {
		for size, mem := range sizes {
			if m := maxConnections(mem); checkConnectionBudget(Config{DBMaxConnections: m, RDSProxy: true}) != nil {
				t.Errorf("db.%s.%s (max_connections %d) has no room for the proxy", family, size, m)
			}
		}
	}
}

// Off unless the stack says so; the password generation defaults to 1 and must be a
// positive whole number.
func TestRDSProxyConfig(t *testing.T) {
	cfg := stackConfig(t, "production")
	delete(cfg, "miyabi:rdsProxy")
	delete(cfg, "miyabi:rdsProxyPasswordGeneration")
	c, _, err := read(cfg)
	if err != nil || c.RDSProxy || c.RDSProxyPasswordGeneration != 1 {
		t.Fatalf("defaults: proxy %v, generation %d (%v)", c.RDSProxy, c.RDSProxyPasswordGeneration, err)
	}
	for _, stack := range []string{"staging", "production"} {
		if c, _, _ := read(stackConfig(t, stack)); c.RDSProxy {
			t.Errorf("Pulumi.%s.yaml turns RDS Proxy on; it is off by default", stack)
		}
	}
	cfg["miyabi:rdsProxy"], cfg["miyabi:rdsProxyPasswordGeneration"] = "true", "3"
	if c, _, err = read(cfg); err != nil || !c.RDSProxy || c.RDSProxyPasswordGeneration != 3 {
		t.Fatalf("on: proxy %v, generation %d (%v)", c.RDSProxy, c.RDSProxyPasswordGeneration, err)
	}
}

func TestMaxConnections(t *testing.T) {
	// Three quarters of the nominal-memory formula: at or under RDS's own default.
	for class, want := range map[string]int{"db.t4g.micro": 84, "db.t4g.small": 168, "db.t4g.medium": 337, "db.m7g.large": 675, "db.r6g.16xlarge": 5000} {
		mem, ok := instanceMemoryGiB(class)
		if !ok {
			t.Fatalf("%s unknown", class)
		}
		if got := maxConnections(mem); got != want {
			t.Errorf("%s: max_connections %d, want %d", class, got, want)
		}
	}
}

// The program fails on bad config before it builds or declares anything.
func TestProgramStopsOnBadConfig(t *testing.T) {
	cfg := stackConfig(t, "staging")
	cfg["miyabi:natMode"] = "nope"
	_, err := runStack(t, "staging", cfg, testBuilders(t, ""))
	if err == nil || !strings.Contains(err.Error(), "miyabi:natMode") {
		t.Fatalf("err = %v", err)
	}
}
