// Package server answers search requests.
package server

import (
	"context"
	"fmt"
)

const A = 1
const B = 2

var debug = false

// Server holds state.
type Server struct {
	name string
}

type (
	Handler interface {
		Handle(ctx context.Context) error
	}
	ID int
)

// handleSearch answers one search.
func (s *Server) handleSearch(ctx context.Context, q string) (string, error) {
	if q == "" {
		return "", fmt.Errorf("empty query")
	}
	return q, nil
}

func (l *List[T]) Len() int { return 0 }

func New() *Server {
	return &Server{}
}
