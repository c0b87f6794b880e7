// Package faults records the requests a fake HTTP API server receives and
// injects the failures real servers show: error statuses, slow answers,
// and connections dropped mid-request. The Nomad, Consul and Vault fakes
// embed an Injector and call Intercept before serving each request.
package faults
