package domain

import "slices"

// Agent is one kind of agent a worker can run.
type Agent struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Layer       string `json:"layer" enum:"coordination,development,quality,delivery,operations"`
}

// Agents is the catalogue, in the order the dashboard shows it.
var Agents = []Agent{
	{"coordinator", "Coordinator", "Breaks an issue into a DAG of tasks and hands them to the other agents.", "coordination"},
	{"issue", "Issue analyst", "Reads an issue, labels it, estimates it and writes acceptance criteria.", "coordination"},
	{"codegen", "Code generator", "Writes the code for an issue on a branch, with tests.", "development"},
	{"refresher", "Refresher", "Rebases stale branches and refreshes dependencies and generated files.", "development"},
	{"review", "Reviewer", "Reviews a change for correctness, security and style, and scores its quality.", "quality"},
	{"test", "Test writer", "Adds missing tests and reproduces reported bugs as failing tests.", "quality"},
	{"pr", "Pull request author", "Opens the pull request with a description, links and reviewers.", "delivery"},
	{"deployment", "Deployer", "Deploys a merged change and checks its health after release.", "operations"},
}

// KnownAgentType reports whether t is in the catalogue.
func KnownAgentType(t string) bool {
	return slices.ContainsFunc(Agents, func(a Agent) bool { return a.Type == t })
}

// AgentTypes lists the catalogue's types.
func AgentTypes() []string {
	out := make([]string, len(Agents))
	for i, a := range Agents {
		out[i] = a.Type
	}
	return out
}

// CheckAgentType is the one agent-type check of every request that names one: t must be
// in the catalogue, else a 422 naming field.
func CheckAgentType(field, t string) error {
	if !KnownAgentType(t) {
		return Invalid(field, "unknown agent type %q (known: %v)", t, AgentTypes())
	}
	return nil
}
