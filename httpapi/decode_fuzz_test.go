package httpapi

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/parleyhq/parley/wire"
)

// requestTypes are the body types of every route that takes one, from the
// route table itself, so a new operation is fuzzed without being listed.
func requestTypes() []reflect.Type {
	seen := map[reflect.Type]bool{}
	var types []reflect.Type
	for _, rt := range testAPI().routes {
		if rt.Request == nil {
			continue
		}
		t := reflect.TypeOf(rt.Request).Elem()
		if !seen[t] {
			seen[t] = true
			types = append(types, t)
		}
	}
	return types
}

// FuzzDecodeRequestBodies feeds arbitrary bytes to the strict decoder (I2)
// for each REST request type: the first byte picks the type. It must never
// panic, and whatever it accepts must survive a round trip through JSON.
func FuzzDecodeRequestBodies(f *testing.F) {
	types := requestTypes()
	if len(types) == 0 {
		f.Fatal("no request types in the route table")
	}
	for i, t := range types {
		// Seed each type with its zero value as JSON, plus a few hostile
		// shapes.
		zero, err := json.Marshal(reflect.New(t).Interface())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(append([]byte{byte(i)}, zero...))
	}
	for _, s := range []string{`{"username":"a\u202eb","password":"x"}`, `{"a":1}{"b":2}`, `{"body":"\ud800"}`,
		`{"member_ids":[` + `"x",` + `"y"]}`, `[]`, `null`, `{"roles":{"x":1}}`, "{\"username\":\"\xff\"}", `{"title":1e999}`} {
		f.Add(append([]byte{0}, s...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		typ := types[int(data[0])%len(types)]
		v := reflect.New(typ).Interface()
		if err := wire.DecodeBytes(data[1:], v); err != nil {
			if _, ok := err.(*wire.DecodeError); !ok {
				t.Fatalf("%s: error of type %T: %v", typ, err, err)
			}
			return
		}
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: accepted %q but cannot encode it: %v", typ, data[1:], err)
		}
		if err := wire.DecodeBytes(again, reflect.New(typ).Interface()); err != nil {
			t.Fatalf("%s: accepted %q, re-encoded %q refused: %v", typ, data[1:], again, err)
		}
	})
}
