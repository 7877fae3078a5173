package skip

// Skipped lives in testdata and must never become a document or case.
func Skipped() {}
