package wire

// IsolationPolicy is the department isolation policy (Z7): template "open"
// (everyone sees and messages everyone) or "strict" (own department,
// ancestors and descendants except the root, and what Allow opens).
type IsolationPolicy struct {
	Template string          `json:"template"`
	Allow    []IsolationRule `json:"allow"`
}

// IsolationRule lets the subtrees of departments A and B see and message
// each other under the strict template; it is symmetric.
type IsolationRule struct {
	A string `json:"a"`
	B string `json:"b"`
}
