# A mesh service that tunes its sidecar and upstream beyond the typed
# block: the nomad block carries the whole service.
job "search" {
  datacenters = ["dc1"]

  group "search" {
    count = 2

    network {
      mode = "bridge"
      port "metrics" {
        to = 9102
      }
    }

    service {
      name = "search"
      port = "7700"
      tags = ["search"]

      connect {
        sidecar_service {
          proxy {
            config {
              protocol = "http"
              envoy_prometheus_bind_addr = "0.0.0.0:9102"
            }
          }
        }

        sidecar_task {
          resources {
            cpu    = 200
            memory = 128
          }
        }
      }
    }

    task "search" {
      driver = "docker"

      config {
        image = "getmeili/meilisearch:v1.8.0"
      }

      env {
        MEILI_ENV = "production"
      }

      resources {
        cpu    = 1500
        memory = 2048
      }
    }
  }
}
