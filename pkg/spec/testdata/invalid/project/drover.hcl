project "shop" {
  environment "prod" {
  }

  environment "Prod_EU" { # ERROR: Invalid environment name
  }
}

variable "version" { # ERROR: No value for required variable
  type = string
}

variable "version" { # ERROR: Duplicate variable
  type = string
}

variable "replicas" {
  type    = number
  default = "many" # ERROR: Invalid default value
}
