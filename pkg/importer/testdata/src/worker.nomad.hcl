# A queue worker and its web UI in one job (two apps), group-level
# settings that drover has no typed block for.
job "queue" {
  datacenters = ["dc1"]

  group "worker" {
    count = 4

    max_client_disconnect = "10m"

    network {
      mode = "bridge"
    }

    service {
      name = "queue-worker"

      connect {
        sidecar_service {
          proxy {
            upstreams {
              destination_name = "redis"
              local_bind_port  = 6379
            }
          }
        }
      }
    }

    task "worker" {
      driver = "docker"

      config {
        image = "registry.example.com/queue/worker:7.2.0"
        args  = ["--concurrency", "8"]
      }

      env {
        REDIS_URL        = "redis://:s3cr3t-Pa55w0rd@127.0.0.1:6379/0"
        WORKER_QUEUES    = "default,mail"
        GITHUB_TOKEN     = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"
      }

      resources {
        cpu    = 750
        memory = 512
      }
    }
  }

  group "ui" {
    network {
      port "http" {
        to = 5555
      }
    }

    task "ui" {
      driver = "docker"

      config {
        image = "registry.example.com/queue/ui:7.2.0"
        ports = ["http"]
      }

      env {
        UI_BASIC_AUTH_USER = "admin"
      }
    }
  }
}
