package httpapi

func (s *Server) registerRepositories() {}
