package nomadfake

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/hashicorp/nomad/api"
)

// filter is the subset of go-bexpr that drover sends to /v1/jobs:
// Meta["key"] == "value" (or Meta.key, or !=), joined with "and".
// Anything else is rejected, so that a test notices a filter the fake
// would otherwise evaluate wrongly.
type filter []metaTerm

type metaTerm struct {
	key, value string
	negate     bool
}

func (f filter) match(job *api.Job) bool {
	for _, t := range f {
		v, ok := job.Meta[t.key]
		if (ok && v == t.value) == t.negate {
			return false
		}
	}
	return true
}

func parseFilter(expr string) (filter, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, nil
	}
	p := &filterParser{src: expr}
	var f filter
	for {
		t, err := p.term()
		if err != nil {
			return nil, err
		}
		f = append(f, t)
		p.space()
		if p.eof() {
			return f, nil
		}
		if !p.keyword("and") {
			return nil, p.errorf("expected \"and\"")
		}
	}
}

type filterParser struct {
	src string
	pos int
}

func (p *filterParser) errorf(format string, args ...any) error {
	return fmt.Errorf("1:%d (%d): %s (nomadfake supports only Meta[\"key\"] ==/!= \"value\" joined with and)",
		p.pos+1, p.pos, fmt.Sprintf(format, args...))
}

func (p *filterParser) eof() bool { return p.pos >= len(p.src) }

func (p *filterParser) space() {
	for !p.eof() && unicode.IsSpace(rune(p.src[p.pos])) {
		p.pos++
	}
}

func (p *filterParser) keyword(k string) bool {
	p.space()
	if strings.HasPrefix(p.src[p.pos:], k) {
		end := p.pos + len(k)
		if end == len(p.src) || unicode.IsSpace(rune(p.src[end])) {
			p.pos = end
			return true
		}
	}
	return false
}

func (p *filterParser) term() (metaTerm, error) {
	var t metaTerm
	p.space()
	if !strings.HasPrefix(p.src[p.pos:], "Meta") {
		return t, p.errorf("expected Meta selector")
	}
	p.pos += len("Meta")
	switch {
	case strings.HasPrefix(p.src[p.pos:], "["):
		p.pos++
		key, err := p.str()
		if err != nil {
			return t, err
		}
		if !strings.HasPrefix(p.src[p.pos:], "]") {
			return t, p.errorf("expected ]")
		}
		p.pos++
		t.key = key
	case strings.HasPrefix(p.src[p.pos:], "."):
		p.pos++
		start := p.pos
		for !p.eof() && (p.src[p.pos] == '_' || p.src[p.pos] == '-' || unicode.IsLetter(rune(p.src[p.pos])) || unicode.IsDigit(rune(p.src[p.pos]))) {
			p.pos++
		}
		if p.pos == start {
			return t, p.errorf("expected a key after Meta.")
		}
		t.key = p.src[start:p.pos]
	default:
		return t, p.errorf("expected Meta[\"key\"] or Meta.key")
	}
	p.space()
	switch {
	case strings.HasPrefix(p.src[p.pos:], "=="):
	case strings.HasPrefix(p.src[p.pos:], "!="):
		t.negate = true
	default:
		return t, p.errorf("expected == or !=")
	}
	p.pos += 2
	p.space()
	v, err := p.str()
	if err != nil {
		return t, err
	}
	t.value = v
	return t, nil
}

// str reads a double-quoted (with escapes) or backquoted string.
func (p *filterParser) str() (string, error) {
	if p.eof() {
		return "", p.errorf("expected a string")
	}
	q := p.src[p.pos]
	if q != '"' && q != '`' {
		return "", p.errorf("expected a string")
	}
	for end := p.pos + 1; end < len(p.src); end++ {
		if p.src[end] == '\\' && q == '"' {
			end++
			continue
		}
		if p.src[end] == q {
			v, err := strconv.Unquote(p.src[p.pos : end+1])
			if err != nil {
				return "", p.errorf("bad string: %v", err)
			}
			p.pos = end + 1
			return v, nil
		}
	}
	return "", p.errorf("unterminated string")
}
