package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/miyabi/miyabi/app/internal/apitest"
)

// BenchmarkDashboardRecent measures the whole request in-process (auth query, the list,
// JSON) for profiling: go test -bench DashboardRecent -cpuprofile cpu.out.
func BenchmarkDashboardRecent(b *testing.B) {
	env := apitest.New(b)
	alice := env.Login("alice")
	repo := connectRepoB(b, alice)
	for range 20 {
		alice.Do("POST", "/agents/execute", map[string]any{"repository_id": repo, "issue_number": 1, "agent_type": "codegen"}).Expect(201)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("GET", "/api/v1/dashboard/recent", nil)
			req.Header.Set("Authorization", "Bearer "+alice.Token)
			w := httptest.NewRecorder()
			env.Server.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
}

func connectRepoB(b *testing.B, c *apitest.Client) string {
	var r struct {
		ID string `json:"id"`
	}
	c.Do("POST", "/repositories", map[string]any{"full_name": "miyabi-demo/webapp"}).Expect(201).JSON(&r)
	return r.ID
}
