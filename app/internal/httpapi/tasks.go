package httpapi

func (s *Server) registerTasks() {}
