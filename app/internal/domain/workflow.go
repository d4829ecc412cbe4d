package domain

import (
	"fmt"
	"regexp"
)

// MaxWorkflowNodes bounds a workflow: one run creates a task and an execution per node
// in a single transaction, and a DAG past this size is a plan nobody can read.
const MaxWorkflowNodes = 50

// WorkflowNode is one agent step of a workflow.
type WorkflowNode struct {
	ID        string `json:"id" minLength:"1" maxLength:"64" doc:"Unique within the workflow; edges refer to it"`
	AgentType string `json:"agent_type" minLength:"1" maxLength:"40" doc:"An agent type of the catalogue (GET /agents)"`
	Name      string `json:"name" minLength:"1" maxLength:"150"`
}

// WorkflowEdge says that To starts only after From completed.
type WorkflowEdge struct {
	From string `json:"from" minLength:"1" maxLength:"64"`
	To   string `json:"to" minLength:"1" maxLength:"64"`
}

// WorkflowDefinition is a DAG of agent steps.
type WorkflowDefinition struct {
	Nodes []WorkflowNode `json:"nodes" minItems:"1" maxItems:"50"`
	Edges []WorkflowEdge `json:"edges" maxItems:"1225" doc:"At most one per pair of nodes"`
}

var nodeIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// Validate checks that the definition is a runnable DAG and names the first fault by its
// JSON path under field (e.g. "body.definition.edges[3].to").
func (d WorkflowDefinition) Validate(field string) error {
	if len(d.Nodes) == 0 {
		return Invalid(field+".nodes", "a workflow needs at least one node")
	}
	if len(d.Nodes) > MaxWorkflowNodes {
		return Invalid(field+".nodes", "a workflow has at most %d nodes, this one has %d", MaxWorkflowNodes, len(d.Nodes))
	}
	index := make(map[string]int, len(d.Nodes))
	for i, n := range d.Nodes {
		at := fmt.Sprintf("%s.nodes[%d]", field, i)
		if !nodeIDPattern.MatchString(n.ID) {
			return Invalid(at+".id", "must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit")
		}
		if j, dup := index[n.ID]; dup {
			return Invalid(at+".id", "%q is already the id of nodes[%d]", n.ID, j)
		}
		index[n.ID] = i
		if err := CheckAgentType(at+".agent_type", n.AgentType); err != nil {
			return err
		}
		if n.Name == "" {
			return Invalid(at+".name", "is required")
		}
	}
	type pair struct{ from, to string }
	seen := make(map[pair]int, len(d.Edges))
	for i, e := range d.Edges {
		at := fmt.Sprintf("%s.edges[%d]", field, i)
		if _, ok := index[e.From]; !ok {
			return Invalid(at+".from", "no node has the id %q", e.From)
		}
		if _, ok := index[e.To]; !ok {
			return Invalid(at+".to", "no node has the id %q", e.To)
		}
		if e.From == e.To {
			return Invalid(at, "node %q cannot depend on itself (a cycle)", e.From)
		}
		if j, dup := seen[pair{e.From, e.To}]; dup {
			return Invalid(at, "repeats edges[%d]", j)
		}
		seen[pair{e.From, e.To}] = i
	}
	if _, cycleEdge := d.topological(); cycleEdge >= 0 {
		e := d.Edges[cycleEdge]
		return Invalid(fmt.Sprintf("%s.edges[%d]", field, cycleEdge), "closes a cycle (%s -> %s): a workflow must be acyclic", e.From, e.To)
	}
	return nil
}

// Order returns the node ids so that every node comes after all it depends on. The
// definition must be valid.
func (d WorkflowDefinition) Order() []string {
	order, _ := d.topological()
	return order
}

// Incoming counts, per node id, the edges that end at it.
func (d WorkflowDefinition) Incoming() map[string]int {
	in := make(map[string]int, len(d.Nodes))
	for _, e := range d.Edges {
		in[e.To]++
	}
	return in
}

// topological is Kahn's algorithm. When nodes remain it returns the index of an edge
// between two of them, which lies on or leads into a cycle: the fault to name.
func (d WorkflowDefinition) topological() ([]string, int) {
	in := d.Incoming()
	out := make(map[string][]string, len(d.Nodes))
	for _, e := range d.Edges {
		out[e.From] = append(out[e.From], e.To)
	}
	var queue, order []string
	for _, n := range d.Nodes {
		if in[n.ID] == 0 {
			queue = append(queue, n.ID)
		}
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		order = append(order, id)
		for _, next := range out[id] {
			in[next]--
			if in[next] == 0 {
				queue = append(queue, next)
			}
		}
	}
	if len(order) == len(d.Nodes) {
		return order, -1
	}
	// an edge whose both ends are left over; prefer one that returns to an earlier node
	// in the definition, which reads as "the edge that closes the loop"
	pos := make(map[string]int, len(d.Nodes))
	for i, n := range d.Nodes {
		pos[n.ID] = i
	}
	candidate := -1
	for i, e := range d.Edges {
		if in[e.From] > 0 && in[e.To] > 0 {
			if pos[e.To] <= pos[e.From] {
				return order, i
			}
			if candidate < 0 {
				candidate = i
			}
		}
	}
	return order, candidate
}
