# Several services outside the mesh, with checks of every kind, on one
# group; group meta, a disconnect block and a Consul namespace.
job "monitoring" {
  datacenters = ["dc1"]

  meta {
    team = "observability"
  }

  group "prometheus" {
    meta {
      tier = "infra"
    }

    network {
      port "http" {
        to = 9090
      }
      port "push" {
        to = 9091
      }
    }

    disconnect {
      lost_after = "1h"
      replace    = false
      reconcile  = "keep_original"
    }

    service {
      name = "prometheus"
      port = "http"
      tags = ["metrics", "ui"]
      meta {
        scrape = "true"
      }

      check {
        name     = "ready"
        type     = "http"
        path     = "/-/ready"
        interval = "10s"
        timeout  = "2s"

        check_restart {
          limit = 3
          grace = "90s"
        }
      }
    }

    service {
      name = "pushgateway"
      port = "push"

      check {
        type     = "tcp"
        interval = "20s"
        timeout  = "2s"
      }
    }

    task "prometheus" {
      driver = "docker"

      config {
        image = "prom/prometheus:v2.53.0"
        ports = ["http"]
        args  = ["--config.file=/local/prometheus.yml", "--storage.tsdb.retention.time=15d"]
      }

      template {
        data        = <<EOH
global:
  scrape_interval: 15s
scrape_configs:
  - job_name: nomad
    consul_sd_configs:
      - server: '{{ env "attr.unique.network.ip-address" }}:8500'
EOH
        destination = "local/prometheus.yml"
      }

      resources {
        cpu    = 500
        memory = 1024
      }
    }

    task "pushgateway" {
      driver = "docker"

      config {
        image = "prom/pushgateway:v1.9.0"
        ports = ["push"]
      }

      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
}
