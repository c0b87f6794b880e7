# A public edge proxy: static host ports on a host network, placement,
# restart/reschedule/migrate, ephemeral disk, kill settings, docker options.
job "edge" {
  datacenters = ["dc1", "dc2"]
  region      = "eu"
  namespace   = "web"

  constraint {
    attribute = "${attr.kernel.name}"
    value     = "linux"
  }

  group "edge" {
    count = 3

    constraint {
      operator = "distinct_hosts"
      value    = "true"
    }

    spread {
      attribute = "${node.datacenter}"
      weight    = 80
    }

    affinity {
      attribute = "${node.class}"
      value     = "edge"
      weight    = 50
    }

    network {
      port "http" {
        static       = 80
        to           = 8080
        host_network = "public"
      }
      port "metrics" {
        to = 9100
      }
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
      max_delay      = "2m"
    }

    migrate {
      max_parallel     = 2
      health_check     = "task_states"
      min_healthy_time = "20s"
    }

    ephemeral_disk {
      size    = 500
      sticky  = true
      migrate = true
    }

    update {
      max_parallel     = 2
      min_healthy_time = "30s"
      healthy_deadline = "3m"
      auto_revert      = true
    }

    shutdown_delay = "5s"

    task "edge" {
      driver = "docker"

      config {
        image   = "registry.example.com/edge:2.4.1"
        ports   = ["http", "metrics"]
        cap_add = ["NET_BIND_SERVICE"]
        args    = ["--listen", ":8080", "--node", "${node.unique.name}"]

        logging {
          type = "json-file"
          config {
            max-size = "10m"
            max-file = "3"
          }
        }

        ulimit {
          nofile = "65536:65536"
        }
      }

      env {
        LOG_LEVEL   = "info"
        UPSTREAM    = "http://${NOMAD_ADDR_metrics}"
      }

      kill_timeout = "45s"
      kill_signal  = "SIGQUIT"

      logs {
        max_files     = 5
        max_file_size = 20
      }

      resources {
        cpu        = 1000
        memory     = 512
        memory_max = 1024
      }
    }
  }
}
