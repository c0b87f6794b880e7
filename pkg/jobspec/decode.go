package jobspec

import (
	"fmt"
	"math/big"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/drover-io/drover/internal/hclbody"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Decode decodes body into out, a pointer to a nomad/api struct (such as
// *api.TaskGroup or *api.Task), through the struct's `hcl` tags: the block
// and attribute names of a Nomad job file. Every problem is a diagnostic
// at its source range; names the vocabulary does not have are errors
// ("Unsupported argument"), with hcl's suggestions. forbidden names fields
// drover sets itself ("count", "task"), refused with why.
func Decode(body hcl.Body, ctx *hcl.EvalContext, out any, forbidden map[string]string) hcl.Diagnostics {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("jobspec.Decode: want a pointer to a struct, got %T", out))
	}
	d := &decoder{ctx: ctx}
	d.structBody(body, v.Elem(), forbidden)
	return d.diags
}

type decoder struct {
	ctx   *hcl.EvalContext
	diags hcl.Diagnostics
}

// field is one tagged field of a struct: how the vocabulary spells it and
// whether it is written as an attribute, a block or a block label.
type field struct {
	name  string
	index int
	kind  fieldKind
}

type fieldKind int

const (
	kindAttr fieldKind = iota
	kindBlock
	kindLabel
)

var durationType = reflect.TypeFor[time.Duration]()

// fieldCache holds fields' answer per type: the vocabulary of a type never
// changes, and render asks for it for every block of every spec.
var fieldCache sync.Map // reflect.Type -> []field

// fields lists the vocabulary of struct type t, in declaration order.
func fields(t reflect.Type) []field {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]field)
	}
	f := fieldsOf(t)
	fieldCache.Store(t, f)
	return f
}

func fieldsOf(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("hcl")
		if !ok || !f.IsExported() {
			continue
		}
		name, opt, _ := strings.Cut(tag, ",")
		fd := field{name: name, index: i}
		switch {
		case opt == "label":
			fd.kind = kindLabel
		case opt == "block", isStructLike(f.Type):
			fd.kind = kindBlock
		case opt == "remain":
			continue
		default:
			fd.kind = kindAttr
		}
		if fd.kind != kindLabel && name == "" {
			continue
		}
		out = append(out, fd)
	}
	return out
}

// isStructLike: a field holding structs (directly, by pointer, in a slice
// or a map) is written as blocks even where its tag says nothing.
func isStructLike(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct && t != durationType
}

// labelNames are the label fields of a block's struct type.
func labelNames(t reflect.Type) []string {
	t = structOf(t)
	if t == nil {
		return nil
	}
	var out []string
	for _, f := range fields(t) {
		if f.kind == kindLabel {
			out = append(out, "label")
		}
	}
	return out
}

// structOf is the struct type a block field holds, or nil for a map of
// plain values (meta, env, config).
func structOf(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct && t != durationType {
		return t
	}
	return nil
}

var schemaCache sync.Map // reflect.Type -> *hcl.BodySchema

// Schema is the body schema of struct type t. It is shared: callers must
// not change it.
func Schema(t reflect.Type) *hcl.BodySchema {
	if s, ok := schemaCache.Load(t); ok {
		return s.(*hcl.BodySchema)
	}
	s := schemaOf(t)
	schemaCache.Store(t, s)
	return s
}

func schemaOf(t reflect.Type) *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, f := range fields(t) {
		switch f.kind {
		case kindAttr:
			s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: f.name})
		case kindBlock:
			ft := t.Field(f.index).Type
			labels := labelNames(ft)
			if ft.Kind() == reflect.Map && structOf(ft) != nil && len(labels) == 0 {
				labels = []string{"name"}
			}
			s.Blocks = append(s.Blocks, hcl.BlockHeaderSchema{Type: f.name, LabelNames: labels})
		}
	}
	return s
}

