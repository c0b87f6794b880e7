# The app's own task with a restart policy of its own, a helper that
# inherits the group's, and one with its own: import moves the task's
# policy to the app's restart block (the group's) and keeps every task's
# policy what it was.
job "restarts" {
  datacenters = ["dc1"]

  group "web" {
    task "web" {
      driver = "docker"

      config {
        image = "registry.example.com/web:3.0.0"
      }

      restart {
        attempts = 3
        interval = "15m"
        delay    = "30s"
        mode     = "fail"
      }
    }

    task "cache" {
      driver = "docker"

      lifecycle {
        hook    = "prestart"
        sidecar = true
      }

      config {
        image = "registry.example.com/redis:7.2.4"
      }
    }

    task "warmup" {
      driver = "docker"

      lifecycle {
        hook = "poststart"
      }

      config {
        image = "registry.example.com/warmup:1.0.0"
      }

      restart {
        attempts = 0
        mode     = "fail"
      }
    }
  }
}
