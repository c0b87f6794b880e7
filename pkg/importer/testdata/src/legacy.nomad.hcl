# An older job: a service registered by the task, a task-level network
# port (deprecated), a node pool and all_at_once, an unsupported
# resource (cores).
job "legacy" {
  datacenters = ["dc1"]
  node_pool   = "batch-nodes"
  all_at_once = true

  affinity {
    attribute = "${node.datacenter}"
    value     = "dc1"
    weight    = 100
  }

  group "legacy" {
    count = 2

    task "legacy" {
      driver = "docker"

      config {
        image = "registry.example.com/legacy:0.9.7"
        port_map {
          http = 8080
        }
      }

      service {
        name = "legacy"
        port = "http"
        check {
          type     = "http"
          path     = "/"
          interval = "30s"
          timeout  = "5s"
        }
      }

      resources {
        cores  = 2
        memory = 768

        network {
          mbits = 10
          port "http" {}
        }
      }
    }
  }
}
