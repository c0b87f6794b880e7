project "other" { # ERROR: Project block outside drover.hcl
}

variable "owner" { # ERROR: No value for required variable
}

app "api" {
  image = "registry.example.com/api:${var.version}"
  count = var.nope # ERROR: Unsupported attribute

  environment "prd" { # ERROR: Undeclared environment
    count = 3
  }

  environment "prod" {
    count = 2
    scaling { # ERROR: Scaling overlay without scaling
      max = 4
    }
  }
}
