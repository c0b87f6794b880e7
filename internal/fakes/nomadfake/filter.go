package nomadfake

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/nomad/api"
)

// filter is the one go-bexpr expression drover sends to /v1/jobs,
// Meta["key"] == "value", possibly several joined with "and". Anything
// else is rejected, so that a test notices a filter the fake would
// otherwise evaluate wrongly.
type filter []metaTerm

type metaTerm struct{ key, value string }

func (f filter) match(job *api.Job) bool {
	for _, t := range f {
		if v, ok := job.Meta[t.key]; !ok || v != t.value {
			return false
		}
	}
	return true
}

// metaTermRE is one term: Meta["key"] == "value", Go-quoted strings.
var metaTermRE = regexp.MustCompile(`^\s*Meta\[("(?:[^"\\]|\\.)*")\]\s*==\s*("(?:[^"\\]|\\.)*")\s*$`)

func parseFilter(expr string) (filter, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, nil
	}
	var f filter
	for _, part := range strings.Split(expr, " and ") {
		m := metaTermRE.FindStringSubmatch(part)
		if m == nil {
			return nil, fmt.Errorf("nomadfake supports only Meta[\"key\"] == \"value\" joined with and, not %q", part)
		}
		key, err1 := strconv.Unquote(m[1])
		value, err2 := strconv.Unquote(m[2])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("nomadfake: bad string in %q", part)
		}
		f = append(f, metaTerm{key, value})
	}
	return f, nil
}
