package httpapi

func (s *Server) registerExecutions() {}
