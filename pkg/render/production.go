package render

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/pkg/jobspec"
	"github.com/drover-io/drover/pkg/spec"
)

// groupExtras renders what production jobs carry at the group level: the
// app's volumes, and Nomad's own group blocks given at the app level
// (constraint, restart, ...), read in Nomad's vocabulary.
func groupExtras(app *spec.App, group *nomadapi.TaskGroup) hcl.Diagnostics {
	for _, v := range app.Volumes {
		if group.Volumes == nil {
			group.Volumes = map[string]*nomadapi.VolumeRequest{}
		}
		group.Volumes[v.Name] = &nomadapi.VolumeRequest{
			Name: v.Name, Type: v.Type.V, Source: v.Source.V, ReadOnly: v.ReadOnly.V,
			AccessMode: v.AccessMode.V, AttachmentMode: v.AttachmentMode.V, PerAlloc: v.PerAlloc.V,
		}
	}
	var diags hcl.Diagnostics
	for _, b := range app.GroupBlocks {
		diags = append(diags, jobspec.DecodeBlock(b.Type, b.Body, b.DeclRange, b.Ctx, group)...)
	}
	return diags
}

// Docker config keys drover sets from typed attributes, and what to write
// instead.
var dockerOwned = map[string]string{
	"image":   "set image on the task",
	"command": "set command on the task",
	"args":    "set args on the task",
}

// taskExtras renders a task's files, mounts, stop settings and docker
// options.
func taskExtras(app *spec.App, t *spec.Task, task *nomadapi.Task) hcl.Diagnostics {
	if app.Network.V == spec.NetworkHost && t == app.Main && t.Driver.V == spec.DriverDocker {
		// On the host network the app's own docker task publishes the
		// group's ports itself (mapped to `to` when a port sets it); a
		// helper that serves one says so in its docker block.
		var labels []any
		for _, p := range app.Ports {
			if p.Published() {
				labels = append(labels, p.Label)
			}
		}
		if len(labels) > 0 {
			task.Config["ports"] = labels
		}
	}
	if t.User.Set {
		task.User = t.User.V
	}
	if t.KillTimeout.Set {
		task.KillTimeout = ptr(t.KillTimeout.V)
	}
	if t.KillSignal.Set {
		task.KillSignal = t.KillSignal.V
	}
	if t.ShutdownDelay.Set {
		task.ShutdownDelay = t.ShutdownDelay.V
	}
	for _, f := range t.Files {
		tpl := &nomadapi.Template{
			EmbeddedTmpl: ptr(f.Content.V),
			DestPath:     ptr(f.Destination),
			ChangeMode:   ptr(f.ChangeMode.V),
		}
		if f.ChangeSignal.Set {
			tpl.ChangeSignal = ptr(f.ChangeSignal.V)
		}
		if f.Perms.Set {
			tpl.Perms = ptr(f.Perms.V)
		}
		if f.Env.V {
			tpl.Envvars = ptr(true)
		}
		if f.Splay.Set {
			tpl.Splay = ptr(f.Splay.V)
		}
		if f.LeftDelimiter.Set {
			tpl.LeftDelim = ptr(f.LeftDelimiter.V)
		}
		if f.RightDelimiter.Set {
			tpl.RightDelim = ptr(f.RightDelimiter.V)
		}
		if f.ErrorOnMissingKey.Set {
			tpl.ErrMissingKey = ptr(f.ErrorOnMissingKey.V)
		}
		task.Templates = append(task.Templates, tpl)
		if f.Mount.Set {
			// Docker bind-mounts a relative source from the task directory.
			mounts, _ := task.Config["mount"].([]any)
			task.Config["mount"] = append(mounts, map[string]any{"type": "bind", "source": f.Destination, "target": f.Mount.V, "readonly": true})
		}
	}
	for _, m := range t.Mounts {
		task.VolumeMounts = append(task.VolumeMounts, &nomadapi.VolumeMount{
			Volume: ptr(m.Volume), Destination: ptr(m.Path.V), ReadOnly: ptr(m.ReadOnly.V),
		})
	}
	var diags hcl.Diagnostics
	for _, b := range t.Blocks {
		diags = append(diags, jobspec.DecodeBlock(b.Type, b.Body, b.DeclRange, b.Ctx, task)...)
	}
	if t.Docker == nil {
		return diags
	}
	var extra nomadapi.Task
	diags = append(diags, jobspec.DecodeBlock("config", t.Docker.Body, t.Docker.DeclRange, t.Docker.Ctx, &extra)...)
	refuse := func(summary, detail string) {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: t.Docker.DeclRange.Ptr()})
	}
	for key, why := range dockerOwned {
		if _, ok := extra.Config[key]; ok {
			refuse(fmt.Sprintf("%q is drover's", key), fmt.Sprintf("The docker block may not set %q: %s.", key, why))
		}
	}
	if mode, ok := extra.Config["network_mode"]; ok && app.Service != nil {
		refuse("A mesh app's network is bridge", fmt.Sprintf("App %q is in the service mesh, so its container joins the group's bridge network; network_mode %v would cut it off.", app.Name, mode))
	}
	if auths, ok := extra.Config["auth"].([]any); ok {
		for _, a := range auths {
			if m, _ := a.(map[string]any); m["password"] != nil || m["identity_token"] != nil {
				refuse("Registry password in the job", "A password in the job is readable by anyone who may read the job. Let the Nomad client authenticate instead: the docker plugin's auth { config = \"/etc/docker/config.json\" } or auth { helper = \"ecr-login\" } in the client configuration, and leave auth out here (auth_soft_fail is fine).")
			}
		}
	}
	for k, v := range extra.Config {
		if _, owned := dockerOwned[k]; owned {
			continue
		}
		// Mounts add to the files' bind mounts rather than replace them.
		if prev, ok := task.Config[k].([]any); ok && k == "mount" {
			if more, ok := v.([]any); ok {
				v = append(append([]any(nil), prev...), more...)
			}
		}
		task.Config[k] = v
	}
	return diags
}

// fileSecretPaths are the KV paths a task's files read.
func fileSecretPaths(t *spec.Task) []string {
	var out []string
	for _, f := range t.Files {
		out = append(out, f.Secrets.V...)
	}
	return out
}

// hasVault reports whether a task reads Vault (env secrets or files).
func hasVault(t *spec.Task) bool { return len(t.Secrets) > 0 || len(fileSecretPaths(t)) > 0 }
