package lazyregexp

import "testing"

func TestCompiledOnceOnFirstUse(t *testing.T) {
	re := New(`^a+$`)
	first := re()
	if !first.MatchString("aaa") || first.MatchString("b") {
		t.Fatalf("%v matches wrongly", first)
	}
	if re() != first {
		t.Error("a second call compiled the pattern again")
	}
}

func TestBadPatternPanicsOnFirstUse(t *testing.T) {
	re := New(`(`) // no panic yet
	defer func() {
		if recover() == nil {
			t.Error("a pattern that does not compile did not panic on first use")
		}
	}()
	re()
}
