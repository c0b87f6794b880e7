# A nightly batch job with an exec prestart helper and a poststop upload.
job "nightly-backup" {
  datacenters = ["dc1"]
  type        = "batch"

  periodic {
    crons            = ["0 3 * * *"]
    time_zone        = "Europe/Berlin"
    prohibit_overlap = true
  }

  group "backup" {
    reschedule {
      attempts  = 1
      interval  = "1h"
      delay     = "5m"
      unlimited = false
    }

    task "prepare" {
      driver = "exec"

      lifecycle {
        hook = "prestart"
      }

      config {
        command = "/bin/mkdir"
        args    = ["-p", "/alloc/data/dump"]
      }
    }

    task "backup" {
      driver = "docker"

      config {
        image   = "registry.example.com/backup:1.9.0"
        command = "/usr/local/bin/backup"
        args    = ["--out", "/alloc/data/dump"]
      }

      env {
        S3_BUCKET = "backups-prod"
        RETAIN    = "14"
      }

      resources {
        cpu    = 1000
        memory = 1024
      }
    }

    task "upload" {
      driver = "docker"

      lifecycle {
        hook = "poststop"
      }

      config {
        image = "amazon/aws-cli:2.15.0"
        args  = ["s3", "sync", "/alloc/data/dump", "s3://backups-prod/"]
      }

      resources {
        cpu    = 200
        memory = 256
      }
    }
  }
}
