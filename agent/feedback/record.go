package feedback

import (
	"errors"
	"time"
)

// Ratings a person can give an answer.
const (
	RatingUp   = "up"
	RatingDown = "down"
)

// Record is one answered question as it was sent and answered, and how the
// person who asked rated it. Every text in it is redacted: it never holds a
// credential, only the placeholders that replaced it.
type Record struct {
	ID            string     `json:"id"`
	Time          time.Time  `json:"time"`
	Question      string     `json:"question"`
	Kind          string     `json:"kind,omitempty"`
	PromptVersion string     `json:"promptVersion,omitempty"`
	Model         string     `json:"model,omitempty"`
	Account       string     `json:"account,omitempty"`
	Context       []Citation `json:"context,omitempty"`
	Answer        string     `json:"answer"`
	Usage         Usage      `json:"usage"`
	// Redactions is how many credentials were replaced by placeholders in
	// what was sent.
	Redactions int `json:"redactions,omitempty"`
	// Rating is "" until rated, then RatingUp or RatingDown.
	Rating  string    `json:"rating,omitempty"`
	Comment string    `json:"comment,omitempty"`
	RatedAt time.Time `json:"ratedAt,omitzero"`
}

// Citation is a piece of code sent with the question; lines are 1-based
// and inclusive, the path relative to its workspace folder.
type Citation struct {
	Folder    string `json:"folder"`
	Path      string `json:"path"`
	StartLine int    `json:"startLine"`
	EndLine   int    `json:"endLine"`
	Symbol    string `json:"symbol,omitempty"`
}

// Usage is the tokens an answer cost.
type Usage struct {
	PromptTokens     int `json:"promptTokens"`
	CompletionTokens int `json:"completionTokens"`
}

var (
	// ErrNotFound reports an ID with no record: never saved, or dropped by
	// retention.
	ErrNotFound = errors.New("no answer with this id (it may be older than the kept history)")

	// ErrRating reports a rating other than up or down.
	ErrRating = errors.New(`rating must be "up" or "down"`)

	// ErrCorrupt reports a file that is damaged or is not a feedback file.
	// Recreate moves it aside and starts an empty one.
	ErrCorrupt = errors.New("feedback file is corrupt or not a codemux feedback file")

	// ErrSchema reports a file written with a schema version this build
	// does not read. Recreate moves it aside.
	ErrSchema = errors.New("feedback file has an unknown schema version")

	// ErrLocked reports a file held open by another process.
	ErrLocked = errors.New("feedback file is in use by another codemux process")
)
