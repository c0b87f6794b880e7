app "api" {
  image  = "registry.example.com/api:1.0.0"
  colour = "blue" # ERROR: Unsupported argument

  sidecar { # ERROR: Unsupported block type
  }

  service {
  }

  service { # ERROR: Two services in the mesh
  }

  port "http" {
    to = 8080
  }

  port "http" { # ERROR: Duplicate port block
    to = 8081
  }
}

app "worker" { # ERROR: Missing image
  count = 1
}

frobnicate "x" { # ERROR: Unsupported block type
}
