# A system job on every client: a static port, host mounts, and a
# raw_exec helper running beside it.
job "node-exporter" {
  datacenters = ["*"]
  type        = "system"

  group "node-exporter" {
    network {
      port "metrics" {
        static = 9100
      }
    }

    service {
      name     = "node-exporter"
      port     = "metrics"
      provider = "nomad"
      tags     = ["prometheus"]
    }

    task "node-exporter" {
      driver = "docker"

      config {
        image        = "prom/node-exporter:v1.8.2"
        network_mode = "host"
        pid_mode     = "host"
        args         = ["--path.rootfs=/host"]

        mount {
          type     = "bind"
          source   = "/"
          target   = "/host"
          readonly = true
        }
      }

      resources {
        cpu    = 100
        memory = 64
      }
    }

    task "log-rotate" {
      driver = "raw_exec"

      lifecycle {
        hook    = "poststart"
        sidecar = true
      }

      config {
        command = "/usr/sbin/logrotate"
        args    = ["-s", "/var/lib/logrotate/status", "/etc/logrotate.d/nomad"]
      }

      resources {
        cpu    = 20
        memory = 32
      }
    }
  }
}
