# A message broker as production jobs run one: one service name registered
# on two ports (clients and the management UI, a dashed port label), a
# check that starts passing, a plugin fetched as an artifact, and a
# prestart helper with a restart policy of its own.
job "broker" {
  datacenters = ["dc1"]

  group "broker" {
    network {
      port "amqp" {
        to = 5672
      }
      port "mgmt-ui" {
        to = 15672
      }
    }

    task "init-config" {
      driver = "docker"

      lifecycle {
        hook = "prestart"
      }

      config {
        image   = "registry.example.com/broker/init:1.0.0"
        command = "/bin/init"
      }

      restart {
        attempts = 5
        delay    = "5s"
        mode     = "fail"
      }
    }

    task "rabbit" {
      driver = "docker"

      config {
        image = "registry.example.com/broker/rabbitmq:3.13.1"
        ports = ["amqp", "mgmt-ui"]
      }

      artifact {
        source      = "https://releases.example.com/rabbitmq/delayed-message-exchange.ez"
        destination = "local/plugins"
        mode        = "file"
      }

      service {
        name = "broker"
        port = "amqp"
        tags = ["amqp"]

        check {
          name           = "amqp"
          type           = "tcp"
          interval       = "10s"
          timeout        = "2s"
          initial_status = "passing"
        }
      }

      service {
        name = "broker"
        port = "mgmt-ui"
        tags = ["management"]
      }
    }
  }
}
