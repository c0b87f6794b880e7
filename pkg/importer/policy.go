package importer

import (
	"fmt"
	"maps"
	"slices"

	"github.com/drover-io/drover/pkg/jobspec"
)

// labeledPolicyBlocks are the policy blocks written with a label, which
// Nomad stores as a map from the label to the body.
var labeledPolicyBlocks = map[string]bool{"check": true, "strategy": true}

// writePolicy writes a scaling policy in the form Nomad stores it (a
// jobspec `policy` block decoded to maps: every block a list of maps, a
// labeled block one level more) back as the Autoscaler's HCL.
func writePolicy(b *jobspec.Body, m map[string]any) error {
	keys := slices.Sorted(maps.Keys(m))
	var blocks []string
	for _, k := range keys {
		if isMapList(m[k]) {
			blocks = append(blocks, k)
			continue
		}
		if _, ok := m[k].(map[string]any); ok {
			return fmt.Errorf("policy key %q holds a map, which the policy format writes as a block", k)
		}
		b.Attr(k, m[k])
	}
	for _, k := range blocks {
		for _, el := range m[k].([]any) {
			body := el.(map[string]any)
			if !labeledPolicyBlocks[k] {
				if err := writePolicy(b.Block(k), body); err != nil {
					return err
				}
				continue
			}
			if len(body) != 1 {
				return fmt.Errorf("policy %s block has no single label", k)
			}
			for label, inner := range body {
				list, ok := inner.([]any)
				if !ok || len(list) != 1 {
					return fmt.Errorf("policy %s %q is not one block", k, label)
				}
				im, ok := list[0].(map[string]any)
				if !ok {
					return fmt.Errorf("policy %s %q is not a block", k, label)
				}
				if err := writePolicy(b.Block(k, label), im); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func isMapList(v any) bool {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return false
	}
	for _, e := range list {
		if _, ok := e.(map[string]any); !ok {
			return false
		}
	}
	return true
}
