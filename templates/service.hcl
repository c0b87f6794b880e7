# An internal service with a Vault secret and CPU autoscaling, reachable only through the mesh.
app "myapp" {
  image = "registry.example.com/team/myapp:0.1.0"

  port "http" {
    to = 8080
  }

  resources {
    cpu    = 500 # MHz
    memory = 256 # MiB
  }

  env = {
    LOG_LEVEL = "info"
  }

  # Read from Vault (KV v2) by Nomad at run time and set as an env var.
  secret "DB_PASSWORD" {
    path = "myapp/db"
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
  }

  update {
    canary       = 1
    auto_promote = true
    auto_revert  = true
  }

  scaling {
    min = 2
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
}
