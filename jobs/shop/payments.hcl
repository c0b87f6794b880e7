# The payment provider's API lives outside the mesh; the API reaches it
# through the terminating gateway, by name, like any other upstream.
external "payments" {
  address  = "api.payments.example.net"
  port     = 443
  protocol = "tcp"
}
