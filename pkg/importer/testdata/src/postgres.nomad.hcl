# A database on a host volume, pinned to the node that has it, with a
# prestart init container and task-level settings.
job "postgres" {
  datacenters = ["dc1"]
  priority    = 80

  group "db" {
    volume "pgdata" {
      type      = "host"
      source    = "pgdata"
      read_only = false
    }

    network {
      port "db" {
        static = 5432
      }
    }

    service {
      name     = "postgres"
      port     = "db"
      provider = "nomad"
      tags     = ["primary"]

      check {
        type     = "tcp"
        interval = "10s"
        timeout  = "2s"
      }
    }

    task "init-perms" {
      driver = "docker"

      lifecycle {
        hook = "prestart"
      }

      config {
        image   = "busybox:1.36"
        command = "sh"
        args    = ["-c", "chown -R 999:999 /var/lib/postgresql/data"]
      }

      volume_mount {
        volume      = "pgdata"
        destination = "/var/lib/postgresql/data"
      }

      resources {
        cpu    = 50
        memory = 32
      }
    }

    task "db" {
      driver = "docker"

      config {
        image = "postgres:16.2"
        ports = ["db"]
      }

      constraint {
        attribute = "${meta.storage}"
        value     = "ssd"
      }

      volume_mount {
        volume      = "pgdata"
        destination = "/var/lib/postgresql/data"
      }

      env {
        POSTGRES_USER     = "app"
        PGDATA            = "/var/lib/postgresql/data/pgdata"
      }

      user         = "999"
      kill_timeout = "2m"

      resources {
        cpu    = 2000
        memory = 2048
      }
    }
  }
}
