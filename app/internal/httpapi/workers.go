package httpapi

func (s *Server) registerWorkers() {}
