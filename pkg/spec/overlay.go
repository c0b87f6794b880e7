package spec

import (
	"sort"

	"github.com/drover-io/drover/internal/hclbody"
	"github.com/hashicorp/hcl/v2"
)

// overlay is an app's `environment "<name>"` block: the values it sets
// replace the base spec's, attribute by attribute; env entries are merged
// key by key.
type overlay struct {
	DeclRange hcl.Range
	Count     Val[int]
	Image     Val[string]
	Env       []keyValue
	Resources *Resources // only the Set fields apply
	Expose    *overlayExpose
	Scaling   *overlayScaling
}

type overlayExpose struct {
	DeclRange hcl.Range
	Hosts     Val[[]string]
	Path      Val[string]
}

type overlayScaling struct {
	DeclRange hcl.Range
	Min, Max  Val[int]
	Enabled   Val[bool]
}

func decodeOverlay(block *hcl.Block, e *evaluator) *overlay {
	content, d := hclbody.Content(block.Body, appEnvironmentSchema)
	e.add(d)
	a := content.Attributes
	blocks := content.Blocks.ByType()
	o := &overlay{
		DeclRange: block.DefRange,
		Count:     e.integer(a, "count", 0, block.DefRange),
		Image:     e.str(a, "image", "", block.DefRange),
		Env:       e.stringMap(a["env"]),
	}
	if b := e.onlyOne(blocks["resources"], "an environment"); b != nil {
		o.Resources = &Resources{}
		decodeResourcesInto(o.Resources, b, e)
	}
	if b := e.onlyOne(blocks["expose"], "an environment"); b != nil {
		c, d := hclbody.Content(b.Body, overlayExposeSchema)
		e.add(d)
		o.Expose = &overlayExpose{
			DeclRange: b.DefRange,
			Hosts:     e.strings(c.Attributes, "hosts", b.DefRange),
			Path:      e.str(c.Attributes, "path", "", b.DefRange),
		}
	}
	if b := e.onlyOne(blocks["scaling"], "an environment"); b != nil {
		c, d := hclbody.Content(b.Body, overlayScalingSchema)
		e.add(d)
		o.Scaling = &overlayScaling{
			DeclRange: b.DefRange,
			Min:       e.integer(c.Attributes, "min", 0, b.DefRange),
			Max:       e.integer(c.Attributes, "max", 0, b.DefRange),
			Enabled:   e.boolean(c.Attributes, "enabled", true, b.DefRange),
		}
	}
	return o
}

// applyOverlay merges o into app.
func applyOverlay(app *App, o *overlay, e *evaluator) {
	if o.Count.Set {
		app.Count = o.Count
	}
	main := app.Main
	if o.Image.Set {
		main.Image = o.Image
	}
	if len(o.Env) > 0 {
		byName := make(map[string]*EnvVar, len(main.Env))
		for _, v := range main.Env {
			byName[v.Name] = v
		}
		for _, kv := range o.Env {
			byName[kv.Key] = &EnvVar{Name: kv.Key, Value: kv.Value, NameRange: kv.KeyRange, ValueRange: kv.ValueRange}
		}
		main.Env = main.Env[:0]
		for _, v := range byName {
			main.Env = append(main.Env, v)
		}
		sort.Slice(main.Env, func(i, j int) bool { return main.Env[i].Name < main.Env[j].Name })
	}
	if r := o.Resources; r != nil {
		if r.CPU.Set {
			main.Resources.CPU = r.CPU
		}
		if r.Memory.Set {
			main.Resources.Memory = r.Memory
		}
		if r.MemoryMax.Set {
			main.Resources.MemoryMax = r.MemoryMax
		}
	}
	if x := o.Expose; x != nil {
		if app.Expose == nil {
			app.Expose = &Expose{DeclRange: x.DeclRange, Path: Val[string]{V: "/", Range: x.DeclRange}}
		}
		if x.Hosts.Set {
			app.Expose.Hosts = x.Hosts
		}
		if x.Path.Set {
			app.Expose.Path = x.Path
		}
		if !app.Expose.Hosts.Set {
			e.errorf(x.DeclRange, "Missing required argument", "An expose block needs hosts, here or in the app's own expose block.")
		}
	}
	if s := o.Scaling; s != nil {
		if app.Scaling == nil {
			e.errorf(s.DeclRange, "Scaling overlay without scaling",
				"An environment can change the bounds of the app's scaling block, but app %q has none. Add a scaling block to the app itself.", app.Name)
			return
		}
		if s.Min.Set {
			app.Scaling.Min = s.Min
		}
		if s.Max.Set {
			app.Scaling.Max = s.Max
		}
		if s.Enabled.Set {
			app.Scaling.Enabled = s.Enabled
		}
	}
}
