package domain

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestWorkflowValidation(t *testing.T) {
	node := func(id, agent string) WorkflowNode { return WorkflowNode{ID: id, AgentType: agent, Name: "step " + id} }
	three := []WorkflowNode{node("plan", "coordinator"), node("code", "codegen"), node("review", "review")}
	many := make([]WorkflowNode, MaxWorkflowNodes+1)
	for i := range many {
		many[i] = node(fmt.Sprintf("n%d", i), "codegen")
	}
	cases := []struct {
		name  string
		def   WorkflowDefinition
		field string // "" means valid
	}{
		{"a chain", WorkflowDefinition{three, []WorkflowEdge{{"plan", "code"}, {"code", "review"}}}, ""},
		{"a diamond", WorkflowDefinition{append(slices.Clone(three), node("pr", "pr")),
			[]WorkflowEdge{{"plan", "code"}, {"plan", "review"}, {"code", "pr"}, {"review", "pr"}}}, ""},
		{"no edges", WorkflowDefinition{three, nil}, ""},
		{"no nodes", WorkflowDefinition{}, "body.definition.nodes"},
		{"too many nodes", WorkflowDefinition{many, nil}, "body.definition.nodes"},
		{"duplicate node id", WorkflowDefinition{[]WorkflowNode{node("a", "codegen"), node("a", "review")}, nil}, "body.definition.nodes[1].id"},
		{"bad node id", WorkflowDefinition{[]WorkflowNode{node("a b", "codegen")}, nil}, "body.definition.nodes[0].id"},
		{"unknown agent type", WorkflowDefinition{[]WorkflowNode{node("a", "codegen"), node("b", "wizard")}, nil}, "body.definition.nodes[1].agent_type"},
		{"edge from nowhere", WorkflowDefinition{three, []WorkflowEdge{{"plan", "code"}, {"ghost", "code"}}}, "body.definition.edges[1].from"},
		{"edge to nowhere", WorkflowDefinition{three, []WorkflowEdge{{"plan", "code"}, {"code", "review"}, {"plan", "review"}, {"code", "ghost"}}}, "body.definition.edges[3].to"},
		{"self loop", WorkflowDefinition{three, []WorkflowEdge{{"code", "code"}}}, "body.definition.edges[0]"},
		{"repeated edge", WorkflowDefinition{three, []WorkflowEdge{{"plan", "code"}, {"plan", "code"}}}, "body.definition.edges[1]"},
		{"cycle", WorkflowDefinition{three, []WorkflowEdge{{"plan", "code"}, {"code", "review"}, {"review", "plan"}}}, "body.definition.edges[2]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.def.Validate("body.definition")
			if tc.field == "" {
				if err != nil {
					t.Fatalf("valid definition refused: %v", err)
				}
				order := tc.def.Order()
				if len(order) != len(tc.def.Nodes) {
					t.Fatalf("order %v misses nodes", order)
				}
				for _, e := range tc.def.Edges {
					if slices.Index(order, e.From) > slices.Index(order, e.To) {
						t.Fatalf("order %v puts %s before %s", order, e.To, e.From)
					}
				}
				return
			}
			var de *Error
			if err == nil || ErrorCode(err) != CodeInvalid {
				t.Fatalf("got %v, want invalid at %s", err, tc.field)
			}
			de = err.(*Error)
			if got := de.Fields[0].Field; got != tc.field {
				t.Fatalf("fault named %q, want %q (%s)", got, tc.field, de.Message)
			}
			if !strings.HasPrefix(de.Message, tc.field) {
				t.Fatalf("message %q does not start with the field", de.Message)
			}
		})
	}
}
