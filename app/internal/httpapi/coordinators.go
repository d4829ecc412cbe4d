package httpapi

func (s *Server) registerCoordinators() {}
