package httpapi

func (s *Server) registerWorkflows() {}
