package store_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/testdb"
)

// ids go in and out intact through the binary codec: values, pointers, NULLs, arrays.
func TestUUIDCodecRoundTrips(t *testing.T) {
	pool := testdb.Pool(t)
	ctx := context.Background()
	id := uuid.New()
	var got uuid.UUID
	var nilOut *uuid.UUID
	var ptrOut *uuid.UUID
	var arr []uuid.UUID
	var text string
	err := pool.QueryRow(ctx, `SELECT $1::uuid, $2::uuid, $3::uuid, $4::uuid[], $1::uuid::text`, id, (*uuid.UUID)(nil), &id, []uuid.UUID{id, uuid.Nil}).
		Scan(&got, &nilOut, &ptrOut, &arr, &text)
	if err != nil {
		t.Fatal(err)
	}
	if got != id || nilOut != nil || ptrOut == nil || *ptrOut != id || len(arr) != 2 || arr[0] != id || arr[1] != uuid.Nil || text != id.String() {
		t.Fatalf("round trip: %v %v %v %v %s", got, nilOut, ptrOut, arr, text)
	}
	if err := pool.QueryRow(ctx, `SELECT NULL::uuid`).Scan(&got); err == nil {
		t.Fatal("NULL scanned into a uuid.UUID without an error")
	}
}
