app "search" {
  image = "registry.example.com/search:0.9.3"

  port "grpc" {
    to = 9000
  }

  service {
    protocol = "grpc"
    tags     = ["v1", "internal"]

    check "health" {
      type     = "grpc"
      interval = "5s"
      timeout  = "1s"
    }
  }
}

app "indexer" {
  image = "registry.example.com/indexer:0.9.3"

  service {
    upstream "search" {
      local_port = 9000
    }
  }
}
