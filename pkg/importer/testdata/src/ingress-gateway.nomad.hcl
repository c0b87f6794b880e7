# A Consul ingress gateway run as a Nomad job: Connect gateways have no
# typed block.
job "ingress" {
  datacenters = ["dc1"]

  group "ingress" {
    network {
      mode = "bridge"
      port "inbound" {
        static = 8080
        to     = 8080
      }
    }

    service {
      name = "ingress"
      port = "8080"

      connect {
        gateway {
          proxy {}
          ingress {
            listener {
              port     = 8080
              protocol = "http"
              service {
                name  = "web"
                hosts = ["web.example.com"]
              }
            }
          }
        }
      }
    }
  }
}
