package spec

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/drover-io/drover/internal/hclbody"
	"github.com/hashicorp/hcl/v2"
)

// Group network modes.
const (
	NetworkBridge = "bridge"
	NetworkHost   = "host"
)

// Task drivers.
const (
	DriverDocker  = "docker"
	DriverExec    = "exec"
	DriverRawExec = "raw_exec"
)

// Defaults of an app spec.
const (
	DefaultCPU      = 100 // MHz
	DefaultMemory   = 128 // MiB
	DefaultProtocol = ProtocolHTTP
)

// decodeApp decodes one app block; env selects the environment overlay to
// apply ("" for none). Every overlay block is decoded, so mistakes in any
// environment are reported whichever one is selected.
func decodeApp(block *hcl.Block, e *evaluator, file string, env string, known map[string]bool) *App {
	app := &App{
		Name:      block.Labels[0],
		NameRange: block.LabelRanges[0],
		DeclRange: block.DefRange,
		File:      file,
		Source:    block.DefRange.Filename,

		AppSettings: &AppSettings{},
	}
	content, d := hclbody.Content(block.Body, appSchema)
	e.add(d)
	attrs := content.Attributes
	blocks := content.Blocks.ByType()

	app.Type = e.str(attrs, "type", TypeService, block.DefRange)
	app.Count = e.integer(attrs, "count", 0, block.DefRange)
	app.NomadAPI = e.boolean(attrs, "nomad_api", false, block.DefRange)
	app.Datacenters = e.strings(attrs, "datacenters", block.DefRange)
	app.NodePool = e.str(attrs, "node_pool", "", block.DefRange)
	app.Network = e.str(attrs, "network", NetworkBridge, block.DefRange)
	app.Hostname = e.str(attrs, "hostname", "", block.DefRange)
	app.Priority = e.integer(attrs, "priority", 0, block.DefRange)
	app.Main = decodeTaskParts(&Task{Name: app.Name, DeclRange: block.DefRange}, attrs, blocks, MainTaskBlocks, e)
	if meta, ok := attrs["meta"]; ok {
		m := map[string]string{}
		for _, kv := range e.stringMap(meta) {
			m[kv.Key] = kv.Value
		}
		app.Meta = Val[map[string]string]{V: m, Set: true, Range: meta.Expr.Range()}
	}

	for _, b := range e.uniqueLabels(blocks["port"], "app "+quote(app.Name)) {
		app.Ports = append(app.Ports, decodePort(b, e))
	}
	for _, b := range blocks["service"] {
		s := decodeService(b, e, app.Name)
		if !s.Port.Set && len(app.Ports) == 1 {
			s.Port.V = app.Ports[0].Label // the only port is the obvious one
		}
		switch {
		case !s.Mesh.V:
			app.PlainServices = append(app.PlainServices, s)
		case app.Service != nil:
			e.errorf(b.DefRange, "Two services in the mesh",
				"An app has one service in the mesh (its sidecar's), declared at line %d; mark this one mesh = false to register it outside the mesh at a published port.", app.Service.DeclRange.Start.Line)
		default:
			app.Service = s
		}
	}
	if b := e.onlyOne(blocks["expose"], "an app"); b != nil {
		app.Expose = decodeExpose(b, e)
	}
	if b := e.onlyOne(blocks["update"], "an app"); b != nil {
		app.Update = decodeUpdate(b, e)
	}
	if b := e.onlyOne(blocks["scaling"], "an app"); b != nil {
		app.Scaling = decodeScaling(b, e)
	}
	if b := e.onlyOne(blocks["periodic"], "an app"); b != nil {
		app.Periodic = decodePeriodic(b, e)
	}
	for _, b := range e.uniqueLabels(blocks["task"], "app "+quote(app.Name)) {
		app.Helpers = append(app.Helpers, decodeHelperTask(b, e))
	}
	if b := e.onlyOne(blocks["nomad"], "an app"); b != nil {
		app.Nomad = &NomadBlock{Type: "nomad", Body: b.Body, Ctx: e.ctx, DeclRange: b.DefRange}
	}
	app.GroupBlocks = nomadBlocks(blocks, GroupBlocks, repeatableGroupBlocks, "an app", e)
	for _, typ := range JobBlocks {
		for _, b := range blocks[typ] {
			app.JobBlocks = append(app.JobBlocks, &NomadBlock{Type: typ, Body: b.Body, Ctx: e.ctx, DeclRange: b.DefRange})
		}
	}
	for _, b := range e.uniqueLabels(blocks["volume"], "app "+quote(app.Name)) {
		app.Volumes = append(app.Volumes, decodeVolume(b, e))
	}
	for _, b := range e.uniqueLabels(blocks["environment"], "app "+quote(app.Name)) {
		name := b.Labels[0]
		if known != nil && !known[name] {
			e.errorf(b.LabelRanges[0], "Undeclared environment",
				"The project declares no environment %q%s. Declare it in drover.hcl, or fix the name.", name, suggestFrom(name, known))
		}
		overlay := decodeOverlay(b, e)
		if name == env {
			applyOverlay(app, overlay, e)
		}
	}
	return app
}