func (d *decoder) structBody(body hcl.Body, v reflect.Value, forbidden map[string]string) {
	t := v.Type()
	content, diags := hclbody.Content(body, Schema(t))
	d.diags = append(d.diags, diags...)
	byName := map[string]field{}
	for _, f := range fields(t) {
		byName[f.name] = f
	}
	for _, name := range sortedAttrNames(content.Attributes) {
		a := content.Attributes[name]
		if why, ok := forbidden[name]; ok {
			d.refuse(name, why, a.NameRange)
			continue
		}
		d.attr(a, v.Field(byName[name].index))
	}
	blocksByType := map[string][]*hcl.Block{}
	var order []string
	for _, b := range content.Blocks {
		if _, seen := blocksByType[b.Type]; !seen {
			order = append(order, b.Type)
		}
		blocksByType[b.Type] = append(blocksByType[b.Type], b)
	}
	for _, typ := range order {
		blocks := blocksByType[typ]
		if why, ok := forbidden[typ]; ok {
			d.refuse(typ, why, blocks[0].TypeRange)
			continue
		}
		d.blocks(blocks, v.Field(byName[typ].index))
	}
	switch t.Name() {
	case "NetworkResource":
		splitPorts(v)
	case "Task":
		defaultIdentity(v)
	case "Constraint", "Affinity":
		// A job file's constraint without an operator means "=".
		if op := v.FieldByName("Operand"); op.String() == "" {
			op.SetString("=")
		}
	}
}

// defaultIdentity moves an unnamed identity block to Task.Identity, the
// default workload identity, as Nomad's parser does.
func defaultIdentity(v reflect.Value) {
	ids := v.FieldByName("Identities")
	keep := reflect.MakeSlice(ids.Type(), 0, ids.Len())
	for i := range ids.Len() {
		id := ids.Index(i)
		if id.Elem().FieldByName("Name").String() == "" {
			v.FieldByName("Identity").Set(id)
			continue
		}
		keep = reflect.Append(keep, id)
	}
	setOrNil(ids, keep)
}

func (d *decoder) refuse(name, why string, rng hcl.Range) {
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("%q is drover's", name),
		Detail:   fmt.Sprintf("drover renders %q itself, so a nomad block may not set it: %s.", name, why),
		Subject:  rng.Ptr(),
	})
}

// splitPorts moves ports with a static value to ReservedPorts, as Nomad's
// jobspec parser does: a job file writes both kinds as `port` blocks.
func splitPorts(v reflect.Value) {
	dyn := v.FieldByName("DynamicPorts")
	res := v.FieldByName("ReservedPorts")
	keep := reflect.MakeSlice(dyn.Type(), 0, dyn.Len())
	for i := range dyn.Len() {
		p := dyn.Index(i)
		if p.FieldByName("Value").Int() > 0 {
			res.Set(reflect.Append(res, p))
		} else {
			keep = reflect.Append(keep, p)
		}
	}
	setOrNil(dyn, keep)
}

// setOrNil sets a slice, leaving it nil when empty, as a decoder that never
// saw the block would.
func setOrNil(dst, list reflect.Value) {
	if list.Len() == 0 {
		dst.Set(reflect.Zero(dst.Type()))
		return
	}
	dst.Set(list)
}

func sortedAttrNames(attrs hcl.Attributes) []string {
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return attrs[names[i]].Range.Start.Byte < attrs[names[j]].Range.Start.Byte })
	return names
}

func (d *decoder) attr(a *hcl.Attribute, dst reflect.Value) {
	val, diags := a.Expr.Value(d.ctx)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		return
	}
	if err := assign(val, dst); err != nil {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Invalid value for %q", a.Name),
			Detail:   sentence(err),
			Subject:  a.Expr.Range().Ptr(),
		})
	}
}

// sentence makes an error message a Detail: capitalized, with a period.
func sentence(err error) string {
	s := err.Error()
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// blocks decodes every block of one type into dst: a struct (one block), a
// pointer to one, a slice of them, a map of them by label, or a map of
// plain values (meta, env, config).
func (d *decoder) blocks(blocks []*hcl.Block, dst reflect.Value) {
	t := dst.Type()
	switch {
	case t.Kind() == reflect.Map && structOf(t) == nil:
		if len(blocks) > 1 {
			d.duplicate(blocks)
		}
		if dst.IsNil() {
			dst.Set(reflect.MakeMap(t))
		}
		d.plainMap(blocks[0].Body, dst)
	case t.Kind() == reflect.Map:
		if dst.IsNil() {
			dst.Set(reflect.MakeMap(t))
		}
		for _, b := range blocks {
			elem := reflect.New(derefType(t.Elem())).Elem()
			d.labeled(b, elem)
			key := reflect.ValueOf(b.Labels[0])
			dst.SetMapIndex(key, addrIfPointer(elem, t.Elem()))
		}
	case t.Kind() == reflect.Slice:
		for _, b := range blocks {
			elem := reflect.New(derefType(t.Elem())).Elem()
			d.labeled(b, elem)
			dst.Set(reflect.Append(dst, addrIfPointer(elem, t.Elem())))
		}
	default:
		if len(blocks) > 1 {
			d.duplicate(blocks)
		}
		elem := reflect.New(derefType(t)).Elem()
		d.labeled(blocks[0], elem)
		dst.Set(addrIfPointer(elem, t))
	}
}

func (d *decoder) duplicate(blocks []*hcl.Block) {
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Duplicate %s block", blocks[1].Type),
		Detail:   fmt.Sprintf("Only one %s block is allowed here; the first is at line %d.", blocks[1].Type, blocks[0].DefRange.Start.Line),
		Subject:  blocks[1].DefRange.Ptr(),
	})
}

