package httpapi

// PageParams are the query parameters of every list: page >= 1, limit 1..100.
// Embed it in a list operation's input.
type PageParams struct {
	Page  int `query:"page" minimum:"1" maximum:"1000000" default:"1" doc:"Page number, from 1"`
	Limit int `query:"limit" minimum:"1" maximum:"100" default:"20" doc:"Items per page"`
}

// Offset is the number of items before the page.
func (p PageParams) Offset() int { return (p.Page - 1) * p.Limit }

// Page is the body of every list: {items, total, page, limit}.
type Page[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total" doc:"Items across all pages"`
	Page  int `json:"page"`
	Limit int `json:"limit"`
}

// pageOf builds a list body; items is never null.
func pageOf[T any](items []T, total int, p PageParams) Page[T] {
	if items == nil {
		items = []T{}
	}
	return Page[T]{Items: items, Total: total, Page: p.Page, Limit: p.Limit}
}

// pageSlice answers one page of a list read whole (a short one: the organizations a person
// belongs to), in the same {items, total, page, limit} as the rest. Lists that can grow
// page in SQL instead.
func pageSlice[T any](all []T, p PageParams) Page[T] {
	lo := min(p.Offset(), len(all))
	hi := min(lo+p.Limit, len(all))
	return pageOf(all[lo:hi], len(all), p)
}

// mapSlice converts store rows into API shapes.
func mapSlice[A, B any](in []A, f func(A) B) []B {
	out := make([]B, len(in))
	for i, a := range in {
		out[i] = f(a)
	}
	return out
}