// decodeTaskParts fills the attributes and blocks a task shares with an app's
// body: image, command, args, env, secrets and resources.
func decodeTaskParts(t *Task, attrs hcl.Attributes, blocks map[string]hcl.Blocks, nomadTypes []string, e *evaluator) *Task {
	t.Driver = e.str(attrs, "driver", DriverDocker, t.DeclRange)
	t.Image = e.str(attrs, "image", "", t.DeclRange)
	t.imageAbsent = attrs["image"] == nil
	t.Command = e.str(attrs, "command", "", t.DeclRange)
	t.Args = e.strings(attrs, "args", t.DeclRange)
	for _, kv := range e.stringMap(attrs["env"]) {
		t.Env = append(t.Env, &EnvVar{Name: kv.Key, Value: kv.Value, NameRange: kv.KeyRange, ValueRange: kv.ValueRange})
	}
	for _, b := range e.uniqueLabels(blocks["secret"], "task "+quote(t.Name)) {
		t.Secrets = append(t.Secrets, decodeSecret(b, e))
	}
	t.Resources = Resources{
		CPU:       Val[int]{V: DefaultCPU, Range: t.DeclRange},
		Memory:    Val[int]{V: DefaultMemory, Range: t.DeclRange},
		DeclRange: t.DeclRange,
	}
	if b := e.onlyOne(blocks["resources"], "a task"); b != nil {
		decodeResourcesInto(&t.Resources, b, e)
	}
	t.User = e.str(attrs, "user", "", t.DeclRange)
	t.KillTimeout = e.duration(attrs, "kill_timeout", 0, t.DeclRange)
	t.KillSignal = e.str(attrs, "kill_signal", "", t.DeclRange)
	t.ShutdownDelay = e.duration(attrs, "shutdown_delay", 0, t.DeclRange)
	for _, b := range e.uniqueLabels(blocks["file"], "task "+quote(t.Name)) {
		t.Files = append(t.Files, decodeFile(b, e))
	}
	for _, b := range e.uniqueLabels(blocks["mount"], "task "+quote(t.Name)) {
		mc, d := hclbody.Content(b.Body, mountSchema)
		e.add(d)
		t.Mounts = append(t.Mounts, &Mount{Volume: b.Labels[0], DeclRange: b.DefRange,
			Path: e.str(mc.Attributes, "path", "", b.DefRange), ReadOnly: e.boolean(mc.Attributes, "read_only", false, b.DefRange)})
	}
	if b := e.onlyOne(blocks["docker"], "a task"); b != nil {
		t.Docker = &NomadBlock{Type: "docker", Body: b.Body, Ctx: e.ctx, DeclRange: b.DefRange}
	}
	t.Blocks = nomadBlocks(blocks, nomadTypes, repeatableTaskBlocks, "a task", e)
	return t
}

// nomadBlocks collects the blocks of Nomad's vocabulary named in types, in
// source order: one of each, but for the repeatable ones.
func nomadBlocks(blocks map[string]hcl.Blocks, types []string, repeatable map[string]bool, where string, e *evaluator) []*NomadBlock {
	var out []*NomadBlock
	for _, typ := range types {
		found := blocks[typ]
		if !repeatable[typ] {
			// One per group or task, as in a job file.
			found = nil
			if b := e.onlyOne(blocks[typ], where); b != nil {
				found = hcl.Blocks{b}
			}
		}
		for _, b := range found {
			out = append(out, &NomadBlock{Type: typ, Body: b.Body, Ctx: e.ctx, DeclRange: b.DefRange})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].DeclRange.Start.Byte < out[j].DeclRange.Start.Byte })
	return out
}

