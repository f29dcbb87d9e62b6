package crypt

import (
	"context"
	"fmt"
	"testing"

	"github.com/parleyhq/parley"
)

func BenchmarkSealMessage(b *testing.B) {
	dek := NewKey()
	for _, size := range []int{100, 1024} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			body := make([]byte, size)
			m := &parley.Message{ID: parley.NewMessageID(), ConversationID: parley.NewConversationID(), Seq: 1}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := SealMessage(dek, m, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkOpenMessage(b *testing.B) {
	dek := NewKey()
	m := &parley.Message{ID: parley.NewMessageID(), ConversationID: parley.NewConversationID(), Seq: 1}
	if err := SealMessage(dek, m, make([]byte, 1024)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(1024)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := OpenMessage(dek, m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDataKeyCacheHit(b *testing.B) {
	ctx := context.Background()
	env := NewEnvelope(newFakeKP(), newFakeKeys())
	conv := parley.NewConversationID()
	if _, _, err := env.NewConversationKey(ctx, conv, 1, t0); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := env.DataKey(ctx, conv, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkPasswordHash(b *testing.B) {
	h := NewPasswordHasher(DefaultArgon2Params, 0)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
