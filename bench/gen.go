package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// writeSpecs writes n typical app specs, and a project file, into dir:
// services with ports, checks, upstreams to their neighbours, a Vault
// secret, an update strategy and, for every third, an autoscaling policy;
// every tenth app is public. They resemble jobs/shop/api.hcl.
func writeSpecs(dir string, n int) error {
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
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("svc-%04d.hcl", i)), []byte(Spec(i, n)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Spec returns the i-th of n generated specs.
func Spec(i, n int) string {
	name := fmt.Sprintf("svc-%04d", i)
	up1 := fmt.Sprintf("svc-%04d", (i+1)%n)
	up2 := fmt.Sprintf("svc-%04d", (i+2)%n)
	s := fmt.Sprintf(`# Service %[1]s: an internal API with a database secret.
app %[1]q {
  image = "registry.example.com/team/%[1]s:${var.version}"

  port "http" {
    to = 8080
  }

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
		s += `
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
`
	}
	if i%10 == 0 {
		s += fmt.Sprintf(`
  expose {
    hosts = ["%s.example.com"]
  }
`, name)
	}
	return s + "}\n"
}
