package httpapi

import "github.com/google/uuid"

// PersonRef names a person on an object: who launched it, who cancelled it (null when
// nobody did).
type PersonRef struct {
	_     struct{}  `nullable:"true"`
	ID    uuid.UUID `json:"id"`
	Login string    `json:"login" example:"octocat"`
}

// personRef is the reference to the user id (nil, or a deleted user: null).
func personRef(id *uuid.UUID, login *string) *PersonRef {
	if id == nil || login == nil {
		return nil
	}
	return &PersonRef{ID: *id, Login: *login}
}
