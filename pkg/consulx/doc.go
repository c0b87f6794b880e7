// Package consulx is drover's thin adapter over the official Consul API
// client: config entries (read, check-and-set write, delete), catalog
// registration of external services, and service health. Every call takes
// a context, transient failures are retried, and errors are *apierr.Error.
package consulx
