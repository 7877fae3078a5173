package x

// Vendored lives in vendor and must never become a document or case.
func Vendored() {}