func decodeFile(b *hcl.Block, e *evaluator) *File {
	c, d := hclbody.Content(b.Body, fileSchema)
	e.add(d)
	a := c.Attributes
	f := &File{
		Destination:       b.Labels[0],
		DeclRange:         b.DefRange,
		Content:           e.str(a, "content", "", b.DefRange),
		Source:            e.str(a, "source", "", b.DefRange),
		ChangeMode:        e.str(a, "change_mode", "restart", b.DefRange),
		ChangeSignal:      e.str(a, "change_signal", "", b.DefRange),
		Perms:             e.str(a, "perms", "", b.DefRange),
		Mount:             e.str(a, "mount", "", b.DefRange),
		Secrets:           e.strings(a, "secrets", b.DefRange),
		Env:               e.boolean(a, "env", false, b.DefRange),
		Splay:             e.duration(a, "splay", 0, b.DefRange),
		LeftDelimiter:     e.str(a, "left_delimiter", "", b.DefRange),
		RightDelimiter:    e.str(a, "right_delimiter", "", b.DefRange),
		ErrorOnMissingKey: e.boolean(a, "error_on_missing_key", false, b.DefRange),
	}
	switch {
	case f.Content.Set && f.Source.Set:
		e.errorf(f.Source.Range, "Two contents", "A file takes content or source (a template file next to the spec), not both.")
	case f.Source.Set:
		path := f.Source.V
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(b.DefRange.Filename), path)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			e.errorf(f.Source.Range, "Cannot read the template", "The file's source %q cannot be read: %v.", f.Source.V, err)
			break
		}
		f.Content = Val[string]{V: string(data), Set: true, Range: f.Source.Range}
	case !f.Content.Set:
		e.errorf(b.DefRange, "File without content", "A file needs content (the template) or source (a template file next to the spec).")
	}
	return f
}

func decodeVolume(b *hcl.Block, e *evaluator) *Volume {
	c, d := hclbody.Content(b.Body, volumeSchema)
	e.add(d)
	a := c.Attributes
	return &Volume{
		Name: b.Labels[0], NameRange: b.LabelRanges[0], DeclRange: b.DefRange,
		Type:           e.str(a, "type", "host", b.DefRange),
		Source:         e.str(a, "source", "", b.DefRange),
		ReadOnly:       e.boolean(a, "read_only", false, b.DefRange),
		AccessMode:     e.str(a, "access_mode", "", b.DefRange),
		AttachmentMode: e.str(a, "attachment_mode", "", b.DefRange),
		PerAlloc:       e.boolean(a, "per_alloc", false, b.DefRange),
	}
}

func decodeHelperTask(block *hcl.Block, e *evaluator) *Task {
	t := &Task{Name: block.Labels[0], DeclRange: block.DefRange}
	content, d := hclbody.Content(block.Body, helperTaskSchema)
	e.add(d)
	blocks := content.Blocks.ByType()
	decodeTaskParts(t, content.Attributes, blocks, TaskBlocks, e)
	if b := e.onlyOne(blocks["lifecycle"], "a task"); b != nil {
		lc, d := hclbody.Content(b.Body, lifecycleSchema)
		e.add(d)
		t.Lifecycle = &Lifecycle{
			DeclRange: b.DefRange,
			Hook:      e.str(lc.Attributes, "hook", "", b.DefRange),
			Sidecar:   e.boolean(lc.Attributes, "sidecar", false, b.DefRange),
		}
	}
	return t
}

func decodeSecret(block *hcl.Block, e *evaluator) *Secret {
	content, d := hclbody.Content(block.Body, secretSchema)
	e.add(d)
	return &Secret{
		EnvName:   block.Labels[0],
		NameRange: block.LabelRanges[0],
		DeclRange: block.DefRange,
		Path:      e.str(content.Attributes, "path", "", block.DefRange),
		Key:       e.str(content.Attributes, "key", "", block.DefRange),
	}
}

// decodeResourcesInto overwrites the resources set in block, keeping the
// rest; the same code serves an app's resources and an overlay's.
func decodeResourcesInto(r *Resources, block *hcl.Block, e *evaluator) {
	content, d := hclbody.Content(block.Body, resourcesSchema)
	e.add(d)
	attrs := content.Attributes
	if v := e.integer(attrs, "cpu", 0, block.DefRange); v.Set {
		r.CPU = v
	}
	if v := e.integer(attrs, "memory", 0, block.DefRange); v.Set {
		r.Memory = v
	}
	if v := e.integer(attrs, "memory_max", 0, block.DefRange); v.Set {
		r.MemoryMax = v
	}
	r.DeclRange = block.DefRange
}

