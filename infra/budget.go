package main

import (
	"fmt"
	"strings"
)

// Connections kept free beyond the Lambda's pools: PostgreSQL's 3 superuser slots, 2
// that RDS keeps for rdsadmin, and a person with psql during an incident.
const (
	reservedSuperuserConnections = 3
	rdsAdminConnections          = 2
	opsSessions                  = 3
	// migrateConnections is the migrate function's pool (one run at a time: its reserved
	// concurrency is 1).
	migrateConnections = 2
	// generationsDuringDeploy: when the live alias moves, the previous version's
	// environments keep their connections (frozen, they cannot close them) until
	// idle_session_timeout reaps them, while the new version's fill up.
	generationsDuringDeploy = 2
	// idleSessionTimeoutMs is set in the parameter group: a frozen environment's idle
	// connections are closed by the server after this long.
	idleSessionTimeoutMs = 10 * 60 * 1000
)

// maxConnections is the max_connections this program sets in the parameter group for
// a class with memGiB of memory: three quarters of RDS's default formula
// LEAST({DBInstanceClassMemory/9531392}, 5000) applied to the nominal memory. RDS's
// DBInstanceClassMemory is the memory left after the OS and RDS take theirs (15-25 % on
// the small classes: db.t4g.micro's default is about 81-87, not 112), so the value set
// here is at or below what the instance supports, and it is the real figure because it
// is set explicitly.
func maxConnections(memGiB int) int {
	n := memGiB * (1 << 30) / 9531392 * 3 / 4
	if n > 5000 {
		return 5000
	}
	return n
}

// MaxConnections is the max_connections of the parameter group for an instance class
// (false for a class this program does not know). The connection alarm (alarms.go)
// fires at 80 % of it.
func MaxConnections(class string) (int, bool) {
	mem, ok := instanceMemoryGiB(class)
	if !ok {
		return 0, false
	}
	return maxConnections(mem), true
}

// ConnectionBudget is what a stack may hold at most: every Lambda environment of two
// generations with a full pool, the migrate function, and the reserved and ops slots.
func ConnectionBudget(c Config) int {
	return lambdaConnections(c) + fixedConnections
}

// fixedConnections are those beside the API's: the migrate function (which connects to
// the instance directly, proxy or not), the reserved slots and the ops sessions.
const fixedConnections = migrateConnections + reservedSuperuserConnections + rdsAdminConnections + opsSessions

// lambdaConnections is what the API may hold on the database.
func lambdaConnections(c Config) int {
	if c.RDSProxy {
		// Through RDS Proxy the environments hold client connections to the proxy, not to
		// the database; the proxy's pool opens at most proxyMaxConnectionsPercent of
		// max_connections (its target group says so, proxy.go), whatever the concurrency.
		return proxyShare(c.DBMaxConnections)
	}
	return generationsDuringDeploy * c.LambdaReservedConcurrency * c.DBPoolMax
}

// proxyShare is how many database connections RDS Proxy may open: its
// maxConnectionsPercent of max_connections, rounded down (as RDS does).
func proxyShare(maxConns int) int { return maxConns * proxyMaxConnectionsPercent / 100 }

// proxyMaxConnectionsPercent is the share of max_connections RDS Proxy may open: the
// target group's maxConnectionsPercent. With the 10 fixed connections it fits every class
// with max_connections of 46 or more (all of those this program knows: 84 and up).
const proxyMaxConnectionsPercent = 80

// Memory per size for the families we know; AWS's instance-class table.
var (
	burstableGiB = map[string]int{"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32}
	generalGiB   = map[string]int{"large": 8, "xlarge": 16, "2xlarge": 32, "4xlarge": 64, "8xlarge": 128, "12xlarge": 192, "16xlarge": 256}
	memoryGiB    = map[string]int{"large": 16, "xlarge": 32, "2xlarge": 64, "4xlarge": 128, "8xlarge": 256, "12xlarge": 384, "16xlarge": 512}
	familySizes  = map[string]map[string]int{
		"t3": burstableGiB, "t4g": burstableGiB,
		"m5": generalGiB, "m6g": generalGiB, "m6i": generalGiB, "m7g": generalGiB, "m7i": generalGiB, "m8g": generalGiB,
		"r5": memoryGiB, "r6g": memoryGiB, "r6i": memoryGiB, "r7g": memoryGiB, "r7i": memoryGiB, "r8g": memoryGiB,
	}
)

// instanceMemoryGiB returns the memory of a class such as db.t4g.micro.
func instanceMemoryGiB(class string) (int, bool) {
	parts := strings.Split(class, ".")
	if len(parts) != 3 || parts[0] != "db" {
		return 0, false
	}
	mem, ok := familySizes[parts[1]][parts[2]]
	return mem, ok
}

// checkConnectionBudget enforces what exhausted the old system's database: every
// concurrent Lambda environment may hold dbPoolMax connections, twice over during a
// deploy, so together with the migrate function and the reserved slots they must fit
// in max_connections. With RDS Proxy the environments reach the database only through the
// proxy's pool, so its share stands in for them.
func checkConnectionBudget(c Config) error {
	need := ConnectionBudget(c)
	if need > c.DBMaxConnections && c.RDSProxy {
		return fmt.Errorf("connection budget: RDS Proxy's share (%d %% of max_connections = %d) + migrate (%d) + reserved and ops (%d) = %d exceeds max_connections (%d) of miyabi:dbInstanceClass %s; pick a larger class",
			proxyMaxConnectionsPercent, proxyShare(c.DBMaxConnections), migrateConnections,
			reservedSuperuserConnections+rdsAdminConnections+opsSessions, need, c.DBMaxConnections, c.DBInstanceClass)
	}
	if need > c.DBMaxConnections {
		return fmt.Errorf("connection budget: %d generations x miyabi:lambdaReservedConcurrency (%d) x miyabi:dbPoolMax (%d) + migrate (%d) + reserved and ops (%d) = %d exceeds max_connections (%d) of miyabi:dbInstanceClass %s; lower the concurrency or the pool, pick a larger class, or turn on miyabi:rdsProxy",
			generationsDuringDeploy, c.LambdaReservedConcurrency, c.DBPoolMax, migrateConnections,
			reservedSuperuserConnections+rdsAdminConnections+opsSessions, need, c.DBMaxConnections, c.DBInstanceClass)
	}
	return nil
}
