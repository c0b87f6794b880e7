external "db" {
  address  = "not an address" # ERROR: Invalid address
  port     = 0 # ERROR: Invalid port
  protocol = "udp" # ERROR: Invalid protocol
}

external "Bad" { # ERROR: Invalid external name | ERROR: Missing required argument
  address = "db.example.com"
}
