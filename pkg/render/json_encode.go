package render

import (
	"bytes"
	"encoding/json"
	"io"
	"sync"

	consulapi "github.com/hashicorp/consul/api"
	nomadapi "github.com/hashicorp/nomad/api"
)

// Rendered JSON is indented with two spaces, as json.Encoder.SetIndent("",
// "  ") writes it, without HTML escaping (templates contain '<' and '&'
// that should stay readable), ending in a newline.
//
// encoding/json indents in a second pass over the encoded bytes, driving
// its validating scanner one byte at a time; for a Nomad job, which carries
// every canonical default, that pass costs more than the encoding itself.
// marshalJSON encodes compactly and then indents in one pass that relies on
// what the encoder guarantees (valid JSON, no whitespace between tokens):
// it steps over each string and literal in one go. The bytes are the same
// as encoding/json's, which TestIndentMatchesEncodingJSON checks.

// compactBuffers holds the compact encodings between calls; one that grew
// past maxPooledBuffer (a manifest) is left to the garbage collector.
var compactBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBuffer = 256 << 10

// WarmEncoders builds encoding/json's encoders for every type an artifact
// file holds. encoding/json builds a type's encoder, and those of every
// type it can reach, on the first encoding of a value of it: for a Nomad
// job that walk takes over a millisecond, more than the rest of rendering
// a small project. Render calls it on its own goroutine as the first spec
// is parsed (spec.StreamOptions.Parsing), so that the walk overlaps
// parsing the specs instead of following it; a render that parses none
// replays what it wrote before, and needs no encoder.
func WarmEncoders() {
	for _, v := range []any{
		JobRegisterBody{Job: &nomadapi.Job{}},
		&consulapi.ServiceConfigEntry{},
		&consulapi.ServiceIntentionsConfigEntry{},
		&consulapi.ServiceRouterConfigEntry{},
		&consulapi.IngressGatewayConfigEntry{},
		&consulapi.TerminatingGatewayConfigEntry{},
		&consulapi.CatalogRegistration{},
	} { // manifest.json has its own encoder (encodeManifest)
		_ = json.NewEncoder(io.Discard).Encode(v)
	}
}

// marshalJSON encodes v indented, without HTML escaping, ending in a
// newline: exactly what a json.Encoder with SetEscapeHTML(false) and
// SetIndent("", jsonIndent) writes.
func marshalJSON(v any) ([]byte, error) {
	buf := compactBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledBuffer {
			compactBuffers.Put(buf)
		}
	}()
	buf.Reset()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	compact := buf.Bytes()
	// Indenting a job roughly doubles it; one allocation of about the
	// final size.
	return appendIndented(make([]byte, 0, len(compact)*2+64), compact), nil
}

// appendIndented appends src, compact JSON as json.Encoder writes it (a
// value and a newline), to dst indented as encoding/json's Indent with an
// empty prefix and jsonIndent would: each element on its own line, ": "
// after a key, empty objects and arrays kept as {} and [].
func appendIndented(dst, src []byte) []byte {
	depth := 0
	// pending is set after '{' or '[': the next token opens a new line one
	// level deeper, unless it closes the object or array at once.
	pending := false
	open := func() {
		if pending {
			pending = false
			depth++
			dst = appendNewline(dst, depth)
		}
	}
	for i := 0; i < len(src); {
		switch c := src[i]; c {
		case '{', '[':
			open()
			pending = true
			dst = append(dst, c)
			i++
		case '}', ']':
			if pending {
				pending = false
			} else {
				depth--
				dst = appendNewline(dst, depth)
			}
			dst = append(dst, c)
			i++
		case ',':
			dst = appendNewline(append(dst, ','), depth)
			i++
		case ':':
			dst = append(dst, ':', ' ')
			i++
		case '"':
			open()
			end := stringEnd(src, i)
			dst = append(dst, src[i:end]...)
			i = end
		default:
			// A number, true, false or null (or the final newline): up to
			// the next punctuation.
			open()
			j := i + 1
			for j < len(src) && !isPunct(src[j]) {
				j++
			}
			dst = append(dst, src[i:j]...)
			i = j
		}
	}
	return dst
}

// stringEnd returns the offset just past the string that starts at the
// quote src[start].
func stringEnd(src []byte, start int) int {
	i := start + 1
	for {
		q := bytes.IndexByte(src[i:], '"')
		if q < 0 {
			return len(src) // not reached for an encoder's output
		}
		esc := bytes.IndexByte(src[i:i+q], '\\')
		if esc < 0 {
			return i + q + 1
		}
		// Step over the escape (\" among them) and look again.
		i += esc + 2
	}
}

func isPunct(c byte) bool {
	switch c {
	case '{', '}', '[', ']', ',', ':', '"':
		return true
	}
	return false
}

func appendNewline(dst []byte, depth int) []byte {
	dst = append(dst, '\n')
	for ; depth > 0; depth-- {
		dst = append(dst, jsonIndent...)
	}
	return dst
}