func decodePort(block *hcl.Block, e *evaluator) *Port {
	content, d := hclbody.Content(block.Body, portSchema)
	e.add(d)
	a := content.Attributes
	return &Port{
		Label:       block.Labels[0],
		LabelRange:  block.LabelRanges[0],
		DeclRange:   block.DefRange,
		To:          e.integer(a, "to", 0, block.DefRange),
		Publish:     e.boolean(a, "publish", false, block.DefRange),
		Static:      e.integer(a, "static", 0, block.DefRange),
		HostNetwork: e.str(a, "host_network", "", block.DefRange),
		toAbsent:    a["to"] == nil,
	}
}

func decodeService(block *hcl.Block, e *evaluator, app string) *Service {
	content, d := hclbody.Content(block.Body, serviceSchema)
	e.add(d)
	attrs := content.Attributes
	blocks := content.Blocks.ByType()
	s := &Service{
		DeclRange:  block.DefRange,
		Name:       e.str(attrs, "name", app, block.DefRange),
		Mesh:       e.boolean(attrs, "mesh", true, block.DefRange),
		Port:       e.str(attrs, "port", "", block.DefRange),
		Protocol:   e.str(attrs, "protocol", DefaultProtocol, block.DefRange),
		Tags:       e.strings(attrs, "tags", block.DefRange),
		CanaryTags: e.strings(attrs, "canary_tags", block.DefRange),
		AllowFrom:  e.strings(attrs, "allow_from", block.DefRange),
		Task:       e.str(attrs, "task", "", block.DefRange),
		Provider:   e.str(attrs, "provider", "consul", block.DefRange),
	}
	if meta, ok := attrs["meta"]; ok {
		m := map[string]string{}
		for _, kv := range e.stringMap(meta) {
			m[kv.Key] = kv.Value
		}
		s.Meta = Val[map[string]string]{V: m, Set: true, Range: meta.Expr.Range()}
	}
	for _, b := range e.uniqueLabels(blocks["check"], "the service of app "+quote(app)) {
		s.Checks = append(s.Checks, decodeCheck(b, e))
	}
	if b := e.onlyOne(blocks["sidecar"], "a service"); b != nil {
		sc, d := hclbody.Content(b.Body, sidecarSchema)
		e.add(d)
		s.Sidecar = &Sidecar{DeclRange: b.DefRange,
			Image:  e.str(sc.Attributes, "image", "", b.DefRange),
			CPU:    e.integer(sc.Attributes, "cpu", 0, b.DefRange),
			Memory: e.integer(sc.Attributes, "memory", 0, b.DefRange)}
	}
	for _, b := range e.uniqueLabels(blocks["upstream"], "the service of app "+quote(app)) {
		uc, d := hclbody.Content(b.Body, upstreamSchema)
		e.add(d)
		u := &Upstream{
			Name:       b.Labels[0],
			NameRange:  b.LabelRanges[0],
			DeclRange:  b.DefRange,
			LocalPort:  e.integer(uc.Attributes, "local_port", 0, b.DefRange),
			Datacenter: e.str(uc.Attributes, "datacenter", "", b.DefRange),
			Namespace:  e.str(uc.Attributes, "namespace", "", b.DefRange),
		}
		if project, name, ok := strings.Cut(u.Name, "/"); ok {
			u.Project, u.Name = project, name
		}
		s.Upstreams = append(s.Upstreams, u)
	}
	return s
}

// Check defaults, the values Consul users most often write.
const (
	DefaultCheckInterval = 10 * time.Second
	DefaultCheckTimeout  = 2 * time.Second
)

