package httpapi

func (s *Server) registerWorkerAPI() {}
