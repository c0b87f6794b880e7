# A node agent: one instance on every client (a log shipper, a metrics
# exporter), its port published on the host, outside the mesh.
app "myapp" {
  type  = "system"
  image = "registry.example.com/team/myapp:0.1.0"

  port "metrics" {
    static = 9100
  }

  # Registered in Consul at the host port, so a scraper finds every node.
  service {
    mesh = false
    name = "myapp"
    port = "metrics"

    check "alive" {
      type = "tcp"
    }
  }

  resources {
    cpu    = 100 # MHz
    memory = 64  # MiB
  }

  # Nomad's own blocks, as in a job file:
  # constraint {
  #   attribute = "$${attr.kernel.name}"
  #   value     = "linux"
  # }
}
