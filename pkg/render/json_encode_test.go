package render

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/drover-io/drover/pkg/spec"
)

// renderExamples renders the example specs in jobs/.
func renderExamples(tb testing.TB, version string) *Bundle {
	tb.Helper()
	set, diags := spec.Load(spec.LoadOptions{Paths: []string{"../../jobs"}})
	if diags.HasErrors() {
		tb.Fatal(diags.Error())
	}
	b, err := Render(set, Options{Version: version})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// encodingJSON is what marshalJSON must equal: encoding/json's own
// indenting encoder.
func encodingJSON(t testing.TB, v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", jsonIndent)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestIndentMatchesEncodingJSON: every artifact of the examples, and a
// few thousand random documents, encode to encoding/json's bytes.
func TestIndentMatchesEncodingJSON(t *testing.T) {
	b := renderExamples(t, "test")
	var values []any
	for _, j := range b.Jobs {
		values = append(values, JobRegisterBody{Job: j.Job})
	}
	for _, ce := range b.ConfigEntries {
		values = append(values, ce.Entry)
	}
	for _, r := range b.Registrations {
		values = append(values, r.Registration)
	}
	for _, r := range b.VaultRoles {
		values = append(values, r.Data)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		values = append(values, randomJSON(rng, 0))
	}
	values = append(values, nil, 1.5e300, "", `"\<>&`+"\u2028\x01", []any{}, map[string]any{}, []any{[]any{}, map[string]any{}})
	for _, v := range values {
		got, err := marshalJSON(v)
		if err != nil {
			t.Fatal(err)
		}
		if want := encodingJSON(t, v); !bytes.Equal(got, want) {
			t.Fatalf("marshalJSON(%#v):\n%s\nencoding/json:\n%s", v, got, want)
		}
	}
}

func randomJSON(rng *rand.Rand, depth int) any {
	k := rng.IntN(9)
	if depth > 4 {
		k = rng.IntN(5)
	}
	switch k {
	case 0:
		return nil
	case 1:
		return rng.IntN(2) == 0
	case 2:
		return rng.NormFloat64() * 1e6
	case 3:
		return rng.Int64() - rng.Int64()
	case 4:
		return randomString(rng)
	case 5, 6:
		a := make([]any, rng.IntN(4))
		for i := range a {
			a[i] = randomJSON(rng, depth+1)
		}
		return a
	default:
		m := map[string]any{}
		for range rng.IntN(4) {
			m[randomString(rng)] = randomJSON(rng, depth+1)
		}
		return m
	}
}

// randomString mixes the characters the indenter must step over: quotes,
// backslashes, JSON punctuation, control characters, HTML and non-ASCII.
func randomString(rng *rand.Rand) string {
	parts := []string{"a", "\"", "\\", "{", "}", "[", "]", ",", ":", " ", "\n", "\t", "\x00", "<", "&", "é", "\u2028", "\\\"", "${x}"}
	var b strings.Builder
	for range rng.IntN(8) {
		b.WriteString(parts[rng.IntN(len(parts))])
	}
	return b.String()
}

func BenchmarkMarshalJob(b *testing.B) {
	bundle := renderExamples(b, "bench")
	job := JobRegisterBody{Job: bundle.Jobs[0].Job}
	b.Run("marshalJSON", func(b *testing.B) {
		for b.Loop() {
			if _, err := marshalJSON(job); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			encodingJSON(b, job)
		}
	})
}
