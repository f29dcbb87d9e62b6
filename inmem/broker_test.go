package inmem

import (
	"context"
	"testing"

	"github.com/parleyhq/parley"
)

func TestBrokerDeliversInOrderUntilCancelled(t *testing.T) {
	b := NewBroker()
	var got []int64
	cancel := b.Subscribe(func(ev parley.Event) { got = append(got, ev.Seq) })
	for i := int64(1); i <= 3; i++ {
		if err := b.Publish(context.Background(), parley.Event{Seq: i}); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	_ = b.Publish(context.Background(), parley.Event{Seq: 4})
	if len(got) != 3 || got[0] != 1 || got[2] != 3 {
		t.Fatalf("got %v, want [1 2 3]", got)
	}
	if err := b.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}
