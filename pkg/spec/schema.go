package spec

import (
	"slices"

	"github.com/hashicorp/hcl/v2"
)

// The schema of every block of the spec language, one variable per block
// type. hcl's Body.Content rejects any attribute or block not listed here
// ("Unsupported argument", "Unsupported block type"), so these lists are the
// language.

// specFileSchema is the top level of an app spec file.
var specFileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "app", LabelNames: []string{"name"}},
		{Type: "external", LabelNames: []string{"name"}},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "project", LabelNames: []string{"name"}},
	},
}

// projectFileSchema is the top level of drover.hcl.
var projectFileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "project", LabelNames: []string{"name"}},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "app", LabelNames: []string{"name"}},
		{Type: "external", LabelNames: []string{"name"}},
	},
}

var projectSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "region"},
		{Name: "namespace"},
		{Name: "datacenters"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "vault"},
		{Type: "ingress_gateway"},
		{Type: "terminating_gateway"},
		{Type: "environment", LabelNames: []string{"name"}},
	},
}

var projectVaultSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "kv_mount"},
		{Name: "auth_path"},
		{Name: "audience"},
		{Name: "token_period"},
		{Name: "policy_prefix"},
	},
}

var gatewaySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "name"},
		{Name: "port"},
		{Name: "count"},
	},
}

var projectEnvironmentSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "region"},
		{Name: "namespace"},
		{Name: "datacenters"},
	},
}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"},
		{Name: "default"},
		{Name: "description"},
	},
}

// taskAttributes are shared by an app's body (its main task) and helper tasks.
var taskAttributes = []hcl.AttributeSchema{
	{Name: "driver"},
	{Name: "image"},
	{Name: "command"},
	{Name: "args"},
	{Name: "env"},
	{Name: "user"},
	{Name: "kill_timeout"},
	{Name: "kill_signal"},
	{Name: "shutdown_delay"},
}

var taskBlocks = []hcl.BlockHeaderSchema{
	{Type: "secret", LabelNames: []string{"env_name"}},
	{Type: "resources"},
	{Type: "file", LabelNames: []string{"destination"}},
	{Type: "mount", LabelNames: []string{"volume"}},
	{Type: "docker"},
}

// TaskBlocks are Nomad's own task blocks that a helper task takes as they
// are, in Nomad's vocabulary: a CSI plugin, artifacts to fetch, the task's
// own restart policy (over the app's).
var TaskBlocks = []string{"csi_plugin", "artifact", "restart"}

// MainTaskBlocks are those an app's body takes for its main task: there,
// restart is the app's (the group's) policy, which every task inherits.
var MainTaskBlocks = []string{"csi_plugin", "artifact"}

// nomadBlockSchemas lists types as block header schemas.
func nomadBlockSchemas(types ...[]string) []hcl.BlockHeaderSchema {
	var out []hcl.BlockHeaderSchema
	seen := map[string]bool{}
	for _, list := range types {
		for _, t := range list {
			if !seen[t] {
				seen[t] = true
				out = append(out, hcl.BlockHeaderSchema{Type: t})
			}
		}
	}
	return out
}

// repeatableTaskBlocks may appear several times in a task.
var repeatableTaskBlocks = map[string]bool{"artifact": true}

// GroupBlocks are Nomad's own group blocks that an app takes as they are,
// in Nomad's vocabulary (render reads them through nomad/api's tags): the
// placement and lifecycle settings of production jobs, spelled as in a
// Nomad job file, at the app level.
var GroupBlocks = []string{"constraint", "affinity", "spread", "restart", "reschedule", "migrate", "ephemeral_disk", "disconnect"}

// repeatableGroupBlocks may appear several times; the other group blocks
// once.
var repeatableGroupBlocks = map[string]bool{"constraint": true, "affinity": true, "spread": true}

// JobBlocks are Nomad's own job blocks an app takes the same way.
var JobBlocks = []string{"parameterized"}

var fileSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "content"},
		{Name: "source"},
		{Name: "change_mode"},
		{Name: "change_signal"},
		{Name: "perms"},
		{Name: "mount"},
		{Name: "secrets"},
		{Name: "env"},
		{Name: "splay"},
		{Name: "left_delimiter"},
		{Name: "right_delimiter"},
		{Name: "error_on_missing_key"},
	},
}

var mountSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "path", Required: true},
		{Name: "read_only"},
	},
}

var volumeSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"},
		{Name: "source", Required: true},
		{Name: "read_only"},
		{Name: "access_mode"},
		{Name: "attachment_mode"},
		{Name: "per_alloc"},
	},
}

var appSchema = &hcl.BodySchema{
	Attributes: append([]hcl.AttributeSchema{
		{Name: "type"},
		{Name: "count"},
		{Name: "datacenters"},
		{Name: "node_pool"},
		{Name: "priority"},
		{Name: "network"},
		{Name: "hostname"},
		{Name: "meta"},
		{Name: "nomad_api"},
	}, taskAttributes...),
	Blocks: append([]hcl.BlockHeaderSchema{
		{Type: "port", LabelNames: []string{"label"}},
		{Type: "service"},
		{Type: "expose"},
		{Type: "update"},
		{Type: "scaling"},
		{Type: "periodic"},
		{Type: "task", LabelNames: []string{"name"}},
		{Type: "environment", LabelNames: []string{"name"}},
		{Type: "nomad"},
		{Type: "volume", LabelNames: []string{"name"}},
	}, slices.Concat(taskBlocks, nomadBlockSchemas(GroupBlocks, JobBlocks, MainTaskBlocks))...),
}

var helperTaskSchema = &hcl.BodySchema{
	Attributes: taskAttributes,
	Blocks:     append([]hcl.BlockHeaderSchema{{Type: "lifecycle"}}, slices.Concat(taskBlocks, nomadBlockSchemas(TaskBlocks))...),
}

var lifecycleSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "hook", Required: true},
		{Name: "sidecar"},
	},
}

var secretSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "path", Required: true},
		{Name: "key", Required: true},
	},
}

var resourcesSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "cpu"},
		{Name: "memory"},
		{Name: "memory_max"},
	},
}

var portSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "to"},
		{Name: "publish"},
		{Name: "static"},
		{Name: "host_network"},
	},
}

var serviceSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "name"},
		{Name: "mesh"},
		{Name: "port"},
		{Name: "protocol"},
		{Name: "tags"},
		{Name: "canary_tags"},
		{Name: "meta"},
		{Name: "allow_from"},
		{Name: "task"},
		{Name: "provider"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "check", LabelNames: []string{"name"}},
		{Type: "upstream", LabelNames: []string{"name"}},
		{Type: "sidecar"},
	},
}

var checkSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"},
		{Name: "path"},
		{Name: "method"},
		{Name: "header"},
		{Name: "command"},
		{Name: "args"},
		{Name: "task"},
		{Name: "interval"},
		{Name: "timeout"},
		{Name: "initial_status"},
		{Name: "port"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "check_restart"},
	},
}

var checkRestartSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "limit"},
		{Name: "grace"},
		{Name: "ignore_warnings"},
	},
}

var upstreamSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "local_port", Required: true},
		{Name: "datacenter"},
		{Name: "namespace"},
	},
}

var sidecarSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "image"},
		{Name: "cpu"},
		{Name: "memory"},
	},
}

var exposeSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "hosts", Required: true},
		{Name: "path"},
	},
}

var updateSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "max_parallel"},
		{Name: "canary"},
		{Name: "auto_promote"},
		{Name: "auto_revert"},
		{Name: "min_healthy_time"},
		{Name: "healthy_deadline"},
		{Name: "progress_deadline"},
	},
}

var scalingSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "min", Required: true},
		{Name: "max", Required: true},
		{Name: "enabled"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "policy"},
	},
}

var periodicSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "cron", Required: true},
		{Name: "time_zone"},
		{Name: "prohibit_overlap"},
	},
}

var externalSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "address", Required: true},
		{Name: "port", Required: true},
		{Name: "protocol"},
	},
}

// appEnvironmentSchema is what an app's environment overlay may change:
// counts, image, env, resources, public hosts and scaling bounds.
var appEnvironmentSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "count"},
		{Name: "image"},
		{Name: "env"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "resources"},
		{Type: "expose"},
		{Type: "scaling"},
	},
}

var overlayScalingSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "min"},
		{Name: "max"},
		{Name: "enabled"},
	},
}

var overlayExposeSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "hosts"},
		{Name: "path"},
	},
}
