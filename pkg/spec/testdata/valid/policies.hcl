app "queue-worker" {
  image = "registry.example.com/queue-worker:1.0.0"

  port "http" {
    to = 8080
  }

  service {}

  scaling {
    min = 0
    max = 50

    policy {
      evaluation_interval  = "30s"
      cooldown             = "5m"
      cooldown_on_scale_up = "1m"
      on_check_error       = "fail"

      schedule {
        start    = "0 8 * * 1-5"
        duration = "10h"
      }

      check "backlog" {
        source       = "prometheus"
        query        = "sum(queue_depth{queue=\"orders\"})"
        query_window = "2m"
        group        = "load"

        strategy "target-value" {
          target         = 0
          max_scale_up   = 10
          max_scale_down = 2
        }
      }

      check "busy" {
        source       = "prometheus"
        query        = "avg(worker_busy_ratio)"
        query_window = "1m"
        group        = "load"
        on_error     = "ignore"

        strategy "threshold" {
          lower_bound           = 0.9
          percentage            = 50
          within_bounds_trigger = 30
        }
      }

      check "idle" {
        query = "avg_cpu-allocated"

        strategy "threshold" {
          upper_bound           = 10
          delta                 = -1
          within_bounds_trigger = 1
        }
      }

      check "instant" {
        source       = "prometheus"
        query        = "scalar(desired_workers)"
        query_window = "instant"

        strategy "pass-through" {
          max_scale_up = 5
        }
      }

      check "floor" {
        strategy "fixed-value" {
          value = 1
        }

        schedule {
          start = "0 22 * * *"
          end   = "0 6 * * *"
        }
      }
    }
  }
}
