package httpapi

import (
	"context"
	"fmt"

	"github.com/danielgtaylor/huma/v2"
)

// Permission markers that are not seeded permissions.
const (
	permPublic = "public" // anyone, signed in or not
	permPerson = "person" // any signed-in person, whatever their role
	permWorker = "worker" // a worker token, on /worker/* only
	// permPersonOrWorker is a signed-in person (an active member of their active
	// organization) or a worker token: the events ticket.
	permPersonOrWorker = "person-or-worker"
)

// permissionExt is the OpenAPI extension that records each operation's permission, so a
// test can prove no route was registered without one.
const permissionExt = "x-miyabi-permission"

// op registers one operation behind its permission check. Handlers return plain errors;
// op turns them into problems in one place.
func op[I, O any](s *Server, o huma.Operation, perm string, handler func(context.Context, *I) (*O, error)) {
	if perm == "" {
		panic(fmt.Sprintf("operation %s declares no permission", o.OperationID))
	}
	if o.Extensions == nil {
		o.Extensions = map[string]any{}
	}
	o.Extensions[permissionExt] = perm
	switch perm {
	case permPublic:
	case permWorker:
		o.Security = []map[string][]string{{"worker": {}}}
	case permPersonOrWorker:
		o.Security = []map[string][]string{{"bearer": {}}, {"worker": {}}}
	default:
		o.Security = []map[string][]string{{"bearer": {}}}
	}
	o.Middlewares = append(o.Middlewares, s.authenticate(perm))
	huma.Register(s.api, o, func(ctx context.Context, in *I) (*O, error) {
		out, err := handler(ctx, in)
		if err != nil {
			return nil, problemFor(ctx, s.log, err)
		}
		return out, nil
	})
}
