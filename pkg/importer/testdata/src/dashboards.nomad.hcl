# Community-pack style mesh jobs: http checks on the port label without
# expose, a service-level check_restart, a sized sidecar, an upstream in
# another datacenter, and templates at absolute destinations.
job "dashboards" {
  datacenters = ["dc1"]

  group "grafana" {
    network {
      mode = "bridge"
      port "http" {
        to = 3000
      }
    }

    service {
      name = "grafana"
      port = "http"

      check_restart {
        limit = 3
        grace = "30s"
      }

      check {
        type     = "http"
        port     = "http"
        path     = "/api/health"
        interval = "10s"
        timeout  = "2s"
      }

      connect {
        sidecar_service {
          proxy {
            upstreams {
              destination_name = "loki"
              local_bind_port  = 3100
              datacenter       = "dc2"
            }
          }
        }
        sidecar_task {
          resources {
            cpu    = 200
            memory = 96
          }
        }
      }
    }

    task "grafana" {
      driver = "docker"

      config {
        image = "grafana/grafana:11.1.0"
      }

      env {
        GF_PATHS_CONFIG = "/local/grafana.ini"
      }

      template {
        destination = "/local/grafana.ini"
        data        = <<EOH
[server]
http_port = 3000
EOH
      }
    }
  }

  group "loki" {
    network {
      mode = "bridge"
      port "http" {
        to = 3100
      }
    }

    service {
      name = "loki"
      port = "http"

      connect {
        sidecar_service {}
      }
    }

    task "loki" {
      driver = "docker"

      config {
        image = "grafana/loki:3.1.0"
        args  = ["-config.file=/local/loki.yaml"]
      }

      template {
        destination = "local/loki.yaml"
        data        = "auth_enabled: false\n"
      }
    }
  }
}
