package metrics

import "github.com/jackc/pgx/v5/pgxpool"

// FromPgx reads a pgx pool's statistics.
func FromPgx(st *pgxpool.Stat) *PoolStat {
	if st == nil {
		return nil
	}
	return &PoolStat{
		Acquires: st.AcquireCount(), EmptyAcquires: st.EmptyAcquireCount(), Canceled: st.CanceledAcquireCount(),
		AcquireTime: st.AcquireDuration(), InUse: st.AcquiredConns(), Total: st.TotalConns(), Max: st.MaxConns(),
	}
}
