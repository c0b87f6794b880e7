# A background worker: serves nothing, calls other services through the mesh.
app "myapp" {
  image = "registry.example.com/team/myapp:0.1.0"
  count = 1

  resources {
    cpu    = 200 # MHz
    memory = 128 # MiB
  }

  env = {
    LOG_LEVEL = "info"
  }

  # Add upstreams to call other apps by name, each on its own local port:
  # service {
  #   upstream "api" { local_port = 9090 }
  # }
}
