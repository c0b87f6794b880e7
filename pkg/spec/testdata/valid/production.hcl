# What production jobs carry beyond the mesh: ports published on the host,
# a node agent on every client, helpers on the client itself, and Nomad's
# own vocabulary for the long tail.

app "edge" {
  image = "registry.example.com/edge:2.4.1"

  port "http" {
    static       = 80
    to           = 8080
    host_network = "public"
  }

  port "metrics" {
    publish = true
    to      = 9100
  }

  # Outside the mesh: Consul registers these at the published host ports.
  service {
    mesh        = false
    name        = "edge"
    port        = "http"
    tags        = ["public"]
    canary_tags = ["canary"]

    check "ready" {
      type   = "http"
      path   = "/ready"
      header = { Host = "edge.example.com" }

      check_restart {
        limit = 3
        grace = "30s"
      }
    }

    check "config" {
      type    = "script"
      command = "/bin/edge"
      args    = ["check-config"]
    }
  }

  service {
    mesh = false
    name = "edge-metrics"
    port = "metrics"
    meta = { scrape = "true" }

    check "alive" {
      type = "tcp"
    }
  }

  nomad {
    constraint {
      attribute = "$${node.class}"
      value     = "edge"
    }

    constraint {
      operator = "distinct_hosts"
      value    = "true"
    }

    spread {
      attribute = "$${node.datacenter}"
    }

    restart {
      attempts = 5
      interval = "10m"
      delay    = "15s"
      mode     = "delay"
    }

    reschedule {
      unlimited      = true
      delay_function = "exponential"
    }

    ephemeral_disk {
      size   = 300
      sticky = true
    }

    volume "certs" {
      type      = "host"
      source    = "edge-certs"
      read_only = true
    }

    task "edge" {
      kill_timeout = "45s"
      kill_signal  = "SIGQUIT"

      config {
        cap_add = ["NET_BIND_SERVICE"]

        logging {
          type = "json-file"

          config {
            max-size = "10m"
          }
        }
      }

      volume_mount {
        volume      = "certs"
        destination = "/etc/edge/certs"
      }

      template {
        data          = "upstreams = {{ key \"edge/upstreams\" }}\n"
        destination   = "local/edge.conf"
        change_mode   = "signal"
        change_signal = "SIGHUP"
      }
    }
  }
}

app "node-exporter" {
  type  = "system"
  image = "registry.example.com/node-exporter:1.8.2"
  args  = ["--path.rootfs=/host"]

  port "metrics" {
    static = 9101
  }

  task "log-rotate" {
    driver  = "raw_exec"
    command = "/usr/sbin/logrotate"
    args    = ["/etc/logrotate.d/nomad"]

    lifecycle {
      hook    = "poststart"
      sidecar = true
    }
  }
}
