package parley

import "context"

// IsolationTemplate is the starting point of the department isolation
// policy (Z7).
type IsolationTemplate string

const (
	// IsolationOpen lets everyone see and message everyone (the default).
	IsolationOpen IsolationTemplate = "open"
	// IsolationStrict lets users see and message only their own
	// department, its ancestors and descendants (the root excepted) and
	// what an allow rule opens.
	IsolationStrict IsolationTemplate = "strict"
)

// IsolationPolicy says which departments may see each other in the
// directory and message each other (Z7). It is security policy: data in the
// database, changed by a security admin through the audited API (Z10).
type IsolationPolicy struct {
	Template IsolationTemplate
	// Allow opens pairs of department subtrees to each other under the
	// strict template; a rule is symmetric.
	Allow []IsolationRule
}

// IsolationRule lets the members of A's subtree and of B's subtree see and
// message each other. A rule naming the root covers everyone, on purpose:
// {root, HR} makes HR reachable from the whole organisation. A rule whose
// department was merged away or deleted simply stops matching (nobody is in
// it any more); it is not rewritten to the merge target.
type IsolationRule struct {
	A, B DepartmentID
}

// IsolationPolicyService reads and changes the isolation policy.
type IsolationPolicyService interface {
	IsolationPolicy(ctx context.Context, a *Actor) (*IsolationPolicy, error)
	SetIsolationPolicy(ctx context.Context, a *Actor, p *IsolationPolicy) error
}

// Isolation is how services other than the directory ask whether users may
// talk (chat, on creating a conversation and on every send), without
// importing the directory.
type Isolation interface {
	// IsolationView returns the current policy and department tree. It is
	// cached: a change on this node shows at once, one on another node
	// within a few seconds.
	IsolationView(ctx context.Context) (*IsolationView, error)
	// SeesWholeDirectory reports whether a holds an administrative
	// permission that shows every user in the directory whatever the
	// policy. It never widens whom a may talk to; it lets callers answer
	// such an actor "forbidden" instead of pretending a visible user does
	// not exist.
	SeesWholeDirectory(a *Actor) bool
}

// IsolationView is the isolation policy with the department tree it is read
// against: one consistent snapshot, never modified once published.
type IsolationView struct {
	Policy IsolationPolicy
	// Parents maps every department to its parent; the root's is "".
	Parents map[DepartmentID]DepartmentID
	// Version changes whenever the policy or the tree changes, so that
	// callers may cache verdicts per version.
	Version uint64
}

// Open reports whether everyone may talk to everyone: the open template,
// which is also what an unset policy means. Any other template isolates
// (fail closed).
func (v *IsolationView) Open() bool {
	return v.Policy.Template == IsolationOpen || v.Policy.Template == ""
}

// MayTalk reports whether users of departments a and b may see and
// message each other (Z7). Under strict: the same department; one
// department in the other's subtree, except that the root never counts as
// an ancestor (otherwise users placed directly in the root would see
// everyone); or an allow rule whose subtrees hold one each. A department
// missing from the tree (deleted since) has no ancestors, so only its own
// members reach each other.
func (v *IsolationView) MayTalk(a, b DepartmentID) bool {
	if v.Open() {
		return true
	}
	if a == "" || b == "" {
		return false
	}
	if a == b {
		return true
	}
	if (!v.isRoot(b) && v.within(a, b)) || (!v.isRoot(a) && v.within(b, a)) {
		return true
	}
	for _, r := range v.Policy.Allow {
		if (v.within(a, r.A) && v.within(b, r.B)) || (v.within(a, r.B) && v.within(b, r.A)) {
			return true
		}
	}
	return false
}

// AllMayTalk reports whether every pair of the departments may talk: a
// group is allowed only if nobody in it is cut off from anybody else.
func (v *IsolationView) AllMayTalk(deps []DepartmentID) bool {
	if v.Open() {
		return true
	}
	// Pairs of distinct departments only: a group of 1000 from three
	// departments costs three checks, not half a million.
	distinct := make([]DepartmentID, 0, 8)
	seen := make(map[DepartmentID]bool, 8)
	for _, d := range deps {
		if d == "" {
			return false // a user outside every department talks to nobody
		}
		if !seen[d] {
			seen[d] = true
			distinct = append(distinct, d)
		}
	}
	for i, a := range distinct {
		for _, b := range distinct[i+1:] {
			if !v.MayTalk(a, b) {
				return false
			}
		}
	}
	return true
}

func (v *IsolationView) isRoot(d DepartmentID) bool {
	p, ok := v.Parents[d]
	return ok && p == ""
}

// within reports whether d is anc or one of its descendants. The walk is
// bounded by the tree's size, so a corrupt cycle ends it.
func (v *IsolationView) within(d, anc DepartmentID) bool {
	for hops := 0; d != "" && hops <= len(v.Parents); hops++ {
		if d == anc {
			return true
		}
		p, ok := v.Parents[d]
		if !ok {
			return false
		}
		d = p
	}
	return false
}