// labeled decodes a block's labels and body into struct v.
func (d *decoder) labeled(b *hcl.Block, v reflect.Value) {
	li := 0
	for _, f := range fields(v.Type()) {
		if f.kind == kindLabel && li < len(b.Labels) {
			fv := v.Field(f.index)
			if fv.Kind() == reflect.Pointer {
				fv.Set(reflect.New(fv.Type().Elem()))
				fv = fv.Elem()
			}
			fv.SetString(b.Labels[li])
			li++
		}
	}
	d.structBody(b.Body, v, nil)
}

// plainMap decodes a block of arbitrary attributes (and, for a driver's
// config, nested blocks as lists of maps, as Nomad's parser does).
func (d *decoder) plainMap(body hcl.Body, dst reflect.Value) {
	if sb, ok := body.(*hclsyntax.Body); ok && dst.Type().Elem().Kind() == reflect.Interface {
		for name, a := range sb.Attributes {
			val, diags := a.Expr.Value(d.ctx)
			d.diags = append(d.diags, diags...)
			if !diags.HasErrors() {
				dst.SetMapIndex(reflect.ValueOf(name), reflect.ValueOf(toGo(val)))
			}
		}
		nested := map[string][]any{}
		for _, b := range sb.Blocks {
			m := reflect.ValueOf(map[string]any{})
			d.plainMap(b.Body, m)
			nested[b.Type] = append(nested[b.Type], m.Interface())
		}
		for name, list := range nested {
			dst.SetMapIndex(reflect.ValueOf(name), reflect.ValueOf(list))
		}
		return
	}
	attrs, diags := body.JustAttributes()
	d.diags = append(d.diags, diags...)
	for _, name := range sortedAttrNames(attrs) {
		a := attrs[name]
		val, diags := a.Expr.Value(d.ctx)
		d.diags = append(d.diags, diags...)
		if diags.HasErrors() {
			continue
		}
		elem := reflect.New(dst.Type().Elem()).Elem()
		if err := assign(val, elem); err != nil {
			d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("Invalid value for %q", name),
				Detail: sentence(err), Subject: a.Expr.Range().Ptr()})
			continue
		}
		dst.SetMapIndex(reflect.ValueOf(name), elem)
	}
}

func derefType(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Pointer {
		return t.Elem()
	}
	return t
}

func addrIfPointer(v reflect.Value, t reflect.Type) reflect.Value {
	if t.Kind() == reflect.Pointer {
		p := reflect.New(t.Elem())
		p.Elem().Set(v)
		return p
	}
	return v
}

