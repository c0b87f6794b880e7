# The internal API: reachable only by apps that declare it as an upstream.
# Its database password comes from Vault at run time; it scales on CPU.
app "api" {
  image = "registry.example.com/shop/api:${var.version}"

  port "http" {
    to = 8080
  }

  resources {
    cpu    = 500
    memory = 256
  }

  env = {
    LOG_LEVEL    = "info"
    DATABASE_URL = "postgres://api@127.0.0.1:5432/shop" # no password: see DB_PASSWORD
  }

  secret "DB_PASSWORD" {
    path = "shop/db"
    key  = "password"
  }

  secret "PAYMENTS_API_KEY" {
    path = "shop/payments"
    key  = "api_key"
  }

  service {
    port = "http"

    check "health" {
      type     = "http"
      path     = "/healthz"
      interval = "10s"
      timeout  = "2s"
    }

    upstream "postgres" {
      local_port = 5432
    }

    upstream "payments" {
      local_port = 9191
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

    # The Nomad Autoscaler's own policy format: the official agent and
    # `drover autoscale` both act on it.
    policy {
      evaluation_interval = "10s"
      cooldown            = "2m"

      check "cpu" {
        source = "nomad-apm"
        query  = "avg_cpu-allocated"

        strategy "target-value" {
          target = 70
        }
      }

      # drover's extensions, which the official Autoscaler ignores: scale
      # down only after 10 quiet minutes, and by at most 2 per minute.
      drover {
        scale_down {
          stabilization_window = "10m"

          rate {
            type   = "pods"
            value  = 2
            period = "1m"
          }
        }
      }
    }
  }

  environment "prod" {
    scaling {
      min = 4
      max = 20
    }
    resources {
      cpu    = 1000
      memory = 512
    }
  }
}