func decodeCheck(block *hcl.Block, e *evaluator) *Check {
	content, d := hclbody.Content(block.Body, checkSchema)
	e.add(d)
	attrs := content.Attributes
	c := &Check{
		Name:          block.Labels[0],
		NameRange:     block.LabelRanges[0],
		DeclRange:     block.DefRange,
		Type:          e.str(attrs, "type", CheckHTTP, block.DefRange),
		Path:          e.str(attrs, "path", "", block.DefRange),
		Method:        e.str(attrs, "method", "", block.DefRange),
		Command:       e.str(attrs, "command", "", block.DefRange),
		Args:          e.strings(attrs, "args", block.DefRange),
		Task:          e.str(attrs, "task", "", block.DefRange),
		Interval:      e.duration(attrs, "interval", DefaultCheckInterval, block.DefRange),
		Timeout:       e.duration(attrs, "timeout", DefaultCheckTimeout, block.DefRange),
		InitialStatus: e.str(attrs, "initial_status", "", block.DefRange),
		Port:          e.str(attrs, "port", "", block.DefRange),
	}
	if h, ok := attrs["header"]; ok {
		m := map[string]string{}
		for _, kv := range e.stringMap(h) {
			m[kv.Key] = kv.Value
		}
		c.Headers = Val[map[string]string]{V: m, Set: true, Range: h.Expr.Range()}
	}
	if b := e.onlyOne(content.Blocks.OfType("check_restart"), "a check"); b != nil {
		rc, d := hclbody.Content(b.Body, checkRestartSchema)
		e.add(d)
		c.Restart = &CheckRestart{
			DeclRange:      b.DefRange,
			Limit:          e.integer(rc.Attributes, "limit", 3, b.DefRange),
			Grace:          e.duration(rc.Attributes, "grace", 10*time.Second, b.DefRange),
			IgnoreWarnings: e.boolean(rc.Attributes, "ignore_warnings", false, b.DefRange),
		}
	}
	return c
}

func decodeExpose(block *hcl.Block, e *evaluator) *Expose {
	content, d := hclbody.Content(block.Body, exposeSchema)
	e.add(d)
	return &Expose{
		DeclRange: block.DefRange,
		Hosts:     e.strings(content.Attributes, "hosts", block.DefRange),
		Path:      e.str(content.Attributes, "path", "/", block.DefRange),
	}
}

func decodeUpdate(block *hcl.Block, e *evaluator) *Update {
	content, d := hclbody.Content(block.Body, updateSchema)
	e.add(d)
	a := content.Attributes
	r := block.DefRange
	// Defaults are Nomad's own (api/jobs.go DefaultUpdateStrategy), so an
	// update block that sets one field changes only that field.
	return &Update{
		DeclRange:        r,
		MaxParallel:      e.integer(a, "max_parallel", 1, r),
		Canary:           e.integer(a, "canary", 0, r),
		AutoPromote:      e.boolean(a, "auto_promote", false, r),
		AutoRevert:       e.boolean(a, "auto_revert", false, r),
		MinHealthyTime:   e.duration(a, "min_healthy_time", 10*time.Second, r),
		HealthyDeadline:  e.duration(a, "healthy_deadline", 5*time.Minute, r),
		ProgressDeadline: e.duration(a, "progress_deadline", 10*time.Minute, r),
	}
}

func decodeScaling(block *hcl.Block, e *evaluator) *Scaling {
	content, d := hclbody.Content(block.Body, scalingSchema)
	e.add(d)
	a := content.Attributes
	s := &Scaling{
		DeclRange: block.DefRange,
		Min:       e.integer(a, "min", 0, block.DefRange),
		Max:       e.integer(a, "max", 0, block.DefRange),
		Enabled:   e.boolean(a, "enabled", true, block.DefRange),
	}
	if b := e.onlyOne(content.Blocks.OfType("policy"), "a scaling block"); b != nil {
		s.Policy = decodePolicy(b, e)
	}
	return s
}

func decodePeriodic(block *hcl.Block, e *evaluator) *Periodic {
	content, d := hclbody.Content(block.Body, periodicSchema)
	e.add(d)
	a := content.Attributes
	return &Periodic{
		DeclRange:       block.DefRange,
		Cron:            e.str(a, "cron", "", block.DefRange),
		TimeZone:        e.str(a, "time_zone", "", block.DefRange),
		ProhibitOverlap: e.boolean(a, "prohibit_overlap", true, block.DefRange),
	}
}

func decodeExternal(block *hcl.Block, e *evaluator, file string) *External {
	content, d := hclbody.Content(block.Body, externalSchema)
	e.add(d)
	a := content.Attributes
	return &External{
		Name:      block.Labels[0],
		NameRange: block.LabelRanges[0],
		DeclRange: block.DefRange,
		File:      file,
		Address:   e.str(a, "address", "", block.DefRange),
		Port:      e.integer(a, "port", 0, block.DefRange),
		Protocol:  e.str(a, "protocol", ProtocolTCP, block.DefRange),
	}
}

func quote(s string) string { return `"` + s + `"` }
