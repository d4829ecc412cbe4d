package workerd

import (
	"encoding/json"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/miyabi/miyabi/app/internal/workerapi"
)

// MaxSummary is the longest summary the API takes.
const MaxSummary = 10000

// Result is what an agent reports on the last JSON line of its stdout.
type Result = workerapi.CompleteInputBody

// ParseResult reads an agent's result line. It keeps only what the API accepts: a
// positive whole PR number, a score from 0 to 100, a summary of valid UTF-8 cut to
// MaxSummary runes; anything else is dropped rather than failing the completion. ok is
// false when the line is not a JSON object at all.
func ParseResult(line string) (res Result, ok bool) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(strings.TrimSpace(line)), &raw); err != nil || raw == nil {
		return Result{}, false
	}
	// Each field decodes into its own pointer: JSON null leaves it nil rather than
	// keeping another field's value.
	var pr, score *float64
	if json.Unmarshal(raw["pr_number"], &pr) == nil && pr != nil && *pr >= 1 && *pr <= math.MaxInt32 && *pr == math.Trunc(*pr) {
		n := int(*pr)
		res.PRNumber = &n
	}
	if json.Unmarshal(raw["quality_score"], &score) == nil && score != nil && *score >= 0 && *score <= 100 {
		res.QualityScore = score
	}
	var s string
	if json.Unmarshal(raw["summary"], &s) == nil && s != "" {
		s = strings.ToValidUTF8(s, "\uFFFD")
		if utf8.RuneCountInString(s) > MaxSummary {
			s = string([]rune(s)[:MaxSummary])
		}
		res.Summary = &s
	}
	return res, true
}
