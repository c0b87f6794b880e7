# Object storage on CSI volumes, one per allocation.
job "minio" {
  datacenters = ["dc1"]

  group "minio" {
    count = 4

    volume "data" {
      type            = "csi"
      source          = "minio-data"
      access_mode     = "single-node-writer"
      attachment_mode = "file-system"
      per_alloc       = true

      mount_options {
        fs_type     = "ext4"
        mount_flags = ["noatime"]
      }
    }

    network {
      port "api" {
        to = 9000
      }
      port "console" {
        to = 9001
      }
    }

    task "minio" {
      driver = "docker"

      config {
        image = "quay.io/minio/minio:RELEASE.2024-05-10T01-41-38Z"
        args  = ["server", "/data", "--console-address", ":9001"]
        ports = ["api", "console"]
      }

      volume_mount {
        volume      = "data"
        destination = "/data"
      }

      resources {
        cpu    = 1000
        memory = 2048
      }
    }
  }
}
