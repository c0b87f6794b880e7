// Package testutil holds small helpers that tests of several packages
// share: a buffer safe for concurrent writers, and polling for a condition
// that real agents or fakes reach asynchronously. Only tests import it.
package testutil
