package hclbody

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

func parse(t *testing.T, src string) hcl.Body {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(src), "t.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("parse %q: %s", src, diags.Error())
	}
	return f.Body
}

// same fails unless Content and the body's own Content agree on content
// and diagnostics.
func same(t *testing.T, body hcl.Body, schema *hcl.BodySchema) {
	t.Helper()
	want, wantDiags := body.Content(schema)
	got, gotDiags := Content(body, schema)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("content differs from hcl's:\n got  %s\n want %s", describe(got), describe(want))
	}
	if g, w := diagnostics(gotDiags), diagnostics(wantDiags); !reflect.DeepEqual(g, w) {
		t.Errorf("diagnostics differ from hcl's:\n got  %q\n want %q", g, w)
	}
}

// diagnostics lists diags in full, sorted: hcl reports unsupported
// arguments in map order.
func diagnostics(diags hcl.Diagnostics) []string {
	var out []string
	for _, d := range diags {
		out = append(out, fmt.Sprintf("%d %s: %s (%v; %v)", d.Severity, d.Summary, d.Detail, d.Subject, d.Context))
	}
	slices.Sort(out)
	return out
}

func describe(c *hcl.BodyContent) string {
	var b strings.Builder
	fmt.Fprintf(&b, "attrs %d (nil %t):", len(c.Attributes), c.Attributes == nil)
	for name := range c.Attributes {
		b.WriteString(" " + name)
	}
	fmt.Fprintf(&b, "; blocks %d (nil %t):", len(c.Blocks), c.Blocks == nil)
	for _, block := range c.Blocks {
		b.WriteString(" " + block.Type + fmt.Sprint(block.Labels))
	}
	return b.String()
}

var appSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "image", Required: true}, {Name: "count"}, {Name: "env"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "port", LabelNames: []string{"name"}}, {Type: "resources"}},
}

func TestContentIsHCLs(t *testing.T) {
	for _, c := range []struct{ what, src string }{
		{"every kind of item, in order", "image = \"a\"\ncount = 2\nport \"http\" {\n  to = 1\n}\nresources {}\nport \"grpc\" {}\n"},
		{"only what is required", "image = \"a\"\n"},
		{"an unknown argument", "image = \"a\"\nimgae = \"b\"\n"},
		{"an unknown block", "image = \"a\"\nvolume \"v\" {}\n"},
		{"a required argument missing", "count = 1\n"},
		{"an extra label", "image = \"a\"\nresources \"x\" {}\n"},
		{"a label missing", "image = \"a\"\nport {}\n"},
		{"a block written as an argument", "image = \"a\"\nresources = {}\n"},
		{"an argument written as a block", "image = \"a\"\ncount {}\n"},
		{"empty", ""},
	} {
		t.Run(c.what, func(t *testing.T) { same(t, parse(t, c.src), appSchema) })
	}
}

// A body PartialContent leaves hides what it took: Content must not take
// the short way through it, or the hidden items would come back.
func TestContentOfARemainingBody(t *testing.T) {
	body := parse(t, "image = \"a\"\ncount = 2\nport \"http\" {}\nresources {}\n")
	_, remain, diags := body.PartialContent(&hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "count"}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "port", LabelNames: []string{"name"}}},
	})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	same(t, remain, appSchema)
	same(t, remain, &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "image"}}, Blocks: []hcl.BlockHeaderSchema{{Type: "resources"}}})
}

// Random bodies against random schemas drawn from the same few names, so
// that most fit and many do not in every way there is.
func TestContentOfRandomBodies(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"a", "b", "c", "d"}
	fits := 0
	for range 3000 {
		var src strings.Builder
		for range rng.IntN(5) {
			name := names[rng.IntN(len(names))]
			if rng.IntN(2) == 0 {
				if !strings.Contains(src.String(), "\n"+name+" =") {
					fmt.Fprintf(&src, "\n%s = %d\n", name, rng.IntN(9))
				}
				continue
			}
			src.WriteString(name)
			for range rng.IntN(3) {
				fmt.Fprintf(&src, " %q", names[rng.IntN(len(names))])
			}
			src.WriteString(" {}\n")
		}
		schema := &hcl.BodySchema{}
		for _, name := range names {
			switch rng.IntN(3) {
			case 0:
				schema.Attributes = append(schema.Attributes, hcl.AttributeSchema{Name: name, Required: rng.IntN(4) == 0})
			case 1:
				block := hcl.BlockHeaderSchema{Type: name}
				for range rng.IntN(3) {
					block.LabelNames = append(block.LabelNames, "label")
				}
				schema.Blocks = append(schema.Blocks, block)
			}
		}
		body := parse(t, src.String())
		if _, d := body.Content(schema); !d.HasErrors() {
			fits++
		}
		same(t, body, schema)
		if t.Failed() {
			t.Fatalf("body:\n%s\nschema: %+v", src.String(), schema)
		}
	}
	if fits < 300 {
		t.Fatalf("only %d of 3000 random bodies fit their schema: the short way went almost untested", fits)
	}
}

func BenchmarkContent(b *testing.B) {
	f, diags := hclsyntax.ParseConfig([]byte("image = \"a\"\ncount = 2\nenv = {}\nport \"http\" {}\nport \"grpc\" {}\nresources {}\n"), "b.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	b.Run("hcl", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			f.Body.Content(appSchema)
		}
	})
	b.Run("hclbody", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Content(f.Body, appSchema)
		}
	})
}
