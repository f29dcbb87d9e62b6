package parley

import "testing"

// The tree of the isolation tests:
//
//	root
//	├── eng
//	│   ├── web
//	│   └── ops
//	├── sales
//	│   └── emea
//	└── hr
var isoTree = map[DepartmentID]DepartmentID{
	"root": "", "eng": "root", "web": "eng", "ops": "eng",
	"sales": "root", "emea": "sales", "hr": "root",
}

// TestIsolationRule pins the strict template of Z7: same department,
// ancestor/descendant with the root exception, allow rules with their
// subtrees, and the open template.
func TestIsolationRule(t *testing.T) {
	strict := func(allow ...IsolationRule) *IsolationView {
		return &IsolationView{Policy: IsolationPolicy{Template: IsolationStrict, Allow: allow}, Parents: isoTree}
	}
	cases := []struct {
		name string
		view *IsolationView
		a, b DepartmentID
		want bool
	}{
		{"open: anyone", &IsolationView{Policy: IsolationPolicy{Template: IsolationOpen}, Parents: isoTree}, "web", "emea", true},
		{"unset policy is open", &IsolationView{Parents: isoTree}, "web", "hr", true},
		{"same department", strict(), "web", "web", true},
		{"siblings are apart", strict(), "web", "ops", false},
		{"parent and child", strict(), "eng", "web", true},
		{"child and parent (symmetric)", strict(), "web", "eng", true},
		{"grandparent", strict(), "sales", "emea", true},
		{"cousins are apart", strict(), "web", "emea", false},
		{"root is no ancestor", strict(), "root", "web", false},
		{"root is no ancestor (other way)", strict(), "hr", "root", false},
		{"root with root", strict(), "root", "root", true},
		{"allow rule opens the pair", strict(IsolationRule{"eng", "sales"}), "eng", "sales", true},
		{"allow rule is symmetric", strict(IsolationRule{"eng", "sales"}), "sales", "eng", true},
		{"allow rule covers sub-departments", strict(IsolationRule{"eng", "sales"}), "web", "emea", true},
		{"allow rule covers sub-departments (other way)", strict(IsolationRule{"eng", "sales"}), "emea", "ops", true},
		{"allow rule does not open its parent", strict(IsolationRule{"web", "emea"}), "eng", "sales", false},
		{"allow rule does not chain", strict(IsolationRule{"eng", "sales"}, IsolationRule{"sales", "hr"}), "web", "hr", false},
		{"allow rule leaves others apart", strict(IsolationRule{"eng", "sales"}), "web", "hr", false},
		{"allow rule inside one side", strict(IsolationRule{"web", "ops"}), "web", "ops", true},
		{"rule naming the root covers everyone", strict(IsolationRule{"root", "hr"}), "web", "hr", true},
		{"rule naming the root: still not web-emea", strict(IsolationRule{"root", "hr"}), "web", "emea", false},
		{"merged-away department in a rule stops matching", strict(IsolationRule{"gone", "sales"}), "web", "sales", false},
		{"department missing from the tree: itself only", strict(), "gone", "gone", true},
		{"department missing from the tree: no ancestors", strict(), "gone", "eng", false},
		{"no department talks to nobody", strict(), "", "", false},
		{"unknown template fails closed", &IsolationView{Policy: IsolationPolicy{Template: "lax"}, Parents: isoTree}, "web", "hr", false},
	}
	for _, c := range cases {
		if got := c.view.MayTalk(c.a, c.b); got != c.want {
			t.Errorf("%s: MayTalk(%s, %s) = %v, want %v", c.name, c.a, c.b, got, c.want)
		}
	}
}

// TestIsolationGroups: a group needs every pair of its departments allowed.
func TestIsolationGroups(t *testing.T) {
	v := &IsolationView{Policy: IsolationPolicy{Template: IsolationStrict, Allow: []IsolationRule{{"eng", "hr"}}}, Parents: isoTree}
	for _, c := range []struct {
		deps []DepartmentID
		want bool
	}{
		{[]DepartmentID{"web", "web", "web"}, true},
		{[]DepartmentID{"eng", "web", "ops"}, false}, // web and ops are siblings
		{[]DepartmentID{"eng", "web", "eng"}, true},
		{[]DepartmentID{"web", "hr", "eng"}, true}, // eng–hr rule covers web
		{[]DepartmentID{"web", "hr", "emea"}, false},
		{[]DepartmentID{"web", ""}, false},
		{nil, true},
	} {
		if got := v.AllMayTalk(c.deps); got != c.want {
			t.Errorf("AllMayTalk(%v) = %v, want %v", c.deps, got, c.want)
		}
	}
	open := &IsolationView{Policy: IsolationPolicy{Template: IsolationOpen}}
	if !open.AllMayTalk([]DepartmentID{"web", "emea", ""}) {
		t.Error("open template refused a group")
	}
}

// TestIsolationCycleEnds: a corrupt tree with a cycle does not hang the
// walk.
func TestIsolationCycleEnds(t *testing.T) {
	v := &IsolationView{Policy: IsolationPolicy{Template: IsolationStrict},
		Parents: map[DepartmentID]DepartmentID{"x": "y", "y": "x", "z": ""}}
	if v.MayTalk("x", "z") {
		t.Error("x reached z through a cycle")
	}
	if !v.MayTalk("x", "y") {
		t.Error("x and y are each other's ancestors")
	}
}
