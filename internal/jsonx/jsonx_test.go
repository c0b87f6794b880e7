package jsonx

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPruneAndDiff(t *testing.T) {
	old, _ := Generic(map[string]any{
		"Kind": "service-intentions", "CreateIndex": 0,
		"Sources": []map[string]any{{"Name": "web", "Action": "allow"}, {"Name": "*", "Action": "deny"}},
		"Meta":    map[string]string{"a": "1"},
	})
	new, _ := Generic(map[string]any{
		"Kind":    "service-intentions",
		"Sources": []map[string]any{{"Name": "*", "Action": "deny"}, {"Name": "web", "Action": "deny"}, {"Name": "api", "Action": "allow"}},
		"Meta":    map[string]string{},
	})
	po, _ := Prune(old)
	pn, _ := Prune(new)
	got := Diff(Flatten(po), Flatten(pn))
	want := []string{
		`- Meta.a = "1"`,
		`+ Sources[api].Action = "allow"`,
		`+ Sources[api].Name = "api"`,
		`~ Sources[web].Action: "allow" -> "deny"`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !Equal(po, po) || Equal(po, pn) {
		t.Error("Equal")
	}
}
