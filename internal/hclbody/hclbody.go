// Package hclbody takes the content of an HCL body by a schema, as
// hcl.Body.Content does, without the bookkeeping that costs most when the
// body fits its schema.
//
// hclsyntax's Content builds four maps and a "remaining" body on every
// call, to find what the schema does not name; a spec decodes a few dozen
// blocks, so across a project those maps were a sixth of everything
// decoding allocated. Content here checks first that the body holds only
// what the schema names, with the labels it asks for and every required
// argument, and then builds the content directly. Anything else, and any
// body that is not one fresh out of hclsyntax's parser, goes to the body's
// own Content, so every diagnostic is hcl's, word for word.
package hclbody

import (
	"reflect"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Content returns body's content by schema, exactly as body.Content(schema)
// would.
func Content(body hcl.Body, schema *hcl.BodySchema) (*hcl.BodyContent, hcl.Diagnostics) {
	b, ok := body.(*hclsyntax.Body)
	if !ok || !fresh(b) || !fits(b, schema) {
		return body.Content(schema)
	}
	content := &hcl.BodyContent{MissingItemRange: b.MissingItemRange()}
	// Content's map is never nil, even for a body without arguments.
	content.Attributes = make(hcl.Attributes, len(b.Attributes))
	for name, attr := range b.Attributes {
		content.Attributes[name] = attr.AsHCLAttribute()
	}
	if len(b.Blocks) > 0 {
		content.Blocks = make(hcl.Blocks, len(b.Blocks))
		for i, block := range b.Blocks {
			content.Blocks[i] = block.AsHCLBlock()
		}
	}
	return content, nil
}

// fits reports whether Content of b by schema has nothing to say: each
// argument and block is one schema names, each block has the labels its
// type asks for, and every required argument is there.
func fits(b *hclsyntax.Body, schema *hcl.BodySchema) bool {
	for name := range b.Attributes {
		if attributeSchema(schema, name) == nil {
			return false
		}
	}
	for _, a := range schema.Attributes {
		if _, ok := b.Attributes[a.Name]; a.Required && !ok {
			return false
		}
	}
	for _, block := range b.Blocks {
		s := blockSchema(schema, block.Type)
		if s == nil || len(block.Labels) != len(s.LabelNames) {
			return false
		}
	}
	return true
}

// Schemas are a few dozen entries at most: a scan beats building a map.
func attributeSchema(schema *hcl.BodySchema, name string) *hcl.AttributeSchema {
	for i := range schema.Attributes {
		if schema.Attributes[i].Name == name {
			return &schema.Attributes[i]
		}
	}
	return nil
}

func blockSchema(schema *hcl.BodySchema, typ string) *hcl.BlockHeaderSchema {
	for i := range schema.Blocks {
		if schema.Blocks[i].Type == typ {
			return &schema.Blocks[i]
		}
	}
	return nil
}

// hiddenFields are the indices of hclsyntax.Body's hiddenAttrs and
// hiddenBlocks: PartialContent's "remaining" body hides what it took
// through them, and only bodies with neither (all of those the parser
// makes) may take the short way. Nil if hclsyntax renames them: then
// every call goes to the body's own Content.
var hiddenFields = func() []int {
	t := reflect.TypeFor[hclsyntax.Body]()
	var fields []int
	for _, name := range []string{"hiddenAttrs", "hiddenBlocks"} {
		f, ok := t.FieldByName(name)
		if !ok || f.Type.Kind() != reflect.Map {
			return nil
		}
		fields = append(fields, f.Index[0])
	}
	return fields
}()

// fresh reports whether b hides nothing.
func fresh(b *hclsyntax.Body) bool {
	if hiddenFields == nil {
		return false
	}
	v := reflect.ValueOf(b).Elem()
	for _, i := range hiddenFields {
		if !v.Field(i).IsNil() {
			return false
		}
	}
	return true
}