// assign converts an HCL value to dst's Go type.
func assign(val cty.Value, dst reflect.Value) error {
	if val.IsNull() {
		return nil
	}
	if !val.IsWhollyKnown() {
		return fmt.Errorf("the value must be known when drover renders")
	}
	if dst.Kind() == reflect.Pointer {
		elem := reflect.New(dst.Type().Elem())
		if err := assign(val, elem.Elem()); err != nil {
			return err
		}
		dst.Set(elem)
		return nil
	}
	if dst.Type() == durationType {
		s, err := convert.Convert(val, cty.String)
		if err != nil {
			return fmt.Errorf("want a duration such as \"30s\"")
		}
		dur, err := time.ParseDuration(s.AsString())
		if err != nil {
			return fmt.Errorf("%q is not a duration such as \"30s\"", s.AsString())
		}
		dst.SetInt(int64(dur))
		return nil
	}
	switch dst.Kind() {
	case reflect.String:
		s, err := convert.Convert(val, cty.String)
		if err != nil {
			return fmt.Errorf("want a string")
		}
		dst.SetString(s.AsString())
	case reflect.Bool:
		b, err := convert.Convert(val, cty.Bool)
		if err != nil {
			return fmt.Errorf("want true or false")
		}
		dst.SetBool(b.True())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := wholeNumber(val)
		if err != nil {
			return err
		}
		if dst.OverflowInt(i) {
			return fmt.Errorf("%d is too large", i)
		}
		dst.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		i, err := wholeNumber(val)
		if err != nil {
			return err
		}
		if i < 0 || dst.OverflowUint(uint64(i)) {
			return fmt.Errorf("%d is out of range", i)
		}
		dst.SetUint(uint64(i))
	case reflect.Float32, reflect.Float64:
		n, err := convert.Convert(val, cty.Number)
		if err != nil {
			return fmt.Errorf("want a number")
		}
		f, _ := n.AsBigFloat().Float64()
		dst.SetFloat(f)
	case reflect.Slice:
		if !val.CanIterateElements() || val.Type().IsObjectType() || val.Type().IsMapType() {
			return fmt.Errorf("want a list")
		}
		out := reflect.MakeSlice(dst.Type(), 0, val.LengthInt())
		for it := val.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			elem := reflect.New(dst.Type().Elem()).Elem()
			if err := assign(ev, elem); err != nil {
				return err
			}
			out = reflect.Append(out, elem)
		}
		dst.Set(out)
	case reflect.Map:
		if !val.Type().IsObjectType() && !val.Type().IsMapType() {
			return fmt.Errorf("want a map such as { key = \"value\" }")
		}
		out := reflect.MakeMap(dst.Type())
		for it := val.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			elem := reflect.New(dst.Type().Elem()).Elem()
			if err := assign(ev, elem); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k.AsString()), elem)
		}
		dst.Set(out)
	case reflect.Interface:
		dst.Set(reflect.ValueOf(toGo(val)))
	default:
		return fmt.Errorf("drover cannot set a %s here", dst.Type())
	}
	return nil
}

func wholeNumber(val cty.Value) (int64, error) {
	n, err := convert.Convert(val, cty.Number)
	if err != nil {
		return 0, fmt.Errorf("want a whole number")
	}
	bf := n.AsBigFloat()
	if !bf.IsInt() {
		return 0, fmt.Errorf("want a whole number, not %s", bf.Text('g', -1))
	}
	i, acc := bf.Int64()
	if acc != big.Exact {
		return 0, fmt.Errorf("%s is too large", bf.Text('g', -1))
	}
	return i, nil
}

// toGo turns an HCL value into the plain Go value JSON would decode to:
// what a driver's config map holds.
func toGo(val cty.Value) any {
	if val.IsNull() || !val.IsKnown() {
		return nil
	}
	t := val.Type()
	switch {
	case t == cty.String:
		return val.AsString()
	case t == cty.Bool:
		return val.True()
	case t == cty.Number:
		bf := val.AsBigFloat()
		if i, acc := bf.Int64(); acc == big.Exact {
			return int(i)
		}
		f, _ := bf.Float64()
		return f
	case t.IsObjectType() || t.IsMapType():
		out := map[string]any{}
		for it := val.ElementIterator(); it.Next(); {
			k, v := it.Element()
			out[k.AsString()] = toGo(v)
		}
		return out
	case val.CanIterateElements():
		out := []any{}
		for it := val.ElementIterator(); it.Next(); {
			_, v := it.Element()
			out = append(out, toGo(v))
		}
		return out
	}
	return nil
}

// DecodeBlock decodes one block of Nomad's vocabulary, named typ, into the
// field of out (a pointer to a nomad/api struct such as *api.TaskGroup)
// that the vocabulary names typ: a group's `constraint` is appended to
// out.Constraints, its `restart` sets out.RestartPolicy. It is how blocks
// given outside a full group body are read.
func DecodeBlock(typ string, body hcl.Body, rng hcl.Range, ctx *hcl.EvalContext, out any) hcl.Diagnostics {
	v := reflect.ValueOf(out).Elem()
	for _, f := range fields(v.Type()) {
		if f.name == typ && f.kind == kindBlock {
			d := &decoder{ctx: ctx}
			d.blocks([]*hcl.Block{{Type: typ, Body: body, DefRange: rng, TypeRange: rng}}, v.Field(f.index))
			return d.diags
		}
	}
	panic(fmt.Sprintf("jobspec.DecodeBlock: %s has no block %q", v.Type(), typ))
}
