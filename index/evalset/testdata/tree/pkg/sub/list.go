package sub

type List[T any] struct{ items []T }

// Push appends an item to the end of the list, growing it as needed.
func (l *List[T]) Push(v T) {
	l.items = append(l.items, v)
}
