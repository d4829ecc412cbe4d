package main

import (
	"fmt"
	"strings"
)

// connectionHeadroom is kept free beyond the Lambda's pools: 3 slots PostgreSQL keeps
// for superusers, 2 RDS keeps for rdsadmin, and a few for a person with psql during an
// incident. It also absorbs that RDS's DBInstanceClassMemory is a little below the
// nominal memory used here.
const connectionHeadroom = 15

// maxConnections is RDS PostgreSQL's default max_connections,
// LEAST({DBInstanceClassMemory/9531392}, 5000), for a class with memGiB of memory.
func maxConnections(memGiB int) int {
	n := memGiB * (1 << 30) / 9531392
	if n > 5000 {
		return 5000
	}
	return n
}

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
// concurrent Lambda instance may hold dbPoolMax connections, so together they must
// fit in max_connections with headroom to spare.
func checkConnectionBudget(c Config) error {
	need := c.LambdaReservedConcurrency*c.DBPoolMax + connectionHeadroom
	if need > c.DBMaxConnections {
		return fmt.Errorf("connection budget: miyabi:lambdaReservedConcurrency (%d) x miyabi:dbPoolMax (%d) + headroom (%d) = %d exceeds max_connections (%d) of miyabi:dbInstanceClass %s; lower the concurrency or the pool, or pick a larger class",
			c.LambdaReservedConcurrency, c.DBPoolMax, connectionHeadroom, need, c.DBMaxConnections, c.DBInstanceClass)
	}
	return nil
}
