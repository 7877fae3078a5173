package pkg

// ParseConfig reads a configuration file and returns the settings it holds.
// It fails on unknown keys.
func ParseConfig(path string) (map[string]string, error) {
	return nil, nil
}

// Short doc.
func short() {}

type Server struct{}

// The Serve method accepts incoming connections on the listener forever.
func (s *Server) Serve() error {
	return nil
}

func undocumented() int { return 1 }
