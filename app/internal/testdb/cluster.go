package testdb

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
)

// Cluster is a PostgreSQL server of a test's own, for tests that stop and start the
// database under the API. It uses the system's binaries (as scripts/pg.sh does) and runs
// as the postgres user when the test runs as root.
type Cluster struct {
	t      testing.TB
	bindir string
	dir    string
	Port   int
	// With passwords and TLS (StartSecureCluster): the superuser's password and the CA
	// that signed the server's certificate (PEM file).
	password string
	CAFile   string
}

// StartCluster initialises and starts a cluster in a temporary directory.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	return startCluster(t, false)
}

// StartSecureCluster is a cluster as RDS runs one: TCP connections need a password
// (scram-sha-256) and TLS, with a server certificate for 127.0.0.1 signed by a CA of
// its own (CAFile), so clients can verify it (sslmode=verify-full).
func StartSecureCluster(t testing.TB) *Cluster {
	t.Helper()
	return startCluster(t, true)
}

func startCluster(t testing.TB, secure bool) *Cluster {
	t.Helper()
	bindir := findBindir(t)
	base, err := os.MkdirTemp("", "miyabi-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	c := &Cluster{t: t, bindir: bindir, dir: filepath.Join(base, "data"), Port: freePort(t)}
	if os.Getuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs a postgres user (scripts/pg.sh creates it): %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(base, uid, gid); err != nil {
			t.Fatal(err)
		}
		_ = os.Chmod(base, 0o755)
	}
	auth := []string{"--auth=trust"}
	if secure {
		c.password = "postgres-test-password"
		pw := filepath.Join(base, "pwfile")
		if err := os.WriteFile(pw, []byte(c.password+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		auth = []string{"--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile=" + pw}
	}
	c.run("initdb", append([]string{"-D", c.dir, "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8"}, auth...)...)
	conf := fmt.Sprintf("listen_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\nfsync = off\nmax_connections = 50\n", c.Port, base)
	if secure {
		c.CAFile = writeServerTLS(t, c.dir, base)
		conf += "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n"
		// only TLS over TCP, as rds.force_ssl=1
		hba := "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\nhostnossl all all 0.0.0.0/0 reject\n"
		if err := os.WriteFile(filepath.Join(c.dir, "pg_hba.conf"), []byte(hba), 0o600); err != nil {
			t.Fatal(err)
		}
		c.chownToPostgres(filepath.Join(c.dir, "pg_hba.conf"), filepath.Join(c.dir, "server.crt"), filepath.Join(c.dir, "server.key"))
	}
	f, err := os.OpenFile(filepath.Join(c.dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(conf)
	f.Close()
	c.Start()
	t.Cleanup(func() { _ = c.pgctl("stop", "-m", "immediate") })
	return c
}

// URL is the postgres database of the cluster, as the superuser.
func (c *Cluster) URL() string {
	if c.password != "" {
		return fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/postgres?sslmode=verify-full&sslrootcert=%s", c.password, c.Port, c.CAFile)
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.Port)
}

func (c *Cluster) chownToPostgres(paths ...string) {
	if os.Getuid() != 0 {
		return
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		c.t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	for _, p := range paths {
		if err := os.Chown(p, uid, gid); err != nil {
			c.t.Fatal(err)
		}
	}
}

// SetHBA replaces pg_hba.conf with rules and reloads the server: a test that needs RDS's
// own rules (StartSecureCluster has password and TLS ones) adds them.
func (c *Cluster) SetHBA(rules string) {
	c.t.Helper()
	p := filepath.Join(c.dir, "pg_hba.conf")
	if err := os.WriteFile(p, []byte(rules), 0o600); err != nil {
		c.t.Fatal(err)
	}
	c.chownToPostgres(p)
	if err := c.pgctl("reload"); err != nil {
		c.t.Fatalf("pg_ctl reload: %v", err)
	}
}

// Start starts the server and waits until it accepts connections.
func (c *Cluster) Start() {
	c.t.Helper()
	if err := c.pgctl("start", "-w", "-t", "30", "-l", filepath.Join(filepath.Dir(c.dir), "server.log")); err != nil {
		log, _ := os.ReadFile(filepath.Join(filepath.Dir(c.dir), "server.log"))
		c.t.Fatalf("pg_ctl start: %v\n%s", err, log)
	}
}

// Stop shuts the server down fast (open sessions are ended), as a restart would.
func (c *Cluster) Stop() {
	c.t.Helper()
	if err := c.pgctl("stop", "-w", "-m", "fast"); err != nil {
		c.t.Fatalf("pg_ctl stop: %v", err)
	}
}

func (c *Cluster) pgctl(args ...string) error {
	cmd := c.command("pg_ctl", append([]string{"-D", c.dir}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

func (c *Cluster) run(name string, args ...string) {
	c.t.Helper()
	if out, err := c.command(name, args...).CombinedOutput(); err != nil {
		c.t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	bin := filepath.Join(c.bindir, name)
	if os.Getuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	}
	return exec.Command(bin, args...)
}

func findBindir(t testing.TB) string {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) > 0 {
		return filepath.Dir(matches[len(matches)-1])
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	t.Fatal("PostgreSQL server binaries not found (make test installs them)")
	return ""
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
