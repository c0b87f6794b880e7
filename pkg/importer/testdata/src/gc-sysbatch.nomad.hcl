# A one-shot clean-up on every client.
job "docker-gc" {
  datacenters = ["dc1"]
  type        = "sysbatch"

  group "gc" {
    restart {
      attempts = 0
      mode     = "fail"
    }

    task "gc" {
      driver = "raw_exec"

      config {
        command = "/usr/bin/docker"
        args    = ["system", "prune", "--force", "--filter", "until=72h"]
      }

      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
}
