package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// writeSpecs writes n typical app specs, and a project file, into dir:
// services with ports, checks, upstreams to their neighbours, a Vault
// secret, an update strategy, a prod overlay and, for every third, an
// autoscaling policy; every tenth app is public. They resemble
// jobs/shop/api.hcl. With grown set they also carry what production jobs
// add (pkg/spec/testdata/valid/production.hcl): published ports, services
// outside the mesh, files, volumes and mounts, docker options, Nomad's
// group blocks and a nomad block, spread over the specs.
func writeSpecs(dir string, n int, grown bool) error {
	project := `project "bench" {
  datacenters = ["dc1"]
  environment "prod" {}
}

variable "version" {
  type    = string
  default = "1.0.0"
}
`
	if err := os.WriteFile(filepath.Join(dir, "drover.hcl"), []byte(project), 0o644); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		if err := os.WriteFile(filepath.Join(dir, specName(i)+".hcl"), []byte(Spec(i, n, grown)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func specName(i int) string { return fmt.Sprintf("svc-%04d", i) }

// Spec returns the i-th of n generated specs.
func Spec(i, n int, grown bool) string {
	name := specName(i)
	up1 := specName((i + 1) % n)
	up2 := specName((i + 2) % n)
	var b strings.Builder
	fmt.Fprintf(&b, `# Service %[1]s: an internal API with a database secret.
app %[1]q {
  image = "registry.example.com/team/%[1]s:${var.version}"

  port "http" {
    to = 8080
  }
`, name)
	if grown && i%4 == 0 {
		b.WriteString(`
  port "metrics" {
    publish = true
    to      = 9100
  }
`)
	}
	fmt.Fprintf(&b, `
  resources {
    cpu    = 250
    memory = 256
  }

  env = {
    LOG_LEVEL    = "info"
    SERVICE_NAME = %[1]q
    FEATURE_FLAG = "on"
  }

  secret "DB_PASSWORD" {
    path = "team/%[1]s/db"
    key  = "password"
  }

  service {
    port = "http"

    check "health" {
      type     = "http"
      path     = "/healthz"
      interval = "10s"
      timeout  = "2s"
    }

    upstream %[2]q {
      local_port = 9001
    }

    upstream %[3]q {
      local_port = 9002
    }
  }

  update {
    canary       = 1
    auto_promote = true
    auto_revert  = true
  }

  environment "prod" {
    count = 3
  }
`, name, up1, up2)
	if i%3 == 0 {
		b.WriteString(`
  scaling {
    min = 1
    max = 10

    policy {
      cooldown = "2m"

      check "cpu" {
        source = "nomad-apm"
        query  = "avg_cpu-allocated"

        strategy "target-value" {
          target = 70
        }
      }
    }
  }
`)
	}
	if i%10 == 0 {
		fmt.Fprintf(&b, `
  expose {
    hosts = ["%s.example.com"]
  }
`, name)
	}
	if grown {
		writeGrown(&b, i, name)
	}
	b.WriteString("}\n")
	return b.String()
}

// writeGrown adds the production blocks to spec i.
func writeGrown(b *strings.Builder, i int, name string) {
	if i%4 == 0 {
		fmt.Fprintf(b, `
  service {
    mesh = false
    name = "%s-metrics"
    port = "metrics"
    meta = { scrape = "true" }

    check "alive" {
      type = "tcp"
    }
  }
`, name)
	}
	b.WriteString(`
  constraint {
    attribute = "$${node.class}"
    value     = "general"
  }

  restart {
    attempts = 5
    interval = "10m"
    delay    = "15s"
    mode     = "delay"
  }
`)
	if i%2 == 0 {
		b.WriteString(`
  spread {
    attribute = "$${node.datacenter}"
  }

  reschedule {
    unlimited      = true
    delay_function = "exponential"
  }
`)
	}
	fmt.Fprintf(b, `
  file "local/%[1]s.conf" {
    content       = "upstreams = {{ key \"%[1]s/upstreams\" }}\n"
    change_mode   = "signal"
    change_signal = "SIGHUP"
  }

  kill_timeout = "30s"
`, name)
	if i%3 == 0 {
		fmt.Fprintf(b, `
  volume "data" {
    source = "%s-data"
  }

  mount "data" {
    path = "/var/lib/app"
  }

  docker {
    cap_add = ["NET_BIND_SERVICE"]

    logging {
      type = "json-file"

      config {
        max-size = "10m"
      }
    }
  }
`, name)
	}
	if i%5 == 0 {
		fmt.Fprintf(b, `
  nomad {
    task %q {
      logs {
        max_files     = 3
        max_file_size = 20
      }
    }
  }
`, name)
	}
}

// levantTemplate is a Levant template of the job that the generated spec
// svc-0001 renders to, written by hand the way a Levant user keeps one:
// what `levant render` does with it is the nearest thing in Levant to
// `drover render` of that spec. Its variables come from levantVars.
const levantTemplate = `job "[[ .name ]]" {
  datacenters = ["dc1"]
  type        = "service"

  update {
    canary       = 1
    auto_promote = true
    auto_revert  = true
  }

  constraint {
    attribute = "${node.class}"
    value     = "general"
  }

  group "[[ .name ]]" {
    count = [[ .count ]]

    network {
      mode = "bridge"
      port "http" {
        to = 8080
      }
    }

    restart {
      attempts = 5
      interval = "10m"
      delay    = "15s"
      mode     = "delay"
    }

    service {
      name = "[[ .name ]]"
      port = "http"

      check {
        type     = "http"
        path     = "/healthz"
        interval = "10s"
        timeout  = "2s"
      }

      connect {
        sidecar_service {
          proxy {
[[- range $i, $u := .upstreams ]]
            upstreams {
              destination_name = "[[ $u ]]"
              local_bind_port  = [[ add 9001 $i ]]
            }
[[- end ]]
          }
        }
      }
    }

    task "[[ .name ]]" {
      driver       = "docker"
      kill_timeout = "30s"

      config {
        image = "registry.example.com/team/[[ .name ]]:[[ .version ]]"
        ports = ["http"]
      }

      vault {}

      env {
        LOG_LEVEL    = "info"
        SERVICE_NAME = "[[ .name ]]"
        FEATURE_FLAG = "on"
      }

      template {
        data        = "{{ with secret \"secret/data/team/[[ .name ]]/db\" }}DB_PASSWORD={{ .Data.data.password }}{{ end }}"
        destination = "secrets/env"
        env         = true
      }

      template {
        data          = "upstreams = {{ key \"[[ .name ]]/upstreams\" }}\n"
        destination   = "local/[[ .name ]].conf"
        change_mode   = "signal"
        change_signal = "SIGHUP"
      }

      resources {
        cpu    = 250
        memory = 256
      }
    }
  }
}
`

// levantVars are the template's variables, as a Levant YAML variable file.
const levantVars = `name: svc-0001
count: 3
version: 1.0.0
upstreams:
  - svc-0002
  - svc-0000
`
