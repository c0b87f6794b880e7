# A mesh service with upstreams, a canary update, autoscaling and a
# literal secret in env; and the service it calls, in the same job.
job "shop" {
  datacenters = ["dc1"]

  group "api" {
    count = 3

    network {
      mode = "bridge"
    }

    service {
      name = "api"
      port = "8080"
      tags = ["v2", "public"]

      connect {
        sidecar_service {
          proxy {
            upstreams {
              destination_name = "payments"
              local_bind_port  = 9191
            }
          }
        }
      }

      check {
        name     = "health"
        type     = "http"
        path     = "/healthz"
        interval = "10s"
        timeout  = "2s"
        expose   = true
      }
    }

    update {
      canary       = 1
      auto_promote = true
      auto_revert  = true
    }

    scaling {
      min     = 2
      max     = 10
      enabled = true

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

    task "api" {
      driver = "docker"

      config {
        image = "registry.example.com/shop/api:1.4.2"
      }

      env {
        LOG_LEVEL       = "info"
        DB_PASSWORD     = "correct-horse-battery-staple"
        STRIPE_API_KEY  = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
        TOKEN_TTL       = "5m"
        PAYMENTS_URL    = "http://${NOMAD_UPSTREAM_ADDR_payments}"
      }

      resources {
        cpu    = 500
        memory = 256
      }
    }
  }

  group "payments" {
    count = 2

    network {
      mode = "bridge"
    }

    service {
      name = "payments"
      port = "9090"

      connect {
        sidecar_service {}
      }

      check {
        type     = "grpc"
        interval = "15s"
        timeout  = "3s"
      }
    }

    task "payments" {
      driver = "docker"

      config {
        image = "registry.example.com/shop/payments:3.0.0"
      }

      resources {
        cpu    = 250
        memory = 128
      }
    }
  }
}
