# A job pulling from a private registry with a password in the job, on
# the host network, with a service outside the mesh whose script check
# names the group's task.
job "private" {
  datacenters = ["dc1"]
  node_pool   = "private"

  group "api" {
    network {
      port "http" {
        static = 8080
      }
    }

    service {
      name = "private-api"
      port = "http"

      check {
        type     = "script"
        task     = "server"
        command  = "/bin/check"
        args     = ["--quick"]
        interval = "30s"
        timeout  = "5s"
      }
    }

    task "server" {
      driver = "docker"

      config {
        image = "registry.example.com/private/api:2.0.0"
        ports = ["http"]

        auth {
          username = "deploy"
          password = "s3cr3t-Pa55w0rd"
        }
      }
    }
  }
}
