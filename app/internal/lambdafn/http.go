package lambdafn

import (
	"context"
	"encoding/json"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
)

// serveHTTP runs one API Gateway HTTP API (payload 2.0) request through the API.
//
// The adapter turns the event into an *http.Request (method, raw path, raw query string,
// base64 bodies decoded, the Lambda context attached) and the response writer turns the
// answer back (Set-Cookie into the `cookies` array, bodies that are not UTF-8 base64
// encoded). Two things are fixed up around it:
//   - headers: the adapter splits every header but a few on commas, which changes values
//     that hold one (an origin secret, a custom header); API Gateway already joined
//     repeated headers with ", ", so each header is taken exactly as it arrived.
//   - cookies: the `cookies` array becomes one Cookie header, as a browser sends it.
func (f *Function) serveHTTP(ctx context.Context, raw json.RawMessage) (events.APIGatewayV2HTTPResponse, error) {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		return problemResponse(http.StatusBadRequest, "The request event could not be read.", ""), nil
	}
	if f.requestTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.requestTimeout)
		defer cancel()
	}
	req, err := f.proxy.EventToRequestWithContext(ctx, ev)
	if err != nil {
		// a body marked base64 that is not, or an unparsable path
		return problemResponse(http.StatusBadRequest, "The request could not be read: "+err.Error(), ev.RequestContext.RequestID), nil
	}
	req.Header = exactHeaders(ev)
	// API Gateway's request id becomes the app's, so its access log, the app's log
	// lines and the problem a user reports all carry the same request_id.
	if req.Header.Get("X-Request-Id") == "" && ev.RequestContext.RequestID != "" {
		req.Header.Set("X-Request-Id", ev.RequestContext.RequestID)
	}

	w := core.NewProxyResponseWriterV2()
	f.handler.ServeHTTP(w, req)
	resp, err := w.GetProxyResponse()
	if err != nil {
		f.log.ErrorContext(ctx, "lambda response", "error", err, "request_id", ev.RequestContext.RequestID)
		return problemResponse(http.StatusInternalServerError, "Internal error.", ev.RequestContext.RequestID), nil
	}
	return resp, nil
}

func exactHeaders(ev events.APIGatewayV2HTTPRequest) http.Header {
	h := make(http.Header, len(ev.Headers)+1)
	for k, v := range ev.Headers {
		h[textproto.CanonicalMIMEHeaderKey(k)] = []string{v}
	}
	if len(ev.Cookies) > 0 {
		h["Cookie"] = []string{strings.Join(ev.Cookies, "; ")}
	}
	return h
}

// problemResponse answers before the API could: RFC 9457 like every other error, with
// API Gateway's request id (when the event had one) for the logs query.
func problemResponse(status int, detail, requestID string) events.APIGatewayV2HTTPResponse {
	p := map[string]any{"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail}
	if requestID != "" {
		p["request_id"] = requestID
	}
	body, _ := json.Marshal(p)
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/problem+json", "Cache-Control": "no-store"},
		Body:       string(body),
		Cookies:    []string{},
	}
}
