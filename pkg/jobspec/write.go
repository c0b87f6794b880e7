package jobspec

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Body is a tree of HCL attributes and blocks, printed with the layout
// `hcl fmt` gives (two-space indent, aligned = in runs of attributes).
// drover writes HCL with this small printer rather than hclwrite, whose
// dependencies cost every drover start more than a millisecond.
type Body struct {
	items []hclItem
}

type hclItem struct {
	// An attribute has a name and value; a block has a type, labels, body.
	name   string
	value  any
	raw    string // pre-rendered value (heredocs); used when not empty
	block  *Body
	labels []string
}

// Attr adds an attribute; value is a string, number, bool, list or map.
func (b *Body) Attr(name string, value any) {
	b.items = append(b.items, hclItem{name: name, value: value})
}

// RawAttr adds an attribute whose value is already HCL (a heredoc).
func (b *Body) RawAttr(name, raw string) { b.items = append(b.items, hclItem{name: name, raw: raw}) }

// Block adds a block and returns its body.
func (b *Body) Block(typ string, labels ...string) *Body {
	child := &Body{}
	b.items = append(b.items, hclItem{name: typ, block: child, labels: labels})
	return child
}

// String prints the body.
func (b *Body) String() string {
	var sb strings.Builder
	b.write(&sb, 0)
	return sb.String()
}

func (b *Body) write(sb *strings.Builder, depth int) {
	pad := strings.Repeat("  ", depth)
	for i := 0; i < len(b.items); i++ {
		it := b.items[i]
		if it.block != nil {
			sb.WriteString(pad + it.name)
			for _, l := range it.labels {
				sb.WriteString(" " + Quote(l))
			}
			if len(it.block.items) == 0 {
				sb.WriteString(" {\n" + pad + "}\n")
				continue
			}
			sb.WriteString(" {\n")
			it.block.write(sb, depth+1)
			sb.WriteString(pad + "}\n")
			continue
		}
		// A run of single-line attributes aligns its "=" signs.
		end := i
		width := 0
		for end < len(b.items) && b.items[end].block == nil {
			v := b.items[end].render(depth)
			if strings.Contains(v, "\n") && end > i {
				break
			}
			width = max(width, len(hclKey(b.items[end].name)))
			end++
			if strings.Contains(v, "\n") {
				break
			}
		}
		for _, a := range b.items[i:end] {
			key := hclKey(a.name)
			fmt.Fprintf(sb, "%s%s%s = %s\n", pad, key, strings.Repeat(" ", width-len(key)), a.render(depth))
		}
		i = end - 1
	}
}

func (it hclItem) render(depth int) string {
	if it.raw != "" {
		return it.raw
	}
	return hclValue(it.value, depth)
}

// hclValue renders a Go value as an HCL expression.
func hclValue(v any, depth int) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return Quote(x)
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = Quote(s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []any:
		parts := make([]string, len(x))
		multiline := false
		for i, el := range x {
			parts[i] = hclValue(el, depth+1)
			multiline = multiline || strings.Contains(parts[i], "\n")
		}
		if !multiline {
			return "[" + strings.Join(parts, ", ") + "]"
		}
		pad := strings.Repeat("  ", depth+1)
		return "[\n" + pad + strings.Join(parts, ",\n"+pad) + ",\n" + strings.Repeat("  ", depth) + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		inner := &Body{}
		for _, k := range keys {
			inner.Attr(k, x[k])
		}
		var sb strings.Builder
		inner.write(&sb, depth+1)
		return "{\n" + sb.String() + strings.Repeat("  ", depth) + "}"
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, s := range x {
			m[k] = s
		}
		return hclValue(m, depth)
	}
	return Quote(fmt.Sprint(v))
}

// hclKey returns name bare when it is an HCL identifier, else quoted.
func hclKey(name string) string {
	for i, r := range name {
		ok := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && (r == '-' || r >= '0' && r <= '9')
		if !ok {
			return Quote(name)
		}
	}
	if name == "" {
		return `""`
	}
	return name
}

// Quote quotes s as an HCL string literal: JSON-like escapes, plus the
// doubled $${ and %%{ that keep template sequences literal.
func Quote(s string) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for i, r := range s {
		switch {
		case r == '"' || r == '\\':
			sb.WriteByte('\\')
			sb.WriteRune(r)
		case r == '\n':
			sb.WriteString(`\n`)
		case r == '\r':
			sb.WriteString(`\r`)
		case r == '\t':
			sb.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&sb, `\u%04x`, r)
		case (r == '$' || r == '%') && i+1 < len(s) && s[i+1] == '{':
			sb.WriteRune(r)
			sb.WriteRune(r)
		default:
			sb.WriteRune(r)
		}
	}
	sb.WriteByte('"')
	return sb.String()
}

// Heredoc renders a multi-line string as a heredoc, doubling the template
// sequences HCL would otherwise interpolate, with a delimiter that no line
// of the string is.
func Heredoc(s string) string {
	escaped := strings.NewReplacer("${", "$${", "%{", "%%{").Replace(s)
	if !strings.HasSuffix(escaped, "\n") {
		escaped += "\n"
	}
	delim := "EOT"
	for n := 1; containsLine(escaped, delim); n++ {
		delim = fmt.Sprintf("EOT%d", n)
	}
	return "<<" + delim + "\n" + escaped + delim
}

func containsLine(s, line string) bool {
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}
