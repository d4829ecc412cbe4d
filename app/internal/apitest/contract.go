package apitest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/miyabi/miyabi/app/internal/httpapi"
)

// contract validates every answer the tests receive against the OpenAPI document the
// server publishes (its 3.0 variant, with kin-openapi's openapi3filter): a status the
// operation does not declare, a body that does not match its schema (a null where the
// schema says object, a missing required field), or a header it does not declare fails
// the test. Every API test is a contract test.
type contract struct {
	router routers.Router
}

var registerDecoders sync.Once

// headersToDeclare are the headers the API sends that a client may read: each must be
// declared on the response it comes with.
var headersToDeclare = []string{"X-Request-Id", "WWW-Authenticate", "Idempotent-Replayed", "Location", "Set-Cookie"}

func newContract(t testing.TB, srv *httpapi.Server, baseURL string) *contract {
	t.Helper()
	registerDecoders.Do(func() {
		openapi3filter.RegisterBodyDecoder("application/problem+json", openapi3filter.JSONBodyDecoder)
	})
	raw, err := srv.OpenAPI().Downgrade()
	if err != nil {
		t.Fatalf("contract: downgrade the document: %v", err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("contract: load the document: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: baseURL + httpapi.APIPrefix}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("contract: route the document: %v", err)
	}
	return &contract{router: router}
}

// check validates one exchange; routes outside the document (the SPA, the docs, an
// unknown path) have no contract to check.
func (c *contract) check(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("contract: %s %s answered %d outside the document: %v\nbody: %.400s", req.Method, req.URL.Path, status, err, body)
		return
	}
	resp := route.Operation.Responses.Status(status)
	if resp == nil || resp.Value == nil {
		return // a declared default answer
	}
	for _, h := range headersToDeclare {
		if header.Get(h) == "" {
			continue
		}
		if _, ok := resp.Value.Headers[h]; !ok {
			t.Errorf("contract: %s %s answered %d with header %s, which the document does not declare", req.Method, req.URL.Path, status, h)
		}
	}
}
