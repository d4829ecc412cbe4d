package metrics

import (
	"sort"
	"time"
)

// RouteFigures are one route's totals since the process started.
type RouteFigures struct {
	Route    string           `json:"route" doc:"Method and route template, e.g. GET /tasks/{id}"`
	Requests int64            `json:"requests"`
	ByClass  map[string]int64 `json:"by_status_class" doc:"Requests per status class (2xx, 4xx, 5xx...)"`
	P50MS    float64          `json:"p50_ms" doc:"Median latency (bucket upper bound, within 19%)"`
	P99MS    float64          `json:"p99_ms" doc:"99th percentile latency (bucket upper bound, within 19%)"`
	MeanMS   float64          `json:"mean_ms"`
}

// ClaimFigures count worker claims since the process started.
type ClaimFigures struct {
	Empty    int64 `json:"empty" doc:"Claims that found nothing to do"`
	WithWork int64 `json:"with_work" doc:"Claims that handed out at least one task"`
}

// NotificationFigures count notification delivery attempts since the process started.
type NotificationFigures struct {
	Delivered int64 `json:"delivered" doc:"Attempts the receiver accepted"`
	Retrying  int64 `json:"retrying" doc:"Attempts that failed and will be retried (5xx, timeout, connection error)"`
	Failed    int64 `json:"failed" doc:"Attempts that failed for good (4xx, a refused address, 24 h of retries)"`
}

// Snapshot is this process's running totals.
type Snapshot struct {
	Since         time.Time           `json:"since" doc:"When this process started counting"`
	Routes        []RouteFigures      `json:"routes"`
	Claims        ClaimFigures        `json:"claims"`
	Notifications NotificationFigures `json:"notifications"`
}

// Snapshot returns the totals since start, routes sorted by request count.
func (r *Registry) Snapshot() Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Snapshot{Since: r.started.UTC(), Routes: []RouteFigures{}, Claims: ClaimFigures{Empty: r.claimTot[0], WithWork: r.claimTot[1]},
		Notifications: NotificationFigures{Delivered: r.notesTot[0], Retrying: r.notesTot[1], Failed: r.notesTot[2]}}
	byRoute := map[string]*RouteFigures{}
	for k, n := range r.totals {
		f := byRoute[k.route]
		if f == nil {
			f = &RouteFigures{Route: k.route, ByClass: map[string]int64{}}
			byRoute[k.route] = f
		}
		f.ByClass[k.class] += n
		f.Requests += n
	}
	for route, f := range byRoute {
		if h := r.hist[route]; h != nil && h.n > 0 {
			f.P50MS, f.P99MS = h.quantile(0.5), h.quantile(0.99)
			f.MeanMS = float64(int64(h.sum/float64(h.n)*1000)) / 1000
		}
		s.Routes = append(s.Routes, *f)
	}
	sort.Slice(s.Routes, func(i, j int) bool {
		if s.Routes[i].Requests != s.Routes[j].Requests {
			return s.Routes[i].Requests > s.Routes[j].Requests
		}
		return s.Routes[i].Route < s.Routes[j].Route
	})
	return s
}
