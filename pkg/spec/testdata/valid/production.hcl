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

    service {
      name     = "edge-metrics"
      port     = "metrics"
      provider = "consul"
      tags     = ["prometheus"]

      check {
        type     = "tcp"
        interval = "15s"
        timeout  = "3s"
      }
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
