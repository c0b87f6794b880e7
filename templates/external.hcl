# A service outside the mesh (a managed database, a partner API), reached through the terminating gateway.
external "myapp" {
  address  = "myapp.internal.example.com"
  port     = 5432
  protocol = "tcp"
}
