package domain

import (
	"encoding/json"
	"testing"
)

// Whatever definition arrives, validation never panics, and what it accepts can run:
// unique known nodes, at most MaxWorkflowNodes, edges between them, and an order in
// which every node comes after all it depends on.
func FuzzWorkflowDefinition(f *testing.F) {
	for _, seed := range []string{
		`{"nodes":[{"id":"a","agent_type":"codegen","name":"A"},{"id":"b","agent_type":"review","name":"B"}],"edges":[{"from":"a","to":"b"}]}`,
		`{"nodes":[{"id":"a","agent_type":"codegen","name":"A"}],"edges":[{"from":"a","to":"a"}]}`,
		`{"nodes":[{"id":"a","agent_type":"codegen","name":"A"},{"id":"b","agent_type":"pr","name":"B"}],"edges":[{"from":"a","to":"b"},{"from":"b","to":"a"}]}`,
		`{"nodes":[],"edges":[]}`, `{"nodes":[{"id":"a","agent_type":"nope","name":"A"}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var d WorkflowDefinition
		if json.Unmarshal(raw, &d) != nil {
			return
		}
		if err := d.Validate("body.definition"); err != nil {
			if ErrorCode(err) != CodeInvalid {
				t.Fatalf("validation error of code %s: %v", ErrorCode(err), err)
			}
			return
		}
		if len(d.Nodes) == 0 || len(d.Nodes) > MaxWorkflowNodes {
			t.Fatalf("accepted %d nodes", len(d.Nodes))
		}
		pos := map[string]int{}
		for i, id := range d.Order() {
			pos[id] = i
		}
		if len(pos) != len(d.Nodes) {
			t.Fatalf("order has %d of %d nodes", len(pos), len(d.Nodes))
		}
		for _, n := range d.Nodes {
			if !KnownAgentType(n.AgentType) {
				t.Fatalf("accepted agent type %q", n.AgentType)
			}
		}
		for _, e := range d.Edges {
			if pos[e.From] >= pos[e.To] {
				t.Fatalf("accepted a definition whose order breaks %s -> %s", e.From, e.To)
			}
		}
	})
}
