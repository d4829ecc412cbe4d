// Package emfcheck reads CloudWatch Embedded Metric Format documents the way CloudWatch
// Logs does, for tests: it rejects what the specification rejects and returns the metric
// values with their dimensions and units.
package emfcheck

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// Units CloudWatch accepts.
var Units = []string{"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
	"Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
	"Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
	"Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None"}

// Metric is one extracted metric: what CloudWatch would store.
type Metric struct {
	Namespace  string
	Name       string
	Unit       string
	Dimensions map[string]string
	Values     []float64
}

// Doc is one document: its metrics and every root member.
type Doc struct {
	Metrics []Metric
	Root    map[string]any
}

// Parse checks one log line as an EMF document.
func Parse(line []byte) (Doc, error) {
	var root map[string]any
	if err := json.Unmarshal(line, &root); err != nil {
		return Doc{}, fmt.Errorf("not a JSON object: %w", err)
	}
	var meta struct {
		Timestamp         *float64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct {
				Name, Unit string
			} `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	}
	raw, ok := root["_aws"]
	if !ok {
		return Doc{}, fmt.Errorf("no _aws member")
	}
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, &meta); err != nil {
		return Doc{}, fmt.Errorf("_aws: %w", err)
	}
	if meta.Timestamp == nil || *meta.Timestamp <= 0 {
		return Doc{}, fmt.Errorf("_aws.Timestamp missing")
	}
	if len(meta.CloudWatchMetrics) == 0 {
		return Doc{}, fmt.Errorf("_aws.CloudWatchMetrics empty")
	}
	doc := Doc{Root: root}
	for _, d := range meta.CloudWatchMetrics {
		if d.Namespace == "" || len(d.Namespace) > 255 {
			return Doc{}, fmt.Errorf("namespace %q", d.Namespace)
		}
		if len(d.Dimensions) == 0 {
			return Doc{}, fmt.Errorf("directive without Dimensions")
		}
		if len(d.Metrics) == 0 || len(d.Metrics) > 100 {
			return Doc{}, fmt.Errorf("%d metrics in a directive", len(d.Metrics))
		}
		for _, set := range d.Dimensions {
			if len(set) > 30 {
				return Doc{}, fmt.Errorf("dimension set of %d keys", len(set))
			}
			dims := map[string]string{}
			for _, k := range set {
				v, ok := root[k].(string)
				if !ok || v == "" {
					return Doc{}, fmt.Errorf("dimension %q is not a non-empty string member of the root", k)
				}
				dims[k] = v
			}
			for _, m := range d.Metrics {
				if m.Name == "" {
					return Doc{}, fmt.Errorf("metric without a name")
				}
				if m.Unit != "" && !slices.Contains(Units, m.Unit) {
					return Doc{}, fmt.Errorf("metric %s: unit %q unknown to CloudWatch", m.Name, m.Unit)
				}
				var vals []float64
				switch v := root[m.Name].(type) {
				case float64:
					vals = []float64{v}
				case []any:
					if len(v) == 0 || len(v) > 100 {
						return Doc{}, fmt.Errorf("metric %s: %d values", m.Name, len(v))
					}
					for _, x := range v {
						f, ok := x.(float64)
						if !ok {
							return Doc{}, fmt.Errorf("metric %s: a value is not a number", m.Name)
						}
						vals = append(vals, f)
					}
				default:
					return Doc{}, fmt.Errorf("metric %s: root member missing or not a number", m.Name)
				}
				doc.Metrics = append(doc.Metrics, Metric{Namespace: d.Namespace, Name: m.Name, Unit: m.Unit, Dimensions: dims, Values: vals})
			}
		}
	}
	return doc, nil
}

// Lines parses every line of out that carries an _aws member; other lines (the JSON
// log) are skipped. A line that claims to be EMF and is not is an error.
func Lines(out []byte) ([]Doc, error) {
	var docs []Doc
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if !bytes.Contains(line, []byte(`"_aws"`)) {
			continue
		}
		// the emulator may prefix a line; EMF needs the object alone
		if i := bytes.IndexByte(line, '{'); i > 0 {
			line = line[i:]
		}
		d, err := Parse(line)
		if err != nil {
			return nil, fmt.Errorf("%w in %s", err, line)
		}
		docs = append(docs, d)
	}
	return docs, sc.Err()
}

// Find returns the metrics named name whose dimensions include every pair of want.
func Find(docs []Doc, name string, want map[string]string) []Metric {
	var out []Metric
	for _, d := range docs {
		for _, m := range d.Metrics {
			if m.Name != name || len(m.Dimensions) != len(want) {
				continue
			}
			match := true
			for k, v := range want {
				if m.Dimensions[k] != v {
					match = false
				}
			}
			if match {
				out = append(out, m)
			}
		}
	}
	return out
}
