app "api" {
  image = "registry.example.com/api" # WARNING: Mutable image tag

  resources {
    cpu        = 0 # ERROR: Invalid resources
    memory     = 8 # ERROR: Invalid resources
    memory_max = 4 # ERROR: Invalid resources
  }
}

app "web" {
  image = "registry.example.com/web:latest" # WARNING: Mutable image tag

  task "web" { # ERROR: Duplicate task name
    image = "registry.example.com/helper:1.0.0"
  }

  task "helper" {
    image = "registry.example.com/helper:1.0.0"
    lifecycle {
      hook    = "poststop"
      sidecar = true # ERROR: Invalid lifecycle
    }
  }

  task "init" {
    image = "registry.example.com/init:1.0.0"
    lifecycle {
      hook = "before" # ERROR: Invalid lifecycle hook
    }
  }
}

app "pinned" {
  image = "registry.example.com/pinned@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
}
