# A load balancer on the host network, as production jobs register one:
# the frontend under its own address alone, checked at the stats port, and
# a port the process opens itself advertised by number.
job "lb" {
  datacenters = ["dc1"]
  type        = "system"

  group "lb" {
    network {
      mode = "host"
      port "http" {
        static = 8081
      }
      port "stats" {
        static = 1936
      }
    }

    service {
      name = "lb"

      check {
        name     = "frontend"
        type     = "tcp"
        port     = "http"
        interval = "10s"
        timeout  = "2s"
      }
    }

    service {
      name = "lb-peers"
      port = "7946"
    }

    task "haproxy" {
      driver = "docker"

      config {
        image        = "registry.example.com/haproxy:2.9.7"
        network_mode = "host"
      }
    }
  }
}
