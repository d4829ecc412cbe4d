package workerd

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestParseResult(t *testing.T) {
	res, ok := ParseResult(`{"pr_number": 142, "quality_score": 87.5, "summary": "Opened #142", "extra": [1]}`)
	if !ok || res.PRNumber == nil || *res.PRNumber != 142 || res.QualityScore == nil || *res.QualityScore != 87.5 || res.Summary == nil {
		t.Fatalf("good result: %+v %v", res, ok)
	}
	res, ok = ParseResult(`{"pr_number": -3, "quality_score": 101, "summary": 7}`)
	if !ok || res.PRNumber != nil || res.QualityScore != nil || res.Summary != nil {
		t.Fatalf("bad fields kept: %+v", res)
	}
	// A null score is no score: it must not borrow the PR number (PR #42 is not a score of 42).
	res, ok = ParseResult(`{"pr_number": 42, "quality_score": null}`)
	if !ok || res.PRNumber == nil || *res.PRNumber != 42 || res.QualityScore != nil {
		t.Fatalf("null quality_score: %+v", res)
	}
	if _, ok := ParseResult(`not json`); ok {
		t.Fatal("a non-JSON line parsed")
	}
}

// Whatever an agent prints, the parser never panics and keeps only values the API takes.
func FuzzParseResult(f *testing.F) {
	for _, seed := range []string{`{"pr_number":1,"quality_score":50,"summary":"x"}`, `{"pr_number":1e300}`, `{"pr_number":1.5}`,
		`{"quality_score":-0}`, `{"summary":"\ud800"}`, `[]`, `null`, `{"pr_number":"12"}`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		res, ok := ParseResult(line)
		if !ok {
			return
		}
		if res.PRNumber != nil && *res.PRNumber < 1 {
			t.Fatalf("pr_number %d kept", *res.PRNumber)
		}
		if q := res.QualityScore; q != nil && (*q < 0 || *q > 100) {
			t.Fatalf("quality_score %v kept", *q)
		}
		if s := res.Summary; s != nil && (!utf8.ValidString(*s) || utf8.RuneCountInString(*s) > MaxSummary) {
			t.Fatalf("summary kept invalid or too long")
		}
		if _, err := json.Marshal(res); err != nil {
			t.Fatalf("result cannot be sent: %v", err)
		}
	})
}
