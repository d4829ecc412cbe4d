package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/miyabi/miyabi/app/internal/config"
)

func load(env map[string]string) (config.Config, error) {
	return config.Load(func(k string) string { return env[k] })
}

// Development enables the dev login and known keys: refused on Lambda and anywhere a
// browser could reach it from another machine (issue 14, finding 11).
func TestDevelopmentIsRefusedOnLambdaAndOffLoopback(t *testing.T) {
	base := func() map[string]string {
		return map[string]string{"APP_ENV": "development", "DATABASE_URL": "postgres://x@127.0.0.1/db"}
	}
	if _, err := load(base()); err != nil {
		t.Fatalf("plain development refused: %v", err)
	}
	for name, change := range map[string]map[string]string{
		"lambda":            {"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"},
		"public URL":        {"PUBLIC_URL": "https://miyabi.example.com"},
		"all interfaces":    {"LISTEN_ADDR": "0.0.0.0:8080"},
		"a LAN address URL": {"PUBLIC_URL": "http://192.168.1.20:8080"},
	} {
		env := base()
		for k, v := range change {
			env[k] = v
		}
		if _, err := load(env); err == nil || !strings.Contains(err.Error(), "APP_ENV") {
			t.Errorf("%s: %v, want APP_ENV refused", name, err)
		}
	}
	for _, ok := range []string{"http://localhost:8080", "http://[::1]:8080", "http://127.0.0.2:9000"} {
		env := base()
		env["PUBLIC_URL"] = ok
		if _, err := load(env); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
}

func TestRateLimitSettings(t *testing.T) {
	env := map[string]string{"APP_ENV": "development", "DATABASE_URL": "postgres://x@127.0.0.1/db", "RATE_LIMIT_SIGNIN": "5/30s"}
	c, err := load(env)
	if err != nil {
		t.Fatal(err)
	}
	if c.RateLimits.SignIn != (config.Rate{N: 5, Per: 30 * time.Second}) || c.RateLimits.Person.N != config.DefaultRateLimits.Person.N*10 {
		t.Fatalf("limits %+v", c.RateLimits)
	}
	env["RATE_LIMITS"] = "off"
	delete(env, "RATE_LIMIT_SIGNIN")
	if c, _ := load(env); c.RateLimits != (config.RateLimits{}) {
		t.Fatalf("off: %+v", c.RateLimits)
	}
	for _, bad := range []string{"5", "x/1m", "0/1m", "5/10ms", "-1/1m"} {
		env := map[string]string{"APP_ENV": "development", "DATABASE_URL": "postgres://x@127.0.0.1/db", "RATE_LIMIT_PERSON": bad}
		if _, err := load(env); err == nil || !strings.Contains(err.Error(), "RATE_LIMIT_PERSON") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
