package httpapi

func (s *Server) registerOrganizations() {}
